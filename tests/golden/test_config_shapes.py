"""A config whose network shape cannot be built is refused by every reader (golden synth, train) in
one line naming the file and the field, exit 2, nothing written (golden.configs.check_shape)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASE = {"name": "shape", "dataset": "fmnist", "input": {"channels": 2, "height": 10, "width": 14, "bits": 8},
        "classes": 5, "abits": 4, "wbits": 8,
        "layers": [{"out_channels": 4}, {"out_channels": 6, "pool": True}, {"out_channels": 8}],
        "train": {"epochs": 1}}


def _bad(**change):
    cfg = json.loads(json.dumps(BASE))
    for path, value in change.items():
        *head, last = path.split("__")
        d = cfg
        for k in head:
            d = d[int(k)] if isinstance(d, list) else d[k]
        if isinstance(d, list):
            d[int(last)] = value
        else:
            d[last] = value
    return cfg


CASES = [
    (_bad(layers__2__pool=True), "layers[2].pool", "odd feature map 5x7"),
    (_bad(layers__1__out_channels=0), "layers[1].out_channels", "positive integer"),
    (_bad(input__height="28"), "input.height", "positive integer"),
    (_bad(layers=[]), "layers", "non-empty list"),
    (_bad(layers__0__pool="yes"), "layers[0].pool", "true or false"),
]


@pytest.mark.parametrize("cmd", [["-m", "golden", "synth", "--out", "{out}"],
                                 ["-m", "train", "train", "--out", "{out}", "--limit-batches", "1"]])
@pytest.mark.parametrize("cfg,field,words", CASES, ids=[c[1] for c in CASES])
def test_bad_shape_is_one_line_exit_2(tmp_path, cmd, cfg, field, words):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(cfg))
    out = tmp_path / "out"
    args = [a.format(out=out) for a in cmd] + ["--config", str(p)]
    r = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    err = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(err) == 1 and "Traceback" not in r.stderr, r.stderr
    assert str(p) in err[0] and field in err[0] and words in err[0], err[0]
    assert not out.exists()


def test_good_shape_is_accepted(tmp_path):
    p = tmp_path / "good.json"
    p.write_text(json.dumps(BASE))
    r = subprocess.run([sys.executable, "-m", "golden", "synth", "--config", str(p), "--out", str(tmp_path / "b")],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "b" / "model.json").is_file()
