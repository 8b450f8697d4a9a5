"""Device fit: the per-layer folding with the highest throughput that fits a device.

Throughput is set by the slowest layer: a plan's cycles per image is
``rtl.gen.plan.cycles_per_image`` (the input frame or the slowest layer's ``layer_cycles``). For
a target of C cycles per image every conv layer may fold as far as ``layer_cycles <= C`` allows
(``rtl.gen.plan.fold_for_cycles``), which minimizes its area at that throughput.
The planner walks every cycle budget a plan can have (``cycle_budgets``: each conv layer's
``layer_cycles`` at each FOLD that divides its CO, from C0 = the rate-matched plan's cycles, the
fastest the input stream allows, up to every conv layer at FOLD = CO), fastest first, and takes the
first whose predicted resources fit: LUT4 at most ``devices.LUT_FILL`` of the device, MULT18X18D
and DP16KD within capacity.

Resource model: per layer, resources linear in PE (LUT4(pe) = a + b*pe, the same for FF, DSP,
BRAM), calibrated on two syntheses of that layer: the rate-matched plan and one with every
conv layer folded twice as far. The rate-matched plan is synthesized first; if it fits, it is
the answer and no model is needed.
"""

from qgp.golden.bundle import load_bundle
from qgp.impl.devices import LUT_FILL
from qgp.rtl.gen.plan import fold_for_cycles, folding_plan, layer_cycles

RES = ("lut4", "ff", "dsp", "bram")


def _fits(tot, dev):
    return (tot["lut4"] <= LUT_FILL * dev["lut4"] and tot["dsp"] <= dev["dsp"]
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


def choose(bundle_dir, out, dev, jobs=2, log=print):
    """Pick the folding for ``dev``; returns {"folding", "cycles_per_image", "predicted_lut4",
    "candidates", "model"}."""
    from pathlib import Path
    out = Path(out)
    bundle = load_bundle(bundle_dir)
    base = {p["name"]: p["pe"] for p in folding_plan(bundle) if p["type"] != "gsum_fc"}
    net0, u0 = _synth_plan(bundle_dir, out, "rate-matched", base, jobs, log)
    tot0 = {k: sum(u[k] for u in u0.values()) for k in RES}
    c0 = net0["cycles_per_image"]
    log(f"rate-matched plan: {c0} cycles/image, {tot0['lut4']} LUT4, {tot0['dsp']} DSP, "
        f"{tot0['bram']} DP16KD")
    if _fits(tot0, dev):
        return {"folding": base, "cycles_per_image": c0, "predicted_lut4": tot0["lut4"],
                "reason": "the rate-matched plan fits", "candidates": [
                    {"cycles_per_image": c0, **tot0, "fits": True}]}
    # calibrate: every conv layer folded twice as far (where CO allows)
    half = plan_for_cycles(bundle, 2 * c0)
    net1, u1 = _synth_plan(bundle_dir, out, "calibrate", half, jobs, log)
    model = {}
    for name, pe0 in base.items():
        pe1 = half[name]
        m = {}
        for k in RES:
            y0, y1 = u0[name][k], u1[name][k]
            b = (y0 - y1) / (pe0 - pe1) if pe0 != pe1 else 0.0
            m[k] = (y0 - b * pe0, b)
        model[name] = m
    head = {k: sum(u[k] for n, u in u0.items() if n not in base) for k in RES}

    def predict(pe):
        tot = dict(head)
        for name, p in pe.items():
            for k in RES:
                a, b = model[name][k]
                tot[k] += max(0, round(a + b * p))
        return tot

    cands = []
    chosen = None
    for c in cycle_budgets(bundle, c0):
        pe = plan_for_cycles(bundle, c)
        if cands and pe == cands[-1]["pe"]:
            continue
        tot = predict(pe)
        fits = _fits(tot, dev)
        cands.append({"cycles_per_image": c, "pe": pe, **tot, "fits": fits})
        log(f"  candidate {c} cycles/image: predicted {tot['lut4']} LUT4, {tot['dsp']} DSP, "
            f"{tot['bram']} DP16KD -> {'fits' if fits else 'too big'}")
        if fits:
            chosen = (c, pe, tot)
            break
    if chosen is None:
        c, pe, tot = cands[-1]["cycles_per_image"], cands[-1]["pe"], predict(cands[-1]["pe"])
        reason = "no folding fits (the most folded plan is implemented to show by how much)"
    else:
        reason = f"fastest plan predicted to fit (LUT4 <= {100 * LUT_FILL:.0f} %)"
    return {"folding": pe, "cycles_per_image": c, "predicted_lut4": tot["lut4"],
            "reason": reason, "candidates": cands,
            "model": {n: {k: [round(a, 1), round(b, 2)] for k, (a, b) in m.items()}
                      for n, m in model.items()}}
