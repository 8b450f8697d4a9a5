"""``qgp``: one console script for the whole flow (installed by ``pip install .``).

``qgp train|export|eval|gen|regress|impl|qonnx [options]`` runs the same entry points the Makefile
uses (``python -m train``, ``python -m golden``, ``python -m rtl.gen``, ``python -m tb.regress``,
``python -m impl``, ``python -m qgp.qonnx``); ``qgp COMMAND --help`` lists each one's options.
A command whose optional dependencies are not installed says which extra to install, in one line.
"""
import os
import sys
from pathlib import Path

# subcommand -> (module, argv prefix, what it does, pip extra whose packages it needs)
COMMANDS = {
    "train": ("qgp.train.__main__", ["train"], "train a config (PyTorch) into a run directory", "train"),
    "export": ("qgp.train.__main__", ["export"], "export a finished run as a bundle", "train"),
    "eval": ("qgp.golden.__main__", ["eval"], "golden integer model of a bundle on its test set", None),
    "gen": ("qgp.rtl.gen.__main__", [], "generate the Verilog network top qgp_net.v from a bundle", None),
    "regress": ("qgp.tb.regress.__main__", [], "Verilator: whole network vs golden, image by image", None),
    "impl": ("qgp.impl.__main__", [], "implementation flow (synthesis, place and route)", "impl"),
    "qonnx": ("qgp.qonnx.__main__", [], "export a bundle as a QONNX graph and check it vs golden",
              "qonnx"),
    "run": ("qgp.board.host", [], "classify images on a board (or board-sim) over its UART", "board"),
    "board-sim": ("qgp.board.sim", [], "the board top in Verilator behind a pseudo-terminal", None),
}
# the third-party module behind each extra: a missing one gives the install hint
EXTRA_MODULES = {"train": ("torch", "matplotlib"), "qonnx": ("onnx", "qonnx", "onnxruntime"),
                 "impl": (), "board": ("serial",)}


def _usage():
    lines = ["usage: qgp COMMAND [options]   (qgp COMMAND --help for the options)", "", "commands:"]
    lines += [f"  {name:<9} {c[2]}" for name, c in COMMANDS.items()]
    return "\n".join(lines)


def _in_checkout():
    """True when the packages run from a source checkout (the Makefile's layout)."""
    return (Path(__file__).resolve().parents[1] / "Makefile").is_file()


def _installed_defaults(cmd, rest):
    """Installed (not a checkout): the tools' repository-relative defaults would point into
    site-packages, so outputs go to ./build and the default bundle is ./models/fmnist."""
    if _in_checkout():
        return rest
    cwd = Path.cwd()
    if cmd == "regress":
        import qgp.tb.regress as R
        R.BUILD = cwd / "build"
        R.DEFAULT_BUNDLE = cwd / "models" / "fmnist"
    if cmd == "gen":
        if not any(a == "--bundle" or a.startswith("--bundle=") for a in rest):
            rest = ["--bundle", str(cwd / "models" / "fmnist")] + rest
        if not any(a == "--out" or a.startswith("--out=") for a in rest) and "-h" not in rest \
                and "--help" not in rest:
            b = next((rest[i + 1] for i, a in enumerate(rest[:-1]) if a == "--bundle"), "fmnist")
            rest = rest + ["--out", str(cwd / "build" / "gen" / Path(b).resolve().name)]
    return rest


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd not in COMMANDS:
        print(f"error: qgp: {cmd!r} is not a command; expected one of {', '.join(COMMANDS)} "
              "(qgp --help)", file=sys.stderr)
        return 2
    module, prefix, _, extra = COMMANDS[cmd]
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    for dep in EXTRA_MODULES.get(extra, ()):
        try:
            __import__(dep)
        except ImportError:
            print(f"error: qgp {cmd}: needs the Python package {dep!r}, not installed; "
                  f"install it with: pip install 'qgp[{extra}]'", file=sys.stderr)
            return 2
    try:
        import importlib
        mod = importlib.import_module(module)
        entry = mod.main
    except ImportError as e:
        print(f"error: qgp {cmd}: cannot load {module} ({e})", file=sys.stderr)
        return 2
    rest = _installed_defaults(cmd, rest)
    sys.argv = [f"qgp {cmd}"] + rest
    rc = entry(prefix + rest)
    return int(rc or 0)


if __name__ == "__main__":
    sys.exit(main())
