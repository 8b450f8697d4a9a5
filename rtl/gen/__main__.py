"""python -m rtl.gen --bundle DIR --out build/gen/<name> [--fold full|half]

Generates the network top ``qgp_net.v`` (+ ``qgp_net.json`` and the memfiles) for a bundle.
Exit 0 on success, 2 on a bad bundle or argument (one line on stderr, no traceback)."""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main(argv=None):
    from golden.errors import QGPError
    from rtl.gen.top import FOLD_POLICIES, generate

    ap = argparse.ArgumentParser(prog="python -m rtl.gen", description=__doc__.split("\n\n")[1])
    ap.add_argument("--bundle", default=str(ROOT / "models" / "fmnist"))
    ap.add_argument("--out", help="output directory (default build/gen/<bundle dir name>)")
    ap.add_argument("--fold", choices=FOLD_POLICIES, default="full",
                    help="folding of the layers after pooling (default: full)")
    args = ap.parse_args(argv)
    out = args.out or str(ROOT / "build" / "gen" / Path(args.bundle).resolve().name)
    try:
        info = generate(args.bundle, out, fold=args.fold)
    except QGPError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (ValueError, OSError) as e:
        print(f"error: {args.bundle}: {e}", file=sys.stderr)
        return 2
    folds = ", ".join(f"{l['name']}:{l['fold']}" for l in info["layers"])
    print(f"wrote {info['top_file']} ({len(info['layers'])} layers; FOLD {folds}; "
          f"{info['cycles_per_image']} cycles/image)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
