"""cocotb side of tests/ecosystem/test_host.py: stream the bytes qgp.host packed into the
generated qgp_net (one word per beat, tlast as qgp.host says) and record every raw output beat."""
import json
import os

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ReadOnly, RisingEdge


@cocotb.test()
async def stream_packed_bytes(dut):
    cfg = json.loads(os.environ["QGP_HOST_TB"])
    data = open(cfg["input"], "rb").read()
    nb, frame, n = cfg["in_beat_bytes"], cfg["frame"], cfg["images"]
    beats = [int.from_bytes(data[i:i + nb], "little") for i in range(0, len(data), nb)]
    assert len(beats) == n * frame
    Clock(dut.clk, 10, unit="ns").start()
    dut.rst.value = 1
    dut.s_axis_tvalid.value = 0
    dut.s_axis_tdata.value = 0
    dut.s_axis_tlast.value = 0
    dut.m_axis_tready.value = 1
    for _ in range(3):
        await RisingEdge(dut.clk)
    dut.rst.value = 0
    out = []
    i = 0
    for _ in range(n * frame * 8 + 5000):
        valid = i < len(beats)
        dut.s_axis_tvalid.value = int(valid)
        dut.s_axis_tdata.value = beats[i] if valid else 0
        dut.s_axis_tlast.value = int(valid and (i + 1) % frame == 0)
        await ReadOnly()  # this cycle's handshakes, as the clock edge will see them
        in_fire = valid and int(dut.s_axis_tready.value)
        if int(dut.m_axis_tvalid.value):
            out.append([str(dut.m_axis_tdata.value.to_unsigned()), int(dut.m_axis_tlast.value)])
        await RisingEdge(dut.clk)
        i += int(bool(in_fire))
        if len(out) == n:
            break
    with open(cfg["output"], "w") as f:
        json.dump(out, f)
    assert len(out) == n, f"{len(out)} output beats for {n} images"
