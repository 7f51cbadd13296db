"""The numbers of observation keys: each distinct entity (kind, id) and variable name is numbered once
(``observed_entity``, ``observed_variable``, in key order) and observations store the numbers (see the
models). The key text is handled once per distinct entity or variable, never once per row."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from .bulk import _IN_CHUNK, _bulk_insert, _chunks, _column, _reserve_ids
from .checks import _Codes
from .models import ObservedEntity, ObservedVariable
from .reads import _frame_from_rows, _raw_rows


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
