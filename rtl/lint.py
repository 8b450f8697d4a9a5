"""python -m rtl.lint [--bundle DIR [--folding SPEC]] [extra verilator args]

Verilator lint, the one entry: ``verilator --lint-only -Wall`` of every rtl/ module as its own
top with its default parameters; with ``--bundle``, also the generated network top of that
bundle (with the rtl/ modules it instantiates and the wide-constant flag every model of it needs)
and each rtl/bench/*.v module. Waivers live in the sources, each with a comment saying why.
Exit 0 clean, 1 on any warning, 2 on a bad bundle or argument (one line on stderr).

rtl/lint.sh, ``python -m rtl.gen --lint``, ``make lint`` and tb/lint call this module; the
structural yosys check (latches, loops) is ``python -m impl.lint``.

API
---
``verilator(top, files, params=None, args=(), cwd=None) -> (ok, output)``  one lint run: every
    caller's command line is built here (``params`` {name: Verilog text} become -G overrides)
``lint_modules(args=()) -> int``      every rtl/ module with its defaults (0 clean, 1 warnings)
``lint_network(info, args=()) -> int`` a generated top (qgp_net.json dict) and rtl/bench/*.v
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

RTL = Path(__file__).resolve().parent
ROOT = RTL.parent


def verilator(top, files, params=None, args=(), cwd=None):
    """``verilator --lint-only -Wall`` of ``top`` from ``files`` (rtl/ on the include path);
    returns (clean, verilator's output)."""
    cmd = ["verilator", "--lint-only", "-Wall", f"-I{RTL}", *args,
           *[f"-G{k}={v}" for k, v in (params or {}).items()],
           *[str(f) for f in files], "--top-module", top]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    return r.returncode == 0, r.stdout + r.stderr


def _report(top, ok, out):
    if ok:
        print(f"lint ok: {top}")
    else:
        print(f"lint FAILED: {top}\n{out[-4000:]}")
    return 0 if ok else 1


# modules whose defaults cannot stand alone: conv_qgp_ring is folded by definition, and a folded
# core must name its ROM files (lint reads no file)
DEFAULTS_NEED = {"conv_qgp_ring": {"TS_FILE": '"ts.mem"', "TH_FILE": '"th.mem"'}}


def lint_modules(args=()):
    """Every rtl/<module>.v as its own top, default parameters (file names relative to rtl/)."""
    status = 0
    for f in sorted(RTL.glob("*.v")):
        ok, out = verilator(f.stem, [f.name], params=DEFAULTS_NEED.get(f.stem), args=args, cwd=RTL)
        status |= _report(f.stem, ok, out)
    return status


def lint_network(info, args=()):
    """The generated top of qgp_net.json ``info`` (rtl/ as a library) and every rtl/bench module."""
    from qgp.rtl.gen.top import VERILATOR_WIDE
    jobs = [(info["top"], [info["top_file"]], ["-y", str(RTL), *VERILATOR_WIDE])]
    # bench_adder_tree is recursive by parameter: Verilator elaborates it inside a parent, not
    # as a top of its own, so it is linted through the cores that use it.
    for f in sorted((RTL / "bench").glob("*.v")):
        if f.stem != "bench_adder_tree":
            jobs.append((f.stem, [str(f)], ["-y", str(RTL / "bench")]))
    status = 0
    for top, files, extra in jobs:
        ok, out = verilator(top, files, args=[*extra, *args])
        status |= _report(top, ok, out)
    return status


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m rtl.lint", description=__doc__.split("\n\n")[1])
    ap.add_argument("--bundle", help="also lint the generated top of this bundle and rtl/bench")
    ap.add_argument("--folding", default=os.environ.get("FOLDING") or None,
                    help="PE per layer for the generated top (as python -m rtl.gen --folding)")
    ap.add_argument("--out", help="folder for the generated top (default build/gen/lint)")
    args, extra = ap.parse_known_args(argv)
    status = lint_modules(extra)
    if args.bundle:
        from qgp.golden.errors import QGPError
        from qgp.rtl.gen.top import generate
        try:
            info = generate(args.bundle, args.out or ROOT / "build" / "gen" / "lint",
                            folding=args.folding)
        except QGPError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        except (ValueError, OSError) as e:
            print(f"error: {args.bundle}: {e}", file=sys.stderr)
            return 2
        status |= lint_network(info, extra)
    return status


if __name__ == "__main__":
    sys.exit(main())
