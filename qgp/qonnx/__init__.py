"""QONNX export of a QGP bundle: the integer network as an ONNX graph with QONNX operators.

``to_qonnx(bundle, batch=1) -> onnx.ModelProto`` builds, per layer (tensor names in brackets)::

    image [N,C,H,W] float, integer 0..255
      -> Quant (8-bit unsigned, scale 1)                                    [input.q]
    conv_dense:  Conv(x, Quant(w, wbits signed narrow))                     [convI.acc]
    conv_qgp:    Conv(x, Quant(w, 2 bits signed narrow))   w = one-hot(tap) * (+1 | -1): one
                                                            non-zero (+-1) tap per 3x3 kernel
      -> [Mul by -1 on the channels whose m < 0]                            [convI.acc_o]
      -> MultiThreshold (2^abits - 1 thresholds per channel, out UINTabits) [convI.act]
      -> [MaxPool 2x2 stride 2]                                             [convI.out]
    head:  ReduceSum over H, W -> Cast double -> MatMul(Quant(w, wbits signed)) + bias
                                                                            [head.gsum] [logits]
      -> ArgMax (ties: lowest index)                                        [class]

The requant ``clamp((acc*m + b) >> shift, 0, 2^abits-1)`` is monotone in acc, so it is exactly a
MultiThreshold: :func:`requant_thresholds` takes golden's thresholds
(``golden.thresholds.layer_thresholds``, the one derivation the RTL uses too) in MultiThreshold's
orientation.
Every value is an integer held in float32 (exact while |acc| < 2^24: checked) and the head runs in
float64 (exact logits up to 53 bits: checked); what cannot be exported that way is refused with a
one-line :class:`golden.errors.QGPError`.

``check(bundle, images, model=None)`` runs the graph with QONNX's executor and compares every
layer's output (``convI.out``), the logits and the class with ``golden.model.run`` bit for bit.
"""
import contextlib
import os

import numpy as np

from qgp.golden.errors import QGPError

OPSET = 13
QONNX_DOMAIN = "qonnx.custom_op.general"
F32_EXACT_BITS = 24   # float32 holds every integer of up to 24 bits (25 with the sign)
F64_EXACT_BITS = 53
IR_VERSION = 8  # what the graph declares; onnxruntime 1.31 reads up to IR 13, onnx 1.23 writes 14


def _need():
    try:
        import onnx  # noqa: F401
        import qonnx  # noqa: F401
    except ImportError as e:
        raise QGPError("qonnx", "install", f"QONNX export needs onnx and qonnx ({e}); "
                       "pip install 'qgp[qonnx]'") from None


def _layer_out_name(i):
    return f"conv{i}.out"


def requant_thresholds(layer, abits):
    """MultiThreshold form of a conv layer's requant: ``(t int64 [CO, 2^abits-1], neg bool [CO])``.

    On ``x = -acc`` for the channels with m < 0 (``neg``) and ``x = acc`` otherwise,
    ``requant(acc) = #{k : x >= t[o, k]}``. From golden's thresholds T
    (``golden.thresholds.layer_thresholds``: ``requant(acc) = #{k : (acc >= T[k]) xor neg}``):
    t = T where m >= 0; where m < 0, ``acc >= T[k]`` is "requant(acc) < k", so
    ``requant(acc) >= k <=> acc <= T[k] - 1 <=> x >= 1 - T[k]``, i.e. t = 1 - T."""
    from qgp.golden.thresholds import layer_thresholds

    t, neg = layer_thresholds(layer, abits)
    return np.where(neg[:, None], 1 - t, t).astype(np.int64), neg


def to_qonnx(b, batch=1):
    """The bundle ``b`` (golden.bundle.Bundle) as an onnx.ModelProto with QONNX operators."""
    _need()
    from onnx import TensorProto, helper, numpy_helper

    meta = b.meta
    inp = meta["input"]
    c, h, w = int(inp["channels"]), int(inp["height"]), int(inp["width"])
    abits = int(meta["abits"])
    nodes, inits, vinfo = [], [], []
    where = os.path.join(str(b.path), "model.json")

    def const(name, arr, dtype=np.float32):
        inits.append(numpy_helper.from_array(np.asarray(arr, dtype=dtype), name))
        return name

    def quant(x, out, bits, signed, narrow):
        s = const(f"{out}.scale", 1.0)
        z = const(f"{out}.zeropt", 0.0)
        bw = const(f"{out}.bitwidth", float(bits))
        nodes.append(helper.make_node("Quant", [x, s, z, bw], [out], domain=QONNX_DOMAIN, name=out,
                                      signed=int(signed), narrow=int(narrow), rounding_mode="ROUND"))
        return out

    def vi(name, shape, elem=TensorProto.FLOAT):
        vinfo.append(helper.make_tensor_value_info(name, elem, list(shape)))

    x = quant("image", "input.q", int(inp["bits"]), False, False)
    vi(x, [batch, c, h, w])
    outputs = []
    for i, L in enumerate(b.layers):
        field = f"layers[{i}]"
        if L["type"] == "gsum_fc":
            k = int(L["classes"])
            if int(L["logit_bits"]) > F64_EXACT_BITS:
                raise QGPError(where, f"{field}.logit_bits", f"is {L['logit_bits']}: logits beyond "
                               f"{F64_EXACT_BITS} bits are not exact in the float64 head; cannot export")
            axes = const("head.axes", [2, 3], np.int64)
            nodes.append(helper.make_node("ReduceSum", [x, axes], ["head.gsum"], keepdims=0, name="head.gsum"))
            vi("head.gsum", [batch, c])
            nodes.append(helper.make_node("Cast", ["head.gsum"], ["head.gsum_d"], to=TensorProto.DOUBLE,
                                          name="head.gsum_d"))
            vi("head.gsum_d", [batch, c], TensorProto.DOUBLE)
            wt = const("head.weight_int", np.asarray(L["weight"]).T)  # [C, K]
            wq = quant(wt, "head.weight_q", int(L["wbits"]), True, False)
            vi(wq, [c, k])
            nodes.append(helper.make_node("Cast", [wq], ["head.weight_d"], to=TensorProto.DOUBLE,
                                          name="head.weight_d"))
            vi("head.weight_d", [c, k], TensorProto.DOUBLE)
            nodes.append(helper.make_node("MatMul", ["head.gsum_d", "head.weight_d"], ["head.mm"], name="head.mm"))
            vi("head.mm", [batch, k], TensorProto.DOUBLE)
            bias = const("head.bias", np.asarray(L["bias"]), np.float64)
            nodes.append(helper.make_node("Add", ["head.mm", bias], ["logits"], name="head.bias_add"))
            nodes.append(helper.make_node("ArgMax", ["logits"], ["class"], axis=1, keepdims=0,
                                          select_last_index=0, name="class"))
            outputs = [helper.make_tensor_value_info("logits", TensorProto.DOUBLE, [batch, k]),
                       helper.make_tensor_value_info("class", TensorProto.INT64, [batch])]
            break
        name = f"conv{i}"
        co = int(L["out_channels"])
        acc_bits = int(L["acc_bits"])
        if acc_bits > F32_EXACT_BITS:
            raise QGPError(where, f"{field}.acc_bits", f"is {acc_bits}: accumulators beyond "
                           f"{F32_EXACT_BITS} bits are not exact in float32 tensors; cannot export")
        if L["type"] == "conv_dense":
            wint = np.asarray(L["weight"], dtype=np.float32)
            wq = quant(const(f"{name}.weight_int", wint), f"{name}.weight_q", int(L["wbits"]), True, True)
        elif L["type"] == "conv_qgp":
            tap = np.asarray(L["tap"], dtype=np.int64)
            sign = np.asarray(L["sign"], dtype=np.int64)
            wint = np.zeros((co, c, 9), dtype=np.float32)
            np.put_along_axis(wint, tap[:, :, None], (1 - 2 * sign)[:, :, None].astype(np.float32), axis=2)
            wq = quant(const(f"{name}.weight_int", wint.reshape(co, c, 3, 3)), f"{name}.weight_q", 2, True, True)
        else:
            raise QGPError(where, f"{field}.type", f"{L['type']!r} has no QONNX form")
        vi(wq, [co, c, 3, 3])
        acc = f"{name}.acc"
        nodes.append(helper.make_node("Conv", [x, wq], [acc], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                                      strides=[1, 1], name=acc))
        vi(acc, [batch, co, h, w])
        t, neg = requant_thresholds(L, abits)
        if neg.any():  # MultiThreshold counts x >= T: the channels with m < 0 see x = -acc
            sgn = const(f"{name}.orient", np.where(neg, -1.0, 1.0).reshape(1, co, 1, 1))
            nodes.append(helper.make_node("Mul", [acc, sgn], [f"{name}.acc_o"], name=f"{name}.acc_o"))
            vi(f"{name}.acc_o", [batch, co, h, w])
            acc = f"{name}.acc_o"
        if np.abs(t).max(initial=0) > (1 << F32_EXACT_BITS):
            raise QGPError(where, f"{field}.requant", "thresholds beyond float32's exact integers; cannot export")
        thr = const(f"{name}.thresholds", t.astype(np.float32))
        act = f"{name}.act"
        nodes.append(helper.make_node("MultiThreshold", [acc, thr], [act], domain=QONNX_DOMAIN, name=act,
                                      out_dtype=f"UINT{abits}", data_layout="NCHW"))
        vi(act, [batch, co, h, w])
        x = act
        if L["pool"]:
            h, w = h // 2, w // 2
            nodes.append(helper.make_node("MaxPool", [act], [f"{name}.pooled"], kernel_shape=[2, 2],
                                          strides=[2, 2], name=f"{name}.pool"))
            vi(f"{name}.pooled", [batch, co, h, w])
            x = f"{name}.pooled"
        nodes.append(helper.make_node("Identity", [x], [_layer_out_name(i)], name=_layer_out_name(i)))
        vi(_layer_out_name(i), [batch, co, h, w])
        x = _layer_out_name(i)
        c = co
    graph = helper.make_graph(nodes, f"qgp_{meta.get('name', 'net')}",
                              [helper.make_tensor_value_info("image", TensorProto.FLOAT, [batch, int(inp["channels"]),
                                                                                         int(inp["height"]), int(inp["width"])])],
                              outputs, initializer=inits, value_info=vinfo)
    model = helper.make_model(graph, producer_name="qgp", opset_imports=[helper.make_opsetid("", OPSET),
                                                                         helper.make_opsetid(QONNX_DOMAIN, 1)])
    model.ir_version = IR_VERSION
    model.doc_string = (f"QGP bundle {meta.get('name')} (dataset {meta.get('dataset')}): integer network, "
                        "values are integers held in float tensors; see docs/QONNX.md")
    _annotate(model, b)
    return model


def _annotate(model, b):
    """QONNX datatype annotations (what FINN and qonnx's inference cost read)."""
    from qonnx.core.datatype import DataType
    from qonnx.core.modelwrapper import ModelWrapper

    mw = ModelWrapper(model)
    abits = int(b.meta["abits"])
    mw.set_tensor_datatype("image", DataType[f"UINT{int(b.meta['input']['bits'])}"])
    for i, L in enumerate(b.layers):
        if L["type"] == "gsum_fc":
            mw.set_tensor_datatype("head.gsum", DataType[f"UINT{int(L['gsum_bits'])}"])
            break
        mw.set_tensor_datatype(f"conv{i}.acc", DataType[f"INT{int(L['acc_bits'])}"])
        for t in (f"conv{i}.act", _layer_out_name(i)):
            mw.set_tensor_datatype(t, DataType[f"UINT{abits}"])
    return mw.model


def save(model, path):
    """Write the model atomically (temp file + rename)."""
    import onnx

    path = os.path.abspath(os.fspath(path))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    try:
        onnx.save(model, tmp)
        os.replace(tmp, path)
    except OSError as e:
        raise QGPError(path, "file", f"cannot write: {e.strerror or e}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


@contextlib.contextmanager
def ort_compat():
    """qonnx runs each standard node as a one-node model made with onnx's default IR version,
    which onnx 1.23 sets above what onnxruntime 1.31 accepts: pin those models to IR_VERSION
    (used by :func:`execute` and :func:`inference_cost`)."""
    import qonnx.core.onnx_exec as qexec

    orig = qexec.qonnx_make_model

    def make_model(*a, **kw):
        m = orig(*a, **kw)
        m.ir_version = min(m.ir_version, IR_VERSION)
        return m

    qexec.qonnx_make_model = make_model
    try:
        yield
    finally:
        qexec.qonnx_make_model = orig


def execute(model, images):
    """Run the graph with QONNX's executor: {tensor name: array} for every tensor."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx

    with ort_compat():
        return execute_onnx(ModelWrapper(model), {"image": np.asarray(images, dtype=np.float32)},
                            return_full_exec_context=True)


def inference_cost(path):
    """qonnx.util.inference_cost of a written graph: its dict (total_macs, total_bops,
    total_mem_w_bits, ...; weight sparsity discounted: the pruned taps cost nothing)."""
    from qonnx.util.inference_cost import inference_cost as qcost

    with ort_compat():
        return qcost(os.fspath(path), preprocess=True, discount_sparsity=True)


def check(b, images, model=None):
    """Run the QONNX graph (batch = len(images)) and compare every layer, the logits and the
    class with golden. Returns {"images", "layers": [{"name", "mismatches"}], "logit_mismatches",
    "class_mismatches", "ok"}."""
    from qgp.golden import model as gmodel

    images = np.asarray(images)
    model = model if model is not None else to_qonnx(b, batch=len(images))
    ctx = execute(model, images)
    gold = gmodel.run(b, images)
    layers = []
    for i, L in enumerate(b.layers[:-1]):
        got = ctx[_layer_out_name(i)]
        want = gold.activations[i + 1]
        bad = int((got.astype(np.int64) != want).reshape(len(images), -1).any(axis=1).sum()) \
            if got.shape == want.shape and np.array_equal(got, np.round(got)) else len(images)
        layers.append({"name": L["name"], "mismatches": bad})
    logits = ctx["logits"]
    lbad = int((logits.astype(np.int64) != gold.logits).any(axis=1).sum()) \
        if logits.shape == gold.logits.shape else len(images)
    cbad = int((ctx["class"].astype(np.int64) != gold.pred).sum())
    ok = lbad == 0 and cbad == 0 and all(r["mismatches"] == 0 for r in layers)
    return {"images": int(len(images)), "layers": layers, "logit_mismatches": lbad,
            "class_mismatches": cbad, "ok": ok}
