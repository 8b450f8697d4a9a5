"""Bundle round trip, and every bad-bundle case through the CLI: exit 2, one stderr line naming
the file and the field, no traceback, nothing written."""

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from qgp.golden import bundle as gb
from qgp.golden.errors import QGPError
from qgp.golden.synth import random_bundle

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

ODD_CONFIG = {  # 6x6 -> pool -> 3x3: a second pool would be on an odd size
    "name": "odd", "input": {"channels": 1, "height": 6, "width": 6, "bits": 8}, "abits": 4, "wbits": 8,
    "layers": [{"type": "conv_dense", "out_channels": 3, "pool": True},
               {"type": "conv_qgp", "out_channels": 3},
               {"type": "gsum_fc", "classes": 10}],
}


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    d = tmp_path_factory.mktemp("good")
    random_bundle(d / "tiny", "tiny", seed=1)
    random_bundle(d / "odd", ODD_CONFIG, seed=1)
    return d


# ---------------------------------------------------------------------------- round trip

def test_round_trip(tmp_path):
    b = random_bundle(tmp_path / "b", "tiny", seed=2)
    again = gb.load_bundle(tmp_path / "b")
    meta = json.loads((tmp_path / "b" / "model.json").read_text())
    assert meta["format"] == gb.FORMAT == "qgp-bundle" and meta["version"] == gb.VERSION == 1
    sha = hashlib.sha256((tmp_path / "b" / "arrays.npz").read_bytes()).hexdigest()
    assert meta["arrays"] == {"file": "arrays.npz", "sha256": sha}
    assert [L["name"] for L in again.layers] == ["conv0", "conv1", "conv2", "head"]
    with np.load(tmp_path / "b" / "arrays.npz") as z:
        assert (again.layers[1]["tap"] == z["conv1.tap"]).all()
        assert (again.layers[0]["requant"]["m"] == z["conv0.m"]).all()
    assert again.meta == b.meta
    # write_bundle of the loaded content reproduces the same arrays and widths
    arrays = dict(np.load(tmp_path / "b" / "arrays.npz"))
    b2 = gb.write_bundle(tmp_path / "c", meta, arrays)
    assert b2.meta["layers"] == meta["layers"]
    # replacing an existing bundle leaves no temp dirs behind
    gb.write_bundle(tmp_path / "c", meta, arrays)
    assert sorted(os.listdir(tmp_path)) == ["b", "c"]


def test_write_bundle_refuses_invalid_and_keeps_old(tmp_path):
    random_bundle(tmp_path / "b", "tiny", seed=2)
    meta = json.loads((tmp_path / "b" / "model.json").read_text())
    arrays = dict(np.load(tmp_path / "b" / "arrays.npz"))
    before = (tmp_path / "b" / "model.json").read_bytes()
    arrays["conv1.tap"] = arrays["conv1.tap"].copy()
    arrays["conv1.tap"][0, 0] = 9
    with pytest.raises(QGPError) as ei:
        gb.write_bundle(tmp_path / "b", meta, arrays)
    assert "conv1.tap" in str(ei.value)
    assert (tmp_path / "b" / "model.json").read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["b"]


def test_required_widths_formulas():
    layer = {"type": "conv_qgp", "sign": np.array([[0, 0, 1], [1, 1, 1]]),
             "requant": {"m": np.array([3, -2]), "b": np.array([5, -7])}}
    wc = gb.worst_case(layer, 4, 4)
    # acc o=0: [-15, 30]; o=1: [-45, 0]; prod o=0: [-45+5, 90+5]; o=1: [0-7, 90-7]
    assert wc == {"acc": (-45, 30), "prod": (-40, 95)}
    assert gb.required_widths(layer, 4, 4) == {"acc_bits": 7, "prod_bits": 8}
    dense = {"type": "conv_dense", "weight": np.array([[[[127] * 3] * 3]]),
             "requant": {"m": np.array([1]), "b": np.array([0])}}
    assert gb.worst_case(dense, 8, 4)["acc"] == (0, 9 * 127 * 255)
    head = {"type": "gsum_fc", "height": 7, "width": 7, "weight": np.array([[1, -2], [3, 0]]),
            "bias": np.array([10, -10])}
    assert gb.worst_case(head, 4, 4) == {"gsum": (0, 735), "logit": (-1460, 2195)}
    assert gb.required_widths(head, 4, 4) == {"gsum_bits": 10, "logit_bits": 13}
    assert gb.signed_bits(-128, 127) == 8 and gb.signed_bits(0, 128) == 9 and gb.signed_bits(-129, 0) == 9
    assert gb.unsigned_bits(255) == 8 and gb.unsigned_bits(0) == 1


# ---------------------------------------------------------------------------- bad bundles

def edit_json(d, fn):
    p = d / "model.json"
    meta = json.loads(p.read_text())
    fn(meta)
    p.write_text(json.dumps(meta))


def edit_array(d, name, fn):
    """Change one array and re-hash, so that only the intended check can fail."""
    p = d / "arrays.npz"
    arrays = dict(np.load(p))
    arrays[name] = fn(arrays[name].copy())
    np.savez(p, **arrays)
    edit_json(d, lambda m: m["arrays"].__setitem__("sha256", hashlib.sha256(p.read_bytes()).hexdigest()))


def setitem(path, value):
    def f(meta):
        obj = meta
        for k in path[:-1]:
            obj = obj[k]
        obj[path[-1]] = value
    return f


def add(path, delta):
    def f(meta):
        obj = meta
        for k in path[:-1]:
            obj = obj[k]
        obj[path[-1]] += delta
    return f


def delitem(path):
    def f(meta):
        obj = meta
        for k in path[:-1]:
            obj = obj[k]
        del obj[path[-1]]
    return f


def trunc(d, fname, keep):
    p = d / fname
    raw = p.read_bytes()
    p.write_bytes(raw[:keep if keep >= 0 else len(raw) + keep])


def put(arr, idx, value):
    arr = arr.astype(np.int64)
    arr[idx] = value
    return arr


# (id, base bundle, mutation(dir), file named in the message, field named in the message)
CASES = [
    ("missing_model_json", "tiny", lambda d: os.remove(d / "model.json"), "model.json", "file"),
    ("truncated_json", "tiny", lambda d: trunc(d, "model.json", 200), "model.json", "json"),
    ("invalid_json", "tiny", lambda d: (d / "model.json").write_text("{'format': qgp}"), "model.json", "json"),
    ("json_not_object", "tiny", lambda d: (d / "model.json").write_text("[1, 2]"), "model.json", "json"),
    ("binary_json", "tiny", lambda d: (d / "model.json").write_bytes(b"\xff\xfe\x00junk"), "model.json", "json"),
    ("format_wrong", "tiny", lambda d: edit_json(d, setitem(["format"], "onnx")), "model.json", "format"),
    ("format_missing", "tiny", lambda d: edit_json(d, delitem(["format"])), "model.json", "format"),
    ("version_999", "tiny", lambda d: edit_json(d, setitem(["version"], 999)), "model.json", "version"),
    ("version_string", "tiny", lambda d: edit_json(d, setitem(["version"], "1")), "model.json", "version"),
    ("missing_npz", "tiny", lambda d: os.remove(d / "arrays.npz"), "arrays.npz", "file"),
    ("truncated_npz", "tiny", lambda d: trunc(d, "arrays.npz", -300), "arrays.npz", "npz"),
    ("empty_npz", "tiny", lambda d: trunc(d, "arrays.npz", 0), "arrays.npz", "npz"),
    ("appended_bytes_npz", "tiny", lambda d: open(d / "arrays.npz", "ab").write(b"garbage!"), "arrays.npz", "sha256"),
    ("sha256_mismatch", "tiny", lambda d: edit_json(d, setitem(["arrays", "sha256"], "0" * 64)), "arrays.npz", "sha256"),
    ("sha256_malformed", "tiny", lambda d: edit_json(d, setitem(["arrays", "sha256"], "xyz")), "model.json", "arrays.sha256"),
    ("arrays_file_escapes", "tiny", lambda d: edit_json(d, setitem(["arrays", "file"], "../x.npz")), "model.json", "arrays.file"),
    ("missing_array_name", "tiny", lambda d: edit_json(d, setitem(["layers", 1, "tap"], "conv1.nope")), "arrays.npz", "conv1.nope"),
    ("missing_layer_field", "tiny", lambda d: edit_json(d, delitem(["layers", 0, "requant", "shift"])), "model.json", "layers[0].requant.shift"),
    ("unknown_layer_type", "tiny", lambda d: edit_json(d, setitem(["layers", 1, "type"], "conv_sparse")), "model.json", "layers[1].type"),
    ("head_not_last", "tiny", lambda d: edit_json(d, lambda m: m["layers"].pop()), "model.json", "layers[2].type"),
    ("shape_tap", "tiny", lambda d: edit_array(d, "conv1.tap", lambda a: a[:, :3]), "arrays.npz", "conv1.tap"),
    ("shape_weight", "tiny", lambda d: edit_array(d, "conv0.weight", lambda a: a[:, :, :2]), "arrays.npz", "conv0.weight"),
    ("shape_m", "tiny", lambda d: edit_array(d, "conv2.m", lambda a: a[:5]), "arrays.npz", "conv2.m"),
    ("float_dtype", "tiny", lambda d: edit_array(d, "conv1.sign", lambda a: a.astype(np.float32)), "arrays.npz", "conv1.sign"),
    ("tap_9", "tiny", lambda d: edit_array(d, "conv1.tap", lambda a: put(a, (1, 2), 9)), "arrays.npz", "conv1.tap"),
    ("tap_negative", "tiny", lambda d: edit_array(d, "conv2.tap", lambda a: put(a, (0, 0), -1)), "arrays.npz", "conv2.tap"),
    ("sign_2", "tiny", lambda d: edit_array(d, "conv2.sign", lambda a: put(a, (3, 1), 2)), "arrays.npz", "conv2.sign"),
    ("weight_outside_wbits", "tiny", lambda d: edit_array(d, "conv0.weight", lambda a: put(a, (0, 0, 1, 1), -128)), "arrays.npz", "conv0.weight"),
    ("wbits_too_small", "tiny", lambda d: edit_json(d, setitem(["layers", 0, "wbits"], 4)), "arrays.npz", "conv0.weight"),
    ("m_outside_m_bits", "tiny", lambda d: edit_json(d, setitem(["layers", 1, "requant", "m_bits"], 3)), "arrays.npz", "conv1.m"),
    ("b_outside_b_bits", "tiny", lambda d: edit_json(d, setitem(["layers", 2, "requant", "b_bits"], 2)), "arrays.npz", "conv2.b"),
    ("head_weight_outside", "tiny", lambda d: edit_array(d, "head.weight", lambda a: put(a, (0, 0), 300)), "arrays.npz", "head.weight"),
    ("bias_outside_bias_bits", "tiny", lambda d: edit_json(d, setitem(["layers", 3, "bias_bits"], 2)), "arrays.npz", "head.bias"),
    ("chain_channels", "tiny", lambda d: edit_json(d, setitem(["layers", 2, "in_channels"], 5)), "model.json", "layers[2].in_channels"),
    ("chain_first_channels", "tiny", lambda d: edit_json(d, setitem(["input", "channels"], 3)), "model.json", "layers[0].in_channels"),
    ("chain_head_channels", "tiny", lambda d: edit_json(d, setitem(["layers", 3, "in_channels"], 4)), "model.json", "layers[3].in_channels"),
    ("chain_spatial_pool", "tiny", lambda d: edit_json(d, setitem(["layers", 1, "pool"], False)), "model.json", "layers[2].height"),
    ("chain_spatial_width", "tiny", lambda d: edit_json(d, setitem(["layers", 3, "width"], 3)), "model.json", "layers[3].width"),
    ("pool_odd_size", "odd", lambda d: edit_json(d, setitem(["layers", 1, "pool"], True)), "model.json", "layers[1].pool"),
    ("acc_bits_too_small", "tiny", lambda d: edit_json(d, add(["layers", 1, "acc_bits"], -1)), "model.json", "layers[1].acc_bits"),
    ("dense_acc_bits_too_small", "tiny", lambda d: edit_json(d, setitem(["layers", 0, "acc_bits"], 16)), "model.json", "layers[0].acc_bits"),
    ("prod_bits_too_small", "tiny", lambda d: edit_json(d, add(["layers", 2, "requant", "prod_bits"], -1)), "model.json", "layers[2].requant.prod_bits"),
    ("prod_bits_over_62", "tiny", lambda d: edit_json(d, setitem(["layers", 1, "requant", "prod_bits"], 63)), "model.json", "layers[1].requant.prod_bits"),
    ("gsum_bits_too_small", "tiny", lambda d: edit_json(d, setitem(["layers", 3, "gsum_bits"], 7)), "model.json", "layers[3].gsum_bits"),
    ("logit_bits_too_small", "tiny", lambda d: edit_json(d, add(["layers", 3, "logit_bits"], -1)), "model.json", "layers[3].logit_bits"),
    ("shift_negative", "tiny", lambda d: edit_json(d, setitem(["layers", 1, "requant", "shift"], -1)), "model.json", "layers[1].requant.shift"),
    ("abits_missing", "tiny", lambda d: edit_json(d, delitem(["abits"])), "model.json", "abits"),
]


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "golden", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_bundle_cli(good, tmp_path, case):
    _, base, mutate, fname, field = case
    d = tmp_path / "bundle"
    shutil.copytree(good / base, d)
    mutate(d)
    out = tmp_path / "out" / "eval.json"
    r = run_cli("eval", "--bundle", str(d), "--out", str(out), "--data-dir", str(tmp_path / "nodata"))
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    assert len(lines) == 1, r.stderr
    line = lines[0]
    assert line.startswith("error: "), line
    file_part, field_part = line[len("error: "):].split(": ")[:2]
    assert file_part.endswith(fname), line
    assert str(d) in file_part, line
    assert field_part == field, line
    assert not out.exists() and not out.parent.exists()
    # the library raises the same error
    with pytest.raises(QGPError) as ei:
        gb.load_bundle(d)
    assert f"error: {ei.value}" == line


def test_no_bundle_dir(tmp_path):
    r = run_cli("info", "--bundle", str(tmp_path / "nope"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "nope" in r.stderr
    assert "Traceback" not in r.stderr


def test_cli_usage_errors_are_one_line(tmp_path, good):
    for args in (["eval"], ["eval", "--bundle", str(good / "tiny"), "--limit", "0"], ["frobnicate"]):
        r = run_cli(*args)
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and r.stderr.startswith("error: "), r.stderr
    r = run_cli("eval", "--help")
    assert r.returncode == 0 and "--limit" in r.stdout and "--data-dir" in r.stdout


def test_bad_dataset_cli(good, tmp_path):
    out = tmp_path / "eval.json"
    r = run_cli("eval", "--bundle", str(good / "tiny"), "--dataset", "mnist", "--data-dir", str(tmp_path), "--out", str(out))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "t10k-images-idx3-ubyte" in r.stderr
    assert not out.exists()
