"""The folding plan: how many output channels each conv layer computes per cycle (PE).

This module is the one owner of folding. The generated top (rtl.gen.top), the layer simulations
(tb.sim_layer, tb/layer), lint, the Verilator regression, the benchmarks and the implementation
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
``head_serial(layer, conv_cycles) -> bool``: a head of H*W pixels takes H*W*CI + K cycles a
    frame channel-serially (``rtl.gen.params.serial_head_cycles``); it does when that is within the conv layers' cycles per image (so
    the serial head never lowers the images/s).
``parse_spec(spec) -> dict``: {name: pe} from any of the forms above (None -> {}).
``spec_string(plan) -> str``: the ``conv0:48,conv1:48,...`` form of a plan (records, CLIs).
"""

import json
import os

from qgp.golden.errors import QGPError
from qgp.rtl.gen.params import serial_head_cycles


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


def fold_within(co, limit):
    """The largest FOLD that divides CO and is at most ``limit`` (at least 1)."""
    return max(f for f in range(1, co + 1) if co % f == 0 and f <= max(1, limit))


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
    pe = co // fold_within(co, rate_div)
    cap = max(1, LEAF_BUDGET // lane_leaves(layer))
    return max(d for d in range(1, min(pe, cap) + 1) if co % d == 0)


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
            plan.append({"name": name, "type": t, "pe": 1, "fold": fold, "rate_div": rate_div})
            continue
        co = int(layer["out_channels"])
        if name in want:
            pe = want[name]
            if pe < 1 or pe > co or co % pe:
                raise FoldingError("FOLDING", f"{name}:{pe}", f"PE must divide the layer's {co} "
                                   f"output channels (CO % PE == 0, 1 <= PE <= {co})")
        else:
            pe = _default_pe(layer, rate_div)
        plan.append({"name": name, "type": t, "pe": pe, "fold": co // pe, "rate_div": rate_div})
        cycles = max(cycles, int(layer["height"]) * int(layer["width"]) * (co // pe))
        if layer.get("pool"):
            rate_div *= 4
    return plan


def spec_string(plan):
    """'conv0:48,conv1:48,...' for the conv layers of a plan."""
    return ",".join(f"{p['name']}:{p['pe']}" for p in plan if p["type"] != "gsum_fc")
