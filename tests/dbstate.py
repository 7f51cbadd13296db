"""What a database holds, in one comparable value: tests of "bad input changes nothing" compare it
before and after."""

from __future__ import annotations

import hashlib

from fintech_eval.app import Workspace
from fintech_eval.app.intake import ImportReport, import_files
from fintech_eval.store import init_db, observations_frame, session_factory, submissions_frame


def import_into(db: str, paths, framework="jrt0201-2020", **kw) -> ImportReport:
    """``fintech-eval import`` in Python: :func:`~fintech_eval.app.intake.import_files` on the database ``db``."""
    with Workspace(db) as ws:
        return import_files(ws, paths, framework, **kw)


def fingerprint(db: str) -> tuple[int, int, str]:
    """(observations, submissions, SHA-256 of every stored observation)."""
    with session_factory(init_db(db))() as s:
        obs = observations_frame(s)
        subs = submissions_frame(s)
    return len(obs), len(subs), hashlib.sha256(obs.to_csv(index=False).encode()).hexdigest()
