"""QONNX export (qgp.qonnx): the shipped bundle's graph, run by QONNX's executor, equals golden
bit for bit on 100 test images at every layer; a changed threshold is caught; synthetic bundles
with negative multipliers and extreme values; inference cost; what cannot be exported."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("qonnx")
import qgp.qonnx as Q  # noqa: E402
from qgp.golden import datasets  # noqa: E402
from qgp.golden.bundle import load_bundle  # noqa: E402
from qgp.golden.errors import QGPError  # noqa: E402
from qgp.golden.synth import random_bundle  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "models" / "fmnist"


def test_cli_exports_shipped_bundle_bit_exact_on_100_images(tmp_path):
    out = tmp_path / "fmnist.onnx"
    r = subprocess.run([sys.executable, "-m", "qgp.qonnx", "--bundle", str(SHIPPED), "--out", str(out),
                        "--check", "100"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    b = load_bundle(SHIPPED)
    convs = [L["name"] for L in b.layers[:-1]]
    line = [s for s in r.stdout.splitlines() if s.startswith("qonnx vs golden on 100 ")]
    assert line, r.stdout
    assert ", ".join(f"{n} 0" for n in convs) in line[0] and "logits 0, class 0" in line[0]
    import onnx
    m = onnx.load(str(out))
    ops = [n.op_type for n in m.graph.node]
    assert ops.count("Conv") == len(convs) and ops.count("MultiThreshold") == len(convs)
    # QGP layers: 2-bit narrow Quant weights with exactly one non-zero (+-1) tap per 3x3 kernel
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in m.graph.initializer}
    for i, L in enumerate(b.layers[:-1]):
        w = inits[f"conv{i}.weight_int"]
        if L["type"] == "conv_qgp":
            assert inits[f"conv{i}.weight_q.bitwidth"] == 2
            flat = w.reshape(w.shape[0], w.shape[1], 9)
            assert ((flat != 0).sum(axis=2) == 1).all()
            assert np.array_equal(np.argmax(flat != 0, axis=2), L["tap"])
            assert np.array_equal(flat.sum(axis=2), 1 - 2 * L["sign"].astype(np.float32))
    # inference cost from qonnx: one MAC per (out, in) kernel per output pixel in the QGP layers
    cost = Q.inference_cost(out)["total_cost"]
    macs = sum(L["out_channels"] * L["in_channels"] * L["height"] * L["width"]
               for L in b.layers if L["type"] == "conv_qgp")
    assert cost["op_mac_UINT4_INT2"] == macs
    assert cost["mem_w_INT2"] == sum(L["out_channels"] * L["in_channels"] for L in b.layers
                                     if L["type"] == "conv_qgp")


def test_check_catches_a_changed_threshold():
    b = load_bundle(SHIPPED)
    x, _ = datasets.load(b.meta["dataset"], "test")
    x = x[:8]
    model = Q.to_qonnx(b, batch=len(x))
    r = Q.check(b, x, model)
    assert r["ok"]
    for t in model.graph.initializer:
        if t.name == "conv2.thresholds":
            import onnx
            a = onnx.numpy_helper.to_array(t).copy()
            a[:, 7] += 3  # one level of every channel of conv2 moves
            t.CopyFrom(onnx.numpy_helper.from_array(a, t.name))
    r = Q.check(b, x, model)
    bad = {L["name"]: L["mismatches"] for L in r["layers"]}
    assert not r["ok"] and bad["conv0"] == 0 and bad["conv1"] == 0 and bad["conv2"] > 0


@pytest.mark.parametrize("extreme", [False, "max", "min"])
def test_synthetic_bundles_with_negative_m_and_extremes(tmp_path, extreme):
    b = random_bundle(tmp_path / "b", "tiny", seed=3, extreme=extreme)
    ms = np.concatenate([L["requant"]["m"] for L in b.layers[:-1]])
    if extreme is False:
        assert (ms < 0).any() and (ms > 0).any()  # both orientations are exercised
    rng = np.random.default_rng(0)
    inp = b.meta["input"]
    x = rng.integers(0, 256, (24, inp["channels"], inp["height"], inp["width"])).astype(np.uint8)
    x[0] = 255
    x[1] = 0
    r = Q.check(b, x)
    assert r["ok"], r


def test_what_cannot_be_exported_is_one_line(tmp_path):
    cfg = {"name": "wide", "input": {"channels": 3, "height": 8, "width": 8, "bits": 8}, "abits": 4,
           "wbits": 16, "layers": [{"type": "conv_dense", "out_channels": 4},
                                   {"type": "gsum_fc", "classes": 3}]}
    b = random_bundle(tmp_path / "b", cfg, seed=0, extreme="max")
    assert b.layers[0]["acc_bits"] > Q.F32_EXACT_BITS
    with pytest.raises(QGPError, match=r"layers\[0\]\.acc_bits"):
        Q.to_qonnx(b)
    out = tmp_path / "x.onnx"
    r = subprocess.run([sys.executable, "-m", "qgp.qonnx", "--bundle", str(tmp_path / "b"), "--out", str(out),
                        "--check", "0"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "cannot export" in r.stderr
    assert "Traceback" not in r.stderr and not out.exists()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_thresholds_equal_requant_on_every_accumulator_value(tmp_path, seed):
    from qgp.golden import model as gmodel
    b = random_bundle(tmp_path / "b", "tiny", seed=seed)
    for L in b.layers[:-1]:
        t, neg = Q.requant_thresholds(L, b.meta["abits"])
        half = 1 << (L["acc_bits"] - 1)
        acc = np.arange(-half, half, dtype=np.int64)
        x = np.where(neg[:, None], -acc[None, :], acc[None, :])            # [CO, A]
        y = (x[:, :, None] >= t[:, None, :]).sum(axis=2)                   # MultiThreshold
        rq = L["requant"]
        want = gmodel.requant(np.broadcast_to(acc, (len(neg), acc.size))[None, :, :, None], rq["m"], rq["b"],
                              rq["shift"], b.meta["abits"])[0, :, :, 0]
        assert np.array_equal(y, want), L["name"]
