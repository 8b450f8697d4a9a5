"""window_unpack (a 3x3 window beat from the stream layout to channel-major order, wires only) vs
golden, from its parameters CI and BITS: random 3x3 images [CI, 3, 3] and corner images (all
zero, all maximum, a distinct value per position), their centre pixel's window beat as
window3x3 streams it (tb/common/frames.window_frames, checked here against golden's gather
golden.model.shifted_planes, tap t = (dy+1)*3 + (dx+1) at [(t*CI + i)*BITS]) driven on win; x
must be the same values in golden's dense weight order k = i*9 + t (golden.model.conv_dense_acc
of the image with the 9*CI one-hot kernels, read at the centre pixel), bit for bit.

The Icarus build checks the module's function form (rtl/window_unpack.v: the one used under
__ICARUS__); SIM=verilator checks the continuous-assign form the synthesis flow sees."""

import numpy as np
import pytest

import cocotb
from cocotb.triggers import Timer

from qgp.golden.model import conv_dense_acc, shifted_planes
from qgp.tb.common.axis import pack, unpack
from qgp.tb.common.frames import window_frames
from qgp.tb.common.runner import build_and_test, sources_for
from qgp.tb.common.tb import tb_params


def images(ci, bits, n, seed):
    """[N, CI, 3, 3] uint images: the corners (all 0, all max, position k -> k mod 2^BITS and
    its reverse) then random ones."""
    top = (1 << bits) - 1
    k = np.arange(9 * ci).reshape(ci, 3, 3) % (top + 1)
    corners = [np.zeros((ci, 3, 3), np.int64), np.full((ci, 3, 3), top, np.int64), k, top - k]
    rng = np.random.default_rng(seed)
    return np.concatenate([np.stack(corners), rng.integers(0, top + 1, size=(n, ci, 3, 3))])


def stream_beats(img, bits):
    """The centre pixel's window beat of each image, as window3x3 streams it."""
    beats = [frame[4].data for frame in window_frames(img, bits)]   # pixel (1, 1) of 3x3
    # the tb helper's layout is golden's gather: value (t, i) at index t*CI + i
    planes = shifted_planes(img)                                  # [9, CI, N, 3, 3]
    for f, b in enumerate(beats):
        assert b == pack(planes[:, :, f, 1, 1].reshape(-1), bits), f"image {f}"
    return beats


def channel_major(img):
    """[N, 9*CI]: column k = i*9 + t the value golden's dense conv weighs with w[., i, ky, kx]
    (t = ky*3 + kx), read at the centre pixel."""
    ci = img.shape[1]
    onehot = np.eye(9 * ci, dtype=np.int64).reshape(9 * ci, ci, 3, 3)
    return conv_dense_acc(img, onehot)[:, :, 1, 1]


@cocotb.test()
async def test_unpack_matches_golden(dut):
    p = tb_params()
    ci, bits = p["CI"], p["BITS"]
    img = images(ci, bits, 300, seed=ci * 31 + bits)
    wins = stream_beats(img, bits)
    want = channel_major(img)
    for f, w in enumerate(wins):
        dut.win.value = w
        await Timer(1, unit="ns")
        got = dut.x.value
        assert got.is_resolvable, f"image {f}: X/Z on x ({got})"
        vals = unpack(int(got), bits, 9 * ci)
        for k in range(9 * ci):
            assert vals[k] == want[f, k], (f"image {f}: x value {k} (channel {k // 9}, tap "
                                           f"{k % 9}) = {vals[k]}, expected {want[f, k]}")
    dut._log.info("%d window beats compared, 0 mismatches", len(wins))


@pytest.mark.parametrize("ci,bits", [(1, 1), (1, 4), (3, 8), (4, 4), (5, 3), (16, 2)])
def test_window_unpack(ci, bits):
    build_and_test("window_unpack", sources_for("window_unpack"), {"CI": ci, "BITS": bits},
                   __name__)
