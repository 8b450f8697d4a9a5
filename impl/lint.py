"""python -m impl.lint [--bundle DIR] [--folding SPEC]

yosys 0.70 structural lint: every rtl/*.v module with its default parameters (modules with
memfile parameters: inside the top), and the generated top of a bundle, elaborated (``hierarchy; proc``) and checked for latches ($dlatch / $adlatch /
$dlatchsr cells: an ``always @*`` variable not assigned on every path) and combinational loops
(``check -assert``). Exit 0 clean, 1 on any latch or loop (one line per finding), 2 on a bad
bundle, 3 when yosys itself fails.
"""

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LATCHES = "t:$dlatch t:$adlatch t:$dlatchsr t:$_DLATCH_* t:$_DLATCHSR_*"


def _modules(rtl):
    """(file, module, has_memfiles) for every module defined in rtl/*.v. A module with memfile
    parameters (``*_FILE``, default "") cannot be elaborated with its defaults: it is checked
    inside the generated top, with the memfiles of a real bundle."""
    out = []
    for f in sorted(rtl.glob("*.v")):
        text = f.read_text()
        for m in re.finditer(r"^\s*module\s+(\w+)(.*?)^endmodule", text, re.M | re.S):
            out.append((f.name, m.group(1), bool(re.search(r"parameter\s+\w+_FILE", m.group(2)))))
    return out


def check(work, sources, top, log_name):
    """Elaborate ``top`` from ``sources`` (names relative to ``work``); returns a list of problem
    lines (empty: clean)."""
    from qgp.impl.flow import ImplError, run_yosys

    latch_f, check_f = f"{log_name}.latches", f"{log_name}.check"
    script = (f"read_verilog -defer {' '.join(sources)}; hierarchy -check -top {top}; proc; "
              f"tee -q -o {latch_f} select -list {LATCHES}; "
              f"tee -q -o {check_f} check")
    try:
        run_yosys(work, script, log_name)
    except ImplError as e:
        return [f"{top}: yosys failed: {e}"]
    problems = []
    latches = [l.strip() for l in (Path(work) / latch_f).read_text().splitlines() if l.strip()]
    for l in latches:
        problems.append(f"{top}: latch {l}")
    text = (Path(work) / check_f).read_text()
    for l in text.splitlines():
        if re.search(r"found logic loop|combinational loop", l, re.I):
            problems.append(f"{top}: {l.strip()}")
    return problems


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m impl.lint", description=__doc__.split("\n\n")[1])
    ap.add_argument("--bundle", default=str(ROOT / "models" / "fmnist"))
    ap.add_argument("--folding", default=os.environ.get("FOLDING") or None)
    args = ap.parse_args(argv)
    from qgp.golden.errors import QGPError
    from qgp.impl import flow

    rtl = ROOT / "rtl"
    problems = []
    with tempfile.TemporaryDirectory(dir=ROOT / "build" if (ROOT / "build").exists() else None) as t:
        work = Path(t)
        for f in rtl.glob("*.v"):
            (work / f.name).write_bytes(f.read_bytes())
        srcs = sorted(f.name for f in rtl.glob("*.v"))
        for fname, mod, memfiles in _modules(rtl):
            if memfiles:
                print(f"yosys lint: {mod} (memfile parameters) is checked in the generated top")
                continue
            p = check(work, srcs, mod, f"lint_{mod}.log")
            print(f"yosys lint {'ok' if not p else 'FAILED'}: {mod}")
            problems += p
        try:
            ctx = flow.stage(args.bundle, work / "net", folding=args.folding)
        except QGPError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        p = check(ctx["work"], ctx["rtl"] + ["units.v", "qgp_net.v"], "qgp_net", "lint_top.log")
        print(f"yosys lint {'ok' if not p else 'FAILED'}: qgp_net ({args.bundle})")
        problems += p
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
