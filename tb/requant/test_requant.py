"""requant (threshold unit, combinational or with its compares registered, REG) vs
golden.model.requant: golden's thresholds (golden/thresholds.py) for random and extreme m / b /
shift (m < 0, m == 0, |m| = 1, outputs clamped at both ends), every acc of the ACC_W-bit
accumulator; REG = 1: y one clock after an enabled edge, held through edges with en = 0."""

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
    reg = int(p.get("REG", 0))
    held = None           # REG = 1: the value y holds (None before the first enabled edge)
    dut.clk.value = 0
    dut.en.value = 0
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
            if reg:
                en = int(rng.random() < 0.8) if held is not None else 1
                dut.en.value = en
                await Timer(1, unit="ns")
                dut.clk.value = 1
                await Timer(1, unit="ns")
                dut.clk.value = 0
                if not en:
                    assert int(dut.y.value) == held, f"en = 0: y moved from {held}"
                    dut.en.value = 1          # the same acc again, enabled
                    await Timer(1, unit="ns")
                    dut.clk.value = 1
                    await Timer(1, unit="ns")
                    dut.clk.value = 0
            await Timer(1, unit="ns")
            assert dut.y.value.is_resolvable, f"X/Z on y for acc={a} m={m} b={b}"
            got = int(dut.y.value)
            assert got == int(w), f"acc={a} m={m} b={b} shift={shift}: got {got}, want {int(w)}"
            held = got
            checked += 1
    assert checked >= 19 * len(accs)
    dut._log.info("%d requant cases checked", checked)


@pytest.mark.parametrize("aw,ab,reg", [(6, 4, 0), (8, 2, 0), (5, 1, 0), (7, 3, 0), (6, 4, 1),
                                        (5, 2, 1)])
def test_requant(aw, ab, reg):
    params = {"ACC_W": aw, "TH_W": threshold_bits(aw), "ABITS": ab, "REG": reg}
    build_and_test("requant", sources_for("requant"), params, __name__,
                   extra_env={"TB_SEED": "1"}, name=f"requant_{aw}_{ab}_{reg}")
