"""make formal's runner (formal/run.py) on a copy of the tree: the proofs pass on the real
axis_skid and fail on mutants that lose a beat or break the stall rule (the properties can
fail: a proof that passed on anything would pass here too)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def tree(tmp_path, mutate=None):
    """tmp_path/formal, tmp_path/rtl/axis_skid.v (optionally mutated), .venv linked."""
    shutil.copytree(REPO / "formal", tmp_path / "formal")
    (tmp_path / "rtl").mkdir()
    src = (REPO / "rtl" / "axis_skid.v").read_text()
    if mutate:
        old, new = mutate
        assert old in src, f"mutation target not found: {old}"
        src = src.replace(old, new, 1)
    (tmp_path / "rtl" / "axis_skid.v").write_text(src)
    os.symlink(REPO / ".venv", tmp_path / ".venv")
    return subprocess.run([sys.executable, str(tmp_path / "formal" / "run.py"), "--only", "axis_skid"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)


def test_formal_passes(tmp_path):
    r = tree(tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "proven" in r.stdout and "formal: 3/3 tasks pass" in r.stdout


@pytest.mark.parametrize("mutation", [
    # the temp slot is never filled: a beat taken while the output is stalled is lost
    ("temp_tvalid_next = s_axis_tvalid;", "temp_tvalid_next = 1'b0;"),
    # the output register is reloaded while stalled: tdata changes before tready
    ("if (store_input_to_output) begin", "if (store_input_to_output || s_axis_tvalid) begin"),
])
def test_formal_catches_mutant(tmp_path, mutation):
    r = tree(tmp_path, mutation)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "FAIL" in r.stdout
