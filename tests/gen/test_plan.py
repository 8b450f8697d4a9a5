"""rtl.gen.plan: the one folding plan (defaults, overrides, one-line errors) and its record in
qgp_net.json; the layer simulation folds a layer exactly as the generated network does."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qgp.golden.bundle import load_bundle
from qgp.golden.errors import QGPError
from qgp.rtl.gen.plan import LEAF_BUDGET, FoldingError, folding_plan, lane_leaves, parse_spec
from qgp.rtl.gen.top import generate

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "models" / "fmnist"


@pytest.fixture(scope="module")
def shipped():
    return load_bundle(str(SHIPPED))


def _rate_matched_fold(co, rate_div):
    # the largest divisor of CO not above the rate ratio, from the definition
    return max(f for f in range(1, co + 1) if co % f == 0 and f <= rate_div)


def test_default_is_rate_matched(shipped):
    plan = folding_plan(shipped)
    assert [p["name"] for p in plan] == [L["name"] for L in shipped.layers]
    rate = 1
    for p, L in zip(plan, shipped.layers):
        if L["type"] == "gsum_fc":
            assert (p["pe"], p["fold"]) == (1, 1)
            continue
        co = int(L["out_channels"])
        assert p["rate_div"] == rate
        assert p["fold"] == _rate_matched_fold(co, rate)
        assert p["pe"] * p["fold"] == co
        rate *= 4 if L.get("pool") else 1


def test_default_caps_wide_dense_layers():
    """An int8 network of the shipped widths (tests/gen/data: a trained compare row): dense 8-bit layers
    after conv0 would be up to 166k leaves rate-matched; the default folds each to the largest PE
    within LEAF_BUDGET (or 1)."""
    b = load_bundle(str(Path(__file__).resolve().parent / "data" / "int8-shipped-width"))
    rate = 1
    for p, L in zip(folding_plan(b), b.layers):
        if L["type"] == "gsum_fc":
            continue
        co = int(L["out_channels"])
        rated = co // _rate_matched_fold(co, rate)
        ok = [d for d in range(1, rated + 1) if co % d == 0 and d * lane_leaves(L) <= LEAF_BUDGET]
        assert p["pe"] == (max(ok) if ok else 1), p
        assert p["pe"] == 1 or p["pe"] * lane_leaves(L) <= LEAF_BUDGET
        rate *= 4 if L.get("pool") else 1
    by = {p["name"]: p for p in folding_plan(b)}
    assert (by["conv1"]["pe"], by["conv5"]["pe"]) == (4, 1)       # 4 x 3,456 leaves; 1 x 18,432
    # a spec is not capped
    assert {p["name"]: p["pe"] for p in folding_plan(b, "conv1:48")}["conv1"] == 48


def test_spec_forms_agree(tmp_path, shipped):
    f = tmp_path / "plan.json"
    f.write_text(json.dumps({"conv2": 8, "conv3": 16}))
    a = folding_plan(shipped, "conv2:8,conv3:16")
    assert a == folding_plan(shipped, str(f)) == folding_plan(shipped, {"conv2": 8, "conv3": 16})
    by = {p["name"]: p for p in a}
    assert (by["conv2"]["pe"], by["conv2"]["fold"]) == (8, 16)
    assert by["conv1"]["pe"] == folding_plan(shipped)[1]["pe"]   # untouched layers: default


@pytest.mark.parametrize("spec, field", [
    ("conv9:4", "conv9"), ("conv2:7", "conv2:7"), ("conv2:0", "conv2:0"), ("conv2", "conv2"),
    ("conv2:x", "conv2"), ("head:4", "head")])
def test_bad_spec_one_line(shipped, spec, field):
    with pytest.raises(FoldingError) as e:
        folding_plan(shipped, spec)
    assert isinstance(e.value, QGPError) and "\n" not in str(e.value)
    assert e.value.field == field


def test_bad_file(tmp_path, shipped):
    with pytest.raises(FoldingError):
        parse_spec(str(tmp_path / "missing.json"))
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(FoldingError):
        parse_spec(str(tmp_path / "bad.json"))


def test_generated_top_records_plan(tmp_path, shipped):
    info = generate(str(SHIPPED), tmp_path / "g", folding="conv2:8")
    plan = folding_plan(shipped, "conv2:8")
    assert info["folding"] == {p["name"]: p["pe"] for p in plan if p["type"] != "gsum_fc"}
    for li, p in zip(info["layers"], plan):
        assert li["fold"] == p["fold"]
        if li["module"] == "conv_layer":
            assert li["params"]["PE"] == p["pe"]
    saved = json.loads((tmp_path / "g" / "qgp_net.json").read_text())
    assert saved["folding"] == info["folding"]
    # the top's cycles/image follow the plan: conv2 at FOLD 16 on 14x14 pixels
    assert info["cycles_per_image"] == max(28 * 28, 14 * 14 * 16)


def test_cli_error_is_one_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "rtl.gen", "--bundle", str(SHIPPED), "--out",
                        str(tmp_path / "g"), "--folding", "conv2:7"], capture_output=True,
                       text=True, cwd=ROOT)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "conv2:7" in r.stderr
    assert "Traceback" not in r.stderr


def test_fold1_constants_in_source_and_json(tmp_path):
    """FOLD-1 layers get their taps/weights and thresholds as Verilog constants (no memfile),
    written as sized hex into qgp_net.v and qgp_net.json, however wide (a 48-channel conv0 with
    20-bit accumulators has a 14,448-bit TH_VEC: more than Python's 4,300-digit decimal limit)."""
    from qgp.golden.synth import random_bundle
    from qgp.rtl.gen.params import VBits, verilog_value

    b = tmp_path / "b"
    random_bundle(str(b), "fmnist", seed=5)
    info = generate(str(b), tmp_path / "g", folding="conv1:24")
    saved = json.loads((tmp_path / "g" / "qgp_net.json").read_text())
    top = (tmp_path / "g" / "qgp_net.v").read_text()
    names = [m.split("/")[-1] for m in info["memfiles"]]
    for li in saved["layers"]:
        p = li["params"]
        if li["module"] != "conv_layer":
            continue
        if li["fold"] == 1:
            assert "TH_VEC" in p and "TH_FILE" not in p
            assert ("WVEC" if p["DENSE"] else "TS_VEC") in p
            assert f"{li['name']}_th.mem" not in names
        else:
            assert "TH_FILE" in p and "TH_VEC" not in p and f"{li['name']}_th.mem" in names
        for k, v in p.items():
            if k.endswith("VEC"):
                assert v in top and v.split("'h")[0].isdigit()
    wide = VBits(1 << 14447, 14448)
    assert verilog_value(wide).startswith("14448'h8")


def test_illegal_fold_raises_naming_fold(tmp_path, shipped):
    """rtl.gen.params never lowers a fold: one that does not divide CO is a FoldingError naming
    FOLD (one line); a dividing one is taken as given."""
    from qgp.rtl.gen.params import layer_params
    L = shipped.layers[2]
    co = int(L["out_channels"])
    bad = next(f for f in range(2, co) if co % f)
    with pytest.raises(FoldingError) as e:
        layer_params(L, shipped.meta["abits"], shipped.meta["abits"], str(tmp_path), "c", fold=bad)
    assert str(e.value).split(": ")[1] == "FOLD" and "\n" not in str(e.value)
    assert str(bad) in str(e.value) and str(co) in str(e.value)
    good = next(f for f in range(2, co) if co % f == 0)
    p = layer_params(L, shipped.meta["abits"], shipped.meta["abits"], str(tmp_path), "c", fold=good)
    assert p["PE"] * good == co


def test_cycles_per_image_has_one_owner(tmp_path, shipped):
    """qgp_net.json's cycles per image, its per-layer cycles and the FOLD a cycle budget allows
    all come from rtl.gen.plan; checked against the architecture's definition (conv H*W*FOLD,
    head H*W*CI + K + HEAD_EXTRA channel-serially else max(H*W, CI + K + HEAD_EXTRA + HEAD_FLAGS), the input
    frame)."""
    from qgp.rtl.gen.plan import HEAD_EXTRA, HEAD_FLAGS, fold_for_cycles, layer_cycles, spec_string
    for spec in (None, "conv0:1,conv1:2,conv5:4"):
        plan = folding_plan(shipped, spec)
        info = generate(str(SHIPPED), tmp_path / str(bool(spec)), folding=spec)
        want = [int(shipped.meta["input"]["height"]) * int(shipped.meta["input"]["width"])]
        for L, p, li in zip(shipped.layers, plan, info["layers"]):
            hw = int(L["height"]) * int(L["width"])
            if L["type"] == "gsum_fc":
                ci, k = int(L["in_channels"]), int(L["classes"])
                c = hw * ci + k + HEAD_EXTRA if p["fold"] > 1 else max(hw, ci + k + HEAD_EXTRA + HEAD_FLAGS)
            else:
                c = hw * int(L["out_channels"]) // p["pe"]
            assert p["cycles"] == li["cycles"] == layer_cycles(L, p["fold"]) == c
            want.append(c)
        assert info["cycles_per_image"] == max(want)
        assert info["folding_spec"] == spec_string(plan)
    L = shipped.layers[1]
    for budget in (1, 784, 5000, 10 ** 6):
        f = fold_for_cycles(L, budget)
        assert int(L["out_channels"]) % f == 0
        assert f == 1 or layer_cycles(L, f) <= budget
        assert all(layer_cycles(L, g) > budget for g in range(f + 1, int(L["out_channels"]) + 1)
                   if int(L["out_channels"]) % g == 0)


def test_module_closure_from_the_verilog(tmp_path, shipped):
    """rtl.gen.modules derives what each module instantiates from rtl/*.v; qgp_net.json's sources
    are exactly the closure of its layers, and Icarus elaborates the top from those alone."""
    import re
    import shutil
    from qgp.rtl.gen import modules
    lib = modules.library()
    for m in lib:
        text = re.sub(r"//[^\n]*", "", (modules.RTL_DIR / f"{m}.v").read_text())
        kids = {k for k in lib if k != m and re.search(rf"\b{k}\s*(#|\w+\s*\()", text)}
        assert set(modules.closure(m)) == {m}.union(*(modules.closure(k) for k in kids)), m
    dense = modules.closure("conv_layer", {"DENSE": 1})
    qgp = modules.closure("conv_layer", {"DENSE": 0})
    assert "conv_dense" in dense and "conv_qgp" not in dense and "qgp_lane" not in dense
    assert "conv_qgp" in qgp and "conv_dense" not in qgp
    # one window module and one core per (DENSE, RING)
    ring = modules.closure("conv_layer", {"DENSE": 0, "RING": 1})
    assert {"window3x3_cols", "conv_qgp_ring", "tap_ring", "conv_qgp_core"} <= set(ring)
    assert not {"window3x3", "conv_qgp", "qgp_lane", "conv_dense"} & set(ring)
    win = modules.closure("conv_layer", {"DENSE": 0, "RING": 0})
    assert "window3x3" in win and not {"window3x3_cols", "conv_qgp_ring", "tap_ring"} & set(win)
    assert "window3x3" in dense and "window3x3_cols" not in dense
    from qgp.golden.synth import random_bundle
    random_bundle(str(tmp_path / "tiny"), "tiny", seed=3)   # a dense and two QGP layers
    info = generate(str(tmp_path / "tiny"), tmp_path / "g")
    want = {f"{m}.v" for li in info["layers"] for m in modules.closure(li["module"], li["params"])}
    assert {p.rsplit("/", 1)[1] for p in info["sources"][1:]} == want
    if shutil.which("iverilog"):
        r = subprocess.run(["iverilog", "-g2005", "-o", str(tmp_path / "net.vvp"), "-s", "qgp_net",
                            *info["sources"]], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr[-2000:]
