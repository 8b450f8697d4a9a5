"""NumPy frames <-> stream beats (pixel beat: channel c at [c*bits +: bits], raster order,
tlast on a frame's last pixel; window beat: tap t, channel i at [(t*C+i)*bits +: bits])."""

import numpy as np

from qgp.tb.common.axis import Beat, pack


def pixel_frames(x, bits):
    """x [N, C, H, W] -> list of N frames, each a list of Beat."""
    n, c, h, w = x.shape
    out = []
    for f in range(n):
        out.append([Beat(pack(x[f, :, yy, xx], bits), int(yy == h - 1 and xx == w - 1))
                    for yy in range(h) for xx in range(w)])
    return out


def pixel_beats(x, bits):
    """x [N, C, H, W] -> flat list of Beat (all frames)."""
    return [b for fr in pixel_frames(x, bits) for b in fr]


def window_frames(x, bits):
    """x [N, C, H, W] -> list of N frames of window beats (zero-padded NumPy slices)."""
    x = np.asarray(x)
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    planes = np.stack([xp[:, :, 1 + t // 3 - 1:1 + t // 3 - 1 + h, 1 + t % 3 - 1:1 + t % 3 - 1 + w]
                       for t in range(9)], axis=1)  # [N, 9, C, H, W], tap t = (dy+1)*3 + (dx+1)
    out = []
    for f in range(n):
        out.append([Beat(pack(planes[f, :, :, yy, xx].reshape(9 * c), bits),
                         int(yy == h - 1 and xx == w - 1))
                    for yy in range(h) for xx in range(w)])
    return out


def channel_fmt(bits, c):
    """Scoreboard formatter: a pixel beat as its channel values."""
    def fmt(b):
        if b.data is None:
            return f"Beat(data=X, last={b.last})"
        vals = [(b.data >> (i * bits)) & ((1 << bits) - 1) for i in range(c)]
        return f"Beat(ch={vals}, last={b.last})"
    return fmt
