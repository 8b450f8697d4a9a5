"""adder_tree (balanced adder tree, optional registers every REG_EVERY levels and on the leaves)
vs a Python model from its parameters: every clock random signed leaves (and runs of all-minimum
/ all-maximum leaves, the declared worst case) with en random; sum must be the leaves' sum mod
2^OW, two's complement, of the leaves presented LAT enabled clocks earlier (LAT from the module
header's formula, which must agree with rtl.gen.params.tree_latency for the conv cores' trees)."""

import numpy as np
import pytest

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge, Timer

from qgp.rtl.gen.params import tree_latency
from qgp.tb.common.axis import CLK_PERIOD_NS, pack
from qgp.tb.common.runner import build_and_test, sources_for
from qgp.tb.common.tb import tb_params


def tree_levels(n):
    return (n - 1).bit_length() if n > 1 else 0


def latency(p):
    """Register stages LAT (adder_tree.v header)."""
    lv, r, f = tree_levels(p["N"]), p.get("REG_EVERY", 0), p.get("REG_FROM", 2)
    return p.get("LEAF_REG", 0) + ((lv - f) // r if r > 0 and lv > f else 0)


def expected_sum(leaves, ow):
    s = sum(int(v) for v in leaves) & ((1 << ow) - 1)
    return s - (1 << ow) if s >> (ow - 1) else s


class TB:
    def __init__(self, dut):
        self.dut = dut
        self.p = tb_params()
        self.n, self.iw, self.ow = self.p["N"], self.p["IW"], self.p["OW"]
        self.lat = latency(self.p)
        Clock(dut.clk, CLK_PERIOD_NS, unit="ns").start()
        dut.en.value = 0
        dut.leaf.value = 0

    def leaves(self, rng, kind):
        lo, hi = -(1 << (self.iw - 1)), (1 << (self.iw - 1)) - 1
        if kind == "min":
            return [lo] * self.n
        if kind == "max":
            return [hi] * self.n
        return [int(v) for v in rng.integers(lo, hi + 1, size=self.n)]

    async def run(self, cycles, p_en, seed):
        rng = np.random.default_rng(seed)
        dut = self.dut
        history = []          # leaves present at each enabled clock edge
        checked = 0
        for c in range(cycles):
            await FallingEdge(dut.clk)
            kind = ["min", "max", "rand", "rand"][(c // 7) % 4]
            lv = self.leaves(rng, kind)
            en = int(rng.random() < p_en)
            dut.leaf.value = pack(lv, self.iw)
            dut.en.value = en
            await Timer(1, unit="ns")
            got = dut.sum.value
            if self.lat == 0:
                want = expected_sum(lv, self.ow)
            elif len(history) >= self.lat:
                want = expected_sum(history[-self.lat], self.ow)
            else:
                want = None        # the registers still hold their initial zeros
            if want is not None:
                assert got.is_resolvable, f"clock {c}: X/Z on sum ({got})"
                assert got.to_signed() == want, f"clock {c}: sum {got.to_signed()}, expected {want}"
                checked += 1
            await RisingEdge(dut.clk)
            if en:
                history.append(lv)
        return checked


@cocotb.test()
async def test_sum_every_clock(dut):
    tb = TB(dut)
    n = await tb.run(200, 1.0, seed=1)
    assert n >= 200 - tb.lat


@cocotb.test()
async def test_sum_random_en(dut):
    """en random (50 %): the registers hold while en = 0."""
    tb = TB(dut)
    n = await tb.run(300, 0.5, seed=2)
    assert n >= 100


CASES = [  # N, IW, OW, REG_EVERY, LEAF_REG, REG_FROM
    (1, 5, 7, 0, 0, 2), (1, 4, 4, 0, 1, 2), (2, 3, 4, 1, 0, 2), (5, 5, 8, 1, 1, 2),
    (16, 4, 8, 2, 0, 2), (33, 3, 9, 1, 1, 2), (100, 5, 7, 3, 1, 2), (7, 9, 6, 0, 0, 2),
    (64, 1, 7, 2, 0, 2), (9, 6, 10, 3, 0, 2), (8, 16, 17, 2, 0, 1), (16, 5, 9, 1, 1, 1)]


def test_latency_matches_the_conv_cores():
    """The header's LAT is the latency rtl.gen.params counts for a conv core's tree (a QGP
    core's tree has CI leaves; LEAF_REG when folded and TREE_REG > 0)."""
    for ci in (1, 3, 4, 5, 9, 48, 128, 256):
        for reg in (0, 1, 2, 3):
            for fold in (1, 2):
                conv = {"CI": ci, "CO": 2 * fold, "PE": 2, "TREE_REG": reg}
                tree = {"N": ci, "REG_EVERY": reg, "LEAF_REG": int(reg > 0 and fold > 1)}
                assert latency(tree) == tree_latency(conv), (conv, tree)
                # a dense core: its tree over 9*CI products (folded) or 9*CI*WBITS digits,
                # and when folded each product's tree (REG_FROM 1, a register after level 1)
                for wbits in (2, 4, 8):
                    dense = dict(conv, DENSE=1, WBITS=wbits)
                    mlv = tree_levels(wbits)
                    n = 9 * ci * (1 if fold > 1 else wbits)
                    tree = {"N": n, "REG_EVERY": reg, "LEAF_REG": int(reg > 0 and fold > 1)}
                    mul = {"N": wbits, "REG_FROM": 1, "REG_EVERY": mlv - 1
                           if reg > 0 and fold > 1 and mlv >= 2 else 0}
                    assert latency(tree) + latency(mul) == tree_latency(dense), (dense, tree, mul)


@pytest.mark.parametrize("n,iw,ow,reg_every,leaf_reg,reg_from", CASES)
def test_adder_tree(n, iw, ow, reg_every, leaf_reg, reg_from):
    build_and_test("adder_tree", sources_for("adder_tree"),
                   {"N": n, "IW": iw, "OW": ow, "REG_EVERY": reg_every, "LEAF_REG": leaf_reg,
                    "REG_FROM": reg_from}, __name__)
