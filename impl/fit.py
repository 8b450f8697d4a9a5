"""Device fit: the per-layer folding with the highest throughput that fits a device.

Throughput is set by the slowest layer: a plan's cycles per image is
``rtl.gen.plan.cycles_per_image`` (the input frame or the slowest layer's ``layer_cycles``). For
a target of C cycles per image every conv layer may fold as far as ``layer_cycles <= C`` allows
(``rtl.gen.plan.fold_for_cycles``), which minimizes its area at that throughput.
The planner walks every cycle budget a plan can have (``cycle_budgets``: each conv layer's
``layer_cycles`` at each FOLD that divides its CO, from C0 = the rate-matched plan's cycles, the
fastest the input stream allows, up to every conv layer at FOLD = CO), fastest first. A budget
whose predicted resources fit (logic cells, ``devices.logic_cells``: LUT4 and carries, at most
``devices.LUT_FILL`` of the device's LUT4, MULT18X18D and
DP16KD within capacity) is synthesized; the first whose synthesis fits is the answer, one that
does not adds its figures to the model and the walk goes on.

Resource model: per layer, resources as a function of PE, piecewise linear through the PEs
synthesized so far (first: the most folded plan and the plan at the middle budget; every
verification synthesis adds its PEs), extrapolated from the nearest two. A layer at FOLD 1 has
constant weights (no ROM, no multiplexers) and costs less than the line through folded PEs says:
the model errs on the safe side there, and the verification synthesis has the last word. The
rate-matched plan, the most expensive synthesis, is synthesized only when predicted to fit.
"""

from qgp.golden.bundle import load_bundle
from qgp.impl.devices import LUT_FILL, logic_cells
from qgp.rtl.gen.plan import cycles_per_image, fold_for_cycles, folding_plan, layer_cycles

RES = ("lut4", "ff", "ccu2c", "dsp", "bram")


def _fits(tot, dev):
    return (logic_cells(tot) <= LUT_FILL * dev["lut4"] and tot["dsp"] <= dev["dsp"]
            and tot["bram"] <= dev["bram"])


def _synth_plan(bundle_dir, out, tag, folding, jobs, log):
    from qgp.impl import flow
    ctx = flow.stage(bundle_dir, out / "plan" / tag, folding=folding)
    units = flow.synth_units(ctx, jobs=jobs, log=log)
    return ctx["net"], {u["name"]: u for u in units}


def plan_for_cycles(bundle, cycles):
    """{layer: PE} folding every conv layer as far as ``cycles`` per image allows."""
    pe = {}
    for L in bundle.layers:
        if L["type"] == "gsum_fc":
            continue
        pe[L["name"]] = int(L["out_channels"]) // fold_for_cycles(L, cycles)
    return pe


def _convs(bundle):
    return [L for L in bundle.layers if L["type"] != "gsum_fc"]


def cycle_budgets(bundle, c0):
    """Every cycles-per-image a folding of ``bundle``'s conv layers can set, from ``c0`` up to
    every conv layer at FOLD = CO, ascending: ``c0`` and each conv layer's ``layer_cycles`` at
    each FOLD dividing its CO (``plan_for_cycles`` of a budget folds one layer to exactly it)."""
    convs = _convs(bundle)
    top = max(layer_cycles(L, L["out_channels"]) for L in convs)
    found = {int(c0)}
    for L in convs:
        co = int(L["out_channels"])
        found.update(layer_cycles(L, f) for f in range(1, co + 1) if co % f == 0)
    return sorted(c for c in found if int(c0) <= c <= max(top, int(c0)))


def _interp(points, pe):
    """Resources at ``pe`` from {pe: {res: value}}: exact at a known PE, else linear through the
    two nearest known PEs (one known PE: proportional to PE)."""
    if pe in points:
        return dict(points[pe])
    known = sorted(points)
    if len(known) == 1:
        k = known[0]
        return {r: points[k][r] * pe / k for r in RES}
    below = [k for k in known if k < pe]
    above = [k for k in known if k > pe]
    a, b = (below[-1], above[0]) if below and above else ((known[-2], known[-1]) if below else (known[0], known[1]))
    return {r: points[a][r] + (points[b][r] - points[a][r]) * (pe - a) / (b - a) for r in RES}


def choose(bundle_dir, out, dev, jobs=2, log=print):
    """Pick the folding for ``dev``; returns {"folding", "cycles_per_image", "predicted_lut4",
    "reason", "candidates", "model"}."""
    from pathlib import Path
    out = Path(out)
    bundle = load_bundle(bundle_dir)
    names = [L["name"] for L in _convs(bundle)]
    base = {p["name"]: p["pe"] for p in folding_plan(bundle) if p["type"] != "gsum_fc"}
    c0 = cycles_per_image(bundle.meta, folding_plan(bundle))
    budgets = cycle_budgets(bundle, c0)
    points = {n: {} for n in names}      # layer -> {pe: measured resources}
    head = {}
    measured = {}                        # plan key -> measured totals

    def key(pe):
        return tuple(pe[n] for n in names)

    def measure(tag, pe):
        _, units = _synth_plan(bundle_dir, out, tag, pe, jobs, log)
        for n in names:
            points[n][pe[n]] = {r: units[n][r] for r in RES}
        head.update({r: sum(u[r] for n, u in units.items() if n not in pe) for r in RES})
        measured[key(pe)] = {r: sum(u[r] for u in units.values()) for r in RES}
        return measured[key(pe)]

    def predict(pe):
        if key(pe) in measured:
            return dict(measured[key(pe)])
        tot = dict(head)
        for n in names:
            for r, v in _interp(points[n], pe[n]).items():
                tot[r] += max(0, round(v))
        return tot

    # calibration: the most folded plan and the one at the middle budget
    lo = plan_for_cycles(bundle, budgets[-1])
    measure("folded", lo)
    mid = plan_for_cycles(bundle, budgets[len(budgets) // 2])
    if key(mid) != key(lo):
        measure("calibrate", mid)
    cands, chosen, prev = [], None, None
    for c in budgets:
        pe = base if c == c0 else plan_for_cycles(bundle, c)
        if key(pe) == prev:
            continue
        prev = key(pe)
        tot = predict(pe)
        cand = {"cycles_per_image": c, "pe": pe, "predicted": tot, "fits": _fits(tot, dev)}
        note = "fits" if cand["fits"] else "too big"
        if cand["fits"] and key(pe) not in measured:
            meas = measure(f"c{c}", pe)
            cand.update(measured=meas, fits=_fits(meas, dev))
            note = f"fits; synthesized: {meas['lut4']} LUT4 -> {'fits' if cand['fits'] else 'too big'}"
        elif key(pe) in measured:
            cand["measured"] = measured[key(pe)]
        cands.append(cand)
        log(f"  candidate {c} cycles/image: predicted {tot['lut4']} LUT4, {tot['dsp']} DSP, "
            f"{tot['bram']} DP16KD -> {note}")
        if cand["fits"]:
            chosen = cand
            break
    if chosen is None:
        chosen = cands[-1]               # the slowest plan: the most folded one
        reason = "no folding fits (the most folded plan is implemented to show by how much)"
    else:
        reason = (f"fastest plan that fits (LUT4 + 2 x CCU2C <= {100 * LUT_FILL:.0f} % of the LUT4), "
                  + ("synthesized" if "measured" in chosen else "predicted"))
    return {"folding": chosen["pe"], "cycles_per_image": chosen["cycles_per_image"],
            "predicted_lut4": chosen["predicted"]["lut4"], "reason": reason,
            "candidates": cands,
            "model": {n: {str(p): v for p, v in sorted(points[n].items())} for n in names}}
