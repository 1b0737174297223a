"""Typed, checked pipeline settings: a misspelled table or key is a one-line error naming it.

A pipeline's settings (a `[settings."PIPELINE"]` table in a comparison's TOML, or what
`workbench finetune` options set) hold tables of dataclass fields (`train` -> TrainConfig,
`encoder` -> LSTMConfig or TransformerConfig, ...) and single values (`pool`, `shots`, ...).
Each family says which it accepts (`Pipeline.__init__`); these helpers check and build them.
"""

from __future__ import annotations

from dataclasses import MISSING, fields

from workbench.errors import WorkbenchError

TYPE_WORDS = {int: "a whole number", float: "a number", str: "a string", bool: "true or false"}


def check_names(pipeline: str, settings: dict, known) -> None:
    """Every top-level name in `settings` is one the pipeline reads."""
    unknown = sorted(set(settings) - set(known))
    if unknown:
        raise WorkbenchError(
            f"settings for {pipeline}: unknown table or key {', '.join(map(repr, unknown))}; "
            f"{pipeline} reads {', '.join(sorted(known)) or 'no settings'}"
        )


def table(pipeline: str, name: str, cls, given, defaults: dict | None = None):
    """cls(**{**defaults, **given}) once every key of the `name` table is a field of cls with a value of its type."""
    where = f"settings for {pipeline}, table {name}"
    if not isinstance(given, dict):
        raise WorkbenchError(f"{where}: expected a table of {', '.join(f.name for f in fields(cls))}, got {given!r}")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise WorkbenchError(f"{where}: unknown key {', '.join(map(repr, unknown))}; known: {', '.join(known)}")
    for key, value in given.items():
        default = known[key].default
        if default is not MISSING and default is not None:
            check_type(f"{where}, {key}", value, type(default))
    try:
        return cls(**{**(defaults or {}), **given})
    except ValueError as exc:
        raise WorkbenchError(f"{where}: {exc}") from None


def value(pipeline: str, settings: dict, name: str, kind: type, default=None, choices=None):
    """The single value `name` (default when absent), checked against its type and choices."""
    if name not in settings:
        return default
    given = settings[name]
    check_type(f"settings for {pipeline}, {name}", given, kind)
    if choices is not None and given not in choices:
        raise WorkbenchError(f"settings for {pipeline}, {name} = {given!r}: choose one of {', '.join(choices)}")
    return given


def check_type(where: str, given, kind: type) -> None:
    """TOML's types: a whole number stands for a float too; a bool is not a number."""
    ok = isinstance(given, kind) and not (isinstance(given, bool) and kind is not bool)
    if kind is float and isinstance(given, int) and not isinstance(given, bool):
        ok = True
    if not ok:
        raise WorkbenchError(f"{where} = {given!r}: expected {TYPE_WORDS.get(kind, kind.__name__)}")
