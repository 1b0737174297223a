"""The report's generated sentences.

Every sentence is computed from the measured numbers (who leads at each n, by how much, whether
the CIs overlap, how many labels one pipeline needs to match another, how the gap moves with n
and under shift), so the prose is always about this run.
"""
from __future__ import annotations

from workbench.report import stats
from workbench.report.formatting import f3, fflops, fnum, fsize
from workbench.report.loading import pretraining_of

CLOSE = 0.005  # gaps that move less than this are "about the same"


def _gap_trend(g0: float, g1: float) -> str:
    if g0 > 0 > g1 or g0 < 0 < g1:
        return "reverses"
    if abs(abs(g1) - abs(g0)) < CLOSE:
        return "stays about the same"
    return "narrows" if abs(g1) < abs(g0) else "widens"


def _compute_text(pre: dict) -> str:
    if not pre or not (pre.get("tokens") or pre.get("flops")):
        return "none" + (f" ({pre['method']})" if pre.get("method") else "")
    parts = []
    if pre.get("flops"):
        parts.append(f"{fflops(pre['flops'])} FLOPs")
    if pre.get("tokens"):
        parts.append(f"{fnum(pre['tokens'])} tokens")
    if pre.get("seconds"):
        parts.append(f"{fnum(float(pre['seconds']))} s")
    return ", ".join(parts)


def summary_sentences(run) -> list[str]:
    """The generated summary: every sentence is computed from this run's numbers."""
    metric, test = run["metric"], run["summaries"]["test"]
    out: list[str] = []
    if not test:
        return [f"No test scores for {metric} were found in results.jsonl, so there is nothing to compare yet."]
    sizes = stats.sizes_of(test)
    order = stats.overall_ranking(test)
    for n in sizes:
        ranked = stats.ranking(test, n)
        lead = test[(ranked[0], n)]
        if len(ranked) == 1:
            out.append(f"At n={n} only {ranked[0]} was measured: {f3(lead['mean'])} {metric}.")
            continue
        second = test[(ranked[1], n)]
        overlap = stats.ci_overlap(test, ranked[0], ranked[1], n)
        out.append(f"At n={n}, {ranked[0]} leads with {f3(lead['mean'])} {metric}, "
                   f"{f3(lead['mean'] - second['mean'])} ahead of {ranked[1]} ({f3(second['mean'])}); "
                   + ("their 95% CIs overlap, so this lead is not clearly resolved with "
                      f"{min(lead['k'], second['k'])} seeds." if overlap else "their 95% CIs do not overlap."))
    if len(order) >= 2:
        best, runner = order[0], order[1]
        common = [n for n in sizes if (best, n) in test and (runner, n) in test]
        if len(common) >= 2:
            g0 = test[(best, common[0])]["mean"] - test[(runner, common[0])]["mean"]
            g1 = test[(best, common[-1])]["mean"] - test[(runner, common[-1])]["mean"]
            trend = _gap_trend(g0, g1)
            if trend == "reverses":
                out.append(f"The order of {best} and {runner} reverses with more labels: {best} - {runner} is "
                           f"{g0:+.3f} at n={common[0]} and {g1:+.3f} at n={common[-1]}.")
            else:
                out.append(f"Over all sizes {best} is best and {runner} second; the gap between them "
                           f"{trend} from {g0:+.3f} at n={common[0]} to {g1:+.3f} at n={common[-1]}.")
        curve_best = stats.curve(test, best)
        for other in order[1:]:
            curve_other = stats.curve(test, other)
            n_b = max(curve_other)
            m = stats.labels_to_match(curve_best, curve_other, n_b)
            if m["bound"] == "exact":
                out.append(f"With about {fsize(m['n'])} labels {best} matches what {other} reaches with {n_b} "
                           f"({f3(m['target'])}).")
            elif m["bound"] == "at_most":
                out.append(f"With at most {fsize(m['n'])} labels (its smallest size) {best} already matches what "
                           f"{other} reaches with {n_b} ({f3(m['target'])}).")
            else:
                out.append(f"{best} does not reach {other}'s score with {n_b} labels ({f3(m['target'])}) at any "
                           f"measured size.")
            n_small = min(curve_best)
            back = stats.labels_to_match(curve_other, curve_best, n_small)
            if back["bound"] == "not_reached":
                out.append(f"{other} never reaches {best}'s score with {n_small} labels ({f3(back['target'])}) "
                           f"within its measured sizes (up to {max(curve_other)}).")
            elif back["bound"] == "exact":
                out.append(f"{other} needs about {fsize(back['n'])} labels to match {best} with {n_small}.")
    shifted = run["summaries"]["shifted"]
    if shifted and len(order) >= 2:
        best, runner = order[0], order[1]
        both = [n for n in sizes if all((p, n) in d for p in (best, runner) for d in (test, shifted))]
        if both:
            n = both[-1]
            gt = test[(best, n)]["mean"] - test[(runner, n)]["mean"]
            gs = shifted[(best, n)]["mean"] - shifted[(runner, n)]["mean"]
            word = ("larger" if abs(gs) > abs(gt) + CLOSE else "smaller" if abs(gs) < abs(gt) - CLOSE
                    else "about the same")
            out.append(f"On the shifted split at n={n}, {best} - {runner} is {gs:+.3f} against {gt:+.3f} on test: "
                       f"the gap is {word} under shift.")
        drops = [test[k]["mean"] - shifted[k]["mean"] for k in test if k in shifted]
        if drops:
            mean_drop = sum(drops) / len(drops)
            verb = "lose" if mean_drop > 0 else "gain"
            out.append(f"Averaged over pipelines and sizes, scores {verb} {abs(mean_drop):.3f} {metric} from test to "
                       f"shifted.")
        lead_shift = stats.ranking(shifted, max(stats.sizes_of(shifted)))
        lead_test = stats.ranking(test, max(sizes))
        if lead_shift and lead_test and lead_shift[0] != lead_test[0]:
            out.append(f"The leader at the largest size differs: {lead_test[0]} on test, {lead_shift[0]} on shifted.")
    pres = {p: pretraining_of(run, p) for p in order}
    with_compute = [f"{p}: {_compute_text(pre)}" for p, pre in pres.items()]
    if with_compute:
        out.append("Pretraining compute: " + "; ".join(with_compute) + ".")
    budgets = stats.summarize_budgets(run["results"], "test", metric)
    if budgets:
        hi = max(budgets, key=lambda k: (k[2], k[1]))
        keys = sorted((k for k in budgets if k[:2] == hi[:2]), key=lambda k: k[2])
        lo = keys[0]
        if lo == hi:
            sentence = (f"Under a pretraining budget, {hi[0]} at n={hi[1]} scores {f3(budgets[hi]['mean'])} after "
                        f"{fflops(hi[2])} FLOPs")
        else:
            sentence = (f"Under a pretraining budget, {hi[0]} at n={hi[1]} scores {f3(budgets[lo]['mean'])} after "
                        f"{fflops(lo[2])} FLOPs and {f3(budgets[hi]['mean'])} after {fflops(hi[2])} FLOPs")
        statics = [(p, test[(p, hi[1])]["mean"]) for p in order if p != hi[0] and (p, hi[1]) in test]
        if statics:
            ref, ref_score = max(statics, key=lambda x: x[1])
            passing = [k for k in keys if budgets[k]["mean"] > ref_score]
            sentence += (f"; it passes {ref} ({f3(ref_score)}) from {fflops(passing[0][2])} FLOPs on" if passing
                         else f"; it stays below {ref} ({f3(ref_score)}) at every budget")
        out.append(sentence + ".")
    if run["warnings"]:
        out.append(f"{len(run['warnings'])} warning(s) while reading the run (see Warnings).")
    return out


def comparison_sentences(runs) -> list[str]:
    """Generated cross-run prose: each run's leader at its largest n, and shared pipelines' differences."""
    out = []
    for run in runs:
        test = run["summaries"]["test"]
        if test:
            n = max(stats.sizes_of(test))
            lead = stats.ranking(test, n)[0]
            out.append(f"{run['name']} ({run['task']} on {run['corpus']}): {lead} leads at n={n} with "
                       f"{f3(test[(lead, n)]['mean'])} {run['metric']}.")
    first = runs[0]
    for other in runs[1:]:
        if other["metric"] != first["metric"]:
            out.append(f"{first['name']} and {other['name']} use different primary metrics ({first['metric']} vs "
                       f"{other['metric']}): compare their numbers with care.")
        a, b = first["summaries"]["test"], other["summaries"]["test"]
        for p in stats.pipelines_of(a):
            common = sorted(set(stats.sizes_of(a, p)) & set(stats.sizes_of(b, p)))
            if common:
                n = common[-1]
                d = a[(p, n)]["mean"] - b[(p, n)]["mean"]
                out.append(f"{p} at n={n}: {f3(a[(p, n)]['mean'])} in {first['name']} vs {f3(b[(p, n)]['mean'])} in "
                           f"{other['name']} ({d:+.3f}).")
    return out

