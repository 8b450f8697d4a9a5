"""Simulation speed: the Verilator harness vs cocotb + Icarus on the same images of the same net.

All run one process, input always valid and output always ready, and check every image
against golden. images/s counts simulation only (not the build / elaboration). Beside the
harness in its default build configuration (tb.regress.SIM_DEFAULT) the whole flow of an earlier
git revision (BASELINE_REV: its RTL, top generator, harness and Verilator flags, extracted with
git archive) runs on the same images, so that the speed-up is measured on the same machine in
the same run; the first harness's flags also stay selectable on today's RTL as
tb.regress.SIM_CONFIGS["v1"] (``configs=["v1"]``). Each run reports wall-clock images/s and
images per CPU second of the simulating process (cpu_images_per_s), which other load on the
machine changes much less."""

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from qgp.tb import regress as R

ROOT = R.ROOT
# The revision whose flow (RTL, generator, harness, flags) the simulation speed-up is measured
# against: main when the issue "multiplier-free datapath ... a faster simulator" was taken up
# (about 12-14 images/s per process on the shipped network then).
BASELINE_REV = "ce950de"


def _golden(bundle, x):
    from qgp.golden import model

    g = model.run(bundle, x.astype(np.int64), keep_activations=False)
    return np.concatenate([g.logits, g.pred[:, None]], axis=1).astype(np.int64), g


def _timed_run(exe, net, bundle, x):
    """Simulate ``x`` in one harness process; wall seconds and the process' CPU seconds (from
    the children's resource usage, so that any harness version is measured the same way)."""
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    res, shards, wall = R.simulate(exe, net, x, jobs=1, progress=False)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    _, g = _golden(bundle, x)
    bad = R.compare(res, g.logits, g.pred)
    cycles = max(r["out"] for r in res.values())
    return {"images": len(x), "mismatches": len(bad), "wall_s": round(wall, 3),
            "images_per_s": round(len(x) / wall, 2), "cycles_per_s": round(cycles / wall),
            "cpu_s": round(cpu, 3),
            "cpu_images_per_s": round(len(x) / cpu, 2) if cpu > 0 else None}


def verilator_speed(bundle_dir, bundle, x, log=print, sim=None):
    net = R.generate(bundle_dir)
    sim, cfg = R.sim_config(sim)
    exe, build_s = R.build(net, log=log, sim=sim)
    r = {"sim": sim, "flags": " ".join(cfg["verilator"]) + f" / C++ {cfg['cxx']}"}
    r.update(_timed_run(exe, net, bundle, x))
    r["build_s"] = build_s
    return r


def baseline_speed(rev, bundle_dir, bundle, x, work, log=print):
    """The whole first flow at git revision ``rev`` (its RTL, top generator, harness and
    Verilator flags, extracted with git archive into ``work``) on the same images, so that the
    speed-up of everything since (RTL included) is measured on the same machine in the same
    run. None (with a log line) when this is not a git checkout or ``rev`` is unknown."""
    work = Path(work).resolve()
    tree = work / f"tree-{rev}"
    if not (tree / "tb" / "regress" / "harness.cpp").exists():
        tree.mkdir(parents=True, exist_ok=True)
        arch = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev],
                              capture_output=True)
        if arch.returncode != 0:
            log(f"simspeed: no baseline ({rev}: {arch.stderr.decode().strip()[:200]})")
            shutil.rmtree(tree, ignore_errors=True)
            return None
        subprocess.run(["tar", "-x", "-C", str(tree)], input=arch.stdout, check=True)
    # generate + build with the baseline's own tb.regress (its rtl.gen, harness and flags)
    code = ("import json, sys; from tb import regress as R; net = R.generate(sys.argv[1]); "
            "exe, b = R.build(net, log=lambda s: print(s, file=sys.stderr)); "
            "print(json.dumps({'exe': str(exe), 'build_s': b, 'net': net}))")
    env = dict(os.environ, PYTHONPATH=str(tree))
    log(f"simspeed: baseline {rev}: generate + build (its own flow) ...")
    p = subprocess.run([sys.executable, "-c", code, str(Path(bundle_dir).resolve())],
                       cwd=str(tree), env=env, capture_output=True, text=True)
    if p.returncode != 0:
        log(f"simspeed: no baseline ({rev} does not build this bundle: "
            f"{(p.stderr.strip().splitlines() or ['?'])[-1][:300]})")
        return None
    info = json.loads(p.stdout.strip().splitlines()[-1])
    r = {"sim": f"baseline {rev}", "rev": rev}
    r.update(_timed_run(info["exe"], info["net"], bundle, x))
    r["build_s"] = info["build_s"]
    return r


def icarus_speed(bundle_dir, bundle, x, work, log=print, timeout_note=None):
    from cocotb_tools.runner import get_runner

    net = R.generate(bundle_dir)
    work = Path(work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    exp, _ = _golden(bundle, x)
    np.save(work / "images.npy", x)
    np.save(work / "expected.npy", exp)
    result = work / "result.json"
    if result.exists():
        result.unlink()
    srcs = [net["top_file"]] + [p for p in net["sources"] if p != net["top_file"]]
    runner = get_runner("icarus")
    t0 = time.time()
    runner.build(sources=srcs, hdl_toplevel="qgp_net", build_dir=str(work / "sim_build"),
                 always=True, timescale=("1ns", "1ps"), log_file=str(work / "build.log"))
    build_s = time.time() - t0
    log(f"simspeed: icarus build {build_s:.1f} s; running {len(x)} image(s) ...")
    runner.test(test_module="tb.bench.cocotb_net", hdl_toplevel="qgp_net",
                build_dir=str(work / "sim_build"), test_dir=str(ROOT),
                results_xml=str(work / "results.xml"), log_file=str(work / "test.log"),
                extra_env={"QGP_NET_JSON": str(Path(net["top_file"]).with_suffix(".json")),
                           "QGP_IMAGES": str(work / "images.npy"),
                           "QGP_EXPECTED": str(work / "expected.npy"),
                           "QGP_RESULT": str(result),
                           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")})
    if not result.exists():
        raise RuntimeError(f"cocotb run wrote no result; see {work / 'test.log'}")
    r = json.loads(result.read_text())
    r.update(images_per_s=round(r["images"] / r["wall_s"], 4) if r["wall_s"] else None,
             cycles_per_s=round(r["cycles"] / r["wall_s"], 1) if r["wall_s"] else None,
             build_s=round(build_s, 1))
    return r


def run_simspeed(bundle_dir, n_verilator=100, n_icarus=2, work=None, log=print,
                 baseline=BASELINE_REV, configs=None):
    """``configs``: the tb.regress.SIM_CONFIGS to measure (default: SIM_DEFAULT only; the
    baseline revision's flow already stands for the first harness and its flags)."""
    from qgp.golden import datasets
    from qgp.golden.bundle import load_bundle

    bundle = load_bundle(bundle_dir)
    name = bundle.meta.get("dataset") or "fmnist"
    x, _ = datasets.load(name, "test")
    work = Path(work or (ROOT / "build" / "bench" / "simspeed"))
    configs = [R.SIM_DEFAULT] + [c for c in (configs or []) if c != R.SIM_DEFAULT]
    runs = {}
    for c in configs:
        runs[c] = verilator_speed(bundle_dir, bundle, x[:n_verilator], log=log, sim=c)
        r = runs[c]
        log(f"simspeed: verilator ({c}) {r['images_per_s']} images/s wall, "
            f"{r['cpu_images_per_s']} images per CPU second ({r['cycles_per_s']} cycles/s)")
    v = runs[R.SIM_DEFAULT]
    base_run = None
    if baseline:
        base_run = baseline_speed(baseline, bundle_dir, bundle, x[:n_verilator],
                                  work / "baseline", log=log)
        if base_run:
            log(f"simspeed: baseline {baseline} {base_run['images_per_s']} images/s wall, "
                f"{base_run['cpu_images_per_s']} images per CPU second")
    i = icarus_speed(bundle_dir, bundle, x[:n_icarus], work / "icarus", log=log)
    log(f"simspeed: icarus {i['images_per_s']} images/s ({i['cycles_per_s']} cycles/s)")
    base = runs.get("v1")
    out_base = {}
    if base_run:
        out_base = {"baseline": base_run,
                    "speedup_vs_baseline": round(v["images_per_s"] / base_run["images_per_s"], 2),
                    "cpu_speedup_vs_baseline": round(v["cpu_images_per_s"]
                                                     / base_run["cpu_images_per_s"], 2)
                    if base_run["cpu_images_per_s"] and v["cpu_images_per_s"] else None}
    return {**out_base, "verilator": v, "verilator_configs": runs, "cocotb_icarus": i,
            "speedup": round(v["images_per_s"] / i["images_per_s"], 1)
            if i.get("images_per_s") else None,
            "speedup_vs_v1": round(v["images_per_s"] / base["images_per_s"], 2)
            if base and base is not v else None,
            "cpu_speedup_vs_v1": round(v["cpu_images_per_s"] / base["cpu_images_per_s"], 2)
            if base and base is not v and base["cpu_images_per_s"] else None}
