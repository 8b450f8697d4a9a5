"""Command line: ``python -m golden {eval,info,synth} ...`` (see --help of each)."""

import argparse
import json
import os
import sys
import time

# One BLAS thread unless the user says otherwise: the GEMMs are small (chunked) and on a shared
# 2-core machine a second spinning BLAS thread makes them several times slower, not faster.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from qgp.golden import bundle as gb  # noqa: E402
from qgp.golden import atomic  # noqa: E402
from qgp.golden import datasets, model, synth  # noqa: E402
from qgp.golden.errors import QGPError  # noqa: E402


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are QGPErrors (one line on stderr, exit 2)."""

    def error(self, message):
        raise QGPError(self.prog, "arguments", f"{message} (see --help)")


def _positive_int(s):
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s!r} is not an integer") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"{v} < 1, expected a positive integer")
    return v


def build_parser():
    p = _Parser(prog="python -m golden",
                description="QGP golden model: the bit-exact integer reference of a QGP bundle.")
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    e = sub.add_parser("eval", help="accuracy of a bundle on the real test set",
                       description="Run the golden integer model of a bundle on the test split of its "
                                   "dataset; print accuracy, per-class accuracy and weight memory; write "
                                   'a JSON {"bundle", "images", "accuracy", "per_class"} atomically.')
    e.add_argument("--bundle", required=True, metavar="DIR", help="bundle directory (holds model.json)")
    e.add_argument("--limit", type=_positive_int, metavar="N", help="only the first N test images")
    e.add_argument("--data-dir", metavar="D", help="dataset directory (default: fmnist from "
                   "/usr/share/datasets/fashion-mnist, others from ./data)")
    e.add_argument("--data", metavar="SPEC", help="test data instead of the bundle's dataset: "
                   + datasets.SPEC_HELP)
    e.add_argument("--dataset", metavar="SPEC", help="same as --data (older name)")
    e.add_argument("--out", default="build/eval.json", metavar="FILE",
                   help="result JSON (default: build/eval.json)")
    e.add_argument("--chunk", type=_positive_int, default=32, metavar="N",
                   help="images per vectorized batch (default: 32)")
    e.add_argument("--confusion", metavar="FILE.png",
                   help="confusion-matrix image (default: next to --out, <out>-confusion.png; "
                        "'none' skips it; needs matplotlib)")

    i = sub.add_parser("info", help="print the layer table of a bundle",
                       description="Validate a bundle and print its layers, widths and weight memory.")
    i.add_argument("--bundle", required=True, metavar="DIR", help="bundle directory (holds model.json)")

    s = sub.add_parser("synth", help="write a random but valid bundle",
                       description="Write a bundle with random weights/taps/signs and calibrated requant "
                                   "(for RTL and fault tests). --extreme drives accumulators to their limits.")
    s.add_argument("--out", required=True, metavar="DIR", help="bundle directory to write (replaced atomically)")
    s.add_argument("--config", default="tiny", metavar="NAME|FILE.json",
                   help="builtin shape (%s) or a JSON config file (default: tiny)" % ", ".join(synth.builtin_names()))
    s.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    s.add_argument("--extreme", nargs="?", const="max", choices=("max", "min"),
                   help="all signs equal and weights/m at their extremes (default polarity: max)")
    return p


def _layer_rows(b):
    rows = []
    for idx, L in enumerate(b.layers):
        if L["type"] == "gsum_fc":
            rows.append([idx, L["name"], L["type"], f"{L['in_channels']}->{L['classes']}",
                         f"{L['height']}x{L['width']}", "", f"g{L['gsum_bits']}", f"l{L['logit_bits']}",
                         f"w{L['wbits']}", f"b{L['bias_bits']}", "", ""])
            continue
        rq = L["requant"]
        bits, dense8 = gb.weight_memory_bits(L)
        rows.append([idx, L["name"], L["type"], f"{L['in_channels']}->{L['out_channels']}",
                     f"{L['height']}x{L['width']}", "yes" if L["pool"] else "", str(L["acc_bits"]),
                     str(rq["prod_bits"]), str(rq["m_bits"]), str(rq["b_bits"]), str(rq["shift"]), str(bits)])
    return ["#", "name", "type", "channels", "HxW", "pool", "acc", "prod", "m", "b", "shift", "weight bits"], rows


def _table(header, rows):
    rows = [[str(c) for c in r] for r in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in rows)) if rows else len(str(h)) for i, h in enumerate(header)]
    fmt = "  ".join("{:<%d}" % wd for wd in widths)
    lines = [fmt.format(*header), fmt.format(*["-" * wd for wd in widths])]
    lines += [fmt.format(*r) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def memory_summary(b):
    """(qgp bits, same layers with 8-bit dense 3x3 weights) over the conv_qgp layers."""
    q = d = 0
    for L in b.layers:
        if L["type"] == "conv_qgp":
            bits, dense8 = gb.weight_memory_bits(L)
            q += bits
            d += dense8
    return q, d


def cmd_info(args):
    b = gb.load_bundle(args.bundle)
    m = b.meta
    print(f"bundle {b.path}: {m.get('name', '?')} (dataset {m.get('dataset')}), input "
          f"{m['input']['channels']}x{m['input']['height']}x{m['input']['width']} "
          f"{m['input']['bits']}-bit, activations {m['abits']}-bit")
    print(_table(*_layer_rows(b)))
    q, d = memory_summary(b)
    if d:
        print(f"QGP layer weights: {q} bits ({q / 8192:.1f} KiB) vs {d} bits with 8-bit dense 3x3 "
              f"weights ({d / q:.1f}x smaller)")
    acc = m.get("accuracy")
    if isinstance(acc, dict) and "golden" in acc:
        print(f"reported accuracy: {acc['golden']} on {acc.get('images')} {acc.get('dataset')} images")
    return 0


def cmd_eval(args):
    b = gb.load_bundle(args.bundle)
    name = args.data or args.dataset or b.meta.get("dataset") or "fmnist"
    try:
        datasets.split_spec(name)
    except QGPError as e:
        if args.data or args.dataset:
            raise
        raise QGPError(b.path + "/model.json", "dataset", f"{e.message} (or pass --data)") from None
    images, labels = datasets.load(name, "test", args.data_dir)
    inp = b.meta["input"]
    want = (inp["channels"], inp["height"], inp["width"])
    if tuple(images.shape[1:]) != want:
        raise QGPError(os.path.join(b.path, "model.json"), "input",
                       f"bundle expects {want[0]}x{want[1]}x{want[2]} images but {name} has "
                       f"{'x'.join(map(str, images.shape[1:]))}")
    k = b.layers[-1]["classes"]
    if labels.size and labels.max() >= k:
        raise QGPError(os.path.join(b.path, "model.json"), "layers[-1].classes",
                       f"is {k} but {name} has labels up to {int(labels.max())}")
    names = datasets.class_names(name, args.data_dir, classes=k)
    if args.limit is not None:
        images, labels = images[:args.limit], labels[:args.limit]
    n = len(labels)
    t0 = time.time()
    from tqdm import tqdm
    with tqdm(total=n, unit="img", desc="golden", disable=None, file=sys.stderr) as bar:
        res = model.run(b, images, chunk=args.chunk, progress=bar.update, keep_activations=False)
    dt = time.time() - t0
    correct = res.pred == labels
    accuracy = float(correct.mean()) if n else 0.0
    confusion = np.zeros((k, k), dtype=np.int64)  # [true, predicted]
    np.add.at(confusion, (labels, res.pred), 1)
    per_class = {}
    rows = []
    for c in range(k):
        sel = labels == c
        cnt = int(sel.sum())
        a = float(correct[sel].mean()) if cnt else None
        per_class[str(c)] = a
        rows.append([c, names[c], cnt, int(correct[sel].sum()), "-" if a is None else f"{a:.4f}"])
    print(f"bundle {b.path}: {name} test set, {n} images, {dt:.1f} s ({n / max(dt, 1e-9):.0f} img/s)")
    print(f"accuracy: {accuracy:.4f} ({int(correct.sum())}/{n})")
    rep = b.meta.get("accuracy")
    if isinstance(rep, dict) and "golden" in rep:
        print(f"bundle reports: {rep['golden']} on {rep.get('images')} images")
    print(_table(["class", "name", "images", "correct", "accuracy"], rows))
    q, d = memory_summary(b)
    if d:
        print(f"weight memory of the QGP layers: {q} bits (tap 4 + sign 1 per kernel) vs {d} bits "
              f"with 8-bit dense 3x3 weights: {d / q:.1f}x smaller")
    atomic.write_json(args.out, indent=1, obj={"bundle": b.path, "images": n, "accuracy": accuracy,
                                 "dataset": name, "per_class": per_class, "class_names": names,
                                 "confusion": confusion.tolist(), "seconds": round(dt, 3)})
    print(f"wrote {args.out}")
    png = args.confusion or os.path.splitext(args.out)[0] + "-confusion.png"
    if png.lower() != "none":
        from qgp.golden import plots
        if plots.confusion_png(png, confusion, names, title=f"{b.meta.get('name', '')} on {name}: "
                               f"accuracy {accuracy:.4f} ({n} images)"):
            print(f"wrote {png}")
        else:
            print(f"confusion matrix image skipped: matplotlib is not installed ({png})")
    return 0


def cmd_synth(args):
    cfg = args.config
    if cfg.endswith(".json") or os.path.sep in cfg:
        try:
            with open(cfg) as f:
                cfg = json.load(f)
        except OSError as e:
            raise QGPError(args.config, "file", f"cannot read: {e.strerror or e}") from None
        except json.JSONDecodeError as e:
            raise QGPError(args.config, "json", f"invalid JSON: {e.msg} at line {e.lineno}") from None
        if synth.is_train_config(cfg):  # a training config file: its network shape
            cfg = synth.from_train_config(args.config)
    try:
        b = synth.random_bundle(args.out, cfg, seed=args.seed, extreme=args.extreme or False)
    except (KeyError, TypeError) as e:
        raise QGPError(args.config, "config", f"malformed config ({type(e).__name__}: {e}); expected a "
                       "training config (train/configs/*.json) or a synth config (golden/synth.py)") from None
    print(f"wrote {b.path}: {len(b.layers)} layers")
    return 0


def main(argv=None):
    try:
        args = build_parser().parse_args(argv)
        return {"eval": cmd_eval, "info": cmd_info, "synth": cmd_synth}[args.cmd](args)
    except QGPError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
