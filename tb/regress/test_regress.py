"""Whole-network regression tests: the generated qgp_net in Verilator == golden, image by image.

Run: .venv/bin/python -m pytest tb/regress -q
Each test drives the CLI (python -m tb.regress) the way `make regress` does and checks its JSON.
The network is the shipped bundle models/fmnist when present, else a seeded random bundle of
the same shape (golden.synth, config fmnist). The harness build is cached by content hash, so
only the first test of a bundle pays for it.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qgp.tb import regress as R

ROOT = R.ROOT
WORK = ROOT / "build" / "test_regress"
PY = sys.executable
LIMIT = 1.05  # cycles_per_image <= LIMIT * H*W


def _synth(name, config, seed=0, extreme=False):
    from qgp.golden.synth import random_bundle

    d = WORK / name
    if not (d / "model.json").exists():
        random_bundle(str(d), config, seed=seed, extreme=extreme)
    return d


@pytest.fixture(scope="session")
def net_bundle():
    shipped = ROOT / "models" / "fmnist"
    if (shipped / "model.json").exists():
        return shipped
    return _synth("synth_fmnist", "fmnist", seed=1)


def _regress(bundle, out_name, *extra, expect_rc=0):
    out = WORK / f"{out_name}.json"
    if out.exists():
        out.unlink()
    cmd = [PY, "-m", "tb.regress", "--bundle", str(bundle), "--out", str(out), "--jobs", "2",
           "--no-progress", *extra]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == expect_rc, f"{' '.join(cmd)} -> {res.returncode}\n{res.stderr[-3000:]}"
    assert "Traceback" not in res.stderr
    return json.loads(out.read_text()) if out.exists() else None, res


def _expected_cycles(bundle):
    """cycles per image the generated architecture implies (qgp_net.json, from the FOLD of
    every layer), checked here against the streaming limit H*W."""
    net = R.generate(bundle)
    exp = net["cycles_per_image"]
    hw = net["frame"]
    folds = [(l["params"]["H"] * l["params"]["W"] * l["fold"]) for l in net["layers"]
             if l["module"] != "gsum_fc"]
    assert exp == max([hw] + folds + [net["layers"][-1]["params"]["CI"]
                                      + net["layers"][-1]["params"]["K"]])
    return exp, hw


def test_normal(net_bundle):
    """50 real test images, input always valid, output always ready."""
    r, _ = _regress(net_bundle, "normal", "--n", "50")
    exp, hw = _expected_cycles(net_bundle)
    assert r["images"] == 50 and r["mismatches"] == 0
    assert r["cycles_per_image"] == exp, r["intervals"]
    assert r["intervals"]["min"] == r["intervals"]["max"] == exp  # periodic steady state
    assert exp <= LIMIT * hw
    assert r["latency_cycles"] > hw
    # the harness's deadlock watchdog is an upper bound of the real first-result latency
    assert r["latency_cycles"] < R.watchdog_cycles(R.generate(net_bundle))


def test_soak_backpressure(net_bundle):
    """50 images with 50% random valid on the input and 50% random ready on the output."""
    r, _ = _regress(net_bundle, "soak", "--n", "50", "--offset", "50", "--backpressure",
                    "--seed", "7")
    assert r["images"] == 50 and r["mismatches"] == 0
    assert r["mode"]["p_valid"] == 0.5 and r["mode"]["p_ready"] == 0.5


def test_reset_mid_frame(net_bundle):
    """rst in the middle of a frame with earlier images still in the pipeline; every image
    (the interrupted ones streamed again) must come out correct, nothing lost or extra."""
    r, _ = _regress(net_bundle, "reset", "--n", "12", "--offset", "100", "--reset-mid-frame")
    assert r["images"] == 12 and r["mismatches"] == 0
    assert len(r["resets"]) == r["jobs"]
    for x in r["resets"]:
        assert x["pixel"] > 0 and x["in_flight"] >= 1


def test_reset_mid_frame_backpressure(net_bundle):
    r, _ = _regress(net_bundle, "reset_bp", "--n", "12", "--offset", "200", "--reset-mid-frame",
                    "--backpressure", "--seed", "3")
    assert r["images"] == 12 and r["mismatches"] == 0


def _images_file(name, bundle, kinds):
    from qgp.golden.bundle import load_bundle

    inp = load_bundle(str(bundle)).meta["input"]
    shape = (inp["channels"], inp["height"], inp["width"])
    rng = np.random.default_rng(5)
    x = []
    for k in kinds:
        if k == "zero":
            x.append(np.zeros(shape, np.uint8))
        elif k == "max":
            x.append(np.full(shape, 255, np.uint8))
        else:
            x.append(rng.integers(0, 256, shape, dtype=np.uint8))
    p = WORK / f"{name}.npy"
    p.parent.mkdir(parents=True, exist_ok=True)
    np.save(p, np.stack(x))
    return p


def test_extreme_images(net_bundle):
    """all-0 and all-255 images (and random noise) back to back."""
    f = _images_file("extreme_images", net_bundle, ["zero", "max", "max", "zero", "rand", "max",
                                                    "zero", "zero", "max", "rand"])
    r, _ = _regress(net_bundle, "extreme_images", "--images-file", str(f), "--n", "10")
    assert r["images"] == 10 and r["mismatches"] == 0 and r["accuracy"] is None


@pytest.mark.parametrize("config,extreme", [("fmnist", "max"), ("tiny", "min"), ("tiny", "max")])
def test_extreme_bundle(config, extreme):
    """A generated bundle whose taps/signs/weights drive every accumulator to its declared
    limit (golden.synth extreme): RTL == golden on all-255, all-0 and random images."""
    b = _synth(f"extreme_{config}_{extreme}", config, seed=2, extreme=extreme)
    f = _images_file(f"extreme_{config}_{extreme}_img", b,
                     ["max", "zero", "max", "rand", "max", "zero"])
    r, _ = _regress(b, f"extreme_{config}_{extreme}", "--images-file", str(f), "--n", "6")
    assert r["images"] == 6 and r["mismatches"] == 0


@pytest.mark.parametrize("extra", [(), ("--backpressure",)])
def test_slow_plan_ring_and_serial_head(extra):
    """PE 1 everywhere on the tiny bundle: conv1 / conv2 keep their windows in tap memories
    (RING) and the head runs channel-serially (SER, it has the time): RTL == golden, the
    periodic steady state the plan states, under backpressure too."""
    b = _synth("synth_tiny", "tiny", seed=4)
    folding = "conv0:1,conv1:1,conv2:1"
    net = R.generate(b, out_dir=WORK / "gen_slow", folding=folding)
    par = {l["name"]: l["params"] for l in net["layers"]}
    assert par["conv1"]["RING"] == par["conv2"]["RING"] == 1 and par["head"]["SER"] == 1
    r, _ = _regress(b, "slow" + "_bp" * bool(extra), "--n", "12", "--folding", folding, *extra)
    assert r["images"] == 12 and r["mismatches"] == 0
    if not extra:
        assert r["intervals"]["min"] == r["intervals"]["max"] == net["cycles_per_image"]


# the shipped network's geometry (28x28, pools after conv1 and conv3) with few channels: every
# layer of the rate-matched plan is exactly at 784 cycles per image (no slack), conv2..conv5 keep
# their windows in tap memories (RING at FOLD 4, 4, 16, 16)
NARROW = {"name": "narrow", "dataset": None,
          "input": {"channels": 1, "height": 28, "width": 28, "bits": 8}, "abits": 4, "wbits": 8,
          "layers": [{"type": "conv_dense", "out_channels": 4},
                     {"type": "conv_qgp", "out_channels": 4, "pool": True},
                     {"type": "conv_qgp", "out_channels": 4},
                     {"type": "conv_qgp", "out_channels": 4, "pool": True},
                     {"type": "conv_qgp", "out_channels": 16},
                     {"type": "conv_qgp", "out_channels": 16},
                     {"type": "gsum_fc", "classes": 10}]}


def test_zero_slack_ring():
    """RING layers with no slack keep the plan's rate: every interval exactly H*W (a column that
    no window uses, e.g. at a frame's start after flush bubbles, costs no clock)."""
    b = _synth("synth_narrow", NARROW, seed=5)
    net = R.generate(b, out_dir=WORK / "gen_narrow")
    assert [l["params"].get("RING") for l in net["layers"][2:6]] == [1, 1, 1, 1]
    r, _ = _regress(b, "narrow", "--n", "20")
    assert r["images"] == 20 and r["mismatches"] == 0
    assert r["intervals"]["min"] == r["intervals"]["max"] == net["cycles_per_image"] == 784


def test_detects_a_wrong_network():
    """The regression must be able to fail: flip one sign in a generated memfile (read by the
    harness at run time) and the comparison with golden must report mismatches."""
    from qgp.golden import model
    from qgp.golden.bundle import load_bundle

    b = _synth("synth_tiny", "tiny", seed=4)
    net = R.generate(b, out_dir=WORK / "gen_corrupt")
    exe, _ = R.build(net, log=lambda s: None)
    bundle = load_bundle(str(b))
    rng = np.random.default_rng(0)
    inp = bundle.meta["input"]
    x = rng.integers(0, 256, (8, inp["channels"], inp["height"], inp["width"]), dtype=np.uint8)
    gold = model.run(bundle, x.astype(np.int64), keep_activations=False)
    res, _, _ = R.simulate(exe, net, x, jobs=1, progress=False)
    assert R.compare(res, gold.logits, gold.pred) == []
    ts = next(Path(p) for p in net["memfiles"] if p.endswith("_ts.mem"))
    orig = ts.read_text()
    try:
        words = orig.split()
        words[0] = format(int(words[0], 16) ^ (1 << 4), "0%dx" % len(words[0]))  # sign of (0, 0)
        ts.write_text("\n".join(words) + "\n")
        res, _, _ = R.simulate(exe, net, x, jobs=1, progress=False)
        assert R.compare(res, gold.logits, gold.pred) != []
    finally:
        ts.write_text(orig)


def test_cli_mismatch_exit_code_and_bad_bundle(tmp_path):
    """A bad bundle -> exit 2 and one line, no traceback, nothing written."""
    out = tmp_path / "r.json"
    res = subprocess.run([PY, "-m", "tb.regress", "--bundle", str(tmp_path / "nope"), "--out",
                          str(out), "--n", "2", "--no-progress"], cwd=ROOT, capture_output=True,
                         text=True)
    assert res.returncode == 2
    assert res.stderr.startswith("error: ") and "Traceback" not in res.stderr
    assert not out.exists()


def test_generated_top_and_bench_rtl_lint(net_bundle):
    """verilator --lint-only -Wall: the generated qgp_net (with the rtl/ modules it uses) and
    every rtl/bench module are clean."""
    res = subprocess.run([PY, "-m", "rtl.gen", "--bundle", str(net_bundle), "--out",
                          str(WORK / "gen_lint"), "--lint"], cwd=ROOT, capture_output=True,
                         text=True)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    assert "lint ok: qgp_net" in res.stdout
