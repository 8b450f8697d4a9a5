"""The paper's experiment: QGP against its baselines on one network and one schedule, over seeds.

``python -m train compare`` (``make compare``) trains every row of a compare spec
(``train/configs/compare/<spec>.json``: a base training config, the schedule all rows share, the
seeds and the rows, each row differing only in the 3x3 convs after the first layer) once per seed,
plus the ``convergence`` rows again on a schedule ``factor`` times as long. Trainings run as
``--workers`` parallel processes (one torch thread each by default). Each integer run is exported
and evaluated with golden on the whole test set; per row, the bundle of the median seed is copied
to ``models/compare/<row>/`` and run through the RTL on ``regress_images`` test images
(``tb.regress``, 0 mismatches required). ``models/compare/compare.json`` is rewritten atomically
after every finished run, with a plot of mean accuracy +- std against weight bits.

Resumable: a run checkpoints every epoch in ``runs/compare/<row>/seed<k>/`` and continues from it;
a run whose ``result.json`` holds the same config is not redone. Model selection uses the
validation split held out of the training images (``train.val_images``); the test set is read
once per run, for its final figure.
"""
from __future__ import annotations

import copy
import json
import math
import shutil
import subprocess
import sys
import time
from pathlib import Path

from qgp.golden import atomic
from qgp.golden.configs import CONFIG_DIR, load_config
from qgp.golden.errors import QGPError

from .model import conv_kind, conv_weight_bits

SPEC_DIR = CONFIG_DIR / "compare"
ROOT = CONFIG_DIR.parent.parent
ROW_KEYS = ("name", "conv", "train", "note")


def _spec_path(name_or_path: str) -> Path:
    p = Path(name_or_path)
    if not p.suffix:
        p = SPEC_DIR / f"{name_or_path}.json"
    if not p.is_file():
        known = ", ".join(sorted(q.stem for q in SPEC_DIR.glob("*.json")))
        raise QGPError(str(p), "spec", f"no such compare spec (known: {known})")
    return p


def _read_spec(p: Path, chain=()) -> dict:
    """The spec in ``p`` with its ``from`` resolved: a spec may derive from another
    (``"from": "narrow"``): it takes that spec's keys and states only what differs (``train``
    merged key by key); ``schedule_factor`` (an integer >= 1, multiplied along the chain)
    scales the whole schedule of every row (``scaled_schedule``)."""
    try:
        spec = json.loads(p.read_text())
    except json.JSONDecodeError as e:
        raise QGPError(str(p), "spec", f"invalid JSON: {e}") from None
    if not isinstance(spec, dict):
        raise QGPError(str(p), "spec", "expected a JSON object")
    f = spec.get("schedule_factor", 1)
    if not isinstance(f, int) or isinstance(f, bool) or f < 1:
        raise QGPError(str(p), "schedule_factor", "expected an integer >= 1")
    if "from" not in spec:
        return spec
    if not isinstance(spec["from"], str) or not spec["from"]:
        raise QGPError(str(p), "from", "expected the name of another compare spec")
    q = _spec_path(spec["from"])
    if q.resolve() in chain or q.resolve() == p.resolve():
        raise QGPError(str(p), "from", f"{spec['from']!r} derives from this spec again (a cycle)")
    parent = _read_spec(q, chain + (p.resolve(),))
    merged = {**parent, **{k: v for k, v in spec.items() if k != "from"}}
    merged["train"] = {**parent.get("train", {}), **spec.get("train", {})}
    merged["schedule_factor"] = parent.get("schedule_factor", 1) * f
    return merged


def load_spec(name_or_path: str) -> dict:
    """A compare spec, validated: {"name", "base", "train", "rows": [{"name", "conv"?, "train"?}]}
    (``from`` resolved: ``_read_spec``)."""
    p = _spec_path(name_or_path)
    spec = _read_spec(p)
    for key in ("name", "base", "rows"):
        if key not in spec:
            raise QGPError(str(p), key, "missing")
    seeds = spec.setdefault("seeds", [0])
    if not isinstance(seeds, list) or not seeds or not all(isinstance(x, int) and x >= 0 for x in seeds) \
            or len(set(seeds)) != len(seeds):
        raise QGPError(str(p), "seeds", "expected a non-empty list of distinct non-negative integers")
    conv = spec.setdefault("convergence", {"rows": [], "factor": 2})
    if not isinstance(conv, dict) or not isinstance(conv.get("rows", []), list) \
            or not isinstance(conv.get("factor", 2), int) or conv.get("factor", 2) < 2:
        raise QGPError(str(p), "convergence", 'expected {"rows": [row names], "factor": integer >= 2}')
    cs = conv.setdefault("seeds", seeds[:1])
    if not isinstance(cs, list) or not cs or any(x not in seeds for x in cs) or len(set(cs)) != len(cs):
        raise QGPError(str(p), "convergence.seeds", f"expected a non-empty list of distinct seeds out of {seeds}")
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
    for name in conv.get("rows", []):
        if name not in seen:
            raise QGPError(str(p), "convergence.rows", f"no row {name!r}")
    rf = spec.setdefault("row_schedule_factor", {})
    if not isinstance(rf, dict):
        raise QGPError(str(p), "row_schedule_factor", 'expected {"row name": integer >= 1}')
    for name, f in rf.items():
        if name not in seen:
            raise QGPError(str(p), f"row_schedule_factor.{name}", f"no row {name!r}")
        if not isinstance(f, int) or isinstance(f, bool) or f < 1:
            raise QGPError(str(p), f"row_schedule_factor.{name}", "expected an integer >= 1")
    spec["_path"] = str(p)
    return spec


def row_config(spec: dict, row: dict) -> dict:
    """The training config of one row: the base config, the spec's schedule, the row's conv kind
    and tap-selection overrides (nothing else may differ), the schedule scaled by the spec's
    ``schedule_factor`` times the row's ``row_schedule_factor`` (a row that has not converged on
    the shared schedule is trained longer, the same recipe stretched)."""
    cfg = copy.deepcopy(load_config(spec["base"]))
    cfg["train"].update(copy.deepcopy(spec.get("train", {})))
    cfg["train"].update(copy.deepcopy(row.get("train", {})))
    cfg.pop("base", None)
    cfg["conv"] = row.get("conv", "qgp")
    f = spec.get("schedule_factor", 1) * spec.get("row_schedule_factor", {}).get(row["name"], 1)
    if f > 1:
        cfg = scaled_schedule(cfg, f)
    cfg["name"] = f"{spec['name']}-{row['name']}"
    return cfg


def scaled_schedule(cfg: dict, factor: int) -> dict:
    """The same recipe ``factor`` times as long: epochs and every epoch mark of the schedule scaled."""
    cfg = copy.deepcopy(cfg)
    t = cfg["train"]
    t["epochs"] = t["epochs"] * factor
    t["prune"]["at_epoch"] = [a * factor for a in t["prune"]["at_epoch"]]
    for k in ("binarize_epoch", "freeze_epoch"):
        if t.get(k) is not None:
            t[k] = t[k] * factor
    cfg["name"] = f"{cfg['name']}-x{factor}"
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


def mean_std(values: list) -> tuple:
    """Mean and sample standard deviation (n - 1; 0 for a single value)."""
    m = sum(values) / len(values)
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return m, sd


def median_seed(seeds: list) -> dict:
    """The run whose accuracy is the median of the seeds (the lower middle for an even count)."""
    return sorted(seeds, key=lambda s: (s["accuracy"], s["seed"]))[(len(seeds) - 1) // 2]


def differences(rows: list, ref: str = "qgp") -> list:
    """Each row's mean against the reference row's: the difference exceeds the spread when it is larger
    than the two standard deviations added."""
    by = {r["name"]: r for r in rows if r.get("seeds")}
    if ref not in by:
        return []
    q, out = by[ref], []
    for r in rows:
        if r["name"] == ref or not r.get("seeds"):
            continue
        d = r["accuracy"] - q["accuracy"]
        spread = r["accuracy_std"] + q["accuracy_std"]
        out.append({"row": r["name"], "minus": ref, "difference": round(d, 5), "spread": round(spread, 5),
                    "exceeds_spread": abs(d) > spread})
    return out


COLUMNS = {"accuracy": "mean test accuracy over the seeds, all test images: golden (integer) for exported rows, "
                       "torch fake-quant for float; accuracy_std is the sample standard deviation",
           "seeds": "one entry per training seed: its test accuracy (golden for integer rows)",
           "bundle": "the committed bundle of the median seed (bundle_seed), its golden accuracy bundle_accuracy",
           "weight_bits": "bits of every weight of the network as stored in the bundle / RTL "
                          "(binary: 2-bit conv_dense weights holding +-1)",
           "conv_bits_per_kernel": "bits per 3x3 kernel of the convs after the first layer",
           "convergence": "a row on the spec's schedule and on one `factor` times as long: accuracy and accuracy_2x "
                          "are means over the convergence seeds (per_seed lists each)",
           "differences": "each row's mean minus qgp's; exceeds_spread when |difference| > the two stds added"}


def write_results(path: Path, spec: dict, rows: dict, convergence: dict):
    order = [r["name"] for r in spec["rows"]]
    ordered = [rows[n] for n in order if n in rows]
    sp = Path(spec["_path"]).resolve()
    body = {"spec": spec["name"], "spec_file": str(sp.relative_to(ROOT)) if sp.is_relative_to(ROOT) else spec["_path"],
            "note": spec.get("note"), "seeds": spec["seeds"], "columns": COLUMNS, "rows": ordered,
            "convergence": convergence, "differences": differences(ordered)}
    atomic.write_text(path, json.dumps(body, indent=1) + "\n")


def plot(rows: list, png: Path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4))
    for r in rows:
        mk = "s" if r["name"] == "float" else ("*" if r["name"] == "qgp" else "o")
        ax.errorbar(r["weight_bits"], r["accuracy"], yerr=r.get("accuracy_std", 0), fmt=mk, capsize=3,
                    markersize=9 if mk == "*" else 6)
        ax.annotate(r["name"], (r["weight_bits"], r["accuracy"]), textcoords="offset points", xytext=(5, 4),
                    fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("weight memory of the network (bits, log scale)")
    ax.set_ylabel("test accuracy, mean +- std over seeds")
    ep = sorted({r["epochs"] for r in rows})
    ns = sorted({len(r.get("seeds", [])) for r in rows})
    ax.set_title(f"Fashion-MNIST, same network, {'/'.join(map(str, ep))} epochs, "
                 f"{'/'.join(map(str, ns))} seeds per row", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    tmp = png.with_name(png.stem + ".tmp.png")
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    tmp.replace(png)


def markdown_table(res: dict, spec: dict | None = None) -> str:
    """compare.json as the markdown table docs/RESULTS.md shows (qgp.results owns the rendering)."""
    from qgp.results import compare_table
    return "\n".join(compare_table(res, spec))


def regress(bundle: Path, n: int, jobs: int, out_json: Path) -> dict:
    out_json = Path(out_json).resolve()
    cmd = [sys.executable, "-m", "qgp.tb.regress", "--bundle", str(Path(bundle).resolve()), "--n", str(n),
           "--jobs", str(jobs), "--out", str(out_json), "--no-progress"]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if p.returncode not in (0, 1) or not out_json.is_file():
        tail = (p.stderr or p.stdout).strip().splitlines()[-1:] or ["no output"]
        raise QGPError(str(bundle), "regress", f"tb.regress failed (exit {p.returncode}): {tail[0]}")
    return json.loads(out_json.read_text())


class Run:
    """One training of the experiment: a row, a seed and a schedule factor, in its own folder."""

    def __init__(self, spec: dict, row: dict, seed: int, factor: int, runs: Path):
        self.row, self.seed, self.factor = row["name"], seed, factor
        cfg = row_config(spec, row)
        self.cfg = cfg if factor == 1 else scaled_schedule(cfg, factor)
        self.dir = runs / self.row / (f"seed{seed}" if factor == 1 else f"seed{seed}-x{factor}")
        self.integer = self.cfg["conv"] != "float"

    @property
    def label(self):
        return f"{self.row} seed {self.seed}" + ("" if self.factor == 1 else f" (schedule x{self.factor})")

    def result(self):
        p = self.dir / "result.json"
        if not p.is_file():
            return None
        r = json.loads(p.read_text())
        # the same training whatever the spec calls it (a spec derived with schedule_factor
        # reuses its parent's factor-x runs)
        same = {k: v for k, v in (r.get("config") or {}).items() if k != "name"} == \
            {k: v for k, v in self.cfg.items() if k != "name"}
        return r if same else None

    def command(self, device, threads, limit_batches):
        self.dir.mkdir(parents=True, exist_ok=True)
        atomic.write_text(self.dir / "config.json", json.dumps(self.cfg, indent=1) + "\n")
        cmd = [sys.executable, "-m", "train", "train", "--config", str((self.dir / "config.json").resolve()),
               "--out", str(self.dir.resolve()), "--seed", str(self.seed), "--resume", "--device", device]
        if threads:
            cmd += ["--threads", str(threads)]
        if limit_batches:
            cmd += ["--limit-batches", str(limit_batches)]
        return cmd

    def finish(self, data_dir=None) -> dict:
        """Export (integer rows) and evaluate the finished training; writes result.json."""
        import torch
        ck = torch.load(self.dir / "final.pt", map_location="cpu", weights_only=False)
        s = ck["summary"]
        rec = {"seed": self.seed, "factor": self.factor, "torch_accuracy": s["final_float_test_acc"],
               "val_accuracy": s.get("final_val_acc"), "selected_epoch": s.get("selected_epoch"),
               "train_seconds": s.get("train_seconds"), "epochs": s.get("epochs"), "validation": s.get("validation")}
        if self.integer:
            from .export import export_run
            export_run(self.dir, self.dir / "bundle", data_dir=data_dir)
            acc = json.loads((self.dir / "bundle" / "model.json").read_text())["accuracy"]
            rec.update(accuracy=acc["golden"], images=acc["images"], accuracy_source="golden")
        else:
            from qgp.golden import datasets
            rec.update(accuracy=s["final_float_test_acc"], accuracy_source="torch",
                       images=int(len(datasets.load(self.cfg["dataset"], "test", data_dir)[1])))
        rec["config"] = self.cfg
        atomic.write_text(self.dir / "result.json", json.dumps(rec, indent=1) + "\n")
        return rec


def _row_record(spec, row, runs_done, prev):
    cfg = row_config(spec, row)
    seeds = [{"seed": r["seed"], "accuracy": r["accuracy"], "torch_accuracy": r["torch_accuracy"],
              "val_accuracy": r["val_accuracy"], "selected_epoch": r["selected_epoch"],
              "train_seconds": r["train_seconds"]} for r in runs_done]
    m, sd = mean_std([s["accuracy"] for s in seeds])
    first = runs_done[0]
    rec = {"name": row["name"], "conv": cfg["conv"], "note": row.get("note"), "spec": spec["name"],
           "epochs": cfg["train"]["epochs"], "images": first["images"], "accuracy": round(m, 6),
           "accuracy_std": round(sd, 6), "accuracy_source": first["accuracy_source"], "seeds": seeds,
           "validation": first.get("validation"), "weight_bits": weight_memory_bits(cfg),
           "conv_bits_per_kernel": conv_weight_bits(cfg), "bundle": None}
    if cfg["conv"] != "float" and len(seeds) == len(spec["seeds"]):
        med = median_seed(seeds)
        rec.update(bundle_seed=med["seed"], bundle_accuracy=med["accuracy"])
        if prev and prev.get("bundle_seed") == med["seed"] and prev.get("bundle_accuracy") == med["accuracy"]:
            rec["bundle"], rec["regress"] = prev.get("bundle"), prev.get("regress")
    return rec


def run_compare(spec_name="narrow", out="models/compare", runs="runs/compare", only=None, train_only=False,
                no_train=False, device="auto", threads=1, workers=1, jobs=2, data_dir=None,
                png="docs/img/compare.png", regress_images=None, limit_batches=None, log=print):
    """Train (``workers`` in parallel) / export / evaluate every run not yet done, then commit the median
    seed's bundle of each integer row and run it through the RTL; returns the compare.json body."""
    spec = load_spec(spec_name)
    out, runs = Path(out), Path(runs)
    res_path = out / "compare.json"
    names = [r["name"] for r in spec["rows"]]
    if only:
        bad = [n for n in only if n not in names]
        if bad:
            raise QGPError(spec["_path"], "rows", f"no row {bad[0]!r} (rows: {', '.join(names)})")
    prev = read_results(res_path)
    prev_rows = {r["name"]: r for r in prev.get("rows", [])} if prev.get("spec") == spec["name"] else {}
    factor = spec["convergence"].get("factor", 2)
    todo = []
    for row in spec["rows"]:
        if only and row["name"] not in only:
            continue
        todo += [Run(spec, row, s, 1, runs) for s in spec["seeds"]]
        if row["name"] in spec["convergence"].get("rows", []):
            todo += [Run(spec, row, s, factor, runs) for s in spec["convergence"]["seeds"]]
    results = {}

    def publish():
        rows = dict(prev_rows)
        for row in spec["rows"]:
            done = [results[(row["name"], s, 1)] for s in spec["seeds"] if (row["name"], s, 1) in results]
            if done:
                rows[row["name"]] = _row_record(spec, row, done, prev_rows.get(row["name"]))
        conv = {}
        for name in spec["convergence"].get("rows", []):
            conv_seeds = spec["convergence"]["seeds"]
            pairs = [(results.get((name, s, 1)), results.get((name, s, factor))) for s in conv_seeds]
            if all(a and b for a, b in pairs):
                acc = round(sum(a["accuracy"] for a, _ in pairs) / len(pairs), 5)
                acc2 = round(sum(b["accuracy"] for _, b in pairs) / len(pairs), 5)
                conv[name] = {"seeds": conv_seeds, "epochs": pairs[0][0]["epochs"], "accuracy": acc,
                              "epochs_2x": pairs[0][1]["epochs"], "accuracy_2x": acc2,
                              "difference": round(acc2 - acc, 5),
                              "per_seed": [{"seed": s, "accuracy": a["accuracy"], "accuracy_2x": b["accuracy"]}
                                           for s, (a, b) in zip(conv_seeds, pairs)]}
        # a row's convergence figure from an earlier run of the same spec stands until this run has its own
        prev_conv = prev.get("convergence", {}) if prev.get("spec") == spec["name"] else {}
        conv = {n: conv.get(n, prev_conv.get(n)) for n in spec["convergence"].get("rows", [])
                if n in conv or n in prev_conv}
        write_results(res_path, spec, rows, conv)
        plot([r for r in rows.values() if r.get("seeds")], Path(png))
        return rows

    pending = []
    for run in todo:
        r = run.result()
        if r:
            results[(run.row, run.seed, run.factor)] = r
            log(f"{run.label}: done ({r['accuracy']:.4f}), skipped")
        elif (run.dir / "final.pt").is_file() and not train_only:
            _finish(run, results, data_dir, log)
        elif no_train:
            log(f"{run.label}: not trained yet ({run.dir}), skipped (--no-train)")
        else:
            pending.append(run)
    # longest schedules first, so the parallel workers end together
    pending.sort(key=lambda r: -r.factor)
    active = []
    while pending or active:
        while pending and len(active) < max(1, workers):
            run = pending.pop(0)
            run.dir.mkdir(parents=True, exist_ok=True)
            logf = open(run.dir / "train.log", "a")
            log(f"{run.label}: training {run.cfg['train']['epochs']} epochs into {run.dir} (conv {run.cfg['conv']})")
            active.append((run, subprocess.Popen(run.command(device, threads, limit_batches), cwd=ROOT,
                                                 stdout=logf, stderr=subprocess.STDOUT), logf))
        time.sleep(0.5)
        for item in list(active):
            run, proc, logf = item
            if proc.poll() is None:
                continue
            active.remove(item)
            logf.close()
            if proc.returncode != 0:
                tail = (run.dir / "train.log").read_text().strip().splitlines()[-1:] or ["no output"]
                for _, p, _ in active:
                    p.terminate()
                raise QGPError(str(run.dir), "train", f"{run.label} failed (exit {proc.returncode}): {tail[0]}")
            if not train_only:
                _finish(run, results, data_dir, log)
                publish()
    if train_only:
        return read_results(res_path)
    rows = publish()
    n_reg = int(regress_images or spec.get("regress_images", 200))
    failed = []
    for row in spec["rows"]:
        rec = rows.get(row["name"])
        if (only and row["name"] not in only) or not rec or "bundle_seed" not in rec:
            continue
        bdir = out / row["name"]
        src = runs / row["name"] / f"seed{rec['bundle_seed']}" / "bundle"
        if rec.get("regress") and rec["regress"].get("mismatches") == 0 and _bundle_accuracy(bdir) == rec["bundle_accuracy"]:
            log(f"{row['name']}: bundle of seed {rec['bundle_seed']} in {bdir}, RTL done, skipped")
            continue
        if _bundle_accuracy(bdir) != rec["bundle_accuracy"]:
            if not src.is_dir():
                raise QGPError(str(src), "bundle", f"{row['name']}: the median seed's bundle is missing; rerun it")
            tmp = bdir.with_name(bdir.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.copytree(src, tmp)
            shutil.rmtree(bdir, ignore_errors=True)
            tmp.rename(bdir)
        rec["bundle"] = str(bdir)
        _regress_row(rec, bdir, n_reg, jobs, failed, log)
        prev_rows[row["name"]] = rec
        rows = publish()
    if failed:
        raise QGPError(str(res_path), "regress", f"RTL mismatches in rows {', '.join(failed)}")
    return read_results(res_path)


def _finish(run: Run, results: dict, data_dir, log):
    r = run.finish(data_dir)
    results[(run.row, run.seed, run.factor)] = r
    log(f"{run.label}: accuracy {r['accuracy']:.4f} ({r['accuracy_source']}, {r['images']} images)")


def _bundle_accuracy(bdir: Path):
    mj = bdir / "model.json"
    return json.loads(mj.read_text()).get("accuracy", {}).get("golden") if mj.is_file() else None


def _regress_row(rec: dict, bdir: Path, n_reg: int, jobs: int, failed: list, log):
    """RTL == golden on ``n_reg`` images, with the default folding plan (``make regress``'s)."""
    name = rec["name"]
    log(f"{name}: RTL regression of seed {rec['bundle_seed']}'s bundle on {n_reg} images ...")
    t0 = time.time()
    g = regress(bdir, n_reg, jobs, Path("build") / "compare" / f"regress-{name}.json")
    rec["regress"] = {"images": g["images"], "mismatches": g["mismatches"],
                      "cycles_per_image": g.get("cycles_per_image"), "folding": g.get("folding"),
                      "seconds": round(time.time() - t0, 1)}
    if g["mismatches"]:
        failed.append(name)
        log(f"{name}: RTL != golden on {g['mismatches']} of {g['images']} images")
