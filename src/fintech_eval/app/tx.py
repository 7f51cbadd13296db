"""Write transactions of the application layer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from ..store import begin_write
from .workspace import Workspace


@contextmanager
def writing(ws: Workspace) -> Iterator[Session]:
    """A session in a transaction that is a write transaction from its first statement (``BEGIN IMMEDIATE`` on
    SQLite): concurrent writers queue on the busy timeout instead of failing with "database is locked" when a
    transaction that has read tries to write. Commits on success, rolls back on an exception."""
    with ws.sessions() as s, s.begin():
        begin_write(s)
        yield s
