"""Integer form of a trained QGPNet (BN folded into requant m, b, shift), torch integer inference,
and export of a bundle (golden.bundle.write_bundle: temp dir, validate, rename)."""
from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from qgp.golden import bundle as gbundle
from qgp.golden import datasets
from qgp.golden import model as gmodel
from qgp.golden.errors import QGPError

from .model import BinaryConv, DenseConv, QGPNet

M_BITS = 16   # requant multiplier width (signed); the shift is chosen per layer to use it fully
B_BITS = 32   # requant offset width (signed)
MAX_SHIFT = 40


def requant_params(k, bn, act, m_bits=M_BITS, b_bits=B_BITS):
    """m, b, shift with (acc*m + b) >> shift == round-half-up(act(bn(k * acc)) / act_scale) up to the
    rounding of m: k [CO] is the float scale of the accumulator (float_out = k * acc)."""
    g = bn.weight.detach().double() / torch.sqrt(bn.running_var.double() + bn.eps)
    h = bn.bias.detach().double() - bn.running_mean.double() * g
    s_out = act.scale()
    r = (k.double() * g / s_out).cpu().numpy()
    c = (h / s_out).cpu().numpy()
    if not (np.isfinite(r).all() and np.isfinite(c).all()):
        raise QGPError("export", "requant", "batch norm folds to a non-finite multiplier")
    mlo, mhi = gbundle.signed_range(m_bits)
    blo, bhi = gbundle.signed_range(b_bits)
    for shift in range(MAX_SHIFT, -1, -1):
        if np.abs(r).max() * 2.0 ** shift > 2.0 ** 62:
            continue
        m = np.round(r * 2.0 ** shift).astype(np.int64)
        b = np.round(c * 2.0 ** shift).astype(np.int64) + ((1 << (shift - 1)) if shift else 0)
        if m.min() >= mlo and m.max() <= mhi and b.min() >= blo and b.max() <= bhi:
            return m, b, shift
    raise QGPError("export", "requant", f"no shift in 0..{MAX_SHIFT} fits m in {m_bits} and b in {b_bits} bits")


@torch.no_grad()
def integer_layers(model: QGPNet) -> list:
    """The network as golden layer dicts holding numpy arrays (the form Bundle.layers has)."""
    cfg = model.cfg
    model = model.cpu().eval()
    c, h, w = cfg["input"]["channels"], cfg["input"]["height"], cfg["input"]["width"]
    in_scale, bits, abits = model.in_scale, cfg["input"]["bits"], cfg["abits"]
    layers = []
    for i, blk in enumerate(model.blocks):
        co = blk.conv.out_channels
        L = {"name": f"conv{i}", "in_channels": c, "out_channels": co, "height": h, "width": w, "pool": blk.pool}
        if isinstance(blk.conv, (DenseConv, BinaryConv)):  # conv_dense at any position
            wq, sw = blk.conv.integer_form()
            L.update(type="conv_dense", wbits=blk.conv.wbits,
                     weight=wq.numpy().astype(np.int8 if blk.conv.wbits <= 8 else np.int16))
            k = sw * in_scale
        else:
            tap, sign, alpha = blk.conv.integer_form()
            L.update(type="conv_qgp", tap=tap.numpy().astype(np.uint8), sign=sign.numpy().astype(np.uint8))
            k = alpha * in_scale
        m, b, shift = requant_params(k, blk.bn, blk.act)
        L["requant"] = {"m": m, "b": b, "shift": int(shift), "m_bits": M_BITS, "b_bits": B_BITS}
        need = gbundle.required_widths(L, bits, abits)
        L["acc_bits"] = need["acc_bits"]
        L["requant"]["prod_bits"] = need["prod_bits"]
        if blk.pool and (h % 2 or w % 2):
            raise QGPError("export", f"layers[{i}].pool", f"2x2 pool on odd size {h}x{w}")
        layers.append(L)
        in_scale, bits, c = blk.act.scale(), abits, co
        if blk.pool:
            h, w = h // 2, w // 2
    wq, bq = model.head.integer_form(in_scale, h * w)
    L = {"name": "head", "type": "gsum_fc", "in_channels": c, "classes": cfg["classes"], "height": h, "width": w,
         "wbits": cfg["wbits"], "bias_bits": 32, "weight": wq.numpy(), "bias": bq.numpy()}
    L.update(gbundle.required_widths(L, abits, abits))
    layers.append(L)
    return layers


def int_forward(layers: list, images: np.ndarray, abits: int):
    """Torch integer inference of the integer layers: returns ([input, out0, out1, ...], logits).

    An independent implementation of the contract (torch conv2d in float64, exact for these
    integer magnitudes), tested against golden/ image by image and layer by layer.
    """
    x = torch.from_numpy(np.require(images, requirements="W")).double()
    acts = [x.long()]
    top = 2 ** abits - 1
    for L in layers:
        if L["type"] == "gsum_fc":
            g = x.sum(dim=(2, 3)).long()
            logits = g @ torch.from_numpy(L["weight"]).long().T + torch.from_numpy(L["bias"]).long()
            return acts, logits
        if L["type"] == "conv_dense":
            wt = torch.from_numpy(L["weight"]).double()
        else:
            tap, sign = torch.from_numpy(L["tap"].astype(np.int64)), torch.from_numpy(L["sign"].astype(np.int64))
            wt = F.one_hot(tap, 9).double() * (1 - 2 * sign).double().unsqueeze(-1)
            wt = wt.reshape(tap.shape[0], tap.shape[1], 3, 3)
        acc = F.conv2d(x, wt, padding=1).round().long()
        rq = L["requant"]
        m = torch.from_numpy(rq["m"]).long().view(1, -1, 1, 1)
        b = torch.from_numpy(rq["b"]).long().view(1, -1, 1, 1)
        y = torch.clamp(torch.div(acc * m + b, 2 ** rq["shift"], rounding_mode="floor"), 0, top)
        if L["pool"]:
            y = F.max_pool2d(y.double(), 2).long()
        acts.append(y)
        x = y.double()
    raise QGPError("export", "layers", "no gsum_fc head")


def pack(layers: list):
    """Split golden layer dicts holding arrays into model.json layer entries + named arrays."""
    meta, arrays = [], {}
    for L in layers:
        e = {}
        for key, v in L.items():
            if isinstance(v, np.ndarray):
                arrays[f"{L['name']}.{key}"] = v
                e[key] = f"{L['name']}.{key}"
            elif key == "requant":
                rq = dict(v)
                for a in ("m", "b"):
                    arrays[f"{L['name']}.{a}"] = v[a]
                    rq[a] = f"{L['name']}.{a}"
                e[key] = rq
            else:
                e[key] = v
        meta.append(e)
    return meta, arrays


def load_final(run_dir) -> tuple[QGPNet, dict]:
    p = Path(run_dir) / "final.pt"
    if not p.is_file():
        raise QGPError(str(p), "final.pt", "missing: train the run to its end first (make train)")
    ck = torch.load(p, map_location="cpu", weights_only=False)
    model = QGPNet(ck["config"])
    model.load_state_dict(ck["model"])
    return model.eval(), ck


def export_run(run_dir, out_dir, data_dir=None, check_images=256):
    """Export ``run_dir/final.pt`` to the bundle ``out_dir`` with its golden test accuracy recorded."""
    model, ck = load_final(run_dir)
    cfg = ck["config"]
    if not model.exportable():
        raise QGPError(str(Path(run_dir) / "final.pt"), "config.conv",
                       "a float network has no integer form; its accuracy is torch's (final_float_test_acc)")
    layers = integer_layers(model)
    meta_layers, arrays = pack(layers)
    summary = ck.get("summary", {})
    hist = summary.get("history", [])
    meta = {"name": cfg["name"], "dataset": cfg["dataset"], "input": cfg["input"], "abits": cfg["abits"],
            "layers": meta_layers,
            "training": {"config": cfg, "epochs": summary.get("epochs"), "train_seconds": summary.get("train_seconds"),
                         "final_float_test_acc": summary.get("final_float_test_acc"),
                         "final_val_acc": summary.get("final_val_acc"),
                         "selected_epoch": summary.get("selected_epoch"),
                         "validation": summary.get("validation"),
                         "history": [{k: h[k] for k in ("epoch", "val_acc", "test_acc", "taps_kept", "binarized",
                                                         "frozen") if k in h} for h in hist]}}
    xte, yte = datasets.load(cfg["dataset"], "test", data_dir)
    with tempfile.TemporaryDirectory() as tmp:
        b = gbundle.write_bundle(Path(tmp) / "b", dict(meta, accuracy={"golden": 0.0, "images": 0}), arrays)
        res = gmodel.run(b, xte, keep_activations=False)
        small = gmodel.run(b, xte[:check_images])
    # the torch integer path must agree with golden image by image, layer by layer
    acts, logits = int_forward(layers, xte[:check_images], cfg["abits"])
    for i, a in enumerate(acts[1:]):
        if not np.array_equal(a.numpy(), small.activations[i + 1]):
            raise QGPError("export", f"layers[{i}]", "torch integer path != golden (bug)")
    if not np.array_equal(logits.numpy(), small.logits):
        raise QGPError("export", "head", "torch integer logits != golden (bug)")
    acc = float((res.pred == yte).mean())
    meta["accuracy"] = {"golden": acc, "images": int(len(yte)), "dataset": cfg["dataset"]}
    gbundle.write_bundle(out_dir, meta, arrays)
    print(f"exported {out_dir}: golden accuracy {acc:.4f} on {len(yte)} {cfg['dataset']} test images "
          f"(fake-quant float {summary.get('final_float_test_acc')})")
    return acc
