"""Scoreboard: every output beat against the expected beats from golden.

Built on cocotb_bus.scoreboard.Scoreboard (its queue matching and missing/extra accounting),
with a compact compare for stream beats and a ``check()`` that does not call
``cocotb.pass_test()`` (cocotb-bus's ``result`` does, which would end the test early).
"""

from cocotb_bus.scoreboard import Scoreboard


class BeatScoreboard(Scoreboard):
    """``add_interface(monitor, expected)``: expected is a list of Beat(data, last), consumed
    in order. ``fmt`` (optional) renders a beat for error messages (e.g. decoded channels)."""

    def __init__(self, dut, fmt=None, max_log=10):
        super().__init__(dut, fail_immediately=False)
        self.fmt = fmt or (lambda b: repr(b))
        self.compared = 0
        self.mismatches = 0
        self.max_log = max_log

    def compare(self, got, exp, log, strict_type=True):
        self.compared += 1
        if tuple(got) != tuple(exp):
            self.errors += 1
            self.mismatches += 1
            if self.mismatches <= self.max_log:
                log.error("beat %d mismatch:\n  got      %s\n  expected %s",
                          self.compared - 1, self.fmt(got), self.fmt(exp))

    def pending(self):
        return sum(len(v) for v in self.expected.values() if not callable(v))

    def check(self):
        """Assert: no wrong beat, no extra beat, no missing beat."""
        missing = self.pending()
        extra = self.errors - self.mismatches
        assert self.mismatches == 0 and extra == 0 and missing == 0, (
            f"scoreboard: {self.compared} beats compared, {self.mismatches} wrong, "
            f"{extra} extra, {missing} missing")
        return self.compared
