"""Cocotb tests shared by the pass-through stream blocks (axis_skid, axis_fifo): every beat passes
unchanged under all idle / backpressure patterns, one beat per clock with latency 1, and a reset
in the middle of a burst. A block's test module imports ``run_test`` and ``test_reset_mid_burst``."""

import random

import cocotb

from qgp.tb.common import Beat, backpressure_patterns, idle_patterns
from qgp.tb.common.tb import StreamTB


def beats(n, width, seed):
    rng = random.Random(seed)
    return [Beat(rng.getrandbits(width), int(i % 7 == 6 or i == n - 1)) for i in range(n)]


@cocotb.parametrize(idle=list(idle_patterns()), backpressure=list(backpressure_patterns()))
async def run_test(dut, idle, backpressure):
    ig, bg = idle_patterns()[idle], backpressure_patterns()[backpressure]
    tb = TB(dut, idle=ig() if ig else None, backpressure=bg() if bg else None)
    await tb.reset()
    n = 200
    data = beats(n, tb.p["DATA_W"], 1)
    tb.expected.extend(data)
    tb.source.append(data)
    await tb.wait_done(timeout_cycles=20 * n)
    tb.check()
    if idle == "none" and backpressure == "none":
        got = tb.monitor.cycles[-1] - tb.source.first_beat_cycle
        # axis_skid HALF: one beat every two clocks (the last one with latency 1)
        want = 2 * n - 1 if int(tb.p.get("HALF", 0)) else n
        assert got == want, f"timing: {got} cycles for {n} beats, expected {want} (latency 1)"


@cocotb.test()
async def test_reset_mid_burst(dut):
    tb = TB(dut, backpressure=backpressure_patterns()["random50"]())
    await tb.reset()
    await tb.reset_mid_frame(beats(50, tb.p["DATA_W"], 2), 20)
    data = beats(100, tb.p["DATA_W"], 3)
    tb.expected.extend(data)
    tb.source.append(data)
    await tb.wait_done(timeout_cycles=2000)
    tb.check()


class TB(StreamTB):
    pass
