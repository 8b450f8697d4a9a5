"""Shared testbench pieces: stream driver / monitor (cocotb-bus), scoreboard, X/Z check, runner."""
from qgp.tb.common.axis import (  # noqa: F401
    Beat, StreamDriver, StreamMonitor, StreamSink, XZChecker,
    idle_patterns, backpressure_patterns, random_pattern, cycle_pattern, always,
    pack, unpack, to_int, now_cycle, CLK_PERIOD_NS,
)
from qgp.tb.common.scoreboard import BeatScoreboard  # noqa: F401
