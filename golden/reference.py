"""The integer contract of a QGP network, written to be read (the owner of the semantics).

Every value is an int64 NumPy array; the loops follow the formulas of docs / DESIGN.md one to
one and are vectorized only over the batch and the pixel grid, never reordered or packed.
golden/model.py is the fast evaluator (GEMM in float32 / float64 where provably exact, several
images per float); tests/golden/test_reference.py proves it equal to this file layer by layer on
the shipped bundle with real images, random bundles and extreme (worst-case) bundles, and
checks this file against plain Python loops.

  x        input / activations, unsigned, [N, C, H, W]; tap t = 0..8 reads the neighbour
           (dy, dx) = (t // 3 - 1, t % 3 - 1); pixels outside the frame read 0
  conv_dense   acc[o] = sum_i sum_t w[o, i, t] * x[i, y+dy(t), x+dx(t)]
  conv_qgp     acc[o] = sum_i (-1)^sign[o, i] * x[i, y+dy(tap[o, i]), x+dx(tap[o, i])]
  requant      y[o] = clamp((acc[o] * m[o] + b[o]) >> shift, 0, 2^abits - 1)   (floor shift)
  maxpool2     y[c, y, x] = max of the 2x2 block (2y..2y+1, 2x..2x+1)
  gsum_fc      g[c] = sum over the frame of x[c];  logit[k] = bias[k] + sum_c w[k, c] * g[c]
  predict      class = argmax_k logit[k], ties -> the lowest index
"""

import numpy as np

TAPS = [(t // 3 - 1, t % 3 - 1) for t in range(9)]   # tap t -> (dy, dx)


def neighbour(x, t):
    """x [N, C, H, W] -> the plane of tap t: x[:, :, y+dy, x+dx], 0 outside the frame."""
    dy, dx = TAPS[t]
    n, c, h, w = x.shape
    xp = np.zeros((n, c, h + 2, w + 2), dtype=np.int64)
    xp[:, :, 1:h + 1, 1:w + 1] = x
    return xp[:, :, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w]


def conv_dense_acc(x, w):
    """acc[n, o] = sum_i sum_t w[o, i, t] * neighbour(x, t)[n, i]   (w [CO, CI, 3, 3], t = ky*3 + kx)."""
    x = np.asarray(x, dtype=np.int64)
    w = np.asarray(w, dtype=np.int64).reshape(w.shape[0], w.shape[1], 9)
    n, ci, h, wd = x.shape
    acc = np.zeros((n, w.shape[0], h, wd), dtype=np.int64)
    for t in range(9):
        xt = neighbour(x, t)
        for i in range(ci):
            acc += w[None, :, i, t, None, None] * xt[:, i:i + 1]
    return acc


def conv_qgp_acc(x, tap, sign):
    """acc[n, o] = sum_i (-1)^sign[o, i] * neighbour(x, tap[o, i])[n, i]."""
    x = np.asarray(x, dtype=np.int64)
    tap, sign = np.asarray(tap), np.asarray(sign)
    n, ci, h, wd = x.shape
    co = tap.shape[0]
    planes = [neighbour(x, t) for t in range(9)]
    acc = np.zeros((n, co, h, wd), dtype=np.int64)
    for o in range(co):
        for i in range(ci):
            v = planes[int(tap[o, i])][:, i]
            acc[:, o] += -v if sign[o, i] else v
    return acc


def requant(acc, m, b, shift, abits):
    """y[n, o] = clamp((acc[n, o] * m[o] + b[o]) >> shift, 0, 2^abits - 1)."""
    acc = np.asarray(acc, dtype=np.int64)
    y = np.empty_like(acc)
    for o in range(acc.shape[1]):
        v = (acc[:, o] * np.int64(m[o]) + np.int64(b[o])) >> np.int64(shift)   # arithmetic = floor
        y[:, o] = np.minimum(np.maximum(v, 0), (1 << int(abits)) - 1)
    return y


def maxpool2(x):
    """y[n, c, y, x] = max(x[n, c, 2y+dy, 2x+dx] for dy, dx in {0, 1}); H and W even."""
    x = np.asarray(x, dtype=np.int64)
    n, c, h, w = x.shape
    if h % 2 or w % 2:
        raise ValueError(f"maxpool2 needs even H and W, got {h}x{w}")
    y = x[:, :, 0::2, 0::2]
    for dy, dx in ((0, 1), (1, 0), (1, 1)):
        y = np.maximum(y, x[:, :, dy::2, dx::2])
    return y


def gsum_fc(x, w, bias):
    """logit[n, k] = bias[k] + sum_c w[k, c] * g[n, c], g[n, c] = sum_{y,x} x[n, c, y, x]."""
    g = np.asarray(x, dtype=np.int64).sum(axis=(2, 3))
    w = np.asarray(w, dtype=np.int64)
    logits = np.tile(np.asarray(bias, dtype=np.int64), (g.shape[0], 1))
    for c in range(g.shape[1]):
        logits += w[None, :, c] * g[:, c:c + 1]
    return logits


def predict(logits):
    """class = the lowest k with logit[k] == max_k logit[k]."""
    logits = np.asarray(logits, dtype=np.int64)
    best = np.zeros(logits.shape[0], dtype=np.int64)
    for k in range(1, logits.shape[1]):
        best = np.where(logits[:, k] > logits[np.arange(len(best)), best], k, best)
    return best


def layer_acc(layer, x):
    """The accumulator of a conv layer of ``Bundle.layers`` (before requant)."""
    if layer["type"] == "conv_dense":
        return conv_dense_acc(x, layer["weight"])
    if layer["type"] == "conv_qgp":
        return conv_qgp_acc(x, layer["tap"], layer["sign"])
    raise ValueError(f"layer_acc: not a conv layer: {layer['type']!r}")


def run_layer(layer, x, abits=None):
    """conv -> requant -> optional maxpool2; the head returns its logits."""
    if layer["type"] == "gsum_fc":
        return gsum_fc(x, layer["weight"], layer["bias"])
    rq = layer["requant"]
    y = requant(layer_acc(layer, x), rq["m"], rq["b"], rq["shift"],
                layer["abits"] if abits is None else abits)
    return maxpool2(y) if layer["pool"] else y


def run(bundle, images):
    """images uint8 [N, C, H, W] -> (activations [input, layer 0, ...], logits [N, K], pred [N])."""
    x = np.asarray(images, dtype=np.int64)
    acts = [x]
    for layer in bundle.layers:
        x = run_layer(layer, x)
        if layer["type"] != "gsum_fc":
            acts.append(x)
    return acts, x, predict(x)
