"""Map a bundle layer (golden.bundle.load_bundle(...).layers[n]) to the Verilog module that
implements it, its parameters and its memfiles (formats: docs/INTERFACES.md).

One owner per fact: widths and shifts come from the bundle layer (acc_bits, requant m_bits /
b_bits / prod_bits / shift, wbits, bias_bits, gsum_bits, logit_bits); nothing is hard-coded.

API
---
``layer_module(layer) -> str``
    "conv_layer" (conv_dense: DENSE=1, conv_qgp: DENSE=0) or "gsum_fc" (head).
``layer_params(layer, abits, in_bits, out_dir, prefix, fold=1, fifo_depth=None) -> dict``
    Verilog parameters of that module. Writes the memfiles into ``out_dir`` as
    ``{prefix}_ts.mem`` / ``{prefix}_w.mem`` / ``{prefix}_m.mem`` / ``{prefix}_b.mem`` and returns
    their absolute paths as *unquoted* Python ``str`` values (TS_FILE, W_FILE, M_FILE, B_FILE);
    every other value is an ``int``. Use ``verilog_value`` to write a value into Verilog source
    or onto a simulator command line (strings get their double quotes there).
    ``fold`` = FOLD, cycles per pixel of a conv layer (PE = CO / FOLD; a fold that does not
    divide CO is lowered to the largest divisor of CO below it). ``fifo_depth`` = FIFO_DEPTH of
    the layer's input FIFO (default: ``default_fifo_depth``).
``layer_info(layer, abits, in_bits, out_dir, prefix, fold=1, fifo_depth=None) -> dict``
    ``{"module", "params", "in_width", "out_width", "fold", "latency", "frame_cycles"}``:
    tdata widths of the module's input / output streams, and the stated timing (see
    ``layer_latency``).
``layer_latency(module, params) -> int``
    The fixed latency L stated in the module header: with input offered every clock and the
    output always ready, one frame takes ``H*W*FOLD + L`` cycles from the first input beat to the
    last output beat (last output cycle - first input cycle); for gsum_fc ``H*W + L``.
Folding (which FOLD each layer gets) is decided by ``rtl.gen.plan`` alone.
"""

import math
import os

import numpy as np

from golden import atomic

MODULES = {"conv_dense": "conv_layer", "conv_qgp": "conv_layer", "gsum_fc": "gsum_fc"}


def layer_module(layer):
    """Name of the Verilog module implementing ``layer`` (a Bundle.layers entry)."""
    t = layer["type"]
    if t not in MODULES:
        raise ValueError(f"rtl.gen.params: no RTL module for layer type {t!r}")
    return MODULES[t]


def verilog_value(v):
    """A parameter value as Verilog source text: str -> "quoted", int -> decimal."""
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(int(v))


def _mask(v, bits):
    v = int(v)
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if not lo <= v <= hi:
        raise ValueError(f"rtl.gen.params: value {v} does not fit in {bits} signed bits")
    return v & ((1 << bits) - 1)


def write_memfile(path, words, width):
    """$readmemh file: one hex word per line, ``ceil(width/4)`` digits; written atomically."""
    digits = max(1, (width + 3) // 4)
    text = "".join(format(int(w), "0%dx" % digits) + "\n" for w in words)
    return atomic.write_text(path, text)


def _divisor_at_most(n, f):
    f = max(1, min(int(f), n))
    while n % f:
        f -= 1
    return f


def default_fifo_depth(layer, fold):
    """Input FIFO: 2 entries (a register slice) for an unfolded layer; one input row (= one output
    row of the preceding pool, which arrives in a burst) for a folded one."""
    return 2 if fold <= 1 else max(2, int(layer["width"]))


def _requant_params(layer, prefix, out_dir):
    rq = layer["requant"]
    m_w, b_w = int(rq["m_bits"]), int(rq["b_bits"])
    m = np.asarray(rq["m"]).reshape(-1)
    b = np.asarray(rq["b"]).reshape(-1)
    return {
        "M_W": m_w,
        "B_W": b_w,
        "PROD_W": int(rq["prod_bits"]),
        "SHIFT": int(rq["shift"]),
        "M_FILE": write_memfile(os.path.join(out_dir, f"{prefix}_m.mem"), [_mask(v, m_w) for v in m], m_w),
        "B_FILE": write_memfile(os.path.join(out_dir, f"{prefix}_b.mem"), [_mask(v, b_w) for v in b], b_w),
    }


def layer_params(layer, abits, in_bits, out_dir, prefix, fold=1, fifo_depth=None):
    """Verilog parameters (and memfiles) for the module implementing ``layer``; see module doc."""
    t = layer["type"]
    abits, in_bits = int(abits), int(in_bits)
    if t == "gsum_fc":
        k, ci = int(layer["classes"]), int(layer["in_channels"])
        wb, bb = int(layer["wbits"]), int(layer["bias_bits"])
        w = np.asarray(layer["weight"]).reshape(k, ci)
        words = []
        for kk in range(k):
            word = 0
            for c in range(ci):
                word |= _mask(w[kk, c], wb) << (c * wb)
            words.append(word)
        bias = np.asarray(layer["bias"]).reshape(-1)
        return {
            "CI": ci,
            "K": k,
            "BITS": in_bits,
            "GSUM_W": int(layer["gsum_bits"]),
            "WBITS": wb,
            "BIAS_W": bb,
            "LOGIT_W": int(layer["logit_bits"]),
            "CLASS_W": max(1, math.ceil(math.log2(k))),
            "W_FILE": write_memfile(os.path.join(out_dir, f"{prefix}_w.mem"), words, ci * wb),
            "B_FILE": write_memfile(os.path.join(out_dir, f"{prefix}_b.mem"), [_mask(v, bb) for v in bias], bb),
        }
    if t not in ("conv_dense", "conv_qgp"):
        raise ValueError(f"rtl.gen.params: no RTL module for layer type {t!r}")
    ci, co = int(layer["in_channels"]), int(layer["out_channels"])
    fold = _divisor_at_most(co, fold)
    if fifo_depth is None:
        fifo_depth = default_fifo_depth(layer, fold)
    p = {
        "DENSE": 1 if t == "conv_dense" else 0,
        "CI": ci,
        "CO": co,
        "IN_BITS": in_bits,
    }
    if t == "conv_dense":
        wb = int(layer["wbits"])
        w = np.asarray(layer["weight"]).reshape(co, ci * 9)  # index i*9 + t, t = ky*3 + kx
        words = []
        for o in range(co):
            word = 0
            for j in range(ci * 9):
                word |= _mask(w[o, j], wb) << (j * wb)
            words.append(word)
        p.update(WBITS=wb)
    else:
        if in_bits != abits:
            raise ValueError(f"rtl.gen.params: conv_qgp input bits {in_bits} != abits {abits}")
        tap = np.asarray(layer["tap"]).reshape(co, ci)
        sign = np.asarray(layer["sign"]).reshape(co, ci)
        words = []
        for o in range(co):
            word = 0
            for i in range(ci):
                word |= ((int(sign[o, i]) & 1) << 4 | (int(tap[o, i]) & 15)) << (i * 5)
            words.append(word)
    p.update(
        ABITS=abits,
        W=int(layer["width"]),
        H=int(layer["height"]),
        ACC_W=int(layer["acc_bits"]),
        PE=co // fold,
        POOL=1 if layer.get("pool") else 0,
        FIFO_DEPTH=int(fifo_depth),
    )
    p.update(_requant_params(layer, prefix, out_dir))
    if t == "conv_dense":
        p["W_FILE"] = write_memfile(os.path.join(out_dir, f"{prefix}_w.mem"), words, ci * 9 * p["WBITS"])
    else:
        p["TS_FILE"] = write_memfile(os.path.join(out_dir, f"{prefix}_ts.mem"), words, ci * 5)
    return p


def layer_latency(module, params):
    """Fixed latency L of the module header's statement (see module doc)."""
    if module == "conv_layer":
        return int(params["W"]) + 6 + (1 if params.get("POOL") else 0)
    if module == "gsum_fc":
        return int(params["CI"]) + int(params["K"]) - 1
    raise ValueError(f"rtl.gen.params: unknown module {module!r}")


def layer_info(layer, abits, in_bits, out_dir, prefix, fold=1, fifo_depth=None):
    module = layer_module(layer)
    p = layer_params(layer, abits, in_bits, out_dir, prefix, fold=fold, fifo_depth=fifo_depth)
    if module == "gsum_fc":
        in_w = p["CI"] * p["BITS"]
        out_w = p["K"] * p["LOGIT_W"] + p["CLASS_W"]
        f = 1
        frame = int(layer["height"]) * int(layer["width"])
    else:
        in_w = p["CI"] * p["IN_BITS"]
        out_w = p["CO"] * p["ABITS"]
        f = p["CO"] // p["PE"]
        frame = p["H"] * p["W"] * f
    lat = layer_latency(module, p)
    return {"module": module, "params": p, "in_width": in_w, "out_width": out_w, "fold": f,
            "latency": lat, "frame_cycles": frame + lat}
