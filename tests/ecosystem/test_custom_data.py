"""Custom data sets (golden.datasets npz:PATH and folder:PATH) on small generated files: every
accepted layout, shapes and class names taken from the data, and every bad case as one line."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qgp.golden import datasets
from qgp.golden.errors import QGPError

ROOT = Path(__file__).resolve().parents[2]


def make_npz(path, n_train=30, n_test=12, k=3, shape=(12, 12), layout="NHW", names=True, seed=0, **over):
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        y = np.arange(n) % k
        x = rng.integers(0, 256, (n, *shape)).astype(np.uint8)
        arrays[f"x_{split}"], arrays[f"y_{split}"] = x, y
    if names:
        arrays["class_names"] = np.array([f"c{i}" for i in range(k)])
    arrays.update(over)
    np.savez(path, **arrays)
    return arrays


def make_folder(root, k=3, n_train=4, n_test=2, size=(10, 12), mode="L", ext=".png", seed=0):
    from PIL import Image
    rng = np.random.default_rng(seed)
    out = {}
    for split, n in (("train", n_train), ("test", n_test)):
        for c in range(k):
            d = Path(root) / split / f"class_{c}"
            d.mkdir(parents=True, exist_ok=True)
            for j in range(n):
                shape = (size[1], size[0]) if mode == "L" else (size[1], size[0], 3)
                a = rng.integers(0, 256, shape).astype(np.uint8)
                Image.fromarray(a, mode).save(d / f"img{j}{ext}")
                out[(split, c, j)] = a
    return out


# ---------------------------------------------------------------------------- npz

@pytest.mark.parametrize("layout", ["NHW", "NCHW", "NHWC"])
def test_npz_layouts(tmp_path, layout):
    rng = np.random.default_rng(1)
    base = rng.integers(0, 256, (6, 3, 8, 10)).astype(np.uint8)  # N, C, H, W
    x = {"NHW": base[:, 0], "NCHW": base, "NHWC": base.transpose(0, 2, 3, 1)}[layout]
    y = np.array([0, 1, 2, 0, 1, 2], dtype=np.uint8)
    np.savez(tmp_path / "d.npz", x_train=x, y_train=y, x_test=x[:2], y_test=y[:2])
    spec = f"npz:{tmp_path / 'd.npz'}"
    xs, ys = datasets.load(spec, "train")
    want = base[:, :1] if layout == "NHW" else base
    assert xs.dtype == np.uint8 and np.array_equal(xs, want)
    assert ys.dtype == np.int64 and list(ys) == list(y)
    info = datasets.info(spec)
    assert (info["channels"], info["height"], info["width"]) == want.shape[1:]
    assert info["classes"] == 3 and info["class_names"] == ["0", "1", "2"]
    xt, yt = datasets.load(spec, "test")
    assert np.array_equal(xt, want[:2]) and list(yt) == [0, 1]


def test_npz_class_names_and_class_count(tmp_path):
    make_npz(tmp_path / "d.npz", k=3, names=False, y_train=np.arange(30) % 4,
             class_names=np.array(["cat", "dog", "emu", "fox"]))  # class 3 has no test images
    make_npz(tmp_path / "e.npz", k=3)
    info = datasets.info(f"npz:{tmp_path / 'd.npz'}")
    assert info["classes"] == 4 and info["class_names"] == ["cat", "dog", "emu", "fox"]
    assert datasets.class_names(f"npz:{tmp_path / 'e.npz'}") == ["c0", "c1", "c2"]
    assert datasets.class_names("fmnist")[0] == "T-shirt/top" and len(datasets.class_names("fmnist")) == 10


def _bad(tmp_path, **over):
    p = tmp_path / "bad.npz"
    make_npz(p, **over)
    return f"npz:{p}"


@pytest.mark.parametrize("case,field,words", [
    ("missing_key", "y_test", "missing array"),
    ("float_images", "x_train", "expected uint8"),
    ("wrong_ndim", "x_test", "expected images"),
    ("ambiguous", "x_train", "cannot tell"),
    ("count", "y_train", "expected equal counts"),
    ("float_labels", "y_train", "expected integer labels"),
    ("negative", "y_test", "< 0"),
    ("empty_class", "y_train", "empty class"),
    ("test_shape", "y_test", "expected the same shape"),
    ("few_names", "class_names", "labels go up to"),
    ("pickled_names", "npz", "pickled"),
    ("one_class", "y_train", "at least 2"),
])
def test_npz_errors_name_file_and_field(tmp_path, case, field, words):
    p = tmp_path / "bad.npz"
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (9, 6, 6)).astype(np.uint8)
    y = np.arange(9) % 3
    a = {"x_train": x, "y_train": y, "x_test": x[:3], "y_test": y[:3]}
    if case == "missing_key":
        del a["y_test"]
    elif case == "float_images":
        a["x_train"] = x.astype(np.float32)
    elif case == "wrong_ndim":
        a["x_test"] = x[:3].reshape(3, 36)
    elif case == "ambiguous":
        a["x_train"] = rng.integers(0, 256, (9, 3, 4, 3)).astype(np.uint8)
    elif case == "count":
        a["y_train"] = y[:8]
    elif case == "float_labels":
        a["y_train"] = y.astype(np.float64)
    elif case == "negative":
        a["y_test"] = np.array([0, -1, 2])
    elif case == "empty_class":
        a["y_train"] = np.where(y == 1, 2, y)
    elif case == "test_shape":
        a["x_test"] = rng.integers(0, 256, (3, 7, 7)).astype(np.uint8)
    elif case == "few_names":
        a["class_names"] = np.array(["a", "b"])
    elif case == "pickled_names":
        a["class_names"] = np.array(["a", "b", None], dtype=object)
    elif case == "one_class":
        a["y_train"], a["y_test"] = np.zeros(9, int), np.zeros(3, int)
    np.savez(p, **a)
    with pytest.raises(QGPError) as ei:
        datasets.load(f"npz:{p}", "train")
    e = ei.value
    assert e.file == str(p) and e.field == field and words in e.message, str(e)


def test_npz_missing_and_corrupt_files(tmp_path):
    with pytest.raises(QGPError, match="missing; expected a .npz"):
        datasets.load(f"npz:{tmp_path / 'nope.npz'}", "train")
    make_npz(tmp_path / "d.npz")
    raw = (tmp_path / "d.npz").read_bytes()
    (tmp_path / "t.npz").write_bytes(raw[:len(raw) // 2])
    with pytest.raises(QGPError) as ei:
        datasets.load(f"npz:{tmp_path / 't.npz'}", "train")
    assert ei.value.field == "npz" and "corrupt" in ei.value.message
    for spec in ("npz:", "mnst", "zip:x"):
        with pytest.raises(QGPError, match="dataset: name"):
            datasets.load(spec, "test")


def test_cli_bad_data_is_one_line(tmp_path):
    make_npz(tmp_path / "d.npz", names=False, y_train=np.zeros(30, int))
    for args in (["-m", "golden", "eval", "--bundle", "models/fmnist", "--data", f"npz:{tmp_path / 'd.npz'}",
                  "--out", str(tmp_path / "e.json")],
                 ["-m", "golden", "eval", "--bundle", "models/fmnist", "--data", f"folder:{tmp_path / 'none'}",
                  "--out", str(tmp_path / "e.json")]):
        r = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and r.stderr.startswith("error: ") and r.stderr.count("\n") == 1, r.stderr
        assert not (tmp_path / "e.json").exists()


# ---------------------------------------------------------------------------- folder

@pytest.mark.parametrize("mode,ext", [("L", ".png"), ("RGB", ".png"), ("RGB", ".jpg")])
def test_folder_reader(tmp_path, mode, ext):
    pix = make_folder(tmp_path / "f", mode=mode, ext=ext)
    spec = f"folder:{tmp_path / 'f'}"
    x, y = datasets.load(spec, "train")
    c = 1 if mode == "L" else 3
    assert x.shape == (12, c, 12, 10) and x.dtype == np.uint8
    assert list(y) == [0] * 4 + [1] * 4 + [2] * 4
    info = datasets.info(spec)
    assert info["class_names"] == ["class_0", "class_1", "class_2"] and info["classes"] == 3
    if ext == ".png":  # lossless: pixel for pixel
        want = pix[("train", 1, 2)]
        got = x[4 + 2]
        assert np.array_equal(got[0] if mode == "L" else got.transpose(1, 2, 0), want)
    xt, yt = datasets.load(spec, "test")
    assert xt.shape == (6, c, 12, 10) and list(yt) == [0, 0, 1, 1, 2, 2]


def test_folder_errors(tmp_path):
    from PIL import Image
    make_folder(tmp_path / "a")
    (tmp_path / "a" / "train" / "class_1" / "img9.png").write_bytes(b"not a png")
    with pytest.raises(QGPError) as ei:
        datasets.load(f"folder:{tmp_path / 'a'}", "train")
    assert ei.value.file.endswith("img9.png") and ei.value.field == "image"

    make_folder(tmp_path / "b")
    Image.fromarray(np.zeros((5, 5), np.uint8), "L").save(tmp_path / "b" / "test" / "class_2" / "odd.png")
    with pytest.raises(QGPError, match="expected one size"):
        datasets.load(f"folder:{tmp_path / 'b'}", "test")

    make_folder(tmp_path / "c")
    (tmp_path / "c" / "train" / "class_3").mkdir()
    with pytest.raises(QGPError) as ei:
        datasets.load(f"folder:{tmp_path / 'c'}", "train")
    assert ei.value.file.endswith("class_3") and "empty class" in ei.value.message

    make_folder(tmp_path / "d")
    (tmp_path / "d" / "test" / "extra").mkdir()
    with pytest.raises(QGPError, match="not a class of train"):
        datasets.load(f"folder:{tmp_path / 'd'}", "test")

    (tmp_path / "e" / "train" / "x").mkdir(parents=True)
    Image.fromarray(np.zeros((5, 5), np.uint8), "L").save(tmp_path / "e" / "train" / "x" / "a.png")
    with pytest.raises(QGPError) as ei:
        datasets.load(f"folder:{tmp_path / 'e'}", "train")
    assert ei.value.file == str(tmp_path / "e" / "test") and "missing" in ei.value.message


# ---------------------------------------------------------------------------- synth config files

def test_synth_accepts_training_config_files(tmp_path):
    for cfg in ("train/configs/tiny.json", "train/configs/fmnist-ft.json"):
        out = tmp_path / Path(cfg).stem
        r = subprocess.run([sys.executable, "-m", "golden", "synth", "--config", cfg, "--out", str(out)],
                           cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        meta = json.loads((out / "model.json").read_text())
        from qgp.golden.configs import load_config
        tc = load_config(str(ROOT / cfg))
        assert [L.get("out_channels") for L in meta["layers"][:-1]] == [L["out_channels"] for L in tc["layers"]]
        assert meta["layers"][-1]["classes"] == tc["classes"] and meta["input"] == tc["input"]
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x", "layers": [{"out_channels": 3}]}')
    r = subprocess.run([sys.executable, "-m", "golden", "synth", "--config", str(bad), "--out", str(tmp_path / "z")],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "malformed config" in r.stderr
    assert not (tmp_path / "z").exists()
