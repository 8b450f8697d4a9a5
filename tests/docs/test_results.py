"""docs/RESULTS.md and the README's results table are what the committed result files say
(``python -m qgp.results --check``), and a changed figure in a file makes them stale."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _check(root):
    return subprocess.run([sys.executable, "-m", "qgp.results", "--check", "--root", str(root)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_committed_pages_match_their_files():
    r = _check(ROOT)
    assert r.returncode == 0, r.stderr


def test_a_changed_figure_makes_the_pages_stale_and_regenerating_shows_it(tmp_path):
    for rel in ("README.md", "docs/RESULTS.md", "models/fmnist/model.json", "docs/results",
                "models/compare/compare.json"):
        src, dst = ROOT / rel, tmp_path / rel
        if src.is_dir():
            shutil.copytree(src, dst)
        elif src.is_file():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dst)
    assert _check(tmp_path).returncode == 0
    m = json.loads((tmp_path / "models/fmnist/model.json").read_text())
    m["accuracy"]["golden"] = 0.1234
    (tmp_path / "models/fmnist/model.json").write_text(json.dumps(m))
    r = _check(tmp_path)
    assert r.returncode == 1 and "out of date" in r.stderr
    r = subprocess.run([sys.executable, "-m", "qgp.results", "--root", str(tmp_path)], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "0.1234" in (tmp_path / "README.md").read_text() and "0.1234" in (tmp_path / "docs/RESULTS.md").read_text()
    assert _check(tmp_path).returncode == 0
