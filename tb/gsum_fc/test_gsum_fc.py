"""gsum_fc head vs golden.model.gsum_fc + golden.model.predict: logits and class of random
frames, ties -> lowest index, extreme weights / biases; exact cycle count; reset mid-frame."""

import os

import numpy as np
import pytest

import cocotb

from qgp.golden import model
from qgp.rtl.gen.params import layer_latency, layer_params
from qgp.tb.common import Beat, backpressure_patterns, idle_patterns, pack
from qgp.tb.common.frames import pixel_frames
from qgp.tb.common.layers import load_layer, random_head_layer, save_layer
from qgp.tb.common.runner import BUILD, build_and_test, sources_for
from qgp.tb.common.tb import StreamTB


def head_beat(logits, cls, p):
    return Beat(pack(logits, p["LOGIT_W"]) << p["CLASS_W"] | int(cls), 1)


def make_io(L, p, rng, n, x=None):
    if x is None:
        x = rng.integers(0, 1 << p["BITS"], size=(n, L["in_channels"], L["height"], L["width"]))
    logits = model.gsum_fc(x, L["weight"], L["bias"])
    pred = model.predict(logits)
    return pixel_frames(x, p["BITS"]), [head_beat(lg, c, p) for lg, c in zip(logits, pred)]


def head_fmt(p):
    def fmt(b):
        if b.data is None:
            return "X"
        cls = b.data & ((1 << p["CLASS_W"]) - 1)
        lw = p["LOGIT_W"]
        lg = [(b.data >> (p["CLASS_W"] + k * lw)) & ((1 << lw) - 1) for k in range(p["K"])]
        lg = [v - (1 << lw) if v >> (lw - 1) else v for v in lg]
        return f"class={cls} logits={lg} last={b.last}"
    return fmt


class TB(StreamTB):
    def __init__(self, dut, **kw):
        self.layer = load_layer()
        super().__init__(dut, **kw)
        self.sb.fmt = head_fmt(self.p)


@cocotb.parametrize(idle=list(idle_patterns()), backpressure=list(backpressure_patterns()))
async def run_test(dut, idle, backpressure):
    ig, bg = idle_patterns()[idle], backpressure_patterns()[backpressure]
    tb = TB(dut, idle=ig() if ig else None, backpressure=bg() if bg else None)
    L, p = tb.layer, tb.p
    await tb.reset()
    rng = np.random.default_rng(6)
    n = 4
    ins, outs = make_io(L, p, rng, n)
    # a frame whose logits tie (all-zero input: logits = bias; and equal biases if any)
    zi, zo = make_io(L, p, rng, 1, x=np.zeros((1, L["in_channels"], L["height"], L["width"]), int))
    ins, outs = ins + zi, outs + zo
    tb.expected.extend(outs)
    for fr in ins:
        tb.source.append(fr)
    hw = L["height"] * L["width"]
    await tb.wait_done(timeout_cycles=10 * (n + 1) * (hw * p["CI"] + p["CI"] + p["K"]) + 100)
    tb.check()
    if idle == "none" and backpressure == "none":
        got = tb.monitor.cycles[0] - tb.source.first_beat_cycle
        # module header: H*W + CI + K + 1 + HEAD_SKID + HEAD_FLAGS; SER: H*W*CI + K + 2 + HEAD_SKID
        want = hw * (p["CI"] if p["SER"] else 1) + layer_latency("gsum_fc", p)
        assert got == want, f"timing: {got} cycles, expected {want}"


@cocotb.test()
async def test_reset_mid_frame(dut):
    tb = TB(dut)
    L, p = tb.layer, tb.p
    rng = np.random.default_rng(10)
    await tb.reset()
    junk, _ = make_io(L, p, rng, 1)
    await tb.reset_mid_frame(junk[0], len(junk[0]) // 2)
    ins, outs = make_io(L, p, rng, 2)
    tb.expected.extend(outs)
    for fr in ins:
        tb.source.append(fr)
    await tb.wait_done(timeout_cycles=20 * (len(junk[0]) * p["CI"] + p["CI"] + p["K"]) + 100)
    tb.check()


@pytest.mark.parametrize("ci,k,h,w,extreme,tie,ser", [
    (4, 10, 3, 3, None, False, 0),
    (6, 3, 4, 2, None, True, 0),      # equal weights rows and biases: ties -> lowest index
    (5, 4, 2, 4, "max", False, 0),    # weights and bias at their positive extremes
    (5, 4, 2, 4, "min", False, 0),    # ... negative extremes
    (4, 10, 3, 3, None, False, 1),    # channel-serial (SER): the same frames
    (6, 3, 4, 2, None, True, 1),
    (5, 4, 2, 4, "max", False, 1),
    (5, 4, 2, 4, "min", False, 1),
])
def test_gsum_fc(ci, k, h, w, extreme, tie, ser):
    name = f"gsum_fc_{ci}_{k}_{h}x{w}_{extreme}_{tie}_s{ser}"
    L = random_head_layer(np.random.default_rng(ci * 10 + k), ci, k, h, w, extreme=extreme)
    if tie:
        L["weight"][1] = L["weight"][0]
        L["weight"][2] = L["weight"][0]
        L["bias"][:] = 7
        from qgp.golden.bundle import required_widths
        L.update(required_widths(L, 4, 4))
    path = save_layer(L, str(BUILD / "mem" / name / "layer.pkl"))
    params = layer_params(L, 4, 4, str(BUILD / "mem" / name), name, fold=ci if ser else 1)
    build_and_test("gsum_fc", sources_for("gsum_fc"), params, __name__,
                   extra_env={"TB_LAYER": path}, name=name)
