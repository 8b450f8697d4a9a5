"""The compare experiment (train/compare.py): each baseline's quantizer does what it says, the
ablations' taps stay where they were put, every integer row exports to a bundle that golden and
the torch integer path agree on, conv_dense after the first layer runs on the RTL with 0
mismatches, the validation split, and the `python -m train compare` driver on a tiny spec."""
import copy
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from qgp.golden import bundle as gbundle
from qgp.golden import model as gmodel
from qgp.golden.errors import QGPError
from qgp.train import compare as tcompare
from qgp.train import export as texport
from qgp.train.model import BinaryConv, DenseConv, FloatConv, QGPConv, QGPNet
from qgp.train.run import split_validation, train

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
ROWS = ("int8", "binary", "qgp-random", "qgp-center", "qgp-oneshot")


def tiny_spec(tmp_path, rows=None, regress_images=8):
    """The shipped short spec's rows on the tiny network and a 2-epoch schedule."""
    spec = json.loads((tcompare.SPEC_DIR / "short.json").read_text())
    spec.update(name="tiny-compare", base="tiny", regress_images=regress_images,
                train={"epochs": 2, "prune": {"keep": [9, 3, 1], "at_epoch": [0, 0.5, 1.0]},
                       "binarize_epoch": 1.2, "freeze_epoch": 1.8, "val_images": 1000, "val_seed": 0})
    if rows:
        spec["rows"] = [r for r in spec["rows"] if r["name"] in rows]
    p = tmp_path / "tiny-compare.json"
    p.write_text(json.dumps(spec))
    return p


# ---------------------------------------------------------------------------- quantizers

def test_int8_weights_take_255_levels_per_channel():
    torch.manual_seed(1)
    conv = DenseConv(6, 5, 8)
    q = conv.qweight().detach() / conv.wscale().view(-1, 1, 1, 1)
    assert torch.allclose(q, q.round(), atol=1e-4)
    q = q.round()
    assert q.abs().max() <= 127 and (q.abs().amax(dim=(1, 2, 3)) == 127).all()  # per-channel scale
    w, s = conv.integer_form()
    assert w.dtype == torch.int64 and torch.equal(w, q.long())
    assert torch.allclose(w.double() * s.view(-1, 1, 1, 1), conv.qweight().detach().double(), atol=1e-6)


def test_binary_is_float_until_binarized_then_sign_times_channel_mean():
    torch.manual_seed(2)
    conv = BinaryConv(4, 3)
    x = torch.randn(2, 4, 5, 5)
    assert torch.allclose(conv(x), F.conv2d(x, conv.weight, padding=1))
    conv.binarized.fill_(True)
    w = conv.weight.detach()
    alpha = w.abs().mean(dim=(1, 2, 3))
    want = torch.where(w >= 0, 1.0, -1.0) * alpha.view(-1, 1, 1, 1)
    assert torch.allclose(conv.effective_weight().detach(), want)
    assert torch.allclose(conv(x), F.conv2d(x, want, padding=1), atol=1e-5)
    wi, a = conv.integer_form()
    assert set(wi.unique().tolist()) == {-1, 1} and torch.allclose(a.float(), alpha)
    conv(x).sum().backward()  # straight-through: the float weights still learn
    assert conv.weight.grad is not None and conv.weight.grad.abs().sum() > 0


def test_fixed_tap_selections_and_prune_never_moves_them():
    torch.manual_seed(3)
    center = QGPConv(8, 6, "center")
    m = center.mask.reshape(6, 8, 9)
    assert (m.sum(2) == 1).all() and (m[:, :, 4] == 1).all()
    rnd = QGPConv(8, 6, "random")
    r = rnd.mask.reshape(6, 8, 9)
    assert (r.sum(2) == 1).all() and len(set(r.argmax(2).flatten().tolist())) > 3
    before = rnd.mask.clone()
    with torch.no_grad():
        rnd.weight.copy_(torch.randn_like(rnd.weight))
    for k in (9, 5, 1):
        rnd.prune_to(k)
        assert torch.equal(rnd.mask, before)
    with pytest.raises(ValueError, match="tap select"):
        QGPConv(2, 2, "corner")


def test_float_conv_has_no_integer_form_and_float_net_is_not_exported(tmp_path):
    cfg = tcompare.row_config(tcompare.load_spec(tiny_spec(tmp_path)), {"name": "float", "conv": "float"})
    net = QGPNet(cfg)
    assert all(isinstance(b.conv, FloatConv) for b in net.blocks[1:]) and isinstance(net.blocks[0].conv, DenseConv)
    assert not net.exportable()
    with pytest.raises(ValueError):
        net.blocks[1].conv.integer_form()


def test_validation_split_is_fixed_disjoint_and_sized():
    x = torch.arange(100).view(100, 1, 1, 1)
    y = torch.arange(100)
    xt, yt, xv, yv, rec = split_validation(x, y, {"val_images": 20, "val_seed": 5})
    assert len(xv) == 20 and len(xt) == 80 and rec["images"] == 20 and rec["of"] == 100
    assert not set(yv.tolist()) & set(yt.tolist()) and set(yv.tolist()) | set(yt.tolist()) == set(range(100))
    assert torch.equal(split_validation(x, y, {"val_images": 20, "val_seed": 5})[3], yv)
    assert not torch.equal(split_validation(x, y, {"val_images": 20, "val_seed": 6})[3], yv)
    assert split_validation(x, y, {})[4] is None


def test_a_derived_spec_is_its_parent_scaled(tmp_path):
    """narrow20 states only what differs from narrow ("from", "schedule_factor": 2): every row's
    config is narrow's with the whole schedule doubled; a cycle or a bad factor is one error line."""
    a, b = tcompare.load_spec("narrow"), tcompare.load_spec("narrow20")
    assert [r["name"] for r in a["rows"]] == [r["name"] for r in b["rows"]] and a["seeds"] == b["seeds"]
    for ra, rb in zip(a["rows"], b["rows"]):
        want = tcompare.scaled_schedule(tcompare.row_config(a, ra), 2)
        got = tcompare.row_config(b, rb)
        want.pop("name"), got.pop("name")
        assert got == want, ra["name"]
    (tmp_path / "x.json").write_text(json.dumps({"from": str(tmp_path / "y.json"), "name": "x"}))
    (tmp_path / "y.json").write_text(json.dumps({"from": str(tmp_path / "x.json"), "name": "y"}))
    with pytest.raises(QGPError, match="cycle"):
        tcompare.load_spec(str(tmp_path / "x.json"))
    (tmp_path / "z.json").write_text(json.dumps({"from": "narrow", "name": "z", "schedule_factor": 0}))
    with pytest.raises(QGPError, match="schedule_factor"):
        tcompare.load_spec(str(tmp_path / "z.json"))


def test_row_schedule_factor_stretches_one_rows_schedule(tmp_path):
    a = tcompare.load_spec("narrow")
    (tmp_path / "r.json").write_text(json.dumps({"from": "narrow", "name": "r", "row_schedule_factor": {"float": 2}}))
    b = tcompare.load_spec(str(tmp_path / "r.json"))
    for ra, rb in zip(a["rows"], b["rows"]):
        want = tcompare.row_config(a, ra)
        if ra["name"] == "float":
            want = tcompare.scaled_schedule(want, 2)
        got = tcompare.row_config(b, rb)
        want.pop("name"), got.pop("name")
        assert got == want, ra["name"]
    for bad, field in (({"nosuch": 2}, "row_schedule_factor.nosuch"), ({"float": 0}, "row_schedule_factor.float"),
                       ([2], "row_schedule_factor")):
        (tmp_path / "x.json").write_text(json.dumps({"from": "narrow", "name": "x", "row_schedule_factor": bad}))
        with pytest.raises(QGPError) as e:
            tcompare.load_spec(str(tmp_path / "x.json"))
        assert e.value.field == field


def test_shipped_specs_differ_only_in_the_3x3_convs():
    for name in ("narrow", "short", "full"):
        spec = tcompare.load_spec(name)
        names = [r["name"] for r in spec["rows"]]
        assert names[:1] == ["qgp"] and set(names) == {"float", "int8", "binary", "qgp", "qgp-random",
                                                       "qgp-center", "qgp-oneshot"}
        ref = tcompare.row_config(spec, spec["rows"][0])
        assert ref["train"]["val_images"] == 5000
        for row in spec["rows"]:
            cfg = tcompare.row_config(spec, row)
            a, b = copy.deepcopy(cfg), copy.deepcopy(ref)
            for c in (a, b):
                c.pop("conv"), c.pop("name"), c["train"].pop("prune")
            assert a == b, row["name"]  # network, activations, augmentation, optimizer, schedule
            if cfg["conv"] != "qgp":
                assert cfg["train"]["prune"] == ref["train"]["prune"]
    full = tcompare.row_config(tcompare.load_spec("full"), {"name": "qgp"})
    for name in ("short", "narrow"):
        short = tcompare.row_config(tcompare.load_spec(name), {"name": "qgp"})
        # the CPU schedules are the full one compressed in proportion to the epochs
        f = full["train"]["epochs"] / short["train"]["epochs"]
        for key in ("binarize_epoch", "freeze_epoch"):
            assert short["train"][key] * f == pytest.approx(full["train"][key])
        assert [e * f for e in short["train"]["prune"]["at_epoch"]] == pytest.approx(full["train"]["prune"]["at_epoch"])
    # the narrow network keeps the shipped depth and pools; its convergence run is the full schedule
    narrow, shipped = tcompare.load_spec("narrow"), tcompare.row_config(tcompare.load_spec("full"), {"name": "qgp"})
    n = tcompare.row_config(narrow, {"name": "qgp"})
    assert [bool(L.get("pool")) for L in n["layers"]] == [bool(L.get("pool")) for L in shipped["layers"]]
    assert len(narrow["seeds"]) >= 3 and set(narrow["convergence"]["rows"]) == {"qgp", "float"}
    x2 = tcompare.scaled_schedule(n, narrow["convergence"]["factor"])["train"]
    assert {k: x2[k] for k in ("epochs", "binarize_epoch", "freeze_epoch", "prune")} == \
        {k: full["train"][k] for k in ("epochs", "binarize_epoch", "freeze_epoch", "prune")}


# ---------------------------------------------------------------------------- short real runs

@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("cmp")
    spec = tcompare.load_spec(tiny_spec(d))
    out = {}
    for row in spec["rows"]:
        if row["name"] not in ROWS:
            continue
        cfg = tcompare.row_config(spec, row)
        torch.manual_seed(0)  # train() seeds the same way: the network as initialised
        init = QGPNet(cfg)
        model = train(cfg, d / row["name"], limit_batches=4, quiet=True, threads=1)
        out[row["name"]] = (cfg, init, model, d / row["name"])
    return out


def test_ablation_taps_are_where_they_were_put(runs):
    for name in ("qgp-random", "qgp-center"):
        cfg, init, model, _ = runs[name]
        for c0, c1 in zip(init.qgp_convs(), model.qgp_convs()):
            assert torch.equal(c0.mask, c1.mask), name  # chosen at init and kept
            assert bool(c1.binarized)
        if name == "qgp-center":
            assert all((c.mask.reshape(-1, 9)[:, 4] == 1).all() for c in model.qgp_convs())
    cfg, init, model, d = runs["qgp-oneshot"]
    log = json.loads((d / "log.json").read_text())
    assert log[0]["taps_kept"] == 1  # one tap from epoch 0 on
    for c0, c1 in zip(init.qgp_convs(), model.qgp_convs()):
        co, ci = c0.out_channels, c0.in_channels
        want = c0.weight.detach().abs().reshape(co, ci, 9).argmax(2)  # magnitudes at initialization
        assert torch.equal(c1.mask.reshape(co, ci, 9).argmax(2), want)


def test_history_uses_validation_and_test_is_read_once(runs):
    cfg, _, _, d = runs["int8"]
    log = json.loads((d / "log.json").read_text())
    assert all("val_acc" in h and "test_acc" not in h for h in log)
    s = torch.load(d / "final.pt", weights_only=False)["summary"]
    assert s["validation"]["images"] == 1000 and s["validation"]["of"] == 60000
    best = max((h for h in log), key=lambda h: h["val_acc"])
    assert s["selected_epoch"] == best["epoch"]
    assert 0 <= s["final_val_acc"] <= 1 and 0 <= s["final_float_test_acc"] <= 1


@pytest.mark.parametrize("row", ROWS)
def test_integer_row_exports_and_torch_int_equals_golden(runs, row, tmp_path):
    cfg, _, model, d = runs[row]
    acc = texport.export_run(d, tmp_path / "b", check_images=32)
    b = gbundle.load_bundle(tmp_path / "b")
    assert b.meta["accuracy"] == {"golden": acc, "images": 10000, "dataset": "fmnist"}
    assert b.meta["training"]["validation"]["images"] == 1000
    types = [L["type"] for L in b.layers]
    want = {"int8": "conv_dense", "binary": "conv_dense"}.get(row, "conv_qgp")
    assert types == ["conv_dense"] + [want] * (len(cfg["layers"]) - 1) + ["gsum_fc"]
    if row in ("int8", "binary"):
        for L in b.layers[1:-1]:
            assert L["wbits"] == {"int8": 8, "binary": 2}[row] and L["in_bits"] == cfg["abits"]
            if row == "binary":
                assert set(np.unique(L["weight"]).tolist()) == {-1, 1}
    x = __import__("qgp.golden.datasets", fromlist=["load"]).load("fmnist", "test")[0][:48]
    acts, logits = texport.int_forward(b.layers, x, cfg["abits"])
    g = gmodel.run(b, x)
    assert np.array_equal(logits.numpy(), g.logits)
    for i, a in enumerate(acts[1:]):
        assert np.array_equal(a.numpy(), g.activations[i + 1])
    # the row's weight bits are the bundle's, as golden counts them
    head = b.layers[-1]
    bits = sum(gbundle.weight_memory_bits(L)[0] for L in b.layers[:-1]) + head["weight"].size * head["wbits"]
    assert tcompare.weight_memory_bits(cfg) == bits


def test_binary_conv_dense_after_the_first_layer_runs_on_rtl(runs, tmp_path):
    _, _, _, d = runs["binary"]
    texport.export_run(d, tmp_path / "b", check_images=16)
    out = tmp_path / "regress.json"
    p = subprocess.run([PY, "-m", "tb.regress", "--bundle", str(tmp_path / "b"), "--n", "16", "--jobs", "1",
                        "--out", str(out), "--no-progress"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    r = json.loads(out.read_text())
    assert r["images"] == 16 and r["mismatches"] == 0
    assert [l["module"] for l in r["layers"]][:3] == ["conv_layer"] * 3


# ---------------------------------------------------------------------------- the driver

def test_compare_driver_seeds_convergence_median_bundle_resume_and_bad_specs(tmp_path):
    spec_path = tiny_spec(tmp_path, rows=("float", "int8"), regress_images=8)
    spec = json.loads(spec_path.read_text())
    spec.update(seeds=[0, 1], convergence={"rows": ["float"], "factor": 2, "seeds": [0, 1]})
    spec_path.write_text(json.dumps(spec))
    args = ["-m", "train", "compare", "--spec", str(spec_path), "--out", str(tmp_path / "models"), "--runs",
            str(tmp_path / "runs"), "--plot", str(tmp_path / "c.png"), "--threads", "1", "--jobs", "1",
            "--workers", "2", "--limit-batches", "3"]
    p = subprocess.run([PY, *args], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert p.returncode == 0, p.stderr[-2000:]
    res = json.loads((tmp_path / "models" / "compare.json").read_text())
    rows = {r["name"]: r for r in res["rows"]}
    assert set(rows) == {"float", "int8"} and res["spec"] == "tiny-compare" and res["seeds"] == [0, 1]
    for r in rows.values():
        accs = [s["accuracy"] for s in r["seeds"]]
        assert [s["seed"] for s in r["seeds"]] == [0, 1] and r["images"] == 10000 and r["epochs"] == 2
        assert abs(r["accuracy"] - float(np.mean(accs))) < 1e-6
        assert abs(r["accuracy_std"] - float(np.std(accs, ddof=1))) < 1e-6
        assert r["validation"]["images"] == 1000
    assert rows["float"]["accuracy_source"] == "torch" and rows["float"]["bundle"] is None
    assert not (tmp_path / "models" / "float").exists()
    # the integer row's committed bundle is its median seed's (lower middle of two) and ran on the RTL
    i8 = rows["int8"]
    med = sorted(i8["seeds"], key=lambda s: (s["accuracy"], s["seed"]))[0]
    assert i8["bundle_seed"] == med["seed"] and i8["bundle_accuracy"] == med["accuracy"]
    b = gbundle.load_bundle(tmp_path / "models" / "int8")
    assert b.meta["accuracy"]["golden"] == i8["bundle_accuracy"]
    assert i8["regress"]["images"] == 8 and i8["regress"]["mismatches"] == 0
    conv = res["convergence"]["float"]
    assert conv["epochs"] == 2 and conv["epochs_2x"] == 4
    # the convergence figures are means over both seeds, each seed trained on both schedules
    assert conv["seeds"] == [0, 1] and [p["seed"] for p in conv["per_seed"]] == [0, 1]
    assert conv["accuracy"] == pytest.approx(rows["float"]["accuracy"], abs=1e-5)
    x2 = [json.loads((tmp_path / "runs" / "float" / f"seed{s}-x2" / "result.json").read_text()) for s in (0, 1)]
    assert [p["accuracy_2x"] for p in conv["per_seed"]] == [x["accuracy"] for x in x2]
    assert conv["accuracy_2x"] == pytest.approx((x2[0]["accuracy"] + x2[1]["accuracy"]) / 2, abs=1e-5)
    assert x2[0]["config"]["train"]["binarize_epoch"] == 2.4
    assert [d["row"] for d in res["differences"]] == [] or all("exceeds_spread" in d for d in res["differences"])
    assert (tmp_path / "c.png").stat().st_size > 1000
    # a second run redoes nothing: 6 runs and the int8 RTL check are skipped
    p = subprocess.run([PY, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0 and p.stdout.count("skipped") == 7, p.stdout + p.stderr[-1000:]
    assert json.loads((tmp_path / "models" / "compare.json").read_text()) == res
    # user errors: one line, exit 2, nothing written
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "x", "base": "tiny", "rows": [{"name": "a", "conv": "int99"}]}))
    seeds = tmp_path / "seeds.json"
    seeds.write_text(json.dumps({"name": "x", "base": "tiny", "seeds": [0, 0], "rows": [{"name": "a"}]}))
    cseeds = tmp_path / "cseeds.json"
    cseeds.write_text(json.dumps({"name": "x", "base": "tiny", "seeds": [0, 1], "rows": [{"name": "a"}],
                                  "convergence": {"rows": ["a"], "seeds": [5]}}))
    for spec_arg, needle in ((str(bad), "rows[0].conv"), ("nosuch", "no such compare spec"), (str(seeds), "seeds"),
                             (str(cseeds), "convergence.seeds")):
        p = subprocess.run([PY, "-m", "train", "compare", "--spec", spec_arg, "--out", str(tmp_path / "o2")],
                           cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert p.returncode == 2 and needle in p.stderr and "Traceback" not in p.stderr
        assert len(p.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o2").exists()


def test_mean_std_median_and_differences():
    assert tcompare.mean_std([0.8, 0.9]) == (pytest.approx(0.85), pytest.approx(0.0707107, abs=1e-6))
    assert tcompare.mean_std([0.5]) == (0.5, 0.0)
    seeds = [{"seed": 0, "accuracy": 0.9}, {"seed": 1, "accuracy": 0.7}, {"seed": 2, "accuracy": 0.8}]
    assert tcompare.median_seed(seeds)["seed"] == 2
    rows = [{"name": "qgp", "seeds": [1], "accuracy": 0.80, "accuracy_std": 0.01},
            {"name": "int8", "seeds": [1], "accuracy": 0.85, "accuracy_std": 0.01},
            {"name": "qgp-random", "seeds": [1], "accuracy": 0.79, "accuracy_std": 0.01}]
    d = {x["row"]: x for x in tcompare.differences(rows)}
    assert d["int8"]["exceeds_spread"] and not d["qgp-random"]["exceeds_spread"]
    assert d["int8"]["difference"] == pytest.approx(0.05) and d["int8"]["spread"] == pytest.approx(0.02)


@pytest.mark.parametrize("name", ["cifar10", "cifar100", "svhn"])
def test_gpu_recipes_keep_the_fmnist_proportions(name):
    from qgp.train.run import load_config
    fm, t = load_config("fmnist")["train"], load_config(name)["train"]
    f = t["epochs"] / fm["epochs"]
    # pruning, binarization and freezing at the same fractions of the run as the shipped recipe:
    # no more than 15% of the epochs with frozen taps and signs
    assert t["freeze_epoch"] == pytest.approx(fm["freeze_epoch"] * f, abs=0.01)
    assert (t["epochs"] - t["freeze_epoch"]) / t["epochs"] <= 0.15 + 1e-9
    assert t["binarize_epoch"] == pytest.approx(fm["binarize_epoch"] * f, abs=0.01)
    assert t["prune"]["at_epoch"] == pytest.approx([e * f for e in fm["prune"]["at_epoch"]], abs=0.01)
    assert t["val_images"] == 5000
    assert t["augment"]["hflip"] is (name != "svhn")  # mirrored digits are other glyphs


def test_convergence_of_another_spec_is_not_carried_over(tmp_path):
    # compare.json written by another spec: its convergence figures must not stand for this one
    out = tmp_path / "models"
    out.mkdir()
    (out / "compare.json").write_text(json.dumps({"spec": "other", "rows": [], "convergence": {
        "qgp": {"seed": 0, "epochs": 10, "accuracy": 0.7, "epochs_2x": 20, "accuracy_2x": 0.8, "difference": 0.1}}}))
    spec = tiny_spec(tmp_path, rows=("float",))
    res = tcompare.run_compare(str(spec), out=str(out), runs=str(tmp_path / "runs"), no_train=True,
                               png=str(tmp_path / "c.png"), log=lambda *a: None)
    assert json.loads((out / "compare.json").read_text())["convergence"] == {}
    assert res is not None


def test_a_rows_convergence_stands_when_other_rows_are_redone(tmp_path):
    # compare.json of the same spec holds qgp's convergence; a run of --rows float that finishes
    # float's own convergence pair adds it and keeps qgp's
    out, runs = tmp_path / "models", tmp_path / "runs"
    out.mkdir()
    qgp = {"seeds": [0], "epochs": 2, "accuracy": 0.7, "epochs_2x": 4, "accuracy_2x": 0.701, "difference": 0.001}
    (out / "compare.json").write_text(json.dumps({"spec": "tiny-compare", "rows": [], "convergence": {"qgp": qgp}}))
    path = tiny_spec(tmp_path, rows=("qgp", "float"))
    path.write_text(json.dumps({**json.loads(path.read_text()), "seeds": [0],
                                "convergence": {"rows": ["qgp", "float"], "factor": 2, "seeds": [0]}}))
    spec = tcompare.load_spec(str(path))
    row = next(r for r in spec["rows"] if r["name"] == "float")
    for f, acc in ((1, 0.8), (2, 0.81)):  # float's finished runs, as the driver writes them
        run = tcompare.Run(spec, row, 0, f, runs)
        run.dir.mkdir(parents=True)
        (run.dir / "result.json").write_text(json.dumps(
            {"seed": 0, "factor": f, "accuracy": acc, "torch_accuracy": acc, "val_accuracy": acc,
             "selected_epoch": 2 * f, "train_seconds": 1.0, "epochs": 2 * f, "images": 10000,
             "accuracy_source": "torch", "config": run.cfg}))
    tcompare.run_compare(str(path), out=str(out), runs=str(runs), no_train=True, only=["float"],
                         png=str(tmp_path / "c.png"), log=lambda *a: None)
    conv = json.loads((out / "compare.json").read_text())["convergence"]
    assert conv["qgp"] == qgp
    assert (conv["float"]["accuracy"], conv["float"]["accuracy_2x"], conv["float"]["epochs_2x"]) == (0.8, 0.81, 4)
