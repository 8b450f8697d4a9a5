"""The two conv cores, conv_qgp and conv_dense (+ fused requant), on windows of random frames vs
golden.model.layer_acc (conv_qgp_acc / conv_dense_acc) + golden.model.requant; exact cycle count;
reset in the middle of a frame. One cocotb test module serves both: the layer file says which."""

import os

import numpy as np
import pytest

import cocotb

from qgp.golden import model
from qgp.rtl.gen.params import layer_params, tree_latency
from qgp.tb.common import backpressure_patterns, idle_patterns
from qgp.tb.common.frames import channel_fmt, pixel_beats, window_frames
from qgp.tb.common.layers import load_layer, random_conv_layer, save_layer
from qgp.tb.common.runner import BUILD, build_and_test, sources_for
from qgp.tb.common.tb import StreamTB


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
        # module header: P*FOLD + 2 + TLAT cycles from the first window offered to the last output
        got = tb.monitor.cycles[-1] - tb.source.first_valid_cycle
        want = pix * fold + 2 + tree_latency(dict(p, DENSE=int("WBITS" in p)))
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
    # the bare core is fed 9-tap windows: its window register form (RING = 0, tap codes 0..8)
    lp = layer_params(L, L["abits"], L["in_bits"], str(BUILD / "mem" / name), name,
                      fold=L["fold"], tree_reg=L.get("tree_reg"), ring=0)
    keep = ["CI", "CO", "ACC_W", "TH_W", "PE", "ABITS", "TREE_REG", "TH_VEC", "TH_FILE"]
    p = {k: lp[k] for k in keep if k in lp}
    if kind == "conv_qgp":
        p.update(BITS=lp["IN_BITS"])
        p.update({k: lp[k] for k in ("TS_VEC", "TS_FILE") if k in lp})
    else:
        p.update(IN_BITS=lp["IN_BITS"], WBITS=lp["WBITS"])
        p.update({k: lp[k] for k in ("WVEC", "W_FILE") if k in lp})
    return p


def run_conv(kind, ci, co, fold, h, w, in_bits, seed, tree_reg=None, extreme=None):
    name = f"{kind}_{ci}_{co}_{fold}_{h}x{w}_{in_bits}_{seed}_r{tree_reg}_{extreme}"
    L = random_conv_layer(np.random.default_rng(seed), kind, ci, co, h, w, in_bits=in_bits,
                          extreme=extreme)
    L["fold"] = fold
    L["tree_reg"] = tree_reg
    path = save_layer(L, str(BUILD / "mem" / name / "layer.pkl"))
    params = conv_module_params(kind, L, name)
    build_and_test(kind, sources_for(kind), params, os.environ.get("TB_MODULE", __name__),
                   extra_env={"TB_LAYER": path}, name=name)


@pytest.mark.parametrize("kind,ci,co,fold,in_bits,tree_reg", [
    ("conv_qgp", 1, 2, 1, 4, 1), ("conv_qgp", 4, 6, 3, 4, 0), ("conv_qgp", 7, 8, 2, 4, 1),
    ("conv_qgp", 9, 4, 1, 4, 2), ("conv_qgp", 16, 6, 2, 4, 0),
    ("conv_dense", 1, 2, 1, 8, 0), ("conv_dense", 1, 6, 2, 8, 1), ("conv_dense", 3, 4, 4, 4, 2),
    ("conv_dense", 2, 3, 1, 8, 2)])
def test_conv(kind, ci, co, fold, in_bits, tree_reg):
    run_conv(kind, ci, co, fold, 4, 5, in_bits, seed=ci * 100 + co, tree_reg=tree_reg)


@pytest.mark.parametrize("kind,extreme", [("conv_dense", "max"), ("conv_dense", "min"),
                                          ("conv_qgp", "max"), ("conv_qgp", "min")])
def test_conv_extreme(kind, extreme):
    # accumulators at their limits (every weight / sign at its extreme), FOLD 1, pipelined tree
    run_conv(kind, 3, 4, 1, 4, 5, 8 if kind == "conv_dense" else 4, seed=11, tree_reg=1,
             extreme=extreme)
