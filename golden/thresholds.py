"""Requant as thresholds: the same function as ``golden.model.requant``, as comparisons.

For one output channel with multiplier m, bias b, shift s and ``abits``-bit output,
``requant(acc) = clamp((acc*m + b) >> s, 0, 2^abits - 1)`` is monotone in acc (nondecreasing for
m >= 0, nonincreasing for m < 0). So for k = 1 .. 2^abits - 1 the set {acc : requant(acc) >= k}
is an interval reaching one end of the accumulator range, and

    requant(acc) = sum_k [ (acc >= T[k]) xor neg ]          (neg = m < 0)

with, over the declared accumulator range lo .. hi (every value of the ``acc_bits``-wide signed
accumulator, lo = -2^(acc_bits-1), hi = 2^(acc_bits-1) - 1):
  m >= 0: T[k] = the smallest acc in lo..hi with requant(acc) >= k, or hi + 1 if there is none
          (m == 0: requant is the constant c = clamp(b >> s), T[k] = lo for k <= c, else hi + 1);
  m <  0: T[k] = 1 + the largest acc in lo..hi with requant(acc) >= k, or lo if there is none
          (acc >= T[k] is then exactly "requant(acc) < k", hence the xor).
Every T[k] lies in lo .. hi + 1 (``acc_bits + 1`` signed bits: ``threshold_bits``), and T is
nondecreasing in k when m >= 0 and nonincreasing when m < 0 (the count is a thermometer code).

API
---
``channel_thresholds(m, b, shift, abits, acc_bits) -> (list[int], bool)``   one channel
``layer_thresholds(layer, abits) -> (np.ndarray int64 [CO, 2^abits - 1], np.ndarray bool [CO])``
    for a conv layer of ``golden.bundle.load_bundle(...).layers`` (its requant and acc_bits)
``apply_thresholds(acc, t, neg) -> np.ndarray``  acc int [N, CO, H, W] (or [CO, M] with
    ``axis=0``) -> y, the count above (the reference the RTL threshold unit is checked against)
``threshold_bits(acc_bits) -> int``  signed width that holds every threshold
"""

import numpy as np


def threshold_bits(acc_bits):
    """Signed width of a threshold: lo .. hi + 1 of an acc_bits-wide accumulator."""
    return int(acc_bits) + 1


def _ceil_div(a, d):
    return -((-a) // d)


def channel_thresholds(m, b, shift, abits, acc_bits):
    """(T[1..2^abits-1] as a list of ints, neg) for one channel; see the module doc."""
    m, b, shift, abits, acc_bits = int(m), int(b), int(shift), int(abits), int(acc_bits)
    lo, hi = -(1 << (acc_bits - 1)), (1 << (acc_bits - 1)) - 1
    t = []
    for k in range(1, 1 << abits):
        # requant(acc) >= k (1 <= k <= 2^abits - 1, so the clamp never decides)
        #   <=> floor((acc*m + b) / 2^s) >= k <=> acc*m + b >= k * 2^s
        need = (k << shift) - b
        if m > 0:
            v = _ceil_div(need, m)                  # smallest acc with acc*m >= need
            t.append(min(max(v, lo), hi + 1))
        elif m < 0:
            u = (-need) // (-m)                     # largest acc with acc*m >= need
            t.append(min(max(u + 1, lo), hi + 1))
        else:
            t.append(lo if need <= 0 else hi + 1)
    return t, m < 0


def layer_thresholds(layer, abits):
    """Thresholds of every output channel of a conv layer (Bundle.layers entry)."""
    rq = layer["requant"]
    m = np.asarray(rq["m"]).reshape(-1)
    b = np.asarray(rq["b"]).reshape(-1)
    ts, negs = [], []
    for o in range(len(m)):
        t, neg = channel_thresholds(m[o], b[o], rq["shift"], abits, layer["acc_bits"])
        ts.append(t)
        negs.append(neg)
    return np.asarray(ts, dtype=np.int64).reshape(len(m), (1 << int(abits)) - 1), \
        np.asarray(negs, dtype=bool)


def apply_thresholds(acc, t, neg, axis=1):
    """y = sum_k [(acc >= t[o, k]) xor neg[o]] with the channel o along ``axis`` of acc."""
    acc = np.asarray(acc, dtype=np.int64)
    t = np.asarray(t, dtype=np.int64)
    neg = np.asarray(neg, dtype=bool)
    shape = [1] * acc.ndim
    shape[axis] = -1
    y = np.zeros(acc.shape, dtype=np.int64)
    for k in range(t.shape[1]):
        y += (acc >= t[:, k].reshape(shape)) ^ neg.reshape(shape)
    return y
