"""The framed UART protocol between a host and a board top (rtl/board/board_proto.v); the one
Python copy of its constants, used by the host client and by the tests (docs/BOARD.md).

Every frame: ``A5 5A``, a type byte, its payload, two checksum bytes over the type byte and the
payload: A = sum of the bytes mod 256, B = sum of the running A after each byte mod 256.

Requests: IMAGE (01) id u16, pixel bytes; IDENT (02); BENCH (03) n u32.
Answers: RESULT (81) id u16, class u8, K logits of ceil(logit_w / 8) bytes (signed);
IDENT (82) sha256[32], C u8, H u16, W u16, K u8, logit_w u8, class_w u8, clock_hz u32, baud u32;
BENCH (83) n u32, cycles u48; ERROR (8F) code u8, id u16. All integers little endian.
"""
from dataclasses import dataclass, field

MAGIC = b"\xA5\x5A"
T_IMAGE, T_IDENT, T_BENCH = 0x01, 0x02, 0x03
A_RESULT, A_IDENT, A_BENCH, A_ERROR = 0x81, 0x82, 0x83, 0x8F
ERRORS = {1: "checksum", 2: "unknown type", 3: "truncated frame", 4: "busy",
          5: "bench without an image", 6: "bench of 0 images"}
E_CHECKSUM, E_TYPE, E_TRUNCATED, E_BUSY, E_NOIMAGE, E_ARG = 1, 2, 3, 4, 5, 6
IDENT_LEN = 48          # payload bytes of an IDENT answer
BENCH_LEN = 10
ERROR_LEN = 3


def checksum(data):
    """(A, B) of ``data`` (the type byte and the payload)."""
    a = b = 0
    for x in data:
        a = (a + x) & 0xFF
        b = (b + a) & 0xFF
    return a, b


def frame(ftype, payload=b""):
    body = bytes([ftype]) + bytes(payload)
    return MAGIC + body + bytes(checksum(body))


def image_request(image_id, pixels):
    """An IMAGE request: ``pixels`` the H*W*C bytes (raster order, a pixel's channels together)."""
    return frame(T_IMAGE, int(image_id & 0xFFFF).to_bytes(2, "little") + bytes(pixels))


def ident_request():
    return frame(T_IDENT)


def bench_request(n):
    if not 0 < int(n) < 1 << 32:
        raise ValueError(f"bench count {n}: expected 1 .. {(1 << 32) - 1}")
    return frame(T_BENCH, int(n).to_bytes(4, "little"))


def logit_bytes(logit_w):
    return (int(logit_w) + 7) // 8


def result_len(classes, logit_w):
    """Payload bytes of a RESULT answer."""
    return 3 + int(classes) * logit_bytes(logit_w)


@dataclass
class Result:
    id: int
    cls: int
    logits: list


@dataclass
class Ident:
    bundle_sha256: str
    channels: int
    height: int
    width: int
    classes: int
    logit_w: int
    class_w: int
    clock_hz: int
    baud: int


@dataclass
class Bench:
    n: int
    cycles: int


@dataclass
class Error:
    code: int
    id: int
    what: str = field(default="")


def _s(data):
    v = int.from_bytes(data, "little")
    return v - (1 << (8 * len(data))) if data and data[-1] & 0x80 else v


def parse(ftype, payload, classes, logit_w):
    if ftype == A_RESULT:
        lb = logit_bytes(logit_w)
        return Result(int.from_bytes(payload[0:2], "little"), payload[2],
                      [_s(payload[3 + k * lb:3 + (k + 1) * lb]) for k in range(classes)])
    if ftype == A_IDENT:
        p = payload
        return Ident(p[0:32].hex(), p[32], int.from_bytes(p[33:35], "little"),
                     int.from_bytes(p[35:37], "little"), p[37], p[38], p[39],
                     int.from_bytes(p[40:44], "little"), int.from_bytes(p[44:48], "little"))
    if ftype == A_BENCH:
        return Bench(int.from_bytes(payload[0:4], "little"), int.from_bytes(payload[4:10], "little"))
    if ftype == A_ERROR:
        return Error(payload[0], int.from_bytes(payload[1:3], "little"),
                     ERRORS.get(payload[0], f"code {payload[0]}"))
    raise ValueError(f"answer type {ftype:#04x}")


class Decoder:
    """Answers from a byte stream: ``feed(data)`` -> list of Result / Ident / Bench / Error.
    Bytes outside a frame, and frames with a bad checksum or type, are skipped (counted in
    ``dropped``); the scan resumes at the next ``A5 5A``. ``classes`` and ``logit_w`` size a
    RESULT (from qgp_net.json, or from the board's IDENT answer: ``set_shape``)."""

    def __init__(self, classes=None, logit_w=None):
        self.buf = bytearray()
        self.dropped = 0
        self.set_shape(classes, logit_w)

    def set_shape(self, classes, logit_w):
        self.classes, self.logit_w = classes, logit_w

    def _len(self, ftype):
        if ftype == A_RESULT:
            return None if self.classes is None else result_len(self.classes, self.logit_w)
        return {A_IDENT: IDENT_LEN, A_BENCH: BENCH_LEN, A_ERROR: ERROR_LEN}.get(ftype, -1)

    def feed(self, data):
        self.buf += data
        out = []
        while True:
            i = self.buf.find(MAGIC)
            if i < 0:
                keep = 1 if self.buf[-1:] == MAGIC[:1] else 0
                self.dropped += len(self.buf) - keep
                del self.buf[:len(self.buf) - keep]
                return out
            if i:
                self.dropped += i
                del self.buf[:i]
            if len(self.buf) < 3:
                return out
            n = self._len(self.buf[2])
            if n is None or n < 0:       # unknown type (or results before the shape is known)
                self.dropped += 1
                del self.buf[:1]
                continue
            if len(self.buf) < 3 + n + 2:
                return out
            body = bytes(self.buf[2:3 + n])
            if bytes(checksum(body)) != bytes(self.buf[3 + n:5 + n]):
                self.dropped += 1
                del self.buf[:1]
                continue
            out.append(parse(body[0], body[1:], self.classes, self.logit_w))
            del self.buf[:5 + n]
