"""The QGP bundle: a directory with ``model.json`` and one ``.npz`` of integer arrays.

golden/ owns this format. ``load_bundle`` validates everything (format, version, hashes, shapes,
ranges, the layer chain and every declared bit width against the worst case recomputed from the
actual arrays) and raises :class:`QGPError` naming the file and the field.

The worst-case width formulas live here and only here (:func:`worst_case`,
:func:`required_widths`); the exporter in train/ calls them to declare widths.
"""

import copy
import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile

import numpy as np

from qgp.golden.errors import QGPError

FORMAT = "qgp-bundle"
VERSION = 1
MODEL_JSON = "model.json"
ARRAYS_NPZ = "arrays.npz"
LAYER_TYPES = ("conv_dense", "conv_qgp", "gsum_fc")
MAX_BITS = 62  # golden computes in int64; every declared width must leave headroom
TAP_BITS, SIGN_BITS = 4, 1  # memory per (o, i) of a QGP layer: a 9:1 mux select and a sign


class Bundle:
    """A validated bundle: ``meta`` (parsed model.json), ``layers`` (arrays resolved), ``path``."""

    def __init__(self, path, meta, layers, arrays):
        self.path = path
        self.meta = meta
        self.layers = layers
        self.arrays = arrays

    @property
    def abits(self):
        return self.meta["abits"]

    @property
    def input(self):
        return self.meta["input"]

    def __repr__(self):
        return f"Bundle({self.path!r}, {len(self.layers)} layers)"


# ---------------------------------------------------------------------------- widths (one place)

def signed_bits(lo, hi):
    """Smallest two's-complement width holding every integer in [lo, hi]."""
    lo, hi = int(lo), int(hi)
    n = 1
    while not (-(1 << (n - 1)) <= lo and hi <= (1 << (n - 1)) - 1):
        n += 1
    return n


def unsigned_bits(hi):
    """Smallest unsigned width holding every integer in [0, hi] (at least 1)."""
    return max(1, int(hi).bit_length())


def signed_range(bits):
    """Two's-complement range of a signed ``bits``-wide integer: (lo, hi)."""
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def sym_range(bits):
    """Symmetric range used for conv_dense weights: [-(2^(bits-1)-1), 2^(bits-1)-1]."""
    return -((1 << (bits - 1)) - 1), (1 << (bits - 1)) - 1


def acc_ranges(layer, in_bits):
    """Per-output-channel accumulator range (lo[o], hi[o]) as lists of Python ints.

    Inputs are unsigned ``in_bits``-bit. Dense: sum of positive / negative weights times the
    largest input. QGP: number of +1 / -1 signs times the largest input. Both bounds are reached
    at an interior pixel (every tap in the image) by an input that is max where the factor is
    positive and 0 elsewhere.
    """
    xmax = (1 << in_bits) - 1
    if layer["type"] == "conv_dense":
        w = np.asarray(layer["weight"], dtype=np.int64).reshape(len(layer["weight"]), -1)
        pos = np.where(w > 0, w, 0).sum(axis=1)
        neg = np.where(w < 0, w, 0).sum(axis=1)
    elif layer["type"] == "conv_qgp":
        s = np.asarray(layer["sign"], dtype=np.int64)
        pos = (s == 0).sum(axis=1)
        neg = -(s != 0).sum(axis=1)
    else:
        raise ValueError(f"acc_ranges: not a conv layer: {layer['type']}")
    return [int(v) * xmax for v in neg], [int(v) * xmax for v in pos]


def worst_case(layer, in_bits, abits):
    """Exact worst-case integer ranges of a layer, computed from its actual arrays.

    conv layers: ``{"acc": (lo, hi), "prod": (lo, hi)}`` where prod = acc*m[o] + b[o].
    gsum_fc: ``{"gsum": (0, hi), "logit": (lo, hi)}``.
    ``layer`` holds arrays (np.ndarray), as in ``Bundle.layers``; ``in_bits`` is the width of
    the layer's unsigned input (input bits for the first layer, ``abits`` after).
    """
    if layer["type"] in ("conv_dense", "conv_qgp"):
        lo, hi = acc_ranges(layer, in_bits)
        m = [int(v) for v in np.asarray(layer["requant"]["m"]).reshape(-1)]
        b = [int(v) for v in np.asarray(layer["requant"]["b"]).reshape(-1)]
        plo, phi = [], []
        for o in range(len(lo)):
            c = (lo[o] * m[o], hi[o] * m[o])
            plo.append(min(c) + b[o])
            phi.append(max(c) + b[o])
        return {"acc": (min(lo), max(hi)), "prod": (min(plo), max(phi))}
    if layer["type"] == "gsum_fc":
        g = int(layer["height"]) * int(layer["width"]) * ((1 << abits) - 1)
        w = np.asarray(layer["weight"], dtype=np.int64)
        bias = [int(v) for v in np.asarray(layer["bias"]).reshape(-1)]
        pos = np.where(w > 0, w, 0).sum(axis=1)
        neg = np.where(w < 0, w, 0).sum(axis=1)
        llo = [int(neg[k]) * g + bias[k] for k in range(len(bias))]
        lhi = [int(pos[k]) * g + bias[k] for k in range(len(bias))]
        return {"gsum": (0, g), "logit": (min(llo), max(lhi))}
    raise ValueError(f"worst_case: unknown layer type {layer['type']!r}")


def required_widths(layer, in_bits, abits):
    """Smallest widths a layer may declare: conv ``{"acc_bits", "prod_bits"}`` (signed),
    gsum_fc ``{"gsum_bits"}`` (unsigned) and ``{"logit_bits"}`` (signed)."""
    wc = worst_case(layer, in_bits, abits)
    if "acc" in wc:
        return {"acc_bits": signed_bits(*wc["acc"]), "prod_bits": signed_bits(*wc["prod"])}
    return {"gsum_bits": unsigned_bits(wc["gsum"][1]), "logit_bits": signed_bits(*wc["logit"])}


def weight_memory_bits(layer):
    """(bits as stored, bits if the layer had 8-bit dense 3x3 weights) for a conv layer."""
    co, ci = int(layer["out_channels"]), int(layer["in_channels"])
    dense8 = co * ci * 9 * 8
    if layer["type"] == "conv_qgp":
        return co * ci * (TAP_BITS + SIGN_BITS), dense8
    if layer["type"] == "conv_dense":
        return co * ci * 9 * int(layer["wbits"]), dense8
    raise ValueError("weight_memory_bits: conv layers only")


# ---------------------------------------------------------------------------- writing

def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for blk in iter(lambda: f.read(1 << 20), b""):
            h.update(blk)
    return h.hexdigest()


def write_bundle(out_dir, meta, arrays):
    """Write a bundle atomically: temp dir next to ``out_dir``, validate it, then rename.

    ``meta`` is the model.json content without ``format``/``version``/``arrays`` (they are set
    here: the npz is ``arrays.npz`` and its sha256 is recorded). Raises QGPError if the result
    does not validate; ``out_dir`` is then left untouched. Returns the loaded Bundle.
    """
    out_dir = os.path.abspath(os.fspath(out_dir))
    parent = os.path.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(out_dir)}.tmp-", dir=parent)
    try:
        os.chmod(tmp, 0o755)  # mkdtemp makes 0700; a bundle is an ordinary directory
        npz = os.path.join(tmp, ARRAYS_NPZ)
        np.savez_compressed(npz, **{k: np.asarray(v) for k, v in arrays.items()})
        meta = copy.deepcopy(meta)
        body = {"format": FORMAT, "version": VERSION}
        body.update({k: v for k, v in meta.items() if k not in ("format", "version", "arrays")})
        body["arrays"] = {"file": ARRAYS_NPZ, "sha256": sha256_file(npz)}
        with open(os.path.join(tmp, MODEL_JSON), "w") as f:
            json.dump(body, f, indent=1, default=_json_default)
            f.write("\n")
        load_bundle(tmp)  # validate before it becomes visible
        old = None
        if os.path.lexists(out_dir):
            old = tempfile.mkdtemp(prefix=f".{os.path.basename(out_dir)}.old-", dir=parent)
            os.rename(out_dir, os.path.join(old, "b"))
        os.rename(tmp, out_dir)
        tmp = None
        if old:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return load_bundle(out_dir)


def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


# ---------------------------------------------------------------------------- loading / validation

def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


class _Checker:
    def __init__(self, path):
        self.path = path
        self.json_path = os.path.join(path, MODEL_JSON)
        self.npz_path = None

    def err(self, field, msg):
        return QGPError(self.json_path, field, msg)

    def get(self, obj, key, field, kind=None):
        if not isinstance(obj, dict) or key not in obj:
            raise self.err(field, "missing")
        v = obj[key]
        if kind == "int" and not _is_int(v):
            raise self.err(field, f"is {v!r}, expected an integer")
        if kind == "str" and not isinstance(v, str):
            raise self.err(field, f"is {v!r}, expected a string")
        if kind == "bool" and not isinstance(v, bool):
            raise self.err(field, f"is {v!r}, expected true or false")
        if kind == "dict" and not isinstance(v, dict):
            raise self.err(field, f"is {type(v).__name__}, expected an object")
        return v

    def get_int(self, obj, key, field, lo, hi=None):
        v = self.get(obj, key, field, "int")
        if v < lo or (hi is not None and v > hi):
            rng = f"{lo}..{hi}" if hi is not None else f">= {lo}"
            raise self.err(field, f"is {v}, expected {rng}")
        return int(v)


def load_bundle(path):
    """Load and validate a bundle directory; raises QGPError naming the file and the field."""
    path = os.fspath(path)
    ck = _Checker(path)
    if not os.path.isdir(path):
        raise QGPError(path, "bundle", "no such bundle directory (expected a directory holding model.json)")
    if not os.path.isfile(ck.json_path):
        raise QGPError(ck.json_path, "file", "missing; a bundle directory needs model.json "
                                            "(write one with `make export`)")
    try:
        with open(ck.json_path, "rb") as f:
            text = f.read().decode("utf-8")
        meta = json.loads(text)
    except UnicodeDecodeError as e:
        raise ck.err("json", f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise ck.err("json", f"invalid or truncated JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    if not isinstance(meta, dict):
        raise ck.err("json", f"top level is {type(meta).__name__}, expected an object")

    fmt = ck.get(meta, "format", "format")
    if fmt != FORMAT:
        raise ck.err("format", f"is {fmt!r}, expected {FORMAT!r}")
    ver = ck.get(meta, "version", "version")
    if not _is_int(ver) or ver != VERSION:
        raise ck.err("version", f"unsupported version {ver!r}; this reader knows version {VERSION}")

    inp = ck.get(meta, "input", "input", "dict")
    in_c = ck.get_int(inp, "channels", "input.channels", 1)
    in_h = ck.get_int(inp, "height", "input.height", 1)
    in_w = ck.get_int(inp, "width", "input.width", 1)
    in_bits = ck.get_int(inp, "bits", "input.bits", 1, 16)
    abits = ck.get_int(meta, "abits", "abits", 1, 16)

    # ---- arrays file: exists, parses, hash matches
    arr_meta = ck.get(meta, "arrays", "arrays", "dict")
    fname = ck.get(arr_meta, "file", "arrays.file", "str")
    if not fname or os.path.basename(fname) != fname or fname in (".", ".."):
        raise ck.err("arrays.file", f"is {fname!r}, expected a plain file name inside the bundle")
    want_sha = ck.get(arr_meta, "sha256", "arrays.sha256", "str")
    if len(want_sha) != 64 or any(c not in "0123456789abcdef" for c in want_sha.lower()):
        raise ck.err("arrays.sha256", f"is {want_sha!r}, expected 64 hex digits")
    npz_path = os.path.join(path, fname)
    if not os.path.isfile(npz_path):
        raise QGPError(npz_path, "file", f"missing; model.json arrays.file names {fname!r}")
    with open(npz_path, "rb") as f:
        raw = f.read()
    arrays = _read_npz(npz_path, raw)
    got_sha = hashlib.sha256(raw).hexdigest()
    if got_sha != want_sha.lower():
        raise QGPError(npz_path, "sha256", f"mismatch: file hashes to {got_sha}, model.json arrays.sha256 "
                                           f"declares {want_sha} (file changed or corrupted)")

    # ---- layers
    layers_meta = ck.get(meta, "layers", "layers")
    if not isinstance(layers_meta, list) or not layers_meta:
        raise ck.err("layers", "expected a non-empty list of layers")
    layers = []
    c, h, w, bits = in_c, in_h, in_w, in_bits
    prev = "the input"
    for li, lm in enumerate(layers_meta):
        fld = f"layers[{li}]"
        if not isinstance(lm, dict):
            raise ck.err(fld, f"is {type(lm).__name__}, expected an object")
        ltype = ck.get(lm, "type", fld + ".type", "str")
        if ltype not in LAYER_TYPES:
            raise ck.err(fld + ".type", f"is {ltype!r}, expected one of {', '.join(LAYER_TYPES)}")
        last = li == len(layers_meta) - 1
        if ltype == "gsum_fc" and not last:
            raise ck.err(fld + ".type", "gsum_fc must be the last layer")
        if last and ltype != "gsum_fc":
            raise ck.err(fld + ".type", f"last layer is {ltype!r}, expected the 'gsum_fc' head")
        ck.get(lm, "name", fld + ".name", "str")
        lci = ck.get_int(lm, "in_channels", fld + ".in_channels", 1)
        if lci != c:
            raise ck.err(fld + ".in_channels", f"is {lci} but {prev} provides {c} channels; the chain does not connect")
        lh = ck.get_int(lm, "height", fld + ".height", 1)
        lw = ck.get_int(lm, "width", fld + ".width", 1)
        if (lh, lw) != (h, w):
            raise ck.err(fld + (".height" if lh != h else ".width"),
                         f"is {lh}x{lw} (height x width) but {prev} provides {h}x{w}; "
                         "the chain does not connect")
        L = copy.deepcopy(lm)
        L["abits"] = abits
        L["in_bits"] = bits
        if ltype == "gsum_fc":
            k = ck.get_int(lm, "classes", fld + ".classes", 1)
            wb = ck.get_int(lm, "wbits", fld + ".wbits", 2, 16)
            bb = ck.get_int(lm, "bias_bits", fld + ".bias_bits", 1, MAX_BITS)
            L["weight"] = _array(ck, arrays, npz_path, lm, "weight", fld, (k, c), signed_range(wb), "wbits")
            L["bias"] = _array(ck, arrays, npz_path, lm, "bias", fld, (k,), signed_range(bb), "bias_bits")
            need = required_widths(L, bits, abits)
            for key in ("gsum_bits", "logit_bits"):
                _check_width(ck, lm, key, fld, need[key], worst_case(L, bits, abits))
        else:
            co = ck.get_int(lm, "out_channels", fld + ".out_channels", 1)
            pool = ck.get(lm, "pool", fld + ".pool", "bool")
            if pool and (h % 2 or w % 2):
                raise ck.err(fld + ".pool", f"2x2 max pool needs even height and width, layer output is {h}x{w}")
            if ltype == "conv_dense":
                wb = ck.get_int(lm, "wbits", fld + ".wbits", 2, 16)
                L["weight"] = _array(ck, arrays, npz_path, lm, "weight", fld, (co, c, 3, 3), sym_range(wb), "wbits")
            else:
                L["tap"] = _array(ck, arrays, npz_path, lm, "tap", fld, (co, c), (0, 8), None)
                L["sign"] = _array(ck, arrays, npz_path, lm, "sign", fld, (co, c), (0, 1), None)
            rq = ck.get(lm, "requant", fld + ".requant", "dict")
            rf = fld + ".requant"
            ck.get_int(rq, "shift", rf + ".shift", 0, MAX_BITS)
            mb = ck.get_int(rq, "m_bits", rf + ".m_bits", 1, MAX_BITS)
            bb = ck.get_int(rq, "b_bits", rf + ".b_bits", 1, MAX_BITS)
            L["requant"]["m"] = _array(ck, arrays, npz_path, rq, "m", rf, (co,), signed_range(mb), "m_bits")
            L["requant"]["b"] = _array(ck, arrays, npz_path, rq, "b", rf, (co,), signed_range(bb), "b_bits")
            wc = worst_case(L, bits, abits)
            need = required_widths(L, bits, abits)
            _check_width(ck, lm, "acc_bits", fld, need["acc_bits"], wc)
            _check_width(ck, rq, "prod_bits", rf, need["prod_bits"], wc)
            c = co
            if pool:
                h, w = h // 2, w // 2
            bits = abits
        prev = f"layers[{li}] ({lm['name']})"
        layers.append(L)
    return Bundle(path, meta, layers, arrays)


def _check_width(ck, obj, key, fld, need, wc):
    declared = ck.get_int(obj, key, f"{fld}.{key}", 1)
    if declared > MAX_BITS:
        raise ck.err(f"{fld}.{key}", f"{declared} bits > {MAX_BITS}; golden computes in int64")
    if declared < need:
        short = key.replace("_bits", "")
        lo, hi = wc[short]
        kind = "unsigned" if key == "gsum_bits" else "signed"
        raise ck.err(f"{fld}.{key}", f"declared {declared} bits but the worst case from the arrays is "
                                     f"[{lo}, {hi}], which needs {need} {kind} bits (overflow)")


def _read_npz(npz_path, raw):
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
        names = zf.namelist()
        out = {}
        for member in names:
            if not member.endswith(".npy"):
                continue
            with zf.open(member) as f:
                out[member[:-4]] = np.lib.format.read_array(io.BytesIO(f.read()), allow_pickle=False)
        return out
    except Exception as e:  # zipfile/np raise many types on corrupt input
        raise QGPError(npz_path, "npz", f"truncated or corrupt .npz ({type(e).__name__}: {e})") from None


def _array(ck, arrays, npz_path, obj, key, fld, shape, rng, bits_key):
    name = ck.get(obj, key, f"{fld}.{key}", "str")
    if name not in arrays:
        raise QGPError(npz_path, name, f"missing array named by {fld}.{key}")
    a = arrays[name]
    if a.dtype.kind not in "iub":
        raise QGPError(npz_path, name, f"dtype {a.dtype}, expected an integer array ({fld}.{key})")
    if tuple(a.shape) != tuple(shape):
        raise QGPError(npz_path, name, f"shape {list(a.shape)} does not match the declared layer "
                                       f"({fld}.{key}): expected {list(shape)}")
    a = a.astype(np.int64)
    lo, hi = rng
    if a.size and (a.min() < lo or a.max() > hi):
        bad = np.argwhere((a < lo) | (a > hi))[0]
        what = f"declared by {fld}.{bits_key}" if bits_key else "allowed"
        raise QGPError(npz_path, name, f"value {int(a[tuple(bad)])} at index {tuple(int(i) for i in bad)} "
                                       f"outside [{lo}, {hi}] {what}")
    return a
