"""FuseSoC, offline: the cores in rtl/ are listed, the library lints clean with verilator through
fusesoc, a user's core generates its network top from a bundle with the qgp_net_gen generator and
lints it, a lint error fails the run, and rtl/qgp.core lists exactly rtl/*.v."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUSESOC = Path(sys.executable).with_name("fusesoc")
pytestmark = pytest.mark.skipif(not FUSESOC.exists() or not shutil.which("verilator"),
                                reason="fusesoc or verilator not installed")


def fusesoc(tmp_path, *args, roots=(), timeout=600):
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), XDG_CONFIG_HOME=str(tmp_path / "cfg"),
               XDG_DATA_HOME=str(tmp_path / "data"),
               PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    cmd = [str(FUSESOC)] + [a for r in (ROOT / "rtl", *roots) for a in ("--cores-root", str(r))] + list(args)
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout)


def test_core_lists_exactly_the_rtl_files():
    from qgp.rtl.gen.fusesoc import core_files
    have = core_files((ROOT / "rtl" / "qgp.core").read_text())
    assert have == sorted(p.name for p in (ROOT / "rtl").glob("*.v")), \
        "rtl/qgp.core is out of date: python -m rtl.gen.fusesoc --sync"


def test_core_list_and_library_lint(tmp_path):
    r = fusesoc(tmp_path, "core", "list")
    assert r.returncode == 0, r.stderr
    assert "qgp:qgp:rtl:0.1.0" in r.stdout and "qgp:qgp:net:0.1.0" in r.stdout
    r = fusesoc(tmp_path, "run", "--build-root", str(tmp_path / "b"), "--target", "lint", "qgp:qgp:rtl")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    vc = (tmp_path / "b" / "qgp_qgp_rtl_0.1.0" / "lint" / "qgp_qgp_rtl_0.1.0.vc").read_text().split()
    assert "--lint-only" in vc and "-Wall" in vc
    assert sorted(Path(f).name for f in vc if f.endswith(".v")) == sorted(p.name for p in (ROOT / "rtl").glob("*.v"))


USER_CORE = """CAPI=2:
name: user:demo:mynet:1.0
filesets:
  deps:
    depend: ["qgp:qgp:rtl"]
generate:
  net:
    generator: qgp_net_gen
    parameters:
      bundle: bundle
targets:
  lint:
    filesets: [deps]
    generate: [net]
    toplevel: qgp_net
    flow: lint
    flow_options:
      tool: verilator
      verilator_options: [-Wall]
"""


def test_user_core_generates_and_lints_its_network(tmp_path):
    from qgp.golden.synth import random_bundle
    user = tmp_path / "user"
    user.mkdir()
    random_bundle(user / "bundle", "tiny", seed=4)
    (user / "mynet.core").write_text(USER_CORE)
    r = fusesoc(tmp_path, "run", "--build-root", str(tmp_path / "b"), "--target", "lint", "user:demo:mynet",
                roots=(user,))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "qgp_net_gen:" in r.stdout and "(4 layers" in r.stdout
    gen = list((tmp_path / "b").rglob("qgp_net.json"))
    assert len(gen) == 1
    import json
    net = json.loads(gen[0].read_text())
    assert net["classes"] == 10 and net["input"]["height"] == 8
    vc = next((tmp_path / "b").rglob("*.vc")).read_text()
    assert "qgp_net.v" in vc and "--top-module qgp_net" in vc.replace("\n", " ")


BAD_CORE = """CAPI=2:
name: user:demo:bad:1.0
filesets:
  rtl:
    files: [bad.v]
    file_type: verilogSource
targets:
  lint:
    filesets: [rtl]
    toplevel: bad
    flow: lint
    flow_options:
      tool: verilator
      verilator_options: [-Wall]
"""


def test_a_lint_error_fails_the_run(tmp_path):
    user = tmp_path / "user"
    user.mkdir()
    (user / "bad.v").write_text("module bad(input wire a, output wire y);\n  wire spare;\n  assign y = a;\nendmodule\n")
    (user / "bad.core").write_text(BAD_CORE)
    r = fusesoc(tmp_path, "run", "--build-root", str(tmp_path / "b"), "--target", "lint", "user:demo:bad",
                roots=(user,))
    assert r.returncode != 0 and "UNUSED" in (r.stdout + r.stderr)
