"""Host side of the ``qgp_net`` streams: pack images into input beats, unpack output beats.

A driver (DMA, a soft CPU, a Python model of either) needs the beat layout of the generated top;
it is read here from the ``qgp_net.json`` that ``python -m rtl.gen`` / ``qgp gen`` writes next to
``qgp_net.v`` (``input``: channels, bits, tdata_width, height, width; ``classes``, ``logit_w``,
``class_w``, ``out_width``, ``output_layout``), never restated.

Input stream (``s_axis``): one beat per pixel, raster order (row by row, left to right), image
after image; channel c of the pixel at ``tdata[c*bits +: bits]``; ``tlast`` on the last pixel of
every image. Output stream (``m_axis``): one beat per image (``tlast`` set), ``class`` in the low
``class_w`` bits, logit k (signed two's complement, ``logit_w`` bits) at
``[class_w + k*logit_w +: logit_w]``.

As bytes (for a DMA engine or a file), every beat is a little-endian word of ``ceil(width/8)``
bytes, or, with ``pad_bits=32``, of the next multiple of 32 bits (zero padding above the beat).

    fmt = StreamFormat("build/gen/fmnist/qgp_net.json")
    data = fmt.pack_images(images_uint8_NCHW, pad_bits=32)    # bytes to send, tlast every frame
    classes, logits = fmt.unpack_outputs(received, pad_bits=32)
"""
import json
import os

import numpy as np

__all__ = ["StreamFormat", "load_net"]


def load_net(net):
    """``net``: the dict of qgp_net.json, its path, or the folder holding it."""
    if isinstance(net, dict):
        return net
    p = os.fspath(net)
    if os.path.isdir(p):
        p = os.path.join(p, "qgp_net.json")
    from qgp.golden.errors import QGPError
    try:
        with open(p) as f:
            return json.load(f)
    except OSError as e:
        raise QGPError(p, "file", f"cannot read: {e.strerror or e}; expected the qgp_net.json written "
                                  "by `qgp gen` / `python -m rtl.gen`") from None
    except json.JSONDecodeError as e:
        raise QGPError(p, "json", f"invalid JSON: {e.msg} at line {e.lineno}") from None


def _word_bytes(width, pad_bits):
    if pad_bits is None:
        return -(-width // 8)
    if pad_bits <= 0 or pad_bits % 8:
        raise ValueError(f"pad_bits {pad_bits}: expected a positive multiple of 8 (e.g. 32)")
    return -(-width // pad_bits) * pad_bits // 8


class StreamFormat:
    """The input and output beat layout of one generated network (from its qgp_net.json)."""

    def __init__(self, net):
        n = load_net(net)
        from qgp.golden.errors import QGPError
        try:
            inp = n["input"]
            self.channels, self.height, self.width = int(inp["channels"]), int(inp["height"]), int(inp["width"])
            self.bits, self.in_width = int(inp["bits"]), int(inp["tdata_width"])
            self.classes, self.logit_w = int(n["classes"]), int(n["logit_w"])
            self.class_w, self.out_width = int(n["class_w"]), int(n["out_width"])
        except (KeyError, TypeError, ValueError) as e:
            raise QGPError("qgp_net.json", str(e), "missing or not an integer; expected the file "
                                                   "written by rtl.gen") from None
        self.frame = self.height * self.width
        if self.channels * self.bits > self.in_width or self.class_w + self.classes * self.logit_w > self.out_width:
            raise QGPError("qgp_net.json", "tdata_width/out_width", "narrower than the fields it holds")

    # ------------------------------------------------------------------ input
    def _check_images(self, images):
        x = np.asarray(images)
        if x.ndim == 3 and self.channels == 1:
            x = x[:, None]
        want = (self.channels, self.height, self.width)
        if x.ndim != 4 or tuple(x.shape[1:]) != want:
            raise ValueError(f"images of shape {list(x.shape)}, the network takes [N, {want[0]}, {want[1]}, {want[2]}]")
        if x.dtype.kind not in "ui" or (x.size and (x.min() < 0 or x.max() >= (1 << self.bits))):
            raise ValueError(f"images must be integers in 0..{(1 << self.bits) - 1}")
        return x

    def input_beats(self, images):
        """tdata of every input beat as Python ints, image after image (N * H * W beats)."""
        x = self._check_images(images)
        px = x.transpose(0, 2, 3, 1).reshape(-1, self.channels).astype(object)
        shifts = [c * self.bits for c in range(self.channels)]
        return [sum(int(v) << s for v, s in zip(row, shifts)) for row in px]

    def input_tlast(self, n_images):
        """tlast of every input beat (True on the last pixel of each image)."""
        t = np.zeros(n_images * self.frame, dtype=bool)
        t[self.frame - 1::self.frame] = True
        return t

    def in_beat_bytes(self, pad_bits=None):
        return _word_bytes(self.in_width, pad_bits)

    def pack_images(self, images, pad_bits=None):
        """The input stream as bytes: one little-endian word per beat (see the module doc)."""
        x = self._check_images(images)
        nb = self.in_beat_bytes(pad_bits)
        if self.bits == 8:  # byte lanes: the channels of a pixel are its bytes, low channel first
            px = x.astype(np.uint8).transpose(0, 2, 3, 1).reshape(-1, self.channels)
            out = np.zeros((px.shape[0], nb), dtype=np.uint8)
            out[:, :self.channels] = px
            return out.tobytes()
        return b"".join(v.to_bytes(nb, "little") for v in self.input_beats(x))

    # ------------------------------------------------------------------ output
    def unpack_output(self, beat):
        """One output beat (int) -> (class, [logit_0 .. logit_K-1])."""
        beat = int(beat)
        cls = beat & ((1 << self.class_w) - 1)
        logits = []
        for k in range(self.classes):
            raw = (beat >> (self.class_w + k * self.logit_w)) & ((1 << self.logit_w) - 1)
            logits.append(raw - (1 << self.logit_w) if raw >> (self.logit_w - 1) else raw)
        return cls, logits

    def pack_output(self, cls, logits):
        """The output beat the network sends for ``cls`` and ``logits`` (e.g. golden's), as an int."""
        if len(logits) != self.classes:
            raise ValueError(f"{len(logits)} logits, the network has {self.classes} classes")
        beat = int(cls) & ((1 << self.class_w) - 1)
        for k, v in enumerate(logits):
            beat |= (int(v) & ((1 << self.logit_w) - 1)) << (self.class_w + k * self.logit_w)
        return beat

    def out_beat_bytes(self, pad_bits=None):
        return _word_bytes(self.out_width, pad_bits)

    def unpack_outputs(self, data, pad_bits=None):
        """Received output bytes -> (classes int64 [N], logits int64 [N, K])."""
        nb = self.out_beat_bytes(pad_bits)
        if len(data) % nb:
            raise ValueError(f"{len(data)} bytes is not a whole number of {nb}-byte output words")
        res = [self.unpack_output(int.from_bytes(data[i:i + nb], "little")) for i in range(0, len(data), nb)]
        cls = np.array([r[0] for r in res], dtype=np.int64)
        logits = np.array([r[1] for r in res], dtype=np.int64).reshape(len(res), self.classes)
        return cls, logits

    def pack_outputs(self, classes, logits, pad_bits=None):
        """Expected output bytes for golden's classes and logits (compare with what came back)."""
        nb = self.out_beat_bytes(pad_bits)
        return b"".join(self.pack_output(c, l).to_bytes(nb, "little") for c, l in zip(classes, logits))
