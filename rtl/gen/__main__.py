"""python -m rtl.gen --bundle DIR --out build/gen/<name> [--folding conv2:8,...] [--lint]

Generates the network top ``qgp_net.v`` (+ ``qgp_net.json`` and the memfiles) for a bundle.
``--lint``: then run ``verilator --lint-only -Wall`` on the generated top (with every rtl/ module
it instantiates) and on each rtl/bench/*.v module.
Exit 0 on success, 1 on lint warnings, 2 on a bad bundle or argument (one line on stderr, no
traceback)."""

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main(argv=None):
    from qgp.golden.errors import QGPError
    from qgp.rtl.gen.top import generate

    ap = argparse.ArgumentParser(prog="python -m rtl.gen", description=__doc__.split("\n\n")[1])
    ap.add_argument("--bundle", default=str(ROOT / "models" / "fmnist"))
    ap.add_argument("--out", help="output directory (default build/gen/<bundle dir name>)")
    ap.add_argument("--folding", default=os.environ.get("FOLDING") or None,
                    help="PE per layer, 'conv2:8,conv3:16' or a JSON file {layer: PE} "
                    "(default: rate-matched, rtl.gen.plan)")
    ap.add_argument("--lint", action="store_true",
                    help="lint the generated top and rtl/bench/*.v with verilator -Wall")
    args = ap.parse_args(argv)
    out = args.out or str(ROOT / "build" / "gen" / Path(args.bundle).resolve().name)
    try:
        info = generate(args.bundle, out, folding=args.folding)
    except QGPError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (ValueError, OSError) as e:
        print(f"error: {args.bundle}: {e}", file=sys.stderr)
        return 2
    folds = ", ".join(f"{l['name']}:{l['fold']}" for l in info["layers"])
    print(f"wrote {info['top_file']} ({len(info['layers'])} layers; FOLD {folds}; "
          f"{info['cycles_per_image']} cycles/image)")
    if args.lint:
        return lint(info)
    return 0


def lint(info):
    """verilator --lint-only -Wall on the generated top and on every rtl/bench module (rtl.lint)."""
    from qgp.rtl.lint import lint_network
    return lint_network(info)


if __name__ == "__main__":
    sys.exit(main())
