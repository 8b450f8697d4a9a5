"""conv_dense (the dense 3x3 core: constant or ROM weights, fused requant thresholds) on
windows of random frames vs golden.model.layer_acc + golden.model.requant under every idle /
backpressure pattern; exact cycle count; reset in the middle of a frame (the cocotb tests are
tb/common/conv.py's)."""

import pytest

from qgp.tb.common.conv import run_conv, run_test, test_reset_mid_frame  # noqa: F401  (cocotb tests of this module)


@pytest.mark.parametrize("ci,co,fold,in_bits,tree_reg", [
    (1, 2, 1, 8, 0), (1, 6, 2, 8, 1), (3, 4, 4, 4, 2), (2, 3, 1, 8, 2)])
def test_conv_dense(ci, co, fold, in_bits, tree_reg):
    run_conv("conv_dense", ci, co, fold, 4, 5, in_bits, seed=ci * 100 + co, test_module=__name__,
             tree_reg=tree_reg, rq_reg=0 if tree_reg == 0 else None)   # unpipelined: RQ_REG 0 too


@pytest.mark.parametrize("extreme", ["max", "min"])
def test_conv_dense_extreme(extreme):
    # accumulators at their limits (every weight at its extreme), FOLD 1, pipelined tree
    run_conv("conv_dense", 3, 4, 1, 4, 5, 8, seed=11, test_module=__name__, tree_reg=1,
             extreme=extreme)
