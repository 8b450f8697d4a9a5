"""Base testbench: clock, reset, source driver, sink, monitor, scoreboard and X/Z checker for a
DUT with one s_axis input stream and one m_axis output stream."""

import json
import os

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge

from qgp.tb.common import coverage
from qgp.tb.common.axis import (CLK_PERIOD_NS, StreamDriver, StreamMonitor, StreamSink, XZChecker,
                            now_cycle)
from qgp.tb.common.scoreboard import BeatScoreboard


def tb_params():
    """The Verilog parameters the DUT was built with (set by tb.common.runner)."""
    return json.loads(os.environ.get("TB_PARAMS", "{}"))


class StreamTB:
    def __init__(self, dut, idle=None, backpressure=None, fmt=None):
        self.dut = dut
        self.log = dut._log
        self.p = tb_params()
        Clock(dut.clk, CLK_PERIOD_NS, unit="ns").start()
        dut.rst.value = 1
        self.source = StreamDriver(dut, "s_axis", dut.clk, idle=idle)
        self.sink = StreamSink(dut, "m_axis", dut.clk, backpressure)
        self.fmt = fmt
        self.monitor = None
        self.cov = None
        self.new_scoreboard()
        self.cov = coverage.attach(self)      # functional coverage (tb/common/coverage.py)
        self.cov.hook(self.monitor)
        self.xz = XZChecker(dut.clk, [dut.m_axis_tdata, dut.m_axis_tvalid, dut.m_axis_tlast,
                                      dut.s_axis_tready], self.log)

    def new_scoreboard(self):
        """Start checking afresh (e.g. after a reset in the middle of a frame): a new monitor,
        an empty expected list and a new scoreboard; beats seen before are forgotten."""
        if self.monitor is not None:
            self.monitor.kill()
        self.monitor = StreamMonitor(self.dut, "m_axis", self.dut.clk, reset=self.dut.rst)
        self.expected = []
        self.sb = BeatScoreboard(self.dut, fmt=self.fmt)
        self.sb.add_interface(self.monitor, self.expected)
        if self.cov is not None:
            self.cov.hook(self.monitor)

    async def reset_mid_frame(self, junk_beats, after_cycles):
        """Send ``junk_beats``, assert reset ``after_cycles`` later (in the middle of the frame),
        drop the rest, and restart checking with an empty scoreboard."""
        self.monitor.kill()            # nothing that comes out before the reset is checked
        self.source.append(junk_beats)
        await self.cycles(after_cycles)
        self.source.reset()
        await self.reset()
        self.new_scoreboard()

    async def cycles(self, n):
        for _ in range(n):
            await RisingEdge(self.dut.clk)

    async def reset(self, cycles=3):
        self.dut.rst.value = 1
        await self.cycles(1)
        self.xz.enabled = True   # outputs are defined from the first reset edge on
        await self.cycles(cycles - 1)
        self.dut.rst.value = 0
        await self.cycles(1)

    async def wait_done(self, timeout_cycles, settle=20):
        """Wait until every expected beat arrived (or timeout), then a few more cycles so an
        extra beat would be caught."""
        start = now_cycle()
        while self.sb.pending() and now_cycle() - start < timeout_cycles:
            await RisingEdge(self.dut.clk)
        await self.cycles(settle)

    def check(self):
        coverage.export()
        self.xz.check()
        n = self.sb.check()
        self.log.info("scoreboard: %d beats compared, 0 mismatches; X/Z checked in %d cycles",
                      n, self.xz.checks)
        return n
