"""One object for one database: opened once, migrated explicitly or on first use of a new file, frameworks
cached. Use-case functions take a :class:`Workspace`; nothing else opens the database."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ..catalog import Framework, load_framework
from ..store import current_revision, database_url, head_revision, init_db, make_engine, session_factory


class Workspace:
    """The database ``db`` (a SQLite path or a URL; default ``$FINTECH_EVAL_DB``, else
    ``./fintech-eval.sqlite``). ``create=True`` creates and migrates a new database; an existing one whose
    schema is older is upgraded (``fintech-eval db upgrade`` does the same explicitly); ``create=False``
    (reading commands) neither creates nor migrates: a missing, foreign or older database is an error saying
    what to do."""

    def __init__(self, db: str | None = None, *, create: bool = True):
        self.url = database_url(db)
        if create:
            engine = make_engine(self.url)
            self.engine: Engine = init_db(engine) if current_revision(engine) != head_revision() else engine
        else:  # reading: never creates or migrates; a missing, foreign or older database is one line
            from ..service import open_existing_db

            self.engine = open_existing_db(self.url)
        self._frameworks: dict[str, Framework] = {}

    @classmethod
    def existing(cls, db: str | None = None) -> Workspace | None:
        """The workspace of ``db`` if that database exists, else ``None`` (``fintech-eval validate``: checks
        against a database when there is one, and never creates one); an existing database that is not ours
        or of another schema is an error, as for ``create=False``."""
        from ..service import existing_db

        engine = existing_db(db)
        if engine is None:
            return None
        ws = cls.__new__(cls)
        ws.url, ws.engine, ws._frameworks = database_url(db), engine, {}
        return ws

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return session_factory(self.engine)

    def framework(self, fid: str = "jrt0201-2020") -> Framework:
        if fid not in self._frameworks:
            self._frameworks[fid] = load_framework(fid)
        return self._frameworks[fid]

    def add_framework(self, framework: Framework) -> Framework:
        """Use ``framework`` (e.g. a shipped one with extension files applied, under the extension's id) in
        this workspace: campaigns and returns naming its id validate against it."""
        self._frameworks[framework.id] = framework
        return framework

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


@dataclass(frozen=True)
class Upgrade:
    """What :func:`upgrade_database` did: the database (password hidden) and its schema revision before and after."""

    url: str
    before: str | None
    after: str


def upgrade_database(db: str | None = None) -> Upgrade:
    """Create the database ``db`` or upgrade its schema to this version's (``fintech-eval db upgrade``)."""
    from sqlalchemy.engine import make_url

    url = database_url(db)
    before = current_revision(url)
    init_db(url).dispose()
    return Upgrade(make_url(url).render_as_string(hide_password=True), before, head_revision())
