"""valid/ready/last stream driver and monitor built on cocotb-bus (BusDriver / BusMonitor),
with idle (source) and backpressure (sink) generators, and an X/Z checker.

Checked against cocotb 2.1 + cocotb-bus 0.3: Bus signal lookup, BusDriver's send queue and
BusMonitor's callback path work as they are; what is overridden here and why:
- ``BusDriver._driver_send`` drives one frame of beats with a valid/ready handshake (the base
  class only assigns the bus once); the base ``_wait_for_signal`` helpers are not used.
- ``BusMonitor._monitor_recv`` is abstract in cocotb-bus (by design).
- ``StreamDriver.reset()`` restarts the send thread: cocotb-bus has no way to abort the frame
  being sent (needed by the reset-in-the-middle-of-a-frame fault tests).
Handshake sampling: after ``await RisingEdge(clk)`` signals still show the values the DUT saw at
that edge (registers update later in the time step), so a beat is transferred at an edge where
valid and ready both read 1.
"""

import itertools
import random
from collections import namedtuple

import cocotb
from cocotb.simtime import get_sim_time
from cocotb.triggers import RisingEdge

CLK_PERIOD_NS = 10


def now_cycle():
    """Current clock cycle number (simulation time / CLK_PERIOD_NS); the same in every coroutine
    at a given edge, unlike per-coroutine counters."""
    return int(round(get_sim_time(unit="ns") / CLK_PERIOD_NS))
from cocotb_bus.drivers import BusDriver
from cocotb_bus.monitors import BusMonitor

Beat = namedtuple("Beat", ["data", "last"])


def to_int(v):
    """int of a signal value, None if it holds X/Z."""
    try:
        return int(v)
    except ValueError:
        return None


def pack(values, bits):
    """[v0, v1, ...] -> int with v_i at [i*bits +: bits] (values must be in range)."""
    word = 0
    mask = (1 << bits) - 1
    for i, v in enumerate(values):
        word |= (int(v) & mask) << (i * bits)
    return word


def unpack(word, bits, n):
    mask = (1 << bits) - 1
    return [(int(word) >> (i * bits)) & mask for i in range(n)]


# ---------------------------------------------------------------- valid / ready generators
# A generator yields one bool per clock: True = the source may present a beat (idle off) /
# the sink is ready. None means "always".

def always():
    return None


def cycle_pattern(pattern):
    return itertools.cycle([bool(v) for v in pattern])


def random_pattern(p_on, seed):
    rng = random.Random(seed)
    while True:
        yield rng.random() < p_on


def idle_patterns(seed=1):
    """Named source patterns: None (valid every clock), a fixed cycle, 50 % random."""
    return {
        "none": None,
        "cycle": lambda: cycle_pattern([1, 1, 1, 0]),
        "random50": lambda: random_pattern(0.5, seed),
    }


def backpressure_patterns(seed=2):
    return {
        "none": None,
        "cycle": lambda: cycle_pattern([1, 0, 1, 1, 0]),
        "random50": lambda: random_pattern(0.5, seed),
    }


# ---------------------------------------------------------------- driver

class StreamDriver(BusDriver):
    """Source of frames on ``<name>_tdata/tvalid/tready[/tlast]``.

    ``append(beats)`` / ``await send(beats)``: beats is a list of Beat(data, last) (one frame or
    any run of beats). ``idle`` is a per-clock generator (True = may send) or None.
    """

    _signals = ["tdata", "tvalid", "tready"]
    _optional_signals = ["tlast"]

    def __init__(self, entity, name, clock, idle=None, **kwargs):
        BusDriver.__init__(self, entity, name, clock, **kwargs)
        self.idle = idle
        self.beats_sent = 0
        self.first_beat_cycle = None     # clock edge at which the first beat was accepted
        self.first_valid_cycle = None    # clock edge at which the first beat was first offered
        self.beat_cycles = []
        self.bus.tvalid.value = 0
        self.bus.tdata.value = 0
        if hasattr(self.bus, "tlast"):
            self.bus.tlast.value = 0

    def reset(self):
        """Drop everything queued or in flight (e.g. when the DUT is reset) and idle the bus."""
        self.kill()
        self.clear()
        self.bus.tvalid.value = 0
        self._thread = cocotb.start_soon(self._send_thread())

    def _may_send(self):
        return True if self.idle is None else next(self.idle)

    async def _driver_send(self, transaction, sync=True):
        beats = transaction if isinstance(transaction, (list, tuple)) and transaction and \
            isinstance(transaction[0], tuple) else [transaction]
        clk = RisingEdge(self.clock)
        if sync:
            await clk
        for beat in beats:
            data, last = (beat.data, beat.last) if isinstance(beat, Beat) else beat
            while not self._may_send():
                self.bus.tvalid.value = 0
                await clk
            self.bus.tdata.value = int(data)
            if hasattr(self.bus, "tlast"):
                self.bus.tlast.value = int(last)
            self.bus.tvalid.value = 1
            if self.first_valid_cycle is None:
                self.first_valid_cycle = now_cycle() + 1
            while True:
                await clk
                if to_int(self.bus.tready.value) == 1:
                    break
            c = now_cycle()
            if self.first_beat_cycle is None:
                self.first_beat_cycle = c
            self.beat_cycles.append(c)
            self.beats_sent += 1
        self.bus.tvalid.value = 0


# ---------------------------------------------------------------- monitor / sink

class StreamMonitor(BusMonitor):
    """Records every transferred beat as Beat(data, last) (callbacks: e.g. a scoreboard).

    Also keeps the clock cycle of every transferred beat in ``cycles``.
    """

    _signals = ["tdata", "tvalid", "tready"]
    _optional_signals = ["tlast"]

    def __init__(self, entity, name, clock, reset=None, **kwargs):
        self.cycles = []
        self.beats = 0
        BusMonitor.__init__(self, entity, name, clock, reset=reset, **kwargs)

    async def _monitor_recv(self):
        clk = RisingEdge(self.clock)
        while True:
            await clk
            if self.in_reset:
                continue
            if to_int(self.bus.tvalid.value) == 1 and to_int(self.bus.tready.value) == 1:
                data = to_int(self.bus.tdata.value)
                last = to_int(self.bus.tlast.value) if hasattr(self.bus, "tlast") else 0
                self.cycles.append(now_cycle())
                self.beats += 1
                self._recv(Beat(data, last))


class StreamSink:
    """Drives ``<name>_tready`` from a backpressure generator (True = ready) or always 1."""

    def __init__(self, entity, name, clock, backpressure=None):
        self.ready = getattr(entity, f"{name}_tready")
        self.clock = clock
        self.backpressure = backpressure
        self.ready.value = 1 if backpressure is None else int(next(backpressure))
        self._task = cocotb.start_soon(self._run())

    async def _run(self):
        clk = RisingEdge(self.clock)
        while True:
            await clk
            self.ready.value = 1 if self.backpressure is None else int(next(self.backpressure))


class XZChecker:
    """Fails (counts and logs) when any of ``signals`` holds X or Z at a clock edge while
    ``enabled`` (the test enables it once reset has been applied)."""

    def __init__(self, clock, signals, log, max_log=10):
        self.clock = clock
        self.signals = list(signals)
        self.log = log
        self.enabled = False
        self.errors = 0
        self.checks = 0
        self.max_log = max_log
        self._task = cocotb.start_soon(self._run())

    async def _run(self):
        clk = RisingEdge(self.clock)
        while True:
            await clk
            if not self.enabled:
                continue
            self.checks += 1
            for s in self.signals:
                v = s.value
                if not v.is_resolvable:
                    self.errors += 1
                    if self.errors <= self.max_log:
                        self.log.error("X/Z on %s: %s", s._name, v)

    def check(self):
        assert self.errors == 0, f"{self.errors} X/Z values on outputs after reset"
