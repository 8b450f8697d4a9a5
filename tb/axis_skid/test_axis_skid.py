"""axis_skid: every beat passes unchanged under all idle / backpressure patterns; full
throughput (latency 1), or one beat every two clocks with HALF = 1; reset in the middle of a burst."""

import pytest

from qgp.tb.common.passthrough import run_test, test_reset_mid_burst  # noqa: F401  (cocotb tests of this module)
from qgp.tb.common.runner import build_and_test, sources_for


@pytest.mark.parametrize("data_w,half", [(1, 0), (8, 0), (33, 0), (8, 1), (33, 1)])
def test_axis_skid(data_w, half):
    build_and_test("axis_skid", sources_for("axis_skid"), {"DATA_W": data_w, "HALF": half}, __name__)
