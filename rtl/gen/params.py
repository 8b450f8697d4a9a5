"""Map a bundle layer (golden.bundle.load_bundle(...).layers[n]) to the Verilog module that
implements it, its parameters and its memfiles (formats: docs/INTERFACES.md).

One owner per fact: widths and shifts come from the bundle layer (acc_bits, requant m_bits /
b_bits / prod_bits / shift, wbits, bias_bits, gsum_bits, logit_bits); nothing is hard-coded.

API
---
``layer_module(layer) -> str``
    "conv_layer" (conv_dense: DENSE=1, conv_qgp: DENSE=0) or "gsum_fc" (head).
``layer_params(layer, abits, in_bits, out_dir, prefix, fold=1, fifo_depth=None, tree_reg=None, ring=None)``
    Verilog parameters of that module (a dict). Writes the memfiles into ``out_dir`` as
    ``{prefix}_ts.mem`` / ``{prefix}_w.mem`` / ``{prefix}_th.mem`` (head: ``_w`` / ``_b``) and
    returns their absolute paths as *unquoted* Python ``str`` values (TS_FILE, W_FILE, TH_FILE,
    B_FILE); the requant is golden's thresholds (golden/thresholds.py, TH_W bits each); a
    conv_dense layer at FOLD 1 gets its weights as the constant ``WVEC`` (a ``VBits``) instead of
    W_FILE, a conv_qgp layer at FOLD 1 its taps and signs as ``TS_VEC`` instead of TS_FILE, and
    every conv layer at FOLD 1 its thresholds as ``TH_VEC`` instead of TH_FILE (constants in the
    source: synthesis and Verilator alike see no memory). Every other value is an ``int``. Use ``verilog_value`` to write a value into Verilog
    source or onto a simulator command line (strings get their double quotes there, VBits are
    sized hex). ``tree_reg`` = TREE_REG, the conv core's adder tree pipelining (a register every
    that many tree levels; default ``DEFAULT_TREE_REG``).
    ``fold`` = FOLD, cycles per pixel of a conv layer (PE = CO / FOLD; a fold that does not
    divide CO raises ``rtl.gen.plan.FoldingError`` naming FOLD: ``rtl.gen.plan.check_fold``). ``fifo_depth`` = FIFO_DEPTH of
    the layer's input FIFO (default: ``default_fifo_depth``). A conv_qgp layer at FOLD >=
    ``RING_MIN_FOLD`` and PE <= ``RING_MAX_PE`` gets ``RING = 1`` (``ring_mode``; ``ring`` = 0 / 1
    overrides it, e.g. for a bare conv_qgp fed 9-tap windows): its window is kept in per-channel tap
    memories (tap_ring.v) and its TS_FILE taps are {kx, ky} (``ring_tap_code``).
``layer_info(layer, abits, in_bits, out_dir, prefix, fold=1, fifo_depth=None) -> dict``
    ``{"module", "params", "in_width", "out_width", "fold", "latency", "frame_cycles"}``:
    tdata widths of the module's input / output streams, and the stated timing (see
    ``layer_latency``).
``layer_latency(module, params) -> int``
    The fixed latency L stated in the module header: with input offered every clock and the
    output always ready, one frame takes ``H*W*FOLD + L`` cycles from the first input beat to the
    last output beat (last output cycle - first input cycle); for gsum_fc ``H*W + L`` (L = CI + K
    - 1 + HEAD_EXTRA + HEAD_SKID + HEAD_FLAGS), channel-serial (``fold`` > 1 of a head: SER = 1) ``H*W*CI + L`` (L = K + HEAD_EXTRA +
    HEAD_SKID: counted from the first beat taken at the port, by the head's input skid). A conv
    layer: ``W + 6 + POOL + tree_latency(params) + requant_latency(params)``, plus
    ``ring_latency(params)`` when RING.
``tree_latency(params) -> int``
    Register stages inside a conv core's adder trees (adder_tree.v): 1 for the leaf register of
    a folded core (FOLD > 1, TREE_REG > 0) plus ``(LV - 2) // TREE_REG``,
    LV = clog2 of the tree's leaves (``tree_leaves``: CI for QGP, 9*CI*WBITS for a FOLD 1 dense
    core, 9*CI folded), 0 when TREE_REG is 0; plus ``product_latency(params)`` (a folded dense
    core's products: 1 when TREE_REG > 0 and WBITS >= 3).
``requant_latency(params) -> int``
    Register stages inside a conv core's requant (RQ_REG: its compares registered): 0 or 1.
Folding (which FOLD each layer gets) is decided by ``rtl.gen.plan`` alone.
"""

import math
import os

import numpy as np

from qgp.golden import atomic
from qgp.golden.thresholds import layer_thresholds, threshold_bits
from qgp.rtl.gen.plan import HEAD_EXTRA, HEAD_FLAGS, HEAD_SKID, check_fold, serial_head_cycles  # noqa: F401 (serial_head_cycles: API)

# adder tree pipelining of the conv cores (TREE_REG: a register every this many tree levels,
# 0 = none): every level from level 2 up, for the 125 MHz target (at 3, the mid network of the
# timing acceptance placed at 89.0 MHz on an LFE5U-45F, critical path conv0's window -> 4 tree
# levels; at 1 its trees left the critical path, the rest of that run at 94.0 MHz)
DEFAULT_TREE_REG = 1

# copies of a conv core's pipeline enable (conv_pipe EN_COPIES), each driving a share of its wide
# registers (trees, ROM words, stage data, output assembly). 1: at 8 nextpnr's router1 did not
# converge on the timing acceptance's mid network (200-600 arcs left after 8 min), at 1 it
# routed it in 4 min at 96.6 MHz
DEFAULT_EN_COPIES = 1

# requant pipelining of the conv cores (RQ_REG 1: the threshold compares registered, one more
# cycle per layer): the compare -> XOR -> stage-2 path was the mid network's critical path
DEFAULT_RQ_REG = 1
# 1: the conv cores never stall (conv_pipe CREDIT = credit_depth): a window enters while a
# credit of the core's output FIFO is free, so no enable fans out from the output handshake to
# the datapath registers; 0: the pipeline stalls as a whole on its output (a skid after it)
DEFAULT_CREDIT = 1

# a conv_qgp layer keeps its window in tap memories (conv_qgp RING) from this FOLD on: a column
# takes 3 clocks to write, so below it the layer would not keep one window per FOLD cycles
RING_MIN_FOLD = 3
# ... and up to this PE: the tap memories are per lane (one 16-word memory per input channel and
# lane) while a window register is shared by all lanes: at high PE the tap memories multiply the
# memories (11,776 for the shipped rate-matched plan), the Verilator build time and the
# simulation time, for LUTs in a plan that does not fit an ECP5 anyway
RING_MAX_PE = 4

MODULES = {"conv_dense": "conv_layer", "conv_qgp": "conv_layer", "gsum_fc": "gsum_fc"}


def layer_module(layer):
    """Name of the Verilog module implementing ``layer`` (a Bundle.layers entry)."""
    t = layer["type"]
    if t not in MODULES:
        raise ValueError(f"rtl.gen.params: no RTL module for layer type {t!r}")
    return MODULES[t]


def verilog_value(v):
    """A parameter value as Verilog source text: str -> "quoted", VBits -> sized hex
    (``W'h...``), int -> decimal."""
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, VBits):
        return "%d'h%x" % (v.width, int(v))
    return str(int(v))


def _mask(v, bits):
    v = int(v)
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if not lo <= v <= hi:
        raise ValueError(f"rtl.gen.params: value {v} does not fit in {bits} signed bits")
    return v & ((1 << bits) - 1)


def write_memfile(path, words, width):
    """$readmemh file: one hex word per line, ``ceil(width/4)`` digits; written atomically."""
    digits = max(1, (width + 3) // 4)
    text = "".join(format(int(w), "0%dx" % digits) + "\n" for w in words)
    return atomic.write_text(path, text)


def ring_mode(layer, fold):
    """RING (1/0) of a conv layer at ``fold``: conv_qgp layers at FOLD >= RING_MIN_FOLD and
    PE = CO / FOLD <= RING_MAX_PE."""
    pe = int(layer["out_channels"]) // max(1, int(fold))
    return 1 if (layer["type"] == "conv_qgp" and int(fold) >= RING_MIN_FOLD
                 and pe <= RING_MAX_PE) else 0


def ring_tap_code(tap):
    """tap_ring.v's 4-bit tap code {kx, ky} of a bundle tap t = ky*3 + kx (kx = dx + 1, ky =
    dy + 1); a tap above 8 gets ky = 3 (reads 0, as qgp_lane's zero padding)."""
    tap = int(tap)
    return ((tap % 3) << 2 | tap // 3) if 0 <= tap <= 8 else 3


def default_fifo_depth(layer, fold):
    """Input FIFO: 2 entries (a register slice) for an unfolded layer; one input row (= one output
    row of the preceding pool, which arrives in a burst) for a folded one."""
    return 2 if fold <= 1 else max(2, int(layer["width"]))


def _lane_words(per_channel, width, fold):
    """Fold-major ROM words from one value per output channel: word f holds channels
    f*PE .. f*PE+PE-1 (PE = CO / fold), channel f*PE + p at bits [p*width +: width]."""
    co = len(per_channel)
    pe = co // fold
    words = []
    for f in range(fold):
        word = 0
        for p in range(pe):
            word |= int(per_channel[f * pe + p]) << (p * width)
        words.append(word)
    return words


def threshold_word_bits(acc_bits, abits):
    """Bits of one channel's requant word {neg, T[NT]..T[1]} (rtl/requant.v)."""
    return ((1 << int(abits)) - 1) * threshold_bits(acc_bits) + 1


def qgp_acc_offset(layer):
    """Per output channel of a conv_qgp layer, the number of negative signs nneg: conv_qgp's
    adder trees sum acc - nneg (qgp_lane.v: a sign is a ones' complement), so its thresholds are
    golden's minus nneg, one bit wider (acc_bits + 1 bits hold acc - nneg for every acc)."""
    return [int(v) for v in (np.asarray(layer["sign"]).reshape(int(layer["out_channels"]), -1) != 0).sum(axis=1)]


def _requant_params(layer, abits, prefix, out_dir, fold):
    """TH_W and TH_VEC (FOLD 1, a constant, channel o at [o*QW +: QW]) or TH_FILE (folded,
    laid out fold-major): golden's thresholds (golden/thresholds.py), one word per channel
    {neg, T[NT], ..., T[1]}, T[k] at [(k-1)*TH_W +: TH_W]; conv_qgp: minus
    ``qgp_acc_offset`` and one bit wider."""
    aw = int(layer["acc_bits"])
    t, neg = layer_thresholds(layer, abits)
    if layer["type"] == "conv_qgp":
        aw += 1
        t = t - np.asarray(qgp_acc_offset(layer), dtype=np.int64)[:, None]
    tw = threshold_bits(aw)
    per = []
    for o in range(t.shape[0]):
        word = int(neg[o]) << (t.shape[1] * tw)
        for k in range(t.shape[1]):
            word |= _mask(t[o, k], tw) << (k * tw)
        per.append(word)
    qw = threshold_word_bits(aw, abits)
    if fold == 1:
        # constant thresholds: compares with constants, no memory (conv_qgp.v / conv_dense.v)
        return {"TH_W": tw, "TH_VEC": VBits(sum(wd << (o * qw) for o, wd in enumerate(per)),
                                            qw * len(per))}
    return {
        "TH_W": tw,
        "TH_FILE": write_memfile(os.path.join(out_dir, f"{prefix}_th.mem"),
                                 _lane_words(per, qw, fold), qw * len(per) // fold),
    }


class VBits(int):
    """An int parameter written as a sized hex literal (wide Verilog vector parameters)."""

    def __new__(cls, value, width):
        obj = super().__new__(cls, value)
        obj.width = int(width)
        return obj


def layer_params(layer, abits, in_bits, out_dir, prefix, fold=1, fifo_depth=None, tree_reg=None,
                 ring=None):
    """Verilog parameters (and memfiles) for the module implementing ``layer``; see module doc."""
    t = layer["type"]
    abits, in_bits = int(abits), int(in_bits)
    if t == "gsum_fc":
        k, ci = int(layer["classes"]), int(layer["in_channels"])
        ser = 1 if int(fold) > 1 else 0   # the plan's fold of a head: CI = channel-serial
        wb, bb = int(layer["wbits"]), int(layer["bias_bits"])
        w = np.asarray(layer["weight"]).reshape(k, ci)
        words = []  # column-major: word c = column c, class kk at [kk*wb +: wb] (gsum_fc.v)
        for c in range(ci):
            word = 0
            for kk in range(k):
                word |= _mask(w[kk, c], wb) << (kk * wb)
            words.append(word)
        bias = np.asarray(layer["bias"]).reshape(-1)
        return {
            "CI": ci,
            "K": k,
            "BITS": in_bits,
            "GSUM_W": int(layer["gsum_bits"]),
            "WBITS": wb,
            "BIAS_W": bb,
            "LOGIT_W": int(layer["logit_bits"]),
            "CLASS_W": max(1, math.ceil(math.log2(k))),
            "W_FILE": write_memfile(os.path.join(out_dir, f"{prefix}_w.mem"), words, k * wb),
            "B_FILE": write_memfile(os.path.join(out_dir, f"{prefix}_b.mem"), [_mask(v, bb) for v in bias], bb),
            "SER": ser,
        }
    if t not in ("conv_dense", "conv_qgp"):
        raise ValueError(f"rtl.gen.params: no RTL module for layer type {t!r}")
    ci, co = int(layer["in_channels"]), int(layer["out_channels"])
    fold = check_fold(layer, fold, prefix)
    if fifo_depth is None:
        fifo_depth = default_fifo_depth(layer, fold)
    p = {
        "DENSE": 1 if t == "conv_dense" else 0,
        "CI": ci,
        "CO": co,
        "IN_BITS": in_bits,
    }
    if t == "conv_dense":
        wb = int(layer["wbits"])
        w = np.asarray(layer["weight"]).reshape(co, ci * 9)  # index i*9 + t, t = ky*3 + kx
        per = []
        for o in range(co):
            word = 0
            for j in range(ci * 9):
                word |= _mask(w[o, j], wb) << (j * wb)
            per.append(word)
        p.update(WBITS=wb)
    else:
        if in_bits != abits:
            raise ValueError(f"rtl.gen.params: conv_qgp input bits {in_bits} != abits {abits}")
        tap = np.asarray(layer["tap"]).reshape(co, ci)
        sign = np.asarray(layer["sign"]).reshape(co, ci)
        ring = ring_mode(layer, fold) if ring is None else int(ring)
        code = ring_tap_code if ring else (lambda t: int(t) & 15)
        per = []
        for o in range(co):
            word = 0
            for i in range(ci):
                word |= ((int(sign[o, i]) & 1) << 4 | code(tap[o, i])) << (i * 5)
            per.append(word)
        p.update(RING=ring)
    p.update(
        ABITS=abits,
        W=int(layer["width"]),
        H=int(layer["height"]),
        ACC_W=int(layer["acc_bits"]),
        PE=co // fold,
        POOL=1 if layer.get("pool") else 0,
        FIFO_DEPTH=int(fifo_depth),
        TREE_REG=int(DEFAULT_TREE_REG if tree_reg is None else tree_reg),
        EN_COPIES=DEFAULT_EN_COPIES,
        RQ_REG=DEFAULT_RQ_REG,
    )
    p["CREDIT"] = (credit_depth(fold, tree_latency(p), requant_latency(p)) if DEFAULT_CREDIT else 0)
    p.update(_requant_params(layer, abits, prefix, out_dir, fold))
    if t == "conv_dense":
        lw = ci * 9 * p["WBITS"]
        if fold == 1:
            # constant weights: synthesis turns them into shifts and adds (conv_dense.v)
            p["WVEC"] = VBits(sum(wd << (o * lw) for o, wd in enumerate(per)), co * lw)
        else:
            p["W_FILE"] = write_memfile(os.path.join(out_dir, f"{prefix}_w.mem"),
                                        _lane_words(per, lw, fold), lw * (co // fold))
    elif fold == 1:
        # constant taps and signs: the multiplexers are wires (qgp_lane CONST)
        p["TS_VEC"] = VBits(sum(wd << (o * ci * 5) for o, wd in enumerate(per)), co * ci * 5)
    else:
        p["TS_FILE"] = write_memfile(os.path.join(out_dir, f"{prefix}_ts.mem"),
                                     _lane_words(per, ci * 5, fold), ci * 5 * (co // fold))
    return p


def tree_leaves(params):
    """Leaves of one output channel's adder tree in a conv core (conv_qgp.v / conv_dense.v)."""
    ci = int(params["CI"])
    if int(params.get("DENSE", 0)):
        fold = int(params["CO"]) // int(params["PE"])
        return 9 * ci * (int(params["WBITS"]) if fold == 1 else 1)
    return ci


def product_latency(params):
    """Register stages inside a folded dense core's products (conv_dense.v PLAT): 1 when folded
    with TREE_REG > 0 and a partial-product tree of clog2(WBITS) >= 2 levels (registered after
    its first level: adder_tree REG_FROM 1), else 0; 0 for a QGP core (no products)."""
    if not int(params.get("DENSE", 0)) or int(params.get("TREE_REG", 0)) <= 0:
        return 0
    folded = int(params["CO"]) // int(params["PE"]) > 1
    return 1 if folded and (int(params["WBITS"]) - 1).bit_length() >= 2 else 0


def tree_latency(params):
    """Register stages between a conv core's window and its accumulator (conv_qgp.v /
    conv_dense.v TLAT): the adder tree's (adder_tree.v LAT: the leaf register of a folded core,
    LEAF_REG: FOLD > 1 and TREE_REG > 0, its leaves come from a ROM word; plus (LV - 2) //
    TREE_REG for TREE_REG > 0 and LV = clog2(leaves) > 2) and a folded dense core's products
    (``product_latency``)."""
    r = int(params.get("TREE_REG", 0))
    lv = max(0, (tree_leaves(params) - 1).bit_length())
    leaf = 1 if r > 0 and int(params["CO"]) // int(params["PE"]) > 1 else 0
    return leaf + ((lv - 2) // r if r > 0 and lv > 2 else 0) + product_latency(params)


def requant_latency(params):
    """Register stages inside a conv core's requant (requant.v REG = RQ_REG): 0 or 1."""
    return int(params.get("RQ_REG", 0))


def credit_depth(fold, dlat, ylat):
    """Entries of a never-stalling conv core's output FIFO (conv_pipe CREDIT): the fewest that
    keep one window every ``fold`` clocks with the output always ready. A window's credit is
    taken at its first fold and comes back (a register later) when its pixel leaves the FIFO,
    fold + 3 + dlat + ylat clocks on (dlat, ylat: the core's datapath register stages, TLAT and
    RQ_REG), so (fold + 3 + dlat + ylat) // fold windows hold a credit when the next one starts,
    and that one needs one more."""
    fold, dlat, ylat = int(fold), int(dlat), int(ylat)
    return 2 + (3 + dlat + ylat) // fold


def ring_latency(params):
    """Extra latency of a RING conv layer (conv_layer.v): 5, 0 without RING. The column before
    a frame's first window and the window's own column take 3 clocks each to write (2 more than
    a shift into a window register each), and the window starts the clock after its column's
    last row; every later window is FOLD-bound (FOLD >= RING_MIN_FOLD), and the columns no
    window uses inside the frame (window3x3 need = 0) are dropped at once."""
    return 5 if int(params.get("RING", 0)) else 0


def layer_latency(module, params):
    """Fixed latency L of the module header's statement (see module doc)."""
    if module == "conv_layer":
        return (int(params["W"]) + 6 + (1 if params.get("POOL") else 0) + tree_latency(params)
                + requant_latency(params) + ring_latency(params))
    if module == "gsum_fc":
        if int(params.get("SER", 0)):
            # from the first beat taken at the port (by the input skid; the head takes it from
            # there with its last channel, CI - 1 clocks after it reaches the skid's output)
            return int(params["K"]) + HEAD_EXTRA + HEAD_SKID
        return int(params["CI"]) + int(params["K"]) - 1 + HEAD_EXTRA + HEAD_SKID + HEAD_FLAGS
    raise ValueError(f"rtl.gen.params: unknown module {module!r}")


def layer_info(layer, abits, in_bits, out_dir, prefix, fold=1, fifo_depth=None, tree_reg=None):
    module = layer_module(layer)
    p = layer_params(layer, abits, in_bits, out_dir, prefix, fold=fold, fifo_depth=fifo_depth,
                     tree_reg=tree_reg)
    if module == "gsum_fc":
        in_w = p["CI"] * p["BITS"]
        out_w = p["K"] * p["LOGIT_W"] + p["CLASS_W"]
        f = p["CI"] if p["SER"] else 1     # cycles per pixel
        frame = int(layer["height"]) * int(layer["width"]) * f
    else:
        in_w = p["CI"] * p["IN_BITS"]
        out_w = p["CO"] * p["ABITS"]
        f = p["CO"] // p["PE"]
        frame = p["H"] * p["W"] * f
    lat = layer_latency(module, p)
    return {"module": module, "params": p, "in_width": in_w, "out_width": out_w, "fold": f,
            "latency": lat, "frame_cycles": frame + lat}
