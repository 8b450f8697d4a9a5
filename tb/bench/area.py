"""Area benchmark: yosys synthesis of a QGP layer against dense baselines of the same shape.

Designs (all: a 3x3 window of CI channels x BITS bits in, CO results out, fully parallel, one
output register; same balanced adder tree rtl/bench/bench_adder_tree.v where the design is ours):
- ``binary_dense``: rtl/bench/conv_binary_dense.v, all 9 taps, +-1 weights from a ROM (memfile).
- ``mac8``:         rtl/bench/conv_mac8.v, 8-bit weights from a ROM, 9*CI multipliers per output.
- ``qgp_prog``:     rtl/bench/conv_qgp_prog.v, taps/signs on a port (a loadable weight memory):
                    real 9:1 multiplexers.
- ``qgp_hw``:       generated from the bundle layer (tb/bench/hardwired.py): taps and signs as
                    constants, the multiplexers become wires.
- ``qgp_layer_rom``: rtl/conv_qgp.v at PE=CO with the bundle layer's TS/M/B memfiles, i.e. the
                    shipped conv core including its requant units and output assembly.
The layer: the bundle's first conv_qgp layer (32 -> 32, 4-bit activations for fmnist). The dense
baselines get random weights (seeded): with constant weights synthesis folds them, as it does
for every design here that reads a ROM at a constant address.

Synthesis: ``yosys synth_xilinx -flatten -nodsp -top X`` (multipliers in LUTs so that LUT counts
compare; carry chains map to CARRY4). Wide designs may be synthesised on a sample of ``co``
output channels (the channels are independent copies of one datapath) and scaled by CO/co; the
JSON records both the measured and the scaled figures.
"""

import json
import os
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from tb.bench.hardwired import write_hardwired

ROOT = Path(__file__).resolve().parents[2]
RTL = ROOT / "rtl"
BENCH_RTL = RTL / "bench"
TREE = BENCH_RTL / "bench_adder_tree.v"

LUT_CELLS = re.compile(r"^(LUT[1-6]|INV)$")
FF_CELLS = re.compile(r"^FD[RSCP]E?(_1)?$")
CARRY_CELLS = re.compile(r"^CARRY[48]$")
MUXF_CELLS = re.compile(r"^MUXF[78]$")
RAM_CELLS = re.compile(r"^(RAM|RAMB|SRL)")


def _hexword(v, bits):
    return format(int(v) & ((1 << bits) - 1), "0%dx" % max(1, (bits + 3) // 4))


def _write(path, lines):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(l + "\n" for l in lines))
    return path


def parse_stat(log):
    """Cell counts of the last `stat` in a yosys log -> {"luts", "ffs", "carry", ...}."""
    i = log.rfind("Number of cells:")
    if i < 0:
        raise RuntimeError("no stat in the yosys log")
    cells = {}
    for line in log[i:].splitlines()[1:]:
        m = re.match(r"^\s+(\S+)\s+(\d+)\s*$", line)
        if not m:
            if line.strip() == "" and cells:
                break
            continue
        cells[m.group(1)] = int(m.group(2))
    out = {"luts": 0, "ffs": 0, "carry": 0, "muxf": 0, "ram": 0}
    for c, n in cells.items():
        if LUT_CELLS.match(c):
            out["luts"] += n
        elif FF_CELLS.match(c):
            out["ffs"] += n
        elif CARRY_CELLS.match(c):
            out["carry"] += n
        elif MUXF_CELLS.match(c):
            out["muxf"] += n
        elif RAM_CELLS.match(c):
            out["ram"] += n
    out["cells"] = cells
    return out


def synth(files, top, chparams, work, timeout=1800):
    """Run yosys synth_xilinx on ``files`` with ``top``; returns parse_stat + seconds."""
    work.mkdir(parents=True, exist_ok=True)
    sets = "".join(f"chparam -set {k} {v} {top}\n" if not isinstance(v, str)
                   else f'chparam -set {k} "{v}" {top}\n' for k, v in chparams.items())
    script = (f"read_verilog -defer {' '.join(str(f) for f in files)}\n{sets}"
              f"synth_xilinx -flatten -nodsp -top {top}\nstat\n")
    (work / "synth.ys").write_text(script)
    t0 = time.time()
    res = subprocess.run(["yosys", "-q", "-l", str(work / "yosys.log"), str(work / "synth.ys")],
                         cwd=work, capture_output=True, text=True, timeout=timeout)
    dt = time.time() - t0
    if res.returncode != 0:
        raise RuntimeError(f"yosys failed for {top}: {(res.stderr or res.stdout)[-2000:]}")
    st = parse_stat((work / "yosys.log").read_text())
    st["synth_s"] = round(dt, 1)
    return st


def designs(layer, abits, work, seed=0, co_sample=None):
    """(name, files, top, chparams, co_synth, description) for every design of the benchmark."""
    co_sample = co_sample or {}
    CO, CI = np.asarray(layer["tap"]).shape
    bits = int(abits)
    rng = np.random.default_rng(seed)
    out = []

    # dense binary: bit (i*9+t) of word o = 1 -> -1
    n = co_sample.get("binary_dense", CO)
    wb = rng.integers(0, 2, size=(CO, CI * 9))
    words = [sum(int(b) << j for j, b in enumerate(wb[o])) for o in range(n)]
    f = _write(work / "binary_dense" / "w.mem", [_hexword(w, CI * 9) for w in words])
    out.append(("binary_dense", [TREE, BENCH_RTL / "conv_binary_dense.v"], "conv_binary_dense",
                {"CI": CI, "CO": n, "BITS": bits, "W_FILE": str(f)}, n,
                "dense binary 3x3 (all 9 taps, +-1 ROM weights)"))

    # 8-bit MAC: weight (i, t) at [(i*9+t)*8 +: 8]
    n = co_sample.get("mac8", CO)
    w8 = rng.integers(-127, 128, size=(CO, CI * 9))
    words = [sum((int(v) & 255) << (8 * j) for j, v in enumerate(w8[o])) for o in range(n)]
    f = _write(work / "mac8" / "w.mem", [_hexword(w, CI * 9 * 8) for w in words])
    out.append(("mac8", [TREE, BENCH_RTL / "conv_mac8.v"], "conv_mac8",
                {"CI": CI, "CO": n, "BITS": bits, "WBITS": 8, "W_FILE": str(f)}, n,
                "8-bit weights, 9*CI MACs per output (ROM weights)"))

    n = co_sample.get("qgp_prog", CO)
    out.append(("qgp_prog", [TREE, BENCH_RTL / "conv_qgp_prog.v"], "conv_qgp_prog",
                {"CI": CI, "CO": n, "BITS": bits}, n,
                "QGP, taps/signs from a weight port (real 9:1 muxes)"))

    n = co_sample.get("qgp_hw", CO)
    hw = work / "qgp_hw" / "conv_qgp_hw.v"
    write_hardwired(layer, hw, bits, co=n)
    out.append(("qgp_hw", [TREE, hw], "conv_qgp_hw", {}, n,
                "QGP, taps/signs hardwired from the bundle (muxes are wires)"))

    # the shipped conv core: rtl/conv_qgp.v at PE = CO with the layer's memfiles
    n = co_sample.get("qgp_layer_rom", CO)
    from rtl.gen import params as P
    d = work / "qgp_layer_rom"
    d.mkdir(parents=True, exist_ok=True)
    sub = dict(layer)
    sub["tap"] = np.asarray(layer["tap"])[:n]
    sub["sign"] = np.asarray(layer["sign"])[:n]
    sub["out_channels"] = n
    rq = dict(layer["requant"])
    rq["m"] = np.asarray(rq["m"])[:n]
    rq["b"] = np.asarray(rq["b"])[:n]
    sub["requant"] = rq
    p = P.layer_params(sub, abits, abits, d, "conv", fold=1)
    keep = ("CI", "CO", "ACC_W", "M_W", "B_W", "PROD_W", "SHIFT", "ABITS", "TS_FILE", "M_FILE",
            "B_FILE")
    cp = {k: p[k] for k in keep}
    cp.update(BITS=bits, PE=n)
    out.append(("qgp_layer_rom", [RTL / "requant.v", RTL / "conv_qgp.v"], "conv_qgp", cp, n,
                "rtl/conv_qgp.v at PE=CO (ROM taps + requant + output register)"))
    return out


def run_area(bundle, work, jobs=2, co_sample=None, only=None, log=print):
    """Synthesize every design; returns {"layer", "designs": {...}, "ratios", "memory"}."""
    layer = next((l for l in bundle.layers if l["type"] == "conv_qgp"), None)
    if layer is None:
        raise RuntimeError("bundle has no conv_qgp layer")
    abits = int(bundle.meta["abits"])
    CO, CI = np.asarray(layer["tap"]).shape
    ds = designs(layer, abits, Path(work), co_sample=co_sample)
    if only:
        ds = [d for d in ds if d[0] in only]

    def one(d):
        name, files, top, cp, n, desc = d
        log(f"area: synthesizing {name} ({n} of {CO} output channels) ...")
        st = synth(files, top, cp, Path(work) / name)
        scale = CO / n
        st.update(name=name, description=desc, co_synth=n, co=CO, scale=scale,
                  luts_layer=round(st["luts"] * scale), ffs_layer=round(st["ffs"] * scale),
                  carry_layer=round(st["carry"] * scale))
        log(f"area: {name}: {st['luts']} LUTs, {st['ffs']} FFs, {st['carry']} CARRY4 "
            f"({st['synth_s']} s)")
        return name, st

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as ex:
        res = dict(ex.map(one, ds))
    ratios = {}
    for q in ("qgp_hw", "qgp_prog", "qgp_layer_rom"):
        for b in ("binary_dense", "mac8"):
            if q in res and b in res and res[b]["luts_layer"]:
                ratios[f"{q}/{b}"] = res[q]["luts_layer"] / res[b]["luts_layer"]
    return {"layer": {"name": layer.get("name"), "ci": CI, "co": CO, "abits": abits},
            "tool": "yosys synth_xilinx -flatten -nodsp", "designs": res, "ratios": ratios,
            "memory": memory_table(bundle)}


def memory_table(bundle):
    """Weight memory bits per layer (as stored, and with 8-bit dense 3x3 weights)."""
    from golden.bundle import weight_memory_bits

    rows = []
    for l in bundle.layers:
        if l["type"] in ("conv_dense", "conv_qgp"):
            bits, dense8 = weight_memory_bits(l)
            rows.append({"layer": l.get("name"), "type": l["type"], "ci": int(l["in_channels"]),
                         "co": int(l["out_channels"]), "bits": int(bits),
                         "dense8_bits": int(dense8)})
        elif l["type"] == "gsum_fc":
            k, ci = int(l["classes"]), int(l["in_channels"])
            rows.append({"layer": l.get("name"), "type": "gsum_fc", "ci": ci, "co": k,
                         "bits": k * ci * int(l["wbits"]) + k * int(l["bias_bits"]),
                         "dense8_bits": None})
    return rows
