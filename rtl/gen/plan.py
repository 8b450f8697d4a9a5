"""The folding plan: how many output channels each conv layer computes per cycle (PE).

This module is the one owner of folding. The generated top (rtl.gen.top), the layer simulations
(tb/layer), lint, the Verilator regression, the benchmarks and the implementation
flow (impl) all call ``folding_plan`` and never decide a fold themselves; the generated
``qgp_net.json`` records the plan it was built with.

PE (FINN's name) = output channels per cycle of a conv layer; FOLD = CO / PE = cycles per pixel.

Rate-matched default: a layer after p 2x2 pools sees 1/4^p of the input pixel rate, so it can
fold by up to 4^p (FOLD = the largest divisor of CO not above 4^p, PE = CO / FOLD) and still
take one pixel whenever one arrives; the layers before the first pool run at PE = CO. The network then takes ``max(H0*W0, H*W*FOLD of every layer, head)`` cycles
per image, i.e. the input frame's pixel count.

Datapath cap of the default: a layer's datapath is PE x its leaves per output channel
(``lane_leaves``: a QGP lane sums CI multiplexed terms, a dense lane 9*CI*WBITS shift-and-add
terms); the default lowers PE (a larger FOLD, fewer images/s) until PE * lane_leaves <=
``LEAF_BUDGET``, and to 1 at least. The shipped network's largest layer is 4,096 leaves (conv5 at
PE 16), so its plan is the rate-matched one; an 8-bit dense 48->48 layer at PE 48 would be
165,888 leaves, a circuit no ECP5 holds and a model Verilator cannot build on a small machine
(the int8 and binary rows of ``make compare``). A spec (below) is never capped.

A plan spec overrides layers one by one:
  - ``"conv2:8,conv3:16"`` (the Makefile's ``FOLDING=``): PE per named layer,
  - a JSON file ``{"conv2": 8, "conv3": 16}`` or ``{"pe": {"conv2": 8}}``,
  - a dict ``{name: pe}``.
Layers not named keep the rate-matched PE. Errors (unknown layer, CO % PE != 0, PE < 1, a head
layer named) raise ``FoldingError`` with one line.

API
---
``folding_plan(bundle, spec=None) -> list[dict]``: one entry per bundle layer, chain order:
    ``{"name", "type", "pe", "fold", "rate_div"}``; for the head pe = 1 and fold = its cycles
    per pixel: CI (the channel-serial head, gsum_fc SER) when ``head_serial`` says the conv
    layers leave it the time, else 1.
    Each entry also carries ``"cycles"``: ``layer_cycles`` of the layer at that fold.
``head_serial(layer, conv_cycles) -> bool``: a head of H*W pixels takes H*W*CI + K cycles a
    frame channel-serially (``serial_head_cycles``); it does when that is within the conv
    layers' cycles per image (so the serial head never lowers the images/s).
``parse_spec(spec) -> dict``: {name: pe} from any of the forms above (None -> {}).
``spec_string(plan) -> str``: the ``conv0:48,conv1:48,...`` form of a plan (records, CLIs).

Cycles per image (the one owner; rtl.gen.top, impl.fit and qgp_net.json read these):
``layer_cycles(layer, fold) -> int``: the cycles per image a layer needs at ``fold``: a conv
    layer H*W*FOLD; the head H*W*CI + K + HEAD_EXTRA channel-serially (fold > 1), else
    max(H*W, CI + K + HEAD_EXTRA + HEAD_FLAGS) (it accumulates a pixel a clock; its FC and argmax
    overlap the next frame).
``cycles_per_image(meta, plan) -> int``: max(H0*W0 of the input, ``"cycles"`` of every layer).
``fold_for_cycles(layer, cycles) -> int``: the largest FOLD of a conv layer within ``cycles``.
``largest_divisor(n, limit) -> int``: the one divisor helper (folds are divisors of CO).
``check_fold(layer, fold, name) -> int``: the fold, or FoldingError naming FOLD when it does
    not divide CO (rtl.gen.params never lowers a fold silently).
"""

import json
import os

from qgp.golden.errors import QGPError


class FoldingError(QGPError):
    """A folding plan that cannot be built: ``"{source}: {layer}: {message}"`` (one line)."""


def _layer_name(layer, n):
    return layer.get("name", f"layer{n}")


def parse_spec(spec):
    """{name: pe} from a "name:pe,..." string, a JSON file path, a dict or None."""
    if spec is None or spec == "":
        return {}
    if isinstance(spec, dict):
        items = spec.get("pe", spec) if isinstance(spec.get("pe"), dict) else spec
        src = "folding plan"
    elif isinstance(spec, str) and (spec.endswith(".json") or os.path.isfile(spec)):
        try:
            with open(spec) as f:
                data = json.load(f)
        except OSError as e:
            raise FoldingError(spec, "folding", f"cannot read the folding plan ({e.strerror})") from None
        except ValueError as e:
            raise FoldingError(spec, "folding", f"not JSON ({e})") from None
        if not isinstance(data, dict):
            raise FoldingError(spec, "folding", "a folding plan is an object {layer: PE}")
        items = data["pe"] if isinstance(data.get("pe"), dict) else data
        src = spec
    elif isinstance(spec, str):
        items = {}
        for part in spec.split(","):
            part = part.strip()
            if not part:
                continue
            name, sep, pe = part.partition(":")
            if not sep or not name.strip():
                raise FoldingError("FOLDING", part, "expected layer:PE, e.g. conv2:8")
            items[name.strip()] = pe.strip()
        src = "FOLDING"
    else:
        raise FoldingError("FOLDING", repr(spec), "expected 'layer:PE,...', a JSON file or a dict")
    out = {}
    for name, pe in items.items():
        try:
            pe_i = int(pe)
            if str(pe).strip() != str(pe_i) and not isinstance(pe, int):
                raise ValueError
        except (TypeError, ValueError):
            raise FoldingError(src, name, f"PE {pe!r} is not an integer") from None
        out[str(name)] = pe_i
    return out


def largest_divisor(n, limit):
    """The largest divisor of ``n`` that is at most ``limit`` (at least 1)."""
    n = int(n)
    limit = max(1, min(int(limit), n))
    return max(d for d in range(1, limit + 1) if n % d == 0)


def check_fold(layer, fold, name=None):
    """``fold`` (cycles per pixel) of a conv layer as an int; FoldingError naming the FOLD field
    when it does not divide the layer's output channels."""
    co = int(layer["out_channels"])
    try:
        f = int(fold)
    except (TypeError, ValueError):
        f = 0
    if f < 1 or co % f:
        raise FoldingError(name or layer.get("name", "layer"), "FOLD",
                           f"FOLD {fold!r} must divide the layer's {co} output channels "
                           f"(CO % FOLD == 0, 1 <= FOLD <= {co})")
    return f


# gsum_fc's clocks after its last MAC beyond K - 1 argmax clocks: the MAC's accumulation clock
# (the products are registered first) and the argmax's clock k = 0 (it starts from the most
# negative value instead of logit 0, so that no argmax input comes from the MAC's adders)
HEAD_EXTRA = 2

# gsum_fc's input skid buffer (both modes; its s_axis_tready a register): clocks of latency
HEAD_SKID = 1
# the parallel head's (SER = 0) register stage between the skid and the global sums (the beat's
# flags copied per channel): a clock more of latency and of time per frame
HEAD_FLAGS = 1


def serial_head_cycles(hw, ci, k):
    """Cycles per frame of the channel-serial head (gsum_fc SER) in a stream: H*W*CI channel
    steps, and K + HEAD_EXTRA clocks with the input held (the last MAC's product and
    accumulation clocks, then the K argmax clocks)."""
    return int(hw) * int(ci) + int(k) + HEAD_EXTRA


def layer_cycles(layer, fold):
    """Cycles per image ``layer`` needs at ``fold`` (see the module doc)."""
    hw = int(layer["height"]) * int(layer["width"])
    if layer["type"] == "gsum_fc":
        if int(fold) > 1:
            return serial_head_cycles(hw, layer["in_channels"], layer["classes"])
        return max(hw, int(layer["in_channels"]) + int(layer["classes"]) + HEAD_EXTRA + HEAD_FLAGS)
    return hw * int(fold)


def cycles_per_image(meta, plan):
    """Steady-state cycles between images (input always valid, output always ready) of a
    ``folding_plan``: the input frame's pixels or the slowest layer's cycles."""
    inp = meta["input"]
    return max([int(inp["height"]) * int(inp["width"])] + [int(p["cycles"]) for p in plan])


def fold_for_cycles(layer, cycles):
    """The largest FOLD of a conv layer with ``layer_cycles(layer, FOLD) <= cycles`` (>= 1)."""
    hw = int(layer["height"]) * int(layer["width"])
    return largest_divisor(layer["out_channels"], int(cycles) // hw)


# the default plan's cap on PE * lane_leaves per layer (see the module docstring)
LEAF_BUDGET = 16384


def lane_leaves(layer):
    """Adder-tree leaves of one output channel: CI for a QGP layer, 9*CI*WBITS for a dense one."""
    ci = int(layer["in_channels"])
    return 9 * ci * int(layer["wbits"]) if layer["type"] == "conv_dense" else ci


def _default_pe(layer, rate_div):
    """The smallest PE that divides CO and keeps CO / PE <= rate_div cycles per pixel, lowered
    to the largest divisor of CO within LEAF_BUDGET leaves (at least 1)."""
    co = int(layer["out_channels"])
    pe = co // largest_divisor(co, rate_div)
    cap = max(1, LEAF_BUDGET // lane_leaves(layer))
    return largest_divisor(co, min(pe, cap))


def head_serial(layer, conv_cycles):
    """The channel-serial head (gsum_fc SER) fits in ``conv_cycles`` per image."""
    hw = int(layer["height"]) * int(layer["width"])
    return serial_head_cycles(hw, layer["in_channels"], layer["classes"]) <= int(conv_cycles)


def folding_plan(bundle, spec=None):
    """Per-layer PE / FOLD for ``bundle`` (golden.bundle.Bundle), the spec overriding defaults."""
    want = parse_spec(spec)
    names = [_layer_name(L, n) for n, L in enumerate(bundle.layers)]
    for name in want:
        if name not in names:
            raise FoldingError("FOLDING", name, f"unknown layer (the bundle has "
                               f"{', '.join(names)})")
    plan = []
    rate_div = 1
    inp = bundle.meta["input"]
    cycles = int(inp["height"]) * int(inp["width"])   # the conv layers' cycles per image
    for n, layer in enumerate(bundle.layers):
        name = names[n]
        t = layer["type"]
        if t == "gsum_fc":
            if name in want and want[name] != 1:
                raise FoldingError("FOLDING", name, f"the head ({t}) has no PE to choose")
            fold = int(layer["in_channels"]) if head_serial(layer, cycles) else 1
            plan.append({"name": name, "type": t, "pe": 1, "fold": fold, "rate_div": rate_div,
                         "cycles": layer_cycles(layer, fold)})
            continue
        co = int(layer["out_channels"])
        if name in want:
            pe = want[name]
            if pe < 1 or pe > co or co % pe:
                raise FoldingError("FOLDING", f"{name}:{pe}", f"PE must divide the layer's {co} "
                                   f"output channels (CO % PE == 0, 1 <= PE <= {co})")
        else:
            pe = _default_pe(layer, rate_div)
        c = layer_cycles(layer, co // pe)
        plan.append({"name": name, "type": t, "pe": pe, "fold": co // pe, "rate_div": rate_div,
                     "cycles": c})
        cycles = max(cycles, c)
        if layer.get("pool"):
            rate_div *= 4
    return plan


def spec_string(plan):
    """'conv0:48,conv1:48,...' for the conv layers of a plan."""
    return ",".join(f"{p['name']}:{p['pe']}" for p in plan if p["type"] != "gsum_fc")
