"""Which rtl/ modules a design needs: the one owner of the module closure.

Derived from the Verilog itself: every ``rtl/<module>.v`` defines one module, and a module needs
the rtl/ modules it instantiates (``name #(`` or ``name inst (`` in its body, comments left out),
directly or through them. The one choice the text cannot show is declared here: conv_layer
instantiates one window module and one core, by its DENSE and RING parameters (``CHOICES``);
without parameters all of them are in its closure.

Read by the cocotb runner (tb.common.runner DEPS), the generated top (qgp_net.json ``sources``),
the implementation flow (a unit's cache key) and the FuseSoC core's file list (``library``).

API
---
``library() -> list[str]``                 every module of rtl/ (sorted)
``closure(module, params=None) -> list[str]``  the module and every rtl/ module it needs (sorted);
    ``params`` (the module's parameters, e.g. a qgp_net.json layer's) settle CHOICES
``sources(*modules, params=None) -> list[str]``  absolute paths of the closure's files
``deps() -> dict``                          {module: closure(module)} for every module of rtl/
"""

import re
from pathlib import Path

RTL_DIR = Path(__file__).resolve().parents[1]

# module -> {instantiated module: the parameter settings that select it, any of them
# ({parameter: value, ...}; a parameter not given selects nothing away)}
CHOICES = {"conv_layer": {"conv_dense": [{"DENSE": 1}],
                          "window3x3": [{"DENSE": 1}, {"RING": 0}],
                          "conv_qgp": [{"DENSE": 0, "RING": 0}],
                          "window3x3_cols": [{"DENSE": 0, "RING": 1}],
                          "conv_qgp_ring": [{"DENSE": 0, "RING": 1}]}}


def _chosen(picks, params):
    """Whether one of an instantiated module's settings ``picks`` holds for ``params``."""
    return any(all(int(params[k]) == v for k, v in pick.items() if k in params) for pick in picks)


_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_MODULE = re.compile(r"^\s*module\s+(\w+)", re.M)


def library():
    """Every module defined in rtl/*.v (file name = module name), sorted."""
    return sorted(p.stem for p in RTL_DIR.glob("*.v"))


def _children(module, known):
    text = _COMMENT.sub("", (RTL_DIR / f"{module}.v").read_text())
    found = set()
    for m in re.finditer(r"\b(\w+)\s*(?:#\s*\(|\w+\s*\()", text):
        if m.group(1) in known and m.group(1) != module:
            found.add(m.group(1))
    return found


def closure(module, params=None):
    """``module`` and every rtl/ module it instantiates, directly or through them (sorted)."""
    known = set(library())
    if module not in known:
        raise ValueError(f"rtl.gen.modules: no module {module!r} in {RTL_DIR}")
    seen, todo = set(), [(module, params)]
    while todo:
        m, p = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        kids = _children(m, known)
        if m in CHOICES and p is not None:
            kids = {k for k in kids if k not in CHOICES[m] or _chosen(CHOICES[m][k], p)}
        todo.extend((k, None) for k in kids)
    return sorted(seen)


def sources(*modules, params=None):
    """Absolute paths of rtl/<m>.v for the closure of ``modules`` (sorted by module)."""
    need = set()
    for m in modules:
        need.update(closure(m, params))
    return [str(RTL_DIR / f"{m}.v") for m in sorted(need)]


def deps():
    """{module: closure(module)} for every module of rtl/."""
    return {m: closure(m) for m in library()}
