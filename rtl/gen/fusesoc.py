#!/usr/bin/env python3
"""FuseSoC generator qgp_net_gen (declared in rtl/qgp.core): bundle -> qgp_net.v + memfiles + a core.

FuseSoC runs ``python3 gen/fusesoc.py <input.yml>`` in a fresh working directory; the input holds
``files_root`` (the calling core's folder), ``vlnv`` (the name to give the generated core) and
``parameters``: ``bundle`` (required; relative to files_root or absolute) and ``folding``
(optional PE plan, as ``--folding`` of ``python -m rtl.gen``). The top is written by
``rtl.gen.top.generate`` (the one generator; nothing is copied from it here) and the generated
core lists qgp_net.v, depends on qgp:qgp:rtl for the library modules and names qgp_net as its
toplevel. Errors: one line on stderr, exit 2.

``python -m rtl.gen.fusesoc --sync`` (``--check``) makes rtl/qgp.core list exactly rtl/*.v."""
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def core_files(core_text):
    """The file list of the rtl fileset in rtl/qgp.core (its lines '      - NAME.v')."""
    return [ln.strip()[2:] for ln in core_text.splitlines() if ln.startswith("      - ") and ln.strip().endswith(".v")]


def sync(check_only=False):
    """Make rtl/qgp.core list exactly rtl/*.v (sorted); with check_only report instead. Returns 0/1."""
    rtl = os.path.join(REPO, "rtl")
    path = os.path.join(rtl, "qgp.core")
    text = open(path).read()
    if REPO not in sys.path:
        sys.path.insert(0, REPO)
    from qgp.rtl.gen.modules import library   # the one list of the library's modules
    want = [f"{m}.v" for m in library()]
    have = core_files(text)
    if have == want:
        print(f"{path}: lists the {len(want)} files of rtl/*.v")
        return 0
    if check_only:
        print(f"{path}: lists {have}, rtl/*.v is {want}; run python -m rtl.gen.fusesoc --sync", file=sys.stderr)
        return 1
    lines = text.splitlines()
    idx = [i for i, ln in enumerate(lines) if ln.startswith("      - ") and ln.strip().endswith(".v")]
    lines[idx[0]:idx[-1] + 1] = [f"      - {f}" for f in want]
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(path + ".tmp", path)
    print(f"{path}: now lists the {len(want)} files of rtl/*.v")
    return 0


def main(argv):
    if argv and argv[0] in ("--sync", "--check"):
        return sync(check_only=argv[0] == "--check")
    if REPO not in sys.path:
        sys.path.insert(0, REPO)  # a checkout; an installed qgp package works as well
    try:
        import yaml
    except ImportError:
        print("error: rtl/gen/fusesoc.py: needs PyYAML (installed with fusesoc); run fusesoc and this "
              "generator in the same Python environment", file=sys.stderr)
        return 2
    from qgp.golden.errors import QGPError
    from qgp.rtl.gen.top import generate

    if len(argv) != 1:
        print("usage: rtl/gen/fusesoc.py INPUT.yml (run by fusesoc)", file=sys.stderr)
        return 2
    try:
        with open(argv[0]) as f:
            cfg = yaml.safe_load(f) or {}
        params = cfg.get("parameters") or {}
        if "bundle" not in params:
            raise QGPError(argv[0], "parameters.bundle", "missing; expected the bundle directory")
        bundle = os.path.join(cfg.get("files_root") or os.getcwd(), str(params["bundle"]))
        out = os.getcwd()
        info = generate(bundle, out, folding=params.get("folding"))
    except OSError as e:
        print(f"error: {argv[0]}: {e}", file=sys.stderr)
        return 2
    except QGPError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    vlnv = cfg.get("vlnv") or "qgp:qgp:net_generated:0"
    top = os.path.relpath(info["top_file"], out)
    core = {
        "name": vlnv,
        "description": f"qgp_net generated from {bundle} ({info['cycles_per_image']} cycles/image)",
        "filesets": {"net": {"files": [top] + [os.path.relpath(m, out) for m in info["memfiles"]
                                               if os.path.dirname(os.path.abspath(m)) == out],
                             "depend": ["qgp:qgp:rtl"]}},
        "targets": {"default": {"filesets": ["net"], "toplevel": info["top"]}},
    }
    # memfiles: user files (the top reads them by absolute path with $readmemh)
    files = [{top: {"file_type": "verilogSource"}}]
    files += [{p: {"file_type": "user"}} for p in core["filesets"]["net"]["files"][1:]]
    core["filesets"]["net"]["files"] = files
    name = vlnv.split(":")[2] if vlnv.count(":") >= 2 else "qgp_net"
    with open(os.path.join(out, f"{name}.core"), "w") as f:
        f.write("CAPI=2:\n" + yaml.safe_dump(core, sort_keys=False))
    print(f"qgp_net_gen: {info['top_file']} ({len(info['layers'])} layers, {info['cycles_per_image']} "
          "cycles/image)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
