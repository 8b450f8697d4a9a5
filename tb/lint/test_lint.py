"""Verilator --lint-only -Wall (rtl.lint, the one lint entry): every module with its default
parameters (rtl/lint.sh), and the layer modules with the parameters rtl.gen.params derives for
every layer of a bundle of the fmnist shape (the widths a real network uses)."""

import shutil
import subprocess

import pytest

from qgp.rtl.gen.params import verilog_value
from qgp.rtl.gen.top import plan
from qgp.rtl.lint import verilator
from qgp.tb.common.runner import BUILD, RTL

pytestmark = pytest.mark.skipif(shutil.which("verilator") is None, reason="verilator not installed")


def test_lint_defaults():
    r = subprocess.run(["sh", str(RTL / "lint.sh")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_lint_network_params():
    from qgp.golden.bundle import load_bundle
    from qgp.tb.layer.test_layer import synth_bundle
    b = load_bundle(str(synth_bundle("fmnist")))
    errors = []
    for info in plan(b, str(BUILD / "lint" / "mem")):
        m = info["module"]
        ok, out = verilator(m, [RTL / f"{m}.v"],
                            params={k: verilog_value(v) for k, v in info["params"].items()})
        if not ok:
            errors.append(f"{info['name']} ({m}): {out[-2000:]}")
    assert not errors, "\n".join(errors)
