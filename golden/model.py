"""The fast evaluator of the bit-exact integer semantics of a QGP network, vectorized over a batch.

The semantics are owned by golden/reference.py (short int64 loops that read like the contract);
this module computes the same numbers fast and is proven equal to it layer by layer on real,
random and extreme inputs (tests/golden/test_reference.py).

All activations are int64 [N, C, H, W]. Both convolutions are one matrix product (GEMM) of a
weight matrix [CO, 9*CI] (for QGP the one-hot signed tap selection, ``qgp_matrix``) with the 9
shifted, zero-padded input planes ("im2col"). The GEMM runs in float32 or float64 only where that
is provably exact (every product and partial sum is an integer below 2^24 resp. 2^53 in magnitude,
so no summation order can round), with several images packed into one float where the bound
leaves room (see ``_plan``), and in int64 otherwise. Requant, pool and head are int64.
"""

from dataclasses import dataclass

import numpy as np

# tap t in 0..8 -> (dy, dx) = (t // 3 - 1, t % 3 - 1), row-major
TAPS = [(t // 3 - 1, t % 3 - 1) for t in range(9)]


@dataclass
class Result:
    activations: list  # [input, out_layer0, out_layer1, ...], each int64 [N, C, H, W]
    logits: np.ndarray  # int64 [N, K]
    pred: np.ndarray  # int64 [N]


def shifted_planes(x):
    """[N, C, H, W] -> [9, C, N, H, W]: plane t holds x[c, y+dy(t), x+dx(t)], 0 outside the image.
    (Reference form of the gather; the convolutions use the faster ``_padded_cols``.)"""
    n, c, h, w = x.shape
    xp = np.zeros((c, n, h + 2, w + 2), dtype=x.dtype)
    xp[:, :, 1:-1, 1:-1] = x.transpose(1, 0, 2, 3)
    out = np.empty((9, c, n, h, w), dtype=x.dtype)
    for t, (dy, dx) in enumerate(TAPS):
        out[t] = xp[:, :, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
    return out


def _padded_cols(x, dt):
    """[N, C, H, W] -> cols [9, C, M] in dtype ``dt``, M = N*(H+2)*(W+2).

    Each image is zero-padded to (H+2)x(W+2) and laid out flat per channel; the tap (dy, dx)
    plane is then one contiguous slice shifted by dy*(W+2)+dx. Columns at padded border
    positions are computed too and discarded by ``_unpad_into`` (their values read a neighbouring
    row or image and are never used); interior columns read only this image and its zero border.
    """
    n, c, h, w = x.shape
    wp = w + 2
    m = n * (h + 2) * wp
    margin = wp + 1
    flat = np.zeros((c, m + 2 * margin), dtype=dt)
    xp = flat[:, margin:margin + m].reshape(c, n, h + 2, wp)
    xp[:, :, 1:-1, 1:-1] = x.transpose(1, 0, 2, 3)
    cols = np.empty((9, c, m), dtype=dt)
    for t, (dy, dx) in enumerate(TAPS):
        off = margin + dy * wp + dx
        cols[t] = flat[:, off:off + m]
    return cols


def _unpad_into(out, r, h, w):
    """r [CO, n'*(H+2)*(W+2)] on the padded grid -> out [n, CO, H, W] (interior, first n images)."""
    co = r.shape[0]
    n = out.shape[0]
    out[...] = r.reshape(co, -1, h + 2, w + 2)[:, :n, 1:-1, 1:-1].transpose(1, 0, 2, 3)


_F32_LIMIT, _F64_LIMIT = 2 ** 24, 2 ** 53  # integers below these are exact in float32 / float64
_F64_COST = 2.5  # a float64 GEMM costs about this many float32 GEMMs of the same shape


def _lanes(bound, limit, base):
    """How many base-``base`` digits, each summing terms bounded by ``bound``, one float holds
    exactly: the largest L with bound * (base^L - 1) / (base - 1) < limit (0 if none)."""
    if bound >= limit:
        return 0
    lanes = 1
    while bound * ((base ** (lanes + 1) - 1) // (base - 1)) < limit:
        lanes += 1
    return lanes


def _plan(a, x):
    """Choose how to run ``a @ cols`` exactly: (dtype, lanes, digit bits).

    Let bound = max_o sum_k |a[o,k]| * max|x|. Every product and every partial sum of the GEMM
    is an integer of magnitude <= bound, so float32 (float64) is exact when bound < 2^24 (2^53).
    With x >= 0 (activations), L images are packed into one float ("lanes"):
    P = sum_j x_j * B^j with B = 2^kbits > bound. The GEMM yields sum_j acc_j * B^j; every
    partial sum is bounded by bound * (B^L - 1) / (B - 1) < limit, so it is still exact, and
    acc_j - lo[o] (in 0..bound < B) is base-B digit j of the result minus sum_j lo[o] B^j.
    """
    xmax = int(x.max(initial=0))
    xmin = int(x.min(initial=0))
    bound = int(np.abs(a).sum(axis=1).max(initial=0)) * max(xmax, -xmin)
    if bound == 0:
        return np.float32, 1, 0
    kbits = bound.bit_length()
    n = x.shape[0]
    if xmin < 0 or n < 2:
        l32, l64 = int(bound < _F32_LIMIT), int(bound < _F64_LIMIT)
    else:
        l32 = min(_lanes(bound, _F32_LIMIT, 1 << kbits), n)
        l64 = min(_lanes(bound, _F64_LIMIT, 1 << kbits), n)
    if l32 == 0 and l64 == 0:
        return np.int64, 1, kbits
    if l32 >= l64 / _F64_COST:
        return np.float32, l32, kbits
    return np.float64, l64, kbits


def _conv_gemm(a, x, order):
    """acc[n, o, y, x] = sum_k a[o, k] * cols[k, (n, y, x)], exact (see _plan); ``order`` is
    'ti' when k = t*CI + i (QGP) and 'it' when k = i*9 + t (dense)."""
    n, ci, h, w = x.shape
    a = np.asarray(a, dtype=np.int64)
    dt, lanes, kbits = _plan(a, x)
    out = np.empty((n, a.shape[0], h, w), dtype=np.int64)
    per = -(-n // lanes)  # images per lane
    if lanes > 1:
        xin = np.zeros((per, ci, h, w), dtype=dt)
        for j in range(lanes):
            part = x[j * per:(j + 1) * per]
            xin[:len(part)] += part.astype(dt) * dt(1 << (kbits * j))
    else:
        xin = x
    cols = _padded_cols(xin, dt)  # [9, CI, M]
    if order == "it":
        cols = cols.transpose(1, 0, 2)
    r = a.astype(dt) @ cols.reshape(9 * ci, -1)
    if lanes == 1:
        _unpad_into(out, r, h, w)
        return out
    xmax = int(x.max(initial=0))
    lo = -np.maximum(-a, 0).sum(axis=1) * xmax  # acc[o] >= lo[o] because x >= 0
    v = r.astype(np.int64)
    v -= (lo * sum(1 << (kbits * j) for j in range(lanes)))[:, None]
    mask = (1 << kbits) - 1
    for j in range(lanes):
        m = min(per, n - j * per)
        if m <= 0:
            break
        digit = (v >> (kbits * j)) & mask
        digit += lo[:, None]
        _unpad_into(out[j * per:j * per + m], digit, h, w)
    return out


def conv_dense_acc(x, w):
    """Dense 3x3 conv, stride 1, zero padding 1: x int [N, CI, H, W], w int [CO, CI, 3, 3]."""
    x = np.asarray(x)
    w = np.asarray(w, dtype=np.int64)
    return _conv_gemm(w.reshape(w.shape[0], -1), x, "it")  # k = i*9 + t, t = ky*3 + kx


def qgp_matrix(tap, sign):
    """One-hot signed selection matrix [CO, 9*CI]: entry (o, t*CI + i) = (tap==t) * (+1 / -1)."""
    tap = np.asarray(tap, dtype=np.int64)
    sign = np.asarray(sign, dtype=np.int64)
    co, ci = tap.shape
    s = np.zeros((co, 9, ci), dtype=np.int64)
    oo, ii = np.meshgrid(np.arange(co), np.arange(ci), indexing="ij")
    s[oo, tap, ii] = 1 - 2 * sign
    return s.reshape(co, 9 * ci)


def conv_qgp_acc(x, tap, sign):
    """QGP conv: acc[o] = sum_i (-1)^sign[o,i] * x[i, y+dy(tap[o,i]), x+dx(tap[o,i])]."""
    return _conv_gemm(qgp_matrix(tap, sign), np.asarray(x), "ti")  # k = t*CI + i


def requant_unclamped(acc, m, b, shift):
    """(acc * m[o] + b[o]) >> shift, arithmetic (floor) shift, before requant's clamp; acc
    [N, CO, H, W] (channel o along axis 1)."""
    acc = np.asarray(acc, dtype=np.int64)
    m = np.asarray(m, dtype=np.int64).reshape(1, -1, 1, 1)
    b = np.asarray(b, dtype=np.int64).reshape(1, -1, 1, 1)
    y = acc * m
    y += b
    np.right_shift(y, int(shift), out=y)
    return y


def requant(acc, m, b, shift, abits):
    """y = clamp((acc * m[o] + b[o]) >> shift, 0, 2^abits - 1), arithmetic (floor) shift."""
    y = requant_unclamped(acc, m, b, shift)
    np.clip(y, 0, (1 << int(abits)) - 1, out=y)
    return y


def maxpool2(x):
    """2x2 max pool, stride 2; H and W must be even."""
    n, c, h, w = x.shape
    if h % 2 or w % 2:
        raise ValueError(f"maxpool2 needs even H and W, got {h}x{w}")
    return np.maximum(np.maximum(x[:, :, 0::2, 0::2], x[:, :, 0::2, 1::2]),
                      np.maximum(x[:, :, 1::2, 0::2], x[:, :, 1::2, 1::2]))


def gsum_fc(x, w, bias):
    """Head: g[c] = sum over positions of x[c]; logit[k] = sum_c w[k, c] * g[c] + bias[k]."""
    g = np.asarray(x, dtype=np.int64).sum(axis=(2, 3))
    w = np.asarray(w, dtype=np.int64)
    return g @ w.T + np.asarray(bias, dtype=np.int64)[None, :]


def predict(logits):
    """argmax over classes, ties -> lowest index."""
    return np.argmax(np.asarray(logits), axis=1).astype(np.int64)


def layer_acc(layer, x):
    """The accumulator of a conv layer (before requant)."""
    if layer["type"] == "conv_dense":
        return conv_dense_acc(x, layer["weight"])
    if layer["type"] == "conv_qgp":
        return conv_qgp_acc(x, layer["tap"], layer["sign"])
    raise ValueError(f"layer_acc: not a conv layer: {layer['type']!r}")


def run_layer(layer, x, abits=None):
    """One layer of ``Bundle.layers``: conv + requant + optional pool -> int64 [N, CO, H', W'];
    for the ``gsum_fc`` head, the logits int64 [N, K]. ``abits`` defaults to ``layer["abits"]``
    (set by load_bundle from model.json)."""
    if layer["type"] == "gsum_fc":
        return gsum_fc(x, layer["weight"], layer["bias"])
    if abits is None:
        abits = layer["abits"]
    rq = layer["requant"]
    y = requant(layer_acc(layer, x), rq["m"], rq["b"], rq["shift"], abits)
    return maxpool2(y) if layer["pool"] else y


def run(bundle, images, chunk=32, progress=None, keep_activations=True):
    """Run the whole network on ``images`` uint8 [N, C, H, W] -> Result.

    Processes ``chunk`` images at a time: small chunks keep every temporary small enough for the
    allocator to reuse (fresh large allocations page-fault, which cost more than the GEMMs here).
    ``progress`` is an optional callable(number of images just finished). With ``keep_activations=False`` only the logits are
    kept and ``Result.activations`` is an empty list (for evaluating the full test set)."""
    images = np.asarray(images)
    inp = bundle.meta["input"]
    want = (inp["channels"], inp["height"], inp["width"])
    if images.ndim != 4 or tuple(images.shape[1:]) != want:
        raise ValueError(f"images shape {images.shape}, bundle expects [N, {want[0]}, {want[1]}, {want[2]}]")
    n = images.shape[0]
    acts, logits = [], []
    for s in range(0, max(n, 1), chunk):
        x = images[s:s + chunk].astype(np.int64)
        outs = [x]
        for layer in bundle.layers:
            x = run_layer(layer, x)
            if layer["type"] != "gsum_fc":
                outs.append(x)
        logits.append(x)
        if keep_activations:
            acts.append(outs)
        if progress is not None and n:
            progress(len(outs[0]))
    activations = [np.concatenate(a) for a in zip(*acts)] if keep_activations else []
    lg = np.concatenate(logits)
    return Result(activations, lg, predict(lg))
