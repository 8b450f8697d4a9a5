"""python -m train: train a QGP network (``train``), export a trained run as a bundle (``export``), or
run the paper's experiment, QGP against its baselines on one network (``compare``)."""
from __future__ import annotations

import argparse
import os
import sys

# numpy's BLAS (golden eval inside export) is fastest single-threaded beside torch's own threads
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from qgp.golden.errors import QGPError


def with_data(cfg: dict, spec: str, data_dir=None) -> dict:
    """``cfg`` retargeted to the data set ``spec``: its name (a custom one with an absolute path, so
    that export and eval find it again), input shape and class count come from the data."""
    from qgp.golden import datasets
    from qgp.golden.configs import check_shape

    d = datasets.info(spec, data_dir)
    out = dict(cfg, dataset=datasets.canonical(spec), classes=d["classes"],
               input=dict(cfg["input"], channels=d["channels"], height=d["height"], width=d["width"], bits=8))
    check_shape(out, f"{spec} (config {cfg['name']})")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m train", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train a config (checkpoint every epoch; --resume continues a run)",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    t.add_argument("--config", default="fmnist", help="config name in train/configs or a JSON path")
    t.add_argument("--epochs", type=int, default=None, help="override the config's epoch count")
    t.add_argument("--out", default=None, help="run directory (default runs/<config>)")
    t.add_argument("--resume", action="store_true", help="continue from <out>/checkpoint.pt")
    t.add_argument("--data-dir", default=None, help="dataset directory (default: the Debian fashion-mnist package)")
    t.add_argument("--data", default=None, metavar="SPEC",
                   help="train on this data instead of the config's: a dataset name, npz:PATH (Keras "
                        "mnist.npz layout) or folder:PATH (PATH/train/<class>/*.png); the input shape "
                        "and the class count come from the data")
    t.add_argument("--device", default="auto", help="auto = cuda when present, else cpu")
    t.add_argument("--amp", choices=["none", "bf16"], default="none", help="autocast for training steps")
    t.add_argument("--limit-batches", type=int, default=None, help="steps per epoch (smoke tests)")
    t.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--init", default=None, metavar="PT", help="start from this run's final.pt/checkpoint.pt (fine-tune)")
    t.add_argument("--export", default=None, metavar="DIR", help="export a bundle to DIR when done")
    e = sub.add_parser("export", help="export a finished run (final.pt) as a bundle",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    e.add_argument("--run", default="runs/fmnist", help="run directory holding final.pt")
    e.add_argument("--out", default="models/fmnist", help="bundle directory to write (atomically)")
    e.add_argument("--data-dir", default=None)
    c = sub.add_parser("compare", help="the paper's experiment: train, export, evaluate and regress every row "
                       "of a compare spec -> models/compare/compare.json (resumable; rows done are skipped)",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    c.add_argument("--spec", default="narrow-bls", help="spec name in train/configs/compare or a JSON path "
                   "(narrow-bls: the CPU experiment of record on a narrow network of the shipped depth; full: "
                   "the shipped network's 20-epoch recipe, for a GPU)")
    c.add_argument("--rows", default=None, help="comma-separated rows to do (default: all)")
    c.add_argument("--out", default="models/compare", help="bundles and compare.json")
    c.add_argument("--runs", default="runs/compare", help="training run directories (checkpoints)")
    c.add_argument("--train-only", action="store_true", help="only train (export and regress later)")
    c.add_argument("--no-train", action="store_true", help="only export / evaluate / regress rows already trained")
    c.add_argument("--table", action="store_true", help="print <out>/compare.json as a markdown table and stop")
    c.add_argument("--device", default="auto")
    c.add_argument("--threads", type=int, default=1, help="torch CPU threads per training process")
    c.add_argument("--workers", type=int, default=1, help="training processes run in parallel")
    c.add_argument("--jobs", type=int, default=2, help="RTL simulation processes")
    c.add_argument("--regress-images", type=int, default=None, help="RTL images per row (default: the spec's)")
    c.add_argument("--plot", default="docs/img/compare.png", help="accuracy vs weight bits plot")
    c.add_argument("--limit-batches", type=int, default=None, help="steps per epoch (smoke tests)")
    c.add_argument("--data-dir", default=None)
    args = ap.parse_args(argv)

    from .run import TrainingError, load_config, train
    try:
        if args.cmd == "train":
            cfg = load_config(args.config)
            from qgp.golden import datasets
            if args.data or datasets.split_spec(cfg["dataset"])[1] is not None:
                # own data (--data, or a config naming npz:/folder: data): shape and classes from it
                cfg = with_data(cfg, args.data or cfg["dataset"], args.data_dir)
            out = args.out or f"runs/{cfg['name']}"
            train(cfg, out, epochs=args.epochs, resume=args.resume, data_dir=args.data_dir, device=args.device,
                  limit_batches=args.limit_batches, amp=args.amp, seed=args.seed, threads=args.threads, init=args.init)
            if args.export:
                from .export import export_run
                export_run(out, args.export, data_dir=args.data_dir)
        elif args.cmd == "compare":
            from .compare import load_spec, markdown_table, read_results, run_compare
            if args.table:
                from pathlib import Path
                print(markdown_table(read_results(Path(args.out) / "compare.json"), load_spec(args.spec)))
                return 0
            run_compare(args.spec, out=args.out, runs=args.runs, only=args.rows.split(",") if args.rows else None,
                        train_only=args.train_only, no_train=args.no_train, device=args.device,
                        threads=args.threads, workers=args.workers, jobs=args.jobs,
                        data_dir=args.data_dir, png=args.plot, regress_images=args.regress_images,
                        limit_batches=args.limit_batches)
        else:
            from .export import export_run
            export_run(args.run, args.out, data_dir=args.data_dir)
    except (QGPError, TrainingError) as ex:
        print(f"error: {ex}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: the last completed epoch is in checkpoint.pt; continue with --resume", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
