"""Functional coverage of the cocotb testbenches (cocotb-coverage 2.0), sampled by the stream
monitors, and the merge / report / closure check (``python -m tb.common.coverage``).

Coverage items (all defined here, at import, so every database lists the same bins):
  conv_qgp.tap x sign x pos   tap (9) x sign (2) x window position (4 corners, 4 edges, interior)
                              of every kernel of the layer, for each output pixel that came out
  conv_dense.weight           weights at their extremes (min / max of the symmetric range), other
  requant.outcome x m_sign    (acc*m + b) >> shift below 0 (clamped low), above 2^abits-1
                              (clamped high) or in range, per output channel, x sign of m
  conv.fold x phase           each fold phase of FOLD = 1..4 while a window is offered
  maxpool2.out_pos            output pixel position (corners, edges, interior)
  axis.side x situation       on s_axis and m_axis: valid without ready, ready without valid, beat,
                              stall on the last beat of a frame, back-to-back frames (a frame's
                              first beat the clock after the previous frame's tlast beat)
  axis.reset_mid_frame        reset while a frame is partly through s_axis / m_axis
  gsum_fc.argmax              unique maximum / tie (the class then is the lowest index)

Sampling: ``attach(tb)`` (tb.common.tb.StreamTB) starts a per-clock handshake sampler and, by the
DUT's toplevel, hooks the output monitor: a conv core's output beat n is matched with the
window beat n seen by an input monitor (the accumulators are recomputed from that window and the
layer, so the requant outcome is the one of the beat that came out); maxpool2 / gsum_fc decode
their output beats. Each bin is sampled at most once per simulation, so a bin's hit count in
the merged report is the number of simulations (testbench runs) that hit it.

Every simulation exports its database (YAML) to build/coverage/db/ (``COV_DB`` overrides);
``python -m tb.common.coverage report`` merges them (across pytest-xdist workers: one file per
simulation process), writes build/coverage/<toplevel>.json per testbench and build/coverage.json
{"bins", "hit", "waived", "items": [...]}, prints a table and fails (exit 1) when a bin of the
committed baseline (tb/common/coverage_baseline.json) is no longer hit or a bin is neither hit
nor waived (tb/common/coverage_waivers.json: {"bin": "reason it cannot occur"}; keys starting
with "#" are comments).
"""

import argparse
import atexit
import json
import os
import sys
from collections import deque
from pathlib import Path

from cocotb_coverage.coverage import CoverCross, CoverPoint, coverage_db

REPO = Path(__file__).resolve().parents[2]
DB_DIR = Path(os.environ.get("COV_DB", REPO / "build" / "coverage" / "db"))
OUT_DIR = REPO / "build" / "coverage"
WAIVERS = Path(__file__).with_name("coverage_waivers.json")
BASELINE = Path(__file__).with_name("coverage_baseline.json")

POS = ["tl", "t", "tr", "l", "in", "r", "bl", "b", "br"]
SITUATIONS = ["valid_no_ready", "ready_no_valid", "beat", "stall_on_last", "back_to_back_frames"]
FOLDS = [(f, p) for f in range(1, 5) for p in range(f)]
# the module testbenches sample per clock; the layer / network testbenches (long real-data runs,
# same blocks) are left unsampled to keep make test's time
SAMPLED_TOPS = ("axis_fifo", "axis_skid", "window3x3", "conv_qgp", "conv_dense", "maxpool2", "gsum_fc")


def pos_class(y, x, h, w):
    """Position of pixel (y, x) in an h x w frame: tl t tr l in r bl b br."""
    r = "t" if y == 0 else ("b" if y == h - 1 else "")
    c = "l" if x == 0 else ("r" if x == w - 1 else "")
    return (r + c) or "in"


# ---------------------------------------------------------------- coverage items (the bins)

@CoverPoint("conv_qgp.tap", vname="tap", bins=list(range(9)))
@CoverPoint("conv_qgp.sign", vname="sign", bins=[0, 1])
@CoverPoint("conv_qgp.pos", vname="pos", bins=POS)
@CoverCross("conv_qgp.tap_x_sign_x_pos", items=["conv_qgp.tap", "conv_qgp.sign", "conv_qgp.pos"])
def _s_qgp(tap, sign, pos):
    pass


@CoverPoint("conv_dense.weight", vname="kind", bins=["min", "max", "other"])
def _s_dense(kind):
    pass


@CoverPoint("requant.outcome", vname="outcome", bins=["clamp_low", "in_range", "clamp_high"])
@CoverPoint("requant.m_sign", vname="m_sign", bins=["neg", "pos"])
@CoverCross("requant.outcome_x_m_sign", items=["requant.outcome", "requant.m_sign"])
def _s_requant(outcome, m_sign):
    pass


@CoverPoint("conv.fold_phase", xf=lambda fold, phase: (fold, phase), bins=FOLDS)
def _s_fold(fold, phase):
    pass


@CoverPoint("maxpool2.out_pos", vname="pos", bins=POS)
def _s_pool(pos):
    pass


@CoverPoint("axis.side", vname="side", bins=["s_axis", "m_axis"])
@CoverPoint("axis.situation", vname="situation", bins=SITUATIONS)
@CoverCross("axis.side_x_situation", items=["axis.side", "axis.situation"])
def _s_hs(side, situation):
    pass


@CoverPoint("axis.reset_mid_frame", vname="side", bins=["s_axis", "m_axis"])
def _s_rst(side):
    pass


@CoverPoint("gsum_fc.argmax", vname="kind", bins=["unique", "tie"])
def _s_argmax(kind):
    pass


_seen = set()


def sample(fn, *args):
    """Sample ``fn(*args)`` once per simulation (see the module docstring)."""
    key = (fn.__name__,) + args
    if key not in _seen:
        _seen.add(key)
        fn(*args)


# ---------------------------------------------------------------- sampling from a StreamTB

def _int(sig):
    try:
        return int(sig.value)
    except ValueError:
        return None


def _signed(v, bits):
    return v - (1 << bits) if v >> (bits - 1) else v


class Coverage:
    """Coverage sampling of one StreamTB (see ``attach``)."""

    def __init__(self, tb):
        import cocotb
        self.tb = tb
        self.dut = tb.dut
        self.kind = self.dut._name
        _top[0] = self.kind
        self.p = tb.p
        self.layer = getattr(tb, "layer", None)
        self.windows = deque()
        self.n_out = 0
        self.in_monitor = None
        self.fold = None
        if self.kind in ("conv_qgp", "conv_dense") and self.layer is not None:
            self._conv_setup()
        if self.kind in SAMPLED_TOPS:
            cocotb.start_soon(self._handshakes())
        atexit.register(export)

    # conv cores: the layer's kernels, the window decoder and the fold counter
    def _conv_setup(self):
        import numpy as np
        L = self.layer
        self.np = np
        self.hw = (L["height"], L["width"])
        self.ci = L["in_channels"]
        self.ib = L["in_bits"]
        rq = L["requant"]
        self.m = np.asarray(rq["m"], dtype=np.int64)
        self.b = np.asarray(rq["b"], dtype=np.int64)
        self.shift = int(rq["shift"])
        self.ymax = (1 << L["abits"]) - 1
        if self.kind == "conv_qgp":
            tap, sign = np.asarray(L["tap"]), np.asarray(L["sign"])
            self.pairs = sorted({(int(t), int(s)) for t, s in zip(tap.ravel(), sign.ravel())})
            self.sel = tap.astype(np.int64) * self.ci + np.arange(self.ci)[None, :]   # [co, ci] index into win
            self.sgn = 1 - 2 * sign.astype(np.int64)
        else:
            w = np.asarray(L["weight"], dtype=np.int64)                      # [co, ci, 3, 3]
            self.wmat = w.transpose(0, 2, 3, 1).reshape(w.shape[0], 9 * self.ci)  # tap-major
            hi = (1 << (L["wbits"] - 1)) - 1
            self.wkinds = sorted({"max" if v == hi else "min" if v == -hi else "other"
                                  for v in w.ravel().tolist()})
        # conv_dense holds its conv_pipe itself, conv_qgp inside conv_qgp_core
        self.fold = None
        for path in (("pipe",), ("core", "pipe")):
            try:
                h = self.dut
                for name in path:
                    h = getattr(h, name)
                self.fold = getattr(h, "fold")
                break
            except AttributeError:
                continue

    def hook(self, monitor):
        """Called for every new output monitor (StreamTB.new_scoreboard): restart the beat count."""
        from qgp.tb.common.axis import StreamMonitor
        if self.kind not in SAMPLED_TOPS:
            return
        self.n_out = 0
        self.windows.clear()
        monitor.add_callback(self._out_beat)
        if self.kind in ("conv_qgp", "conv_dense") and self.layer is not None:
            if self.in_monitor is not None:
                self.in_monitor.kill()
            self.in_monitor = StreamMonitor(self.dut, "s_axis", self.dut.clk, reset=self.dut.rst)
            self.in_monitor.add_callback(lambda beat: self.windows.append(beat.data))

    def _out_beat(self, beat):
        n = self.n_out
        self.n_out += 1
        if beat.data is None:
            return
        if self.kind in ("conv_qgp", "conv_dense") and self.layer is not None:
            if self.windows:
                self._conv_beat(n, self.windows.popleft())
        elif self.kind == "maxpool2":
            h, w = self.p["H"] // 2, self.p["W"] // 2
            k = n % (h * w)
            sample(_s_pool, pos_class(k // w, k % w, h, w))
        elif self.kind == "gsum_fc":
            lw, cw, k = self.p["LOGIT_W"], self.p["CLASS_W"], self.p["K"]
            lg = [_signed((beat.data >> (cw + i * lw)) & ((1 << lw) - 1), lw) for i in range(k)]
            sample(_s_argmax, "tie" if lg.count(max(lg)) > 1 else "unique")

    def _conv_beat(self, n, wdata):
        np = self.np
        h, w = self.hw
        k = n % (h * w)
        pos = pos_class(k // w, k % w, h, w)
        if wdata is None:
            return
        mask = (1 << self.ib) - 1
        win = np.array([(wdata >> (j * self.ib)) & mask for j in range(9 * self.ci)], dtype=np.int64)
        if self.kind == "conv_qgp":
            for t, s in self.pairs:
                sample(_s_qgp, t, s, pos)
            acc = (self.sgn * win[self.sel]).sum(axis=1)
        else:
            for kind in self.wkinds:
                sample(_s_dense, kind)
            acc = self.wmat @ win
        # golden's requant before its clamp (golden.model, the one owner of the formula)
        from qgp.golden.model import requant_unclamped
        pre = requant_unclamped(acc[None, :, None, None], self.m, self.b, self.shift)[0, :, 0, 0]
        for v, mv in zip(pre.tolist(), self.m.tolist()):
            outcome = "clamp_low" if v < 0 else ("clamp_high" if v > self.ymax else "in_range")
            sample(_s_requant, outcome, "neg" if mv < 0 else "pos")

    async def _handshakes(self):
        from cocotb.triggers import RisingEdge
        dut = self.dut
        clk = RisingEdge(dut.clk)
        sides = []
        for side in ("s_axis", "m_axis"):
            v, r = getattr(dut, f"{side}_tvalid"), getattr(dut, f"{side}_tready")
            last = getattr(dut, f"{side}_tlast", None)
            sides.append([side, v, r, last, False, 0])   # ..., last beat was tlast, beats in frame
        fold_n = self.p.get("CO", 0) // self.p.get("PE", 1) if self.fold is not None else 0
        prev_rst = 1
        while True:
            await clk
            rst = _int(dut.rst)
            if rst == 1:
                if prev_rst == 0:
                    for sd in sides:
                        if sd[5] > 0:
                            sample(_s_rst, sd[0])
                for sd in sides:
                    sd[4], sd[5] = False, 0
                prev_rst = 1
                continue
            prev_rst = 0
            for sd in sides:
                side, vs, rs, ls, after_last, nbeats = sd
                v, r = _int(vs), _int(rs)
                last = _int(ls) if ls is not None else 0
                if v == 1 and r == 1:
                    sample(_s_hs, side, "beat")
                    if after_last:
                        sample(_s_hs, side, "back_to_back_frames")
                    sd[4] = last == 1
                    sd[5] = 0 if last == 1 else nbeats + 1
                else:
                    sd[4] = False
                    if v == 1 and r == 0:
                        sample(_s_hs, side, "valid_no_ready")
                        if last == 1:
                            sample(_s_hs, side, "stall_on_last")
                    elif v == 0 and r == 1:
                        sample(_s_hs, side, "ready_no_valid")
            if fold_n and _int(dut.s_axis_tvalid) == 1 and 1 <= fold_n <= 4:
                f = _int(self.fold)
                if f is not None and f < fold_n:
                    sample(_s_fold, fold_n, f)


class _Off:
    def hook(self, monitor):
        pass


def attach(tb):
    """Coverage sampling for a StreamTB (QGP_COVERAGE=0 in the environment turns it off)."""
    if os.environ.get("QGP_COVERAGE") == "0":
        return _Off()
    return Coverage(tb)


_top = ["sim"]


def export():
    """Write this simulation's database to DB_DIR: <toplevel>_<parameter hash>-<pid>.yml, one
    file per simulation process. Never fails the test: a database that cannot be written shows
    up as missing bins in the report, which then fails."""
    if not _seen:
        return
    import hashlib
    key = hashlib.sha1(os.environ.get("TB_PARAMS", "").encode()).hexdigest()[:8]
    name = f"{_top[0]}_{key}-{os.getpid()}.yml"
    try:
        DB_DIR.mkdir(parents=True, exist_ok=True)
        tmp = DB_DIR / (name + ".tmp")
        coverage_db.export_to_yaml(str(tmp))
        os.replace(tmp, DB_DIR / name)
    except OSError as e:
        print(f"warning: coverage database {DB_DIR / name} not written: {e}", file=sys.stderr)


# ---------------------------------------------------------------- merge and report

def all_bins():
    """{(item, bin label)} of every coverage item defined above (the universe of bins)."""
    out = []
    for name in sorted(coverage_db, key=str.lower):
        item = coverage_db[name]
        if not isinstance(item, (CoverPoint, CoverCross)):
            continue
        for key in item.detailed_coverage:
            out.append(f"{name}:{key}")
    return out


def _load_db(path):
    import yaml
    data = yaml.safe_load(path.read_text()) or {}
    hits = {}
    for name, attrs in data.items():
        for key, n in (attrs.get("bins:_hits") or {}).items():
            hits[f"{name}:{key}"] = int(n)
    return hits


def _err(msg):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(2)


def report(db_dir, out, check=True, update_baseline=False):
    bins = all_bins()
    files = sorted(db_dir.glob("*.yml")) if db_dir.is_dir() else []
    if not files:
        _err(f"{db_dir}: no coverage databases (run the cocotb testbenches first: make coverage)")
    merged = {b: 0 for b in bins}
    per_tb = {}
    for f in files:
        tb = _toplevel(f.name)
        hits = _load_db(f)
        d = per_tb.setdefault(tb, {"simulations": 0, "hits": {}})
        d["simulations"] += 1
        for b, n in hits.items():
            if b in merged and n > 0:
                merged[b] += n
                d["hits"][b] = d["hits"].get(b, 0) + n
    try:
        waivers = json.loads(WAIVERS.read_text()) if WAIVERS.exists() else {}
    except json.JSONDecodeError as e:
        _err(f"{WAIVERS}: not valid JSON ({e})")
    waivers = {b: r for b, r in waivers.items() if not b.startswith("#")}
    for b, reason in waivers.items():
        if b not in merged:
            _err(f"{WAIVERS}: {b}: no such bin")
        if not isinstance(reason, str) or not reason.strip():
            _err(f"{WAIVERS}: {b}: a waiver needs the reason the bin cannot occur")
    items = []
    for b in bins:
        e = {"bin": b, "hits": merged[b]}
        if merged[b] == 0 and b in waivers:
            e["waived"] = waivers[b]
        items.append(e)
    hit = sum(1 for e in items if e["hits"] > 0)
    waived = sum(1 for e in items if "waived" in e)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for tb, d in sorted(per_tb.items()):
        _write_json(OUT_DIR / f"{tb}.json", {"testbench": tb, "simulations": d["simulations"],
                                              "hit": len(d["hits"]), "bins": d["hits"]})
    summary = {"bins": len(bins), "hit": hit, "waived": waived,
               "simulations": len(files), "items": items}
    _write_json(out, summary)
    # table: per coverage item
    groups = {}
    for e in items:
        g = groups.setdefault(e["bin"].rsplit(":", 1)[0], [0, 0, 0])
        g[0] += 1
        g[1] += e["hits"] > 0
        g[2] += "waived" in e
    w = max(len(g) for g in groups)
    print(f"{'coverage item':<{w}}  {'bins':>5} {'hit':>5} {'waived':>6}")
    for g, (n, h, wv) in groups.items():
        print(f"{g:<{w}}  {n:>5} {h:>5} {wv:>6}")
    sims = ", ".join(f"{k} {v['simulations']}" for k, v in sorted(per_tb.items()))
    print(f"coverage: {hit} hit + {waived} waived of {len(bins)} bins from {len(files)} simulations "
          f"({sims}) -> {out}")
    hit_bins = sorted(e["bin"] for e in items if e["hits"] > 0)
    if update_baseline:
        _write_json(BASELINE, hit_bins)
        print(f"baseline: {len(hit_bins)} hit bins written to {BASELINE}")
    rc = 0
    if check:
        base = json.loads(BASELINE.read_text()) if BASELINE.exists() else []
        lost = sorted(set(base) - set(hit_bins))
        for b in lost:
            print(f"error: coverage: bin {b} was hit (tb/common/coverage_baseline.json) and is no longer hit",
                  file=sys.stderr)
        holes = [e["bin"] for e in items if e["hits"] == 0 and "waived" not in e]
        for b in holes:
            print(f"error: coverage: bin {b} neither hit nor waived", file=sys.stderr)
        rc = 1 if lost or holes else 0
    return rc


def _toplevel(fname):
    """Toplevel of a database file name (<sim build dir>-<pid>.yml; build dirs start with it)."""
    stem = fname.rsplit("-", 1)[0]
    for top in ("conv_qgp", "conv_dense", "conv_layer", "axis_fifo", "axis_skid", "window3x3",
                "maxpool2", "gsum_fc", "requant", "qgp_net"):
        if stem.startswith(top):
            return top
    return stem.split("_")[0]


def _write_json(path, obj):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=1) + "\n")
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tb.common.coverage",
                                 description="merge the cocotb coverage databases and report closure")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("report", help="merge build/coverage/db/*.yml -> build/coverage.json + table")
    r.add_argument("--db", default=str(DB_DIR), help="directory of the per-simulation databases")
    r.add_argument("--out", default=str(REPO / "build" / "coverage.json"), help="merged report")
    r.add_argument("--no-check", action="store_true", help="report only (no baseline / closure check)")
    r.add_argument("--update-baseline", action="store_true",
                   help="write the hit bins to tb/common/coverage_baseline.json")
    sub.add_parser("clean", help="remove the per-simulation databases")
    args = ap.parse_args(argv)
    if args.cmd == "clean":
        import shutil
        shutil.rmtree(DB_DIR, ignore_errors=True)
        return 0
    return report(Path(args.db), Path(args.out), check=not args.no_check,
                  update_baseline=args.update_baseline)


if __name__ == "__main__":
    sys.exit(main())
