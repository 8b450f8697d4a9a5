"""python -m tb.bench [--bundle DIR] [--n N] [--only area,regress,simspeed] [--out build/bench.json]

The numbers of `make bench`:
  area      yosys LUTs / FFs / carry cells of a QGP layer against a dense binary-weight and an
            8-bit-weight MAC layer of the same shape, plus weight memory bits per layer;
  regress   throughput (cycles/image, latency, images/s at 200 MHz) from the Verilator
            regression over N test images (default all 10,000), every image checked vs golden;
  simspeed  images/s of the Verilator harness, in its default build configuration and the first
            harness's (v1) side by side, vs cocotb + Icarus on the same images;
  impl      the network implemented on --device (make impl: yosys 0.70, nextpnr-ecp5, timing,
            bitstream; plus synth_xilinx totals), beside the recorded figures of the RTL before
            the multiplier-free datapath (docs/bench/impl-before.json);
  gate      the gate-level regression (synthesized netlist vs golden) on --gate-n images, for
            the folding plan of the impl piece (its record in build/bench.json).
Prints markdown tables and writes build/bench.json atomically (pieces not selected keep their
previous entry). Exit 0 when every selected piece ran and the regression had no mismatch.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

from qgp.golden import atomic
from qgp.tb import regress as R

ROOT = R.ROOT
CLOCK_HZ = 200e6
PIECES = ("area", "regress", "simspeed", "impl", "gate")
BEFORE = ROOT / "docs" / "bench" / "impl-before.json"
# output channels synthesised per design (the rest scaled: the channels are independent copies
# of one datapath); measured on this machine: see the report in the bench JSON ("synth_s")
DEFAULT_CO = {"binary_dense": 4, "binary_dense_prog": 2, "mac8": 2, "mac8_prog": 1,
              "qgp_rom": 32, "qgp_prog": 8, "qgp_hw": 32, "qgp_layer_rom": 8}


def _co_arg(s):
    out = dict(DEFAULT_CO)
    for kv in filter(None, s.split(",")):
        k, v = kv.split("=")
        if k not in DEFAULT_CO:
            raise argparse.ArgumentTypeError(f"unknown design {k}")
        out[k] = int(v)
    return out


def _parser():
    ap = argparse.ArgumentParser(prog="python -m tb.bench", description=__doc__.split("\n\n")[1])
    ap.add_argument("--bundle", default=str(R.DEFAULT_BUNDLE))
    ap.add_argument("--n", type=int, default=10000, help="regression images (default 10000)")
    ap.add_argument("--only", default=",".join(PIECES),
                    help="comma-separated pieces: area,regress,simspeed (default all)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--area-co", type=_co_arg, default=dict(DEFAULT_CO),
                    help="output channels to synthesise per design, e.g. mac8=4,binary_dense=32")
    ap.add_argument("--sim-n", type=int, default=50, help="images for the Verilator speed run")
    ap.add_argument("--icarus-n", type=int, default=1, help="images for the Icarus run")
    ap.add_argument("--sim-baseline", default=None, metavar="REV",
                    help="git revision whose whole flow (RTL, generator, harness, flags) the "
                    "simulation speed is compared with (default: tb.bench.simspeed.BASELINE_REV; "
                    "'none' to skip)")
    ap.add_argument("--device", default=os.environ.get("DEVICE") or "ecp5-85k",
                    help="impl piece: target part (default ecp5-85k)")
    ap.add_argument("--gate-n", type=int, default=200, help="gate-level regression images")
    ap.add_argument("--out", default=str(ROOT / "build" / "bench.json"))
    return ap


def _fmt(v, nd=0):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    return f"{v:,}"


def _ratio(r):
    if r is None:
        return "-"
    if abs(r - 1) < 1e-9:
        return "1"
    return f"1/{1 / r:.1f}" if r < 1 else f"{r:.1f}x"


def tables(b):
    out = []
    a = b.get("area")
    if a:
        L = a["layer"]
        out.append(f"### Area: one {L['ci']}->{L['co']} 3x3 layer, {L['abits']}-bit activations "
                   f"({a['tool']})\n")
        out.append("LUT ratios compare like with like: a design with weights from a port (_prog) "
                   "against the baselines with weights from a port, the others against the "
                   "baselines with ROM (constant) weights.\n")
        out.append("| design | LUTs | FFs | CARRY4 | synthesised | LUTs vs dense binary | "
                   "LUTs vs 8-bit MAC |")
        out.append("|---|---:|---:|---:|---|---:|---:|")
        d = a["designs"]
        for k in ("binary_dense", "binary_dense_prog", "mac8", "mac8_prog", "qgp_prog",
                  "qgp_layer_rom", "qgp_rom", "qgp_hw"):
            if k not in d:
                continue
            x = d[k]
            suf = "_prog" if k.endswith("_prog") else ""
            bb, bm = d.get("binary_dense" + suf), d.get("mac8" + suf)
            rb = x["luts_layer"] / bb["luts_layer"] if bb else None
            rm = x["luts_layer"] / bm["luts_layer"] if bm else None
            samp = (f"{x['co_synth']}/{x['co']} ch, x{x['scale']:g}" if x["scale"] != 1
                    else "all channels")
            out.append(f"| {k}: {x['description']} | {_fmt(x['luts_layer'])} | "
                       f"{_fmt(x['ffs_layer'])} | {_fmt(x['carry_layer'])} | {samp} | "
                       f"{_ratio(rb)} | {_ratio(rm)} |")
        out.append("")
        out.append("| layer | type | CI->CO | weight bits | 8-bit dense 3x3 bits |")
        out.append("|---|---|---|---:|---:|")
        for m in a["memory"]:
            out.append(f"| {m['layer']} | {m['type']} | {m['ci']}->{m['co']} | {_fmt(m['bits'])} | "
                       f"{_fmt(m['dense8_bits'])} |")
        out.append("")
    r = b.get("regress")
    if r:
        out.append(f"### Throughput ({r['images']} test images through qgp_net in Verilator)\n")
        out.append("| images | mismatches | accuracy | cycles/image | latency (cycles) | "
                   "images/s at 200 MHz | latency at 200 MHz |")
        out.append("|---:|---:|---:|---:|---:|---:|---:|")
        acc = "-" if r["accuracy"] is None else f"{r['accuracy']:.4f}"
        out.append(f"| {r['images']} | {r['mismatches']} | {acc} | {r['cycles_per_image']} | "
                   f"{r['latency_cycles']} | {_fmt(r['images_per_s_at_200MHz'])} | "
                   f"{r['latency_cycles'] / CLOCK_HZ * 1e6:.2f} us |")
        out.append("")
    s = b.get("simspeed")
    if s:
        v, i = s["verilator"], s["cocotb_icarus"]
        runs = s.get("verilator_configs") or {v.get("sim", "default"): v}
        out.append("### Simulation speed (one process, whole network, checked vs golden)\n")
        out.append("| simulator | images | mismatches | images/s | images per CPU s | cycles/s | "
                   "build (s) |")
        out.append("|---|---:|---:|---:|---:|---:|---:|")
        rows = [(f"Verilator harness, {name}" + (f" `{r['flags']}`" if r.get("flags") else ""), r)
                for name, r in runs.items()]
        if s.get("baseline"):
            rows.append((f"Verilator, the whole flow at {s['baseline']['rev']} (RTL, harness, "
                         f"flags)", s["baseline"]))
        for label, r in rows:
            out.append(f"| {label} | {r['images']} | {_fmt(r.get('mismatches'))} | "
                       f"{_fmt(r['images_per_s'], 2)} | {_fmt(r.get('cpu_images_per_s'), 2)} | "
                       f"{_fmt(r['cycles_per_s'])} | {_fmt(r['build_s'], 1)} |")
        out.append(f"| cocotb + Icarus | {i['images']} | {_fmt(i.get('mismatches'))} | "
                   f"{_fmt(i['images_per_s'], 4)} | - | "
                   f"{_fmt(i['cycles_per_s'])} | {_fmt(i['build_s'], 1)} |")
        notes = []
        if s.get("speedup_vs_baseline"):
            notes.append(f"{s.get('cpu_speedup_vs_baseline')}x the flow at "
                         f"{s['baseline']['rev']} in images per CPU second "
                         f"({s['speedup_vs_baseline']}x in wall-clock images/s, which other load "
                         f"on the machine moves)")
        if s.get("speedup_vs_v1"):
            notes.append(f"{s['speedup_vs_v1']}x its v1 build configuration on the same RTL "
                         f"({s.get('cpu_speedup_vs_v1')}x per CPU second)")
        notes.append(f"{s['speedup']}x cocotb + Icarus")
        out.append(f"\nVerilator ({v.get('sim', 'default')}): " + "; ".join(notes) + ".\n")
    out += impl_tables(b)
    return "\n".join(out)


def impl_tables(b):
    """The impl and gate pieces as markdown (before/after when the before record exists)."""
    out = []
    im = b.get("impl")
    if im:
        before = json.loads(BEFORE.read_text()) if BEFORE.exists() else None
        bl = {l["name"]: l for l in (before or {}).get("layers", [])}
        out.append(f"### Implementation on {im['part']} ({im['tools']['yosys']}; "
                   f"{im['tools']['nextpnr']})\n")
        keys = ("lut4", "ff", "ccu2c", "bram", "dsp")
        hdr = "| layer | FOLD | " + " | ".join(k.upper() for k in keys)
        if before:
            hdr += " | LUT4 before | FF before | DSP before"
        out.append(hdr + " |")
        out.append("|---|---:|" + "---:|" * (len(keys) + (3 if before else 0)))
        for l in im["layers"]:
            row = f"| {l['name']} | {l['fold']} | " + " | ".join(_fmt(l[k]) for k in keys)
            if before:
                p = bl.get(l["name"], {})
                row += " | " + " | ".join(_fmt(p.get(k)) for k in ("lut4", "ff", "dsp"))
            out.append(row + " |")
        tot = {k: sum(l[k] for l in im["layers"]) for k in keys}
        row = "| **sum of layers** | | " + " | ".join(_fmt(tot[k]) for k in keys)
        if before:
            row += " | " + " | ".join(_fmt(before.get(k)) for k in ("lut4", "ff", "dsp"))
        out.append(row + " |")
        out.append("")
        if before:
            done = ", ".join(bl)
            out.append(f"Before: {before['what']}" + ("" if before.get("complete") else
                       f"; only {done} were synthesized ({before.get('measured', '')})") + ".\n")
        if im.get("placed"):
            out.append(f"Placed and routed: {_fmt(im['lut4'])} LUT4 "
                       f"({100 * im['lut4'] / im['capacity']['lut4']:.1f} %), {_fmt(im['ff'])} FF, "
                       f"{im['dsp']} MULT18X18D, {im['bram']} DP16KD; Fmax {im['fmax_mhz']:.1f} MHz "
                       f"(timing {'met' if im['timing_met'] else 'NOT met'} at "
                       f"{im['freq_target_mhz']:g} MHz); {im['cycles_per_image']} cycles/image -> "
                       f"{_fmt(im['images_per_s'])} images/s; steps (s): "
                       + ", ".join(f"{k} {v:.0f}" for k, v in im["steps_s"].items()) + "\n")
        elif im.get("problem"):
            out.append(f"Not placed: {im['problem']}\n")
        if im.get("xilinx"):
            x = im["xilinx"]
            out.append(f"synth_xilinx (xc7, totals, no P&R): {_fmt(x['lut6'])} LUT6, {_fmt(x['ff'])} "
                       f"FF, {x['bram']} RAMB18, {x['dsp']} DSP48\n")
    g = b.get("gate")
    if g:
        out.append(f"### Gate-level regression: {g['images']} images through the synthesized "
                   f"netlist, {g['mismatches']} mismatches, {g['cycles_per_image']} cycles/image\n")
    return out


def main(argv=None):
    from qgp.golden.bundle import load_bundle
    from qgp.golden.errors import QGPError

    args = _parser().parse_args(argv)
    only = [p.strip() for p in args.only.split(",") if p.strip()]
    bad = [p for p in only if p not in PIECES]
    if bad:
        print(f"error: --only: unknown piece(s) {', '.join(bad)}; one of {', '.join(PIECES)}",
              file=sys.stderr)
        return 2
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    out = Path(args.out)
    try:
        bench = json.loads(out.read_text()) if out.exists() else {}
    except ValueError:
        bench = {}
    rc = 0
    try:
        bundle = load_bundle(args.bundle)
        bench["bundle"] = args.bundle
        if "area" in only:
            from qgp.tb.bench.area import run_area

            t0 = time.time()
            bench["area"] = run_area(bundle, ROOT / "build" / "bench" / "area",
                                     jobs=min(2, args.jobs), co_sample=args.area_co, log=log)
            bench["area"]["wall_s"] = round(time.time() - t0, 1)
        if "regress" in only:
            from qgp.tb.regress.__main__ import _parser as rparser
            from qgp.tb.regress.__main__ import run as rrun

            ra = rparser().parse_args(["--bundle", args.bundle, "--n", str(args.n),
                                       "--jobs", str(args.jobs)])
            bench["regress"] = rrun(ra, log=log)
            if bench["regress"]["mismatches"]:
                rc = 1
        if "simspeed" in only:
            from qgp.tb.bench.simspeed import run_simspeed

            from qgp.tb.bench.simspeed import BASELINE_REV

            base = args.sim_baseline or BASELINE_REV
            bench["simspeed"] = run_simspeed(args.bundle, n_verilator=args.sim_n,
                                             n_icarus=args.icarus_n, log=log,
                                             baseline=None if base == "none" else base)
        if "impl" in only:
            from qgp.impl.__main__ import _parser as iparser
            from qgp.impl.__main__ import run as irun

            ia = iparser().parse_args(["--bundle", args.bundle, "--device", args.device,
                                       "--xilinx", "--jobs", str(args.jobs)])
            rec, problem = irun(ia, log=log)
            rec["problem"] = problem
            bench["impl"] = rec
        if "gate" in only:
            from qgp.tb.regress.__main__ import _parser as rparser
            from qgp.tb.regress.__main__ import run as rrun

            # the netlist of the plan the impl piece implemented (this run's or the last one's)
            plan = (bench.get("impl") or {}).get("folding_spec")
            lb = (bench.get("impl") or {}).get("line_bram")
            gargs = ["--bundle", args.bundle, "--n", str(args.gate_n), "--jobs", str(args.jobs),
                     "--gate"] + (["--folding", plan] if plan else []) + (
                         ["--line-bram", ",".join(lb) if lb else "none"] if lb is not None else [])
            ga = rparser().parse_args(gargs)
            bench["gate"] = rrun(ga, log=log)
            if bench["gate"]["mismatches"]:
                rc = 1
    except QGPError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (R.RegressError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    atomic.write_json(out, bench)
    print(tables(bench))
    print(f"-> {out}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
