"""The report's generated sentences.

Every sentence is computed from the measured numbers (who leads at each n, by how much, how many
labels one pipeline needs to match another, how the gap moves with n and under shift), so the
prose is always about this run. A lead, a reversal or a labels-to-match is stated only where the
difference is resolved (`stats.separation`: 95% intervals apart, or the paired t-test at
stats.ALPHA, and the sentence says which); otherwise the sentence says the curves do not separate.
"""

from __future__ import annotations

from workbench.report import protocol, stats
from workbench.report.formatting import f3, fflops, fnum, fsize
from workbench.report.loading import pretraining_of, pretraining_source

CLOSE = 0.005  # gaps that move less than this are "about the same"


def _gap_trend(g0: float, g1: float) -> str:
    if g0 > 0 > g1 or g0 < 0 < g1:
        return "reverses"
    if abs(abs(g1) - abs(g0)) < CLOSE:
        return "stays about the same"
    return "narrows" if abs(g1) < abs(g0) else "widens"


def _compute_text(pre: dict) -> str:
    source = pretraining_source(pre)
    if source == "none":
        return (pre or {}).get("method") or "none"  # "none", "none (random weights)"
    if source == "elsewhere":  # vectors from a file, a transformers checkpoint: its compute is not known here
        return f"not known, made elsewhere ({pre['method']})"
    parts = []
    if pre.get("flops"):
        parts.append(f"{fflops(pre['flops'])} FLOPs")
    if pre.get("tokens"):
        parts.append(f"{fnum(pre['tokens'])} tokens")
    if pre.get("seconds"):
        parts.append(f"{fnum(float(pre['seconds']))} s")
    return ", ".join(parts)


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _lead_at(run, summary, split: str, n: int) -> str:
    """Who leads at n, stated as a lead only against the pipelines it is resolved from."""
    metric, results = run["metric"], run["results"]
    ranked = stats.ranking(summary, n)
    lead = summary[(ranked[0], n)]
    if len(ranked) == 1:
        return f"At n={n} only {ranked[0]} was measured: {f3(lead['mean'])} {metric}."
    seps = {p: stats.separation(summary, results, ranked[0], p, n, split, metric) for p in ranked[1:]}
    tied = [p for p in ranked[1:] if not seps[p]["resolved"]]
    second = summary[(ranked[1], n)]
    if not tied:
        return (
            f"At n={n}, {ranked[0]} leads with {f3(lead['mean'])} {metric}, {f3(lead['mean'] - second['mean'])} "
            f"ahead of {ranked[1]} ({f3(second['mean'])}), resolved against every other pipeline "
            f"({seps[ranked[1]]['why']} against {ranked[1]})."
        )
    names = _and([f"{p} ({f3(summary[(p, n)]['mean'])})" for p in [ranked[0]] + tied])
    sentence = (
        f"At n={n} the curves of {names} do not separate ({ranked[0]} against {tied[0]}: {seps[tied[0]]['why']})."
    )
    behind = [p for p in ranked[1:] if seps[p]["resolved"]]
    if behind:
        sentence += f" {ranked[0]} is resolved ahead of {_and(behind)}."
    return sentence


def _gap_sentence(run, test, best: str, runner: str, common: list[int]) -> str:
    """How the gap between the two best pipelines moves from the smallest to the largest common n."""
    metric, results = run["metric"], run["results"]
    n0, n1 = common[0], common[-1]
    g0 = test[(best, n0)]["mean"] - test[(runner, n0)]["mean"]
    g1 = test[(best, n1)]["mean"] - test[(runner, n1)]["mean"]
    s0, s1 = (stats.separation(test, results, best, runner, n, "test", metric) for n in (n0, n1))
    if not (s0["resolved"] or s1["resolved"]):
        return (
            f"{best} has the higher mean over all sizes and {runner} the next, but they do not separate at "
            f"n={n0} ({s0['why']}) or at n={n1} ({s1['why']})."
        )
    trend = _gap_trend(g0, g1)
    if trend == "reverses" and s0["resolved"] and s1["resolved"]:
        return (
            f"The order of {best} and {runner} reverses with more labels: {best} - {runner} is {g0:+.3f} at "
            f"n={n0} and {g1:+.3f} at n={n1}, both resolved."
        )
    if trend == "reverses":
        trend = "changes sign (the sign is not resolved at both ends)"

    def state(s):
        return "resolved" if s["resolved"] else "not resolved"

    return (
        f"Over all sizes {best} is best and {runner} second; the gap between them {trend} from {g0:+.3f} at "
        f"n={n0} ({state(s0)}) to {g1:+.3f} at n={n1} ({state(s1)})."
    )


def _match_sentences(run, test, best: str, other: str) -> list[str]:
    """Labels to match between the best pipeline and another, only where their curves separate: best is
    resolved ahead of `other` at some common n, and, for what `other` needs to match best's smallest
    size, at that size."""
    metric, results = run["metric"], run["results"]
    common = [n for n in stats.sizes_of(test, best) if (other, n) in test]
    ahead = [
        n
        for n in common
        if test[(best, n)]["mean"] > test[(other, n)]["mean"]
        and stats.separation(test, results, best, other, n, "test", metric)["resolved"]
    ]
    if not ahead:
        return [f"{best} and {other} do not separate at any measured n, so no labels-to-match is stated for them."]
    curve_best, curve_other = stats.curve(test, best), stats.curve(test, other)
    out = []
    n_b = max(curve_other)
    m = stats.labels_to_match(curve_best, curve_other, n_b)
    if m["bound"] == "exact":
        out.append(
            f"With about {fsize(m['n'])} labels {best} matches what {other} reaches with {n_b} ({f3(m['target'])})."
        )
    elif m["bound"] == "at_most":
        out.append(
            f"With at most {fsize(m['n'])} labels (its smallest size) {best} already matches what "
            f"{other} reaches with {n_b} ({f3(m['target'])})."
        )
    else:
        out.append(f"{best} does not reach {other}'s score with {n_b} labels ({f3(m['target'])}) at any measured size.")
    n_small = min(curve_best)
    if n_small not in ahead:  # the sentences below are about best's score at n_small: only where it is resolved
        return out
    back = stats.labels_to_match(curve_other, curve_best, n_small)
    if back["bound"] == "not_reached":
        out.append(
            f"{other} never reaches {best}'s score with {n_small} labels ({f3(back['target'])}) "
            f"within its measured sizes (up to {max(curve_other)})."
        )
    elif back["bound"] == "exact":
        out.append(f"{other} needs about {fsize(back['n'])} labels to match {best} with {n_small}.")
    return out


def _shift_sentences(run, test, shifted, order: list[str]) -> list[str]:
    metric, results = run["metric"], run["results"]
    out = []
    best, runner = order[0], order[1]
    sizes = stats.sizes_of(test)
    both = [n for n in sizes if all((p, n) in d for p in (best, runner) for d in (test, shifted))]
    if both:
        n = both[-1]
        gt = test[(best, n)]["mean"] - test[(runner, n)]["mean"]
        gs = shifted[(best, n)]["mean"] - shifted[(runner, n)]["mean"]
        st = stats.separation(test, results, best, runner, n, "test", metric)
        ss = stats.separation(shifted, results, best, runner, n, "shifted", metric)
        if st["resolved"] or ss["resolved"]:
            word = (
                "larger" if abs(gs) > abs(gt) + CLOSE else "smaller" if abs(gs) < abs(gt) - CLOSE else "about the same"
            )
            out.append(
                f"On the shifted split at n={n}, {best} - {runner} is {gs:+.3f} against {gt:+.3f} on test: "
                f"the gap is {word} under shift."
            )
        else:
            out.append(
                f"At n={n}, {best} and {runner} do not separate on test ({st['why']}) or on the shifted split "
                f"({ss['why']})."
            )
    drops = [test[k]["mean"] - shifted[k]["mean"] for k in test if k in shifted]
    if drops:
        mean_drop = sum(drops) / len(drops)
        verb = "lose" if mean_drop > 0 else "gain"
        out.append(
            f"Averaged over pipelines and sizes, scores {verb} {abs(mean_drop):.3f} {metric} from test to shifted."
        )
    n_shift, n_test = max(stats.sizes_of(shifted)), max(sizes)
    lead_shift, lead_test = stats.ranking(shifted, n_shift), stats.ranking(test, n_test)
    if (
        len(lead_shift) > 1
        and len(lead_test) > 1
        and lead_shift[0] != lead_test[0]
        and stats.separation(test, results, lead_test[0], lead_test[1], n_test, "test", metric)["resolved"]
        and stats.separation(shifted, results, lead_shift[0], lead_shift[1], n_shift, "shifted", metric)["resolved"]
    ):
        out.append(f"The leader at the largest size differs: {lead_test[0]} on test, {lead_shift[0]} on shifted.")
    return out


def _parameters_sentence(run, order: list[str]) -> str | None:
    """'word2vec+lstm: 16% of its weights pretrained; clm: 99.9%; ...' from prepared.json."""
    parts = []
    for p in order:
        counts = protocol.parameters_of(run, p)
        if not counts:
            continue
        if counts.get("total") is None:
            parts.append(f"{p}: none ({counts.get('note', 'not counted')})")
        else:
            parts.append(
                f"{p}: {protocol.share(counts['pretrained'], counts['total'])} "
                f"({fnum(counts['pretrained'])} of {fnum(counts['total'])})"
            )
    if not parts:
        return None
    return (
        "Share of each model's weights that came pretrained, the rest learned from the labels only: "
        + "; ".join(parts)
        + "."
    )


def _budget_sentence(run, test, order: list[str]) -> str | None:
    budgets = stats.summarize_budgets(run["results"], "test", run["metric"])
    if not budgets:
        return None
    hi = max(budgets, key=lambda k: (k[2], k[1]))
    keys = sorted((k for k in budgets if k[:2] == hi[:2]), key=lambda k: k[2])
    lo = keys[0]
    if lo == hi:
        sentence = (
            f"Under a pretraining budget, {hi[0]} at n={hi[1]} scores {f3(budgets[hi]['mean'])} after "
            f"{fflops(hi[2])} FLOPs"
        )
    else:
        sentence = (
            f"Under a pretraining budget, {hi[0]} at n={hi[1]} scores {f3(budgets[lo]['mean'])} after "
            f"{fflops(lo[2])} FLOPs and {f3(budgets[hi]['mean'])} after {fflops(hi[2])} FLOPs"
        )
    statics = [(p, test[(p, hi[1])]) for p in order if p != hi[0] and (p, hi[1]) in test]
    if statics:
        ref, ref_entry = max(statics, key=lambda x: x[1]["mean"])
        passing = [
            k
            for k in keys
            if budgets[k]["k"] >= 2 and ref_entry["k"] >= 2 and budgets[k]["ci_low"] > ref_entry["ci_high"]
        ]
        sentence += (
            f"; it passes {ref} ({f3(ref_entry['mean'])}, 95% intervals apart) from {fflops(passing[0][2])} FLOPs on"
            if passing
            else f"; it is not resolved above {ref} ({f3(ref_entry['mean'])}) at any budget"
        )
    return sentence + "."


def summary_sentences(run) -> list[str]:
    """The generated summary: every sentence is computed from this run's numbers, and a lead, a
    reversal or a labels-to-match is stated only where the difference is resolved (stats.separation)."""
    metric, test = run["metric"], run["summaries"]["test"]
    if not test:
        return [f"No test scores for {metric} were found in results.jsonl, so there is nothing to compare yet."]
    out: list[str] = []
    if protocol.oracle(run):
        out.append(
            f"Every score below comes from {protocol.ORACLE}: trained points selected on the whole dev "
            "split, far more labels than their n (see Protocol)."
        )
    sizes = stats.sizes_of(test)
    order = stats.overall_ranking(test)
    out += [_lead_at(run, test, "test", n) for n in sizes]
    if len(order) >= 2:
        best, runner = order[0], order[1]
        common = [n for n in sizes if (best, n) in test and (runner, n) in test]
        if len(common) >= 2:
            out.append(_gap_sentence(run, test, best, runner, common))
        for other in order[1:]:
            out += _match_sentences(run, test, best, other)
    shifted = run["summaries"]["shifted"]
    if shifted and len(order) >= 2:
        out += _shift_sentences(run, test, shifted, order)
    parameters = _parameters_sentence(run, order)
    if parameters:
        out.append(parameters)
    pres = {p: pretraining_of(run, p) for p in order}
    with_compute = [f"{p}: {_compute_text(pre)}" for p, pre in pres.items()]
    if with_compute:
        out.append("Pretraining compute: " + "; ".join(with_compute) + ".")
    budget = _budget_sentence(run, test, order)
    if budget:
        out.append(budget)
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
            name = protocol.qualified(f"{run['name']} ({run['task']} on {run['corpus']})", run)
            out.append(f"{name}: {_lead_at(run, test, 'test', n)}")
    first = runs[0]
    for other in runs[1:]:
        if other["metric"] != first["metric"]:
            out.append(
                f"{first['name']} and {other['name']} use different primary metrics ({first['metric']} vs "
                f"{other['metric']}): compare their numbers with care."
            )
        a, b = first["summaries"]["test"], other["summaries"]["test"]
        for p in stats.pipelines_of(a):
            common = sorted(set(stats.sizes_of(a, p)) & set(stats.sizes_of(b, p)))
            if common:
                n = common[-1]
                d = a[(p, n)]["mean"] - b[(p, n)]["mean"]
                out.append(
                    f"{p} at n={n}: {f3(a[(p, n)]['mean'])} in {protocol.qualified(first['name'], first)} vs "
                    f"{f3(b[(p, n)]['mean'])} in {protocol.qualified(other['name'], other)} ({d:+.3f})."
                )
    return out
