"""``fintech-eval records generate / derive / schema``: raw records → raw variables, on DuckDB or Spark."""

from __future__ import annotations

import json
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..errors import DataError
from .output import Lang, RowFmt, console, emit

#: the record sources (= records.generate.VOLUMES; listed here so that --help need not import the records package,
#: tests/records checks that the two agree)
SOURCES = ("transactions", "loans", "claims", "service_sessions", "rec_impressions", "risk_events", "staff")

app = typer.Typer(help="Raw records (transactions, loans, claims, service sessions, recommendations, risk events, staff) → "
                  "the raw variables of JR/T 0201, on DuckDB or Apache Spark, from one set of definitions.",
                  no_args_is_help=True)

SchemaOpt = Annotated[str, typer.Option("--schema", help="Record-schema document: shipped id or YAML path.")]


class Engine(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


class Fingerprint(StrEnum):
    sha256 = "sha256"
    footer = "footer"


@app.command("generate")
def generate_cmd(
    rows: Annotated[int, typer.Option("--rows", "-n", help="Number of transaction records; the other sources follow it.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="New (or empty) folder to write into.")],
    seed: Annotated[int, typer.Option("--seed", "-s", help="Same seed, same records.")] = 0,
    period: Annotated[str, typer.Option("--period", help="Period the records fall in: 2024, 2024Q1, 2024-03.")] = "2024",
    entities: Annotated[int | None, typer.Option("--entities", help="Institutions (default: rows / 50,000, 20 to 2,000).")] = None,
    source: Annotated[list[str] | None, typer.Option("--source", help=f"Only these sources (repeat): {', '.join(SOURCES)}.")] = None,
    bad_rate: Annotated[float, typer.Option("--bad-rate", help="Share of deliberately bad records added to each source.")] = 0.001,
    rows_per_file: Annotated[int, typer.Option("--rows-per-file", help="Rows per Parquet file.")] = 8_000_000,
) -> None:
    """Write SYNTHETIC records as partitioned Parquet (<source>/period=<P>/part-N.parquet), streamed, seeded,
    with a few giant institutions and many small ones; expected.csv holds what a correct derivation gives."""
    t0 = time.perf_counter()
    with Progress(TextColumn("generating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("records", total=None)
        from ..records.generate import generate_records

        res = generate_records(out, rows=rows, seed=seed, period=period, entities=entities, sources=source, bad_rate=bad_rate,
                               rows_per_file=rows_per_file, progress=lambda done, total: bar.update(task, completed=done, total=total))
    n = sum(res.rows.values())
    console.print(f"[green]wrote[/] {n:,} records ({', '.join(f'{s} {k:,}' for s, k in res.rows.items())}) and "
                  f"{sum(sum(b.values()) for b in res.bad.values()):,} bad ones for {len(res.institutions)} synthetic institutions "
                  f"in {res.files} Parquet file(s) under {out} ({time.perf_counter() - t0:.1f} s)")


@app.command("derive")
def derive_cmd(
    input_dir: Annotated[str, typer.Option("--input", "-i", help="Folder (or, for Spark, a URL: s3://, hdfs://) with one sub-folder of Parquet or CSV files per source.")],
    period: Annotated[str, typer.Option("--period", help="2024, 2024Q1 or 2024-03.")],
    engine: Annotated[Engine, typer.Option("--engine", "-e", help="duckdb (embedded) or spark (pip install 'fintech-eval\\[spark]').")] = Engine.duckdb,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the observations: .json (with provenance), .csv or .parquet.")] = None,
    db: Annotated[str | None, typer.Option("--db", help="Import them as one submission into this database (URL or SQLite file).")] = None,
    institutions: Annotated[Path | None, typer.Option("--institutions", help="With --db: create/update these institutions in the same all-or-nothing step as the import (CSV in the register's columns).")] = None,
    schema: SchemaOpt = "jrt0201-records",
    master: Annotated[str | None, typer.Option("--master", help="Spark master: local[N], spark://host:7077, yarn, k8s://…; 'none' under spark-submit.")] = "local[*]",
    conf: Annotated[list[str] | None, typer.Option("--conf", help="Spark setting key=value (repeat).")] = None,
    threads: Annotated[int | None, typer.Option("--threads", help="DuckDB threads (default: all cores).")] = None,
    memory_limit: Annotated[str | None, typer.Option("--memory-limit", help="DuckDB memory limit, e.g. 4GB (it spills to disk beyond).")] = None,
    fingerprints: Annotated[Fingerprint, typer.Option("--fingerprints", help="sha256 of each input file, or footer: size + hash of the Parquet footer.")] = Fingerprint.sha256,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 2 and write/import nothing when any record is bad.")] = False,
    user: Annotated[str, typer.Option("--user", help="Who submits (with --db).")] = "cli",
) -> None:
    """Derive every raw variable the records give for one period; bad records are counted by rule, with examples."""
    if out is None and db is None:
        raise typer.BadParameter("give --out FILE and/or --db URL")
    options: dict = {}
    if engine is Engine.spark:
        options = {"master": None if (master or "").lower() == "none" else master,
                   "conf": dict(_key_value(c) for c in conf or [])}
    else:
        options = {"threads": threads, "memory_limit": memory_limit}
    t0 = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task(f"{engine.value}: starting", total=None)

        def step(source: str, i: int, n: int) -> None:
            bar.update(task, description=f"{engine.value}: {source or 'done'}", completed=i, total=n)

        from ..records import derive_records

        d = derive_records(input_dir, period, engine=engine.value, spec=schema, engine_options=options,
                           fingerprints=fingerprints.value, progress=step)
    seconds = time.perf_counter() - t0
    _print_summary(d, seconds)
    if strict and any(s.n_bad for s in d.sources):
        raise DataError(d.problems())
    if out is not None:
        from ..records.submit import write_observations

        write_observations(d, out)
        console.print(f"wrote {len(d.observations):,} observations to {out}")
    if db is not None:
        from ..app import Workspace
        from ..records.submit import import_derived

        with Workspace(db) as ws:
            rep = import_derived(d, ws, user=user, institutions=institutions)
        console.print(f"[green]imported[/] {rep.stored_rows:,} observations as {rep.new_submissions} new submission(s), "
                      f"{rep.unchanged_submissions} unchanged (the same derivation was imported before)")


def _key_value(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise typer.BadParameter(f"--conf takes key=value, not {text!r}")
    k, v = text.split("=", 1)
    return k.strip(), v.strip()


def _print_summary(d, seconds: float) -> None:
    n = sum(s.n_records for s in d.sources)
    console.print(f"{d.engine}: {n:,} records of {len(d.sources)} source(s) → {len(d.observations):,} observations "
                  f"for period {d.period} in {seconds:.1f} s ({d.spec.ref})")
    for s in d.sources:
        bad = "; ".join(f"{r} {k:,}" for r, k in s.bad.items()) or "none"
        console.print(f"  {s.source:<17} {len(s.files):>4} file(s) {s.n_records:>14,} records {s.n_valid:>14,} valid "
                      f"{s.entities:>5} entities  bad: {bad}", highlight=False)
    for p in d.problems():
        console.print(f"  [yellow]bad records[/]: {p}", soft_wrap=True, markup=True, highlight=False)


@app.command("schema")
def schema_cmd(
    source: Annotated[str | None, typer.Argument(help="One source (default: all).")] = None,
    schema: SchemaOpt = "jrt0201-records",
    fmt: Annotated[RowFmt, typer.Option("--format", help="table, json or csv.")] = RowFmt.table,
    lang: Annotated[Lang, typer.Option("--lang", help="zh or en.")] = Lang.zh,
    derivations: Annotated[bool, typer.Option("--derivations", help="List the derivations (variable ← aggregate over records) instead of the columns.")] = False,
    rules: Annotated[bool, typer.Option("--rules", help="List the record rules a bad record can break.")] = False,
) -> None:
    """The record schemas (columns, types, codes, units) and the derivations of each raw variable."""
    if rules:
        from ..records import RULES

        emit([{"rule": r, "meaning": m} for r, m in RULES.items()], fmt.value, title="record rules")
        return
    from ..records import load_records_spec

    spec = load_records_spec(schema)
    if source is not None and source not in spec.sources:
        raise DataError(f"unknown source {source!r}; sources: {', '.join(spec.sources)}", rule="records.source")
    names = [source] if source else list(spec.sources)
    if derivations:
        rows = [{"variable": d.variable, "source": d.source, "aggregate": d.aggregate, "of": _of(d.of),
                 "where": "; ".join(x for x in (_window(d), _where(d.where)) if x), "unit": d.unit}
                for d in spec.derivations if d.source in names]
        emit(rows, fmt.value, title=f"{spec.ref}: derivations")
        return
    rows = []
    for name in names:
        src = spec.sources[name]
        for c in src.columns:
            rows.append({"source": name, "column": c.name, "type": c.type, "required": c.required, "unit": c.unit or "",
                         "rules": _column_rules(c), "codes": ", ".join(c.codes or {}),
                         "description": c.description.get(lang.value), **({"time": c.name == src.time} if fmt.value != "table" else {})})
    if fmt is RowFmt.json:
        sys.stdout.write(json.dumps({"id": spec.id, "version": spec.version, "framework": spec.framework, "columns": rows},
                                    ensure_ascii=False, indent=2) + "\n")
        return
    for name in names if fmt is RowFmt.table else []:
        console.print(f"[bold]{name}[/]: {spec.sources[name].title.get(lang.value)} — {spec.sources[name].description.get(lang.value)} "
                      f"({_placed(spec.sources[name])})", soft_wrap=True)
    emit(rows, fmt.value, title=f"{spec.ref}")


def _placed(src) -> str:
    return f"period by {src.time}" if src.time else f"spells from {src.span[0]} until {src.span[1]}"


def _column_rules(c) -> str:
    parts = []
    if c.min is not None:
        parts.append(f">= {c.min:g}")
    if c.after:
        parts.append(f"after {c.after}")
    if c.not_above:
        parts.append(f"<= {c.not_above}")
    return "; ".join(parts)


def _of(of) -> str:
    if of is None:
        return ""
    return of if isinstance(of, str) else f"hours {of.hours[0]} → {of.hours[1]}"


def _window(d) -> str:
    if d.as_of:
        return f"running at the {'end' if d.as_of == 'end' else 'start (previous end)'}"
    return f"{d.during} in the period" if d.during else ""


def _where(where) -> str:
    parts = []
    for col, cond in where.items():
        if hasattr(cond, "present"):
            if cond.present is not None:
                parts.append(f"{col} {'present' if cond.present else 'empty'}")
            elif cond.in_ is not None:
                parts.append(f"{col} in {', '.join(map(str, cond.in_))}")
            else:
                parts.append(f"{col} not in {', '.join(map(str, cond.not_in))}")
        else:
            parts.append(f"{col} = {str(cond).lower() if isinstance(cond, bool) else cond}")
    return "; ".join(parts)
