"""The two conv cores, conv_qgp and conv_dense (+ fused requant), on windows of random frames vs
golden.model.layer_acc (conv_qgp_acc / conv_dense_acc) + golden.model.requant; exact cycle count;
reset in the middle of a frame. One cocotb test module serves both: the layer file says which."""

import os

import numpy as np
import pytest

import cocotb

from golden import model
from rtl.gen.params import layer_params
from tb.common import backpressure_patterns, idle_patterns
from tb.common.frames import channel_fmt, pixel_beats, window_frames
from tb.common.layers import load_layer, random_conv_layer, save_layer
from tb.common.runner import BUILD, build_and_test, sources_for
from tb.common.tb import StreamTB


def make_io(layer, rng, n):
    ib, ab = layer["in_bits"], layer["abits"]
    x = rng.integers(0, 1 << ib, size=(n, layer["in_channels"], layer["height"], layer["width"]))
    rq = layer["requant"]
    y = model.requant(model.layer_acc(layer, x), rq["m"], rq["b"], rq["shift"], ab)
    return window_frames(x, ib), pixel_beats(y, ab)


class TB(StreamTB):
    def __init__(self, dut, **kw):
        self.layer = load_layer()
        super().__init__(dut, fmt=channel_fmt(self.layer["abits"], self.layer["out_channels"]), **kw)


@cocotb.parametrize(idle=list(idle_patterns()), backpressure=list(backpressure_patterns()))
async def run_test(dut, idle, backpressure):
    ig, bg = idle_patterns()[idle], backpressure_patterns()[backpressure]
    tb = TB(dut, idle=ig() if ig else None, backpressure=bg() if bg else None)
    L, p = tb.layer, tb.p
    fold = p["CO"] // p["PE"]
    await tb.reset()
    n = 2
    ins, outs = make_io(L, np.random.default_rng(5), n)
    tb.expected.extend(outs)
    for fr in ins:
        tb.source.append(fr)
    pix = n * L["height"] * L["width"]
    await tb.wait_done(timeout_cycles=8 * pix * fold + 100)
    tb.check()
    if idle == "none" and backpressure == "none":
        # module header: P*FOLD + 2 cycles from the first window offered to the last output
        got = tb.monitor.cycles[-1] - tb.source.first_valid_cycle
        want = pix * fold + 2
        assert got == want, f"timing: {got} cycles, expected {want}"


@cocotb.test()
async def test_reset_mid_frame(dut):
    tb = TB(dut)
    L = tb.layer
    rng = np.random.default_rng(9)
    await tb.reset()
    junk, _ = make_io(L, rng, 1)
    await tb.reset_mid_frame(junk[0], len(junk[0]) // 2)
    ins, outs = make_io(L, rng, 2)
    tb.expected.extend(outs)
    for fr in ins:
        tb.source.append(fr)
    await tb.wait_done(timeout_cycles=20 * len(outs) * tb.p["CO"] // tb.p["PE"] + 100)
    tb.check()


def conv_module_params(kind, L, name):
    """Parameters of the bare conv module from rtl.gen.params' layer parameters."""
    lp = layer_params(L, L["abits"], L["in_bits"], str(BUILD / "mem" / name), name,
                      fold=L["fold"])
    keep = ["CI", "CO", "ACC_W", "PE", "M_W", "B_W", "PROD_W", "SHIFT", "ABITS", "M_FILE", "B_FILE"]
    p = {k: lp[k] for k in keep}
    if kind == "conv_qgp":
        p.update(BITS=lp["IN_BITS"], TS_FILE=lp["TS_FILE"])
    else:
        p.update(IN_BITS=lp["IN_BITS"], WBITS=lp["WBITS"], W_FILE=lp["W_FILE"])
    return p


def run_conv(kind, ci, co, fold, h, w, in_bits, seed):
    name = f"{kind}_{ci}_{co}_{fold}_{h}x{w}_{in_bits}_{seed}"
    L = random_conv_layer(np.random.default_rng(seed), kind, ci, co, h, w, in_bits=in_bits)
    L["fold"] = fold
    path = save_layer(L, str(BUILD / "mem" / name / "layer.pkl"))
    params = conv_module_params(kind, L, name)
    build_and_test(kind, sources_for(kind), params, os.environ.get("TB_MODULE", __name__),
                   extra_env={"TB_LAYER": path}, name=name)


@pytest.mark.parametrize("kind,ci,co,fold,in_bits", [
    ("conv_qgp", 1, 2, 1, 4), ("conv_qgp", 4, 6, 3, 4), ("conv_qgp", 7, 8, 2, 4),
    ("conv_dense", 1, 2, 1, 8), ("conv_dense", 1, 6, 2, 8), ("conv_dense", 3, 4, 4, 4)])
def test_conv(kind, ci, co, fold, in_bits):
    run_conv(kind, ci, co, fold, 4, 5, in_bits, seed=ci * 100 + co)
