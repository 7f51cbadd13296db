"""Received payloads, kept verbatim: one ``submission`` row per distinct content (sha256); the same
bytes again give the row already stored."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import Problem
from .bulk import _dialect_insert
from .db import begin_write
from .keys import _jsonable
from .models import SUBMISSION_STATUSES, Submission, utcnow

__all__ = ["store_submission", "submissions_frame"]


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
