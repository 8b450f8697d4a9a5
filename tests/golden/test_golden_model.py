"""golden.model against straightforward Python loops (the integer contract, literally)."""

import numpy as np
import pytest

from qgp.golden import model
from qgp.golden.synth import random_bundle


def ref_conv_dense(x, w):
    n, ci, h, wd = x.shape
    co = w.shape[0]
    out = np.zeros((n, co, h, wd), dtype=object)
    for b in range(n):
        for o in range(co):
            for y in range(h):
                for xx in range(wd):
                    s = 0
                    for i in range(ci):
                        for ky in range(3):
                            for kx in range(3):
                                yy, xc = y + ky - 1, xx + kx - 1
                                if 0 <= yy < h and 0 <= xc < wd:
                                    s += int(w[o, i, ky, kx]) * int(x[b, i, yy, xc])
                    out[b, o, y, xx] = s
    return out


def ref_conv_qgp(x, tap, sign):
    n, ci, h, wd = x.shape
    co = tap.shape[0]
    out = np.zeros((n, co, h, wd), dtype=object)
    for b in range(n):
        for o in range(co):
            for y in range(h):
                for xx in range(wd):
                    s = 0
                    for i in range(ci):
                        t = int(tap[o, i])
                        dy, dx = t // 3 - 1, t % 3 - 1
                        yy, xc = y + dy, xx + dx
                        v = int(x[b, i, yy, xc]) if (0 <= yy < h and 0 <= xc < wd) else 0
                        s += -v if sign[o, i] else v
                    out[b, o, y, xx] = s
    return out


def ref_requant(acc, m, b, shift, abits):
    out = np.zeros(acc.shape, dtype=object)
    for idx in np.ndindex(acc.shape):
        o = idx[1]
        v = (int(acc[idx]) * int(m[o]) + int(b[o])) >> shift  # Python >> is floor
        out[idx] = min(max(v, 0), (1 << abits) - 1)
    return out


def ref_maxpool(x):
    n, c, h, w = x.shape
    out = np.zeros((n, c, h // 2, w // 2), dtype=object)
    for idx in np.ndindex(out.shape):
        b, ch, y, xx = idx
        out[idx] = max(int(x[b, ch, 2 * y + dy, 2 * xx + dx]) for dy in (0, 1) for dx in (0, 1))
    return out


def ref_gsum_fc(x, w, bias):
    n, c = x.shape[:2]
    k = w.shape[0]
    out = np.zeros((n, k), dtype=object)
    for b in range(n):
        g = [sum(int(v) for v in x[b, ch].ravel()) for ch in range(c)]
        for kk in range(k):
            out[b, kk] = sum(int(w[kk, ch]) * g[ch] for ch in range(c)) + int(bias[kk])
    return out


def ref_predict(logits):
    out = []
    for row in logits:
        best = 0
        for k in range(1, len(row)):
            if row[k] > row[best]:
                best = k
        out.append(best)
    return np.array(out)


def eq(a, b):
    assert a.shape == b.shape
    assert [int(v) for v in np.ravel(a)] == [int(v) for v in np.ravel(b)]


@pytest.mark.parametrize("seed", [0, 1])
def test_conv_dense(seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(2, 3, 5, 6))
    w = rng.integers(-127, 128, size=(4, 3, 3, 3))
    got = model.conv_dense_acc(x, w)
    assert got.dtype == np.int64
    eq(got, ref_conv_dense(x, w))


def test_conv_dense_wide_values_take_exact_path():
    # sums beyond 2^24 and 2^53 must still be exact (float64 / int64 fallbacks)
    rng = np.random.default_rng(5)
    x = rng.integers(0, 256, size=(1, 2, 4, 4))
    for mag in (1 << 20, 1 << 48):
        w = rng.integers(-mag, mag, size=(3, 2, 3, 3))
        eq(model.conv_dense_acc(x, w), ref_conv_dense(x, w))


def test_conv_qgp_every_tap():
    rng = np.random.default_rng(2)
    x = rng.integers(0, 16, size=(2, 3, 4, 5))
    tap = np.arange(9).reshape(3, 3)  # every tap position appears
    sign = rng.integers(0, 2, size=(3, 3))
    eq(model.conv_qgp_acc(x, tap, sign), ref_conv_qgp(x, tap, sign))


def test_conv_qgp_single_tap_shifts():
    # one input channel, one output: the result is x shifted by (dy, dx) with zero fill
    x = np.arange(1, 13).reshape(1, 1, 3, 4)
    for t in range(9):
        dy, dx = t // 3 - 1, t % 3 - 1
        got = model.conv_qgp_acc(x, np.array([[t]]), np.array([[0]]))[0, 0]
        for y in range(3):
            for xx in range(4):
                inside = 0 <= y + dy < 3 and 0 <= xx + dx < 4
                assert got[y, xx] == (x[0, 0, y + dy, xx + dx] if inside else 0)
        neg = model.conv_qgp_acc(x, np.array([[t]]), np.array([[1]]))[0, 0]
        assert (neg == -got).all()


@pytest.mark.parametrize("seed", [3, 4])
def test_conv_qgp_random(seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 16, size=(3, 5, 4, 4))
    tap = rng.integers(0, 9, size=(6, 5)).astype(np.uint8)
    sign = rng.integers(0, 2, size=(6, 5)).astype(np.uint8)
    eq(model.conv_qgp_acc(x, tap, sign), ref_conv_qgp(x, tap, sign))


def test_requant_negative_and_floor_shift():
    rng = np.random.default_rng(6)
    acc = rng.integers(-5000, 5000, size=(2, 4, 3, 3))
    acc[0, 0, 0, 0] = -1  # (-1*m + b) >> s must floor toward -inf
    m = np.array([37, -41, 1, -1])
    b = np.array([-700, 900, 3, -5])
    for shift in (0, 1, 5, 9):
        got = model.requant(acc, m, b, shift, 4)
        eq(got, ref_requant(acc, m, b, shift, 4))
    # floor, not truncation: (-3) >> 1 == -2 -> clipped to 0; 7 >> 1 == 3
    assert model.requant(np.array([[[[-3]]]]), [1], [0], 1, 4)[0, 0, 0, 0] == 0
    assert model.requant(np.array([[[[-3]]]]), [-1], [0], 1, 4)[0, 0, 0, 0] == 1
    assert model.requant(np.array([[[[100]]]]), [1], [0], 0, 4)[0, 0, 0, 0] == 15
    assert model.requant(np.array([[[[100]]]]), [1], [0], 0, 2)[0, 0, 0, 0] == 3


def test_maxpool2():
    rng = np.random.default_rng(7)
    x = rng.integers(0, 16, size=(2, 3, 4, 6))
    eq(model.maxpool2(x), ref_maxpool(x))
    with pytest.raises(ValueError):
        model.maxpool2(np.zeros((1, 1, 3, 4), dtype=np.int64))


def test_gsum_fc():
    rng = np.random.default_rng(8)
    x = rng.integers(0, 16, size=(3, 5, 2, 3))
    w = rng.integers(-128, 128, size=(4, 5))
    bias = rng.integers(-(1 << 20), 1 << 20, size=4)
    eq(model.gsum_fc(x, w, bias), ref_gsum_fc(x, w, bias))


def test_predict_ties_lowest_index():
    logits = np.array([[3, 7, 7, 1], [5, 5, 5, 5], [-2, -9, -2, -1], [0, 0, 1, 1]])
    assert model.predict(logits).tolist() == [1, 0, 3, 2]
    rng = np.random.default_rng(9)
    rnd = rng.integers(-3, 3, size=(50, 10))
    assert model.predict(rnd).tolist() == ref_predict(rnd).tolist()


def test_run_matches_reference_layers(tmp_path):
    b = random_bundle(tmp_path / "b", "tiny", seed=3)
    rng = np.random.default_rng(10)
    images = rng.integers(0, 256, size=(5, 1, 8, 8)).astype(np.uint8)
    res = model.run(b, images, chunk=2)
    assert len(res.activations) == len(b.layers)  # input + every conv layer, not the head
    x = images.astype(np.int64)
    eq(res.activations[0], x)
    for li, L in enumerate(b.layers[:-1]):
        acc = ref_conv_dense(x, L["weight"]) if L["type"] == "conv_dense" else ref_conv_qgp(x, L["tap"], L["sign"])
        y = ref_requant(acc, L["requant"]["m"], L["requant"]["b"], L["requant"]["shift"], b.abits)
        if L["pool"]:
            y = ref_maxpool(y)
        eq(res.activations[li + 1], y)
        assert res.activations[li + 1].dtype == np.int64
        x = y
    H = b.layers[-1]
    logits = ref_gsum_fc(x, H["weight"], H["bias"])
    eq(res.logits, logits)
    assert res.pred.tolist() == ref_predict(np.array(logits, dtype=np.int64)).tolist()
    # chunking changes nothing
    res1 = model.run(b, images, chunk=1)
    eq(res1.logits, res.logits)
    for a, c in zip(res1.activations, res.activations):
        eq(a, c)
    # run_layer is the per-layer step
    eq(model.run_layer(b.layers[0], images.astype(np.int64)), res.activations[1])


def test_run_rejects_wrong_image_shape(tmp_path):
    b = random_bundle(tmp_path / "b", "tiny", seed=0)
    with pytest.raises(ValueError):
        model.run(b, np.zeros((2, 1, 9, 8), dtype=np.uint8))


def einsum_qgp(x, tap, sign):
    """Vectorized int64 reference (itself checked against the loops above)."""
    planes = model.shifted_planes(np.asarray(x, dtype=np.int64))  # [9, CI, N, H, W]
    s = model.qgp_matrix(tap, sign).reshape(tap.shape[0], 9, tap.shape[1])
    return np.einsum("oti,tinhw->nohw", s, planes)


def test_einsum_reference_agrees_with_loops():
    rng = np.random.default_rng(11)
    x = rng.integers(0, 16, size=(2, 4, 3, 5))
    tap = rng.integers(0, 9, size=(3, 4))
    sign = rng.integers(0, 2, size=(3, 4))
    eq(einsum_qgp(x, tap, sign), ref_conv_qgp(x, tap, sign))


@pytest.mark.parametrize("n,ci,co,xmax,plan", [
    (1, 40, 7, 15, ("float32", 1)), (5, 40, 7, 15, ("float32", 2)), (9, 192, 5, 15, ("float32", 2)),
    (13, 32, 6, 15, ("float32", 2)), (7, 3, 4, 255, ("float32", 2)), (7, 100, 4, 255, ("float64", 3)),
    (6, 300, 3, 1 << 20, ("float64", 1)), (3, 20, 3, 1 << 50, ("int64", 1))])
def test_packed_lanes_exact(n, ci, co, xmax, plan):
    # the GEMM packs several images per float (see model._plan); check every lane count,
    # batch sizes that do not divide evenly, all-max inputs (digit at its limit) and all-min signs
    rng = np.random.default_rng(n * 1000 + ci)
    x = rng.integers(0, xmax + 1, size=(n, ci, 5, 4))
    x[0] = xmax
    tap = rng.integers(0, 9, size=(co, ci))
    sign = rng.integers(0, 2, size=(co, ci))
    sign[0] = 1
    sign[1] = 0
    dt, lanes, _ = model._plan(model.qgp_matrix(tap, sign), x)
    assert (np.dtype(dt).name, lanes) == plan
    eq(model.conv_qgp_acc(x, tap, sign), einsum_qgp(x, tap, sign))


def test_packed_dense_exact():
    rng = np.random.default_rng(12)
    x = rng.integers(0, 256, size=(7, 2, 6, 6))
    w = rng.integers(-127, 128, size=(5, 2, 3, 3))
    w[0] = 127
    w[1] = -127
    x[3] = 255
    eq(model.conv_dense_acc(x, w), ref_conv_dense(x, w))
