"""requant (combinational) vs golden.model.requant: random and extreme acc / m / b, negative
values, floor of the arithmetic shift, clamping at both ends."""

import numpy as np
import pytest

import cocotb
from cocotb.triggers import Timer

from golden import model
from tb.common.runner import build_and_test, sources_for
from tb.common.tb import tb_params


def s_range(bits):
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


@cocotb.test()
async def test_requant_random(dut):
    p = tb_params()
    aw, mw, bw, pw, sh, ab = p["ACC_W"], p["M_W"], p["B_W"], p["PROD_W"], p["SHIFT"], p["ABITS"]
    rng = np.random.default_rng(aw * 1000 + mw)
    alo, ahi = s_range(aw)
    mlo, mhi = s_range(mw)
    blo, bhi = s_range(bw)
    plo, phi = s_range(pw)
    cases = [(a, m, b) for a in (alo, ahi, 0, -1, 1) for m in (mlo, mhi, -1, 1, 0) for b in (blo, bhi, 0)]
    cases += list(zip(rng.integers(alo, ahi + 1, 400), rng.integers(mlo, mhi + 1, 400),
                      rng.integers(blo, bhi + 1, 400)))
    # small values around the shift boundary: exercises floor on negatives
    cases += [(int(a), 1, int(b)) for a in range(-9, 10) for b in (-(1 << sh) + 1, -1, 0, (1 << sh) - 1)]
    checked = 0
    for a, m, b in cases:
        a, m, b = int(a), int(m), int(b)
        if not plo <= a * m + b <= phi:
            continue   # outside the declared PROD_W: a bundle never declares this
        dut.acc.value = a & ((1 << aw) - 1)
        dut.m.value = m & ((1 << mw) - 1)
        dut.b.value = b & ((1 << bw) - 1)
        await Timer(1, unit="ns")
        assert dut.y.value.is_resolvable, f"X/Z on y for acc={a} m={m} b={b}"
        want = int(model.requant(np.array([[[[a]]]]), [m], [b], sh, ab)[0, 0, 0, 0])
        got = int(dut.y.value)
        assert got == want, f"acc={a} m={m} b={b}: got {got}, want {want}"
        checked += 1
    assert checked > 300
    dut._log.info("%d requant cases checked", checked)


@pytest.mark.parametrize("aw,mw,bw,pw,sh,ab", [
    (10, 8, 12, 18, 6, 4),     # typical
    (20, 3, 17, 20, 12, 4),    # small m: PROD_W == ACC_W
    (19, 13, 30, 30, 24, 2),   # wide bias, ABITS 2
    (12, 16, 24, 36, 0, 8),    # no shift, 8-bit output
])
def test_requant(aw, mw, bw, pw, sh, ab):
    params = {"ACC_W": aw, "M_W": mw, "B_W": bw, "PROD_W": pw, "SHIFT": sh, "ABITS": ab}
    build_and_test("requant", sources_for("requant"), params, __name__,
                   extra_env={"TB_SEED": "1"}, name=f"requant_{aw}_{mw}_{bw}_{pw}_{sh}_{ab}")
