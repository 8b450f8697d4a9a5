"""rom_sync (a ROM with a synchronous read enabled by ce, OUTREG: through a second register
loaded with load, LOADS slices each with its own load bit) against a model of its header, clock
by clock: random words in a $readmemh file, random addresses (every word), ce and load bits; q
must be the word of the address of the last clock with ce = 1 (OUTREG = 0), or, slice by slice,
the read register's word of the last clock with that slice's load = 1 (OUTREG = 1; 0 before the
first; the first clocks read and load nothing before a read, as the callers prime it)."""

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
    w, depth, outreg, loads = p["W"], p["DEPTH"], p["OUTREG"], p["LOADS"]
    words = [int(x, 16) for x in open(p["FILE"]).read().split()]
    rng = np.random.default_rng(w * 31 + depth + outreg + loads)
    sl = -(-w // loads)                                # bits per load slice
    masks = [((1 << sl) - 1) << (k * sl) & ((1 << w) - 1) for k in range(loads)]
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    r, q = None, 0
    n = 40 * depth + 50
    for i in range(n):
        await FallingEdge(dut.clk)
        if r is not None:
            want = q if outreg else r
            got = dut.q.value
            assert got.is_resolvable and int(got) == want, f"clock {i}: q {got}, expected {want:#x}"
        # the first clock reads (ce = 1); no load before the read register holds a word
        a, ce = int(rng.integers(0, depth)), int(i == 0 or rng.random() < 0.7)
        ld = [int(rng.random() < 0.5 and r is not None) for _ in range(loads)]
        dut.addr.value, dut.ce.value = a, ce
        dut.load.value = sum(b << k for k, b in enumerate(ld))
        await RisingEdge(dut.clk)
        for k, b in enumerate(ld):
            if b:
                q = (q & ~masks[k]) | (r & masks[k])
        if ce:
            r = words[a]
    dut._log.info("%d clocks compared, 0 mismatches", n)


@pytest.mark.parametrize("w,depth,aw,outreg,loads", [(1, 1, 1, 0, 1), (7, 5, 3, 1, 1), (40, 16, 4, 1, 8),
                                                    (12, 3, 2, 0, 1), (10, 4, 2, 1, 3)])
def test_rom_sync(tmp_path, w, depth, aw, outreg, loads):
    rng = np.random.default_rng(depth)
    f = tmp_path / "rom.mem"
    f.write_text("".join(f"{int(rng.integers(0, 1 << w)):x}\n" for _ in range(depth)))
    build_and_test("rom_sync", sources_for("rom_sync"),
                   {"W": w, "DEPTH": depth, "AW": aw, "FILE": str(f), "OUTREG": outreg, "LOADS": loads}, __name__)
