"""conv_pipe (fold counter, pipeline registers and output assembly of the conv cores) with the
testbench as the core around it: the stage 0 -> 1 datapath returns a random accumulator word per
(window, fold) through DLAT register stages that load with en, the stage 1 -> 2 datapath a
function of s1_acc and s1_fold through YLAT such stages. Every output pixel must be the assembly
of its window's FOLD results, fold 0 lowest (a Python model from the module's parameters CO, PE,
ACC_W, ABITS, DLAT, YLAT; EN_COPIES copies of the enable), with tlast on each frame's last pixel,
under random valid / ready; P windows offered every clock take exactly P*FOLD + 2 + DLAT + YLAT
(+ 1 with CREDIT, its output FIFO) cycles (module header) when CREDIT is 0 or at least
rtl.gen.params.credit_depth, and more with one credit fewer; reset in the middle of a frame; no X
on the outputs after reset."""

import numpy as np
import pytest

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge, Timer

from qgp.rtl.gen.params import credit_depth
from qgp.tb.common import backpressure_patterns, idle_patterns
from qgp.tb.common.axis import CLK_PERIOD_NS, pack, unpack
from qgp.tb.common.runner import build_and_test, sources_for
from qgp.tb.common.tb import tb_params


class Model:
    """What conv_pipe must put out, from its parameters."""

    def __init__(self, p, n_windows, seed):
        self.co, self.pe = p["CO"], p["PE"]
        self.fold = self.co // self.pe
        self.acc_w, self.abits, self.dlat = p["ACC_W"], p["ABITS"], p.get("DLAT", 0)
        self.ylat = p.get("YLAT", 0)
        self.credit = p.get("CREDIT", 0)
        rng = np.random.default_rng(seed)
        # the stage 0 -> 1 datapath's result for (window, fold, lane): any ACC_W-bit word
        self.acc = rng.integers(0, 1 << self.acc_w, size=(n_windows, self.fold, self.pe))

    def acc_word(self, w, f):
        return pack(self.acc[w, f], self.acc_w)

    def y_lane(self, acc_lanes, f):
        """Stage 1 -> 2 datapath (the requant's place): a function of the lane and its fold."""
        m = (1 << self.abits) - 1
        return [(a + 3 * f + j) & m for j, a in enumerate(acc_lanes)]

    def pixel(self, w):
        ys = []
        for f in range(self.fold):
            ys.extend(self.y_lane([int(a) for a in self.acc[w, f]], f))
        return pack(ys, self.abits)


def delayed(line, here, en):
    """A datapath's register stages that load with en: (what leaves them now, the stages after
    the edge); no stage (an empty line): here itself."""
    if not line:
        return here, line
    return line[-1], ([here] + line[:-1] if en else line)


class TB:
    """Clock, reset and one falling-edge process that plays source, sink and the core's two
    datapaths (inputs settle half a clock before the edge that samples them)."""

    def __init__(self, dut, frames, frame_len, idle=None, backpressure=None, seed=7):
        self.dut = dut
        self.p = tb_params()
        self.model = Model(self.p, frames * frame_len, seed)
        self.frame_len = frame_len
        self.n = frames * frame_len
        self.idle, self.bp = idle, backpressure
        self.rng = np.random.default_rng(seed + 1)
        self.out = []            # (tdata, tlast, cycle) of every output beat
        self.first_valid = None
        self.xz_errors = 0
        self.running = False
        Clock(dut.clk, CLK_PERIOD_NS, unit="ns").start()
        dut.rst.value = 1
        for s in (dut.s_axis_tvalid, dut.s_axis_tlast, dut.m_axis_tready, dut.acc_lane, dut.y_lane):
            s.value = 0
        self.restart()
        cocotb.start_soon(self._run())

    def restart(self):
        """Forget the stream (after a reset): windows from 0, outputs unseen."""
        self.w = 0
        self.offered = False
        self.dl = [None] * self.model.dlat
        self.yl = [None] * self.model.ylat
        self.out = []
        self.first_valid = None

    async def reset(self, cycles=3):
        self.dut.rst.value = 1
        self.running = False
        for _ in range(cycles):
            await RisingEdge(self.dut.clk)
        self.restart()
        self.dut.rst.value = 0
        self.running = True

    def _junk(self):
        m = self.model
        return int(self.rng.integers(0, 1 << (m.pe * m.acc_w)))

    async def _run(self):
        dut, m = self.dut, self.model
        cycle = 0
        while True:
            await FallingEdge(dut.clk)
            cycle += 1
            if not self.running:
                dut.s_axis_tvalid.value = 0
                continue
            # source: offer the next window (hold it until it is taken); sink: ready or not
            if not self.offered and self.w < self.n:
                self.offered = self.idle is None or next(self.idle)
            dut.s_axis_tvalid.value = int(self.offered)
            dut.s_axis_tlast.value = int(self.offered and self.w % self.frame_len == self.frame_len - 1)
            dut.m_axis_tready.value = int(self.bp is None or next(self.bp))
            await Timer(1, unit="ns")
            for s in (dut.m_axis_tvalid, dut.m_axis_tdata, dut.m_axis_tlast, dut.s_axis_tready,
                      dut.en, dut.fold, dut.s1_acc, dut.s1_fold):
                if not s.value.is_resolvable:
                    self.xz_errors += 1
            en, fold = int(dut.en.value), int(dut.fold.value)
            # stage 0 -> 1 datapath: DLAT enabled stages (the adder tree registers)
            here = (self.w, fold) if self.offered else None
            head, self.dl = delayed(self.dl, here, en)
            dut.acc_lane.value = m.acc_word(*head) if head is not None else self._junk()
            # stage 1 -> 2 datapath: YLAT enabled stages (the requant's compare registers)
            s1 = unpack(int(dut.s1_acc.value), m.acc_w, m.pe)
            y_here = pack(m.y_lane(s1, int(dut.s1_fold.value)), m.abits)
            y_head, self.yl = delayed(self.yl, y_here, en)
            dut.y_lane.value = (y_head if y_head is not None
                                else int(self.rng.integers(0, 1 << (m.pe * m.abits))))
            if self.offered and self.first_valid is None:
                self.first_valid = cycle
            # transfers at the coming edge
            if int(dut.m_axis_tvalid.value) and int(dut.m_axis_tready.value):
                self.out.append((int(dut.m_axis_tdata.value), int(dut.m_axis_tlast.value), cycle))
            if self.offered and int(dut.s_axis_tready.value):
                self.offered = False
                self.w += 1

    async def wait_done(self, timeout):
        for _ in range(timeout):
            if len(self.out) >= self.n:
                break
            await RisingEdge(self.dut.clk)
        for _ in range(10):      # an extra beat would show
            await RisingEdge(self.dut.clk)

    def check(self):
        m = self.model
        assert self.xz_errors == 0, f"{self.xz_errors} X/Z values on the outputs after reset"
        assert len(self.out) == self.n, f"{len(self.out)} output beats, expected {self.n}"
        for w, (data, last, _) in enumerate(self.out):
            want_last = int(w % self.frame_len == self.frame_len - 1)
            assert data == m.pixel(w), f"pixel {w}: {data:#x}, expected {m.pixel(w):#x}"
            assert last == want_last, f"pixel {w}: tlast {last}, expected {want_last}"


@cocotb.parametrize(idle=list(idle_patterns()), backpressure=list(backpressure_patterns()))
async def run_test(dut, idle, backpressure):
    ig, bg = idle_patterns()[idle], backpressure_patterns()[backpressure]
    tb = TB(dut, frames=3, frame_len=5, idle=ig() if ig else None,
            backpressure=bg() if bg else None)
    await tb.reset()
    m = tb.model
    await tb.wait_done(timeout=12 * tb.n * m.fold + 100)
    tb.check()
    if idle == "none" and backpressure == "none":
        got = tb.out[-1][2] - tb.first_valid
        want = tb.n * m.fold + 2 + m.dlat + m.ylat + (1 if m.credit else 0)
        if m.credit == 0 or m.credit >= credit_depth(m.fold, m.dlat, m.ylat):
            assert got == want, f"timing: {got} cycles, expected {want}"
        else:   # one credit short of credit_depth: the stream cannot keep one window per FOLD
            assert got > want, f"timing: {got} cycles with {m.credit} credits, expected more than {want}"


@cocotb.test()
async def test_reset_mid_frame(dut):
    """Reset while a frame is half through the pipeline; the stream after it comes out whole."""
    tb = TB(dut, frames=2, frame_len=4)
    await tb.reset()
    for _ in range(3 * tb.model.fold + 1):
        await RisingEdge(dut.clk)
    await tb.reset()
    await tb.wait_done(timeout=12 * tb.n * tb.model.fold + 100)
    tb.check()


# credit: 0 (stall mode), "min" (credit_depth), "short" (credit_depth - 1, at least 2)
@pytest.mark.parametrize("co,pe,acc_w,abits,dlat,ylat,en_copies,credit", [
    (4, 4, 10, 4, 0, 0, 1, 0), (6, 2, 8, 3, 1, 1, 1, 0), (8, 2, 12, 4, 3, 0, 3, 0), (12, 3, 9, 2, 0, 2, 2, 0),
    (5, 1, 7, 1, 2, 1, 1, 0), (16, 4, 5, 4, 1, 0, 1, 0), (4, 4, 6, 2, 0, 1, 1, 0),
    (4, 4, 10, 4, 0, 0, 1, "min"), (4, 4, 6, 2, 3, 1, 2, "min"), (6, 2, 8, 3, 1, 1, 1, "min"),
    (8, 2, 12, 4, 3, 1, 3, "min"), (12, 3, 9, 2, 0, 2, 2, "min"), (5, 1, 7, 1, 2, 1, 1, "min"),
    (4, 4, 10, 4, 0, 0, 1, "short"), (4, 4, 6, 2, 3, 1, 2, "short"), (6, 2, 8, 3, 2, 1, 1, "short")])
def test_conv_pipe(co, pe, acc_w, abits, dlat, ylat, en_copies, credit):
    if credit in ("min", "short"):
        credit = credit_depth(co // pe, dlat, ylat) - (credit == "short")
        assert credit >= 2
    build_and_test("conv_pipe", sources_for("conv_pipe"),
                   {"CO": co, "PE": pe, "ACC_W": acc_w, "ABITS": abits, "DLAT": dlat,
                    "YLAT": ylat, "EN_COPIES": en_copies, "CREDIT": credit}, __name__)
