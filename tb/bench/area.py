"""Area benchmark: yosys synthesis of a QGP layer against dense baselines of the same shape.

Designs (all: a 3x3 window of CI channels x BITS bits in, CO results out, fully parallel; the
same output register rtl/bench/bench_out_reg.v and balanced adder tree rtl/bench/bench_adder_tree.v):
- ``binary_dense`` / ``binary_dense_prog``: rtl/bench/conv_binary_dense.v, all 9 taps, +-1
  weights from a ROM ($readmemh memfile: synthesis folds the constants) / from a weight port.
- ``mac8`` / ``mac8_prog``: rtl/bench/conv_mac8.v, 8-bit weights, 9*CI multipliers per output,
  ROM / port as above.
- ``qgp_rom`` / ``qgp_prog``: rtl/bench/conv_qgp_prog.v with the bundle layer's taps and signs
  from a ROM (constants: the 9:1 multiplexers fold away) / from a port (real multiplexers).
- ``qgp_hw``: generated from the bundle layer (tb/bench/hardwired.py) with taps and signs as
  constants in the source, so the multiplexers are wires by construction (qgp_rom should match).
- ``qgp_layer_rom``: rtl/conv_qgp.v at PE=CO with the bundle layer's TS/M/B memfiles, i.e. the
  shipped conv core including its requant units and output assembly.
The layer: the bundle's first conv_qgp layer (32 -> 32, 4-bit activations for fmnist). The dense
baselines get random weights (seeded).

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

from qgp.tb.bench.hardwired import write_hardwired

ROOT = Path(__file__).resolve().parents[2]
RTL = ROOT / "rtl"
BENCH_RTL = RTL / "bench"
TREE = BENCH_RTL / "bench_adder_tree.v"
OUT_REG = BENCH_RTL / "bench_out_reg.v"

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


def _wrapper(top, params, ports, path, rom=None):
    """A module ``bench_top`` instantiating ``top`` with ``params`` (yosys 0.23 cannot set a
    string parameter from its command line); ``ports``: [(name, direction, width)] of ``top``.
    ``rom`` = (port, words, word_width, memfile): that port is driven by a ROM loaded with
    $readmemh (so synthesis sees constant weights) instead of being a port of bench_top."""
    from qgp.rtl.gen.params import verilog_value

    L = ["module bench_top ("]
    L.append(",\n".join(f"    {d} wire [{w - 1}:0] {n}" for n, d, w in ports
                         if rom is None or n != rom[0]))
    L.append(");")
    if rom is not None:
        port, words, ww, mem = rom
        L.append(f"reg [{ww - 1}:0] rom [0:{words - 1}];")
        L.append(f'initial $readmemh("{mem}", rom);')
        L.append(f"wire [{words * ww - 1}:0] {port};")
        L.append("genvar g;")
        L.append(f"generate for (g = 0; g < {words}; g = g + 1) begin : g_rom")
        L.append(f"    assign {port}[g*{ww} +: {ww}] = rom[g];")
        L.append("end endgenerate")
    L.append(f"{top} #(")
    L.append(",\n".join(f"    .{k}({verilog_value(v)})" for k, v in params.items()))
    L.append(") u_dut (")
    L.append(",\n".join(f"    .{n}({n})" for n, _, _ in ports))
    L.append(");")
    L.append("endmodule")
    path.write_text("\n".join(L) + "\n")
    return path


def synth(files, top, chparams, work, ports=None, rom=None, timeout=3600):
    """Run yosys synth_xilinx on ``files`` with ``top`` (wrapped in ``bench_top`` with
    ``chparams`` and the optional ``rom`` when ``ports`` is given); returns parse_stat +
    seconds."""
    work = Path(work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    files = list(files)
    sets = ""
    if ports is not None:
        files.append(_wrapper(top, chparams, ports, work / "bench_top.v", rom=rom))
        top = "bench_top"
    else:
        sets = "".join(f" -chparam {k} {v}" for k, v in chparams.items())
    script = (f"read_verilog -defer {' '.join(str(f) for f in files)}\n"
              f"hierarchy -top {top}{sets}\n"
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


def _clog2(n):
    return max(0, (int(n) - 1).bit_length())


def _ports(in_w, out_w, last=False):
    p = [("clk", "input", 1), ("rst", "input", 1), ("s_axis_tdata", "input", in_w),
         ("s_axis_tvalid", "input", 1), ("s_axis_tready", "output", 1),
         ("m_axis_tdata", "output", out_w), ("m_axis_tvalid", "output", 1),
         ("m_axis_tready", "input", 1)]
    if last:
        p += [("s_axis_tlast", "input", 1), ("m_axis_tlast", "output", 1)]
    return p


def designs(layer, abits, work, seed=0, co_sample=None):
    """[{name, files, top, params, co, description, ports, rom}] for every design."""
    co_sample = co_sample or {}
    CO, CI = np.asarray(layer["tap"]).shape
    bits = int(abits)
    rng = np.random.default_rng(seed)
    win = 9 * CI * bits
    out = []

    def add(name, files, top, params, n, desc, ports=None, rom=None):
        out.append({"name": name, "files": files, "top": top, "params": params, "co": n,
                    "description": desc, "ports": ports, "rom": rom})

    # dense binary: bit (i*9+t) of word o = 1 -> -1; random weights (seeded)
    wb = rng.integers(0, 2, size=(CO, CI * 9))
    acc1 = bits + 1 + _clog2(9 * CI)
    for name, desc in (("binary_dense", "dense binary 3x3, +-1 weights from a ROM (memfile)"),
                       ("binary_dense_prog", "dense binary 3x3, weights from a weight port")):
        n = min(CO, co_sample.get(name, CO))
        prm = {"CI": CI, "CO": n, "BITS": bits, "ACC_W": acc1}
        ports = _ports(win, n * acc1) + [("w", "input", n * CI * 9)]
        rom = None
        if not name.endswith("_prog"):
            words = [sum(int(b) << j for j, b in enumerate(wb[o])) for o in range(n)]
            f = _write(work / name / "w.mem", [_hexword(w, CI * 9) for w in words])
            rom = ("w", n, CI * 9, str(f))
        add(name, [TREE, OUT_REG, BENCH_RTL / "conv_binary_dense.v"], "conv_binary_dense", prm, n, desc,
            ports, rom)

    # 8-bit MAC: weight (i, t) at [(i*9+t)*8 +: 8]; random weights in [-127, 127]
    w8 = rng.integers(-127, 128, size=(CO, CI * 9))
    acc8 = bits + 8 + _clog2(9 * CI)
    for name, desc in (("mac8", "8-bit weights, 9*CI MACs/output, weights from a ROM (memfile)"),
                       ("mac8_prog", "8-bit weights, 9*CI MACs/output, weights from a port")):
        n = min(CO, co_sample.get(name, CO))
        prm = {"CI": CI, "CO": n, "BITS": bits, "WBITS": 8, "ACC_W": acc8}
        ports = _ports(win, n * acc8) + [("w", "input", n * CI * 9 * 8)]
        rom = None
        if not name.endswith("_prog"):
            words = [sum((int(v) & 255) << (8 * j) for j, v in enumerate(w8[o])) for o in range(n)]
            f = _write(work / name / "w.mem", [_hexword(w, CI * 9 * 8) for w in words])
            rom = ("w", n, CI * 9 * 8, str(f))
        add(name, [TREE, OUT_REG, BENCH_RTL / "conv_mac8.v"], "conv_mac8", prm, n, desc, ports, rom)

    # QGP with the bundle layer's taps and signs: from a ROM (synthesis folds the constants) or
    # from a port (real 9:1 multiplexers)
    tap = np.asarray(layer["tap"]).astype(int)
    sign = np.asarray(layer["sign"]).astype(int)
    accq = bits + 1 + _clog2(CI)
    for name, desc in (("qgp_rom", "QGP, taps/signs from a ROM (memfile) of the bundle layer"),
                       ("qgp_prog", "QGP, taps/signs from a weight port (real 9:1 muxes)")):
        n = min(CO, co_sample.get(name, CO))
        prm = {"CI": CI, "CO": n, "BITS": bits, "ACC_W": accq}
        ports = _ports(win, n * accq) + [("ts", "input", n * CI * 5)]
        rom = None
        if not name.endswith("_prog"):
            # one ROM word per output channel: {sign, tap} of input i at [i*5 +: 5]
            words = [sum(((int(sign[o, i]) & 1) << 4 | int(tap[o, i])) << (5 * i)
                         for i in range(CI)) for o in range(n)]
            f = _write(work / name / "ts.mem", [_hexword(w, CI * 5) for w in words])
            rom = ("ts", n, CI * 5, str(f))
        add(name, [TREE, OUT_REG, BENCH_RTL / "conv_qgp_prog.v"], "conv_qgp_prog", prm, n, desc, ports,
            rom)

    n = min(CO, co_sample.get("qgp_hw", CO))
    hw = ROOT / "build" / "gen" / "bench" / "conv_qgp_hw.v"
    write_hardwired(layer, hw, bits, co=n)
    add("qgp_hw", [TREE, OUT_REG, hw], "conv_qgp_hw", {}, n,
        "QGP, generated with taps/signs as constants (muxes are wires)")

    # the shipped conv core: rtl/conv_qgp.v at PE = CO with the layer's memfiles
    n = min(CO, co_sample.get("qgp_layer_rom", CO))
    from qgp.rtl.gen import params as P
    d = work / "qgp_layer_rom"
    d.mkdir(parents=True, exist_ok=True)
    sub = dict(layer)
    sub["tap"] = tap[:n]
    sub["sign"] = sign[:n]
    sub["out_channels"] = n
    rq = dict(layer["requant"])
    rq["m"] = np.asarray(rq["m"])[:n]
    rq["b"] = np.asarray(rq["b"])[:n]
    sub["requant"] = rq
    p = P.layer_params(sub, abits, abits, d, "conv", fold=1)
    keep = ("CI", "CO", "ACC_W", "TH_W", "ABITS", "TREE_REG", "TS_VEC", "TS_FILE", "TH_VEC", "TH_FILE")
    cp = {k: p[k] for k in keep if k in p}
    cp.update(BITS=bits, PE=n)
    add("qgp_layer_rom", [RTL / f"{m}.v" for m in ("requant", "conv_pipe", "conv_qgp", "qgp_lane",
                                                    "window_unpack", "adder_tree")], "conv_qgp", cp, n,
        "rtl/conv_qgp.v at PE=CO: ROM taps + threshold requant + output register",
        _ports(win, n * abits, last=True))
    return out


def run_area(bundle, work, jobs=2, co_sample=None, only=None, log=print):
    """Synthesize every design; returns {"layer", "designs": {...}, "ratios", "memory"}."""
    layer = next((l for l in bundle.layers if l["type"] == "conv_qgp"), None)
    if layer is None:
        raise RuntimeError("bundle has no conv_qgp layer")
    abits = int(bundle.meta["abits"])
    CO, CI = np.asarray(layer["tap"]).shape
    work = Path(work).resolve()
    ds = designs(layer, abits, work, co_sample=co_sample)
    if only:
        ds = [d for d in ds if d["name"] in only]
    # longest first, so that two workers finish together
    order = ["mac8_prog", "mac8", "binary_dense", "binary_dense_prog", "qgp_layer_rom",
             "qgp_prog", "qgp_hw", "qgp_rom"]
    ds.sort(key=lambda d: order.index(d["name"]) if d["name"] in order else 99)

    def one(d):
        name, n, desc = d["name"], d["co"], d["description"]
        log(f"area: synthesizing {name} ({n} of {CO} output channels) ...")
        st = synth(d["files"], d["top"], d["params"], work / name, ports=d["ports"],
                   rom=d["rom"])
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
    for q in ("qgp_hw", "qgp_rom", "qgp_prog", "qgp_layer_rom"):
        for b in ("binary_dense", "mac8", "binary_dense_prog", "mac8_prog"):
            if q in res and b in res and res[b]["luts_layer"]:
                ratios[f"{q}/{b}"] = res[q]["luts_layer"] / res[b]["luts_layer"]
    # the targets (QGP <= 1/4 of dense binary, <= 1/30 of 8-bit MAC), like with like
    targets = {}
    for q in ("qgp_hw", "qgp_rom", "qgp_layer_rom", "qgp_prog"):
        suf = "_prog" if q.endswith("_prog") else ""
        rb, rm = ratios.get(f"{q}/binary_dense{suf}"), ratios.get(f"{q}/mac8{suf}")
        if rb is not None or rm is not None:
            targets[q] = {"vs": "binary_dense" + suf + ", mac8" + suf,
                          "binary_ratio": rb, "binary_ok": None if rb is None else rb <= 0.25,
                          "mac8_ratio": rm, "mac8_ok": None if rm is None else rm <= 1 / 30}
    return {"layer": {"name": layer.get("name"), "ci": CI, "co": CO, "abits": abits},
            "tool": "yosys synth_xilinx -flatten -nodsp", "designs": res, "ratios": ratios,
            "targets": targets,
            "memory": memory_table(bundle)}


def memory_table(bundle):
    """Weight memory bits per layer (as stored, and with 8-bit dense 3x3 weights)."""
    from qgp.golden.bundle import weight_memory_bits

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
