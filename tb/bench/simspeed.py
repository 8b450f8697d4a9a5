"""Simulation speed: the Verilator harness vs cocotb + Icarus on the same images of the same net.

Both run one process, input always valid and output always ready, and check every image
against golden. images/s counts simulation only (not the build / elaboration)."""

import json
import os
import time
from pathlib import Path

import numpy as np

from tb import regress as R

ROOT = R.ROOT


def _golden(bundle, x):
    from golden import model

    g = model.run(bundle, x.astype(np.int64), keep_activations=False)
    return np.concatenate([g.logits, g.pred[:, None]], axis=1).astype(np.int64), g


def verilator_speed(bundle_dir, bundle, x, log=print):
    net = R.generate(bundle_dir)
    exe, build_s = R.build(net, log=log)
    res, shards, wall = R.simulate(exe, net, x, jobs=1, progress=False)
    _, g = _golden(bundle, x)
    bad = R.compare(res, g.logits, g.pred)
    cycles = max(r["out"] for r in res.values())
    return {"images": len(x), "mismatches": len(bad), "wall_s": round(wall, 3),
            "images_per_s": round(len(x) / wall, 2), "cycles_per_s": round(cycles / wall),
            "build_s": build_s}


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


def run_simspeed(bundle_dir, n_verilator=100, n_icarus=2, work=None, log=print):
    from golden import datasets
    from golden.bundle import load_bundle

    bundle = load_bundle(bundle_dir)
    name = bundle.meta.get("dataset") or "fmnist"
    x, _ = datasets.load(name, "test")
    work = Path(work or (ROOT / "build" / "bench" / "simspeed"))
    v = verilator_speed(bundle_dir, bundle, x[:n_verilator], log=log)
    log(f"simspeed: verilator {v['images_per_s']} images/s ({v['cycles_per_s']} cycles/s)")
    i = icarus_speed(bundle_dir, bundle, x[:n_icarus], work / "icarus", log=log)
    log(f"simspeed: icarus {i['images_per_s']} images/s ({i['cycles_per_s']} cycles/s)")
    return {"verilator": v, "cocotb_icarus": i,
            "speedup": round(v["images_per_s"] / i["images_per_s"], 1)
            if i.get("images_per_s") else None}
