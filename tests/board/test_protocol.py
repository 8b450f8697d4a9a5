"""The board protocol in Python (qgp.board.protocol) on its own: checksum, frames, the answer
decoder's resynchronization; its constants against the RTL engine's; the PLL divider choice;
the board's pin constraints against the ports of the top."""
import random
import re
import subprocess
from pathlib import Path

import pytest

from qgp.board import build as B
from qgp.board import protocol as P

ROOT = Path(__file__).resolve().parents[2]
RTL = ROOT / "rtl" / "board"


def _answer(ftype, payload):
    return P.frame(ftype, payload)


def test_checksum_is_position_sensitive_fletcher():
    # A = sum, B = sum of running A (mod 256): by hand for 3 bytes
    a1, a2, a3 = 1, 1 + 2, 1 + 2 + 250
    assert P.checksum(bytes([1, 2, 250])) == (a3 % 256, (a1 + a2 + a3) % 256)
    # swapping two bytes changes B, not A
    x, y = P.checksum(bytes([1, 2, 3])), P.checksum(bytes([2, 1, 3]))
    assert x[0] == y[0] and x[1] != y[1]


def test_image_request_layout():
    px = bytes(range(64))
    f = P.image_request(0x1234, px)
    assert f[:2] == P.MAGIC and f[2] == P.T_IMAGE and f[3:5] == b"\x34\x12"
    assert f[5:69] == px and len(f) == 2 + 1 + 2 + 64 + 2
    assert tuple(f[-2:]) == P.checksum(f[2:-2])
    assert P.bench_request(1000)[3:7] == (1000).to_bytes(4, "little")
    with pytest.raises(ValueError):
        P.bench_request(0)


def test_decoder_results_and_resync():
    k, lw = 10, 19
    lb = P.logit_bytes(lw)
    logits = [-(1 << 18), (1 << 18) - 1, 0, -1, 5, -5, 100, -100, 77, -77]
    payload = (7).to_bytes(2, "little") + bytes([3]) + b"".join(
        (v & ((1 << (8 * lb)) - 1)).to_bytes(lb, "little") for v in logits)
    good = _answer(P.A_RESULT, payload)
    bad = bytearray(good)
    bad[-1] ^= 0xFF                               # checksum error
    rnd = random.Random(3)
    garbage = bytes(rnd.randrange(256) for _ in range(500)) + b"\xA5"   # ends in half a magic
    err = _answer(P.A_ERROR, bytes([P.E_BUSY]) + (9).to_bytes(2, "little"))
    stream = garbage + good + bytes(bad) + err + good
    d = P.Decoder(k, lw)
    out = []
    for i in range(0, len(stream), 7):            # in arbitrary pieces
        out += d.feed(stream[i:i + 7])
    res = [m for m in out if isinstance(m, P.Result)]
    assert [(r.id, r.cls, r.logits) for r in res] == [(7, 3, logits)] * 2
    errs = [m for m in out if isinstance(m, P.Error)]
    assert [(e.code, e.id, e.what) for e in errs] == [(P.E_BUSY, 9, "busy")]
    assert d.dropped >= len(garbage) - 1


def _rtl_const(name):
    text = (RTL / "board_proto.v").read_text()
    m = re.search(rf"\b{name} = 8'h([0-9A-Fa-f]+)", text) or re.search(rf"\b{name} = 8'd(\d+)", text)
    assert m, name
    return int(m.group(1), 16 if "8'h" in m.group(0) else 10)


def test_constants_equal_the_rtl():
    assert bytes([_rtl_const("MAGIC0"), _rtl_const("MAGIC1")]) == P.MAGIC
    for py, v in (("T_IMAGE", P.T_IMAGE), ("T_IDENT", P.T_IDENT), ("T_BENCH", P.T_BENCH),
                  ("A_RESULT", P.A_RESULT), ("A_IDENT", P.A_IDENT), ("A_BENCH", P.A_BENCH),
                  ("A_ERROR", P.A_ERROR), ("E_CHECKSUM", P.E_CHECKSUM), ("E_TYPE", P.E_TYPE),
                  ("E_TRUNCATED", P.E_TRUNCATED), ("E_BUSY", P.E_BUSY),
                  ("E_NOIMAGE", P.E_NOIMAGE), ("E_ARG", P.E_ARG)):
        assert _rtl_const(py) == v, py
    text = (RTL / "board_proto.v").read_text()
    # answer lengths: RTL counts magic + type + payload
    assert f"ID_LEN = {3 + P.IDENT_LEN};" in text
    assert f"BEN_LEN = {3 + P.BENCH_LEN};" in text
    assert f"ERR_LEN = {3 + P.ERROR_LEN};" in text
    assert "RES_LEN = 6 + K * LB;" in text and P.result_len(10, 19) == 3 + 10 * 3


def test_pll_choice():
    p = B.choose_pll(25_000_000, 50_000_000, 3_000_000)
    # exact: 25 MHz * FB / IDIV, a whole number of clocks per bit, in the PLL's ranges
    assert p["clk_hz"] == 25_000_000 * p["CLKFB_DIV"] // p["CLKI_DIV"]
    assert p["clk_hz"] % 3_000_000 == 0 and p["clk_hz"] <= 50_000_000
    assert 400e6 <= p["clk_hz"] * p["CLKOP_DIV"] <= 800e6 and 25e6 / p["CLKI_DIV"] >= 3.125e6
    # no higher frequency <= 50 MHz qualifies
    for f in range(p["clk_hz"] + 3_000_000, 50_000_001, 3_000_000):
        assert not any(f * i % 25_000_000 == 0 and 25e6 / i >= 3.125e6 for i in range(1, 9))
    assert B.choose_pll(25_000_000, 10_000_000, 3_000_000) is None


def _ports(top):
    text = (RTL / f"{top}.v").read_text()
    head = text[text.index(f"module {top}"):text.index(");\n", text.index(") (\n"))]
    out = {}
    for m in re.finditer(r"(input|output)\s+wire\s+(\[(\d+):0\]\s+)?(\w+)", head):
        out[m.group(4)] = int(m.group(3)) + 1 if m.group(3) else 1
    return out


def test_lpf_locates_every_port_of_the_top():
    lpf = (RTL / B.BOARDS["ulx3s-85f"]["lpf"]).read_text()
    located = set(re.findall(r'LOCATE COMP "([^"]+)"', lpf))
    iobuf = set(re.findall(r'IOBUF\s+PORT "([^"]+)"', lpf))
    want = set()
    for name, w in _ports("ulx3s_top").items():
        want |= {name} if w == 1 else {f"{name}[{i}]" for i in range(w)}
    assert want == located and want == iobuf
    assert 'FREQUENCY PORT "clk_25mhz" 25 MHZ;' in lpf


UPSTREAM = Path("/work/.mirror/emard+ulx3s/repo")


@pytest.mark.skipif(not UPSTREAM.exists(), reason="no copy of github.com/emard/ulx3s here")
def test_lpf_lines_are_the_boards_published_ones():
    up = subprocess.run(["git", "-C", str(UPSTREAM), "show", "HEAD:doc/constraints/ulx3s_v20.lpf"],
                        capture_output=True, text=True, check=True).stdout.splitlines()
    ours = [l for l in (RTL / "ulx3s.lpf").read_text().splitlines() if l and not l.startswith("#")]
    for line in ours:
        assert line in up, line
    # and at the line numbers the comments give
    text = (RTL / "ulx3s.lpf").read_text()
    for m in re.finditer(r"# lines? ([\d, -]+)", text):
        nums = []
        for part in m.group(1).split(","):
            a, _, b = part.strip().partition("-")
            nums += list(range(int(a), int(b or a) + 1))
        for n in nums:
            assert up[n - 1] in ours, (n, up[n - 1])


def test_flash_without_the_loader_says_so(monkeypatch, capsys):
    monkeypatch.setattr(B.shutil, "which", lambda name: None)
    assert B.flash("ulx3s-85f") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "openFPGALoader not found" in err[0] and "openfpgaloader" in err[0]


@pytest.mark.parametrize("module,params,rule", [
    ("uart_rx", ["-GCLK_HZ=45000000", "-GBAUD=20000000"], "CLK_HZ_over_BAUD_must_be_at_least_4"),
    ("uart_tx", ["-GCLK_HZ=45000000", "-GBAUD=10000000"],
     "BAUD_must_be_within_2_percent_of_CLK_HZ_over_a_whole_number"),
    ("board_proto", ["-GK=10", "-GOUT_W=100"], "OUT_W_must_hold_the_class_and_K_logits"),
])
def test_parameters_checked_at_elaboration(module, params, rule):
    r = subprocess.run(["verilator", "--lint-only", "-Wall", *params, str(RTL / f"{module}.v"),
                        "--top-module", module], capture_output=True, text=True)
    assert r.returncode != 0 and rule in r.stdout + r.stderr
    ok = subprocess.run(["verilator", "--lint-only", "-Wall", str(RTL / f"{module}.v"),
                         "--top-module", module], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
