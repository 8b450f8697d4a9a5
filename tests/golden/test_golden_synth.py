"""golden.synth bundles validate, spread their activations, and extreme ones hit the declared limits;
the CLI (synth, info, eval) end to end on generated IDX files."""

import gzip
import json
import os
import struct
import subprocess
import sys

import numpy as np
import pytest

from qgp.golden import bundle as gb
from qgp.golden import model
from qgp.golden.errors import QGPError
from qgp.golden.configs import CONFIG_DIR
from qgp.golden.synth import random_bundle

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SMALL28 = {  # fmnist-sized input, tiny widths: fast end-to-end eval
    "name": "small28", "dataset": "fmnist",
    "input": {"channels": 1, "height": 28, "width": 28, "bits": 8}, "abits": 4, "wbits": 8,
    "layers": [{"type": "conv_dense", "out_channels": 4},
               {"type": "conv_qgp", "out_channels": 6, "pool": True},
               {"type": "conv_qgp", "out_channels": 8, "pool": True},
               {"type": "gsum_fc", "classes": 10}],
}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tiny_synth_valid_and_spread(tmp_path, seed):
    b = random_bundle(tmp_path / "b", "tiny", seed=seed)
    gb.load_bundle(tmp_path / "b")
    images = np.random.default_rng(100 + seed).integers(0, 256, size=(32, 1, 8, 8)).astype(np.uint8)
    res = model.run(b, images)
    for a in res.activations[1:]:
        assert a.min() >= 0 and a.max() <= 15
        assert len(np.unique(a)) >= 8, np.bincount(a.ravel())
        clipped = np.mean((a == 0) | (a == 15))
        assert clipped < 0.6, clipped
    # declared widths are exactly the required ones (tight)
    bits = b.input["bits"]
    for L in b.layers:
        need = gb.required_widths(L, bits, b.abits)
        if L["type"] == "gsum_fc":
            assert (L["gsum_bits"], L["logit_bits"]) == (need["gsum_bits"], need["logit_bits"])
        else:
            assert (L["acc_bits"], L["requant"]["prod_bits"]) == (need["acc_bits"], need["prod_bits"])
            bits = b.abits


def test_synth_is_deterministic(tmp_path):
    random_bundle(tmp_path / "a", "tiny", seed=4)
    random_bundle(tmp_path / "b", "tiny", seed=4)
    assert (tmp_path / "a" / "arrays.npz").read_bytes() == (tmp_path / "b" / "arrays.npz").read_bytes()
    assert (tmp_path / "a" / "model.json").read_text() == (tmp_path / "b" / "model.json").read_text()


def test_fmnist_shape_synth(tmp_path):
    """The synthetic fmnist bundle has the shape of the training config (its one owner)."""
    cfg = json.loads((CONFIG_DIR / "fmnist.json").read_text())
    b = random_bundle(tmp_path / "f", "fmnist", seed=0)
    assert [L.get("out_channels", L.get("classes")) for L in b.layers] == \
        [L["out_channels"] for L in cfg["layers"]] + [cfg["classes"]]
    assert [L["type"] for L in b.layers] == ["conv_dense"] + ["conv_qgp"] * (len(cfg["layers"]) - 1) + ["gsum_fc"]
    h, sizes = cfg["input"]["height"], []
    for L in cfg["layers"]:
        sizes.append(h)
        h //= 2 if L.get("pool") else 1
    assert [L["height"] for L in b.layers] == sizes + [h]


def test_synth_unknown_config_is_one_error():
    with pytest.raises(QGPError, match="unknown config"):
        random_bundle("unused", "no-such-config")


@pytest.mark.parametrize("config", ["tiny", SMALL28])
@pytest.mark.parametrize("polarity", ["max", "min"])
def test_extreme_reaches_declared_limits(tmp_path, config, polarity):
    b = random_bundle(tmp_path / "x", config, seed=3, extreme=polarity if polarity == "min" else True)
    inp = b.input
    image = np.full((1, inp["channels"], inp["height"], inp["width"]), (1 << inp["bits"]) - 1, dtype=np.uint8)
    res = model.run(b, image)
    bits = inp["bits"]
    for li, L in enumerate(b.layers):
        wc = gb.worst_case(L, bits, b.abits)
        if L["type"] == "gsum_fc":
            g = res.activations[li].sum(axis=(2, 3))
            assert g.max() == wc["gsum"][1]
            want = wc["logit"][1] if polarity == "max" else wc["logit"][0]
            assert (res.logits == want).all()
            assert gb.signed_bits(want, 0) == L["logit_bits"] or gb.signed_bits(0, want) == L["logit_bits"]
            continue
        acc = model.layer_acc(L, res.activations[li])
        rq = L["requant"]
        prod = acc * rq["m"].reshape(1, -1, 1, 1) + rq["b"].reshape(1, -1, 1, 1)
        if polarity == "max":
            assert acc.max() == wc["acc"][1] and wc["acc"][0] == 0
        else:
            assert acc.min() == wc["acc"][0] and wc["acc"][1] == 0
        assert prod.max() == wc["prod"][1]
        assert gb.signed_bits(*wc["acc"]) == L["acc_bits"]
        assert gb.signed_bits(*wc["prod"]) == rq["prod_bits"]
        lo, hi = gb.signed_range(L["acc_bits"])
        assert lo <= acc.min() and acc.max() <= hi  # fits, and is the tightest width that does
        assert (res.activations[li + 1] == (1 << b.abits) - 1).all()
        bits = b.abits


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "golden", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300)


def write_fake_fmnist(d, n=40, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28)).astype(np.uint8)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    os.makedirs(d, exist_ok=True)
    for name, arr in (("t10k-images-idx3-ubyte.gz", images), ("t10k-labels-idx1-ubyte.gz", labels)):
        hdr = struct.pack(">HBB", 0, 8, arr.ndim) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
        with open(os.path.join(d, name), "wb") as f:
            f.write(gzip.compress(hdr + arr.tobytes()))
    return images, labels


def test_cli_synth_info_eval(tmp_path):
    cfg = tmp_path / "small28.json"
    cfg.write_text(json.dumps(SMALL28))
    r = run_cli("synth", "--out", str(tmp_path / "b"), "--config", str(cfg), "--seed", "5")
    assert r.returncode == 0, r.stderr
    r = run_cli("info", "--bundle", str(tmp_path / "b"))
    assert r.returncode == 0 and "conv_qgp" in r.stdout and "14.4x" in r.stdout, r.stdout + r.stderr
    images, labels = write_fake_fmnist(tmp_path / "data")
    out = tmp_path / "build" / "eval.json"
    r = run_cli("eval", "--bundle", str(tmp_path / "b"), "--data-dir", str(tmp_path / "data"),
                "--limit", "25", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    res = json.loads(out.read_text())
    b = gb.load_bundle(tmp_path / "b")
    pred = model.run(b, images[:25, None]).pred
    assert res["bundle"] == str(tmp_path / "b") and res["images"] == 25
    assert res["accuracy"] == float(np.mean(pred == labels[:25]))
    assert set(res["per_class"]) == {str(k) for k in range(10)}
    assert "accuracy:" in r.stdout and "weight memory" in r.stdout
    assert sorted(os.listdir(out.parent)) == ["eval-confusion.png", "eval.json"]  # no temp files left


def test_cli_synth_extreme_and_bad_config(tmp_path):
    r = run_cli("synth", "--out", str(tmp_path / "x"), "--config", "tiny", "--extreme")
    assert r.returncode == 0, r.stderr
    meta = json.loads((tmp_path / "x" / "model.json").read_text())
    assert meta["training"]["synth"]["extreme"] == "max"
    r = run_cli("synth", "--out", str(tmp_path / "y"), "--config", "nosuch")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "nosuch" in r.stderr
    assert not (tmp_path / "y").exists()
