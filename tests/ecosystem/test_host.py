"""qgp.host: the bytes it packs drive the generated network (cocotb + Icarus, a small synthetic
bundle) and the raw output beats it unpacks equal golden's class and logits; byte streams with
and without 32-bit padding; the packing equals the regression's stream; the CLI."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import qgp.host as H
from qgp.golden import model
from qgp.golden.synth import random_bundle

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    from qgp.rtl.gen.top import generate
    d = tmp_path_factory.mktemp("host")
    cfg = {"name": "host3", "input": {"channels": 3, "height": 6, "width": 6, "bits": 8}, "abits": 4, "wbits": 8,
           "layers": [{"type": "conv_dense", "out_channels": 4}, {"type": "conv_qgp", "out_channels": 4, "pool": True},
                      {"type": "gsum_fc", "classes": 5}]}
    b = random_bundle(d / "b", cfg, seed=11)
    info = generate(d / "b", d / "gen")
    return b, info, d


def test_pack_unpack_against_the_rtl(net):
    from qgp.tb.common.runner import build_and_test
    b, info, d = net
    fmt = H.StreamFormat(d / "gen")  # the folder holding qgp_net.json
    rng = np.random.default_rng(2)
    x = rng.integers(0, 256, (4, 3, 6, 6)).astype(np.uint8)
    x[0] = 255
    (d / "in.bin").write_bytes(fmt.pack_images(x, pad_bits=32))
    assert fmt.in_beat_bytes(32) == 4 and len((d / "in.bin").read_bytes()) == 4 * 36 * 4
    cfg = {"input": str(d / "in.bin"), "output": str(d / "out.json"), "in_beat_bytes": fmt.in_beat_bytes(32),
           "frame": fmt.frame, "images": len(x)}
    build_and_test("qgp_net", info["sources"], {}, "tests.ecosystem.host_cocotb", name="host_qgp_net",
                   extra_env={"QGP_HOST_TB": json.dumps(cfg)})
    beats = json.loads((d / "out.json").read_text())
    assert all(last == 1 for _, last in beats)
    gold = model.run(b, x)
    got = [fmt.unpack_output(int(v)) for v, _ in beats]
    assert [c for c, _ in got] == list(gold.pred)
    assert [lg for _, lg in got] == gold.logits.tolist()
    assert (gold.logits < 0).any()  # negative logits: the sign extension is exercised
    # the same beats as bytes, plain and 32-bit padded, and the expected stream from golden
    for pad in (None, 32):
        raw = b"".join(int(v).to_bytes(fmt.out_beat_bytes(pad), "little") for v, _ in beats)
        cls, logits = fmt.unpack_outputs(raw, pad_bits=pad)
        assert np.array_equal(cls, gold.pred) and np.array_equal(logits, gold.logits)
        assert fmt.pack_outputs(gold.pred, gold.logits, pad_bits=pad) == raw
    assert fmt.out_beat_bytes(32) % 4 == 0 and fmt.out_beat_bytes() == -(-info["out_width"] // 8)


def test_pack_equals_the_regression_stream_and_tlast(net):
    from qgp.tb.regress import images_to_stream
    b, info, d = net
    fmt = H.StreamFormat(info)
    x = np.random.default_rng(0).integers(0, 256, (3, 3, 6, 6)).astype(np.uint8)
    assert fmt.pack_images(x) == images_to_stream(x)
    padded = np.frombuffer(fmt.pack_images(x, pad_bits=32), dtype="<u4")
    assert list(padded) == fmt.input_beats(x)
    p = [int(v) for v in x[0, :, 0, 1]]
    assert int(padded[1]) == p[0] | p[1] << 8 | p[2] << 16
    t = fmt.input_tlast(3)
    assert list(np.flatnonzero(t)) == [35, 71, 107]
    with pytest.raises(ValueError, match="the network takes"):
        fmt.pack_images(x[:, :2])


def test_cli_pack_and_unpack(net, tmp_path):
    b, info, d = net
    fmt = H.StreamFormat(info)
    x = np.random.default_rng(1).integers(0, 256, (2, 3, 6, 6)).astype(np.uint8)
    np.save(tmp_path / "x.npy", x)
    r = subprocess.run([sys.executable, "-m", "qgp.host", "pack", "--net", str(d / "gen" / "qgp_net.json"),
                        "--images", str(tmp_path / "x.npy"), "--pad32", "--out", str(tmp_path / "in.bin")],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "in.bin").read_bytes() == fmt.pack_images(x, pad_bits=32)
    gold = model.run(b, x)
    (tmp_path / "out.bin").write_bytes(fmt.pack_outputs(gold.pred, gold.logits, pad_bits=32))
    r = subprocess.run([sys.executable, "-m", "qgp.host", "unpack", "--net", str(d / "gen"),
                        "--in", str(tmp_path / "out.bin"), "--pad32"], cwd=ROOT, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[1] == f"1 class {gold.pred[1]} logits {' '.join(map(str, gold.logits[1]))}"
    r = subprocess.run([sys.executable, "-m", "qgp.host", "unpack", "--net", str(tmp_path / "nope.json"),
                        "--in", str(tmp_path / "out.bin")], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "qgp_net.json" in r.stderr
