"""The board top end to end in simulation: `qgp board-sim` (Verilator, the UART pins shifted bit
by bit behind a pseudo-terminal) on a small synthetic bundle, talked to with real bytes:
identify, images equal to golden (class and logits), bad frames between good ones (garbage,
a wrong magic, a truncated frame, a checksum error, an unknown type) answered or dropped
without losing an accepted image, back-to-back frames beyond the two image buffers, the bench
cycle count, and the `qgp run` command against it."""
import fcntl
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from qgp.board import protocol as P

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build" / "tests-board"
PY = sys.executable


@pytest.fixture(scope="module")
def tiny():
    from qgp.golden.synth import random_bundle
    d = BUILD / "tiny"
    BUILD.mkdir(parents=True, exist_ok=True)
    with open(BUILD / "tiny.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        if not (d / "model.json").exists():
            random_bundle(str(d), "tiny", seed=5)
    return d


@pytest.fixture(scope="module")
def board(tiny):
    from qgp.board import sim
    proc, port, fds = sim.start(tiny, log=lambda s: None)
    yield port
    proc.terminate()
    proc.wait(timeout=30)
    for fd in fds:
        os.close(fd)


@pytest.fixture(scope="module")
def net(tiny):
    from qgp.tb import regress as R
    return R.generate(tiny)


class Port:
    def __init__(self, port, net):
        import serial
        self.s = serial.Serial(port, 3_000_000, timeout=0.02)
        self.s.reset_input_buffer()
        self.dec = P.Decoder(net["classes"], net["logit_w"])

    def send(self, data):
        self.s.write(data)

    def collect(self, until, timeout=10.0):
        """Answers until ``until(answers)`` holds (or the timeout: then what came)."""
        got, t0 = [], time.time()
        while time.time() - t0 < timeout and not until(got):
            got += self.dec.feed(self.s.read(4096))
        return got

    def close(self):
        self.s.close()


def _images(net, n, seed):
    i = net["input"]
    return np.random.default_rng(seed).integers(0, 256, (n, i["channels"], i["height"], i["width"]),
                                                dtype=np.uint8)


def _golden(tiny, images):
    from qgp.golden import model
    from qgp.golden.bundle import load_bundle
    g = model.run(load_bundle(tiny), images.astype(np.int64), keep_activations=False)
    return [(int(c), [int(v) for v in l]) for c, l in zip(g.pred, g.logits)]


def _px(img):
    return np.ascontiguousarray(img.transpose(1, 2, 0)).tobytes()


def test_identify(board, net, tiny):
    p = Port(board, net)
    try:
        got = p.collect(lambda a: any(isinstance(m, P.Ident) for m in a)) if not p.send(
            P.ident_request()) else []
    finally:
        p.close()
    ident = [m for m in got if isinstance(m, P.Ident)]
    assert len(ident) == 1
    m = ident[0]
    assert m.bundle_sha256 == hashlib.sha256((Path(tiny) / "model.json").read_bytes()).hexdigest()
    i = net["input"]
    assert (m.channels, m.height, m.width) == (i["channels"], i["height"], i["width"])
    assert (m.classes, m.logit_w, m.class_w) == (net["classes"], net["logit_w"], net["class_w"])
    from qgp.board import build as B
    assert m.baud * B.SIM_CPB == m.clock_hz


def test_bad_frames_between_good_ones(board, net, tiny):
    imgs = _images(net, 6, seed=11)
    gold = _golden(tiny, imgs)
    npix = len(_px(imgs[0]))
    garbage = bytes(b for b in np.random.default_rng(4).integers(0, 256, 700, dtype=np.uint8)
                    if b != 0xA5)
    bad_ck = bytearray(P.image_request(99, _px(imgs[0])))
    bad_ck[10] ^= 0x40
    steps = [
        ("good", 0), ("raw", garbage), ("good", 1),
        ("raw", b"\xA5\x5B" + P.image_request(98, _px(imgs[2]))[2:]),   # wrong magic
        ("good", 2),
        ("trunc", P.image_request(97, _px(imgs[3]))[:5 + npix // 2]),  # stops half way
        ("good", 3), ("bad_ck", bytes(bad_ck)), ("good", 4),
        ("raw", P.frame(0x55, b"\x01\x02")), ("good", 5),
    ]
    p = Port(board, net)
    results, errors = {}, []
    try:
        for kind, arg in steps:
            if kind == "good":
                p.send(P.image_request(arg, _px(imgs[arg])))
                got = p.collect(lambda a: any(isinstance(m, P.Result) for m in a))
            elif kind == "trunc":
                p.send(arg)   # the board drops it once no byte came for TIMEOUT_BITS bit times
                got = p.collect(lambda a: any(isinstance(m, P.Error) for m in a))
            elif kind == "bad_ck":
                p.send(arg)
                got = p.collect(lambda a: any(isinstance(m, P.Error) for m in a))
            else:
                p.send(arg)
                got = p.collect(lambda a: False, timeout=0.5)
            for m in got:
                if isinstance(m, P.Result):
                    assert m.id not in results, f"image {m.id} answered twice"
                    results[m.id] = (m.cls, m.logits)
                elif isinstance(m, P.Error):
                    errors.append((m.code, m.id))
    finally:
        p.close()
    assert results == dict(enumerate(gold))
    assert (P.E_TRUNCATED, 97) in errors and (P.E_CHECKSUM, 99) in errors
    assert (P.E_TYPE, 0) in errors
    assert not any(e[0] == P.E_BUSY for e in errors)


def test_back_to_back_frames_nothing_accepted_lost(board, net, tiny):
    """More frames at once than the board's two buffers: each is answered exactly once, by its
    result (equal to golden) or by a busy error; the busy ones are resent until answered."""
    n = 8
    imgs = _images(net, n, seed=12)
    gold = _golden(tiny, imgs)
    p = Port(board, net)
    results, busy = {}, 0
    try:
        todo = list(range(n))
        for _ in range(20):
            p.send(b"".join(P.image_request(i, _px(imgs[i])) for i in todo))
            got = p.collect(lambda a: sum(isinstance(m, (P.Result, P.Error)) for m in a) >= len(todo))
            answered = []
            for m in got:
                if isinstance(m, P.Result):
                    assert m.id not in results, f"image {m.id} answered twice"
                    results[m.id] = (m.cls, m.logits)
                    answered.append(m.id)
                elif isinstance(m, P.Error):
                    assert m.code == P.E_BUSY, m
                    busy += 1
                    answered.append(m.id)
            assert sorted(answered) == todo
            todo = [i for i in todo if i not in results]
            if not todo:
                break
    finally:
        p.close()
    assert results == dict(enumerate(gold))


def test_bench_cycles(board, net, tiny):
    """The bench repeats the last image back to back: N more images cost exactly N times the
    network's cycles per image (the plan's figure)."""
    img = _images(net, 1, seed=13)
    p = Port(board, net)
    try:
        p.send(P.image_request(1, _px(img[0])))
        res = [m for m in p.collect(lambda a: any(isinstance(m, P.Result) for m in a))
               if isinstance(m, P.Result)]
        cyc = {}
        for n in (20, 40):
            p.send(P.bench_request(n))
            b = [m for m in p.collect(lambda a: any(isinstance(m, P.Bench) for m in a))
                 if isinstance(m, P.Bench)]
            assert len(b) == 1 and b[0].n == n
            cyc[n] = b[0].cycles
    finally:
        p.close()
    assert [(r.cls, r.logits) for r in res] == _golden(tiny, img)
    assert cyc[40] - cyc[20] == 20 * net["cycles_per_image"]
    # the first of them: at least the pipeline's latency on top of the images' cycles
    assert cyc[20] > 20 * net["cycles_per_image"]


def test_qgp_run_against_board_sim(board, tiny):
    out = BUILD / "run.json"
    r = subprocess.run([PY, "-m", "qgp", "run", "--port", board, "--bundle", str(tiny), "--n", "12",
                        "--bench", "50", "--json", str(out), "--no-progress"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    rec = json.loads(out.read_text())
    assert rec["images"] == 12 and rec["mismatches"] == 0
    assert rec["link_images_per_s"] > 0 and rec["bench"]["images"] == 50
    assert "0 mismatches" in r.stdout


def test_qgp_run_refuses_another_network(board, tmp_path):
    from qgp.golden.synth import random_bundle
    other = tmp_path / "other"
    random_bundle(str(other), "tiny", seed=6)
    r = subprocess.run([PY, "-m", "qgp", "run", "--port", board, "--bundle", str(other), "--n", "2"],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "another network" in lines[0] and "bundle_sha256" in lines[0]


def test_qgp_run_user_errors(tiny, tmp_path):
    r = subprocess.run([PY, "-m", "qgp", "run", "--port", str(tmp_path / "nope"), "--bundle",
                        str(tiny), "--n", "2"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "no such port" in r.stderr and "Traceback" not in r.stderr
    # a terminal nobody answers on: no answer, after the retries
    m, s = os.openpty()
    try:
        r = subprocess.run([PY, "-m", "qgp", "run", "--port", os.ttyname(s), "--bundle", str(tiny),
                            "--n", "2", "--timeout", "0.2", "--retries", "2"],
                           cwd=ROOT, capture_output=True, text=True, timeout=60)
    finally:
        os.close(m)
        os.close(s)
    assert r.returncode == 2 and "no answer" in r.stderr and len(r.stderr.strip().splitlines()) == 1
