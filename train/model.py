"""QGP network in PyTorch: dense first conv, guided-pruned +-1 convs, PACT activations, 8-bit head.

Every quantizer is a module with its own state and knows its integer form (``integer_form``);
the exporter in ``train/export.py`` only collects those forms (Brevitas style).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def ste_round(x: torch.Tensor) -> torch.Tensor:
    """round() forward, identity backward."""
    return x + (torch.round(x) - x).detach()


class SignSTE(torch.autograd.Function):
    """sign(w) with sign(0) = +1 forward; BinaryConnect straight-through backward (|w| <= 1)."""

    @staticmethod
    def forward(ctx, w):
        ctx.save_for_backward(w)
        return torch.where(w >= 0, torch.ones_like(w), -torch.ones_like(w))

    @staticmethod
    def backward(ctx, g):
        (w,) = ctx.saved_tensors
        return g * (w.abs() <= 1).to(g.dtype)


class _ActQuantFn(torch.autograd.Function):
    """q = round(clamp(x, 0, clip) * n / clip) * clip / n; STE for x inside (0, clip), PACT gradient for clip."""

    @staticmethod
    def forward(ctx, x, clip, levels):
        c = float(clip)
        ctx.save_for_backward(x)
        ctx.c = c
        return torch.round(x.clamp(0.0, c) * (levels / c)) * (c / levels)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        gx = g * ((x > 0) & (x < ctx.c)).to(g.dtype)
        gc = (g * (x >= ctx.c).to(g.dtype)).sum().reshape(())
        return gx, gc, None


class ActQuant(nn.Module):
    """ReLU + learned clip (PACT) + unsigned ``abits``-bit quantization with a straight-through estimator.

    Output = q * scale with q in 0..2^abits-1 and scale = clip / (2^abits - 1).
    """

    def __init__(self, abits: int, clip_init: float):
        super().__init__()
        self.levels = 2 ** abits - 1
        self.clip = nn.Parameter(torch.tensor(float(clip_init)))

    def clip_value(self):
        return self.clip.abs() + 1e-3

    def scale(self) -> float:
        return float(self.clip_value().detach()) / self.levels

    def forward(self, x):
        return _ActQuantFn.apply(x, self.clip_value(), self.levels)


class DenseConv(nn.Conv2d):
    """Dense 3x3 conv with signed ``wbits``-bit weights, one scale per output channel.

    The first layer of every network; with ``conv: "int<N>"`` in a config, every later conv too.
    """

    def __init__(self, cin, cout, wbits):
        super().__init__(cin, cout, 3, padding=1, bias=False)
        self.wbits = int(wbits)
        self.qmax = 2 ** (wbits - 1) - 1

    def wscale(self):
        return self.weight.detach().abs().amax(dim=(1, 2, 3)).clamp_min(1e-8) / self.qmax

    def qweight(self):
        s = self.wscale().view(-1, 1, 1, 1)
        return torch.clamp(ste_round(self.weight / s), -self.qmax, self.qmax) * s

    def forward(self, x):
        return F.conv2d(x, self.qweight(), padding=1)

    def integer_form(self):
        """(integer weights [CO,CI,3,3], per-channel float scale k: float_out = k * acc)."""
        s = self.wscale()
        w = torch.clamp(torch.round(self.weight.detach() / s.view(-1, 1, 1, 1)), -self.qmax, self.qmax)
        return w.to(torch.int64), s.double()


class FloatConv(nn.Conv2d):
    """Full-precision 3x3 conv (the ``float`` baseline): no integer form, accuracy from torch only."""

    def __init__(self, cin, cout):
        super().__init__(cin, cout, 3, padding=1, bias=False)

    def integer_form(self):
        raise ValueError("a float conv has no integer form (the float baseline is not exported)")


class BinaryConv(nn.Conv2d):
    """Dense binary 3x3 conv (BinaryConnect): all 9 taps, weights alpha[o] * sign(w) once
    ``binarized`` is set (float weights before, as QGP before its binarize epoch).

    alpha[o] = mean |w| over the out channel's kernel, absorbed into the requant at export; the
    integer weights are +-1 (sign(0) = +1), exported as a conv_dense layer with ``WBITS`` = 2
    (golden's symmetric range [-1, 1]).
    """

    WBITS = 2

    def __init__(self, cin, cout):
        super().__init__(cin, cout, 3, padding=1, bias=False)
        self.register_buffer("binarized", torch.tensor(False))
        self.wbits = self.WBITS

    def alpha(self):
        return self.weight.abs().mean(dim=(1, 2, 3)).clamp_min(1e-8)

    def effective_weight(self):
        if bool(self.binarized):
            return SignSTE.apply(self.weight) * self.alpha().detach().view(-1, 1, 1, 1)
        return self.weight

    def forward(self, x):
        return F.conv2d(x, self.effective_weight(), padding=1)

    def integer_form(self):
        """(+-1 weights [CO,CI,3,3], per-channel float scale alpha: float_out = alpha * acc)."""
        if not bool(self.binarized):
            raise ValueError("binary conv not binarized yet")
        w = torch.where(self.weight.detach() >= 0, 1, -1).to(torch.int64)
        return w, self.alpha().detach().double()


class QGPConv(nn.Conv2d):
    """3x3 conv whose kernels are guided-pruned to one tap and binarized.

    ``mask`` [CO,CI,3,3] marks the surviving taps of every (out, in) kernel. ``prune_to(k)`` keeps the
    k largest-magnitude surviving taps. After ``binarized`` is set, the forward uses
    alpha[o] * sign(w) (alpha = mean |w| of the survivors, absorbed into batch norm at export).
    """

    SELECT = ("magnitude", "random", "center")

    def __init__(self, cin, cout, select: str = "magnitude"):
        super().__init__(cin, cout, 3, padding=1, bias=False)
        if select not in self.SELECT:
            raise ValueError(f"tap select {select!r}, expected one of {', '.join(self.SELECT)}")
        self.select = select
        mask = torch.ones_like(self.weight)
        if select != "magnitude":  # ablations: one tap per kernel from initialization on, never moved
            tap = (torch.randint(0, 9, (cout, cin)) if select == "random"
                   else torch.full((cout, cin), 4, dtype=torch.long))
            mask = F.one_hot(tap, 9).to(mask.dtype).reshape(mask.shape)
        self.register_buffer("mask", mask)
        self.register_buffer("binarized", torch.tensor(False))

    @torch.no_grad()
    def prune_to(self, keep: int):
        """Keep the ``keep`` largest-magnitude surviving taps; a pruned tap never comes back and a
        fixed (random / center) selection never moves (only ever fewer taps)."""
        if keep >= self.taps_kept():
            return
        co, ci = self.weight.shape[:2]
        mag = (self.weight.abs() * self.mask).reshape(co, ci, 9)
        mag = torch.where(self.mask.reshape(co, ci, 9) > 0, mag, torch.full_like(mag, -1.0))
        idx = mag.topk(keep, dim=2).indices
        m = torch.zeros(co, ci, 9, device=mag.device)
        m.scatter_(2, idx, 1.0)
        self.mask.copy_(m.reshape(self.mask.shape))

    def taps_kept(self) -> int:
        return int(self.mask.reshape(self.mask.shape[0], self.mask.shape[1], 9).sum(2).max())

    def alpha(self):
        w = (self.weight.abs() * self.mask).sum(dim=(1, 2, 3))
        return (w / self.mask.sum(dim=(1, 2, 3)).clamp_min(1)).clamp_min(1e-8)

    def effective_weight(self):
        if bool(self.binarized):
            return SignSTE.apply(self.weight) * self.mask * self.alpha().detach().view(-1, 1, 1, 1)
        return self.weight * self.mask

    def forward(self, x):
        return F.conv2d(x, self.effective_weight(), padding=1)

    def integer_form(self):
        """(tap [CO,CI] 0..8, sign [CO,CI] 0/1, per-channel float scale k: float_out = k * acc)."""
        co, ci = self.weight.shape[:2]
        if self.taps_kept() != 1 or not bool(self.binarized):
            raise ValueError("QGP layer not pruned to one binarized tap per kernel")
        m = self.mask.reshape(co, ci, 9)
        tap = m.argmax(dim=2)
        w = self.weight.detach().reshape(co, ci, 9).gather(2, tap.unsqueeze(2)).squeeze(2)
        sign = (w < 0).to(torch.int64)
        return tap.to(torch.int64), sign, self.alpha().detach().double()


class Head(nn.Module):
    """Global sum over positions + dense layer with signed ``wbits``-bit weights (per-tensor scale)."""

    def __init__(self, cin, classes, wbits):
        super().__init__()
        self.fc = nn.Linear(cin, classes)
        self.qmax = 2 ** (wbits - 1) - 1

    def wscale(self):
        return self.fc.weight.detach().abs().max().clamp_min(1e-8) / self.qmax

    def forward(self, x):
        s = self.wscale()
        w = torch.clamp(ste_round(self.fc.weight / s), -self.qmax, self.qmax) * s
        return F.linear(x.mean(dim=(2, 3)), w, self.fc.bias)

    def integer_form(self, in_scale: float, positions: int):
        """Integer weights and bias such that logits_int * (s_w * in_scale / positions) == float logits."""
        s = float(self.wscale())
        w = torch.clamp(torch.round(self.fc.weight.detach() / s), -self.qmax, self.qmax).to(torch.int64)
        b = torch.round(self.fc.bias.detach().double() * positions / (s * in_scale)).to(torch.int64)
        return w, b


CONV_KINDS = ("qgp", "float", "binary")  # or "int<N>", N = 2..16 weight bits


def conv_kind(cfg: dict) -> str:
    """The kind of the 3x3 convs after the first layer: config key ``conv`` (default ``qgp``)."""
    kind = cfg.get("conv", "qgp")
    if kind in CONV_KINDS:
        return kind
    if isinstance(kind, str) and kind.startswith("int") and kind[3:].isdigit() and 2 <= int(kind[3:]) <= 16:
        return kind
    raise ValueError(f"conv is {kind!r}, expected one of {', '.join(CONV_KINDS)} or int<N> (N = 2..16)")


def conv_weight_bits(cfg: dict) -> float:
    """Weight bits per 3x3 kernel of the convs after the first layer, as stored in the bundle and
    the RTL's weight memory: qgp 5 (4-bit tap + sign), int<N> 9N, binary 9 * 2 (a +-1 weight is a
    2-bit conv_dense weight; 1 bit of information), float 9*32."""
    kind = conv_kind(cfg)
    if kind == "binary":
        return 9 * BinaryConv.WBITS
    return {"qgp": 5, "float": 9 * 32}.get(kind) or 9 * int(kind[3:])


class Block(nn.Module):
    def __init__(self, conv, cout, abits, clip_init, pool):
        super().__init__()
        self.conv = conv
        self.bn = nn.BatchNorm2d(cout)
        self.act = ActQuant(abits, clip_init)
        self.pool = pool

    def forward(self, x):
        x = self.act(self.bn(self.conv(x)))
        return F.max_pool2d(x, 2) if self.pool else x


class QGPNet(nn.Module):
    """Network of a config (train/configs/*.json): conv_dense, conv_qgp..., gsum_fc."""

    def __init__(self, cfg: dict):
        super().__init__()
        self.cfg = cfg
        cin = cfg["input"]["channels"]
        clip = cfg["train"]["clip_init"]
        kind = conv_kind(cfg)
        select = cfg["train"].get("prune", {}).get("select", "magnitude")
        blocks = []
        for i, layer in enumerate(cfg["layers"]):
            cout = layer["out_channels"]
            if i == 0:
                conv = DenseConv(cin, cout, cfg["wbits"])
            elif kind == "qgp":
                conv = QGPConv(cin, cout, select)
            elif kind == "float":
                conv = FloatConv(cin, cout)
            elif kind == "binary":
                conv = BinaryConv(cin, cout)
            else:
                conv = DenseConv(cin, cout, int(kind[3:]))
            blocks.append(Block(conv, cout, cfg["abits"], clip, bool(layer.get("pool", False))))
            cin = cout
        self.blocks = nn.ModuleList(blocks)
        self.head = Head(cin, cfg["classes"], cfg["wbits"])
        self.in_scale = 1.0 / (2 ** cfg["input"]["bits"] - 1)

    def qgp_convs(self):
        return [b.conv for b in self.blocks if isinstance(b.conv, QGPConv)]

    def binarizable_convs(self):
        """Convs with a ``binarized`` switch the schedule drives (QGP and dense binary)."""
        return [b.conv for b in self.blocks if isinstance(b.conv, (QGPConv, BinaryConv))]

    def final_form(self) -> bool:
        """True when the weights are in their exported form (one tap per kernel, binarized)."""
        return all(bool(c.binarized) for c in self.binarizable_convs()) and \
            all(c.taps_kept() == 1 for c in self.qgp_convs())

    @torch.no_grad()
    def finalize(self):
        """End of the schedule, whatever the epoch count was: one tap per kernel, binarized."""
        for c in self.qgp_convs():
            c.prune_to(1)
        for c in self.binarizable_convs():
            c.binarized.fill_(True)

    def exportable(self) -> bool:
        return not any(isinstance(b.conv, FloatConv) for b in self.blocks)

    def forward(self, x_uint8):
        x = x_uint8.float() * self.in_scale
        for b in self.blocks:
            x = b(x)
        return self.head(x)
