"""The FPGA parts the implementation flow knows: the one owner of their capacities and of the
nextpnr options that select them.

ECP5 (Lattice LFE5U, nextpnr-ecp5): LUT4 = logic cells (TRELLIS_COMB slots, 2 per slice half),
FF = TRELLIS_FF, DSP = MULT18X18D, BRAM = DP16KD (18 kbit). Capacities are the data sheet's
(Lattice FPGA-DS-02012, table 1.1); nextpnr's own report of the placed design states them again
(``utilization[...]["available"]``) and the flow checks that they agree.
"""

from qgp.golden.errors import QGPError

# logic-cell budget the device-fit planner allows (P&R of denser designs becomes slow and fragile)
LUT_FILL = 0.85


def logic_cells(res):
    """TRELLIS_COMB slots a design needs before packing: its LUT4 and two per CCU2C (a carry cell
    takes a slice half; on the shipped net at 9,408 cycles/image 66,992 LUT4 + 2 x 11,610 CCU2C
    = 90,212 of the 96,223 nextpnr packed)."""
    return int(res["lut4"]) + 2 * int(res.get("ccu2c", 0))

DEVICES = {
    "ecp5-25k": {"part": "LFE5U-25F", "family": "ecp5", "nextpnr": ["--25k"],
                 "package": "CABGA381", "lut4": 24288, "ff": 24288, "dsp": 28, "bram": 56},
    "ecp5-45k": {"part": "LFE5U-45F", "family": "ecp5", "nextpnr": ["--45k"],
                 "package": "CABGA381", "lut4": 43848, "ff": 43848, "dsp": 72, "bram": 108},
    "ecp5-85k": {"part": "LFE5U-85F", "family": "ecp5", "nextpnr": ["--85k"],
                 "package": "CABGA381", "lut4": 83640, "ff": 83640, "dsp": 156, "bram": 208},
}

# a primary clock input pin per package, where make impl puts the network's clock (without it
# nextpnr may place clk on a pin with no path to the global clock network: router2 then fails to
# route it): CABGA381's G2 (PCLKT6_0), the ULX3S's 25 MHz oscillator pin (rtl/board/ulx3s.lpf;
# tests/impl checks the two agree)
CLK_SITE = {"CABGA381": "G2"}

# nextpnr-ecp5 report cell types -> our resource keys
NEXTPNR_KEYS = {"TRELLIS_COMB": "lut4", "TRELLIS_FF": "ff", "MULT18X18D": "dsp", "DP16KD": "bram"}


def device(name):
    """The device record for ``name`` (one-line QGPError naming the choices otherwise)."""
    if name not in DEVICES:
        raise QGPError("DEVICE", name, f"unknown device (one of {', '.join(DEVICES)})")
    d = dict(DEVICES[name])
    d["name"] = name
    return d
