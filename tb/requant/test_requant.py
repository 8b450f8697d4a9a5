"""requant (threshold unit, combinational) vs golden.model.requant: golden's thresholds
(golden/thresholds.py) for random and extreme m / b / shift (m < 0, m == 0, |m| = 1, outputs
clamped at both ends), every acc of the ACC_W-bit accumulator."""

import numpy as np
import pytest

import cocotb
from cocotb.triggers import Timer

from qgp.golden import model
from qgp.golden.thresholds import channel_thresholds, threshold_bits
from qgp.tb.common.runner import build_and_test, sources_for
from qgp.tb.common.tb import tb_params


def channels(aw, ab, rng):
    """(m, b, shift) per test channel: extremes first, then random."""
    lo, hi = -(1 << (aw - 1)), (1 << (aw - 1)) - 1
    span = 1 << ab
    out = [(0, 0, 0), (0, 5 << 3, 3), (0, -1, 0), (1, 0, 0), (-1, 0, 0), (1, span << 4, 4),
           (-1, -(span << 4), 4), ((1 << 20) - 1, 0, 0), (-(1 << 20), 1 << 30, 2),
           (3, -(3 * hi), 0), (-3, 3 * lo, 1)]
    for _ in range(8):
        shift = int(rng.integers(0, 12))
        # about the full output range over the accumulator range, some clamping
        mag = max(1, (span << shift) // max(1, hi))
        m = int(rng.integers(1, 4 * mag + 2)) * (1 if rng.random() < 0.6 else -1)
        b = int(rng.integers(-(span << shift), span << shift))
        out.append((m, b, shift))
    return out


@cocotb.test()
async def test_requant_exhaustive(dut):
    p = tb_params()
    aw, tw, ab = p["ACC_W"], p["TH_W"], p["ABITS"]
    assert tw == threshold_bits(aw)
    rng = np.random.default_rng(aw * 100 + ab)
    accs = np.arange(-(1 << (aw - 1)), 1 << (aw - 1), dtype=np.int64)
    checked = 0
    for m, b, shift in channels(aw, ab, rng):
        t, neg = channel_thresholds(m, b, shift, ab, aw)
        word = int(neg) << (len(t) * tw)
        for k, v in enumerate(t):
            word |= (v & ((1 << tw) - 1)) << (k * tw)
        dut.th.value = word
        want = model.requant(accs.reshape(1, 1, 1, -1), [m], [b], shift, ab).reshape(-1)
        for a, w in zip(accs, want):
            dut.acc.value = int(a) & ((1 << aw) - 1)
            await Timer(1, unit="ns")
            assert dut.y.value.is_resolvable, f"X/Z on y for acc={a} m={m} b={b}"
            got = int(dut.y.value)
            assert got == int(w), f"acc={a} m={m} b={b} shift={shift}: got {got}, want {int(w)}"
            checked += 1
    assert checked >= 19 * len(accs)
    dut._log.info("%d requant cases checked", checked)


@pytest.mark.parametrize("aw,ab", [(6, 4), (8, 2), (5, 1), (7, 3)])
def test_requant(aw, ab):
    params = {"ACC_W": aw, "TH_W": threshold_bits(aw), "ABITS": ab}
    build_and_test("requant", sources_for("requant"), params, __name__,
                   extra_env={"TB_SEED": "1"}, name=f"requant_{aw}_{ab}")
