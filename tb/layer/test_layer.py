"""One layer of a bundle on real Fashion-MNIST test images: the input of layer n is golden's
output of layer n-1 (golden.model.run(...).activations[n]); every output beat is compared with
golden's activations[n+1] (for the gsum_fc head: logits and predicted class).

Environment (pytest and ``python -m tb.layer``, which is ``make sim``):
  LAYER=n     layer index in bundle.layers (pytest: default all layers of the small bundles)
  IMAGES=k    images (default 2)
  BUNDLE=dir  bundle (default models/fmnist if it exists, else a synthetic bundle of the fmnist
              shape from golden.synth.random_bundle, cached in build/sim/synth/fmnist)
  SIM=s       simulator, icarus or verilator (tb.common.runner; ``python -m tb.layer``: verilator)
  WAVES=1     dump an FST
``run_layer_sim(...)`` prepares the data (golden), builds and runs; the cocotb tests below run
inside the simulator and leave a summary.json next to results.xml."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

import cocotb

from qgp.golden import model
from qgp.golden.bundle import load_bundle
from qgp.rtl.gen.params import layer_info
from qgp.tb.common import Beat, pack, random_pattern
from qgp.tb.common.frames import channel_fmt, pixel_beats, pixel_frames
from qgp.tb.common.runner import BUILD, REPO, build_and_test, sources_for
from qgp.tb.common.tb import StreamTB

SHIPPED = REPO / "models" / "fmnist"


# ------------------------------------------------------------------ inside the simulator

def _expected(data, p, module):
    if module == "gsum_fc":
        lw, cw = p["LOGIT_W"], p["CLASS_W"]
        return [Beat(pack(lg, lw) << cw | int(c), 1) for lg, c in zip(data["logits"], data["pred"])]
    return pixel_beats(data["y"], p["ABITS"])


class TB(StreamTB):
    def __init__(self, dut, **kw):
        super().__init__(dut, **kw)
        self.data = np.load(os.environ["TB_DATA"])
        self.info = json.loads(os.environ["TB_INFO"])
        self.module = self.info["module"]
        if self.module != "gsum_fc":
            self.sb.fmt = channel_fmt(self.p["ABITS"], self.p["CO"])
        self.in_bits = self.p.get("IN_BITS", self.p.get("BITS"))

    def load(self, images=None):
        x = self.data["x"] if images is None else self.data["x"][:images]
        d = {k: self.data[k][:len(x)] for k in self.data.files}
        self.expected.extend(_expected(d, self.p, self.module))
        for fr in pixel_frames(x, self.in_bits):
            self.source.append(fr)
        return len(x)

    def summary(self, name, images):
        out = Path(os.environ["TB_SUMMARY_DIR"]) / f"summary_{name}.json"
        first = self.source.first_beat_cycle
        last = self.monitor.cycles[-1] if self.monitor.cycles else first
        s = {"test": name, "layer": self.info["index"], "module": self.module, "images": images,
             "beats_compared": self.sb.compared, "mismatches": self.sb.mismatches,
             "cycles_total": last - first, "cycles_per_image": (last - first) / max(images, 1),
             "frame_cycles_stated": self.info["frame_cycles"]}
        out.write_text(json.dumps(s, indent=1))
        self.log.info("layer %d (%s): %d images, %d beats compared, %d mismatches, "
                      "%.1f cycles per image", s["layer"], self.module, images,
                      s["beats_compared"], s["mismatches"], s["cycles_per_image"])
        return s


@cocotb.test()
async def test_images(dut):
    """All images back-to-back, input every clock, output always ready: exact output and the
    stated cycle count (H*W*FOLD per image + the module's latency)."""
    tb = TB(dut)
    await tb.reset()
    n = tb.load()
    await tb.wait_done(timeout_cycles=4 * n * tb.info["frame_cycles"] + 2000)
    s = tb.summary("images", n)
    tb.check()
    if tb.module == "gsum_fc":
        got = tb.monitor.cycles[0] - tb.source.first_beat_cycle
        want = tb.info["frame_cycles"]          # H*W + CI + K - 1, first image
    else:
        got = s["cycles_total"]
        want = n * (tb.info["frame_cycles"] - tb.info["latency"]) + tb.info["latency"]
    assert got == want, f"timing: {got} cycles, expected {want}"


@cocotb.test(skip=os.environ.get("TB_STRESS", "1") != "1")
async def test_random_valid_ready(dut):
    """The first image with 50 % random valid and 50 % random ready."""
    tb = TB(dut, idle=random_pattern(0.5, 31), backpressure=random_pattern(0.5, 32))
    await tb.reset()
    n = tb.load(images=1)
    await tb.wait_done(timeout_cycles=12 * n * tb.info["frame_cycles"] + 2000)
    tb.summary("random_valid_ready", n)
    tb.check()


# ------------------------------------------------------------------ outside: data + build

def default_bundle():
    if os.environ.get("BUNDLE"):
        return Path(os.environ["BUNDLE"])
    if (SHIPPED / "model.json").exists():
        return SHIPPED
    return synth_bundle("fmnist")


def synth_bundle(config, seed=0, extreme=False):
    from qgp.golden.synth import random_bundle
    tag = config if isinstance(config, str) else config.get("name", "cfg")
    d = BUILD / "synth" / f"{tag}_{seed}_{extreme}"
    if not (d / "model.json").exists():
        random_bundle(str(d), config, seed=seed, extreme=extreme)
    return d


def fmnist_images(k, shape):
    """k Fashion-MNIST test images (first k), or random images if the shape differs / the data
    set is missing."""
    c, h, w = shape
    try:
        from qgp.golden.datasets import load
        x, _ = load("fmnist", "test")
        if tuple(x.shape[1:]) == (c, h, w):
            return x[:k]
    except Exception:  # noqa: BLE001  (no data set here: random images are a fine input)
        pass
    return np.random.default_rng(0).integers(0, 256, size=(k, c, h, w)).astype(np.uint8)


def _digest(obj):
    import hashlib
    return hashlib.sha1(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:10]


def run_layer_sim(index, bundle_dir=None, images=2, image_data=None, name=None, stress=True,
                  results_xml=None, folding=None, sim=None):
    """Simulate layer ``index`` of a bundle, folded as the network folds it (``folding``: a
    rtl.gen.plan spec, None = rate-matched) on ``sim`` (tb.common.runner.simulator); returns
    (tests, failed, results_xml, summaries)."""
    bundle_dir = Path(bundle_dir or default_bundle())
    b = load_bundle(str(bundle_dir))
    if not 0 <= index < len(b.layers):
        raise ValueError(f"layer {index}: the bundle has layers 0..{len(b.layers) - 1}")
    inp = b.meta["input"]
    x0 = image_data if image_data is not None else \
        fmnist_images(images, (inp["channels"], inp["height"], inp["width"]))
    res = model.run(b, x0)
    name = name or f"layer{index}"
    out_dir = BUILD / name
    out_dir.mkdir(parents=True, exist_ok=True)
    for f in out_dir.glob("summary_*.json"):
        f.unlink()
    # folding as the network uses it (rtl.gen.plan, the one owner of folding)
    from qgp.rtl.gen.plan import folding_plan
    plan = folding_plan(b, folding)
    L = b.layers[index]
    abits = int(b.meta["abits"])
    in_bits = int(inp["bits"]) if index == 0 else abits
    info = layer_info(L, abits, in_bits, str(out_dir / "mem"), L.get("name", f"l{index}"),
                      fold=plan[index]["fold"])
    data = {"x": res.activations[index]}
    if L["type"] == "gsum_fc":
        data.update(logits=res.logits, pred=res.pred)
    else:
        data["y"] = res.activations[index + 1]
    np.savez(out_dir / "data.npz", **data)
    tinfo = {k: v for k, v in info.items() if k != "params"}
    tinfo["index"] = index
    tests, failed, xml = build_and_test(
        info["module"], sources_for(info["module"]), info["params"], "tb.layer.test_layer",
        results_xml=str(results_xml or out_dir / "results.xml"),
        extra_env={"TB_DATA": str(out_dir / "data.npz"), "TB_INFO": json.dumps(tinfo),
                   "TB_SUMMARY_DIR": str(out_dir), "TB_STRESS": "1" if stress else "0"},
        name=f"{name}_build_{info['module']}_{_digest(info['params'])}", sim=sim,
        public_depth=1)
    summaries = [json.loads(f.read_text()) for f in sorted(out_dir.glob("summary_*.json"))]
    return tests, failed, xml, summaries


# ------------------------------------------------------------------ pytest

TINY_LAYERS = range(4)   # golden.synth "tiny": dense, qgp+pool, qgp, head


@pytest.mark.parametrize("index", TINY_LAYERS)
def test_layer_tiny(index):
    """Every layer of a small synthetic bundle (8x8 input, random images)."""
    d = synth_bundle("tiny", seed=3)
    x = np.random.default_rng(1).integers(0, 256, size=(2, 1, 8, 8)).astype(np.uint8)
    run_layer_sim(index, d, image_data=x, name=f"tiny_layer{index}")


@pytest.mark.parametrize("extreme", ["max", "min"])
@pytest.mark.parametrize("index", TINY_LAYERS)
def test_layer_extreme(index, extreme):
    """Extreme synthetic bundle (golden.synth extreme=...): all-0 and all-255 images; the
    accumulators reach their declared worst case; RTL == golden, no overflow."""
    d = synth_bundle("tiny", seed=4, extreme=extreme)
    x = np.stack([np.zeros((1, 8, 8)), np.full((1, 8, 8), 255)]).astype(np.uint8)
    run_layer_sim(index, d, image_data=x, name=f"extreme_{extreme}_layer{index}", stress=False)


@pytest.mark.skipif(not os.environ.get("LAYER"), reason="set LAYER=n (make sim LAYER=n) to run a "
                    "layer of the shipped bundle on real images")
def test_layer_env():
    run_layer_sim(int(os.environ["LAYER"]), images=int(os.environ.get("IMAGES", "2")))
