"""cocotb (2.x) test of the whole generated qgp_net on Icarus, for the simulation-speed benchmark.

Streams the images of QGP_IMAGES (.npy uint8 [N,C,H,W]) with input always valid and output
always ready, checks every result beat against QGP_EXPECTED (.npy int64 [N, K+1]: logits, class)
and writes {"images", "mismatches", "cycles", "wall_s"} to QGP_RESULT. Run by tb/bench/simspeed.py
through cocotb_tools.runner; not collected by pytest (no test_ prefix).
"""

import json
import os
import time

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge


@cocotb.test()
async def stream_images(dut):
    net = json.load(open(os.environ["QGP_NET_JSON"]))
    images = np.load(os.environ["QGP_IMAGES"])
    expected = np.load(os.environ["QGP_EXPECTED"])
    k, lw, cw = net["classes"], net["logit_w"], net["class_w"]
    cin = net["input"]["channels"]
    n = len(images)
    pixels = images.transpose(0, 2, 3, 1).reshape(n, -1, cin)
    frame = pixels.shape[1]

    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.s_axis_tvalid.value = 0
    dut.s_axis_tlast.value = 0
    dut.s_axis_tdata.value = 0
    dut.m_axis_tready.value = 1
    for _ in range(4):
        await RisingEdge(dut.clk)
    dut.rst.value = 0

    t0 = time.time()
    img = pix = 0
    got = []
    cycles = 0

    def present():
        if img < n:
            v = 0
            for c in range(cin):
                v |= int(pixels[img, pix, c]) << (8 * c)
            dut.s_axis_tdata.value = v
            dut.s_axis_tlast.value = 1 if pix == frame - 1 else 0
            dut.s_axis_tvalid.value = 1
        else:
            dut.s_axis_tvalid.value = 0
            dut.s_axis_tlast.value = 0

    present()
    limit = (n + 4) * 20 * frame
    while len(got) < n and cycles < limit:
        await RisingEdge(dut.clk)
        cycles += 1
        # values sampled at the edge are those the design saw in the cycle that just ended
        if int(dut.m_axis_tvalid.value):
            got.append(int(dut.m_axis_tdata.value))
        if img < n and int(dut.s_axis_tready.value):
            pix += 1
            if pix == frame:
                pix = 0
                img += 1
            present()
    wall = time.time() - t0

    bad = 0
    mask = (1 << lw) - 1
    for i, word in enumerate(got):
        cls = word & ((1 << cw) - 1)
        logits = []
        for j in range(k):
            v = (word >> (cw + j * lw)) & mask
            logits.append(v - (1 << lw) if v >> (lw - 1) else v)
        if cls != int(expected[i, k]) or logits != [int(v) for v in expected[i, :k]]:
            bad += 1
    with open(os.environ["QGP_RESULT"], "w") as f:
        json.dump({"images": len(got), "mismatches": bad, "cycles": cycles,
                   "wall_s": round(wall, 3)}, f)
    assert len(got) == n, f"{len(got)} of {n} results"
    assert bad == 0, f"{bad} mismatching images"
