"""Cross-reference checks on a record-schema document, against itself and its framework.

Each check is a function ``(spec, ctx) -> Iterator[Problem]`` registered with :func:`check`; the loader
runs them all and raises one :class:`~fintech_eval.errors.FrameworkError` listing every problem with
file, line, source or variable, and rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..catalog.models import Framework
from ..errors import Problem
from .models import NUMERIC, Condition, Derivation, Hours, RecordSpec

#: (unit of the records' column, unit of the raw variable) → factor; a sum of a column already in the
#: variable's unit has factor 1.
UNIT_FACTORS: dict[tuple[str | None, str], Decimal] = {("CNY", "CNY 10k"): Decimal("0.0001")}
#: what a ``mean`` of ``{hours: [a, b]}`` yields
HOURS_UNIT = "hour"


@dataclass
class Context:
    file: str
    lines: dict[tuple[Any, ...], int] = field(default_factory=dict)
    framework: Framework | None = None

    def at(self, *path: Any, **extra: Any) -> dict[str, Any]:
        for n in range(len(path), -1, -1):
            if path[:n] in self.lines:
                return {"file": self.file, "line": self.lines[path[:n]], **extra}
        return {"file": self.file, **extra}


CHECKS: list[Callable[[RecordSpec, Context], Iterator[Problem]]] = []


def check(fn: Callable[[RecordSpec, Context], Iterator[Problem]]):
    CHECKS.append(fn)
    return fn


def run_checks(spec: RecordSpec, ctx: Context) -> list[Problem]:
    return [p for fn in CHECKS for p in fn(spec, ctx)]


@check
def source_columns(spec: RecordSpec, ctx: Context) -> Iterator[Problem]:
    """Every source has an ``entity_id`` text column; key, time, ``after`` and ``not_above`` name columns of
    the right type; code columns list their codes and only they do; names are unique."""
    for name, src in spec.sources.items():
        where = ctx.at("sources", name, source=name)
        names = [c.name for c in src.columns]
        for dup in sorted({n for n in names if names.count(n) > 1}):
            yield Problem("source.duplicate_column", f"column {dup} is declared twice", where)
        ent = src.column("entity_id")
        if ent is None or ent.type != "string" or not ent.required:
            yield Problem("source.entity", "a source needs a required string column entity_id (the institution)", where)
        if src.column(src.key) is None:
            yield Problem("source.key", f"key column {src.key} is not a column", where)
        if (src.time is None) == (src.span is None):
            yield Problem("source.time", "a source has either a time column (events) or a span [from, until] (stocks)", where)
        if src.time is not None:
            t = src.column(src.time)
            if t is None or t.type != "timestamp" or not t.required:
                yield Problem("source.time", f"time column {src.time} must be a required timestamp column", where)
        if src.span is not None:
            a, b = (src.column(c) for c in src.span)
            if a is None or b is None or a.type != "timestamp" or b.type != "timestamp" or not a.required or b.required:
                yield Problem("source.span", "span [from, until]: a required timestamp and an optional one (empty: still running)", where)
        for i, c in enumerate(src.columns):
            at = ctx.at("sources", name, "columns", i, source=name, column=c.name)
            if (c.type == "code") != bool(c.codes):
                yield Problem("column.codes", "a code column lists its codes, and only a code column has codes", at)
            if c.min is not None and c.type not in NUMERIC:
                yield Problem("column.min", f"min applies to numbers, not to a {c.type} column", at)
            for rule, ref, kind in (("column.after", c.after, ("timestamp",)), ("column.not_above", c.not_above, NUMERIC)):
                if ref is None:
                    continue
                other = src.column(ref)
                if other is None or other.type not in kind or c.type not in kind:
                    yield Problem(rule, f"{rule.split('.')[1]} {ref}: both columns must be {' or '.join(kind)} columns of {name}", at)


def _columns_used(d: Derivation) -> list[str]:
    cols = list(d.where) + ([d.during] if d.during else [])
    if isinstance(d.of, str):
        cols.append(d.of)
    elif isinstance(d.of, Hours):
        cols.extend(d.of.hours)
    return cols


@check
def derivations(spec: RecordSpec, ctx: Context) -> Iterator[Problem]:
    """Each derivation: a known raw variable of the framework, once; a known source; known columns; an
    aggregate that fits its column; filter values of the column's type and codes; the variable's unit."""
    seen: set[str] = set()
    variables = {v.name: v for v in ctx.framework.variables} if ctx.framework is not None else None
    for i, d in enumerate(spec.derivations):
        at = ctx.at("derivations", i, variable=d.variable)
        if d.variable in seen:
            yield Problem("derivation.duplicate", f"{d.variable} is derived twice (one derivation per variable)", at)
        seen.add(d.variable)
        var = variables.get(d.variable) if variables is not None else None
        if variables is not None and var is None:
            yield Problem("derivation.unknown_variable", f"{d.variable} is not a raw variable of {spec.framework}", at)
        src = spec.sources.get(d.source)
        if src is None:
            yield Problem("derivation.unknown_source", f"unknown source {d.source!r}; sources: {', '.join(spec.sources)}", at)
            continue
        unknown = [c for c in _columns_used(d) if src.column(c) is None]
        for c in unknown:
            place = ("where", c) if c in d.where else ("of",)
            yield Problem("derivation.unknown_column", f"{d.source} has no column {c}", ctx.at("derivations", i, *place, variable=d.variable))
        if unknown:
            continue
        yield from _aggregate_fits(d, src, ctx.at("derivations", i, "aggregate", variable=d.variable))
        yield from _window_fits(d, src, ctx.at("derivations", i, variable=d.variable))
        for col, cond in d.where.items():
            yield from _condition_fits(src.column(col), cond, ctx.at("derivations", i, "where", col, variable=d.variable))
        at_unit = ctx.at("derivations", i, "unit", variable=d.variable)
        if var is not None and var.unit != d.unit:
            yield Problem("derivation.unit", f"{d.variable} is measured in {var.unit!r}, the derivation says {d.unit!r}", at_unit)
        elif var is not None and isinstance(d.of, str) and d.aggregate == "sum":
            col_unit = src.column(d.of).unit
            if col_unit != d.unit and (col_unit, d.unit) not in UNIT_FACTORS:
                yield Problem("derivation.unit", f"no conversion from {d.of}'s unit {col_unit!r} to {d.unit!r}", at_unit)


def _window_fits(d: Derivation, src, at) -> Iterator[Problem]:
    """An event source's records fall in the period by their time; a stock source's derivation says
    whether it counts the spells running at the end (``as_of``) or a timestamp in the period (``during``)."""
    if d.as_of is not None and d.during is not None:
        yield Problem("derivation.window", "give as_of or during, not both", at)
    elif src.time is not None and (d.as_of or d.during):
        yield Problem("derivation.window", f"{d.source} is an event source: its records fall in the period by {src.time}", at)
    elif src.span is not None and not (d.as_of or d.during):
        yield Problem("derivation.window", f"{d.source} is a stock source: say as_of (end, previous_end) or during (a timestamp)", at)
    elif d.during and src.column(d.during).type != "timestamp":
        yield Problem("derivation.window", f"during {d.during}: a timestamp column", at)


def _aggregate_fits(d: Derivation, src, at) -> Iterator[Problem]:
    if d.aggregate == "count":
        if d.of is not None:
            yield Problem("derivation.aggregate", "count counts records: it takes no 'of'", at)
    elif d.aggregate == "sum":
        if not isinstance(d.of, str) or src.column(d.of).type not in NUMERIC:
            yield Problem("derivation.aggregate", "sum needs 'of': a number column", at)
    elif d.aggregate == "mean":
        if isinstance(d.of, Hours):
            a, b = (src.column(c) for c in d.of.hours)
            if a.type != "timestamp" or b.type != "timestamp":
                yield Problem("derivation.aggregate", "hours: [from, to] needs two timestamp columns", at)
            elif d.unit != HOURS_UNIT:
                yield Problem("derivation.unit", f"a mean of hours is in {HOURS_UNIT!r}, the derivation says {d.unit!r}", at)
        elif not isinstance(d.of, str) or src.column(d.of).type not in NUMERIC:
            yield Problem("derivation.aggregate", "mean needs 'of': a number column or {hours: [from, to]}", at)


def _condition_fits(col, cond, at) -> Iterator[Problem]:
    if isinstance(cond, Condition):
        if sum(x is not None for x in (cond.in_, cond.not_in, cond.present)) != 1:
            yield Problem("derivation.where", f"{col.name}: give exactly one of in, not_in, present", at)
            return
        if cond.present is not None:
            if col.required:
                yield Problem("derivation.where", f"{col.name} is required: 'present' is always true", at)
            return
        values = cond.in_ if cond.in_ is not None else cond.not_in
    else:
        values = [cond]
    for v in values or []:
        if col.type == "code" and v not in (col.codes or {}):
            yield Problem("derivation.where", f"{v!r} is not a code of {col.name} ({', '.join(col.codes or {})})", at)
        elif col.type == "boolean" and not isinstance(v, bool):
            yield Problem("derivation.where", f"{col.name} is a boolean: compare it with true or false, not {v!r}", at)
        elif col.type in ("timestamp", "decimal"):
            yield Problem("derivation.where", f"{col.name} is a {col.type} column: only 'present' filters it", at)
        elif col.type == "integer" and (isinstance(v, bool) or not isinstance(v, int)):
            yield Problem("derivation.where", f"{col.name} is an integer column, {v!r} is not an integer", at)
