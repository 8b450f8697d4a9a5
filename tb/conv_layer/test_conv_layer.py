"""conv_layer (FIFO -> window3x3 -> conv_qgp or conv_dense + requant -> skid -> [maxpool2]) on
random frames vs golden.model.run_layer; exact cycle count H*W*FOLD + W + 6 + POOL (+ 5
with RING, rtl.gen.params.ring_latency); reset in the
middle of a frame; soak of 50+ frames with 50 % random valid and 50 % random ready; extreme
layers. Both cores (DENSE = 0 / 1) run the same cocotb tests."""

import os

import numpy as np
import pytest

import cocotb

from qgp.golden import model
from qgp.rtl.gen.params import layer_latency, layer_module, layer_params
from qgp.tb.common import backpressure_patterns, idle_patterns, random_pattern
from qgp.tb.common.frames import channel_fmt, pixel_beats, pixel_frames
from qgp.tb.common.layers import load_layer, random_conv_layer, save_layer
from qgp.tb.common.runner import BUILD, build_and_test, sources_for
from qgp.tb.common.tb import StreamTB


def make_io(L, rng, n, fill=None):
    shape = (n, L["in_channels"], L["height"], L["width"])
    if fill is None:
        x = rng.integers(0, 1 << L["in_bits"], size=shape)
    else:
        x = np.full(shape, fill)
    y = model.run_layer(L, x, L["abits"])
    return pixel_frames(x, L["in_bits"]), pixel_beats(y, L["abits"])


class TB(StreamTB):
    def __init__(self, dut, **kw):
        self.layer = load_layer()
        super().__init__(dut, fmt=channel_fmt(self.layer["abits"], self.layer["out_channels"]), **kw)

    def frame_cycles(self):
        return self.p["H"] * self.p["W"] * self.p["CO"] // self.p["PE"]


async def run_frames(tb, ins, outs, slack=12):
    tb.expected.extend(outs)
    for fr in ins:
        tb.source.append(fr)
    await tb.wait_done(timeout_cycles=slack * len(ins) * tb.frame_cycles() + 500)
    tb.check()


@cocotb.parametrize(idle=list(idle_patterns()), backpressure=list(backpressure_patterns()))
async def run_test(dut, idle, backpressure):
    ig, bg = idle_patterns()[idle], backpressure_patterns()[backpressure]
    tb = TB(dut, idle=ig() if ig else None, backpressure=bg() if bg else None)
    await tb.reset()
    n = 2
    ins, outs = make_io(tb.layer, np.random.default_rng(12), n)
    await run_frames(tb, ins, outs)
    if idle == "none" and backpressure == "none":
        got = tb.monitor.cycles[-1] - tb.source.first_beat_cycle
        want = n * tb.frame_cycles() + layer_latency(layer_module(tb.layer), tb.p)
        assert got == want, (f"timing: {got} cycles, expected {want} = n*H*W*FOLD + W + 6 + POOL"
                             f" (+ TLAT, + 5 with RING)")
        tb.log.info("timing: %d frames in %d cycles (n*H*W*FOLD + W + 6 + POOL)", n, got)


@cocotb.test()
async def test_reset_mid_frame(dut):
    tb = TB(dut)
    rng = np.random.default_rng(13)
    await tb.reset()
    junk, _ = make_io(tb.layer, rng, 1)
    await tb.reset_mid_frame(junk[0], tb.frame_cycles() // 2 + 1)
    ins, outs = make_io(tb.layer, rng, 2)
    await run_frames(tb, ins, outs)


@cocotb.test()
async def test_extreme_inputs(dut):
    """All-0 and all-max input frames (the accumulators' extremes for the layer's weights)."""
    tb = TB(dut)
    await tb.reset()
    L = tb.layer
    i0, o0 = make_io(L, None, 1, fill=0)
    i1, o1 = make_io(L, None, 1, fill=(1 << L["in_bits"]) - 1)
    await run_frames(tb, i0 + i1 + i0, o0 + o1 + o0)


@cocotb.test(skip=os.environ.get("TB_SOAK") != "1")
async def test_soak(dut):
    """>= 50 frames, 50 % random valid on the input and 50 % random ready on the output:
    0 lost, 0 duplicated, 0 wrong beats."""
    tb = TB(dut, idle=random_pattern(0.5, 21), backpressure=random_pattern(0.5, 22))
    await tb.reset()
    n = 50
    ins, outs = make_io(tb.layer, np.random.default_rng(14), n)
    await run_frames(tb, ins, outs, slack=8)
    assert tb.sb.compared == len(outs)
    tb.log.info("soak: %d frames, %d beats, 0 lost / duplicated / wrong", n, len(outs))


def run_layer_module(kind, ci, co, h, w, fold, pool, in_bits, seed, soak=False, extreme=None,
                     fifo_depth=None, test_module=None, tree_reg=None):
    name = f"{kind}_L_{ci}_{co}_{h}x{w}_f{fold}_p{int(pool)}_{in_bits}_{seed}_{extreme}_r{tree_reg}"
    L = random_conv_layer(np.random.default_rng(seed), kind, ci, co, h, w, pool=pool,
                          in_bits=in_bits, extreme=extreme)
    path = save_layer(L, str(BUILD / "mem" / name / "layer.pkl"))
    params = layer_params(L, L["abits"], in_bits, str(BUILD / "mem" / name), name, fold=fold,
                          fifo_depth=fifo_depth, tree_reg=tree_reg)
    module = layer_module(L)
    build_and_test(module, sources_for(module), params, test_module or __name__,
                   extra_env={"TB_LAYER": path, "TB_SOAK": "1" if soak else "0"}, name=name)


@pytest.mark.parametrize("kind,ci,co,h,w,fold,pool,in_bits,soak,extreme", [
    ("conv_qgp", 3, 4, 4, 6, 1, True, 4, True, None),     # unfolded, pooled; + soak (50 frames)
    ("conv_qgp", 4, 6, 5, 4, 3, False, 4, False, None),   # folded 3 (PE 2), no pool
    ("conv_qgp", 5, 8, 4, 4, 4, True, 4, False, "min"),   # folded, pooled, all signs -1 (extreme acc)
    ("conv_qgp", 6, 6, 4, 6, 6, True, 4, True, None),     # RING (tap memories), PE 1; + soak
    ("conv_qgp", 3, 6, 3, 3, 3, False, 4, False, "max"),  # RING, W 3 (shift register window), PE 2
    ("conv_dense", 1, 4, 4, 6, 1, False, 8, True, None),  # first layer shape (8-bit input); + soak
    ("conv_dense", 1, 6, 6, 4, 2, True, 8, False, "max"), # folded, pooled, all weights +max
    ("conv_dense", 2, 3, 4, 4, 3, False, 8, False, None), # two input channels, PE 1
])
def test_conv_layer(kind, ci, co, h, w, fold, pool, in_bits, soak, extreme):
    seed = ci * (31 if kind == "conv_qgp" else 17) + co
    run_layer_module(kind, ci, co, h, w, fold, pool, in_bits, seed=seed, soak=soak, extreme=extreme)


@pytest.mark.parametrize("kind,ci,co,fold,in_bits", [
    ("conv_qgp", 9, 4, 2, 4),     # folded, adder tree registered after levels 2 and 3
    ("conv_dense", 1, 3, 1, 8),   # constant CSD weights, 72-leaf tree registered after levels 2..6
])
def test_conv_layer_pipelined(kind, ci, co, fold, in_bits):
    # TREE_REG 1: the deepest pipelining; exact cycles (layer_latency), soak under backpressure
    run_layer_module(kind, ci, co, 4, 6, fold, True, in_bits, seed=ci + co, soak=True,
                     tree_reg=1)
