"""qgp_lane (one QGP output channel's 9:1 multiplexers and signs: the leaves of its adder tree,
no clock) vs golden, from its parameters CI, BITS, CONST and TS: 3x3 images [CI, 3, 3] (random,
all zero, all maximum), their centre pixel's window in channel-major order on x (golden's dense
weight order i*9 + t, as window_unpack delivers it) and per channel a {sign, tap} on ts (CONST =
0: every tap 0..15 with both signs on every channel, then random ones; CONST = 1: the build's
TS, with ts driven random, which the module must ignore). Each term must be, bit for bit in
BITS + 1 bits two's complement,

    golden.model.conv_qgp_acc of channel i alone with that tap and sign, at the centre pixel,
    minus sign     (the ones' complement; rtl/gen/params.py folds the sum of signs away),

and -sign for a tap above 8 (the module header: such a tap selects 0; golden's taps are 0..8)."""

import numpy as np
import pytest

import cocotb
from cocotb.triggers import Timer

from qgp.golden.model import conv_dense_acc, conv_qgp_acc
from qgp.tb.common.axis import pack, unpack
from qgp.tb.common.runner import build_and_test, sources_for
from qgp.tb.common.tb import tb_params


def channel_major(img):
    """[N, 9*CI]: the centre pixel's window, column i*9 + t (golden's dense weight order)."""
    ci = img.shape[1]
    onehot = np.eye(9 * ci, dtype=np.int64).reshape(9 * ci, ci, 3, 3)
    return conv_dense_acc(img, onehot)[:, :, 1, 1]


def signed_taps(img):
    """[N, CI, 2, 9]: (s, t) = golden's QGP accumulator of channel i alone with tap t and sign
    s, at the centre pixel (every channel of every image as a 1-channel image, 18 outputs)."""
    n, ci = img.shape[:2]
    tap = np.tile(np.arange(9), 2).reshape(18, 1)
    sign = np.repeat([0, 1], 9).reshape(18, 1)
    acc = conv_qgp_acc(img.reshape(n * ci, 1, 3, 3), tap, sign)[:, :, 1, 1]
    return acc.reshape(n, ci, 2, 9)


def expected_terms(st, tap, sign, bits):
    """[N, CI] terms (BITS + 1 bit patterns) for taps [N, CI] (0..15) and signs [N, CI]."""
    n, ci = tap.shape
    nn, ii = np.meshgrid(np.arange(n), np.arange(ci), indexing="ij")
    v = np.where(tap < 9, st[nn, ii, sign, np.minimum(tap, 8)], 0)
    return (v - sign) & ((1 << (bits + 1)) - 1)


def stimuli(ci, bits, const, ts_param, n_rand, seed):
    """images [N, CI, 3, 3], taps and signs [N, CI] the DUT uses, ts words [N, CI] driven."""
    rng = np.random.default_rng(seed)
    top = (1 << bits) - 1
    kinds = [np.zeros((ci, 3, 3), np.int64), np.full((ci, 3, 3), top, np.int64),
             rng.integers(0, top + 1, size=(ci, 3, 3))]
    imgs, taps, signs = [], [], []
    if not const:
        # every tap (0..8 and the zero-selecting 9..15) with either sign on every channel,
        # on each corner image
        for t in range(16):
            for s in (0, 1):
                for im in kinds:
                    imgs.append(im)
                    taps.append(np.full(ci, t))
                    signs.append(np.full(ci, s))
    else:
        for im in kinds:
            imgs.append(im)
            taps.append(np.zeros(ci, np.int64))
            signs.append(np.zeros(ci, np.int64))
    img = np.concatenate([np.stack(imgs), rng.integers(0, top + 1, size=(n_rand, ci, 3, 3))])
    # random taps: 0..8 mostly, 9..15 now and then
    rt = np.where(rng.random((n_rand, ci)) < 0.85, rng.integers(0, 9, size=(n_rand, ci)),
                  rng.integers(9, 16, size=(n_rand, ci)))
    tap = np.concatenate([np.stack(taps), rt])
    sign = np.concatenate([np.stack(signs), rng.integers(0, 2, size=(n_rand, ci))])
    ts = sign << 4 | tap
    if const:
        # the DUT's taps and signs are TS; the ts port gets the random words above
        fixed = np.array(unpack(ts_param, 5, ci))
        tap = np.broadcast_to(fixed & 15, tap.shape)
        sign = np.broadcast_to(fixed >> 4, sign.shape)
    return img, tap, sign, ts


@cocotb.test()
async def test_terms_match_golden(dut):
    p = tb_params()
    ci, bits, const = p["CI"], p["BITS"], p.get("CONST", 0)
    img, tap, sign, ts = stimuli(ci, bits, const, p.get("TS", 0), 300, seed=ci * 7 + bits + const)
    xs = channel_major(img)
    want = expected_terms(signed_taps(img), tap, sign, bits)
    for f in range(len(img)):
        dut.x.value = pack(xs[f], bits)
        dut.ts.value = pack(ts[f], 5)
        await Timer(1, unit="ns")
        got = dut.term.value
        assert got.is_resolvable, f"vector {f}: X/Z on term ({got})"
        terms = unpack(int(got), bits + 1, ci)
        for i in range(ci):
            assert terms[i] == want[f, i], (
                f"vector {f}: channel {i} (tap {tap[f, i]}, sign {sign[f, i]}, window "
                f"{[int(v) for v in xs[f, i * 9:i * 9 + 9]]}): term {terms[i]:#x}, "
                f"expected {want[f, i]:#x}")
    dut._log.info("%d vectors x %d channels compared, 0 mismatches", len(img), ci)


def ts_word(taps_signs):
    return pack([s << 4 | t for t, s in taps_signs], 5)


CASES = [  # CI, BITS, CONST, TS
    (1, 1, 0, None), (1, 4, 0, None), (3, 8, 0, None), (4, 4, 0, None), (5, 3, 0, None),
    (16, 2, 0, None),
    # FOLD-1 form: every tap 0..8 on one channel each, both signs; a tap above 8 (selects 0)
    (9, 4, 1, ts_word([(t, t % 2) for t in range(9)])),
    (10, 3, 1, ts_word([(8 - t, 1 - t % 2) for t in range(9)] + [(15, 1)])),
    (1, 4, 1, ts_word([(4, 1)])),
]


@pytest.mark.parametrize("ci,bits,const,ts", CASES,
                         ids=[f"CI{c}-BITS{b}" + (f"-TS{t:#x}" if k else "")
                              for c, b, k, t in CASES])
def test_qgp_lane(ci, bits, const, ts):
    p = {"CI": ci, "BITS": bits, "CONST": const}
    if const:
        p["TS"] = ts
    build_and_test("qgp_lane", sources_for("qgp_lane"), p, __name__)
