"""Random layers in the Bundle.layers format (arrays as NumPy) for module tests, with widths
from golden.bundle.required_widths (so declared widths are exactly the worst case), and a way
to hand a layer to the cocotb process (pickle file named by an environment variable)."""

import os
import pickle

import numpy as np

from qgp.golden.bundle import required_widths, signed_bits, sym_range


def random_conv_layer(rng, kind, ci, co, h, w, pool=False, in_bits=4, abits=4, wbits=8,
                      extreme=None):
    """A conv_dense / conv_qgp layer with random weights and a requant that spreads outputs
    over 0..2^abits-1 with some clamping at both ends and some negative m."""
    L = {"name": f"{kind}_{ci}x{co}", "type": kind, "in_channels": ci, "out_channels": co,
         "height": h, "width": w, "pool": bool(pool), "abits": abits, "in_bits": in_bits}
    if kind == "conv_dense":
        lo, hi = sym_range(wbits)
        if extreme == "max":
            wt = np.full((co, ci, 3, 3), hi)
        elif extreme == "min":
            wt = np.full((co, ci, 3, 3), lo)
        else:
            wt = rng.integers(lo, hi + 1, size=(co, ci, 3, 3))
        L.update(wbits=wbits, weight=wt.astype(np.int64))
        scale = float(np.abs(wt).sum(axis=(1, 2, 3)).max()) * ((1 << in_bits) - 1)
    else:
        L["tap"] = rng.integers(0, 9, size=(co, ci)).astype(np.uint8)
        if extreme:
            L["sign"] = np.full((co, ci), 0 if extreme == "max" else 1, dtype=np.uint8)
        else:
            L["sign"] = rng.integers(0, 2, size=(co, ci)).astype(np.uint8)
        scale = float(ci * ((1 << in_bits) - 1))
    # requant: acc in about [-scale/3, scale/3] -> (acc*m + b) >> shift over ~ -4..20 (clamps)
    shift = 12
    mag = max(1, int(round((1 << shift) * ((1 << abits) * 1.5) / max(scale / 3.0, 1.0))))
    m = rng.integers(mag // 2, mag + 1, size=co) * np.where(rng.random(co) < 0.25, -1, 1)
    m[m == 0] = 1
    b = rng.integers(-(1 << abits) * (1 << shift) // 2, (1 << abits) * (1 << shift), size=co)
    if extreme:
        b = np.full(co, (1 << (shift + abits)))
    m_bits = signed_bits(min(int(m.min()), -1), max(int(m.max()), 0))
    b_bits = signed_bits(min(int(b.min()), -1), max(int(b.max()), 0))
    L["requant"] = {"m": m.astype(np.int64), "b": b.astype(np.int64), "shift": shift,
                    "m_bits": m_bits, "b_bits": b_bits}
    need = required_widths(L, in_bits, abits)
    L["acc_bits"] = need["acc_bits"]
    L["requant"]["prod_bits"] = need["prod_bits"]
    return L


def random_head_layer(rng, ci, k, h, w, abits=4, wbits=8, bias_bits=32, extreme=None):
    lo, hi = -(1 << (wbits - 1)), (1 << (wbits - 1)) - 1
    if extreme == "max":
        wt, bias = np.full((k, ci), hi), np.full(k, (1 << (bias_bits - 1)) - 1)
    elif extreme == "min":
        wt, bias = np.full((k, ci), lo), np.full(k, -(1 << (bias_bits - 1)))
    else:
        wt = rng.integers(lo, hi + 1, size=(k, ci))
        bias = rng.integers(-5000, 5001, size=k)
    L = {"name": f"head_{ci}x{k}", "type": "gsum_fc", "in_channels": ci, "classes": k,
         "height": h, "width": w, "wbits": wbits, "bias_bits": bias_bits, "abits": abits,
         "weight": wt.astype(np.int64), "bias": bias.astype(np.int64)}
    L.update(required_widths(L, abits, abits))
    return L


def save_layer(layer, path):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(layer, f)
    return os.path.abspath(path)


def load_layer(path=None):
    with open(path or os.environ["TB_LAYER"], "rb") as f:
        return pickle.load(f)
