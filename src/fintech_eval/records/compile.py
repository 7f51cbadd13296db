"""Derivations → SQL, once for every engine: a :class:`Dialect` supplies the few spellings that differ
(quoting, literals, milliseconds of a timestamp, the input file's name).

For one source and one period, :func:`source_query` builds ONE pass over the records that returns,
per entity: the number of records, the number breaking each record rule, the number of valid
records, and each derivation's *exact* components (counts; sums of integers, of decimals and of
millisecond differences). The components are turned into values in Python (:func:`values_from`), so every
engine yields bit-identical observations: no engine's floating-point summation order enters a result.

Record rules (a record breaking any of them is counted, reported with examples, and left out of every
aggregate): ``record.type`` (text input whose value does not read as the column's type),
``record.missing`` (a required column empty), ``record.unknown_code``, ``record.out_of_period`` (its time
column outside the period), ``record.below_min``, ``record.order`` (a timestamp before the one it must
follow, a part above its whole).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .checks import UNIT_FACTORS
from .models import Condition, Derivation, Hours, RecordSpec, Source

RULES: dict[str, str] = {
    "record.type": "a value of a text file does not read as its column's type",
    "record.missing": "a required column is empty",
    "record.unknown_code": "a code column holds a value that is not one of its codes",
    "record.out_of_period": "the record's time column falls outside the period",
    "record.below_min": "a number is below its column's minimum",
    "record.order": "a timestamp precedes the one it must follow, or a part exceeds its whole",
}

MS_PER_HOUR = Decimal(3_600_000)


@dataclass(frozen=True)
class Dialect:
    """How an engine spells what differs between SQL dialects."""

    name: str
    quote: Callable[[str], str]
    string: Callable[[str], str]
    millis: Callable[[str], str]  # SQL of a timestamp expression → its epoch milliseconds (BIGINT)
    file_column: str  # SQL giving the file a record came from
    types: dict[str, str]

    def lit(self, v: Any) -> str:
        if isinstance(v, bool):
            return "TRUE" if v else "FALSE"
        if isinstance(v, int):
            return str(v)
        return self.string(str(v))

    def timestamp(self, t: dt.datetime) -> str:
        return f"TIMESTAMP '{t:%Y-%m-%d %H:%M:%S}'"


def _flag(name: str) -> str:
    return "_bad_" + name.split(".", 1)[1]


def _or(parts: list[str]) -> str:
    return "(" + " OR ".join(parts) + ")" if parts else "FALSE"


@dataclass(frozen=True)
class ColumnFacts:
    """What the files' own statistics (Parquet footers) prove about a column over ALL its rows: the number
    of empty values and the range. A check these facts prove can never fire is not run row by row."""

    nulls: int | None = None
    min: Any = None
    max: Any = None


Atom = tuple[str, frozenset[str]]  # an SQL condition and the columns it reads


def rule_atoms(src: Source, d: Dialect, start: dt.datetime, end: dt.datetime, *, text: bool,
               facts: dict[str, ColumnFacts] | None = None) -> dict[str, list[Atom]]:
    """Rule → the conditions (ORed) a record breaks it by, on the typed columns (and ``raw__<col>`` for
    text input), never NULL. Conditions that ``facts`` prove false for every row are left out."""
    q = d.quote
    facts = facts or {}
    conds: dict[str, list[Atom]] = {r: [] for r in RULES}
    for c in src.columns:
        col, only = q(c.name), frozenset([c.name])
        f = facts.get(c.name, ColumnFacts())
        text_typed = text and c.type not in ("string", "code")
        if text_typed:
            conds["record.type"].append((f"({q('raw__' + c.name)} IS NOT NULL AND {col} IS NULL)", frozenset(["raw__" + c.name, c.name])))
        if c.required and f.nulls != 0:
            conds["record.missing"].append((f"({q('raw__' + c.name)} IS NULL)", frozenset(["raw__" + c.name])) if text_typed
                                           else (f"({col} IS NULL)", only))
        if c.codes:
            codes = ", ".join(d.lit(k) for k in c.codes)
            conds["record.unknown_code"].append((f"({col} IS NOT NULL AND {col} NOT IN ({codes}))", only))
        if c.min is not None and not (f.min is not None and f.min >= c.min):
            conds["record.below_min"].append((f"({col} IS NOT NULL AND {col} < {c.min!r})", only))
        ref = c.after or c.not_above
        if ref:
            op = "<" if c.after else ">"
            conds["record.order"].append((f"({col} IS NOT NULL AND {q(ref)} IS NOT NULL AND {col} {op} {q(ref)})", frozenset([c.name, ref])))
    t = q(src.time) if src.time else ""
    f = facts.get(src.time or "", ColumnFacts())
    if src.time and not (f.min is not None and f.max is not None and start <= f.min and f.max < end):
        conds["record.out_of_period"].append((f"({t} IS NOT NULL AND ({t} < {d.timestamp(start)} OR {t} >= {d.timestamp(end)}))",
                                              frozenset([src.time])))
    return {r: v for r, v in conds.items() if v}


def rule_conditions(src: Source, d: Dialect, start: dt.datetime, end: dt.datetime, *, text: bool,
                    facts: dict[str, ColumnFacts] | None = None) -> dict[str, str]:
    """Rule → one SQL condition (its atoms ORed)."""
    return {r: _or([sql for sql, _ in atoms]) for r, atoms in rule_atoms(src, d, start, end, text=text, facts=facts).items()}


def _typed(src: Source, relation: str, d: Dialect, *, text: bool) -> str:
    """The records as typed columns and their file (text input: read with the engine's own cast, the
    text as received kept in ``raw__<col>``)."""
    q = d.quote
    if not text:
        return f"SELECT {', '.join(q(c.name) for c in src.columns)}, {d.file_column} AS _file FROM {relation}"
    typed = [
        (f"{q(c.name)} AS {q('raw__' + c.name)}, " if c.type not in ("string", "code") else "")
        + (f"try_cast({q(c.name)} AS {d.types[c.type]}) AS {q(c.name)}" if c.type not in ("string", "code")
           else f"{q(c.name)} AS {q(c.name)}, {q(c.name)} AS {q('raw__' + c.name)}")
        for c in src.columns
    ]
    return f"SELECT {', '.join(typed)}, {d.file_column} AS _file FROM {relation}"


def base_query(src: Source, relation: str, d: Dialect, start: dt.datetime, end: dt.datetime, *, text: bool,
               facts: dict[str, ColumnFacts] | None = None) -> str:
    """The typed records with one boolean per rule and ``_ok`` (breaks none). Internal names start with
    ``_``, which no column name does."""
    rules = rule_conditions(src, d, start, end, text=text, facts=facts)
    flags = "".join(f", {cond} AS {_flag(r)}" for r, cond in rules.items())
    ok = " AND ".join(f"NOT {_flag(r)}" for r in rules) or "TRUE"
    return f"SELECT *, {ok} AS _ok FROM (SELECT *{flags} FROM ({_typed(src, relation, d, text=text)}) t0) t1"


def _atoms(der: Derivation, src: Source, d: Dialect, start: dt.datetime, end: dt.datetime) -> list[Atom]:
    """A derivation's filter as SQL conditions (ANDed), each never NULL, with the columns it reads: its
    window on a stock source (spells running at the end, or a timestamp in the period), then ``where``."""
    parts = []
    if der.as_of is not None:
        a, b = src.span
        at = d.timestamp(end if der.as_of == "end" else start)
        parts.append((f"({d.quote(a)} IS NOT NULL AND {d.quote(a)} < {at} AND ({d.quote(b)} IS NULL OR {d.quote(b)} >= {at}))",
                      frozenset([a, b])))
    if der.during is not None:
        c = d.quote(der.during)
        parts.append((f"({c} IS NOT NULL AND {c} >= {d.timestamp(start)} AND {c} < {d.timestamp(end)})", frozenset([der.during])))
    for col, cond in der.where.items():
        c = d.quote(col)
        if isinstance(cond, Condition):
            if cond.present is not None:
                parts.append((f"({c} IS {'NOT ' if cond.present else ''}NULL)", frozenset([col])))
                continue
            vals = cond.in_ if cond.in_ is not None else cond.not_in
            neg = "NOT " if cond.in_ is None else ""
            parts.append((f"({c} IS NOT NULL AND {c} {neg}IN ({', '.join(d.lit(v) for v in vals)}))", frozenset([col])))
        else:
            parts.append((f"({c} IS NOT NULL AND {c} = {d.lit(cond)})", frozenset([col])))
    return parts


def _measure(der: Derivation, d: Dialect) -> str | None:
    if der.aggregate == "count":
        return None
    if isinstance(der.of, Hours):
        a, b = der.of.hours
        return f"({d.millis(d.quote(b))} - {d.millis(d.quote(a))})"
    return d.quote(der.of)


def source_query(spec: RecordSpec, source: str, relation: str, d: Dialect, start: dt.datetime, end: dt.datetime, *, text: bool,
                 facts: dict[str, ColumnFacts] | None = None) -> str:
    """One pass over the records, per entity: the number of records, of valid ones, of those breaking each
    rule, and every derivation's exact components (``<variable>__n``, ``<variable>__sum``).

    Two levels, so that the per-record work is small: the inner level groups the records by entity, by
    their code and boolean columns as they are (few distinct values) and by the conditions on other
    columns (times, numbers, empty values), with counts and sums; the outer level evaluates the
    conditions on codes over those few groups, then adds the groups up per derivation."""
    src = spec.sources[source]
    ders = spec.derivations_of(source)
    grouped = frozenset(c.name for c in src.columns if c.type in ("code", "boolean"))
    inner_keys: dict[str, str] = {}  # SQL condition → alias, evaluated per record
    outer_exprs: dict[str, str] = {}  # alias → SQL, evaluated per group

    def place(atoms: list[Atom], alias: str) -> None:
        """Name the OR of ``atoms``: the parts on grouped columns per group, the rest per record."""
        per_record = [sql for sql, cols in atoms if not cols <= grouped]
        per_group = [sql for sql, cols in atoms if cols <= grouped]
        if per_record:
            inner_keys.setdefault(_or(per_record), f"_i{alias}")
            per_group.append(inner_keys[_or(per_record)])
        outer_exprs[alias] = _or(per_group)

    rules = rule_atoms(src, d, start, end, text=text, facts=facts)
    for r, atoms in rules.items():
        place(atoms, _flag(r))
    conds: dict[str, str] = {}  # atom SQL → alias
    for der in ders:
        for atom in _atoms(der, src, d, start, end):
            if atom[0] not in conds:
                conds[atom[0]] = f"_c{len(conds)}"
                place([atom], conds[atom[0]])
    measures: dict[str, str] = {}
    for der in ders:
        m = _measure(der, d)
        if m is not None:
            measures.setdefault(m, f"_m{len(measures)}")
    raw_groups = [d.quote(c) for c in sorted(grouped)]
    inner_cols = ["entity_id", *raw_groups] + [f"{sql} AS {a}" for sql, a in inner_keys.items()] + [f"{sql} AS {a}" for sql, a in measures.items()]
    names = ["entity_id", *raw_groups, *inner_keys.values()]
    aggs = ["COUNT(*) AS _n"] + [f"SUM({a}) AS _s{a}, COUNT({a}) AS _k{a}" for a in measures.values()]
    inner = (f"SELECT {', '.join(names)}, {', '.join(aggs)} FROM (SELECT {', '.join(inner_cols)} "
             f"FROM ({_typed(src, relation, d, text=text)}) t0) t1 GROUP BY {', '.join(names)}")
    ok = " AND ".join(f"NOT {_flag(r)}" for r in rules) or "TRUE"
    flagged = f"SELECT *, {ok} AS _ok FROM (SELECT *{''.join(f', {sql} AS {a}' for a, sql in outer_exprs.items())} FROM ({inner}) g) h"
    cols = ["SUM(_n) AS n_records", "SUM(_n) FILTER (WHERE _ok) AS n_valid"]
    cols += [f"SUM(_n) FILTER (WHERE {_flag(r)}) AS {_flag(r)}" for r in rules]
    for der in ders:
        w = " AND ".join(["_ok", *(conds[sql] for sql, _ in _atoms(der, src, d, start, end))])
        v = der.variable
        m = _measure(der, d)
        if m is None:
            cols.append(f"SUM(_n) FILTER (WHERE {w}) AS {d.quote(v + '__n')}")
            continue
        cols.append(f"SUM(_s{measures[m]}) FILTER (WHERE {w}) AS {d.quote(v + '__sum')}")
        if der.aggregate == "mean":
            cols.append(f"SUM(_k{measures[m]}) FILTER (WHERE {w}) AS {d.quote(v + '__n')}")
    return f"SELECT entity_id, {', '.join(cols)} FROM ({flagged}) r GROUP BY entity_id"


def examples_query(spec: RecordSpec, source: str, relation: str, d: Dialect, start: dt.datetime, end: dt.datetime, rules: list[str], *,
                   text: bool, limit: int = 3, facts: dict[str, ColumnFacts] | None = None) -> str:
    """A few records breaking each of ``rules`` (one query: one pass on engines that plan it so): the
    rule, the file and the columns (as received for text input)."""
    src = spec.sources[source]
    cols = ", ".join(d.quote(("raw__" if text else "") + c.name) + f" AS {d.quote(c.name)}" for c in src.columns)
    base = base_query(src, relation, d, start, end, text=text, facts=facts)
    parts = [f"(SELECT {d.lit(r)} AS _rule, _file, {cols} FROM ({base}) r WHERE {_flag(r)} LIMIT {int(limit)})" for r in rules]
    return " UNION ALL ".join(parts)


def factor(spec: RecordSpec, der: Derivation) -> Decimal:
    """What multiplies a derivation's summed column into the variable's unit (hours: see values_from)."""
    if der.aggregate == "count" or isinstance(der.of, Hours):
        return Decimal(1)
    unit = spec.sources[der.source].column(der.of).unit
    return Decimal(1) if unit == der.unit else UNIT_FACTORS[(unit, der.unit)]


def values_from(spec: RecordSpec, der: Derivation, row: dict[str, Any]) -> float | None:
    """A derivation's value from its exact components in one entity's row; ``None`` = missing (a mean of
    nothing). Sums and counts of nothing are 0: the entity has valid records of the source."""
    v = der.variable
    if der.aggregate == "count":
        return float(row[f"{v}__n"] or 0)
    total = Decimal(row[f"{v}__sum"] or 0)
    if der.aggregate == "mean":
        n = int(row[f"{v}__n"] or 0)
        if n == 0:
            return None
        total = total / n
    if isinstance(der.of, Hours):
        return float(total / MS_PER_HOUR)  # milliseconds → hours: one decimal division, no reciprocal
    return float(total * factor(spec, der))
