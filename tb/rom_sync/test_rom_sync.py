"""rom_sync (a ROM with a synchronous read, OUTREG: through a second register loaded with
load) against a model of its header, clock by clock: random words in a $readmemh file, random
addresses (every word) and load; q must be the word of the address of the clock before
(OUTREG = 0), or the read register's word of the last clock with load = 1 (OUTREG = 1; 0 before
the first; the first clock loads nothing, as the callers prime it)."""

import numpy as np
import pytest

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge

from qgp.tb.common.runner import build_and_test, sources_for
from qgp.tb.common.tb import tb_params


@cocotb.test()
async def test_reads_match_the_model(dut):
    p = tb_params()
    w, depth, outreg = p["W"], p["DEPTH"], p["OUTREG"]
    words = [int(x, 16) for x in open(p["FILE"]).read().split()]
    rng = np.random.default_rng(w * 31 + depth + outreg)
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    r, q = None, 0
    n = 40 * depth + 50
    for i in range(n):
        await FallingEdge(dut.clk)
        if i > 1:
            want = q if outreg else r
            got = dut.q.value
            assert got.is_resolvable and int(got) == want, f"clock {i}: q {got}, expected {want:#x}"
        # no load before the read register holds a word (callers prime it: the header)
        a, ld = int(rng.integers(0, depth)), int(rng.random() < 0.5 and i > 0)
        dut.addr.value, dut.load.value = a, ld
        await RisingEdge(dut.clk)
        if ld:
            q = r
        r = words[a]
    dut._log.info("%d clocks compared, 0 mismatches", n)


@pytest.mark.parametrize("w,depth,aw,outreg", [(1, 1, 1, 0), (7, 5, 3, 1), (40, 16, 4, 1), (12, 3, 2, 0)])
def test_rom_sync(tmp_path, w, depth, aw, outreg):
    rng = np.random.default_rng(depth)
    f = tmp_path / "rom.mem"
    f.write_text("".join(f"{int(rng.integers(0, 1 << w)):x}\n" for _ in range(depth)))
    build_and_test("rom_sync", sources_for("rom_sync"),
                   {"W": w, "DEPTH": depth, "AW": aw, "FILE": str(f), "OUTREG": outreg}, __name__)
