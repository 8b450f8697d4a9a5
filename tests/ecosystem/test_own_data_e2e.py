"""Own data end to end: a generated npz data set and a generated image folder each train (config
tiny, a few batches), export, evaluate in golden and run through the RTL (Verilator) with no
mismatch, all through the command lines a user types (--data npz:PATH / folder:PATH)."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qgp.golden.bundle import load_bundle

ROOT = Path(__file__).resolve().parents[2]


def bands(rng, n, k, shape):
    """Images whose class is which horizontal band is bright (learnable in a few batches)."""
    c, h, w = shape
    y = np.arange(n) % k
    rng.shuffle(y)
    x = rng.integers(0, 60, (n, c, h, w)).astype(np.uint8)
    step = h // k
    for i, cl in enumerate(y):
        x[i, :, cl * step:(cl + 1) * step, :] += 150
    return x, y


def write_npz(path, rng):
    xtr, ytr = bands(rng, 96, 3, (1, 12, 12))
    xte, yte = bands(rng, 24, 3, (1, 12, 12))
    np.savez(path, x_train=xtr[:, 0], y_train=ytr, x_test=xte[:, 0], y_test=yte,
             class_names=np.array(["top", "middle", "bottom"]))
    return yte


def write_folder(root, rng):
    from PIL import Image
    names = ["north", "centre", "south"]
    for split, n in (("train", 96), ("test", 24)):
        x, y = bands(rng, n, 3, (3, 12, 16))
        for i, (img, cl) in enumerate(zip(x, y)):
            d = root / split / names[cl]
            d.mkdir(parents=True, exist_ok=True)
            Image.fromarray(img.transpose(1, 2, 0), "RGB").save(d / f"{i:03d}.png")
    return sorted(names)


def run(*args, timeout=600):
    r = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{' '.join(args)}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    return r


@pytest.mark.parametrize("kind", ["npz", "folder"])
def test_own_data_trains_exports_evaluates_and_simulates(tmp_path, kind):
    rng = np.random.default_rng(7)
    if kind == "npz":
        write_npz(tmp_path / "d.npz", rng)
        spec, shape, names = f"npz:{tmp_path / 'd.npz'}", [1, 12, 12], ["top", "middle", "bottom"]
    else:
        names = write_folder(tmp_path / "d", rng)
        spec, shape = f"folder:{tmp_path / 'd'}", [3, 12, 16]
    run("-m", "train", "train", "--config", "tiny", "--data", spec, "--epochs", "1", "--limit-batches", "2",
        "--threads", "1", "--out", str(tmp_path / "run"))
    run("-m", "train", "export", "--run", str(tmp_path / "run"), "--out", str(tmp_path / "b"))
    b = load_bundle(tmp_path / "b")
    inp = b.meta["input"]
    assert [inp["channels"], inp["height"], inp["width"]] == shape
    assert b.layers[-1]["classes"] == 3 and b.meta["accuracy"]["images"] == 24
    r = run("-m", "golden", "eval", "--bundle", str(tmp_path / "b"), "--data", spec,
            "--out", str(tmp_path / "eval.json"))
    e = json.loads((tmp_path / "eval.json").read_text())
    assert e["images"] == 24 and e["class_names"] == names
    assert e["accuracy"] == b.meta["accuracy"]["golden"]  # export recorded golden's own figure
    assert np.asarray(e["confusion"]).sum() == 24 and np.trace(e["confusion"]) == round(e["accuracy"] * 24)
    assert all(n in r.stdout for n in names)  # the per-class table names the classes
    assert (tmp_path / "eval-confusion.png").stat().st_size > 1000
    run("-m", "tb.regress", "--bundle", str(tmp_path / "b"), "--data", spec, "--n", "24", "--jobs", "1",
        "--out", str(tmp_path / "regress.json"), "--no-progress")
    rg = json.loads((tmp_path / "regress.json").read_text())
    assert rg["images"] == 24 and rg["mismatches"] == 0
    assert rg["accuracy"] == e["accuracy"]
