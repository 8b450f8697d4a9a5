"""axis_fifo: every beat passes unchanged under all idle / backpressure patterns; full
throughput (latency 1); reset in the middle of a burst."""

import pytest

from qgp.tb.common.passthrough import run_test, test_reset_mid_burst  # noqa: F401  (cocotb tests of this module)
from qgp.tb.common.runner import build_and_test, sources_for


@pytest.mark.parametrize("data_w,depth", [(8, 2), (5, 3), (16, 16)])
def test_axis_fifo(data_w, depth):
    build_and_test("axis_fifo", sources_for("axis_fifo"), {"DATA_W": data_w, "DEPTH": depth}, __name__)
