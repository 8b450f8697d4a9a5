"""Top generator: a bundle -> ``qgp_net.v`` (Verilog-2005 module ``qgp_net``) + ``qgp_net.json``.

The top is a plain chain of the layer modules of rtl/ (conv_layer..., gsum_fc); every
parameter and memfile comes from ``rtl.gen.params`` (never copied by hand). Each layer module
starts with its own input FIFO, so the chain needs no glue: layer n's m_axis feeds layer n+1's
s_axis.

Ports of ``qgp_net``:
  clk, rst (synchronous, active high)
  s_axis_tdata[CIN*8-1:0]  one input pixel (channel c at [c*8 +: 8]), raster order,
  s_axis_tvalid, s_axis_tready, s_axis_tlast (tlast on the last pixel of an image)
  m_axis_tdata[K*LOGIT_W+CLASS_W-1:0] = {logit[K-1], ..., logit[0], class}, one beat per image,
  m_axis_tvalid, m_axis_tready, m_axis_tlast

Folding (PE output channels per cycle, FOLD = CO / PE cycles per pixel, FINN's PE knob) comes
from ``rtl.gen.plan.folding_plan`` (rate-matched by default; a ``folding`` spec such as
"conv2:8,conv3:16" or a JSON file overrides layers). The cycles per image the architecture
implies (``rtl.gen.plan.cycles_per_image``) is written to qgp_net.json as
``cycles_per_image``, the plan as ``folding`` ({layer: PE}) and ``folding_spec``
(``rtl.gen.plan.spec_string``).

qgp_net.json (read by tb/regress, tb/bench and impl):
  {"name", "top": "qgp_net", "top_file", "sources", "include_dirs", "memfiles",
   "input": {"channels", "height", "width", "bits", "tdata_width"}, "frame",
   "classes", "logit_w", "class_w", "out_width", "output_layout",
   "cycles_per_image", "folding", "folding_spec", "layers": [{"name", "instance", "module",
   "fold", "pe", "cycles", "params", "memfiles", "frame_cycles", "latency", "in_width",
   "out_width"}], "bundle", "bundle_sha256"}
``sources`` = the top and the rtl/ modules it needs (``rtl.gen.modules``); a layer's
``params`` hold ints, memfile paths (the ones named in its ``memfiles`` {param: path}) and wide
constants as Verilog text; ``param_text`` turns them back into Verilog.

``instance(module, params, name, src, dst)`` is the text of one layer instance (s_axis on the
stream ``src``, m_axis on ``dst``; ``params`` {name: Verilog text}); ``chain(layers, in_w, out_w,
module, comment)``
the chain module around a list of qgp_net.json layers (impl.flow builds its per-layer units
with both).
"""

import hashlib
import json
from pathlib import Path

from qgp.rtl.gen import modules
from qgp.rtl.gen import params as P
from qgp.rtl.gen.plan import cycles_per_image, folding_plan, spec_string
from qgp.golden import atomic

# Verilator flags every model of a generated top needs (lint, the regression harness): FOLD-1
# layers carry their weights as Verilog constants, and a dense 48->48 conv1 (the int8 and binary
# rows of `make compare`) has a 165,888-bit WVEC, above Verilator's default 64k-bit number limit
VERILATOR_WIDE = ["--max-num-width", "1048576"]

RTL_DIR = Path(__file__).resolve().parents[1]


def plan(bundle, out_dir, folding=None, fplan=None):
    """Per-layer module, parameters (memfiles written into out_dir) and timing for ``bundle``,
    folded as ``fplan`` (default ``rtl.gen.plan.folding_plan(bundle, folding)``) says."""
    abits = int(bundle.meta["abits"])
    bits = int(bundle.meta["input"]["bits"])
    layers = []
    for layer, fp in zip(bundle.layers, fplan or folding_plan(bundle, folding)):
        name = fp["name"]
        info = P.layer_info(layer, abits, bits, out_dir, name, fold=fp["fold"])
        if layer["type"] != "gsum_fc":
            bits = abits
        info["name"] = name
        info["rate_div"] = fp["rate_div"]
        info["cycles"] = fp["cycles"]
        layers.append(info)
    return layers


def _port_decl(layers, meta):
    cin = int(meta["input"]["channels"])
    in_w = cin * int(meta["input"]["bits"])
    head = layers[-1]["params"]
    out_w = int(head["K"]) * int(head["LOGIT_W"]) + int(head["CLASS_W"])
    return in_w, out_w


def memfile_params(params):
    """{param: path} of a layer's memfile parameters (``*_FILE``)."""
    return {k: str(v) for k, v in params.items() if k.endswith("_FILE")}


def param_text(layer, memfile=None):
    """{param: Verilog text} of a qgp_net.json layer; ``memfile(path) -> str`` rewrites the
    memfile paths (e.g. to the names a tool sees in its working directory)."""
    mem = layer.get("memfiles", {})
    out = {}
    for k, v in layer["params"].items():
        if k in mem:
            out[k] = P.verilog_value(memfile(v) if memfile else v)
        elif isinstance(v, str):
            out[k] = v          # a wide constant, already Verilog text
        else:
            out[k] = P.verilog_value(v)
    return out


def instance(module, params, name, src, dst):
    """One layer instance: its s_axis on the stream ``src`` (``{src}_tdata``, ...), its m_axis
    on ``dst``; ``params`` {name: Verilog text}."""
    head = (f"{module} #(\n" + ",\n".join(f"    .{k}({v})" for k, v in params.items())
            + f"\n) {name} (\n") if params else f"{module} {name} (\n"
    return (head + "    .clk(clk), .rst(rst),\n"
            f"    .s_axis_tdata({src}_tdata), .s_axis_tvalid({src}_tvalid),\n"
            f"    .s_axis_tready({src}_tready), .s_axis_tlast({src}_tlast),\n"
            f"    .m_axis_tdata({dst}_tdata), .m_axis_tvalid({dst}_tvalid),\n"
            f"    .m_axis_tready({dst}_tready), .m_axis_tlast({dst}_tlast)\n"
            ");")


def chain(layers, in_w, out_w, module, comment=()):
    """Verilog of module ``qgp_net``: the layers' instances in a chain. ``module(n, layer) ->
    (module name, {param: Verilog text})`` says what each layer instantiates; ``comment`` lines
    open the file."""
    lines = [f"// {c}" if c else "//" for c in comment]
    w = lines.append
    w("`timescale 1ns / 1ps")
    w("`default_nettype none")
    w("module qgp_net (")
    w("    input  wire clk,")
    w("    input  wire rst,")
    w(f"    input  wire [{in_w - 1}:0] s_axis_tdata,")
    w("    input  wire s_axis_tvalid,")
    w("    output wire s_axis_tready,")
    w("    input  wire s_axis_tlast,")
    w(f"    output wire [{out_w - 1}:0] m_axis_tdata,")
    w("    output wire m_axis_tvalid,")
    w("    input  wire m_axis_tready,")
    w("    output wire m_axis_tlast")
    w(");")
    w("")
    # stream n = input of layer n; stream len(layers) = network output
    widths = [in_w] + [li["out_width"] for li in layers]
    for n, li in enumerate(layers):
        if li["in_width"] != widths[n]:
            raise ValueError(f"rtl.gen.top: layer {li['name']} takes {li['in_width']} bits, "
                             f"the previous stage gives {widths[n]}")
    for n in range(len(layers) + 1):
        w(f"wire [{widths[n] - 1}:0] s{n}_tdata;")
        w(f"wire s{n}_tvalid, s{n}_tready, s{n}_tlast;")
    w("")
    w("assign s0_tdata = s_axis_tdata;")
    w("assign s0_tvalid = s_axis_tvalid;")
    w("assign s_axis_tready = s0_tready;")
    w("assign s0_tlast = s_axis_tlast;")
    last = len(layers)
    w(f"assign m_axis_tdata = s{last}_tdata;")
    w(f"assign m_axis_tvalid = s{last}_tvalid;")
    w(f"assign s{last}_tready = m_axis_tready;")
    w(f"assign m_axis_tlast = s{last}_tlast;")
    for n, li in enumerate(layers):
        w("")
        mod, ps = module(n, li)
        w(instance(mod, ps, f"u_{li['name']}", f"s{n}", f"s{n + 1}"))
    w("")
    w("endmodule")
    w("`default_nettype wire")
    return "\n".join(lines) + "\n"


def verilog(bundle, layers, name, cycles=None):
    meta = bundle.meta
    in_w, out_w = _port_decl(layers, meta)
    if layers[-1]["module"] != "gsum_fc":
        raise ValueError("rtl.gen.top: the last layer of the bundle must be the gsum_fc head")
    if cycles is None:
        cycles = cycles_per_image(meta, layers)
    c = ["qgp_net: the whole QGP network of one bundle, as a chain of streaming layer modules.",
         f"GENERATED by `python -m rtl.gen` from bundle {name!r} -- do not edit.",
         "",
         f"Input : s_axis_tdata[{in_w - 1}:0] = one pixel, channel c at [c*8 +: 8], raster order,",
         "        tlast on the last pixel of an image.",
         f"Output: m_axis_tdata[{out_w - 1}:0] = {{logit[K-1], ..., logit[0], class}}, one beat per",
         "        image (class in the low CLASS_W bits, logits LOGIT_W bits signed).",
         "Chain (module: FOLD cycles per pixel):"]
    for li in layers:
        c.append(f"  {li['name']}: {li['module']} (FOLD {li.get('fold', 1)}, frame "
                 f"{li['frame_cycles']} cycles, latency {li['latency']})")
    c.append(f"Steady state: one image every {cycles} cycles.")
    return chain(layers, in_w, out_w, comment=c, module=lambda n, li: (
        li["module"], {k: P.verilog_value(v) for k, v in li["params"].items()}))


def generate(bundle_dir, out_dir, folding=None):
    """Write qgp_net.v, qgp_net.json and the memfiles into ``out_dir``; return the json dict."""
    from qgp.golden.bundle import load_bundle

    bundle = load_bundle(bundle_dir)
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    fplan = folding_plan(bundle, folding)
    layers = plan(bundle, out_dir, fplan=fplan)
    cycles = cycles_per_image(bundle.meta, fplan)
    name = bundle.meta.get("name") or Path(bundle_dir).resolve().name
    text = verilog(bundle, layers, name, cycles)
    top_file = out_dir / "qgp_net.v"
    atomic.write_text(top_file, text)

    meta = bundle.meta
    head = layers[-1]["params"]
    in_w, out_w = _port_decl(layers, meta)
    memfiles = sorted(str(v) for li in layers for k, v in li["params"].items()
                      if k.endswith("_FILE"))
    used = sorted({li["module"] for li in layers})
    rtl = sorted({s for li in layers for s in modules.sources(li["module"], params=li["params"])})
    info = {
        "name": Path(out_dir).name,
        "bundle": str(Path(bundle_dir)),
        # model.json records the sha256 of the arrays file, so its own hash names the bundle
        "bundle_sha256": hashlib.sha256((Path(bundle.path) / "model.json").read_bytes())
        .hexdigest(),
        "top": "qgp_net",
        "top_file": str(top_file),
        # the top and the rtl/ modules its layers instantiate (rtl.gen.modules)
        "sources": [str(top_file)] + rtl,
        "include_dirs": [str(RTL_DIR)],
        "memfiles": memfiles,
        "modules": used,
        "input": {"channels": int(meta["input"]["channels"]),
                  "height": int(meta["input"]["height"]),
                  "width": int(meta["input"]["width"]), "bits": int(meta["input"]["bits"]),
                  "tdata_width": in_w},
        "frame": int(meta["input"]["height"]) * int(meta["input"]["width"]),
        "classes": int(head["K"]),
        "logit_w": int(head["LOGIT_W"]),
        "class_w": int(head["CLASS_W"]),
        "out_width": out_w,
        "output_layout": "{logit[K-1], ..., logit[0], class}: class at [CLASS_W-1:0], logit k at "
                         "[CLASS_W + k*LOGIT_W +: LOGIT_W] (signed)",
        "folding": {p["name"]: p["pe"] for p in fplan if p["type"] != "gsum_fc"},
        "folding_spec": spec_string(fplan),
        "cycles_per_image": cycles,
        "layers": [{"name": li["name"], "instance": f"u_{li['name']}", "module": li["module"],
                    "fold": li["fold"],
                    "pe": (li["params"]["CO"] // li["fold"]) if "CO" in li["params"] else None,
                    "cycles": li["cycles"],
                    "frame_cycles": li["frame_cycles"], "latency": li["latency"],
                    "in_width": li["in_width"], "out_width": li["out_width"],
                    "params": {k: (P.verilog_value(v) if isinstance(v, P.VBits) else v)
                               for k, v in li["params"].items()},
                    "memfiles": memfile_params(li["params"])} for li in layers],
    }
    atomic.write_text(out_dir / "qgp_net.json", json.dumps(info, indent=2) + "\n")
    return info
