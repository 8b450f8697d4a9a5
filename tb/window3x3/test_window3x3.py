"""window3x3: windows of random frames vs zero-padded NumPy slices; exact cycle count; reset
in the middle of a frame; both line storages (row memories, whose uninitialised words must never
reach the output: the X/Z checker sees them under Icarus, and the flip-flop shift register)."""

import numpy as np
import pytest

import cocotb

from qgp.tb.common import Beat, backpressure_patterns, idle_patterns, pack
from qgp.tb.common.runner import build_and_test, sources_for
from qgp.tb.common.tb import StreamTB


def frames_and_windows(rng, n, c, bits, h, w):
    """n random frames [n, c, h, w] and their expected window beats."""
    x = rng.integers(0, 1 << bits, size=(n, c, h, w))
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    ins, outs = [], []
    for f in range(n):
        ins.append([Beat(pack(x[f, :, yy, xx], bits), int(yy == h - 1 and xx == w - 1))
                    for yy in range(h) for xx in range(w)])
        for yy in range(h):
            for xx in range(w):
                vals = []
                for t in range(9):  # tap t = (dy+1)*3 + (dx+1)
                    dy, dx = t // 3 - 1, t % 3 - 1
                    vals.extend(xp[f, :, yy + 1 + dy, xx + 1 + dx])
                outs.append(Beat(pack(vals, bits), int(yy == h - 1 and xx == w - 1)))
    return ins, outs


class TB(StreamTB):
    pass


@cocotb.parametrize(idle=list(idle_patterns()), backpressure=list(backpressure_patterns()))
async def run_test(dut, idle, backpressure):
    ig, bg = idle_patterns()[idle], backpressure_patterns()[backpressure]
    tb = TB(dut, idle=ig() if ig else None, backpressure=bg() if bg else None)
    p = tb.p
    c, bits, w, h = p["C"], p["BITS"], p["W"], p["H"]
    await tb.reset()
    nframes = 3
    ins, outs = frames_and_windows(np.random.default_rng(7), nframes, c, bits, h, w)
    tb.expected.extend(outs)
    for frame in ins:
        tb.source.append(frame)   # back-to-back frames
    await tb.wait_done(timeout_cycles=20 * nframes * h * w + 200)
    tb.check()
    if idle == "none" and backpressure == "none":
        got = tb.monitor.cycles[-1] - tb.source.first_beat_cycle
        want = nframes * h * w + w + 1   # module header: H*W + W + 1 per frame, frames back-to-back
        assert got == want, f"frame timing: {got} cycles, expected {want}"
        tb.log.info("cycles first input -> last output: %d (= %d*H*W + W + 1)", got, nframes)


@cocotb.test()
async def test_reset_mid_frame(dut):
    """Reset asserted in the middle of a frame: the next frames come out correct and complete."""
    tb = TB(dut)
    p = tb.p
    c, bits, w, h = p["C"], p["BITS"], p["W"], p["H"]
    rng = np.random.default_rng(11)
    await tb.reset()
    junk, _ = frames_and_windows(rng, 1, c, bits, h, w)
    await tb.reset_mid_frame(junk[0], h * w // 2 + 3)
    ins, outs = frames_and_windows(rng, 2, c, bits, h, w)
    tb.expected.extend(outs)
    for frame in ins:
        tb.source.append(frame)
    await tb.wait_done(timeout_cycles=10 * h * w + 200)
    tb.check()


@cocotb.test()
async def test_scoreboard_catches_errors(dut):
    """Self-check of the checking: a wrong and a missing beat must be reported."""
    tb = TB(dut)
    p = tb.p
    await tb.reset()
    ins, outs = frames_and_windows(np.random.default_rng(3), 1, p["C"], p["BITS"], p["H"], p["W"])
    outs[3] = Beat(outs[3].data ^ 1, outs[3].last)
    outs.append(outs[0])
    tb.expected.extend(outs)
    tb.source.append(ins[0])
    await tb.wait_done(timeout_cycles=4 * p["H"] * p["W"] + 100)
    assert tb.sb.mismatches == 1 and tb.sb.pending() == 1, (tb.sb.mismatches, tb.sb.pending())
    with pytest.raises(AssertionError):
        tb.sb.check()


# line_ram None: the module's default (row memories for W >= 4, registers below); W = 4 is the
# smallest row memory (2 words), W = 11 a depth that is not a power of two
@pytest.mark.parametrize("c,bits,w,h,line_ram", [
    (1, 8, 5, 4, None), (3, 4, 6, 5, None), (2, 2, 4, 6, None), (2, 3, 11, 3, None),
    (1, 8, 5, 4, 0), (2, 2, 2, 3, None), (3, 2, 3, 4, None)])
def test_window3x3(c, bits, w, h, line_ram):
    params = {"C": c, "BITS": bits, "W": w, "H": h}
    if line_ram is not None:
        params["LINE_RAM"] = line_ram
    build_and_test("window3x3", sources_for("window3x3"), params, __name__)
