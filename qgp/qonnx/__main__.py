"""python -m qgp.qonnx --bundle DIR --out FILE.onnx [--check N] [--data SPEC]

Export a bundle as a QONNX graph (open it in Netron; `qonnx.util.inference_cost`; FINN, hls4ml),
then run it with QONNX's executor on N test images and compare every layer, the logits and the
class with the golden model bit for bit. Exit 0: written and equal; 1: a mismatch (the graph is
still written, for inspection); 2: bad input or a network that cannot be exported (one line)."""
import argparse
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def main(argv=None):
    from qgp.golden import datasets
    from qgp.golden.bundle import load_bundle
    from qgp.golden.errors import QGPError

    ap = argparse.ArgumentParser(prog="python -m qgp.qonnx", description=__doc__.split("\n\n")[1])
    ap.add_argument("--bundle", default="models/fmnist", help="bundle directory (default models/fmnist)")
    ap.add_argument("--out", default=None, metavar="FILE.onnx",
                    help="graph to write (default build/qonnx/<bundle name>.onnx)")
    ap.add_argument("--batch", type=int, default=1, help="batch size of the written graph (default 1)")
    ap.add_argument("--check", type=int, default=100, metavar="N",
                    help="test images to compare with golden, every layer (default 100; 0 skips)")
    ap.add_argument("--data", metavar="SPEC", help="test data (default: the bundle's dataset)")
    ap.add_argument("--data-dir", default=None, help="dataset directory")
    args = ap.parse_args(argv)
    try:
        import qgp.qonnx as Q
        if args.batch < 1 or args.check < 0:
            raise QGPError("--batch/--check", "value", "expected --batch >= 1 and --check >= 0")
        b = load_bundle(args.bundle)
        out = args.out or os.path.join("build", "qonnx", f"{os.path.basename(os.path.normpath(b.path))}.onnx")
        model = Q.to_qonnx(b, batch=args.batch)
        path = Q.save(model, out)
        print(f"wrote {path}: {len(model.graph.node)} nodes "
              f"({', '.join(sorted({n.op_type for n in model.graph.node}))})")
        if args.check:
            name = args.data or b.meta.get("dataset") or "fmnist"
            x, _ = datasets.load(name, "test", args.data_dir)
            x = x[:args.check]
            t0 = time.time()
            r = Q.check(b, x)
            per = ", ".join(f"{l['name']} {l['mismatches']}" for l in r["layers"])
            print(f"qonnx vs golden on {r['images']} {name} test images ({time.time() - t0:.1f} s, "
                  f"QONNX executor): mismatching images per layer: {per}; logits {r['logit_mismatches']}, "
                  f"class {r['class_mismatches']}")
            if not r["ok"]:
                print("error: the QONNX graph differs from golden", file=sys.stderr)
                return 1
    except QGPError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
