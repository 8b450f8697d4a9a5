"""The paper's experiment: QGP against its baselines on one network and one schedule.

``python -m train compare --spec short`` (``make compare``) trains every row of a compare spec
(``train/configs/compare/<spec>.json``: a base training config, the schedule all rows share and
the rows, each differing only in the 3x3 convs after the first layer), then for each integer row
exports a bundle to ``models/compare/<row>/`` (golden accuracy on the full test set recorded),
runs the RTL on ``regress_images`` test images with ``tb.regress`` (0 mismatches required) and
rewrites ``models/compare/compare.json`` atomically after every row, with a plot of accuracy
against weight bits (``docs/img/compare.png``).

Resumable: training checkpoints every epoch in ``runs/compare/<row>/`` and continues from it;
a row whose result is already in compare.json for the same spec (and whose bundle still holds the
recorded accuracy) is skipped. Model selection uses the validation split held out of the training
images (``train.val_images``); the test set is read once per row, for its final figure.
"""
from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
from pathlib import Path

from golden import atomic
from golden.configs import CONFIG_DIR, load_config
from golden.errors import QGPError

from .model import conv_kind, conv_weight_bits

SPEC_DIR = CONFIG_DIR / "compare"
ROOT = CONFIG_DIR.parent.parent
ROW_KEYS = ("name", "conv", "train", "note")


def load_spec(name_or_path: str) -> dict:
    """A compare spec, validated: {"name", "base", "train", "rows": [{"name", "conv"?, "train"?}]}."""
    p = Path(name_or_path)
    if not p.suffix:
        p = SPEC_DIR / f"{name_or_path}.json"
    if not p.is_file():
        known = ", ".join(sorted(q.stem for q in SPEC_DIR.glob("*.json")))
        raise QGPError(str(p), "spec", f"no such compare spec (known: {known})")
    try:
        spec = json.loads(p.read_text())
    except json.JSONDecodeError as e:
        raise QGPError(str(p), "spec", f"invalid JSON: {e}") from None
    if not isinstance(spec, dict):
        raise QGPError(str(p), "spec", "expected a JSON object")
    for key in ("name", "base", "rows"):
        if key not in spec:
            raise QGPError(str(p), key, "missing")
    if not isinstance(spec["rows"], list) or not spec["rows"]:
        raise QGPError(str(p), "rows", "expected a non-empty list of rows")
    seen = set()
    for i, row in enumerate(spec["rows"]):
        if not isinstance(row, dict) or not isinstance(row.get("name"), str) or not row["name"]:
            raise QGPError(str(p), f"rows[{i}].name", "missing (every row needs a name)")
        if row["name"] in seen:
            raise QGPError(str(p), f"rows[{i}].name", f"duplicate row {row['name']!r}")
        seen.add(row["name"])
        bad = [k for k in row if k not in ROW_KEYS]
        if bad:
            raise QGPError(str(p), f"rows[{i}].{bad[0]}", f"unknown key; a row may set {', '.join(ROW_KEYS)} "
                                                          "(only the 3x3 convs may differ between rows)")
        try:
            conv_kind({"conv": row.get("conv", "qgp")})
        except ValueError as e:
            raise QGPError(str(p), f"rows[{i}].conv", str(e)) from None
    spec["_path"] = str(p)
    return spec


def row_config(spec: dict, row: dict) -> dict:
    """The training config of one row: the base config, the spec's schedule, the row's conv kind
    and tap-selection overrides (nothing else may differ)."""
    cfg = copy.deepcopy(load_config(spec["base"]))
    cfg["train"].update(copy.deepcopy(spec.get("train", {})))
    cfg["train"].update(copy.deepcopy(row.get("train", {})))
    cfg.pop("base", None)
    cfg["conv"] = row.get("conv", "qgp")
    cfg["name"] = f"{spec['name']}-{row['name']}"
    return cfg


def weight_memory_bits(cfg: dict) -> int:
    """Bits of every weight of the network as stored: first layer 9*wbits per kernel, later 3x3
    convs ``conv_weight_bits`` per kernel (qgp: 4-bit tap + sign), head wbits per weight."""
    c, total = cfg["input"]["channels"], 0
    per_kernel = conv_weight_bits(cfg)
    for i, L in enumerate(cfg["layers"]):
        co = L["out_channels"]
        total += co * c * (9 * cfg["wbits"] if i == 0 else per_kernel)
        c = co
    return int(total + cfg["classes"] * c * cfg["wbits"])


def read_results(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise QGPError(str(path), "json", f"invalid JSON ({e}); delete it to start the table afresh") from None


def _row_done(rec: dict | None, spec: dict, cfg: dict, out: Path) -> bool:
    if not rec or rec.get("spec") != spec["name"] or rec.get("epochs") != cfg["train"]["epochs"]:
        return False
    if cfg["conv"] == "float":
        return True
    mj = out / rec["name"] / "model.json"
    if not mj.is_file() or (rec.get("regress") or {}).get("mismatches") != 0:
        return False
    return json.loads(mj.read_text()).get("accuracy", {}).get("golden") == rec.get("accuracy")


def write_results(path: Path, spec: dict, rows: dict):
    order = [r["name"] for r in spec["rows"]]
    body = {"spec": spec["name"], "spec_file": str(Path(spec["_path"]).resolve().relative_to(ROOT))
            if Path(spec["_path"]).resolve().is_relative_to(ROOT) else spec["_path"],
            "note": spec.get("note"),
            "columns": {"accuracy": "test accuracy on all test images: golden (integer) for exported rows, "
                                    "torch fake-quant for float",
                        "weight_bits": "bits of every weight of the network as stored in the bundle / RTL "
                                       "(binary: 2-bit conv_dense weights holding +-1)",
                        "conv_bits_per_kernel": "bits per 3x3 kernel of the convs after the first layer",
                        "lut4, dsp, fmax_mhz, images_per_s": "optional, from make impl"},
            "rows": [rows[n] for n in order if n in rows] + [r for n, r in rows.items() if n not in order]}
    atomic.write_text(path, json.dumps(body, indent=1) + "\n")


def plot(rows: list, png: Path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4))
    for r in rows:
        mk = "s" if r["name"] == "float" else ("*" if r["name"] == "qgp" else "o")
        ax.scatter(r["weight_bits"], r["accuracy"], marker=mk, s=80 if mk == "*" else 40)
        ax.annotate(r["name"], (r["weight_bits"], r["accuracy"]), textcoords="offset points", xytext=(5, 4),
                    fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("weight memory of the network (bits, log scale)")
    ax.set_ylabel("test accuracy (10,000 images)")
    ep = sorted({r["epochs"] for r in rows})
    ax.set_title(f"Fashion-MNIST, same network, {'/'.join(map(str, ep))} epochs per row", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    tmp = png.with_name(png.stem + ".tmp.png")
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    tmp.replace(png)


def markdown_table(res: dict, spec: dict | None = None) -> str:
    """compare.json as a markdown table (README); rows of the spec not yet done are listed as such."""
    opt = [("lut4", "LUT4"), ("dsp", "DSP"), ("fmax_mhz", "Fmax MHz"), ("images_per_s", "images/s")]
    opt = [(k, h) for k, h in opt if any(r.get(k) is not None for r in res.get("rows", []))]
    head = ["row", "3x3 convs after layer 0", "test accuracy", "weight bits", "bits / kernel", "epochs",
            "val. accuracy", "RTL (0 mismatches)"] + [h for _, h in opt]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    done = set()
    for r in res.get("rows", []):
        done.add(r["name"])
        reg = r.get("regress")
        rtl = f"{reg['images']} images, {reg['mismatches']} mismatches" if reg else "no bundle (float)"
        src = "golden" if r["accuracy_source"] == "golden" else "torch"
        cells = [r["name"], r.get("note") or r["conv"], f"{r['accuracy']:.4f} ({src}, {r['images']:,})",
                 f"{r['weight_bits']:,}", str(r["conv_bits_per_kernel"]), str(r["epochs"]),
                 "" if r.get("val_accuracy") is None else f"{r['val_accuracy']:.4f}", rtl]
        cells += ["" if r.get(k) is None else f"{r[k]:,}" for k, _ in opt]
        lines.append("| " + " | ".join(cells) + " |")
    for row in (spec or {}).get("rows", []):
        if row["name"] not in done:
            lines.append("| " + " | ".join([row["name"], row.get("note") or row.get("conv", "qgp"), "not trained yet"]
                                            + [""] * (len(head) - 3)) + " |")
    return "\n".join(lines)


def regress(bundle: Path, n: int, jobs: int, out_json: Path) -> dict:
    out_json = Path(out_json).resolve()
    cmd = [sys.executable, "-m", "tb.regress", "--bundle", str(Path(bundle).resolve()), "--n", str(n),
           "--jobs", str(jobs), "--out", str(out_json), "--no-progress"]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if p.returncode not in (0, 1) or not out_json.is_file():
        tail = (p.stderr or p.stdout).strip().splitlines()[-1:] or ["no output"]
        raise QGPError(str(bundle), "regress", f"tb.regress failed (exit {p.returncode}): {tail[0]}")
    return json.loads(out_json.read_text())


def run_compare(spec_name="short", out="models/compare", runs="runs/compare", only=None, train_only=False,
                no_train=False, device="auto", threads=None, jobs=2, data_dir=None, png="docs/img/compare.png",
                regress_images=None, limit_batches=None, log=print):
    """Train / export / evaluate / regress every row not yet done; returns the compare.json body."""
    from .export import export_run
    from .run import train

    spec = load_spec(spec_name)
    out, runs = Path(out), Path(runs)
    res_path = out / "compare.json"
    names = [r["name"] for r in spec["rows"]]
    if only:
        bad = [n for n in only if n not in names]
        if bad:
            raise QGPError(spec["_path"], "rows", f"no row {bad[0]!r} (rows: {', '.join(names)})")
    prev = read_results(res_path)
    rows = {r["name"]: r for r in prev.get("rows", [])} if prev.get("spec") == spec["name"] else {}
    n_reg = int(regress_images or spec.get("regress_images", 200))
    failed = []
    for row in spec["rows"]:
        name = row["name"]
        if only and name not in only:
            continue
        cfg = row_config(spec, row)
        if _row_done(rows.get(name), spec, cfg, out):
            log(f"{name}: done ({rows[name]['accuracy']:.4f}), skipped")
            continue
        run_dir = runs / name
        final = run_dir / "final.pt"
        bdir = out / name
        if cfg["conv"] != "float" and not final.is_file() and _bundle_config(bdir) == cfg:
            # exported in an earlier session whose runs/ is gone: the bundle holds the row's figures
            if train_only:
                log(f"{name}: exported earlier ({bdir}), nothing to train")
                continue
            rec = _record_from_bundle(bdir, spec, row, cfg, limit_batches)
            _regress_row(rec, bdir, n_reg, jobs, failed, log)
            rows[name] = rec
            write_results(res_path, spec, rows)
            plot([r for r in rows.values() if r.get("accuracy") is not None], Path(png))
            log(f"{name}: accuracy {rec['accuracy']:.4f} (golden, {rec['images']} images) from {bdir}")
            continue
        if not _final_matches(final, cfg):
            if no_train:
                log(f"{name}: not trained yet ({run_dir}), skipped (--no-train)")
                continue
            log(f"{name}: training {cfg['train']['epochs']} epochs into {run_dir} (conv {cfg['conv']})")
            train(cfg, run_dir, resume=True, device=device, threads=threads, data_dir=data_dir,
                  limit_batches=limit_batches)
        if train_only:
            continue
        import torch
        ck = torch.load(final, map_location="cpu", weights_only=False)
        s = ck["summary"]
        rec = {"name": name, "conv": cfg["conv"], "note": row.get("note"), "spec": spec["name"],
               "epochs": cfg["train"]["epochs"], "images": None, "accuracy": None,
               "accuracy_source": None, "torch_accuracy": s["final_float_test_acc"],
               "val_accuracy": s.get("final_val_acc"), "selected_epoch": s.get("selected_epoch"),
               "validation": s.get("validation"), "weight_bits": weight_memory_bits(cfg),
               "conv_bits_per_kernel": conv_weight_bits(cfg), "train_seconds": s.get("train_seconds"),
               "limit_batches": limit_batches}
        if cfg["conv"] == "float":
            from golden import datasets
            rec.update(accuracy=s["final_float_test_acc"], accuracy_source="torch",
                       images=int(len(datasets.load(cfg["dataset"], "test", data_dir)[1])), bundle=None)
        else:
            export_run(run_dir, bdir, data_dir=data_dir)
            acc = json.loads((bdir / "model.json").read_text())["accuracy"]
            rec.update(accuracy=acc["golden"], images=acc["images"], accuracy_source="golden", bundle=str(bdir))
            _regress_row(rec, bdir, n_reg, jobs, failed, log)
        rows[name] = rec
        write_results(res_path, spec, rows)
        plot([r for r in rows.values() if r.get("accuracy") is not None], Path(png))
        log(f"{name}: accuracy {rec['accuracy']:.4f} ({rec['accuracy_source']}, {rec['images']} images), "
            f"{rec['weight_bits']} weight bits -> {res_path}")
    if failed:
        raise QGPError(str(res_path), "regress", f"RTL mismatches in rows {', '.join(failed)}")
    return read_results(res_path)


def _regress_row(rec: dict, bdir: Path, n_reg: int, jobs: int, failed: list, log):
    """RTL == golden on ``n_reg`` images, with the default folding plan (``make regress``'s; its
    datapath cap folds the dense rows' wide layers: rtl/gen/plan.py)."""
    name = rec["name"]
    log(f"{name}: RTL regression on {n_reg} images ...")
    t0 = time.time()
    g = regress(bdir, n_reg, jobs, Path("build") / "compare" / f"regress-{name}.json")
    rec["regress"] = {"images": g["images"], "mismatches": g["mismatches"],
                      "cycles_per_image": g.get("cycles_per_image"), "folding": g.get("folding"),
                      "seconds": round(time.time() - t0, 1)}
    if g["mismatches"]:
        failed.append(name)
        log(f"{name}: RTL != golden on {g['mismatches']} of {g['images']} images")


def _bundle_config(bdir: Path):
    mj = bdir / "model.json"
    if not mj.is_file():
        return None
    return json.loads(mj.read_text()).get("training", {}).get("config")


def _record_from_bundle(bdir: Path, spec: dict, row: dict, cfg: dict, limit_batches) -> dict:
    meta = json.loads((bdir / "model.json").read_text())
    t, acc = meta["training"], meta["accuracy"]
    return {"name": row["name"], "conv": cfg["conv"], "note": row.get("note"), "spec": spec["name"],
            "epochs": cfg["train"]["epochs"], "images": acc["images"], "accuracy": acc["golden"],
            "accuracy_source": "golden", "torch_accuracy": t.get("final_float_test_acc"),
            "val_accuracy": t.get("final_val_acc"), "selected_epoch": t.get("selected_epoch"),
            "validation": t.get("validation"), "weight_bits": weight_memory_bits(cfg),
            "conv_bits_per_kernel": conv_weight_bits(cfg), "train_seconds": t.get("train_seconds"),
            "limit_batches": limit_batches, "bundle": str(bdir)}


def _final_matches(final: Path, cfg: dict) -> bool:
    if not final.is_file():
        return False
    import torch
    ck = torch.load(final, map_location="cpu", weights_only=False)
    return ck.get("config") == cfg
