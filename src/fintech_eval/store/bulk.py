"""Bulk writers per dialect, bypassing the ORM.

SQLite gets multi-row ``INSERT … VALUES (…), (…)`` statements through the driver (about twice as fast as
one row per statement), PostgreSQL gets ``COPY … FROM STDIN`` of CSV written by Arrow; an upsert is
``ON CONFLICT … DO UPDATE`` (through a temporary table on PostgreSQL), a bulk update ``executemany`` on
SQLite and ``UPDATE … FROM`` a staged table on PostgreSQL. Columns are given column-wise (lists of
DB-ready values, or :class:`_Const` for one value in every row). Also the dialect helpers the
repositories share: chunked ``IN`` lists, the dialect's ``INSERT``, its integrity errors, id reservation.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import JSON, Table, func, insert, select, text
from sqlalchemy.dialects import postgresql as _pg
from sqlalchemy.dialects import sqlite as _sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .keys import _jsonable, _py

_IN_CHUNK = 500  # values per IN (...) list


#: Rows per multi-row ``INSERT … VALUES`` statement on SQLite. Inserting 1,000,000 observations (4
#: varying columns) with the bare driver, before the commit, on a busy 2-CPU machine: 64 rows per
#: statement 3.5–4.0 s, 250 rows 3.0–3.6 s, 1000 rows 3.3 s; one row per statement (``executemany``
#: over a prepared single-row INSERT) 7.8–8.6 s: the driver's per-row overhead dominates.
_SQLITE_ROWS_PER_STATEMENT = 256


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


def _db_message(exc: BaseException) -> str:
    orig = getattr(exc, "orig", exc)
    first = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    return f"the database refused the rows: {first}"


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
