"""What the testbenches of the two conv cores (tb/conv_qgp, tb/conv_dense) share: the cocotb
tests (windows of random frames vs golden.model.layer_acc (conv_qgp_acc / conv_dense_acc) +
golden.model.requant under every idle / backpressure pattern, exact cycle count, reset in the
middle of a frame; the layer file says which core) and ``run_conv``, which builds one core for a
random layer and runs the test module that imported these tests."""

import numpy as np

import cocotb

from qgp.golden import model
from qgp.rtl.gen.params import layer_params, requant_latency, tree_latency
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
        # module header: P*FOLD + 2 + TLAT + RQ_REG cycles from the first window offered to the
        # last output
        got = tb.monitor.cycles[-1] - tb.source.first_valid_cycle
        want = pix * fold + 2 + tree_latency(dict(p, DENSE=int("WBITS" in p))) + requant_latency(p)
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
    keep = ["CI", "CO", "ACC_W", "TH_W", "PE", "ABITS", "TREE_REG", "RQ_REG", "TH_VEC", "TH_FILE"]
    p = {k: lp[k] for k in keep if k in lp}
    if kind == "conv_qgp":
        p.update(BITS=lp["IN_BITS"])
        p.update({k: lp[k] for k in ("TS_VEC", "TS_FILE") if k in lp})
    else:
        p.update(IN_BITS=lp["IN_BITS"], WBITS=lp["WBITS"])
        p.update({k: lp[k] for k in ("WVEC", "W_FILE") if k in lp})
    return p


def run_conv(kind, ci, co, fold, h, w, in_bits, seed, test_module, tree_reg=None, extreme=None,
             rq_reg=None):
    """Build and run ``kind`` on a random layer; tree_reg / rq_reg None: rtl.gen's defaults."""
    name = f"{kind}_{ci}_{co}_{fold}_{h}x{w}_{in_bits}_{seed}_r{tree_reg}_q{rq_reg}_{extreme}"
    L = random_conv_layer(np.random.default_rng(seed), kind, ci, co, h, w, in_bits=in_bits,
                          extreme=extreme)
    L["fold"] = fold
    L["tree_reg"] = tree_reg
    path = save_layer(L, str(BUILD / "mem" / name / "layer.pkl"))
    params = conv_module_params(kind, L, name)
    if rq_reg is not None:
        params["RQ_REG"] = int(rq_reg)
    build_and_test(kind, sources_for(kind), params, test_module,
                   extra_env={"TB_LAYER": path}, name=name)

