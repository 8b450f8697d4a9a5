"""maxpool2 vs golden.model.maxpool2 on random frames; exact cycle count; reset mid-frame."""

import numpy as np
import pytest

import cocotb

from qgp.golden import model
from qgp.tb.common import backpressure_patterns, idle_patterns
from qgp.tb.common.frames import channel_fmt, pixel_beats, pixel_frames
from qgp.tb.common.runner import build_and_test, sources_for
from qgp.tb.common.tb import StreamTB


def make_io(p, rng, n):
    x = rng.integers(0, 1 << p["BITS"], size=(n, p["C"], p["H"], p["W"]))
    return pixel_frames(x, p["BITS"]), pixel_beats(model.maxpool2(x), p["BITS"])


class TB(StreamTB):
    def __init__(self, dut, **kw):
        super().__init__(dut, **kw)
        self.sb.fmt = channel_fmt(self.p["BITS"], self.p["C"])


@cocotb.parametrize(idle=list(idle_patterns()), backpressure=list(backpressure_patterns()))
async def run_test(dut, idle, backpressure):
    ig, bg = idle_patterns()[idle], backpressure_patterns()[backpressure]
    tb = TB(dut, idle=ig() if ig else None, backpressure=bg() if bg else None)
    p = tb.p
    await tb.reset()
    n = 3
    ins, outs = make_io(p, np.random.default_rng(4), n)
    tb.expected.extend(outs)
    for fr in ins:
        tb.source.append(fr)
    await tb.wait_done(timeout_cycles=10 * n * p["H"] * p["W"] + 100)
    tb.check()
    if idle == "none" and backpressure == "none":
        got = tb.monitor.cycles[-1] - tb.source.first_beat_cycle
        want = n * p["H"] * p["W"]   # module header: H*W per frame, frames back-to-back
        assert got == want, f"timing: {got} cycles, expected {want}"


@cocotb.test()
async def test_reset_mid_frame(dut):
    tb = TB(dut)
    p = tb.p
    rng = np.random.default_rng(8)
    await tb.reset()
    junk, _ = make_io(p, rng, 1)
    await tb.reset_mid_frame(junk[0], p["W"] + 3)   # in the middle of an odd row
    ins, outs = make_io(p, rng, 2)
    tb.expected.extend(outs)
    for fr in ins:
        tb.source.append(fr)
    await tb.wait_done(timeout_cycles=20 * p["H"] * p["W"] + 100)
    tb.check()


@pytest.mark.parametrize("c,bits,w,h", [(1, 4, 4, 2), (3, 4, 6, 4), (2, 8, 8, 6)])
def test_maxpool2(c, bits, w, h):
    build_and_test("maxpool2", sources_for("maxpool2"), {"C": c, "BITS": bits, "W": w, "H": h},
                   __name__)
