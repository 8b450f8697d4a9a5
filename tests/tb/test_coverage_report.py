"""tb.common.coverage report: merge of per-simulation databases, closure, the baseline check
(a bin that was hit and is no longer hit fails) and waiver validation."""

import json

import pytest
import yaml

from qgp.tb.common import coverage


def db(path, hits):
    """A per-simulation database as cocotb-coverage exports it: {item: {"bins:_hits": {...}}}."""
    data = {}
    for b in hits:
        item, key = b.rsplit(":", 1)
        data.setdefault(item, {"bins:_hits": {}})["bins:_hits"][key] = 1
    path.write_text(yaml.safe_dump(data))


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setattr(coverage, "WAIVERS", tmp_path / "waivers.json")
    monkeypatch.setattr(coverage, "BASELINE", tmp_path / "baseline.json")
    monkeypatch.setattr(coverage, "OUT_DIR", tmp_path / "out")
    (tmp_path / "db").mkdir()
    return tmp_path


def test_merge_closure_and_lost_bin(env):
    bins = coverage.all_bins()
    assert len(bins) == len(set(bins)) > 200
    half = len(bins) // 2
    # two simulations (two xdist workers) hit the two halves: merged, every bin is hit
    db(env / "db" / "maxpool2_x-1.yml", bins[:half])
    db(env / "db" / "conv_qgp_y-2.yml", bins[half:])
    out = env / "coverage.json"
    assert coverage.report(env / "db", out, update_baseline=True) == 0
    c = json.loads(out.read_text())
    assert (c["bins"], c["hit"], c["waived"]) == (len(bins), len(bins), 0)
    assert json.loads((env / "baseline.json").read_text()) == sorted(bins)
    # one simulation fewer: the bins only it hit are lost -> failure
    (env / "db" / "conv_qgp_y-2.yml").unlink()
    assert coverage.report(env / "db", out) == 1
    c = json.loads(out.read_text())
    assert c["hit"] == half
    # waiving the holes closes coverage but the baseline still reports the lost bins
    (env / "waivers.json").write_text(json.dumps({b: "cannot occur because ..." for b in bins[half:]}))
    assert coverage.report(env / "db", out) == 1
    c = json.loads(out.read_text())
    assert c["hit"] + c["waived"] == c["bins"]
    (env / "baseline.json").write_text(json.dumps(bins[:half]))
    assert coverage.report(env / "db", out) == 0


@pytest.mark.parametrize("waiver", [{"no.such:bin": "x"}, {"maxpool2.out_pos:tl": ""}])
def test_bad_waiver_is_refused(env, waiver, capsys):
    db(env / "db" / "maxpool2_x-1.yml", coverage.all_bins()[:3])
    (env / "waivers.json").write_text(json.dumps(waiver))
    with pytest.raises(SystemExit) as e:
        coverage.report(env / "db", env / "coverage.json")
    assert e.value.code == 2
    assert "waivers.json" in capsys.readouterr().err


def test_no_databases_is_an_error(env):
    with pytest.raises(SystemExit) as e:
        coverage.report(env / "db", env / "coverage.json")
    assert e.value.code == 2
