"""``python -m tb.layer [--layer n] [--bundle DIR] [--images k] [--no-stress] [--sim S]``

Simulates layer n of a bundle (default: models/fmnist, else a synthetic bundle of the fmnist
shape) on k real Fashion-MNIST test images with cocotb against golden (tb/layer/test_layer.py),
prints beats compared, mismatches and cycles per image, and leaves build/sim/layer<n>/results.xml
(JUnit, as cocotb writes it). Without --layer: every layer. Exit status 0 only if every test
passed. WAVES=1 dumps an FST (its path is printed). This is what `make sim` runs."""

import argparse
import os
import sys
import time

# the layer runs are long (a 28x28 layer folded 48 ways is 37,632 cycles an image): Verilator by
# default; Icarus takes minutes to an hour a layer (README)
DEFAULT_SIM = "verilator"


def main(argv=None, prog="python -m tb.layer"):
    from qgp.tb.common.runner import SIMULATORS
    ap = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[1])
    ap.add_argument("--layer", type=int, default=None, help="layer index (default: all layers)")
    ap.add_argument("--bundle", default=None, help="bundle directory (default: models/fmnist)")
    ap.add_argument("--images", type=int, default=int(os.environ.get("IMAGES", "2")),
                    help="test images (default: $IMAGES, else 2)")
    ap.add_argument("--folding", default=os.environ.get("FOLDING") or None,
                    help="PE per layer as for the network ('conv2:8,...' or a JSON file; "
                    "default: rate-matched, rtl.gen.plan)")
    ap.add_argument("--no-stress", action="store_true",
                    help="skip the random valid/ready test (only the exact-timing test)")
    ap.add_argument("--sim", default=os.environ.get("SIM") or DEFAULT_SIM,
                    help=f"simulator: {' or '.join(SIMULATORS)} (default: $SIM, else {DEFAULT_SIM})")
    a = ap.parse_args(argv)
    if a.images < 1:
        print("error: --images: must be >= 1", file=sys.stderr)
        return 2
    if a.sim not in SIMULATORS:
        print(f"error: --sim / SIM: {a.sim!r} is not one of {', '.join(SIMULATORS)}", file=sys.stderr)
        return 2

    from qgp.golden.bundle import load_bundle
    from qgp.golden.errors import QGPError
    from qgp.rtl.gen.plan import folding_plan
    from qgp.tb.layer.test_layer import default_bundle, run_layer_sim

    bundle = a.bundle or str(default_bundle())
    try:
        b = load_bundle(bundle)
        nlayers = len(b.layers)
        fplan = folding_plan(b, a.folding)
    except QGPError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    layers = range(nlayers) if a.layer is None else [a.layer]
    if a.layer is not None and not 0 <= a.layer < nlayers:
        print(f"error: --layer: {a.layer} is not in 0..{nlayers - 1} ({bundle})", file=sys.stderr)
        return 2
    ok = True
    print(f"bundle: {bundle}, simulator: {a.sim}")
    for n in layers:
        t0 = time.time()
        try:
            tests, failed, xml, summaries = run_layer_sim(n, bundle, images=a.images,
                                                          stress=not a.no_stress,
                                                          folding=a.folding, sim=a.sim)
        except (AssertionError, SystemExit, RuntimeError) as e:
            print(f"layer {n}: FAILED ({e})")
            ok = False
            continue
        fp = fplan[n]
        print(f"layer {n} {fp['name']}: FOLD {fp['fold']} (PE {fp['pe']}), as in the network's "
              f"folding plan")
        for s in summaries:
            print(f"layer {n} ({s['module']}) {s['test']}: {s['images']} images, "
                  f"{s['beats_compared']} beats compared, {s['mismatches']} mismatches, "
                  f"{s['cycles_per_image']:.1f} cycles per image")
        print(f"layer {n}: {tests} tests, {failed} failed, {time.time() - t0:.1f} s ({a.sim}) -> {xml}")
        ok = ok and failed == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
