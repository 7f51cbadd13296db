"""What a database holds, in one comparable value: tests of "bad input changes nothing" compare it
before and after."""

from __future__ import annotations

import hashlib

from fintech_eval.store import init_db, observations_frame, session_factory, submissions_frame


def fingerprint(db: str) -> tuple[int, int, str]:
    """(observations, submissions, SHA-256 of every stored observation)."""
    with session_factory(init_db(db))() as s:
        obs = observations_frame(s)
        subs = submissions_frame(s)
    return len(obs), len(subs), hashlib.sha256(obs.to_csv(index=False).encode()).hexdigest()
