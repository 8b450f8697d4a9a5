"""Training loop: guided pruning schedule, binarization, freezing, checkpoints, DDP, logs and plots."""
from __future__ import annotations

import csv
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from tqdm import tqdm

from qgp.golden import datasets
from qgp.golden.configs import CONFIG_DIR, load_config  # noqa: F401  (train's public API)
from qgp.golden.errors import QGPError

from .model import QGPNet, QGPConv


class TrainingError(Exception):
    """A run that cannot go on (NaN loss, incompatible checkpoint); printed as one line."""


def schedule_state(tcfg: dict, epoch_f: float):
    """(taps to keep, binarized, frozen) at fractional epoch ``epoch_f`` of the config's schedule."""
    pr = tcfg["prune"]
    keep = pr["keep"][0]
    for k, at in zip(pr["keep"], pr["at_epoch"]):
        if epoch_f >= at:
            keep = k
    frozen = tcfg.get("freeze_epoch") is not None and epoch_f >= tcfg["freeze_epoch"]
    return keep, epoch_f >= tcfg["binarize_epoch"], frozen


def augment(x: torch.Tensor, aug: dict, gen: torch.Generator) -> torch.Tensor:
    """Random horizontal flip and +-shift pixel translation (zero fill), per sample, on uint8 batches."""
    n, c, h, w = x.shape
    if aug.get("hflip"):
        flip = torch.rand(n, generator=gen) < 0.5
        x = torch.where(flip.view(n, 1, 1, 1), x.flip(3), x)
    s = int(aug.get("shift", 0))
    if s:
        xp = F.pad(x, (s, s, s, s))
        dy = torch.randint(0, 2 * s + 1, (n,), generator=gen)
        dx = torch.randint(0, 2 * s + 1, (n,), generator=gen)
        rows = (torch.arange(h).view(1, h) + dy.view(n, 1)).view(n, 1, h, 1)
        cols = (torch.arange(w).view(1, w) + dx.view(n, 1)).view(n, 1, 1, w)
        x = xp[torch.arange(n).view(n, 1, 1, 1), torch.arange(c).view(1, c, 1, 1), rows, cols]
    return x


def split_validation(x, y, tcfg: dict):
    """Hold out ``tcfg["val_images"]`` training images (a fixed permutation seeded by ``val_seed``)
    for every choice made during training; returns (x_train, y_train, x_val, y_val, record)."""
    n = int(tcfg.get("val_images", 0) or 0)
    if n <= 0:
        return x, y, x[:0], y[:0], None
    if n >= len(x):
        raise TrainingError(f"train.val_images {n} leaves no training images (the split has {len(x)})")
    seed = int(tcfg.get("val_seed", 0))
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    val, tr = perm[:n].sort().values, perm[n:].sort().values
    rec = {"images": n, "seed": seed, "of": int(len(x)), "source": "train split, held out (fixed permutation)"}
    return x[tr], y[tr], x[val], y[val], rec


def evaluate(model, images, labels, device, batch=500):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(images), batch):
            x = images[i:i + batch].to(device).contiguous(memory_format=torch.channels_last)
            correct += int((model(x).argmax(1).cpu() == labels[i:i + batch]).sum())
    return correct / len(images)


@torch.no_grad()
def recalibrate_bn(model, images, device, batches, batch_size):
    """Re-estimate batch-norm statistics with the final (binarized, frozen) weights."""
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average
    model.train()
    for i in range(min(batches, math.ceil(len(images) / batch_size))):
        x = images[i * batch_size:(i + 1) * batch_size].to(device).contiguous(memory_format=torch.channels_last)
        model(x)
    for bn in bns:
        bn.momentum = 0.1
    model.eval()


def atomic_torch_save(obj, path: Path):
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def plot_run(run_dir: Path, history: list, model: QGPNet):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ep = [h["epoch"] for h in history]
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.5))
    ax[0].plot(ep, [h["train_loss"] for h in history], label="train loss")
    ax[0].set_xlabel("epoch"); ax[0].legend()
    ax[1].plot(ep, [h["train_acc"] for h in history], label="train acc")
    if history[0].get("val_acc") is not None:
        ax[1].plot(ep, [h["val_acc"] for h in history], label="validation acc (fake-quant float)")
    ax[1].set_xlabel("epoch"); ax[1].legend()
    fig.tight_layout(); _save_fig(fig, run_dir / "curves.png"); plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 3))
    ax.step(ep, [h["taps_kept"] for h in history], where="post", label="taps kept per kernel")
    ax.step(ep, [9 * h["binarized"] for h in history], where="post", label="binarized (x9)", alpha=0.6)
    ax.set_xlabel("epoch"); ax.set_ylim(0, 9.5); ax.legend()
    fig.tight_layout(); _save_fig(fig, run_dir / "taps.png"); plt.close(fig)

    convs = model.qgp_convs()
    if not convs:
        return
    fig, axes = plt.subplots(1, len(convs), figsize=(2.6 * len(convs), 2.6), squeeze=False)
    for i, (a, conv) in enumerate(zip(axes[0], convs)):
        counts = conv.mask.reshape(-1, 9).sum(0).cpu().numpy()
        a.imshow(counts.reshape(3, 3), cmap="viridis")
        for t in range(9):
            a.text(t % 3, t // 3, f"{int(counts[t])}", ha="center", va="center", color="w", fontsize=8)
        a.set_title(f"conv{i + 1} tap use"); a.set_xticks([]); a.set_yticks([])
    fig.tight_layout(); _save_fig(fig, run_dir / "tap_hist.png"); plt.close(fig)


def _save_fig(fig, path: Path):
    tmp = path.with_name(path.stem + ".tmp.png")
    fig.savefig(tmp, dpi=90)
    os.replace(tmp, path)


def write_logs(run_dir: Path, history: list):
    tmp = run_dir / "log.json.tmp"
    tmp.write_text(json.dumps(history, indent=1))
    os.replace(tmp, run_dir / "log.json")
    tmp = run_dir / "log.csv.tmp"
    with tmp.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(history[0].keys()))
        w.writeheader(); w.writerows(history)
    os.replace(tmp, run_dir / "log.csv")


def train(cfg: dict, run_dir: Path, epochs: int | None = None, resume: bool = False,
          data_dir: str | None = None, device: str = "auto", limit_batches: int | None = None,
          amp: str = "none", seed: int = 0, quiet: bool = False, threads: int | None = None,
          init: str | None = None):
    """Train ``cfg`` into ``run_dir`` (checkpoint.pt, log.json/csv, plots). Returns the final model."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if device == "auto":
        device = f"cuda:{local}" if torch.cuda.is_available() else "cpu"
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")
    if device.startswith("cuda"):
        torch.cuda.set_device(device)
    if threads:
        torch.set_num_threads(threads)
    tcfg = cfg["train"]
    epochs = epochs or tcfg["epochs"]
    # train.binary_lr_scale: the latent weights of the binarized convs learn at this fraction of the
    # schedule's lr once binarized (their signs settle instead of flipping on every step)
    binary_lr_scale = tcfg.get("binary_lr_scale", 1.0)
    if not isinstance(binary_lr_scale, (int, float)) or isinstance(binary_lr_scale, bool) or not 0 < binary_lr_scale <= 1:
        raise TrainingError(f"train.binary_lr_scale {binary_lr_scale!r}: expected a number in (0, 1]")
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    main = rank == 0

    xtr, ytr = datasets.load(cfg["dataset"], "train", data_dir)
    xte, yte = datasets.load(cfg["dataset"], "test", data_dir)
    xtr, ytr, xte, yte = (torch.from_numpy(np.require(a, requirements="W")) for a in (xtr, ytr, xte, yte))

    torch.manual_seed(seed)
    model = QGPNet(cfg)
    if init:  # fine-tune: start from a finished run's weights, masks and binarization
        src = Path(init)
        if not src.is_file():
            raise QGPError(str(src), "init", "missing: expected a final.pt or checkpoint.pt of a run")
        ck0 = torch.load(src, map_location="cpu", weights_only=False)
        if ck0["config"]["layers"] != cfg["layers"] or ck0["config"]["input"] != cfg["input"]:
            raise QGPError(str(src), "config.layers", f"network shape differs from config {cfg['name']}")
        model.load_state_dict(ck0["model"])
    xtr, ytr, xval, yval, val_rec = split_validation(xtr, ytr, tcfg)
    model = model.to(device).to(memory_format=torch.channels_last)
    per_rank = max(1, tcfg["batch_size"] // world)
    steps = len(xtr) // (per_rank * world)
    if limit_batches:
        steps = min(steps, limit_batches)
    # three groups: binarizable conv weights (their latent signs; own lr factor once binarized),
    # the other weights (decayed), the rest (biases, BN, clips: not decayed)
    latent = {id(c.weight) for c in model.binarizable_convs()}
    groups = [[p for p in model.parameters() if id(p) in latent],
              [p for n, p in model.named_parameters()
               if id(p) not in latent and n.endswith("weight") and p.dim() > 1],
              [p for n, p in model.named_parameters() if not (n.endswith("weight") and p.dim() > 1)]]
    opt = torch.optim.AdamW([{"params": groups[0], "weight_decay": tcfg["weight_decay"]},
                             {"params": groups[1], "weight_decay": tcfg["weight_decay"]},
                             {"params": groups[2], "weight_decay": 0.0}], lr=tcfg["lr"])
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=tcfg["lr"], total_steps=epochs * steps,
                                                pct_start=0.25)
    history, start = [], 0
    best = {"val_acc": -1.0, "epoch": None, "model": None}  # model selection on the validation split
    ckpt_path = run_dir / "checkpoint.pt"
    if resume and ckpt_path.is_file():
        ck = torch.load(ckpt_path, map_location=device, weights_only=False)
        if ck["epochs"] != epochs or ck["config"]["layers"] != cfg["layers"]:
            raise TrainingError(f"{ckpt_path}: checkpoint is for {ck['epochs']} epochs of another config;"
                                " use the same CONFIG/EPOCHS or a new --out")
        try:
            model.load_state_dict(ck["model"]); opt.load_state_dict(ck["opt"]); sched.load_state_dict(ck["sched"])
        except (ValueError, RuntimeError, KeyError) as e:
            raise TrainingError(f"{ckpt_path}: checkpoint does not fit this model or optimizer ({str(e)[:120]});"
                                " use a new --out") from None
        history, start = ck["history"], ck["epoch"] + 1
        best = ck.get("best", best)
        if main and not quiet:
            print(f"resuming {run_dir} at epoch {start}/{epochs}")
    net = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[local] if device.startswith("cuda") else None)
    if main and not quiet:
        print(f"config {cfg['name']}: widths {[l['out_channels'] for l in cfg['layers']]}, "
              f"pruning keep {tcfg['prune']['keep']} at epochs {tcfg['prune']['at_epoch']}, "
              f"binarize at {tcfg['binarize_epoch']}, freeze at {tcfg.get('freeze_epoch')}, "
              f"{epochs} epochs x {steps} steps, device {device}, world {world}, "
              f"{len(xval)} validation images held out")
    applied_keep = model.qgp_convs()[0].taps_kept() if model.qgp_convs() else 9
    amp_ctx = (lambda: torch.autocast(device_type=device.split(":")[0], dtype=torch.bfloat16)) if amp == "bf16" \
        else (lambda: torch.autocast(device_type=device.split(":")[0], enabled=False))

    for epoch in range(start, epochs):
        t0 = time.time()
        gen = torch.Generator().manual_seed(seed * 1000 + epoch)
        perm = torch.randperm(len(xtr), generator=gen)[rank::world]
        net.train()
        tot_loss, tot_ok, seen = 0.0, 0, 0
        bar = tqdm(range(steps), desc=f"epoch {epoch + 1}/{epochs}", disable=not main or quiet,
                   leave=False, dynamic_ncols=True)
        for step in bar:
            keep, binar, frozen = schedule_state(tcfg, epoch + step / steps)
            if keep != applied_keep:
                for c in model.qgp_convs():
                    c.prune_to(keep)
                applied_keep = model.qgp_convs()[0].taps_kept() if model.qgp_convs() else 9
            for c in model.binarizable_convs():
                c.binarized.fill_(binar)
            idx = perm[step * per_rank:(step + 1) * per_rank]
            x = augment(xtr[idx], tcfg.get("augment", {}), gen).to(device).contiguous(memory_format=torch.channels_last)
            y = ytr[idx].to(device)
            with amp_ctx():
                out = net(x)
                loss = F.cross_entropy(out.float(), y, label_smoothing=tcfg.get("label_smoothing", 0.0))
            if not torch.isfinite(loss):
                raise TrainingError(f"loss is {loss.item()} at epoch {epoch + 1} step {step}; stopped, "
                                    f"last good checkpoint kept in {ckpt_path}")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if frozen:  # taps, signs and first-layer weights fixed: only BN, clips and head still learn
                for b in model.blocks:
                    b.conv.weight.grad = None
            opt.step(); sched.step()
            if binar and binary_lr_scale != 1.0:  # OneCycleLR sets every lr afresh from its bounds each step
                opt.param_groups[0]["lr"] *= binary_lr_scale
            tot_loss += loss.item() * len(idx); tot_ok += int((out.argmax(1) == y).sum()); seen += len(idx)
            if step % 20 == 0:
                bar.set_postfix(loss=f"{tot_loss / seen:.3f}", acc=f"{tot_ok / seen:.3f}", keep=keep, bin=int(binar))
        bar.close()
        if main:
            # per-epoch figures on the validation split only: the test set is read once, at the end
            val_acc = evaluate(model, xval, yval, device) if len(xval) else None
            rec = {"epoch": epoch + 1, "train_loss": round(tot_loss / seen, 5), "train_acc": round(tot_ok / seen, 5),
                   "val_acc": None if val_acc is None else round(val_acc, 5), "lr": sched.get_last_lr()[0],
                   "lr_binary": opt.param_groups[0]["lr"], "taps_kept": applied_keep, "binarized": int(binar), "frozen": int(frozen),
                   "seconds": round(time.time() - t0, 1)}
            history.append(rec)
            # best checkpoint: highest validation accuracy among epochs already in the exported form
            if val_acc is not None and model.final_form() and val_acc > best["val_acc"]:
                best = {"val_acc": val_acc, "epoch": epoch + 1,
                        "model": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}}
            if not quiet:
                print(json.dumps(rec), flush=True)
            atomic_torch_save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                               "epoch": epoch, "epochs": epochs, "history": history, "config": cfg,
                               "best": best}, ckpt_path)
            write_logs(run_dir, history)
            plot_run(run_dir, history, model)
        if world > 1:
            dist.barrier()

    if main:
        selected = epochs
        if best["model"] is not None:  # the epoch the validation split chose (ties: the earliest)
            model.load_state_dict(best["model"])
            selected = best["epoch"]
        # end of schedule: one tap per kernel, binarized, whatever the epoch count was
        model.finalize()
        # BN statistics re-estimated on training images (never validation or test)
        recalibrate_bn(model, xtr, device, tcfg.get("bn_recalibrate_batches", 100), tcfg["batch_size"])
        val_acc = evaluate(model, xval, yval, device) if len(xval) else None
        final_acc = evaluate(model, xte, yte, device)  # the one read of the test set
        summary = {"final_float_test_acc": final_acc, "final_val_acc": val_acc, "selected_epoch": selected,
                   "validation": val_rec, "epochs": epochs, "history": history,
                   "train_seconds": round(sum(h["seconds"] for h in history), 1)}
        atomic_torch_save({"model": model.state_dict(), "config": cfg, "summary": summary}, run_dir / "final.pt")
        if not quiet:
            v = "" if val_acc is None else f"validation {val_acc:.4f}, "
            print(f"selected epoch {selected}; after BN recalibration: {v}fake-quant float test accuracy {final_acc:.4f}")
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return model
