"""How the report writes numbers: scores to 3 decimals, counts with separators, FLOPs in
scientific notation, interval cells, labels-to-match cells, settings rows."""

from __future__ import annotations

import json
import math


def f3(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.3f}"


def fnum(x) -> str:
    """Counts with separators, big or small floats in scientific notation."""
    if x is None or x == "":
        return "none"
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    if isinstance(x, int) or float(x).is_integer() and abs(x) < 1e12:
        return f"{int(x):,}"
    return f"{x:.3g}" if abs(x) < 1e5 else f"{x:.2e}"


def fflops(x) -> str:
    """FLOPs always in scientific notation (3.20e+13), "none" when absent."""
    return f"{float(x):.2e}" if isinstance(x, (int, float)) and not isinstance(x, bool) and x else "none"


def flat_items(data: dict):
    """(key, text) rows of a settings table; nested dicts become key.subkey rows."""
    for k, v in data.items():
        if isinstance(v, dict) and v:
            for k2, v2 in v.items():
                yield f"{k}.{k2}", _value_text(v2)
        else:
            yield str(k), _value_text(v)


def fsize(n) -> str:
    return "n/a" if n is None else f"{n:,.0f}"


def cell_stats(e) -> str:
    """mean ± sd [95% interval]; with one seed there is no spread to show, and the cell says so."""
    if e.get("k", 2) < 2:
        return f"{f3(e['mean'])} (one seed: no interval)"
    return f"{f3(e['mean'])} ± {f3(e['sd'])} [{f3(e['ci_low'])}, {f3(e['ci_high'])}]"


def match_cell(m, sizes_a) -> str:
    if m["bound"] == "exact":
        return f"≈ {fsize(m['n'])}"
    if m["bound"] == "at_most":
        return f"≤ {fsize(m['n'])}"
    return f"> {fsize(max(sizes_a))}" if sizes_a else "not measured"


def _value_text(v) -> str:
    return v if isinstance(v, str) else json.dumps(v, sort_keys=True, ensure_ascii=False)
