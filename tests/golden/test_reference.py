"""golden/reference.py (the contract, written to be read) against plain Python loops, and the
fast evaluator golden/model.py against golden/reference.py layer by layer on real images of the
shipped bundle, random bundles and extreme (worst-case accumulator) bundles."""

from pathlib import Path

import numpy as np
import pytest

from qgp.golden import model, reference
from qgp.golden.bundle import load_bundle
from qgp.golden.synth import random_bundle
from test_golden_model import (eq, ref_conv_dense, ref_conv_qgp, ref_gsum_fc,
                               ref_maxpool, ref_predict, ref_requant)

REPO = Path(__file__).resolve().parents[2]
FMNIST = Path("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")


def test_reference_is_the_loops():
    rng = np.random.default_rng(21)
    x = rng.integers(0, 16, size=(2, 3, 4, 5))
    w = rng.integers(-127, 128, size=(4, 3, 3, 3))
    tap = rng.integers(0, 9, size=(4, 3))
    sign = rng.integers(0, 2, size=(4, 3))
    eq(reference.conv_dense_acc(x, w), ref_conv_dense(x, w))
    eq(reference.conv_qgp_acc(x, tap, sign), ref_conv_qgp(x, tap, sign))
    acc = rng.integers(-3000, 3000, size=(2, 4, 4, 5))
    m = np.array([37, -91, 1, 0])
    b = np.array([-5000, 7000, 3, 123])
    for shift in (0, 3, 9):
        eq(reference.requant(acc, m, b, shift, 4), ref_requant(acc, m, b, shift, 4))
    eq(reference.maxpool2(x[:, :, :4, :4]), ref_maxpool(x[:, :, :4, :4]))
    hw = rng.integers(-128, 128, size=(6, 3))
    bias = rng.integers(-1000, 1000, size=6)
    eq(reference.gsum_fc(x, hw, bias), ref_gsum_fc(x, hw, bias))
    lg = np.array([[1, 5, 5, 2], [7, 7, 7, 7], [-3, -9, -1, -1], [0, 0, 0, 1]])
    assert reference.predict(lg).tolist() == ref_predict(lg).tolist() == [1, 0, 2, 3]


def layer_by_layer(bundle, images):
    """model.run == reference.run on every activation, the logits and the class; and each
    layer of model on reference's input to it (so a difference is pinned to one layer)."""
    acts, logits, pred = reference.run(bundle, images)
    res = model.run(bundle, images, chunk=3)
    assert len(res.activations) == len(acts)
    for li, (a, r) in enumerate(zip(res.activations, acts)):
        assert a.dtype == np.int64
        assert np.array_equal(a, r), f"activation {li} differs"
    for li, layer in enumerate(bundle.layers):
        if layer["type"] != "gsum_fc":
            assert np.array_equal(model.layer_acc(layer, acts[li]), reference.layer_acc(layer, acts[li])), \
                f"layer {li} accumulator differs"
    assert np.array_equal(res.logits, logits)
    assert np.array_equal(res.pred, pred)
    return acts


@pytest.mark.skipif(not FMNIST.exists(), reason="dataset-fashion-mnist not installed (make setup)")
def test_model_equals_reference_shipped_bundle_real_images():
    from qgp.golden.datasets import load
    bundle = load_bundle(REPO / "models" / "fmnist")
    images, _ = load("fmnist", "test")
    layer_by_layer(bundle, images[:8])


@pytest.mark.parametrize("config,seed", [("tiny", 0), ("tiny", 5), ("fmnist", 1)])
def test_model_equals_reference_random(tmp_path, config, seed):
    b = random_bundle(tmp_path / "b", config, seed=seed)
    inp = b.meta["input"]
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(4, inp["channels"], inp["height"], inp["width"])).astype(np.uint8)
    layer_by_layer(b, images)


@pytest.mark.parametrize("extreme", ["max", "min"])
def test_model_equals_reference_extreme(tmp_path, extreme):
    # every accumulator at its declared worst case: all-255 and all-0 images, weights at extremes
    b = random_bundle(tmp_path / "b", "fmnist", seed=2, extreme=extreme)
    inp = b.meta["input"]
    shape = (1, inp["channels"], inp["height"], inp["width"])
    images = np.concatenate([np.full(shape, 255), np.zeros(shape),
                             np.random.default_rng(3).integers(0, 256, size=shape)]).astype(np.uint8)
    acts = layer_by_layer(b, images)
    # the worst case is reached: the first layer's accumulator of the all-255 image hits its bound
    from qgp.golden.bundle import worst_case
    L0 = b.layers[0]
    lo, hi = worst_case(L0, inp["bits"], b.meta["abits"])["acc"]
    acc0 = reference.layer_acc(L0, acts[0][:1])
    assert acc0.max() == np.max(hi) if extreme == "max" else acc0.min() == np.min(lo)
