"""Build and run a cocotb test on Icarus through cocotb_tools.runner.

``build_and_test(toplevel, sources, parameters, test_module, ...)`` builds in
``build/sim/<name>/`` (name unique per toplevel + parameters unless given), runs the cocotb
``test_module`` there and returns ``(tests, failed, results_xml)``; it raises AssertionError
when a test failed. WAVES=1 in the environment (or ``waves=True``) dumps an FST and prints
its path. String parameter values are quoted for Verilog here (pass plain Python strings,
e.g. the memfile paths from rtl.gen.params).
"""

import hashlib
import json
import os
import sys
from pathlib import Path

from qgp.rtl.gen import modules
from cocotb_tools.check_results import get_results
from cocotb_tools.runner import get_runner

REPO = Path(__file__).resolve().parents[2]
RTL = REPO / "rtl"
BUILD = REPO / "build" / "sim"


def rtl_sources(*modules):
    """Paths of rtl/<module>.v for the named modules."""
    return [str(RTL / f"{m}.v") for m in modules]


# module -> the rtl modules it instantiates (itself included), from the Verilog (rtl.gen.modules)
DEPS = modules.deps()


def sources_for(toplevel, extra=()):
    return rtl_sources(*DEPS.get(toplevel, [toplevel])) + [str(s) for s in extra]


def _vparam(v):
    if isinstance(v, str):
        return '"' + v + '"'
    return int(v)


def build_and_test(toplevel, sources, parameters, test_module, results_xml=None, waves=None,
                   extra_env=None, name=None, testcase=None, seed=1):
    if waves is None:
        waves = os.environ.get("WAVES") == "1"
    parameters = dict(parameters or {})
    if name is None:
        key = json.dumps([toplevel, sorted(map(str, sources)), sorted(parameters.items())], default=str)
        name = f"{toplevel}_{hashlib.sha1(key.encode()).hexdigest()[:10]}"
    if waves:
        name += "_waves"
    build_dir = BUILD / name
    build_dir.mkdir(parents=True, exist_ok=True)
    env = dict(extra_env or {})
    env["TB_PARAMS"] = json.dumps(parameters)
    pp = [str(REPO)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])
    env["PYTHONPATH"] = os.pathsep.join(pp)
    env.setdefault("COCOTB_LOG_LEVEL", os.environ.get("COCOTB_LOG_LEVEL", "INFO"))
    # the build is keyed by the directory name: write what it was built with, for humans
    (build_dir / "params.json").write_text(json.dumps(parameters, indent=1, default=str))

    runner = get_runner("icarus")
    runner.build(
        sources=list(sources),
        hdl_toplevel=toplevel,
        parameters={k: _vparam(v) for k, v in parameters.items()},
        build_dir=build_dir,
        timescale=("1ns", "1ps"),
        waves=waves,
    )
    xml = Path(results_xml).resolve() if results_xml else build_dir / "results.xml"
    xml.parent.mkdir(parents=True, exist_ok=True)
    runner.test(
        hdl_toplevel=toplevel,
        test_module=test_module,
        build_dir=build_dir,
        test_dir=xml.parent,
        results_xml=str(xml),
        extra_env=env,
        waves=waves,
        testcase=testcase,
        seed=seed,
    )
    if waves:
        print(f"waves: {build_dir / (toplevel + '.fst')}", file=sys.stderr)
    tests, failed = get_results(xml)
    assert tests > 0, f"{xml}: no tests ran"
    assert failed == 0, f"{xml}: {failed} of {tests} cocotb tests failed"
    return tests, failed, xml
