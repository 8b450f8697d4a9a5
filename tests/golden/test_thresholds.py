"""golden.thresholds == golden.model.requant, exhaustively: every channel, every value of the
layer's acc_bits-wide signed accumulator, for the shipped bundle, synthetic bundles (random and
--extreme) and hand-made extreme requant parameters (m < 0, m == 0, m = +-1, shift 0, large
shift, bias beyond the output range in both directions)."""

import numpy as np
import pytest

from qgp.golden import model, synth
from qgp.golden.bundle import load_bundle
from qgp.golden.thresholds import apply_thresholds, layer_thresholds, threshold_bits


def check_layer(layer, abits):
    """Exhaustive check of one conv layer; returns the number of (channel, acc) pairs compared."""
    t, neg = layer_thresholds(layer, abits)
    n = (1 << abits) - 1
    aw = int(layer["acc_bits"])
    lo, hi = -(1 << (aw - 1)), (1 << (aw - 1)) - 1
    assert t.shape == (len(neg), n)
    tlo, thi = -(1 << (threshold_bits(aw) - 1)), (1 << (threshold_bits(aw) - 1)) - 1
    assert (t >= lo).all() and (t <= hi + 1).all() and (t >= tlo).all() and (t <= thi).all()
    acc = np.arange(lo, hi + 1, dtype=np.int64)
    rq = layer["requant"]
    m = np.asarray(rq["m"]).reshape(-1)
    b = np.asarray(rq["b"]).reshape(-1)
    for o in range(len(m)):
        want = model.requant(acc.reshape(1, 1, 1, -1), [m[o]], [b[o]], rq["shift"], abits).reshape(-1)
        got = apply_thresholds(acc.reshape(1, -1), t[o:o + 1], neg[o:o + 1], axis=0).reshape(-1)
        bad = np.nonzero(got != want)[0]
        assert bad.size == 0, (f"{layer.get('name')} channel {o} (m={m[o]} b={b[o]} "
                               f"shift={rq['shift']}): acc={acc[bad[0]]} thresholds give "
                               f"{got[bad[0]]}, requant {want[bad[0]]}")
        # a thermometer code: monotone thresholds
        d = np.diff(t[o])
        assert (d <= 0).all() if neg[o] else (d >= 0).all()
    return len(m) * acc.size


def check_bundle(path):
    b = load_bundle(path)
    total = 0
    for L in b.layers:
        if L["type"] in ("conv_dense", "conv_qgp"):
            total += check_layer(L, b.abits)
    assert total > 0
    return total


def test_shipped_bundle_exhaustive():
    assert check_bundle("models/fmnist") > 10 ** 6


@pytest.mark.parametrize("seed,extreme", [(0, None), (3, None), (7, None), (1, "max"), (2, "min")])
def test_synth_bundles_exhaustive(tmp_path, seed, extreme):
    out = tmp_path / "b"
    synth.random_bundle(str(out), "tiny", seed=seed, extreme=extreme or False)
    check_bundle(str(out))


def _layer(m, b, shift, acc_bits, name="x"):
    return {"name": name, "type": "conv_qgp", "acc_bits": acc_bits,
            "requant": {"m": np.asarray(m, dtype=np.int64), "b": np.asarray(b, dtype=np.int64),
                        "shift": shift}}


@pytest.mark.parametrize("abits", [1, 2, 4, 8])
def test_extreme_requant_exhaustive(abits):
    big = (1 << 31) - 1
    ms = [0, 0, 0, 1, -1, 2, -2, 3, -3, 7, -7, 1000, -1000, 32767, -32768, big, -big - 1]
    bs = [0, -5, 1 << 40, 0, 0, 1, -1, 12345, -12345, -(1 << 31), (1 << 31) - 1, 0, 0, 77, -77, 0, 0]
    for shift in (0, 1, 5, 16, 30):
        check_layer(_layer(ms, bs, shift, 10), abits)
    rng = np.random.default_rng(abits)
    for _ in range(4):
        aw = int(rng.integers(2, 15))
        shift = int(rng.integers(0, 24))
        m = rng.integers(-(1 << 16), 1 << 16, size=16)
        m[:3] = 0
        b = rng.integers(-(1 << (shift + abits + aw)), 1 << (shift + abits + aw), size=16)
        check_layer(_layer(m, b, shift, aw), abits)


def test_wide_accumulator_exhaustive():
    # 20-bit accumulator (the shipped first layer's width class), negative and positive m
    check_layer(_layer([173, -173, 0, 1], [-(1 << 22), 5 << 20, 3 << 16, -(1 << 19)], 16, 20), 4)


def test_threshold_detects_a_wrong_threshold():
    L = _layer([5, -5], [100, 100], 4, 8)
    t, neg = layer_thresholds(L, 4)
    acc = np.arange(-128, 128).reshape(1, -1)
    want = model.requant(acc.reshape(1, 1, 1, -1), [5], [100], 4, 4).reshape(-1)
    k = int(np.nonzero((t[0] > -128) & (t[0] < 128))[0][0])
    t[0, k] += 1
    got = apply_thresholds(acc, t[0:1], neg[0:1], axis=0).reshape(-1)
    assert (got != want).sum() == 1
