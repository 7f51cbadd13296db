"""Raw records → the raw variables of the framework, for one period, on any backend.

    d = derive_records("records/", "2024", engine="duckdb")
    d.observations      # entity_kind, entity_id, period, variable, value, unit, source (long, as imports read)
    d.sources           # per source: files, records, valid records, bad records by rule with examples
    d.provenance        # the derivation version, the engine, every input file's fingerprint, the counts

Input layout: ``DIR/<source>/**/*.parquet`` (or ``*.csv``), one folder per source of the record schema
(``DIR`` a local folder, or a URL for Spark: see :mod:`~fintech_eval.records.inputs`);
a folder may be partitioned Hive-style by period (``period=2024/``): then only the period's partition
(and files outside any ``period=`` folder) are read. Parquet files are checked against the schema
before anything runs (a missing column or a wrong type names the file and the column); rows are checked
by the record rules of :mod:`~fintech_eval.records.compile` and every bad row is counted by rule, never
silently dropped. An entity has a value for a source's variables when it has at least one valid record of
that source; a mean over no records (e.g. no disbursed loan) is missing, never 0.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import DataError, Problem
from ..periods import period_kind
from .backends import Backend, get_backend
from .compile import RULES, ColumnFacts, _flag, examples_query, source_query, values_from
from .inputs import Inputs, RecordFile, is_remote, open_inputs
from .loader import load_records_spec
from .models import RecordSpec, Source

FINGERPRINTS = ("sha256", "footer")


@dataclass
class SourceReport:
    """What one source contributed: files, counts, bad records by rule (with a few examples)."""

    source: str
    format: str
    files: list[dict[str, Any]]
    n_records: int = 0
    n_valid: int = 0
    entities: int = 0
    bad: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def n_bad(self) -> int:
        return self.n_records - self.n_valid


@dataclass
class Derived:
    period: str
    spec: RecordSpec
    engine: str
    observations: pd.DataFrame
    sources: list[SourceReport]

    @property
    def provenance(self) -> dict[str, Any]:
        """Deterministic (no wall-clock time): the same records and definitions give the same bytes."""
        return {
            "derivation": self.spec.ref,
            "derivation_sha256": self.spec.fingerprint,
            "framework": self.spec.framework,
            "engine": self.engine,
            "period": self.period,
            "sources": {
                s.source: {"format": s.format, "records": s.n_records, "valid": s.n_valid, "bad_by_rule": s.bad,
                           "entities": s.entities, "files": s.files}
                for s in self.sources
            },
        }

    def problems(self) -> list[Problem]:
        """Every bad-record count as a warning problem with its examples (source, rule, count)."""
        out = []
        for s in self.sources:
            for rule, n in s.bad.items():
                ex = s.examples.get(rule, [])
                first = ex[0] if ex else {}
                out.append(Problem(rule, f"{n:,} record(s): {RULES[rule]}", {"source": s.source, "file": first.get("_file"),
                                                                              "example": _brief(first)}))
        return out


def _brief(row: dict[str, Any]) -> str | None:
    return ", ".join(f"{k}={v}" for k, v in row.items() if k != "_file") if row else None


def period_bounds(code: str) -> tuple[dt.datetime, dt.datetime]:
    """``'2024'`` → [2024-01-01, 2025-01-01); ``'2024Q2'`` → [04-01, 07-01); ``'2024-03'`` → [03-01, 04-01)."""
    kind = period_kind(code)
    if kind is None:
        raise DataError(f"period {code!r} is not a period code (2024, 2024Q1 or 2024-03)", rule="period.format", period=code)
    year = int(code[:4])
    if kind == "annual":
        first, months = 1, 12
    elif kind == "quarterly":
        first, months = 3 * int(code[-1]) - 2, 3
    else:
        first, months = int(code[5:7]), 1
    end_month = first - 1 + months
    return dt.datetime(year, first, 1), dt.datetime(year + end_month // 12, end_month % 12 + 1, 1)


def discover(inputs: Inputs, spec: RecordSpec, period: str) -> dict[str, tuple[list[RecordFile], str]]:
    """Source → (files, format) under the input folder (module doc: layout and period partitions)."""
    found: dict[str, tuple[list[RecordFile], str]] = {}
    problems = []
    for name in spec.sources:
        listed = inputs.files(name)
        if listed is None:
            continue
        files = [f for f in listed if f.suffix in (".parquet", ".csv") and _in_period(f, period)]
        fmts = {f.suffix.lstrip(".") for f in files}
        if len(fmts) > 1:
            problems.append(Problem("records.mixed_formats", "a source's files are all Parquet or all CSV",
                                    {"source": name, "file": f"{inputs.location}/{name}"}))
        elif files:
            found[name] = (files, fmts.pop())
    if problems:
        raise DataError(problems)
    if not found:
        raise DataError(f"no record files for period {period} under {inputs.location} (expected folders: {', '.join(spec.sources)})",
                        rule="records.none", file=inputs.location)
    return found


def _in_period(f: RecordFile, period: str) -> bool:
    """Outside any ``period=`` folder, or in this period's."""
    return all(p == f"period={period}" for p in f.parts[1:-1] if p.startswith("period="))


_ARROW_OK: dict[str, Callable[[pa.DataType], bool]] = {
    "string": lambda t: pa.types.is_string(t) or pa.types.is_large_string(t) or (pa.types.is_dictionary(t) and pa.types.is_string(t.value_type)),
    "integer": pa.types.is_integer,
    "decimal": lambda t: pa.types.is_decimal(t) or pa.types.is_integer(t),
    "boolean": pa.types.is_boolean,
    "timestamp": lambda t: pa.types.is_timestamp(t) and t.tz is None,
}
_ARROW_OK["code"] = _ARROW_OK["string"]
_WANT = {"string": "text", "code": "text", "integer": "an integer", "decimal": "a decimal (e.g. DECIMAL(18,2)) or integer",
         "boolean": "a boolean", "timestamp": "a timestamp without time zone (local time)"}


def check_parquet(inputs: Inputs, src_name: str, src: Source, files: list[RecordFile]) -> list[Problem]:
    """Each file's schema against the record schema: columns present, types compatible (footer only)."""
    problems = []
    for f in files:
        try:
            with inputs.open(f) as fh:
                schema = pq.read_schema(fh)
        except (OSError, pa.ArrowException) as exc:
            problems.append(Problem("file.format", f"not a readable Parquet file: {exc}", {"source": src_name, "file": f.uri}))
            continue
        for c in src.columns:
            idx = schema.get_field_index(c.name)
            if idx < 0:
                problems.append(Problem("records.column_missing", f"column {c.name} is missing", {"source": src_name, "file": f.uri, "column": c.name}))
            elif not _ARROW_OK[c.type](schema.field(idx).type):
                problems.append(Problem("records.column_type", f"column {c.name} is {schema.field(idx).type}, expected {_WANT[c.type]}",
                                        {"source": src_name, "file": f.uri, "column": c.name}))
    return problems


def check_csv(inputs: Inputs, src_name: str, src: Source, files: list[RecordFile]) -> list[Problem]:
    """Each CSV file's header names every column of the record schema."""
    problems = []
    for f in files:
        with inputs.stream(f) as fh:
            first = fh.read(1 << 16).decode("utf-8-sig", errors="replace").splitlines()
        header = [h.strip() for h in (first[0] if first else "").split(",")]
        for c in src.columns:
            if c.name not in header:
                problems.append(Problem("records.column_missing", f"column {c.name} is missing from the header",
                                        {"source": src_name, "file": f.uri, "column": c.name}))
    return problems


def parquet_facts(inputs: Inputs, src: Source, files: list[RecordFile]) -> dict[str, ColumnFacts]:
    """Per column, over every row group of every file: the number of empty values and the range, from the
    footers' statistics (no data read). What a row group does not state stays unknown (``None``)."""
    ranged = ("integer", "decimal", "timestamp")
    acc = {c.name: {"nulls": 0, "nulls_known": True, "lo": None, "hi": None, "range_known": c.type in ranged} for c in src.columns}
    for f in files:
        with inputs.open(f) as fh:
            meta = pq.ParquetFile(fh).metadata
        names = {meta.schema.column(i).name: i for i in range(meta.num_columns)}
        for g in range(meta.num_row_groups):
            rg = meta.row_group(g)
            for c in src.columns:
                a = acc[c.name]
                st = rg.column(names[c.name]).statistics if c.name in names else None
                if st is None or not st.has_null_count:
                    a["nulls_known"] = a["range_known"] = False
                    continue
                a["nulls"] += st.null_count
                if not a["range_known"] or st.null_count == rg.num_rows:
                    continue
                if not st.has_min_max:
                    a["range_known"] = False
                    continue
                lo, hi = _stat(st.min), _stat(st.max)
                a["lo"] = lo if a["lo"] is None else min(a["lo"], lo)
                a["hi"] = hi if a["hi"] is None else max(a["hi"], hi)
    return {name: ColumnFacts(nulls=a["nulls"] if a["nulls_known"] else None,
                              min=a["lo"] if a["range_known"] else None, max=a["hi"] if a["range_known"] else None)
            for name, a in acc.items()}


def _stat(v: Any) -> Any:
    """A footer statistic as a comparable Python value (timestamps naive, as the columns are)."""
    if isinstance(v, dt.datetime):
        return v.replace(tzinfo=None)
    if hasattr(v, "to_pydatetime"):
        return v.to_pydatetime().replace(tzinfo=None)
    return v


def fingerprint(inputs: Inputs, f: RecordFile, how: str = "sha256") -> dict[str, Any]:
    """``sha256`` of the whole file (default), or ``footer``: size + SHA-256 of the last 64 KiB (a Parquet
    file's footer holds its schema and every row group's statistics): cheap on huge files."""
    size = inputs.size(f)
    h = hashlib.sha256()
    if how == "footer":
        with inputs.open(f) as fh:
            fh.seek(max(0, size - 65536))
            h.update(fh.read())
    else:
        with inputs.stream(f) as fh:
            while block := fh.read(1 << 20):
                h.update(block)
    return {"bytes": size, ("sha256" if how == "sha256" else "footer_sha256"): h.hexdigest()}


def derive_records(
    input_dir: str | Path,
    period: str,
    *,
    engine: str | Backend = "duckdb",
    spec: RecordSpec | str | Path | None = None,
    engine_options: dict[str, Any] | None = None,
    fingerprints: str = "sha256",
    examples: int = 3,
    progress: Callable[[str, int, int], None] | None = None,
) -> Derived:
    """Derive every raw variable the records under ``input_dir`` can give, for ``period`` (module doc)."""
    spec = spec if isinstance(spec, RecordSpec) else load_records_spec(spec or "jrt0201-records")
    if fingerprints not in FINGERPRINTS:
        raise DataError(f"fingerprints is one of {', '.join(FINGERPRINTS)}", rule="records.fingerprint")
    start, end = period_bounds(period)
    if is_remote(input_dir) and (engine == "duckdb" or getattr(engine, "name", "") == "duckdb"):
        raise DataError(f"DuckDB reads files on this machine; for {input_dir} use --engine spark (or mount it)",
                        rule="records.remote_input", file=str(input_dir))
    inputs = open_inputs(input_dir)
    found = discover(inputs, spec, period)
    problems = [p for name, (files, fmt) in found.items()
                for p in (check_parquet if fmt == "parquet" else check_csv)(inputs, name, spec.sources[name], files)]
    if problems:
        raise DataError(problems)
    backend = get_backend(engine, **(engine_options or {})) if isinstance(engine, str) else engine
    try:
        reports, rows = [], []
        for i, (name, (files, fmt)) in enumerate(found.items()):
            if progress:
                progress(name, i, len(found))
            rep, obs = _derive_source(backend, inputs, spec, name, files, fmt, start, end, period, examples)
            rep.files = [{"path": f.rel, **fingerprint(inputs, f, fingerprints)} for f in files]
            reports.append(rep)
            rows.extend(obs)
        if progress:
            progress("", len(found), len(found))
        version = backend.version()
    finally:
        if isinstance(engine, str):
            backend.close()
    obs = pd.DataFrame(rows, columns=["entity_kind", "entity_id", "period", "variable", "value", "unit", "source"])
    obs = obs.sort_values(["entity_id", "variable"], kind="stable").reset_index(drop=True)
    return Derived(period, spec, version, obs, reports)


def _derive_source(backend: Backend, inputs: Inputs, spec: RecordSpec, name: str, files: list[RecordFile], fmt: str, start, end,
                   period: str, n_examples: int):
    text = fmt == "csv"
    relation = backend.register(f"records_{name}", [f.uri for f in files], fmt)
    facts = parquet_facts(inputs, spec.sources[name], files) if fmt == "parquet" else None
    rows = backend.rows(source_query(spec, name, relation, backend.dialect, start, end, text=text, facts=facts))
    rep = SourceReport(name, fmt, [])
    rules = [r for r in RULES if any(_flag(r) in row for row in rows[:1])]
    obs = []
    for row in rows:
        rep.n_records += int(row["n_records"])
        rep.n_valid += int(row["n_valid"] or 0)
        for r in rules:
            rep.bad[r] = rep.bad.get(r, 0) + int(row[_flag(r)] or 0)
        if not row["n_valid"] or row["entity_id"] is None:
            continue
        rep.entities += 1
        for der in spec.derivations_of(name):
            value = values_from(spec, der, row)
            if value is not None:
                obs.append(("institution", str(row["entity_id"]), period, der.variable, value, der.unit, spec.ref))
    rep.bad = {r: n for r, n in rep.bad.items() if n}
    if n_examples and rep.bad:
        sql = examples_query(spec, name, relation, backend.dialect, start, end, list(rep.bad), text=text, limit=n_examples, facts=facts)
        for e in backend.rows(sql):
            rule = e.pop("_rule")
            rep.examples.setdefault(rule, []).append({k: (v if isinstance(v, str | int | float | type(None)) else str(v)) for k, v in e.items()})
    return rep, obs
