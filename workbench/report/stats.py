"""The numbers behind a report: a comparison run's results summarized over seeds.

Pure functions (numpy/scipy only), so every number the report prints can be checked against a
direct numpy/scipy computation.

Conventions
-----------
* A *result* is one line of `results.jsonl`, a `PointResult` (read by `experiments.store`):
  .pipeline, .task, .n, .seed, .kind ("curve" or "budget"), .metrics {split: {metric: value}}, ...
* A *summary* maps (pipeline, n) to {"mean", "sd", "ci_low", "ci_high", "k", "values", "seeds"}.
* A *curve* is one pipeline's means by n: {n: mean} (`curve(summary, pipeline)` builds it).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special as _special
from scipy import stats as _st

from workbench.experiments.store import PointResult

INTERVAL_METHOD = "95% t-interval over seeds on the logit scale (inside [0, 1])"
ALPHA = 0.05  # the paired t-test's level: below it, a difference counts as resolved


def metric_value(result: PointResult, split: str, metric: str) -> float | None:
    """result.metrics[split][metric] as a finite float, or None when absent / not a number."""
    value = result.metrics.get(split, {})
    value = value.get(metric) if isinstance(value, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def examples_of(result: PointResult, split: str) -> int | None:
    """How many examples the split's scores were computed on (recorded with each result; None in older files)."""
    value = (result.examples or {}).get(split)
    return int(value) if isinstance(value, int) and value > 0 else None


def interval(values, n_examples: int | None = None) -> dict:
    """Mean, sd (ddof=1; 0 for one value) and a 95% interval over seeds that stays inside [0, 1].

    Every primary metric is a share of an evaluation set (accuracy, F1, exact match), so the
    interval is a t-interval on the logit scale, mapped back: logit of each seed's score, mean ±
    t_{0.975, k-1} * sd / sqrt(k), then the logistic function. The t quantile (4.30 for k=3) keeps
    it honest with a handful of seeds. A score of exactly 0 or 1 has no logit, so each seed's score
    is first moved by half an example, (score * N + 0.5) / (N + 1) for an evaluation set of N
    examples (`n_examples`), and the bounds are moved back the same way (so seeds that all score
    1.0 give [1, 1]). Without N: the plain t-interval clipped to [0, 1]. For k=1 the interval
    degenerates to the mean.
    """
    x = np.asarray(list(values), dtype=float)
    k = int(x.size)
    if k == 0:
        nan = float("nan")
        return {"mean": nan, "sd": nan, "ci_low": nan, "ci_high": nan, "k": 0, "method": INTERVAL_METHOD}
    mean = float(x.mean())
    sd = float(x.std(ddof=1)) if k > 1 else 0.0
    entry = {"mean": mean, "sd": sd, "ci_low": mean, "ci_high": mean, "k": k, "method": INTERVAL_METHOD}
    if k == 1:
        return entry
    t = float(_st.t.ppf(0.975, k - 1))
    if n_examples:
        z = _special.logit((x * n_examples + 0.5) / (n_examples + 1))
        half = t * float(z.std(ddof=1)) / math.sqrt(k)

        def back(logit: float) -> float:  # the logistic function, then the half-example shift undone
            return float(np.clip((_special.expit(logit) * (n_examples + 1) - 0.5) / n_examples, 0.0, 1.0))

        # min/max: seeds with one score give back that score only up to rounding (0.501 + 1e-16)
        entry["ci_low"], entry["ci_high"] = min(mean, back(z.mean() - half)), max(mean, back(z.mean() + half))
    else:
        half = t * sd / math.sqrt(k)
        entry["ci_low"], entry["ci_high"] = max(0.0, mean - half), min(1.0, mean + half)
    return entry


def summarize(results, split: str, metric: str, kind: str = "curve") -> dict:
    """(pipeline, n) -> interval over seeds of `metric` on `split`, for results of `kind`.

    Results lacking the split or metric are left out (so "k" tells how many seeds counted);
    each entry also carries the sorted "seeds" and their "values" in that order.
    """
    groups: dict[tuple, dict] = {}
    sizes: dict[tuple, int | None] = {}
    for r in results:
        if r.kind != kind:
            continue
        value = metric_value(r, split, metric)
        if value is None:
            continue
        groups.setdefault((r.pipeline, r.n), {})[r.seed] = value
        sizes.setdefault((r.pipeline, r.n), examples_of(r, split))
    out = {}
    for key in sorted(groups, key=lambda k: (str(k[0]), k[1])):
        by_seed = groups[key]
        seeds = sorted(by_seed, key=str)
        entry = interval((by_seed[s] for s in seeds), sizes[key])
        entry["seeds"], entry["values"] = seeds, [by_seed[s] for s in seeds]
        out[key] = entry
    return out


def summarize_budgets(results, split: str, metric: str) -> dict:
    """(pipeline, n, budget_flops) -> interval over seeds for the "budget" results (downstream
    score of a pretrained checkpoint taken at a given pretraining compute); adds "checkpoint"."""
    groups: dict[tuple, dict] = {}
    names: dict[tuple, str] = {}
    sizes: dict[tuple, int | None] = {}
    for r in results:
        if r.kind != "budget":
            continue
        value = metric_value(r, split, metric)
        flops = r.budget_flops
        if value is None or not isinstance(flops, (int, float)) or not flops > 0:
            continue
        key = (r.pipeline, r.n, float(flops))
        groups.setdefault(key, {})[r.seed] = value
        names[key] = str(r.checkpoint or "")
        sizes.setdefault(key, examples_of(r, split))
    out = {}
    for key in sorted(groups, key=lambda k: (str(k[0]), k[1], k[2])):
        seeds = sorted(groups[key], key=str)
        entry = interval((groups[key][s] for s in seeds), sizes[key])
        entry.update(seeds=seeds, values=[groups[key][s] for s in seeds], checkpoint=names[key])
        out[key] = entry
    return out


def pipelines_of(summary) -> list[str]:
    """Pipelines in a summary, in first-seen order."""
    return list(dict.fromkeys(p for p, _ in summary))


def sizes_of(summary, pipeline: str | None = None) -> list[int]:
    """Sorted sizes n in a summary (of one pipeline when given)."""
    return sorted({n for p, n in summary if pipeline is None or p == pipeline})


def curve(summary, pipeline: str) -> dict:
    """One pipeline's mean curve {n: mean}, sorted by n."""
    return {n: summary[(pipeline, n)]["mean"] for n in sizes_of(summary, pipeline)}


def _mean_of(value) -> float:
    return float(value["mean"]) if isinstance(value, dict) else float(value)


def labels_to_match(curve_a, curve_b, n_b) -> dict:
    """How many labels pipeline A needs to reach pipeline B's mean score at n_b.

    `curve_a`, `curve_b`: {n: mean} (or {n: summary entry}). A's mean curve is interpolated
    linearly in log(n) between measured sizes, and the first crossing of the target counts.
    Returns {"n": float | None, "bound": ..., "target": B's mean at n_b}, where bound is
      "exact"       A crosses the target between two measured sizes (or at one): n is interpolated;
      "at_most"     A already reaches it at its smallest measured size: n is that size, an upper bound;
      "not_reached" A stays below it at every measured size: n is None (more than A's largest size).
    """
    target = _mean_of(curve_b[n_b])
    sizes = sorted(curve_a)
    if not sizes:
        return {"n": None, "bound": "not_reached", "target": target}
    means = [_mean_of(curve_a[n]) for n in sizes]
    if means[0] >= target:
        return {"n": float(sizes[0]), "bound": "at_most", "target": target}
    for (n0, y0), (n1, y1) in zip(zip(sizes, means), zip(sizes[1:], means[1:])):
        if y0 < target <= y1:
            if target == y1:  # reached exactly at a measured size: no rounding through log/exp
                return {"n": float(n1), "bound": "exact", "target": target}
            frac = (target - y0) / (y1 - y0)
            log_n = math.log(n0) + frac * (math.log(n1) - math.log(n0))
            return {"n": float(math.exp(log_n)), "bound": "exact", "target": target}
    return {"n": None, "bound": "not_reached", "target": target}


def paired_comparison(results, pipeline_a: str, pipeline_b: str, n: int, split: str, metric: str) -> dict:
    """A vs B at n, paired over seeds (the same seed draws the same labeled subset for both).

    Returns {"mean_diff": mean(A - B), "t", "p" (two-sided paired t-test, as scipy.stats.ttest_rel),
    "k": number of seeds both have, "wins_a": seeds where A > B, "seeds", "diffs"}.
    t and p are nan when k < 2 or the differences have zero variance, up to float rounding (no test
    is possible);
    computed directly so that no RuntimeWarning is emitted.
    """

    def by_seed(pipeline):
        out = {}
        for r in results:
            if r.kind == "curve" and r.pipeline == pipeline and r.n == n:
                value = metric_value(r, split, metric)
                if value is not None:
                    out[r.seed] = value
        return out

    a, b = by_seed(pipeline_a), by_seed(pipeline_b)
    seeds = sorted(set(a) & set(b), key=str)
    diffs = np.array([a[s] - b[s] for s in seeds], dtype=float)
    k = len(seeds)
    nan = float("nan")
    mean_diff = float(diffs.mean()) if k else nan
    t = p = nan
    if k >= 2:
        sd = float(diffs.std(ddof=1))
        # differences equal up to float rounding (e.g. 0.6-0.5 vs 1.6-1.5) count as zero variance:
        # a t of 1e15 from rounding noise would be a meaningless "significant" result
        if math.isfinite(sd) and sd > 1e-12 * max(1.0, abs(mean_diff)):
            t = mean_diff / (sd / math.sqrt(k))
            p = float(2 * _st.t.sf(abs(t), k - 1))
    return {
        "mean_diff": mean_diff,
        "t": float(t),
        "p": float(p),
        "k": k,
        "wins_a": int((diffs > 0).sum()),
        "seeds": seeds,
        "diffs": diffs.tolist(),
    }


def ci_overlap(summary, a: str, b: str, n: int) -> bool:
    """Whether the 95% CIs of pipelines a and b at n overlap (closed intervals)."""
    x, y = summary[(a, n)], summary[(b, n)]
    return bool(x["ci_low"] <= y["ci_high"] and y["ci_low"] <= x["ci_high"])


def separation(summary, results, a: str, b: str, n: int, split: str, metric: str) -> dict:
    """Whether pipelines a and b are resolved at n: their 95% intervals (each over 2 or more seeds) are
    apart, or the paired t-test over seeds gives p < ALPHA. The report's prose states a lead, a
    reversal or a labels-to-match only for resolved differences.

    Returns {"resolved", "apart": intervals apart, "p": the paired test's p (nan: no test possible),
    "why": the reason in words}.
    """
    enough_seeds = summary[(a, n)]["k"] >= 2 and summary[(b, n)]["k"] >= 2
    apart = enough_seeds and not ci_overlap(summary, a, b, n)
    p = paired_comparison(results, a, b, n, split, metric)["p"]
    significant = math.isfinite(p) and p < ALPHA
    test = f"paired t-test p = {p:.2g}" if math.isfinite(p) else "no paired t-test possible"
    if apart:
        why = "95% intervals apart"
    elif significant:
        why = f"{test} < {ALPHA}"
    else:
        why = (f"95% intervals overlap, {test}" if enough_seeds else "fewer than 2 seeds") + (
            f" (not below {ALPHA})" if math.isfinite(p) else ""
        )
    return {"resolved": apart or significant, "apart": apart, "p": p, "why": why}


def ranking(summary, n: int) -> list[str]:
    """Pipelines measured at n, best mean first (ties broken by name, for stable output)."""
    here = [(p, e["mean"]) for (p, m), e in summary.items() if m == n]
    return [p for p, _ in sorted(here, key=lambda pm: (-pm[1], str(pm[0])))]


def overall_ranking(summary) -> list[str]:
    """Pipelines ordered by their mean score over the sizes all of them share (best first);
    falls back to each pipeline's own sizes when there is no common size."""
    pipes = pipelines_of(summary)
    common = set.intersection(*(set(sizes_of(summary, p)) for p in pipes)) if pipes else set()

    def score(p):
        ns = sorted(common) or sizes_of(summary, p)
        return float(np.mean([summary[(p, n)]["mean"] for n in ns]))

    return sorted(pipes, key=lambda p: (-score(p), str(p)))


def phenomenon_metrics(results, split: str) -> list[str]:
    """Metric keys of the form 'metric[phenomenon]' (accuracy on a slice) found on a split."""
    keys = set()
    for r in results:
        metrics = r.metrics.get(split)
        if isinstance(metrics, dict):
            keys.update(k for k in metrics if isinstance(k, str) and k.endswith("]") and "[" in k)
    return sorted(keys)
