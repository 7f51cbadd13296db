"""The ``period`` rows every stored value refers to (kind from the code: YYYY, YYYYQn, YYYY-MM)."""

from __future__ import annotations

import math
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import DataError, Problem
from ..periods import period_kind
from .bulk import _IN_CHUNK, _chunks, _dialect_insert
from .models import Period

__all__ = ["ensure_periods"]


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
