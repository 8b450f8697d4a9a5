"""dense_layer (FIFO -> window3x3 -> conv_dense + requant -> skid -> [maxpool2]) on random
frames vs golden.model.run_layer; same cocotb tests as qgp_layer (exact cycle count, reset in
the middle of a frame, soak, extreme inputs)."""

import pytest

from tb.qgp_layer.test_qgp_layer import (  # noqa: F401  (cocotb collects these tests here)
    run_layer_module, run_test, test_extreme_inputs, test_reset_mid_frame, test_soak,
)


@pytest.mark.parametrize("ci,co,h,w,fold,pool,soak,extreme", [
    (1, 4, 4, 6, 1, False, True, None),    # first layer shape (8-bit input); + soak
    (1, 6, 6, 4, 2, True, False, "max"),   # folded, pooled, all weights +max (extreme acc)
    (2, 3, 4, 4, 3, False, False, None),   # two input channels, PE 1
])
def test_dense_layer(ci, co, h, w, fold, pool, soak, extreme):
    run_layer_module("conv_dense", ci, co, h, w, fold, pool, 8, seed=ci * 17 + co, soak=soak,
                     extreme=extreme, test_module=__name__)
