"""The bit-exact integer semantics of a QGP network (../shared/DESIGN.md), vectorized over a batch.

All activations are int64 [N, C, H, W]. The convolutions run as one matrix product over the
9 shifted (zero-padded) input planes ("im2col"). The product is done in float32 or float64 when
that is provably exact (every product and every partial sum is an integer whose magnitude is at
most sum_j |a_j * x_j| < 2^24 resp. 2^53, so no rounding can happen in any summation order) and
in int64 otherwise.
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
    positions are computed too and discarded by ``_unpad`` (their values read a neighbouring
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


def _unpad(r, n, h, w):
    """[CO, N*(H+2)*(W+2)] -> int64 [N, CO, H, W] (interior positions only)."""
    co = r.shape[0]
    r = r.reshape(co, n, h + 2, w + 2)[:, :, 1:-1, 1:-1]
    out = np.empty((n, co, h, w), dtype=np.int64)
    out[...] = r.transpose(1, 0, 2, 3)
    return out


def _dtype_for(bound):
    """Narrowest dtype in which a sum of integer products bounded by ``bound`` is exact."""
    if bound < 2 ** 24:
        return np.float32
    if bound < 2 ** 53:
        return np.float64
    return np.int64


def _bound(a, x):
    """max over outputs of sum_k |a[o,k]| * max|x|: bounds every product and partial sum."""
    xmax = int(np.abs(x).max(initial=0))
    return int(np.abs(a).sum(axis=1).max(initial=0)) * xmax


def _conv_gemm(a, x, order):
    """acc[n, o, y, x] = sum_k a[o, k] * cols[k, (n, y, x)], exact; ``order`` is 'ti' when
    k = t*CI + i (QGP) and 'it' when k = i*9 + t (dense)."""
    n, ci, h, w = x.shape
    dt = _dtype_for(_bound(a, x))
    cols = _padded_cols(x, dt)  # [9, CI, M]
    if order == "it":
        cols = cols.transpose(1, 0, 2)
    r = a.astype(dt) @ cols.reshape(9 * ci, -1)
    return _unpad(r, n, h, w)


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


def requant(acc, m, b, shift, abits):
    """y = clamp((acc * m[o] + b[o]) >> shift, 0, 2^abits - 1), arithmetic (floor) shift."""
    acc = np.asarray(acc, dtype=np.int64)
    m = np.asarray(m, dtype=np.int64).reshape(1, -1, 1, 1)
    b = np.asarray(b, dtype=np.int64).reshape(1, -1, 1, 1)
    y = acc * m
    y += b
    np.right_shift(y, int(shift), out=y)
    np.clip(y, 0, (1 << int(abits)) - 1, out=y)
    return y


def maxpool2(x):
    """2x2 max pool, stride 2; H and W must be even."""
    n, c, h, w = x.shape
    if h % 2 or w % 2:
        raise ValueError(f"maxpool2 needs even H and W, got {h}x{w}")
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


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


def run(bundle, images, chunk=256, progress=None, keep_activations=True):
    """Run the whole network on ``images`` uint8 [N, C, H, W] -> Result.

    Processes ``chunk`` images at a time (memory stays bounded); ``progress`` is an optional
    callable(number of images just finished). With ``keep_activations=False`` only the logits are
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
