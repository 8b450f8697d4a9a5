"""rtl.gen.plan: the one folding plan (defaults, overrides, one-line errors) and its record in
qgp_net.json; the layer simulation folds a layer exactly as the generated network does."""

import json
import subprocess
import sys

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
    """The int8 row of the compare experiment: dense 8-bit layers after conv0 would be up to 166k
    leaves rate-matched; the default folds each to the largest PE within LEAF_BUDGET (or 1)."""
    b = load_bundle(str(ROOT / "models" / "compare" / "int8"))
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
