"""`pip install .` into a fresh venv (core dependencies only: numpy, tqdm) gives a `qgp` that
evaluates the shipped bundle (same accuracy as golden in-process), generates the network top
from the Verilog shipped as package data, and names the missing extra for train in one line."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIP = {".git", ".venv", "build", "runs", "__pycache__", ".pytest_cache", "sim_build", "data"}


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    d = tmp_path_factory.mktemp("install")
    src = d / "src"  # a copy: pip builds in the source tree (build/, *.egg-info)
    shutil.copytree(ROOT, src, ignore=lambda p, names: [n for n in names if n in SKIP or n.endswith(".egg-info")
                                                        or n.endswith(".pt")])
    py = shutil.which("python3") or sys.executable
    r = subprocess.run([py, "-m", "venv", str(d / "venv")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([str(d / "venv" / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", str(src)],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return d


def qgp(venv, *args, timeout=600):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = str(venv / "venv" / "bin") + os.pathsep + env.get("PATH", "")
    return subprocess.run([str(venv / "venv" / "bin" / "qgp"), *args], cwd=venv, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_installed_qgp_eval_matches_golden(venv):
    r = qgp(venv, "eval", "--bundle", str(ROOT / "models" / "fmnist"), "--limit", "200", "--out", "e2.json")
    assert r.returncode == 0, r.stderr[-2000:]
    e = json.loads((venv / "e2.json").read_text())
    from qgp.golden import datasets, model
    from qgp.golden.bundle import load_bundle
    b = load_bundle(ROOT / "models" / "fmnist")
    x, y = datasets.load("fmnist", "test")
    pred = model.run(b, x[:200], keep_activations=False).pred
    assert e["images"] == 200 and e["accuracy"] == float(np.mean(pred == y[:200]))
    assert "T-shirt/top" in r.stdout  # class names in the per-class table
    site = subprocess.run([str(venv / "venv" / "bin" / "python"), "-c", "import qgp.golden; print(qgp.golden.__file__)"],
                          capture_output=True, text=True, cwd=venv).stdout
    assert str(venv / "venv") in site  # the installed copy ran, not the checkout


def test_install_adds_one_top_level_name(venv):
    """Only ``qgp`` (and its dist-info) lands at the top of site-packages: no ``golden``, ``train``, ``tb``."""
    py = str(venv / "venv" / "bin" / "python")
    sp = Path(subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True).stdout.strip())
    ours = sorted(p.name for p in sp.iterdir() if p.name.startswith("qgp") or p.name in
                  ("golden", "train", "rtl", "tb", "impl"))
    assert ours == ["qgp", "qgp-0.1.0.dist-info"], ours
    r = subprocess.run([py, "-c", "import golden"], capture_output=True, text=True, cwd=venv)
    assert r.returncode != 0 and "No module named 'golden'" in r.stderr


def test_installed_gen_finds_the_shipped_verilog(venv):
    r = qgp(venv, "gen", "--bundle", str(ROOT / "models" / "fmnist"))
    assert r.returncode == 0, r.stderr[-2000:]
    net = json.loads((venv / "build" / "gen" / "fmnist" / "qgp_net.json").read_text())
    rtl = [p for p in net["sources"] if not p.endswith("qgp_net.v")]
    assert rtl and all(str(venv / "venv") in p and Path(p).is_file() for p in rtl)
    # the installed library holds the modules this network needs (its layers' closure)
    from qgp.rtl.gen import modules
    want = {f"{m}.v" for li in net["layers"] for m in modules.closure(li["module"], li["params"])}
    assert sorted(Path(p).name for p in rtl) == sorted(want)


def test_installed_commands_without_their_extra_say_so(venv):
    r = qgp(venv, "train", "--config", "tiny")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "pip install 'qgp[train]'" in r.stderr
    r = qgp(venv, "qonnx", "--bundle", str(ROOT / "models" / "fmnist"))
    assert r.returncode == 2 and "qgp[qonnx]" in r.stderr
    r = qgp(venv, "nope")
    assert r.returncode == 2 and "expected one of train, export, eval, gen, regress, impl, qonnx" in r.stderr
    r = qgp(venv, "--help")
    assert r.returncode == 0 and all(c in r.stdout for c in ("train", "export", "eval", "gen", "regress",
                                                               "impl", "qonnx"))
