"""Board builds: the board top's parameters from the network's qgp_net.json, the PLL dividers,
the Verilator simulation of the board top (``qgp board-sim``) and its bitstream (``make board``).

``BOARDS`` is the one table of the boards: part, top module, pin constraints, oscillator,
the command that flashes it. The top's parameters are read from the generated network
(qgp_net.json: input shape and bits, output beat layout) and from the bundle (model.json's
sha256), never restated.
"""
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
# next to the network's RTL library (rtl/board in a checkout, qgp/rtl/board installed)
RTL_BOARD = Path(__import__("qgp.rtl", fromlist=["rtl"]).__file__).resolve().parent / "board"
HARNESS = HERE / "harness.cpp"
BUILD = ROOT / "build" / "board"

BOARDS = {
    "ulx3s-85f": {"device": "ecp5-85k", "top": "ulx3s_top", "lpf": "ulx3s.lpf", "osc_hz": 25_000_000,
                  "flash": ["openFPGALoader", "-b", "ulx3s"], "flash_pkg": "openfpgaloader"},
}
BOARD_RTL = ["uart_rx.v", "uart_tx.v", "board_reset.v", "board_proto.v"]
DEFAULT_BAUD = 3_000_000
# simulation build: the UART at CLK_HZ / SIM_CPB baud (few clocks per bit keep the simulated
# link fast), a short power-on reset
SIM_CPB = 8
SIM_POR_BITS = 4
POR_BITS = 16

# ECP5 PLL ranges (Lattice FPGA-TN-02200, EHXPLLL; emard/ulx3s-misc examples/ecp5pll/hdl/sv/ecp5pll.sv
# lines 40-43: PFD 3.125..400 MHz, VCO 400..800 MHz)
PFD_MIN_HZ, VCO_MIN_HZ, VCO_MAX_HZ = 3_125_000, 400_000_000, 800_000_000


class BoardError(RuntimeError):
    """A failure of the build (a tool), one line."""


def board(name):
    from qgp.golden.errors import QGPError
    if name not in BOARDS:
        raise QGPError("BOARD", name, f"unknown board (one of {', '.join(BOARDS)})")
    return dict(BOARDS[name], name=name)


def choose_pll(osc_hz, max_hz, baud):
    """The EHXPLLL dividers for the highest output frequency <= ``max_hz`` that is a whole
    multiple (>= 4) of ``baud`` (so the UART's bit time is exact): {"clk_hz", "CLKI_DIV",
    "CLKFB_DIV", "CLKOP_DIV", "CLKOP_CPHASE", "vco_hz"}; None if there is none. The VCO is
    kept nearest 600 MHz; CLKOP_CPHASE = CLKOP_DIV / 2 - 1 as ecppll writes it (e.g.
    ulx3s-misc examples/oled/hdl/ssd1331_term_verilog/pll.v: CLKOP_DIV 48, CLKOP_CPHASE 23)."""
    best = None
    for idiv in range(1, 129):
        if osc_hz % idiv or osc_hz // idiv < PFD_MIN_HZ:
            continue
        for fb in range(1, 81):
            f = osc_hz // idiv * fb
            if f > max_hz or f % baud or f // baud < 4:
                continue
            for od in range(1, 129):
                vco = f * od
                if not VCO_MIN_HZ <= vco <= VCO_MAX_HZ:
                    continue
                key = (f, -abs(vco - 600_000_000))
                if best is None or key > best[0]:
                    best = (key, {"clk_hz": f, "CLKI_DIV": idiv, "CLKFB_DIV": fb, "CLKOP_DIV": od,
                                  "CLKOP_CPHASE": od // 2 - 1, "vco_hz": vco})
    return best[1] if best else None


def top_params(net, clk_hz, baud, pll=None, sim=False):
    """The board top's parameters (name -> Verilog literal) from qgp_net.json ``net``."""
    inp = net["input"]
    p = {"C": inp["channels"], "H": inp["height"], "W": inp["width"], "BITS": inp["bits"],
         "IN_W": inp["tdata_width"], "OUT_W": net["out_width"], "CLASS_W": net["class_w"],
         "LOGIT_W": net["logit_w"], "K": net["classes"], "CLK_HZ": int(clk_hz), "BAUD": int(baud),
         "POR_BITS": SIM_POR_BITS if sim else POR_BITS}
    if pll:
        p.update({k: pll[k] for k in ("CLKI_DIV", "CLKFB_DIV", "CLKOP_DIV", "CLKOP_CPHASE")})
    lit = {k: str(int(v)) for k, v in p.items()}
    lit["BUNDLE_SHA256"] = "256'h" + net["bundle_sha256"]
    return lit


def board_sources():
    return [RTL_BOARD / f for f in BOARD_RTL] + [RTL_BOARD / "ulx3s_top.v"]


# ---------------------------------------------------------------------------------------------
# Verilator simulation of the board top

def sim_build(net, cpb=SIM_CPB, board_name="ulx3s-85f", jobs=2, log=print, gate_netlist=None):
    """Build (or reuse, by a content hash) the Verilator harness of the board top around the
    generated network ``net``; returns (executable, params). ``gate_netlist``: a synthesized
    netlist of the whole board top (``gate_build``) with its cell models instead of the RTL."""
    from qgp.tb import regress as R
    b = board(board_name)
    pll = choose_pll(b["osc_hz"], _target_hz(), DEFAULT_BAUD)
    clk_hz = pll["clk_hz"]
    params = top_params(net, clk_hz, clk_hz // cpb, pll=pll, sim=True)
    flags = list(R.SIM_CONFIGS[R.SIM_DEFAULT]["verilator"])
    cxx = R.SIM_CONFIGS[R.SIM_DEFAULT]["cxx"]
    if gate_netlist is None:
        srcs = [Path(net["top_file"])] + board_sources() + [RTL_BOARD / "sim" / "EHXPLLL.v"]
        extra = [a for d in net["include_dirs"] for a in ("-y", d)]
        deps = [Path(p) for p in net["sources"]] + [Path(p) for p in net["memfiles"]]
        gflags = [f"-G{k}={v}" for k, v in params.items()]
    else:
        srcs = [Path(p) for p in gate_netlist["sources"]]
        extra = gate_netlist["flags"]
        deps = []
        gflags = []   # the parameters are synthesized into the netlist
    h = hashlib.sha256()
    h.update(R.verilator_version().encode())
    h.update(repr((flags, cxx, gflags, extra)).encode())
    for p in sorted(set(srcs + deps + [HARNESS]), key=str):
        h.update(str(p).encode())
        h.update(hashlib.sha256(p.read_bytes()).digest())
    key = h.hexdigest()[:16]
    out = BUILD / "sim" / f"obj_{net['name']}{'-gate' if gate_netlist else ''}_{key}"
    exe = out / "Vulx3s_top_harness"
    info = {"cpb": cpb, "clk_hz": clk_hz, "params": params}
    if exe.exists():
        return exe, info
    (BUILD / "sim").mkdir(parents=True, exist_ok=True)
    with open(BUILD / "sim" / f".lock_{key}", "w") as lockf:
        fcntl.flock(lockf, fcntl.LOCK_EX)
        if exe.exists():
            return exe, info
        tmp = Path(tempfile.mkdtemp(dir=BUILD / "sim", prefix=f".obj_{key}_"))
        cmd = (["verilator", "--cc", "--exe", "--build", "-j", str(jobs)] + flags
               + ["--top-module", b["top"], "-Mdir", str(tmp), "-o", exe.name, "-CFLAGS", cxx,
                  "-MAKEFLAGS", f"OPT_FAST={cxx} OPT_SLOW=-O1"] + extra + gflags
               + [str(s) for s in srcs] + [str(HARNESS)])
        log(f"building the board-sim harness ({net['name']}{', gate level' if gate_netlist else ''}, key {key}) ...")
        t0 = time.time()
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            err = [l for l in (r.stdout + r.stderr).splitlines() if "Error" in l or "error" in l]
            raise BoardError(f"verilator build of the board top failed: "
                             f"{(err or (r.stdout + r.stderr).splitlines() or ['?'])[0].strip()}")
        final = Path(tempfile.mkdtemp(dir=BUILD / "sim", prefix=f".exe_{key}_"))
        shutil.move(str(tmp / exe.name), str(final / exe.name))
        (final / "build.json").write_text(json.dumps({"key": key, "cmd": cmd,
                                                      "build_s": round(time.time() - t0, 1)},
                                                     indent=2) + "\n")
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            os.replace(final, out)
        except OSError:
            shutil.rmtree(final, ignore_errors=True)
        log(f"built in {time.time() - t0:.0f} s")
    return exe, info


def _target_hz():
    """The clock the network is placed for: FREQ (MHz) if set, else the implementation flow's
    default (impl.__main__.DEFAULT_FREQ_MHZ)."""
    from qgp.impl.__main__ import DEFAULT_FREQ_MHZ
    return int(float(os.environ.get("FREQ") or DEFAULT_FREQ_MHZ) * 1e6)


# ---------------------------------------------------------------------------------------------
# synthesis of the board top (the implementation flow's per-layer units + the board's logic)

def _stage_board(bundle, out, board_name, folding, params_fn, jobs, log):
    """impl.flow.stage + the layers' synthesis (cached) + the board logic synthesized around a
    blackbox qgp_net; returns (ctx, board record, params)."""
    from qgp.impl import flow
    from qgp.impl.devices import device
    b = board(board_name)
    dev = device(b["device"])
    ctx = flow.stage(bundle, out, folding=folding)
    net = ctx["net"]
    log(f"board {board_name}: synthesis of {len(ctx['units'])} layers (yosys synth_ecp5, cached) ...")
    flow.synth_units_line_bram(ctx, "auto", dev, jobs=jobs, log=log)
    params = params_fn(net)
    work = ctx["work"]
    for f in board_sources():
        shutil.copyfile(f, work / f.name)
    shutil.copyfile(RTL_BOARD / b["lpf"], work / b["lpf"])
    (work / "qgp_net_bb.v").write_text(
        "(* blackbox *)\nmodule qgp_net (\n"
        + flow._ports(net["input"]["tdata_width"], net["out_width"]) + "\n);\nendmodule\n")
    top = b["top"]
    chp = " ".join(f"-chparam {k} {v}" for k, v in params.items())
    srcs = " ".join(f.name for f in board_sources())
    log(f"  synth {top} (UART, protocol, reset, PLL) ...")
    flow.run_yosys(work, f"read_verilog {srcs} qgp_net_bb.v; hierarchy -top {top} {chp}; "
                   f"{flow.SYNTH['ecp5'].format(top=top)}; "
                   f"tee -q -o board_top.stat.json stat -json; select -module {top}; "
                   "write_json -selected board_top.json", "board_top.log")
    return ctx, b, dev, params


def _assemble_script(ctx, top):
    from qgp.impl import flow
    return (flow._read_units(ctx) + "; read_json board_top.json"
            + f"; read_verilog -defer qgp_net.v; hierarchy -top {top}; flatten; opt_clean; "
            "tee -q -o assembled.stat.json stat -json")


def bitstream_build(bundle, board_name="ulx3s-85f", folding=None, baud=DEFAULT_BAUD, jobs=2,
                    seed=1, log=print):
    """``make board``: the board top of ``bundle`` placed, routed and packed for ``board_name``
    at the PLL's frequency; writes build/board/<board>/qgp.bit and board.json, returns the
    record (timing_met False: the bitstream is written, the caller fails)."""
    from qgp.golden import atomic
    from qgp.golden.errors import QGPError
    from qgp.impl import flow
    b = board(board_name)
    target = _target_hz()
    pll = choose_pll(b["osc_hz"], target, baud)
    if pll is None:
        raise QGPError("BAUD", str(baud), f"no PLL output <= {target / 1e6:g} MHz from "
                       f"{b['osc_hz'] / 1e6:g} MHz is a multiple (>= 4) of this baud rate")
    out = BUILD / board_name
    t0 = time.time()
    ctx, b, dev, params = _stage_board(
        bundle, out, board_name, folding, lambda net: top_params(net, pll["clk_hz"], baud, pll),
        jobs, log)
    net = ctx["net"]
    work = ctx["work"]
    flow.run_yosys(work, _assemble_script(ctx, b["top"]) + f"; select -module {b['top']}; "
                   "write_json -selected net.json", "assemble.log")
    if not flow._json_complete(work / "net.json"):
        raise BoardError("yosys (assemble.log): net.json is not complete JSON")
    cells = flow.cell_counts(work / "assembled.stat.json")
    clk_mhz = pll["clk_hz"] / 1e6
    router = flow.choose_router("auto", cells["lut4"])
    log(f"place and route ({dev['part']} {dev['package']}, pins {b['lpf']}, {clk_mhz:g} MHz from "
        f"the PLL: 25 MHz x {pll['CLKFB_DIV']} / {pll['CLKI_DIV']}, {router}) ...")
    pr = flow.place_and_route(ctx, dev, clk_mhz, seed=seed, log=log, router=router, lpf=b["lpf"])
    flow.bitstream(ctx, log=log)
    shutil.copyfile(work / "net.bit", out / "qgp.bit")
    util = pr.pop("utilization")
    rec = {"board": board_name, "device": dev["part"], "package": dev["package"],
           "clock_mhz": clk_mhz, "baud": baud, "timing_met": pr["timing_met"],
           "fmax_mhz": pr["fmax_mhz"], "freq_target_mhz": pr["freq_target_mhz"],
           "bundle": str(bundle), "bundle_sha256": net["bundle_sha256"],
           "folding": net["folding_spec"], "cycles_per_image": net["cycles_per_image"],
           "images_per_s_onchip": round(pll["clk_hz"] / net["cycles_per_image"], 1),
           "link_images_per_s_max": round(baud / 10 / (net["frame"] * net["input"]["channels"] + 7), 1),
           "pll": pll, "top_params": params, "bitstream": str(out / "qgp.bit"),
           "flash": " ".join(b["flash"] + [str(out / "qgp.bit")]),
           "utilization": {k: v for k, v in util.items()}, "placer": pr["placer"],
           "router": pr["router"], "build_s": round(time.time() - t0, 1)}
    atomic.write_text(out / "board.json", json.dumps(rec, indent=2) + "\n")
    log(f"board {board_name}: {dev['part']}, {clk_mhz:g} MHz (Fmax {pr['fmax_mhz']:.1f} MHz, timing "
        f"{'met' if pr['timing_met'] else 'NOT met'}), {baud:,} baud, "
        f"{util.get('TRELLIS_COMB', {}).get('used', '?')} LUT4 -> {out / 'qgp.bit'}")
    return rec


def gate_build(bundle, folding=None, board_name="ulx3s-85f", cpb=SIM_CPB, jobs=2, log=print):
    """The synthesized netlist of the whole board top (simulation parameters: the UART at
    CLK_HZ / cpb, a short power-on reset) for ``sim_build``: {"sources", "flags"}."""
    from qgp.impl import flow
    from qgp.tb import regress as R
    b = board(board_name)
    pll = choose_pll(b["osc_hz"], _target_hz(), DEFAULT_BAUD)
    name = R.net_name(bundle, folding)
    ctx, b, dev, params = _stage_board(
        bundle, BUILD / "gate" / f"{name}-cpb{cpb}", board_name, folding,
        lambda net: top_params(net, pll["clk_hz"], pll["clk_hz"] // cpb, pll, sim=True), jobs, log)
    work = ctx["work"]
    flow.run_yosys(work, _assemble_script(ctx, b["top"]) + f"; select -module {b['top']}; "
                   "write_verilog -selected -noattr board_gate.v", "board_gate.log")
    sim = flow.stage_sim_models(work / "ecp5_sim")
    models = [sim / "cells_sim.v", *flow.SIM_MODELS, RTL_BOARD / "sim" / "EHXPLLL.v"]
    return {"sources": [work / "board_gate.v", *models],
            "flags": [f"-I{sim}", "-Wno-MODDUP", "-Wno-TIMESCALEMOD", "-Wno-lint", "-Wno-style"]}


def lint(bundle, board_name="ulx3s-85f", folding=None, log=print):
    """verilator --lint-only -Wall of the board top around the bundle's generated network (the
    PLL's simulation model in place of the primitive), with the parameters a build sets, and
    of each board module on its own (default parameters); returns the failures (empty: clean)."""
    from qgp.tb import regress as R
    b = board(board_name)
    net = R.generate(bundle, folding=folding)
    pll = choose_pll(b["osc_hz"], _target_hz(), DEFAULT_BAUD)
    params = top_params(net, pll["clk_hz"], DEFAULT_BAUD, pll)
    runs = [(b["top"], ["--top-module", b["top"], *[f"-G{k}={v}" for k, v in params.items()],
                        f"-I{RTL_BOARD}", f"-I{RTL_BOARD / 'sim'}",
                        *[a for d in net["include_dirs"] for a in ("-y", d)],
                        str(RTL_BOARD / "ulx3s_top.v"), net["top_file"]])]
    runs += [(f[:-2], ["--top-module", f[:-2], str(RTL_BOARD / f)]) for f in BOARD_RTL]
    bad = []
    for name, args in runs:
        r = subprocess.run(["verilator", "--lint-only", "-Wall", *args], capture_output=True,
                           text=True)
        first = next((l for l in (r.stdout + r.stderr).splitlines() if l.startswith("%")), "")
        log(f"lint {'ok' if r.returncode == 0 else 'FAILED'}: {name}" + (f": {first}" if first else ""))
        if r.returncode != 0:
            bad.append(f"{name}: {first}")
    return bad


def flash(board_name="ulx3s-85f"):
    """``make flash``: openFPGALoader with the board's bitstream (exit status of the loader)."""
    b = board(board_name)
    bit = BUILD / board_name / "qgp.bit"
    if not shutil.which(b["flash"][0]):
        print(f"error: {b['flash'][0]} not found: install it (Debian: apt-get install "
              f"{b['flash_pkg']}) and connect the board over USB", file=sys.stderr)
        return 2
    if not bit.exists():
        print(f"error: {bit}: no bitstream (make board BOARD={board_name} first)", file=sys.stderr)
        return 2
    return subprocess.call(b["flash"] + [str(bit)])


def main(argv=None):
    """python -m qgp.board.build [--board B] [--bundle DIR] [--baud R] [--flash]"""
    import argparse
    from qgp.golden.errors import QGPError
    from qgp.impl.flow import ImplError
    ap = argparse.ArgumentParser(prog="python -m qgp.board.build",
                                 description="Bitstream of the board top (make board): "
                                 "build/board/<board>/qgp.bit and board.json; --flash loads it "
                                 "(make flash). FREQ=MHz caps the PLL's frequency (default the "
                                 "implementation flow's).")
    ap.add_argument("--board", default=os.environ.get("BOARD") or "ulx3s-85f", choices=sorted(BOARDS))
    ap.add_argument("--bundle", default=str(ROOT / "models" / "fmnist"), help="bundle directory")
    ap.add_argument("--baud", type=int, default=DEFAULT_BAUD, help="UART bit rate (default 3000000)")
    ap.add_argument("--folding", default=os.environ.get("FOLDING") or None)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--seed", type=int, default=1, help="nextpnr placement seed")
    ap.add_argument("--flash", action="store_true", help="load the built bitstream (openFPGALoader)")
    ap.add_argument("--lint", action="store_true",
                    help="only lint the board top around the bundle's network (verilator -Wall)")
    args = ap.parse_args(argv)
    if args.flash:
        return flash(args.board)
    if args.lint:
        try:
            return 1 if lint(args.bundle, args.board, folding=args.folding) else 0
        except QGPError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    try:
        rec = bitstream_build(args.bundle, args.board, folding=args.folding, baud=args.baud,
                              jobs=args.jobs, seed=args.seed, log=lambda s: print(s, flush=True))
    except QGPError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (ImplError, BoardError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    if not rec["timing_met"]:
        print(f"board: timing not met: Fmax {rec['fmax_mhz']:.1f} MHz < {rec['clock_mhz']:g} MHz "
              "(FREQ= a lower PLL frequency)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
