"""Random but valid bundles, for RTL tests and fault tests (no training needed).

``random_bundle(out_dir, config, seed=0, extreme=False)``

``config`` is a builtin name (``tiny``, or the name of a training config in train/configs, whose
network shape is used, e.g. ``fmnist``) or a dict such as::

    {"name": "tiny", "input": {"channels": 1, "height": 8, "width": 8, "bits": 8}, "abits": 4,
     "wbits": 8, "layers": [{"type": "conv_dense", "out_channels": 4},
                            {"type": "conv_qgp", "out_channels": 4, "pool": true},
                            {"type": "conv_qgp", "out_channels": 8},
                            {"type": "gsum_fc", "classes": 10}]}

Normal mode picks random weights / taps / signs and calibrates each layer's requant (m, b, shift)
on random input images so that activations spread over 0..2^abits-1. ``extreme`` drives every
accumulator to the limit the reader computes: ``True`` / ``"max"``: all signs +1, every weight at
+max, m and b at their positive extremes; ``"min"``: all signs -1, weights at -max, m at its
negative extreme (so acc hits its lower limit and acc*m+b its upper one). With an all-max input
image every layer then outputs 2^abits-1 everywhere, so each layer's accumulator reaches the
declared worst case exactly. Declared widths are exactly ``bundle.required_widths``.
"""

import copy

import numpy as np

from qgp.golden import model
from qgp.golden.bundle import required_widths, signed_bits, signed_range, sym_range, write_bundle
from qgp.golden.configs import CONFIG_DIR, load_config
from qgp.golden.errors import QGPError

# builtin shapes besides the training configs (whose names are synth shapes too, read from
# train/configs so that a network's widths are written in one place only)
CONFIGS = {
    "tiny": {
        "name": "tiny", "dataset": None,
        "input": {"channels": 1, "height": 8, "width": 8, "bits": 8}, "abits": 4, "wbits": 8,
        "layers": [{"type": "conv_dense", "out_channels": 4},
                   {"type": "conv_qgp", "out_channels": 4, "pool": True},
                   {"type": "conv_qgp", "out_channels": 8},
                   {"type": "gsum_fc", "classes": 10}],
    },
}


def is_train_config(cfg):
    """A training config (train/configs/*.json form: layers without "type", a "classes" count)
    rather than a bundle-shaped synth config."""
    return isinstance(cfg, dict) and ("train" in cfg or "base" in cfg or (
        "classes" in cfg and all(isinstance(L, dict) and "type" not in L for L in cfg.get("layers", []))))


def from_train_config(name):
    """The bundle-shaped synth config of training config ``name`` (a name in train/configs or a
    path to a config file, read by golden.configs.load_config, which also resolves a derived
    config's base): first layer conv_dense, the rest conv_qgp, then the gsum_fc head."""
    cfg = load_config(name)
    name = cfg["name"]
    layers = [{"type": "conv_dense" if i == 0 else "conv_qgp", "out_channels": int(L["out_channels"]),
               "pool": bool(L.get("pool", False))} for i, L in enumerate(cfg["layers"])]
    return {"name": f"{name}-synth", "dataset": cfg["dataset"], "input": dict(cfg["input"]),
            "abits": int(cfg["abits"]), "wbits": int(cfg["wbits"]),
            "layers": layers + [{"type": "gsum_fc", "classes": int(cfg["classes"])}]}


def builtin_names():
    return sorted(set(CONFIGS) | {p.stem for p in CONFIG_DIR.glob("*.json")})


M_BITS_EXTREME, B_BITS_EXTREME, BIAS_BITS = 16, 24, 32
CALIB_IMAGES = 16


def get_config(config):
    if isinstance(config, str):
        if config in CONFIGS:
            return copy.deepcopy(CONFIGS[config])
        if (CONFIG_DIR / f"{config}.json").is_file():
            return from_train_config(config)
        raise QGPError("synth", "config", f"unknown config {config!r}; builtin: {', '.join(builtin_names())}")
    return copy.deepcopy(config)


def random_bundle(out_dir, config, seed=0, extreme=False):
    """Write a valid random bundle to ``out_dir``; returns the loaded Bundle."""
    cfg = get_config(config)
    mode = {False: None, None: None, True: "max", "max": "max", "min": "min"}.get(extreme, "bad")
    if mode == "bad":
        raise QGPError("synth", "extreme", f"is {extreme!r}, expected False, True, 'max' or 'min'")
    rng = np.random.default_rng(seed)
    inp = cfg["input"]
    c, h, w, in_bits = inp["channels"], inp["height"], inp["width"], inp["bits"]
    abits = cfg.get("abits", 4)
    wbits = cfg.get("wbits", 8)
    amax = (1 << abits) - 1
    if mode:
        x = np.full((1, c, h, w), (1 << in_bits) - 1, dtype=np.int64)
    else:
        x = rng.integers(0, 1 << in_bits, size=(CALIB_IMAGES, c, h, w)).astype(np.int64)
    bits = in_bits
    layers_meta, arrays = [], {}
    specs = cfg["layers"]
    for li, spec in enumerate(specs):
        ltype = spec["type"]
        name = spec.get("name", "head" if ltype == "gsum_fc" else f"conv{li}")
        if ltype == "gsum_fc":
            if li != len(specs) - 1:
                raise QGPError("synth", f"layers[{li}].type", "gsum_fc must be the last layer")
            k = spec["classes"]
            lo, hi = signed_range(wbits)
            if mode == "max":
                wt, bias = np.full((k, c), hi), np.full(k, signed_range(BIAS_BITS)[1])
            elif mode == "min":
                wt, bias = np.full((k, c), lo), np.full(k, signed_range(BIAS_BITS)[0])
            else:
                wt = rng.integers(lo, hi + 1, size=(k, c))
                bias = rng.integers(-1024, 1025, size=k)
            L = {"name": name, "type": "gsum_fc", "in_channels": c, "classes": k, "height": h, "width": w,
                 "wbits": wbits, "bias_bits": BIAS_BITS, "weight": wt, "bias": bias}
            L.update(required_widths(L, bits, abits))
            arrays[f"{name}.weight"] = wt.astype(np.int8 if wbits <= 8 else np.int32)
            arrays[f"{name}.bias"] = bias.astype(np.int64)
            layers_meta.append(dict(L, weight=f"{name}.weight", bias=f"{name}.bias"))
            break
        co = spec["out_channels"]
        pool = bool(spec.get("pool", False))
        L = {"name": name, "type": ltype, "in_channels": c, "out_channels": co,
             "height": h, "width": w, "pool": pool}
        if ltype == "conv_dense":
            lo, hi = sym_range(wbits)
            if mode:
                wt = np.full((co, c, 3, 3), hi if mode == "max" else lo)
            else:
                wt = rng.integers(lo, hi + 1, size=(co, c, 3, 3))
            L.update(wbits=wbits, weight=wt)
        elif ltype == "conv_qgp":
            tap = rng.integers(0, 9, size=(co, c)).astype(np.uint8)
            if mode:
                sign = np.full((co, c), 0 if mode == "max" else 1, dtype=np.uint8)
            else:
                sign = rng.integers(0, 2, size=(co, c)).astype(np.uint8)
            L.update(tap=tap, sign=sign)
        else:
            raise QGPError("synth", f"layers[{li}].type", f"unknown layer type {ltype!r}")
        acc = model.layer_acc(L, x)
        if mode:
            mlo, mhi = signed_range(M_BITS_EXTREME)
            m = np.full(co, mhi if mode == "max" else mlo, dtype=np.int64)
            b = np.full(co, signed_range(B_BITS_EXTREME)[1], dtype=np.int64)
            shift, m_bits, b_bits = 8, M_BITS_EXTREME, B_BITS_EXTREME
        else:
            m, b, shift = _calibrate(acc, amax, rng)
            m_bits = signed_bits(min(m.min(), -1), m.max())
            b_bits = signed_bits(min(b.min(), -1), max(b.max(), 0))
        L["requant"] = {"m": m, "b": b, "shift": int(shift), "m_bits": int(m_bits), "b_bits": int(b_bits)}
        need = required_widths(L, bits, abits)
        L["acc_bits"] = need["acc_bits"]
        L["requant"]["prod_bits"] = need["prod_bits"]
        x = model.run_layer(L, x, abits)
        if pool and (h % 2 or w % 2):
            raise QGPError("synth", f"layers[{li}].pool", f"2x2 pool on odd size {h}x{w}")
        lm = {k2: v for k2, v in L.items() if k2 not in ("weight", "tap", "sign", "requant")}
        if ltype == "conv_dense":
            arrays[f"{name}.weight"] = wt.astype(np.int8 if wbits <= 8 else np.int32)
            lm["weight"] = f"{name}.weight"
        else:
            arrays[f"{name}.tap"], arrays[f"{name}.sign"] = tap, sign
            lm["tap"], lm["sign"] = f"{name}.tap", f"{name}.sign"
        arrays[f"{name}.m"] = m.astype(np.int64)
        arrays[f"{name}.b"] = b.astype(np.int64)
        lm["requant"] = dict(L["requant"], m=f"{name}.m", b=f"{name}.b")
        order = ["name", "type", "in_channels", "out_channels", "height", "width", "pool", "wbits",
                 "acc_bits", "weight", "tap", "sign", "requant"]
        layers_meta.append({k2: lm[k2] for k2 in order if k2 in lm})
        c = co
        if pool:
            h, w = h // 2, w // 2
        bits = abits
    else:
        raise QGPError("synth", "layers", "the last layer must be a gsum_fc head")
    meta = {
        "name": cfg.get("name", "synth"), "dataset": cfg.get("dataset"),
        "input": dict(inp), "abits": abits, "layers": layers_meta,
        "training": {"synth": {"seed": seed, "extreme": mode or False,
                               "note": "random weights from golden.synth, not a trained network"}},
    }
    return write_bundle(out_dir, meta, arrays)


def _calibrate(acc, amax, rng):
    """Per-channel m, b and one shift so that (acc*m+b)>>shift spreads mean +-3 std over 0..amax.
    About one channel in eight gets a negative m (reversed response) to exercise signed m."""
    mu = acc.mean(axis=(0, 2, 3))
    sd = np.maximum(acc.std(axis=(0, 2, 3)), 1.0)
    k = (amax + 1) / (6.0 * sd)  # output steps per accumulator unit
    shift = int(max(0, 10 - np.floor(np.log2(k.min()))))
    neg = rng.random(len(mu)) < 0.125
    sgn = np.where(neg, -1.0, 1.0)
    m = np.round(sgn * k * 2.0 ** shift).astype(np.int64)
    m[m == 0] = 1
    b = np.round(((amax + 1) / 2.0 - sgn * k * mu) * 2.0 ** shift).astype(np.int64)
    return m, b, shift
