"""Bulk reads: Core SELECTs run on the driver's cursor, their rows fetched in batches straight into Arrow
arrays and frames (see :func:`_raw_frame`), and the ``IN``/``=`` filters the listings share. Of a
million-observation read-back the remaining cost is the driver's creation of a Python object per fetched
value."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy.orm import Session


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


def _in_filter(column: Any, values: str | Iterable[str] | None) -> list[Any]:
    if values is None:
        return []
    if isinstance(values, str):
        return [column == values]
    return [column.in_(list(values))]


@contextlib.contextmanager
def _cursor(session: Session, stmt: Any) -> Iterator[Any]:
    """A driver cursor on which the Core SELECT ``stmt`` has run (closed on exit): the rows skip SQLAlchemy's
    per-row processing, for columns whose types need none (text, floats and integers)."""
    conn = session.connection()
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    args: Any = [params[k] for k in compiled.positiontup] if compiled.positional else params
    cur = conn.connection.cursor()
    try:
        cur.execute(str(compiled), args)
        yield cur
    finally:
        cur.close()


def _raw_rows(session: Session, stmt: Any) -> list[tuple[Any, ...]]:
    """Run a Core SELECT on the driver's cursor (see :func:`_cursor`) and return its rows."""
    with _cursor(session, stmt) as cur:
        return cur.fetchall()


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
    with _cursor(session, stmt) as cur:
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
