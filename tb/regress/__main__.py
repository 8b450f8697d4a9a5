"""python -m tb.regress --bundle DIR --n N [--backpressure] [--reset-mid-frame] [--jobs J]
                       [--images-file F.npy] [--out build/regress.json]

Streams N test images through the generated `qgp_net` in Verilator, compares every image's class
and logits with golden.model.run (bit-exact) and writes a JSON summary atomically:
{"images", "mismatches", "accuracy", "cycles_per_image", "latency_cycles", ...}.
Exit 0: no mismatch; 1: mismatches (the first one is printed with its logits); 2: bad input
(bundle, dataset, images file: one line on stderr); 3: the flow failed (Verilator build error,
harness crash or deadlock watchdog).
"""

import argparse
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

from qgp.golden import atomic
from qgp.tb import regress as R

CLOCK_HZ = 200e6  # nominal clock for images/s


def _parser():
    ap = argparse.ArgumentParser(prog="python -m tb.regress", description=__doc__.split("\n\n")[1])
    ap.add_argument("--bundle", default=str(R.DEFAULT_BUNDLE), help="bundle directory")
    ap.add_argument("--n", type=int, default=1000, help="number of test images (default 1000)")
    ap.add_argument("--offset", type=int, default=0, help="first test image (default 0)")
    ap.add_argument("--images-file", help=".npy of uint8 images [N,C,H,W] or [N,H,W] instead of "
                    "the bundle's test set (no labels: accuracy is null)")
    ap.add_argument("--data", metavar="SPEC", help="test images of this data set instead of the "
                    "bundle's: a dataset name, npz:PATH or folder:PATH (golden.datasets)")
    ap.add_argument("--backpressure", action="store_true",
                    help="random valid on the input and ready on the output (50%%/50%% unless "
                    "--p-valid/--p-ready say otherwise)")
    ap.add_argument("--p-valid", type=float, default=None)
    ap.add_argument("--p-ready", type=float, default=None)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reset-mid-frame", action="store_true",
                    help="assert rst in the middle of a frame (of the middle image of every shard, "
                    "with earlier images in flight), then stream the rest: all must be correct")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="simulation processes (default: number of cores)")
    ap.add_argument("--out", default=str(R.BUILD / "regress.json"))
    ap.add_argument("--gate", action="store_true", default=os.environ.get("GATE") == "1",
                    help="simulate the synthesized netlist (yosys 0.70 synth_ecp5 + yosys' ECP5 "
                    "cell models) instead of the RTL (GATE=1)")
    ap.add_argument("--folding", default=os.environ.get("FOLDING") or None,
                    help="PE per layer, 'conv2:8,conv3:16' or a JSON file (rtl.gen.plan; "
                    "default: rate-matched)")
    ap.add_argument("--line-bram", default=os.environ.get("LINE_BRAM") or "auto",
                    help="with --gate: layers whose window row memories are in block RAM, as "
                    "`make impl` chooses them ('auto' for DEVICE, default ecp5-85k; 'none'; "
                    "'conv1,conv5')")
    ap.add_argument("--no-progress", action="store_true")
    return ap


def _load_images(args, bundle):
    from qgp.golden.errors import QGPError

    inp = bundle.meta["input"]
    shape = (inp["channels"], inp["height"], inp["width"])
    if args.images_file:
        try:
            x = np.load(args.images_file, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise QGPError(args.images_file, "images", f"cannot read .npy: {e}") from None
        if x.ndim == 3:
            x = x[:, None]
        if x.dtype != np.uint8 or tuple(x.shape[1:]) != shape:
            raise QGPError(args.images_file, "images",
                           f"expected uint8 [N,{shape[0]},{shape[1]},{shape[2]}], got "
                           f"{x.dtype} {list(x.shape)}")
        x = x[args.offset:args.offset + args.n] if args.n else x[args.offset:]
        return x, None
    if bundle.meta.get("dataset", "fmnist") is None and not getattr(args, "data", None):
        # a synthetic bundle (golden.synth) has no data set: seeded random images, no labels
        rng = np.random.default_rng(args.seed)
        x = rng.integers(0, 256, size=(args.offset + args.n, *shape), dtype=np.uint8)
        return x[args.offset:], None
    from qgp.golden import datasets

    name = args.data or bundle.meta.get("dataset") or "fmnist"
    x, y = datasets.load(name, "test")
    if tuple(x.shape[1:]) != shape:
        raise QGPError(str(bundle.path), "dataset", f"{name} images {list(x.shape[1:])} do not "
                       f"fit the bundle input {list(shape)}")
    if args.offset < 0 or args.offset + args.n > len(x):
        raise QGPError(name, "n", f"offset {args.offset} + n {args.n} > {len(x)} test images")
    sl = slice(args.offset, args.offset + args.n)
    return x[sl], y[sl]


def run(args, log=print):
    from qgp.golden import model
    from qgp.golden.bundle import load_bundle

    bundle = load_bundle(args.bundle)
    images, labels = _load_images(args, bundle)
    n = len(images)
    if n == 0:
        from qgp.golden.errors import QGPError
        raise QGPError(args.images_file or "--n", "n", "no images to run")

    t0 = time.time()
    net = (R.gate_net(args.bundle, folding=args.folding, line_bram=args.line_bram, log=log) if args.gate
           else R.generate(args.bundle, folding=args.folding))
    t_gen = time.time() - t0
    exe, t_build = R.build(net, jobs=min(2, args.jobs), log=log)

    p_valid = args.p_valid if args.p_valid is not None else (0.5 if args.backpressure else 1.0)
    p_ready = args.p_ready if args.p_ready is not None else (0.5 if args.backpressure else 1.0)
    throughput_mode = p_valid >= 1.0 and p_ready >= 1.0 and not args.reset_mid_frame
    reset_image = None
    if args.reset_mid_frame:
        per = -(-n // max(1, min(args.jobs, n)))
        reset_image = min(per - 1, max(1, per // 2))
    # golden runs in a thread while the simulators run (NumPy releases the GIL)
    gold_box = {}

    def _gold():
        t1 = time.time()
        try:
            gold_box["r"] = model.run(bundle, images.astype(np.int64), keep_activations=False)
        except BaseException as e:  # re-raised in the main thread
            gold_box["e"] = e
        gold_box["s"] = time.time() - t1

    gold_thread = threading.Thread(target=_gold, daemon=True)
    gold_thread.start()
    resets = []
    res, shards, wall = R.simulate(
        exe, net, images, jobs=args.jobs, p_valid=p_valid, p_ready=p_ready, seed=args.seed,
        reset_image=reset_image, reset_pixel=net["frame"] // 2, progress=not args.no_progress,
        resets=resets)
    if args.reset_mid_frame and len(resets) != len(shards):
        raise R.RegressError(f"{len(shards)} shards but {len(resets)} mid-frame resets applied")

    gold_thread.join()
    if "e" in gold_box:
        raise gold_box["e"]
    gold, t_gold = gold_box["r"], gold_box["s"]
    bad = R.compare(res, gold.logits, gold.pred)

    if throughput_mode and n >= 3:
        tim = R.timing(res, shards)
    else:  # timing needs an undisturbed run: a short one with input valid and output ready
        m = min(n, 6)
        r2, sh2, _ = R.simulate(exe, net, images[:m], jobs=1, progress=False)
        bad2 = R.compare(r2, gold.logits[:m], gold.pred[:m])
        bad = sorted(set(bad) | set(bad2))
        tim = R.timing(r2, sh2)

    rtl_pred = np.array([res[i]["class"] for i in range(n)])
    summary = {
        "bundle": str(Path(args.bundle)),
        "images": n,
        "mismatches": len(bad),
        "accuracy": None if labels is None else float(np.mean(rtl_pred == labels)),
        "golden_accuracy": None if labels is None else float(np.mean(gold.pred == labels)),
        "cycles_per_image": tim["cycles_per_image"],
        "cycles_per_image_expected": net["cycles_per_image"],
        "latency_cycles": tim["latency_cycles"],
        "intervals": tim["intervals"],
        "frame_pixels": net["frame"],
        "images_per_s_at_200MHz": (CLOCK_HZ / tim["cycles_per_image"]
                                   if tim["cycles_per_image"] else None),
        "folding": net["folding"],
        "netlist": net.get("netlist", "rtl"),
        "layers": [{"name": l["name"], "module": l["module"], "fold": l["fold"], "pe": l["pe"]}
                   for l in net["layers"]],
        "mode": {"p_valid": p_valid, "p_ready": p_ready, "seed": args.seed,
                 "reset_mid_frame": bool(args.reset_mid_frame),
                 "images_file": args.images_file, "offset": args.offset},
        "resets": resets,
        "jobs": len(shards),
        "sim_wall_s": round(wall, 2),
        "sim_images_per_s": round(n / wall, 1) if wall > 0 else None,
        "golden_s": round(t_gold, 2),
        "gen_s": round(t_gen, 2),
        "build_s": round(t_build, 1),
        "first_mismatch": None,
    }
    if bad:
        i = bad[0]
        summary["first_mismatch"] = {
            "image": int(args.offset + i), "rtl_class": res[i]["class"],
            "golden_class": int(gold.pred[i]), "rtl_logits": res[i]["logits"],
            "golden_logits": [int(v) for v in gold.logits[i]]}
    return summary


def main(argv=None):
    from qgp.golden.errors import QGPError

    args = _parser().parse_args(argv)
    try:
        summary = run(args, log=lambda s: print(s, file=sys.stderr))
    except QGPError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except R.RegressError as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    atomic.write_json(args.out, summary)
    s = summary
    acc = "n/a" if s["accuracy"] is None else f"{s['accuracy']:.4f}"
    print(f"regress: {s['images']} images, {s['mismatches']} mismatches, accuracy {acc}, "
          f"{s['cycles_per_image']} cycles/image (expected {s['cycles_per_image_expected']}), "
          f"latency {s['latency_cycles']} cycles, {s['sim_images_per_s']} images/s simulated "
          f"-> {args.out}")
    if s["mismatches"]:
        m = s["first_mismatch"]
        diff = [(k, a, b) for k, (a, b) in enumerate(zip(m["rtl_logits"], m["golden_logits"]))
                if a != b]
        print(f"FIRST MISMATCH: image {m['image']}: class rtl {m['rtl_class']} golden "
              f"{m['golden_class']}; differing logits (k, rtl, golden): {diff}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
