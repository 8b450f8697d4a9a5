"""tap_ring (a QGP lane's 3x3 window kept as four columns in a 16-word memory per channel, read
with the tap as address) vs a Python model of the window it stands for, from its parameters CI
and BITS: random column writes (rows 0..2 of a slot, as conv_qgp RING writes them) and every
clock a random window position (base, padl, padr) and random {sign, kx, ky} per channel; each
term must be (-1)^sign * v - sign of the window value v at (dx = kx - 1, dy = ky - 1), 0 where
that column is outside the frame (padl / padr) or kx / ky = 3 (tap_ring.v header)."""

import numpy as np
import pytest

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge, Timer

from qgp.tb.common.axis import CLK_PERIOD_NS, pack, unpack
from qgp.tb.common.runner import build_and_test, sources_for
from qgp.tb.common.tb import tb_params


class Window:
    """The four columns (slots) of rows dy = -1, 0, +1 per channel, as written."""

    def __init__(self, ci):
        self.col = np.zeros((4, 3, ci), dtype=np.int64)

    def write(self, slot, row, values):
        self.col[slot, row] = values

    def value(self, i, base, padl, padr, kx, ky):
        """Window value of channel i at column kx (dx = kx - 1), row ky: the dx = +1 column is
        slot base, dx = 0 and -1 the two slots before it."""
        if kx == 3 or ky == 3 or (kx == 0 and padl) or (kx == 2 and padr):
            return 0
        return int(self.col[(base - 2 + kx) % 4, ky, i])


def term(v, sign, bits):
    """(-1)^sign * v - sign, two's complement in BITS + 1 bits (qgp_lane's term)."""
    t = -v - 1 if sign else v
    return t & ((1 << (bits + 1)) - 1)


# the DUT's memory outlives a cocotb test (no reset): so does its model
_windows = {}


class TB:
    def __init__(self, dut):
        self.dut = dut
        self.p = tb_params()
        self.ci, self.bits = self.p["CI"], self.p["BITS"]
        self.win = _windows.setdefault("dut", Window(self.ci))
        Clock(dut.clk, CLK_PERIOD_NS, unit="ns").start()
        for s in (dut.we, dut.wslot, dut.wrow, dut.wdata, dut.base, dut.padl, dut.padr, dut.ts):
            s.value = 0

    async def run(self, cycles, p_we, seed, extreme=None):
        dut, ci, bits = self.dut, self.ci, self.bits
        rng = np.random.default_rng(seed)
        top = (1 << bits) - 1
        checked = 0
        for c in range(cycles):
            await FallingEdge(dut.clk)
            # read side: a window position and a tap per channel
            base = int(rng.integers(0, 4))
            padl, padr = int(rng.random() < 0.25), int(rng.random() < 0.25)
            sign = rng.integers(0, 2, size=ci)
            kx = rng.integers(0, 4, size=ci)
            ky = rng.integers(0, 4, size=ci)
            ts = [int(s) << 4 | int(x) << 2 | int(y) for s, x, y in zip(sign, kx, ky)]
            dut.base.value, dut.padl.value, dut.padr.value = base, padl, padr
            dut.ts.value = pack(ts, 5)
            # write side: one row of one column (takes effect at the coming edge)
            we = int(rng.random() < p_we)
            slot, row = int(rng.integers(0, 4)), int(rng.integers(0, 3))
            if extreme is not None:
                # every row of every slot in turn: after 12 clocks the memory holds only
                # the extreme value (what an earlier test left is overwritten)
                slot, row = (c // 3) % 4, c % 3
                vals = [top if extreme == "max" else 0] * ci
            else:
                vals = [int(v) for v in rng.integers(0, top + 1, size=ci)]
            dut.we.value, dut.wslot.value, dut.wrow.value = we, slot, row
            dut.wdata.value = pack(vals, bits)
            await Timer(1, unit="ns")
            got = dut.term.value
            assert got.is_resolvable, f"clock {c}: X/Z on term ({got})"
            terms = unpack(int(got), bits + 1, ci)
            for i in range(ci if extreme is None or c >= 12 else 0):
                v = self.win.value(i, base, padl, padr, int(kx[i]), int(ky[i]))
                want = term(v, int(sign[i]), bits)
                assert terms[i] == want, (f"clock {c}: channel {i} (base {base}, padl {padl}, "
                                          f"padr {padr}, sign {sign[i]}, kx {kx[i]}, ky {ky[i]}): "
                                          f"term {terms[i]:#x}, expected {want:#x}")
                checked += 1
            await RisingEdge(dut.clk)
            if we:
                self.win.write(slot, row, vals)
        return checked


@cocotb.test()
async def test_random_writes_and_reads(dut):
    tb = TB(dut)
    assert await tb.run(250, 0.5, seed=3) == 250 * tb.ci


@cocotb.test()
async def test_extreme_values(dut):
    """All-ones then all-zero activations (the largest and smallest terms of either sign)."""
    tb = TB(dut)
    for seed, extreme in ((4, "max"), (5, "min")):
        assert await tb.run(60, 1.0, seed=seed, extreme=extreme) == 48 * tb.ci


@pytest.mark.parametrize("ci,bits", [(1, 1), (1, 4), (4, 4), (5, 3), (16, 2), (48, 4), (3, 8)])
def test_tap_ring(ci, bits):
    build_and_test("tap_ring", sources_for("tap_ring"), {"CI": ci, "BITS": bits}, __name__)
