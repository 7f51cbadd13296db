"""Repositories: plain functions over a SQLAlchemy :class:`~sqlalchemy.orm.Session`.

Transactions: every function here writes in the session's transaction and never commits: the caller
owns the transaction (``with session.begin(): ...`` or :func:`fintech_eval.store.db.session_scope`)
and must roll back on any exception. The exception is :func:`import_observations`, which is one
complete all-or-nothing transaction (submission row, periods, observations, audit entries): it
commits on success and rolls everything back on any failure (inside a caller's transaction: a
savepoint).

Frames in and out are pandas DataFrames in long format. A missing value is NULL in the database and
NaN in a frame, never 0.

Bulk writes bypass the ORM: SQLite gets multi-row ``INSERT … VALUES (…), (…)`` statements through the
driver (about twice as fast as one row per statement), PostgreSQL gets ``COPY … FROM STDIN`` of CSV
written by Arrow; the upsert of derived values uses ``ON CONFLICT … DO UPDATE`` (through a temporary
table on PostgreSQL). Observations are written in key order, their key text numbered once per
distinct entity and variable (see the models). Bulk reads (:func:`observations_frame`) fetch the
driver's rows in batches straight into Arrow arrays (see :func:`_raw_frame`). Measured with
``bench/bench_import.py`` (1,000,000 observations, SQLite): of the ~2.5 s import, SQLite's own work
(one B-tree, the commit) is ~1.5 s, binding the values ~0.4 s; of the read-back, the driver's
creation of a Python object per fetched value.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import math
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import JSON, Table, and_, bindparam, func, insert, select, text, true, update
from sqlalchemy.dialects import postgresql as _pg
from sqlalchemy.dialects import sqlite as _sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import DataError, Problem
from ..periods import period_kind
from ..vocab import WITH_VALUE
from .db import begin_write
from .models import (
    DERIVED_STATUSES,
    ENTITY_KINDS,
    OBSERVATION_STATUSES,
    PROVIDER_TYPES,
    SECTORS,
    SUBMISSION_STATUSES,
    AuditEntry,
    DerivedValue,
    Institution,
    Observation,
    ObservedEntity,
    ObservedVariable,
    Period,
    Submission,
    Vendor,
    province_code,
    utcnow,
)

__all__ = [
    "DERIVED_COLUMNS",
    "OBSERVATION_COLUMNS",
    "ImportResult",
    "ObsKey",
    "StoreStats",
    "correct_value",
    "derived_frame",
    "ensure_periods",
    "history",
    "import_observations",
    "institutions_frame",
    "observations_frame",
    "row_key",
    "save_derived",
    "store_observations",
    "store_submission",
    "submissions_frame",
    "upsert_institutions",
    "upsert_vendors",
    "vendors_frame",
]

#: Columns of :func:`observations_frame` (the first seven are what :func:`store_observations` reads;
#: ``value_norm``, ``unit_norm``, ``status`` and ``flag_reason`` are optional on input).
OBSERVATION_COLUMNS: tuple[str, ...] = (
    "entity_kind", "entity_id", "period", "variable", "value", "unit", "source",
    "value_norm", "unit_norm", "status", "flag_reason", "submission_id",
)  # fmt: skip
#: Columns of :func:`derived_frame` (and of :func:`save_derived`'s input, most of them optional).
DERIVED_COLUMNS: tuple[str, ...] = (
    "entity_kind", "entity_id", "period", "code", "value", "status", "reason", "inputs", "formula",
    "framework", "framework_version", "computed_at",
)  # fmt: skip

OBS_KEY: tuple[str, ...] = ("entity_kind", "entity_id", "period", "variable")
_OBS_AUDITED: tuple[str, ...] = (
    "value",
    "unit",
    "value_norm",
    "unit_norm",
    "source",
    "status",
    "flag_reason",
)
_DERIVED_KEY: tuple[str, ...] = (
    "entity_kind",
    "entity_id",
    "period",
    "code",
    "framework",
    "framework_version",
)

MAX_PROBLEMS = 1000  # a report lists at most this many problems, then says how many more there were
_IN_CHUNK = 500  # values per IN (...) list
#: Rows per multi-row ``INSERT … VALUES`` statement on SQLite. Inserting 1,000,000 observations (4
#: varying columns) with the bare driver, before the commit, on a busy 2-CPU machine: 64 rows per
#: statement 3.5–4.0 s, 250 rows 3.0–3.6 s, 1000 rows 3.3 s; one row per statement (``executemany``
#: over a prepared single-row INSERT) 7.8–8.6 s: the driver's per-row overhead dominates.
_SQLITE_ROWS_PER_STATEMENT = 256


# --------------------------------------------------------------------------------------------- keys


class ObsKey(NamedTuple):
    """The key of an observation (and of its audit history)."""

    entity_kind: str
    entity_id: str
    period: str
    variable: str


def row_key(*parts: Any) -> str:
    """The ``audit_entry.key`` of a row: its key values as a compact JSON array."""
    return json.dumps([str(p) for p in parts], ensure_ascii=False, separators=(",", ":"))


def _enc(value: Any) -> str | None:
    """An audited value as JSON text (NaN/None → ``null``)."""
    value = _py(value)
    return json.dumps(value, ensure_ascii=False)


def _dec(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _py(value: Any) -> Any:
    """numpy scalars → Python, NaN/NA → None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _jsonable(value: Any) -> Any:
    """A JSON-safe copy: numpy → Python, NaN/inf → None (JSONB rejects NaN)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray, pd.Series)):
        return [_jsonable(v) for v in value]
    value = _py(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# ----------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class StoreStats:
    """What a write did: rows inserted, rows updated, rows already identical, audit entries written."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    audited: int = 0


@dataclass(frozen=True)
class ImportResult:
    submission: Submission
    is_new: bool
    stats: StoreStats


class _Problems:
    def __init__(self) -> None:
        self.items: list[Problem] = []
        self.more = 0

    def add(self, rule: str, message: str, **where: Any) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(
                Problem(rule=rule, message=message, where={k: _py(v) for k, v in where.items()})
            )
        else:
            self.more += 1

    def rows(self, mask: Any, frame: pd.DataFrame, rule: str, message: Any, **where: Any) -> None:
        """One problem per row of ``frame`` where ``mask`` holds; ``message(label, i)`` or a string."""
        for i in np.flatnonzero(np.asarray(mask, dtype=bool)):
            label = frame.index[i]
            msg = message(label, i) if callable(message) else message
            self.add(rule, msg, row=label, **where)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        items = list(self.items)
        if self.more:
            items.append(Problem(rule="store.too_many_problems", message=f"… and {self.more} more problems"))
        raise DataError(items)


# ------------------------------------------------------------------------------ frame preparation


def _as_frame(records: pd.DataFrame | Iterable[Mapping[str, Any]], what: str) -> pd.DataFrame:
    if isinstance(records, pd.DataFrame):
        return records
    try:
        return pd.DataFrame(list(records))
    except (TypeError, ValueError) as exc:
        raise DataError(f"{what}: expected a DataFrame or records ({exc})", rule="store.frame") from exc


def _str_col(s: pd.Series) -> pd.Series:
    """A column as pandas ``str`` dtype (missing stays missing)."""
    if isinstance(s.dtype, pd.StringDtype) and s.dtype.na_value is np.nan:
        return s
    return s.astype("str")


def _num_col(s: pd.Series, problems: _Problems, frame: pd.DataFrame, column: str) -> np.ndarray:
    """A column as float64 with NaN for missing; text that is not a number and ±inf are problems."""
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        out = s.to_numpy(dtype="float64", na_value=np.nan)
    else:
        out = pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        bad = np.isnan(out) & ~s.isna().to_numpy()
        if bad.any():
            values = s.to_numpy()
            problems.rows(
                bad, frame, "store.not_a_number",
                lambda _lbl, i: f"{column} {values[i]!r} is not a number", column=column,
            )  # fmt: skip
    inf = np.isinf(out)
    if inf.any():
        problems.rows(inf, frame, "store.not_finite", f"{column} is not finite", column=column)
        out = np.where(inf, np.nan, out)
    return out


class _Codes(NamedTuple):
    """A text column factorized: ``uniques[codes]`` is the column (code -1: missing)."""

    codes: np.ndarray
    uniques: np.ndarray


def _required_text(
    df: pd.DataFrame, column: str, problems: _Problems, codes: dict[str, _Codes] | None = None
) -> pd.Series:
    """The column as ``str``; a missing or blank value is a problem. The blank check runs once per
    distinct value; the factorization is kept in ``codes[column]`` for later use when given."""
    s = _str_col(df[column])
    k, u = pd.factorize(s)
    blank = np.append((pd.Series(u, dtype="str").str.strip() == "").to_numpy(dtype=bool), True)
    empty = blank[k]
    if empty.any():
        problems.rows(empty, df, "store.missing", f"{column} is missing", column=column)
    if codes is not None:
        codes[column] = _Codes(k, np.asarray(u, dtype=object))
    return s


def _choice(
    s: pd.Series, allowed: tuple[str, ...], df: pd.DataFrame, column: str, problems: _Problems
) -> None:
    bad = (~s.isin(allowed) & s.notna()).to_numpy(dtype=bool)
    if bad.any():
        values = s.to_numpy()
        problems.rows(
            bad, df, f"store.{column}",
            lambda _lbl, i: f"{column} {values[i]!r} is not one of {', '.join(allowed)}", column=column,
        )  # fmt: skip


def _periods(s: pd.Series, df: pd.DataFrame, problems: _Problems) -> None:
    codes = s.dropna().unique()
    bad_codes = [c for c in codes if period_kind(c) is None]
    if bad_codes:
        bad = s.isin(bad_codes).to_numpy(dtype=bool)
        values = s.to_numpy()
        problems.rows(
            bad, df, "store.period",
            lambda _lbl, i: f"period {values[i]!r} is not YYYY, YYYYQn or YYYY-MM", column="period",
        )  # fmt: skip


def _missing_columns(df: pd.DataFrame, required: Sequence[str], what: str) -> None:
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DataError(
            f"{what}: missing column(s) {', '.join(missing)} (have: {', '.join(map(str, df.columns))})",
            rule="store.columns",
        )


class _Prepared(NamedTuple):
    frame: pd.DataFrame
    codes: dict[str, _Codes]  # of the key's text columns, for :func:`_key_refs`


def _prepare_observations(frame: pd.DataFrame) -> _Prepared:
    """Check a long observation frame and return it with canonical columns and dtypes.

    The stored normalised pair is NULL when the value is already canonical (see models), so the
    returned ``value_norm``/``unit_norm`` are NaN there. Raises :class:`DataError` listing every
    problem (row = the frame's index label)."""
    df = _as_frame(frame, "observations")
    _missing_columns(df, ("entity_kind", "entity_id", "period", "variable", "value"), "observations")
    p = _Problems()
    out: dict[str, Any] = {}
    codes: dict[str, _Codes] = {}
    for c in ("entity_kind", "entity_id", "period", "variable"):
        out[c] = _required_text(df, c, p, codes)
    _choice(out["entity_kind"], ENTITY_KINDS, df, "entity_kind", p)
    _periods(out["period"], df, p)
    value = _num_col(df["value"], p, df, "value")
    for c in ("unit", "source", "unit_norm", "flag_reason"):
        out[c] = _str_col(df[c]) if c in df.columns else pd.Series(np.nan, index=df.index, dtype="str")
    if "status" in df.columns:
        out["status"] = _str_col(df["status"]).fillna("ok")
        _choice(out["status"], OBSERVATION_STATUSES, df, "status", p)
    else:
        out["status"] = pd.Series("ok", index=df.index, dtype="str")
    if "value_norm" in df.columns:
        vn = _num_col(df["value_norm"], p, df, "value_norm")
        orphan = np.isnan(value) & ~np.isnan(vn)
        if orphan.any():
            p.rows(
                orphan, df, "store.value_norm", "value_norm given for a missing value", column="value_norm"
            )
    else:
        vn = np.full(len(df), np.nan)
    p.raise_if_any()
    # canonical storage of the normalised pair: NULL, NULL when it equals (value, unit)
    vn_eff = np.where(np.isnan(vn), value, vn)
    un_eff = _where(out["unit_norm"].notna().to_numpy(), out["unit_norm"], out["unit"])
    same = ((vn_eff == value) | np.isnan(value)) & _same_text(un_eff, out["unit"])
    res = pd.DataFrame(out, index=df.index)
    res["value"] = value
    res["value_norm"] = np.where(same, np.nan, vn_eff)
    res["unit_norm"] = _where(~same, un_eff, pd.Series(np.nan, index=df.index, dtype="str"))
    return _Prepared(res[list(OBSERVATION_COLUMNS[:-1])], codes)


def _where(mask: np.ndarray, a: pd.Series, b: pd.Series) -> pd.Series:
    """``a`` where ``mask`` holds, else ``b``; without a pass over the rows when the mask is uniform
    (the usual case: every row converted, or none)."""
    if mask.all():
        return a
    if not mask.any():
        return b
    return a.where(mask, b)


def _same_text(a: pd.Series, b: pd.Series) -> np.ndarray:
    eq = (a == b).to_numpy(dtype=bool, na_value=False)
    return eq | (a.isna().to_numpy() & b.isna().to_numpy())


def _same_float(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a == b) | (np.isnan(a) & np.isnan(b))


def _duplicates(df: pd.DataFrame, key: Sequence[str], what: str) -> None:
    dup = df.duplicated(subset=list(key), keep=False).to_numpy()
    if not dup.any():
        return
    p = _Problems()
    keys = df[list(key)].to_numpy()
    first: dict[tuple, Any] = {}
    for i in np.flatnonzero(dup):
        k = tuple(keys[i])
        if k in first:
            p.add(
                "store.duplicate_key",
                f"duplicate {what} {'/'.join(map(str, k))} (also at row {first[k]})",
                row=df.index[i], **dict(zip(key, k, strict=True)),
            )  # fmt: skip
        else:
            first[k] = df.index[i]
    p.raise_if_any()


# ------------------------------------------------------------------------------------ bulk writes


class _Ready(list):
    """Column values the driver takes as they are (Python floats and None from a float64 array): no
    per-value bind processing."""


class _Const:
    """A column with the same value in every row (sent once, not once per row)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _obj_list(a: np.ndarray | pd.Series, order: np.ndarray | None = None) -> list[Any]:
    """A column as a Python list with None for missing values, its rows taken in ``order`` if given
    (a permutation of integer codes or floats, cheaper than reordering the text itself).

    Text columns go through ``pd.factorize``: the list holds one ``str`` object per distinct value
    (indexed out of an object array in C) instead of a new ``str`` per row. For a million rows with
    a few thousand distinct entity ids, periods or variables that is about four times faster than
    ``tolist()``, and the driver encodes each repeated object to UTF-8 once (CPython caches it)."""
    if isinstance(a, pd.Series):
        if isinstance(a.dtype, pd.StringDtype):
            codes, uniques = pd.factorize(a)  # missing → code -1, i.e. the trailing None below
            table = np.empty(len(uniques) + 1, dtype=object)
            table[:-1] = np.asarray(uniques, dtype=object)
            return table[codes if order is None else codes[order]].tolist()
        if order is not None:
            a = a.iloc[order]
        if pd.api.types.is_float_dtype(a.dtype):
            a = a.to_numpy()
        elif a.notna().all():
            return a.tolist()
        else:
            return a.astype(object).where(a.notna(), None).tolist()
    elif order is not None:
        a = a[order]
    if a.dtype.kind == "f":
        return _Ready(np.where(np.isnan(a), None, a).tolist())
    return a.tolist()


def _column(values: Any, order: np.ndarray | None = None) -> list[Any] | _Const:
    """A column for :func:`_bulk_insert` (rows in ``order`` if given): a constant when every row holds
    the same value."""
    if isinstance(values, _Const):
        return values
    if isinstance(values, pd.Series):
        if len(values) and values.isna().all():
            return _Const(None)
        if len(values) and values.notna().all():
            first = values.iloc[0]
            if (values == first).all():
                return _Const(_py(first))
        return _obj_list(values, order)
    if isinstance(values, np.ndarray):
        if values.dtype.kind == "f":
            if len(values) and np.isnan(values).all():
                return _Const(None)
            return _obj_list(values, order)
        return (values if order is None else values[order]).tolist()
    values = list(values)
    return values if order is None else [values[i] for i in order]


def _chunks(seq: Sequence[Any], n: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _dialect_insert(session: Session, table: Table) -> Any:
    name = _dialect(session)
    if name == "sqlite":
        return _sqlite.insert(table)
    if name == "postgresql":
        return _pg.insert(table)
    raise NotImplementedError(f"fintech-eval's store supports SQLite and PostgreSQL, not {name}")


def _integrity_errors(session: Session) -> tuple[type[BaseException], ...]:
    dbapi = session.get_bind().dialect.loaded_dbapi
    return (IntegrityError, dbapi.IntegrityError)


def _bulk_insert(
    session: Session,
    table: Table,
    columns: Mapping[str, list[Any] | _Const],
    n: int,
    *,
    on_conflict: tuple[Sequence[str], Sequence[str]] | None = None,
) -> int:
    """Insert ``n`` rows given column-wise (lists of DB-ready Python values, or :class:`_Const`).

    ``on_conflict=(key_columns, update_columns)`` turns the insert into an upsert (no update columns:
    rows whose key is stored already are skipped). Returns the number of rows inserted or updated."""
    if n == 0:
        return 0
    conn = session.connection()
    dialect = conn.dialect
    names = list(columns)
    q = dialect.identifier_preparer
    target = q.format_table(table)
    cols_sql = ", ".join(q.quote(c) for c in names)
    conflict_sql = ""
    if on_conflict is not None:
        keys, upd = on_conflict
        conflict_sql = f" ON CONFLICT ({', '.join(q.quote(c) for c in keys)}) " + (
            "DO UPDATE SET " + ", ".join(f"{q.quote(c)} = excluded.{q.quote(c)}" for c in upd)
            if upd
            else "DO NOTHING"
        )
    if dialect.name == "sqlite":
        return _sqlite_insert(conn, table, target, cols_sql, conflict_sql, names, columns, n)
    if dialect.name == "postgresql":
        return _pg_insert(conn, table, target, cols_sql, conflict_sql, names, columns, n)
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        if on_conflict is not None:
            raise NotImplementedError(f"upsert on {dialect.name}")
        rows = [
            {c: (columns[c].value if isinstance(columns[c], _Const) else columns[c][i]) for c in names}
            for i in range(n)
        ]
        session.execute(insert(table), rows)
        return n


def _sqlite_insert(conn, table, target, cols_sql, conflict_sql, names, columns, n) -> int:
    dialect = conn.dialect
    consts: list[Any] = []
    varying: list[str] = []
    slot: dict[str, int] = {}
    for c in names:
        v = columns[c]
        if isinstance(v, _Const):
            proc = table.c[c].type.dialect_impl(dialect).bind_processor(dialect)
            consts.append(proc(v.value) if (proc and v.value is not None) else v.value)
            slot[c] = len(consts)
        else:
            varying.append(c)
    m, nv = len(consts), len(varying)
    flat: list[Any] = [None] * (n * nv)
    for j, c in enumerate(varying):
        values = columns[c]
        if len(values) != n:
            raise ValueError(f"column {c}: {len(values)} values for {n} rows")
        proc = table.c[c].type.dialect_impl(dialect).bind_processor(dialect)
        if proc is not None and not isinstance(values, _Ready):
            if isinstance(table.c[c].type, JSON):  # documents shared by many rows are serialised once
                done: dict[int, Any] = {}
                values = [None if v is None else done[id(v)] if id(v) in done else done.setdefault(id(v), proc(v))
                          for v in values]
            else:
                values = [None if v is None else proc(v) for v in values]
        flat[j::nv] = values

    def row_sql(r: int) -> str:
        vals = (f"?{slot[c]}" if c in slot else f"?{m + r * nv + varying.index(c) + 1}" for c in names)
        return "(" + ", ".join(vals) + ")"

    per = max(1, min(_SQLITE_ROWS_PER_STATEMENT, 30000 // max(1, nv)))
    head = f"INSERT INTO {target} ({cols_sql}) VALUES "
    cur = conn.connection.cursor()
    done = 0
    try:
        full = n // per
        if full and nv:
            sql = head + ", ".join(row_sql(r) for r in range(per)) + conflict_sql
            step = per * nv
            cur.executemany(sql, (consts + flat[i : i + step] for i in range(0, full * step, step)))
            done += cur.rowcount
        rest = n - full * per if nv else n
        if rest:
            if nv:
                sql = head + ", ".join(row_sql(r) for r in range(rest)) + conflict_sql
                cur.execute(sql, consts + flat[full * per * nv :])
            else:  # every column constant
                sql = head + row_sql(0) + conflict_sql
                cur.executemany(sql, itertools.repeat(consts, rest))
            done += cur.rowcount
    finally:
        cur.close()
    return done


def _pg_insert(conn, table, target, cols_sql, conflict_sql, names, columns, n) -> int:
    dialect = conn.dialect
    csv = _arrow_csv(names, columns, n)
    data = []
    for c in names if csv is None else ():
        v = columns[c]
        is_json = isinstance(table.c[c].type.dialect_impl(dialect), JSON)
        if isinstance(v, _Const):
            val = json.dumps(_jsonable(v.value)) if (is_json and v.value is not None) else v.value
            data.append(itertools.repeat(val, n))
        else:
            if is_json:
                v = [None if x is None else json.dumps(_jsonable(x)) for x in v]
            data.append(v)
    raw = conn.connection.dbapi_connection
    with raw.cursor() as cur:
        dest = target
        if conflict_sql:
            dest = f"fe_stage_{uuid.uuid4().hex[:12]}"
            cur.execute(f"CREATE TEMPORARY TABLE {dest} AS SELECT {cols_sql} FROM {target} WITH NO DATA")
        if csv is not None:
            with cur.copy(f"COPY {dest} ({cols_sql}) FROM STDIN WITH (FORMAT csv)") as copy:
                for i in range(0, len(csv), _COPY_CHUNK):
                    copy.write(csv[i : i + _COPY_CHUNK])
        else:
            with cur.copy(f"COPY {dest} ({cols_sql}) FROM STDIN") as copy:
                for row in zip(*data, strict=False):  # constants are endless repeats
                    copy.write_row(row)
        if not conflict_sql:
            return n
        cur.execute(f"INSERT INTO {target} ({cols_sql}) SELECT {cols_sql} FROM {dest}{conflict_sql}")
        done = cur.rowcount
        cur.execute(f"DROP TABLE {dest}")
        return done


_COPY_CHUNK = 1 << 23  # bytes per write to a COPY
_CSV_TYPES = (pa.types.is_string, pa.types.is_large_string, pa.types.is_integer, pa.types.is_floating,
              pa.types.is_boolean, pa.types.is_null)  # fmt: skip


def _arrow_csv(names: Sequence[str], columns: Mapping[str, list[Any] | _Const], n: int) -> memoryview | None:
    """The rows as CSV for ``COPY … WITH (FORMAT csv)``, written by Arrow (C++) instead of one Python
    call per row (psycopg's ``write_row``: ~12 µs a row, 12 s for 1,000,000 observations). Every
    value is quoted, NULL is the unquoted empty field, so an empty string stays an empty string.
    None when a column holds other than text, numbers and booleans (JSON, timestamps): the caller
    writes row by row then."""
    from pyarrow import csv as pacsv

    arrays = []
    for c in names:
        v = columns[c]
        try:
            if isinstance(v, _Const):
                arr = pa.nulls(n) if v.value is None else pa.repeat(pa.scalar(v.value), n)
            else:
                arr = pa.array(v)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            return None
        if not any(ok(arr.type) for ok in _CSV_TYPES):
            return None
        arrays.append(arr)
    sink = pa.BufferOutputStream()
    table = pa.Table.from_arrays(arrays, names=[f"c{i}" for i in range(len(arrays))])
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False, quoting_style="all_valid"))
    return memoryview(sink.getvalue())


# --------------------------------------------------------------------------------------- periods


def ensure_periods(session: Session, codes: Iterable[str]) -> int:
    """Create the ``period`` rows that do not exist yet (kind from the code); returns how many."""
    wanted = sorted({c for c in codes if c is not None and not (isinstance(c, float) and math.isnan(c))})
    bad = [c for c in wanted if period_kind(c) is None]
    if bad:
        raise DataError(
            [
                Problem("store.period", f"period {c!r} is not YYYY, YYYYQn or YYYY-MM", {"period": c})
                for c in bad
            ]
        )
    if not wanted:
        return 0
    have: set[str] = set()
    for chunk in _chunks(wanted, _IN_CHUNK):
        have.update(session.scalars(select(Period.code).where(Period.code.in_(chunk))))
    new = [c for c in wanted if c not in have]
    if new:
        stmt = _dialect_insert(session, Period.__table__).on_conflict_do_nothing(index_elements=["code"])
        session.execute(stmt, [{"code": c, "kind": period_kind(c)} for c in new])
    return len(new)


# ----------------------------------------------------------------------------------- submissions


def store_submission(
    session: Session,
    payload_bytes: bytes,
    file_name: str,
    fmt: str,
    submitted_by: str,
    *,
    status: str = "accepted",
    n_rows: int | None = None,
    problems: list[Any] | None = None,
    received_at: dt.datetime | None = None,
) -> tuple[Submission, bool]:
    """Keep a received payload verbatim. Returns ``(submission, is_new)``: the same bytes again give
    the submission already stored (whatever its status) and ``is_new=False``, and change nothing.

    Safe against a concurrent writer storing the same bytes (``ON CONFLICT DO NOTHING`` on sha256)."""
    if not isinstance(payload_bytes, (bytes, bytearray, memoryview)):
        raise TypeError(f"payload must be bytes, not {type(payload_bytes).__name__}")
    if status not in SUBMISSION_STATUSES:
        raise ValueError(f"status {status!r} is not one of {SUBMISSION_STATUSES}")
    payload = bytes(payload_bytes)
    digest = hashlib.sha256(payload).hexdigest()
    begin_write(session)
    found = session.scalar(select(Submission).where(Submission.sha256 == digest))
    if found is not None:
        return found, False
    values: dict[str, Any] = {
        "file_name": str(file_name),
        "format": str(fmt),
        "sha256": digest,
        "payload": payload,
        "size": len(payload),
        "received_at": received_at or utcnow(),
        "submitted_by": str(submitted_by),
        "status": status,
        "n_rows": n_rows,
    }
    if problems is not None:
        values["problems"] = _jsonable([p.as_dict() if isinstance(p, Problem) else p for p in problems])
    stmt = (
        _dialect_insert(session, Submission.__table__)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["sha256"])
        .returning(Submission.__table__.c.id)
    )
    new_id = session.execute(stmt).scalar()
    if new_id is None:  # a concurrent writer stored the same bytes first
        found = session.scalar(select(Submission).where(Submission.sha256 == digest))
        assert found is not None
        return found, False
    sub = session.get(Submission, new_id)
    assert sub is not None
    return sub, True


def submissions_frame(session: Session) -> pd.DataFrame:
    """Every submission without its payload, newest first."""
    t = Submission.__table__
    cols = ["id", "file_name", "format", "sha256", "size", "received_at", "submitted_by", "status", "n_rows"]
    rows = session.execute(select(*(t.c[c] for c in cols)).order_by(t.c.id.desc())).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=cols)


# ---------------------------------------------------------------------------------- observations


def store_observations(
    session: Session,
    submission: Submission | None,
    frame: pd.DataFrame,
    *,
    who: str | None = None,
    why: str | None = None,
) -> StoreStats:
    """Write a long observation frame ``[entity_kind, entity_id, period, variable, value, unit, source]``
    (optional: ``value_norm``, ``unit_norm``, ``status``, ``flag_reason``) in the caller's transaction.

    New keys are inserted; an existing key whose value, unit, normalised value, source, status or flag
    differs is updated and every changed field is audited (old → new, ``who`` (default: the submitter),
    UTC time, ``why`` (default ``"import <file name>"``), the submission); identical rows are left
    alone. Raises :class:`DataError` for bad rows or duplicate keys (nothing written by this call; the
    caller rolls back). Call it in the same transaction as :func:`store_submission`, or use
    :func:`import_observations` which does exactly that."""
    return _store_prepared(session, submission, _prepare_observations(frame), who=who, why=why)


def _store_prepared(
    session: Session, submission: Submission | None, prepared: _Prepared, *, who: str | None, why: str | None
) -> StoreStats:
    df = prepared.frame
    begin_write(session)
    n = len(df)
    if n == 0:
        return StoreStats()
    sub_id = submission.id if submission is not None else None
    who = who or (submission.submitted_by if submission is not None else "system")
    why = why or (f"import {submission.file_name}" if submission is not None else "import")
    if submission is not None and submission.n_rows is None:
        submission.n_rows = n
    ensure_periods(session, df["period"].unique().tolist())
    try:
        refs = _key_refs(session, prepared.codes)
        existing = _existing_observations(session, df, refs)
        if existing.empty:
            _insert_observations(session, df, refs, sub_id)
            return StoreStats(inserted=n)
        _duplicates(df, OBS_KEY, "observation")
        return _merge_observations(session, df, refs, existing, sub_id, who, why)
    except _integrity_errors(session) as exc:
        _duplicates(df, OBS_KEY, "observation")
        raise DataError(_db_message(exc), rule="store.integrity") from exc


def _db_message(exc: BaseException) -> str:
    orig = getattr(exc, "orig", exc)
    first = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    return f"the database refused the rows: {first}"


class _Refs(NamedTuple):
    """Per row: the key numbers (``observed_entity.id``, ``observed_variable.id``), and whether both
    were stored before this import (only then can an observation with that key exist)."""

    entity: np.ndarray
    variable: np.ndarray
    known: np.ndarray


def _key_refs(session: Session, keys: Mapping[str, _Codes]) -> _Refs:
    """Number every row's entity and variable, storing the numbers not stored yet. The key text is
    handled once per distinct entity or variable, never once per row."""
    kind, ent, var = (keys[c] for c in ("entity_kind", "entity_id", "variable"))
    row_entity, pairs = pd.factorize(kind.codes.astype(np.int64) * len(ent.uniques) + ent.codes)
    entities = pd.DataFrame(
        {"entity_kind": kind.uniques[pairs // len(ent.uniques)], "entity_id": ent.uniques[pairs % len(ent.uniques)]}
    ).astype("str")
    variables = pd.DataFrame({"name": var.uniques}).astype("str")
    e_ids, e_known = _numbers(session, ObservedEntity.__table__, entities)
    v_ids, v_known = _numbers(session, ObservedVariable.__table__, variables)
    return _Refs(e_ids[row_entity], v_ids[var.codes], e_known[row_entity] & v_known[var.codes])


def _numbers(session: Session, table: Table, wanted: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The id of each row of ``wanted`` (the table's key columns) in ``table``, storing those not
    stored yet, numbered in key order; and whether each was stored before."""
    ids = _stored_numbers(session, table, wanted)
    missing = np.isnan(ids)
    if missing.any():
        pos = np.flatnonzero(missing)
        new = wanted.iloc[pos]
        order = np.lexsort([new[c].to_numpy() for c in reversed(wanted.columns)])
        new, pos = new.iloc[order], pos[order]
        new_ids = _reserve_ids(session, table, len(new))
        cols: dict[str, Any] = {"id": new_ids.tolist()}
        cols.update((c, _column(new[c])) for c in new.columns)
        stored = _bulk_insert(session, table, cols, len(new), on_conflict=(tuple(wanted.columns), ()))
        if stored == len(new):
            ids[pos] = new_ids
        else:  # a concurrent writer (PostgreSQL) stored some of them first: take its numbers
            ids[pos] = _stored_numbers(session, table, new.reset_index(drop=True))
        if np.isnan(ids).any():  # pragma: no cover - the insert above stored them
            raise RuntimeError(f"{table.name}: rows not found after storing them")
    return ids.astype(np.int64), ~missing


def _stored_numbers(session: Session, table: Table, wanted: pd.DataFrame) -> np.ndarray:
    """``table.id`` of each row of ``wanted`` (the table's key columns); NaN when not stored."""
    if session.execute(select(table.c.id).limit(1)).first() is None:
        return np.full(len(wanted), np.nan)  # nothing stored yet (a first import): one probe answers
    keys = list(wanted.columns)
    last = keys[-1]  # entity_id or name: the selective column
    found: list[tuple[Any, ...]] = []
    for chunk in _chunks(sorted(wanted[last].unique().tolist()), _IN_CHUNK):
        stmt = select(*(table.c[c] for c in keys), table.c.id).where(table.c[last].in_(chunk))
        found.extend(_raw_rows(session, stmt))
    if not found:
        return np.full(len(wanted), np.nan)
    stored = _frame_from_rows(found, [*keys, "id"], floats=("id",))
    merged = wanted.merge(stored, how="left", on=keys)
    return merged["id"].to_numpy(dtype="float64", copy=True)


def _reserve_ids(session: Session, table: Table, n: int) -> np.ndarray:
    """``n`` new ids for ``table``'s integer primary key, so that rows can be inserted with their ids
    known (no query to read them back). PostgreSQL: drawn from the column's sequence (never handed
    out twice). SQLite: after the largest id; the write transaction (``BEGIN IMMEDIATE``) holds the
    database's write lock, so no other writer can take them (a transaction that had only read is
    refused its first write when another one wrote meanwhile: SQLite never lets two writers
    interleave)."""
    if n == 0:
        return np.empty(0, dtype=np.int64)
    if _dialect(session) == "postgresql":
        seq = f"pg_get_serial_sequence('{table.name}', 'id')"
        got = session.execute(text(f"SELECT array_agg(nextval({seq})) FROM generate_series(1, :n)"), {"n": n})
        return np.sort(np.asarray(got.scalar_one(), dtype=np.int64))
    top = session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    return np.arange(top + 1, top + 1 + n, dtype=np.int64)


def _existing_observations(session: Session, df: pd.DataFrame, refs: _Refs) -> pd.DataFrame:
    """Rows already stored for the frame's keys (a superset: same entities and periods), locked for
    update on PostgreSQL. Only keys numbered before this import can have any (``refs.known``)."""
    t = Observation.__table__
    cols = [
        t.c.entity_ref, t.c.period, t.c.variable_ref, t.c.value, t.c.unit,
        func.coalesce(t.c.value_norm, t.c.value).label("value_norm"),
        func.coalesce(t.c.unit_norm, t.c.unit).label("unit_norm"),
        t.c.source, t.c.status, t.c.flag_reason,
    ]  # fmt: skip
    names = [c.name for c in cols]
    periods = sorted(df["period"].unique().tolist())
    rows: list[Any] = []
    for chunk in _chunks(np.unique(refs.entity[refs.known]).tolist(), _IN_CHUNK):
        stmt = select(*cols).where(t.c.entity_ref.in_(chunk), t.c.period.in_(periods)).with_for_update()
        rows.extend(_raw_rows(session, stmt))
    out = _frame_from_rows(rows, names, floats=("value", "value_norm"), ints=("entity_ref", "variable_ref"))
    out["stored"] = True
    return out


def _frame_from_rows(
    rows: list[tuple[Any, ...]], names: Sequence[str], *, floats: Sequence[str] = (), ints: Sequence[str] = ()
) -> pd.DataFrame:
    """Driver rows → a frame: float64 (NaN), Int64 or str columns (the slow, general path: see
    :func:`_raw_frame`)."""
    cols = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    data: dict[str, Any] = {}
    for name, values in zip(names, cols, strict=True):
        if name in floats:
            data[name] = np.array(values, dtype="float64")
        elif name in ints:
            data[name] = pd.array(values, dtype="Int64")
        else:
            data[name] = pd.array(values, dtype="str")
    return pd.DataFrame(data, columns=list(names))


_STORED_COLUMNS = ("period", "unit", "source", "unit_norm", "status", "flag_reason")


def _insert_observations(session: Session, df: pd.DataFrame, refs: _Refs, sub_id: int | None) -> None:
    """Insert in key order (entity, period, variable): the primary key's B-tree then grows at its end
    instead of splitting pages all over (a period-major return took 4 times as long).

    Rows flagged for review (status ``flagged``, a reason) are usually a few per thousand: the others
    go first with status and reason sent once per statement, then the flagged ones (1,000,000 rows of a
    validated return: ~0.3 s less than binding both texts on every row)."""
    order = np.lexsort((refs.variable, _text_rank(df["period"]), refs.entity))
    plain = ((df["status"] == "ok") & df["flag_reason"].isna()).to_numpy(dtype=bool, na_value=False)[order]
    if 0 < plain.sum() < len(order):
        parts = [(order[plain], {"status": _Const("ok"), "flag_reason": _Const(None)}), (order[~plain], {})]
    else:
        parts = [(order, {})]
    for rows, fixed in parts:
        take = None if (len(rows) == len(df) and (rows == np.arange(len(rows))).all()) else rows
        cols = {"entity_ref": _column(refs.entity, take), "variable_ref": _column(refs.variable, take)}
        cols.update((c, fixed.get(c) or _column(df[c], take)) for c in _STORED_COLUMNS)
        cols["value"] = _column(df["value"].to_numpy(), take)
        cols["value_norm"] = _column(df["value_norm"].to_numpy(), take)
        cols["submission_id"] = _Const(sub_id)
        _bulk_insert(session, Observation.__table__, cols, len(rows))


_UPDATED = ("value", "unit", "value_norm", "unit_norm", "source", "status", "flag_reason")


def _merge_observations(
    session: Session,
    df: pd.DataFrame,
    refs: _Refs,
    existing: pd.DataFrame,
    sub_id: int | None,
    who: str,
    why: str,
) -> StoreStats:
    inc = df.reset_index(drop=True)
    inc["entity_ref"] = pd.array(refs.entity, dtype="Int64")
    inc["variable_ref"] = pd.array(refs.variable, dtype="Int64")
    inc["_pos"] = np.arange(len(inc))
    m = inc.merge(existing, on=["entity_ref", "period", "variable_ref"], how="left", suffixes=("", "_old"))
    m = m.sort_values("_pos", kind="stable").reset_index(drop=True)
    is_new = m["stored"].isna().to_numpy()
    pos = m.loc[is_new, "_pos"].to_numpy()
    _insert_observations(session, df.iloc[pos], _Refs(*(a[pos] for a in refs)), sub_id)

    old = m.loc[~is_new].reset_index(drop=True)
    # compare on effective normalised values (NULL pair = same as received)
    value = old["value"].to_numpy()
    new_vn = np.where(np.isnan(old["value_norm"].to_numpy()), value, old["value_norm"].to_numpy())
    new_un = old["unit_norm"].where(old["unit_norm"].notna(), old["unit"])
    diffs: dict[str, np.ndarray] = {
        "value": ~_same_float(value, old["value_old"].to_numpy()),
        "value_norm": ~_same_float(new_vn, old["value_norm_old"].to_numpy()),
        "unit_norm": ~_same_text(new_un, old["unit_norm_old"]),
    }
    for c in ("unit", "source", "status", "flag_reason"):
        diffs[c] = ~_same_text(old[c], old[f"{c}_old"])
    # a normalised pair that only mirrors the received one (no conversion, before and after) is not
    # a change of its own: the change of value/unit is audited
    mirror = (
        _same_float(new_vn, value)
        & _same_text(new_un, old["unit"])
        & _same_float(old["value_norm_old"].to_numpy(), old["value_old"].to_numpy())
        & _same_text(old["unit_norm_old"], old["unit_old"])
    )
    changed = np.zeros(len(old), dtype=bool)
    for d in diffs.values():
        changed |= d
    n_changed = int(changed.sum())
    n_audit = 0
    if n_changed:
        ch = old.loc[changed]
        upd = {c: _obj_list(ch[c]) for c in _UPDATED}
        upd["submission_id"] = _Const(sub_id)
        key = {
            "entity_ref": ch["entity_ref"].astype("int64").tolist(),
            "period": ch["period"].tolist(),
            "variable_ref": ch["variable_ref"].astype("int64").tolist(),
        }
        _bulk_update(session, Observation.__table__, key, upd)
        keys = [
            row_key(*k)
            for k in zip(ch["entity_kind"], ch["entity_id"], ch["period"], ch["variable"], strict=True)
        ]
        effective = {"value_norm": new_vn[changed], "unit_norm": new_un[changed].to_numpy()}
        a_key: list[str] = []
        a_field: list[str] = []
        a_old: list[str | None] = []
        a_new: list[str | None] = []
        for f in _OBS_AUDITED:
            mask = diffs[f][changed]
            if f in ("value_norm", "unit_norm"):
                mask = mask & ~mirror[changed]
            if not mask.any():
                continue
            pos = np.flatnonzero(mask)
            olds = ch[f"{f}_old"].to_numpy()[pos]
            news = (effective[f] if f in effective else ch[f].to_numpy())[pos]
            a_key += [keys[i] for i in pos]
            a_field += [f] * len(pos)
            a_old += [_enc(v) for v in olds]
            a_new += [_enc(v) for v in news]
        n_audit = len(a_key)
        _bulk_insert(
            session,
            AuditEntry.__table__,
            {
                "table_name": _Const("observation"), "key": a_key, "field": a_field, "old": a_old, "new": a_new,
                "who": _Const(who), "at": _Const(utcnow()), "why": _Const(why), "submission_id": _Const(sub_id),
            },
            n_audit,
        )  # fmt: skip
    return StoreStats(
        inserted=int(is_new.sum()), updated=n_changed, unchanged=len(old) - n_changed, audited=n_audit
    )


def _bulk_update(
    session: Session,
    table: Table,
    keys: Mapping[str, list[Any]],
    columns: Mapping[str, list[Any] | _Const],
) -> None:
    """``UPDATE table SET … WHERE <key columns> = …`` for many rows, keys and values given column-wise."""
    n = len(next(iter(keys.values())))
    if n == 0:
        return
    conn = session.connection()
    q = conn.dialect.identifier_preparer
    target = q.format_table(table)
    names = list(columns)
    key_names = list(keys)
    data = [itertools.repeat(v.value, n) if isinstance(v, _Const) else v for v in columns.values()]
    if conn.dialect.name == "postgresql":
        stage = f"fe_stage_{uuid.uuid4().hex[:12]}"
        cols_sql = ", ".join(q.quote(c) for c in [*key_names, *names])
        sets = ", ".join(f"{q.quote(c)} = s.{q.quote(c)}" for c in names)
        match = " AND ".join(f"t.{q.quote(c)} = s.{q.quote(c)}" for c in key_names)
        raw = conn.connection.dbapi_connection
        with raw.cursor() as cur:
            cur.execute(f"CREATE TEMPORARY TABLE {stage} AS SELECT {cols_sql} FROM {target} WITH NO DATA")
            with cur.copy(f"COPY {stage} ({cols_sql}) FROM STDIN") as copy:
                for row in zip(*keys.values(), *data, strict=False):  # constants are endless repeats
                    copy.write_row(row)
            cur.execute(f"UPDATE {target} AS t SET {sets} FROM {stage} AS s WHERE {match}")
            cur.execute(f"DROP TABLE {stage}")
        return
    if conn.dialect.name != "sqlite":  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise NotImplementedError(conn.dialect.name)
    sets = ", ".join(f"{q.quote(c)} = ?" for c in names)
    match = " AND ".join(f"{q.quote(c)} = ?" for c in key_names)
    cur = conn.connection.cursor()
    try:
        cur.executemany(f"UPDATE {target} SET {sets} WHERE {match}", zip(*data, *keys.values(), strict=False))
    finally:
        cur.close()


def _write_audit(session: Session, audits: list[dict[str, Any]]) -> None:
    """Write audit entries given as dicts (``table`` names the audited table)."""
    if not audits:
        return
    names = ("table", "key", "field", "old", "new", "who", "at", "why", "submission_id")
    cols = {("table_name" if c == "table" else c): [a[c] for a in audits] for c in names}
    _bulk_insert(session, AuditEntry.__table__, cols, len(audits))


def import_observations(
    session: Session,
    payload_bytes: bytes,
    frame: pd.DataFrame,
    *,
    file_name: str,
    fmt: str,
    submitted_by: str,
    why: str | None = None,
    received_at: dt.datetime | None = None,
) -> ImportResult:
    """One all-or-nothing import: keep the payload, write the observations, audit the changes.
    Any failure (bad row, duplicate key, a constraint of the database, a concurrent writer) undoes
    everything, the submission row included, and raises (:class:`DataError` for bad input). The same
    bytes again change nothing (``is_new=False``). ``received_at``: when the payload arrived, if not now
    (an accepted return arrived when it was submitted, not when it was accepted).

    On a session with no transaction in progress the import is its own transaction and is committed
    here. Inside a transaction in progress it runs in a SAVEPOINT: a failure undoes the import only,
    and the caller's commit makes it durable."""
    prepared = _prepare_observations(frame)  # bad input: DataError before touching the database
    df = prepared.frame
    if session.in_transaction():
        begin_write(session)
        tx = session.begin_nested()
    else:
        begin_write(session)
        tx = session.get_transaction()
        assert tx is not None
    try:
        sub, is_new = store_submission(session, payload_bytes, file_name, fmt, submitted_by, n_rows=len(df),
                                       received_at=received_at)
        stats = _store_prepared(session, sub, prepared, who=None, why=why) if is_new else StoreStats()
        tx.commit()
    except _integrity_errors(session) as exc:
        tx.rollback()
        raise DataError(_db_message(exc), rule="store.integrity") from exc
    except BaseException:
        tx.rollback()
        raise
    return ImportResult(submission=sub, is_new=is_new, stats=stats)


_KEEP: Any = object()


def correct_value(
    session: Session,
    key: ObsKey | Sequence[str],
    new_value: float | None,
    *,
    who: str,
    why: str,
    unit: str | None = _KEEP,
    value_norm: float | None = None,
    unit_norm: str | None = None,
    status: str | None = None,
    flag_reason: str | None = _KEEP,
) -> list[str]:
    """Correct one stored value, with a reason. Every changed field gets an :class:`AuditEntry`
    (``who``, UTC time, ``why``), so :func:`history` shows the value's whole life. Returns the
    changed field names (empty if nothing changed).

    ``new_value`` is in ``unit`` (default: the row's unit as received). If the row's value had been
    converted (a normalised unit other than that unit), give ``value_norm`` and ``unit_norm`` too."""
    k = ObsKey(*key)
    if not why or not str(why).strip():
        raise DataError("a correction needs a reason", rule="store.correction_reason")
    p = _Problems()
    nv = _py(new_value)
    if nv is not None:
        try:
            nv = float(nv)
        except (TypeError, ValueError):
            p.add("store.not_a_number", f"value {new_value!r} is not a number", column="value")
        else:
            if not math.isfinite(nv):
                p.add("store.not_finite", "value is not finite", column="value")
    if status is not None and status not in OBSERVATION_STATUSES:
        p.add("store.status", f"status {status!r} is not one of {', '.join(OBSERVATION_STATUSES)}")
    p.raise_if_any()
    begin_write(session)
    t, et, vt = Observation.__table__, ObservedEntity.__table__, ObservedVariable.__table__
    row = session.execute(
        select(t)
        .join(et, et.c.id == t.c.entity_ref)
        .join(vt, vt.c.id == t.c.variable_ref)
        .where(
            et.c.entity_kind == k.entity_kind, et.c.entity_id == k.entity_id, vt.c.name == k.variable,
            t.c.period == k.period,
        )
        .with_for_update(of=t)
    ).first()
    if row is None:
        raise DataError(
            f"no stored value for {'/'.join(k)}: import it, corrections change stored values",
            rule="store.unknown_key", **k._asdict(),
        )  # fmt: skip
    old = row._mapping
    new_unit = old["unit"] if unit is _KEEP else unit
    old_vn = old["value"] if old["value_norm"] is None else old["value_norm"]
    old_un = old["unit"] if old["unit_norm"] is None else old["unit_norm"]
    if value_norm is None and unit_norm is None:
        if nv is not None and old["unit_norm"] is not None and old_un != new_unit:
            raise DataError(
                f"the stored value of {'/'.join(k)} was converted from {old['unit']} to {old_un}: "
                f"give value_norm and unit_norm with the correction",
                rule="store.correction_unit", **k._asdict(),
            )  # fmt: skip
        vn_eff, un_eff = nv, new_unit
    else:
        vn_eff = _py(value_norm) if value_norm is not None else nv
        un_eff = unit_norm if unit_norm is not None else new_unit
        if nv is None:
            vn_eff = None
    same = (vn_eff == nv) and (un_eff == new_unit)
    new = {
        "value": nv,
        "unit": new_unit,
        "value_norm": None if same else vn_eff,
        "unit_norm": None if same else un_eff,
        "status": old["status"] if status is None else status,
        "flag_reason": old["flag_reason"] if flag_reason is _KEEP else flag_reason,
    }
    effective_old = {**dict(old), "value_norm": old_vn, "unit_norm": old_un}
    effective_new = {**new, "value_norm": vn_eff, "unit_norm": un_eff}
    mirrored = old_vn == old["value"] and old_un == old["unit"] and vn_eff == nv and un_eff == new_unit
    changed = [
        f
        for f in new
        if effective_old[f] != effective_new[f] and not (mirrored and f in ("value_norm", "unit_norm"))
    ]
    if not changed:
        return []
    session.execute(
        update(t)
        .where(t.c.entity_ref == old["entity_ref"], t.c.period == old["period"], t.c.variable_ref == old["variable_ref"])
        .values(**new)
    )
    at = utcnow()
    key_s = row_key(*k)
    _write_audit(
        session,
        [
            {"table": "observation", "key": key_s, "field": f, "old": _enc(effective_old[f]),
             "new": _enc(effective_new[f]), "who": who, "at": at, "why": why, "submission_id": None}
            for f in changed
        ],
    )  # fmt: skip
    return changed


def history(
    session: Session, key: ObsKey | Sequence[str] | str, *, table: str = "observation"
) -> pd.DataFrame:
    """The audit trail of one row, oldest first: ``at, field, old, new, who, why, submission_id``
    (``old``/``new`` decoded: floats, strings or None)."""
    key_s = key if isinstance(key, str) else row_key(*key)
    t = AuditEntry.__table__
    stmt = (
        select(t.c.at, t.c.field, t.c.old, t.c.new, t.c.who, t.c.why, t.c.submission_id)
        .where(t.c.table_name == table, t.c.key == key_s)
        .order_by(t.c.at, t.c.id)
    )
    rows = [
        (r.at, r.field, _dec(r.old), _dec(r.new), r.who, r.why, r.submission_id)
        for r in session.execute(stmt)
    ]
    cols = ["at", "field", "old", "new", "who", "why", "submission_id"]
    data = list(zip(*rows, strict=True)) if rows else [()] * len(cols)
    out = pd.DataFrame({c: pd.Series(list(v), dtype=object) for c, v in zip(cols, data, strict=True)})
    for c in ("field", "who", "why"):
        out[c] = out[c].astype("str")
    out["submission_id"] = out["submission_id"].astype("Int64")
    return out


def _in_filter(column: Any, values: str | Iterable[str] | None) -> list[Any]:
    if values is None:
        return []
    if isinstance(values, str):
        return [column == values]
    return [column.in_(list(values))]


def _raw_rows(session: Session, stmt: Any) -> list[tuple[Any, ...]]:
    """Run a Core SELECT on the driver's cursor (no per-row SQLAlchemy processing: for columns whose
    types need no result processing, i.e. text, floats and integers)."""
    conn = session.connection()
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    args: Any = [params[k] for k in compiled.positiontup] if compiled.positional else params
    cur = conn.connection.cursor()
    try:
        cur.execute(str(compiled), args)
        return cur.fetchall()
    finally:
        cur.close()


#: Rows fetched (and converted to Arrow) at a time by :func:`_raw_frame`.
_FETCH_ROWS = 50_000


def _raw_frame(
    session: Session, stmt: Any, names: Sequence[str], *, floats: Sequence[str] = (), ints: Sequence[str] = ()
) -> pd.DataFrame:
    """Run a Core SELECT on the driver's cursor and return its rows as a frame: float64 (NaN for
    NULL), Int64 or str columns (see :func:`_raw_rows` for which column types qualify).

    Why not ``pd.DataFrame(cursor.fetchall())``: for a million observations, transposing the
    driver's tuples and building the ``str`` columns from Python lists took longer than the query.
    Here each batch of ``_FETCH_ROWS`` tuples goes straight into one Arrow struct array (C++, one pass
    over the tuples, no per-column Python lists), and the frame's columns are the struct's fields
    (the ``str`` dtype is Arrow-backed: no copy of the text). Batches also bound the memory held in
    Python objects. Values Arrow refuses (a text column holding a number, which SQLite allows) fall
    back to the general conversion."""
    typ = pa.struct(
        [(n, pa.float64() if n in floats else pa.int64() if n in ints else pa.large_string()) for n in names]
    )
    conn = session.connection()
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    args: Any = [params[k] for k in compiled.positiontup] if compiled.positional else params
    cur = conn.connection.cursor()
    try:
        cur.execute(str(compiled), args)
        batches: list[pa.Array] = []
        rows: list[tuple[Any, ...]] = []
        while rows := cur.fetchmany(_FETCH_ROWS):
            try:
                batches.append(pa.array(rows, type=typ))
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
                done = [tuple(r.values()) for b in batches for r in b.to_pylist()]
                rest = cur.fetchall()
                return _frame_from_rows([*done, *map(tuple, rows), *map(tuple, rest)], names,
                                        floats=floats, ints=ints)  # fmt: skip
    finally:
        cur.close()
    fields = pa.chunked_array(batches, type=typ).flatten()
    data: dict[str, Any] = {}
    for name, col in zip(names, fields, strict=True):
        if name in floats:
            data[name] = col.to_numpy().astype("float64", copy=False)  # nulls → NaN
        elif name in ints:
            data[name] = pd.array(col, dtype="Int64")
        else:
            data[name] = pd.array(col, dtype="str")
    return pd.DataFrame(data, columns=list(names))


def _text_rank(values: pd.Series) -> np.ndarray:
    """Each value's rank among the distinct values in code-point order (sorting the distinct ones only)."""
    codes, uniques = pd.factorize(values)
    rank = np.empty(len(uniques), dtype=np.int64)
    rank[np.argsort(np.asarray(uniques, dtype=object), kind="stable")] = np.arange(len(uniques))
    return rank[codes]


def observations_frame(
    session: Session,
    period: str | Iterable[str] | None = None,
    entity_kind: str | Iterable[str] | None = None,
    *,
    variables: Iterable[str] | None = None,
    entity_ids: Iterable[str] | None = None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Stored observations in long format, ordered by key (entity_kind, entity_id, period, variable;
    text in code-point order on every backend), columns :data:`OBSERVATION_COLUMNS` (or the subset
    ``columns``, which reads faster).

    ``value`` and ``unit`` are as received; ``value_norm``/``unit_norm`` are the canonical ones (equal
    to the received ones when no conversion was stored). Missing values are NaN.

    The key text is read once per entity and variable (``observed_entity``, ``observed_variable``) and
    spread over the rows by their numbers in Arrow, not fetched once per row from the database."""
    names = list(OBSERVATION_COLUMNS if columns is None else columns)
    unknown = [c for c in names if c not in OBSERVATION_COLUMNS]
    if unknown:
        raise ValueError(f"unknown observation column(s) {unknown}; known: {OBSERVATION_COLUMNS}")
    t, et, vt = Observation.__table__, ObservedEntity.__table__, ObservedVariable.__table__
    e_where = _in_filter(et.c.entity_kind, entity_kind) + _in_filter(et.c.entity_id, entity_ids)
    v_where = _in_filter(vt.c.name, variables)
    ents = _raw_frame(
        session, select(et.c.id, et.c.entity_kind, et.c.entity_id).where(and_(true(), *e_where)),
        ["id", "entity_kind", "entity_id"], ints=("id",),
    ).sort_values(["entity_kind", "entity_id"], kind="stable", ignore_index=True)  # fmt: skip
    vars_ = _raw_frame(
        session, select(vt.c.id, vt.c.name).where(and_(true(), *v_where)), ["id", "variable"], ints=("id",)
    ).sort_values("variable", kind="stable", ignore_index=True)
    exprs = {c: t.c[c] for c in OBSERVATION_COLUMNS if c in t.c}
    exprs["value_norm"] = func.coalesce(t.c.value_norm, t.c.value)
    exprs["unit_norm"] = func.coalesce(t.c.unit_norm, t.c.unit)
    read = ["entity_ref", "period", "variable_ref", *(c for c in names if c in exprs and c != "period")]
    stmt = select(*(exprs[c] if c in exprs else t.c[c] for c in read))
    stmt = stmt.where(and_(true(), *_in_filter(t.c.period, period)))
    if e_where:
        stmt = stmt.join(et, et.c.id == t.c.entity_ref).where(*e_where)
    if v_where:
        stmt = stmt.join(vt, vt.c.id == t.c.variable_ref).where(*v_where)
    obs = _raw_frame(
        session, stmt, read, floats=("value", "value_norm"), ints=("entity_ref", "variable_ref", "submission_id")
    )
    # numbers → positions in the key-sorted entity and variable tables; rows sorted by key
    e_at = pd.Index(ents["id"].to_numpy(dtype=np.int64)).get_indexer(obs["entity_ref"].to_numpy(dtype=np.int64))
    v_at = pd.Index(vars_["id"].to_numpy(dtype=np.int64)).get_indexer(obs["variable_ref"].to_numpy(dtype=np.int64))
    order = np.lexsort((v_at, _text_rank(obs["period"]), e_at))
    e_at, v_at = e_at[order], v_at[order]
    out: dict[str, Any] = {}
    for c in names:
        if c in ("entity_kind", "entity_id"):
            out[c] = ents[c].array.take(e_at)
        elif c == "variable":
            out[c] = vars_[c].array.take(v_at)
        else:
            out[c] = obs[c].array.take(order)
    return pd.DataFrame(out, columns=names)


# ------------------------------------------------------------------------------------- derived


def save_derived(
    session: Session,
    frame: pd.DataFrame,
    *,
    framework: str | None = None,
    framework_version: str | None = None,
) -> int:
    """Store derived indicator values (upsert on entity/period/code/framework/version); returns the
    number of rows written. Columns: ``entity_kind, entity_id, period, code, value`` and optionally
    ``status`` (default: ``ok`` when the value is present, else ``missing``), ``reason``, ``inputs``
    (dicts), ``formula``, ``framework``, ``framework_version`` (or the keyword arguments).

    A value must be present exactly when the status is ``ok``: a missing input gives a missing value,
    never 0."""
    df = _as_frame(frame, "derived values")
    _missing_columns(df, ("entity_kind", "entity_id", "period", "code", "value"), "derived values")
    p = _Problems()
    out: dict[str, Any] = {
        c: _required_text(df, c, p) for c in ("entity_kind", "entity_id", "period", "code")
    }
    _choice(out["entity_kind"], ENTITY_KINDS, df, "entity_kind", p)
    _periods(out["period"], df, p)
    value = _num_col(df["value"], p, df, "value")
    if "status" in df.columns:
        status = _str_col(df["status"])
        _choice(status, DERIVED_STATUSES, df, "status", p)
    else:
        status = pd.Series(np.where(np.isnan(value), "missing", "ok"), index=df.index, dtype="str")
    is_ok = status.isin(WITH_VALUE).to_numpy(dtype=bool, na_value=False)
    p.rows(is_ok & np.isnan(value), df, "store.derived_status",
           lambda lbl, i: f"status {status.iloc[i]} without a value", column="value")  # fmt: skip
    p.rows(
        ~is_ok & status.isin(DERIVED_STATUSES).to_numpy() & ~np.isnan(value), df, "store.derived_status",
        lambda lbl, i: f"a value with status {status.iloc[i]!r} (only ok and flagged values have one)", column="value",
    )  # fmt: skip
    for c, given in (("framework", framework), ("framework_version", framework_version)):
        if given is not None:
            out[c] = pd.Series(str(given), index=df.index, dtype="str")
        elif c in df.columns:
            out[c] = _str_col(df[c]).fillna("")
        else:
            out[c] = pd.Series("", index=df.index, dtype="str")
    p.raise_if_any()
    key_df = pd.DataFrame(out, index=df.index)
    _duplicates(key_df, _DERIVED_KEY, "derived value")
    n = len(df)
    if n == 0:
        return 0
    begin_write(session)
    ensure_periods(session, out["period"].unique().tolist())
    cols: dict[str, Any] = {c: _column(out[c]) for c in _DERIVED_KEY}
    cols["value"] = _column(value)
    cols["status"] = _column(status)
    for c in ("reason", "formula"):
        cols[c] = _column(_str_col(df[c])) if c in df.columns else _Const(None)
    if "inputs" in df.columns:
        memo: dict[int, Any] = {}  # one conversion per distinct object (many rows share their entity's document)
        cols["inputs"] = [None if _py(v) is None else memo[id(v)] if id(v) in memo else memo.setdefault(id(v), _jsonable(v))
                          for v in df["inputs"].tolist()]
    else:
        cols["inputs"] = _Const(None)
    cols["computed_at"] = _Const(utcnow())
    upd = [c for c in cols if c not in _DERIVED_KEY]
    try:
        _bulk_insert(session, DerivedValue.__table__, cols, n, on_conflict=(_DERIVED_KEY, upd))
    except _integrity_errors(session) as exc:
        raise DataError(_db_message(exc), rule="store.integrity") from exc
    return n


def derived_frame(
    session: Session,
    period: str | Iterable[str] | None = None,
    entity_kind: str | Iterable[str] | None = None,
    *,
    codes: Iterable[str] | None = None,
    framework: str | None = None,
    framework_version: str | None = None,
) -> pd.DataFrame:
    """Stored derived values in long format, columns :data:`DERIVED_COLUMNS` (missing value: NaN)."""
    t = DerivedValue.__table__
    where = (
        _in_filter(t.c.period, period)
        + _in_filter(t.c.entity_kind, entity_kind)
        + _in_filter(t.c.code, codes)
        + _in_filter(t.c.framework, framework)
        + _in_filter(t.c.framework_version, framework_version)
    )
    stmt = (
        select(*(t.c[c] for c in DERIVED_COLUMNS))
        .where(and_(true(), *where))
        .order_by(t.c.framework, t.c.framework_version, t.c.entity_kind, t.c.entity_id, t.c.period, t.c.code)
    )
    rows = session.execute(stmt).all()
    out = pd.DataFrame.from_records([tuple(r) for r in rows], columns=list(DERIVED_COLUMNS))
    out["value"] = out["value"].astype("float64")
    for c in (
        "entity_kind",
        "entity_id",
        "period",
        "code",
        "status",
        "reason",
        "formula",
        "framework",
        "framework_version",
    ):
        out[c] = out[c].astype("str")
    out["inputs"] = out["inputs"].astype(object)
    return out


# ------------------------------------------------------------------------------- entities (audited)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _py(v) for k, v in r.items()} for r in frame.to_dict("records")]


def _upsert_audited(
    session: Session,
    model: Any,
    keys: tuple[str, ...],
    records: list[dict[str, Any]],
    required_new: tuple[str, ...],
    who: str,
    why: str,
) -> StoreStats:
    """Insert new rows, update changed fields of existing ones (auditing each change), by ``keys``."""
    if not records:
        return StoreStats()
    table = model.__table__
    begin_write(session)
    existing: dict[tuple, dict[str, Any]] = {}
    firsts = sorted({r[keys[0]] for r in records})
    for chunk in _chunks(firsts, _IN_CHUNK):
        stmt = select(table).where(table.c[keys[0]].in_(chunk)).with_for_update()
        for row in session.execute(stmt).mappings():
            existing[tuple(row[k] for k in keys)] = dict(row)
    inserts: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    updated = unchanged = 0
    by_fields: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    p = _Problems()
    at = utcnow()
    for r in records:
        k = tuple(r[c] for c in keys)
        old = existing.get(k)
        if old is None:
            missing = [c for c in required_new if r.get(c) is None]
            if missing:
                p.add("store.missing", f"new {table.name} {'/'.join(map(str, k))}: {', '.join(missing)} missing",
                      **dict(zip(keys, k, strict=True)))  # fmt: skip
            inserts.append(r)
            continue
        changed = {f: v for f, v in r.items() if f not in keys and old.get(f) != v}
        if not changed:
            unchanged += 1
            continue
        updated += 1
        by_fields.setdefault(tuple(sorted(changed)), []).append(
            {**{f"k_{c}": v for c, v in zip(keys, k, strict=True)}, **{f"v_{f}": v for f, v in changed.items()}})
        key_s = row_key(*k)
        audits.extend(
            {"table": table.name, "key": key_s, "field": f, "old": _enc(old.get(f)), "new": _enc(v),
             "who": who, "at": at, "why": why, "submission_id": None}
            for f, v in changed.items()
        )  # fmt: skip
    p.raise_if_any()
    for fields, params in by_fields.items():  # one executemany per set of changed fields, not a statement a row
        session.execute(update(table).where(*(table.c[c] == bindparam(f"k_{c}") for c in keys))
                        .values({f: bindparam(f"v_{f}") for f in fields}), params)
    if inserts:
        cols = sorted({c for r in inserts for c in r})
        session.execute(insert(table), [{c: r.get(c, table.c[c].default.arg if table.c[c].default else None)
                                         for c in cols} for r in inserts])  # fmt: skip
    _write_audit(session, audits)
    return StoreStats(inserted=len(inserts), updated=updated, unchanged=unchanged, audited=len(audits))


_TRUE = {"true", "yes", "y", "1", "是", "t"}
_FALSE = {"false", "no", "n", "0", "否", "f", ""}


def _bool(value: Any) -> bool | None:
    v = _py(value)
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, (int, float)) and v in (0, 1):
        return bool(v)
    s = str(v).strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise ValueError(v)


def _entity_records(
    frame: pd.DataFrame | Iterable[Mapping[str, Any]],
    what: str,
    key: str,
    allowed: tuple[str, ...],
    choices: dict[str, tuple[str, ...]],
    unique: tuple[str, ...] | None = None,
) -> list[dict[str, Any]]:
    df = _as_frame(frame, what)
    _missing_columns(df, (key,), what)
    extra = [c for c in df.columns if c not in allowed]
    if extra:
        raise DataError(f"{what}: unknown column(s) {', '.join(map(str, extra))}", rule="store.columns")
    p = _Problems()
    _required_text(df, key, p)
    for c, options in choices.items():
        if c in df.columns:
            _choice(_str_col(df[c]), options, df, c, p)
    p.raise_if_any()
    _duplicates(df, unique or (key,), what)
    recs = _records(df)
    for r in recs:
        for c, v in r.items():
            if isinstance(v, str):
                r[c] = v.strip()
        for c in (key, "period"):
            if r.get(c) is not None:
                r[c] = str(r[c])
    return recs


def upsert_institutions(
    session: Session,
    records: pd.DataFrame | Iterable[Mapping[str, Any]],
    *,
    who: str = "system",
    why: str = "institution register",
) -> StoreStats:
    """Create or update institutions (columns: ``id, name_zh, name_en, sector, subtype, region_code,
    listed``; only ``id`` is required for an update, ``name_zh`` and ``sector`` for a new one).
    ``region_code`` takes a GB/T 2260 province code, two- or six-digit, stored as two digits.
    Changes to existing institutions are audited."""
    allowed = ("id", "name_zh", "name_en", "sector", "subtype", "region_code", "listed")
    recs = _entity_records(records, "institutions", "id", allowed, {"sector": SECTORS})
    _region_and_listed(recs)
    return _upsert_audited(session, Institution, ("id",), recs, ("name_zh", "sector"), who, why)


def _region_and_listed(recs: list[dict[str, Any]]) -> None:
    """A register's ``region_code`` (a GB/T 2260 province code, two or six digits → two) and ``listed``
    (yes/no; blank keeps the stored value, new rows: not listed), in place; problems raised together."""
    p = _Problems()
    for i, r in enumerate(recs):
        if "region_code" in r and r["region_code"] is not None:
            code = province_code(r["region_code"])
            if code is None:
                p.add("store.region_code", f"region_code {r['region_code']!r} is not a GB/T 2260 province code",
                      row=i, id=r["id"])  # fmt: skip
            r["region_code"] = code
        if "listed" in r:
            try:
                listed = _bool(r["listed"])
            except ValueError:
                p.add("store.listed", f"listed {r['listed']!r} is not yes/no", row=i, id=r["id"])
            else:
                if listed is None:  # not given: keep the stored value (new rows: not listed)
                    del r["listed"]
                else:
                    r["listed"] = listed
    p.raise_if_any()


def upsert_vendors(
    session: Session,
    records: pd.DataFrame | Iterable[Mapping[str, Any]],
    *,
    who: str = "system",
    why: str = "vendor register",
) -> StoreStats:
    """Create or update technology vendors (``id, name_zh, name_en, provider_type``); audited."""
    allowed = ("id", "name_zh", "name_en", "provider_type")
    recs = _entity_records(records, "vendors", "id", allowed, {"provider_type": PROVIDER_TYPES})
    return _upsert_audited(session, Vendor, ("id",), recs, ("name_zh", "provider_type"), who, why)


def institutions_frame(session: Session, sector: str | Iterable[str] | None = None) -> pd.DataFrame:
    """The institution register (ordered by id)."""
    t = Institution.__table__
    cols = ["id", "name_zh", "name_en", "sector", "subtype", "region_code", "listed"]
    stmt = (
        select(*(t.c[c] for c in cols)).where(and_(true(), *_in_filter(t.c.sector, sector))).order_by(t.c.id)
    )
    out = pd.DataFrame([tuple(r) for r in session.execute(stmt)], columns=cols)
    for c in cols[:-1]:
        out[c] = out[c].astype("str")
    out["listed"] = out["listed"].astype(bool)
    return out


def vendors_frame(session: Session) -> pd.DataFrame:
    """The vendor register (ordered by id)."""
    t = Vendor.__table__
    cols = ["id", "name_zh", "name_en", "provider_type"]
    out = pd.DataFrame([tuple(r) for r in session.execute(select(*(t.c[c] for c in cols)).order_by(t.c.id))],
                       columns=cols)  # fmt: skip
    return out.astype("str")
