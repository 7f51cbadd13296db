"""Server-side sessions: the browser holds a random secret in an HttpOnly, SameSite=Lax cookie (Secure over
https); the ``web_session`` table holds its SHA-256, the user, the CSRF token and the expiry. A session ends at
sign-out, after ``session_hours``, after ``session_idle_minutes`` without a request, when the password is
changed (the others of that user) or when the account is disabled."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select, update

from ..app.audit import audit
from ..app.tokens import digest
from ..app.tx import writing
from ..app.workspace import Workspace
from ..store.models import WebSession
from . import csrf
from .settings import WebSettings

COOKIE = "fe_session"
TOUCH_EVERY = dt.timedelta(minutes=1)  # last_seen_at is written at most this often


@dataclass(frozen=True)
class SessionInfo:
    id: str  # the SHA-256 of the cookie's secret
    user_id: int
    csrf_token: str
    expires_at: dt.datetime


def create_session(ws: Workspace, user_id: int, settings: WebSettings, *, ip: str | None = None,
                   user_agent: str | None = None) -> tuple[str, SessionInfo]:
    """A new session of ``user_id``: the cookie's secret and the session."""
    secret = secrets.token_urlsafe(32)
    now = dt.datetime.now(dt.UTC)
    row = WebSession(id=digest(secret), user_id=user_id, csrf_token=csrf.new_token(), created_at=now, last_seen_at=now,
                     expires_at=now + dt.timedelta(hours=settings.session_hours), ip=ip and ip[:64],
                     user_agent=user_agent and user_agent[:300])
    with writing(ws) as s:
        s.execute(delete(WebSession).where(WebSession.expires_at <= now))  # housekeeping: expired sessions go
        s.add(row)
    return secret, SessionInfo(row.id, user_id, row.csrf_token, row.expires_at)


def resolve_session(ws: Workspace, secret: str, settings: WebSettings, *, now: dt.datetime | None = None) -> SessionInfo | None:
    """The live session of this cookie secret (None: unknown, expired or idle too long)."""
    if not secret or len(secret) > 200:
        return None
    now = now or dt.datetime.now(dt.UTC)
    sid = digest(secret)
    with ws.sessions() as s:
        row = s.get(WebSession, sid)
        if row is None:
            return None
        info = SessionInfo(row.id, row.user_id, row.csrf_token, row.expires_at)
        seen = row.last_seen_at
    if info.expires_at <= now or now - seen > dt.timedelta(minutes=settings.session_idle_minutes):
        end_session(ws, sid)
        return None
    if now - seen >= TOUCH_EVERY:
        with writing(ws) as s:
            s.execute(update(WebSession).where(WebSession.id == sid).values(last_seen_at=now))
    return info


def end_session(ws: Workspace, session_id: str) -> None:
    with writing(ws) as s:
        s.execute(delete(WebSession).where(WebSession.id == session_id))


def sign_out(ws: Workspace, session_id: str, *, user_id: int, email: str, ip: str | None) -> None:
    """End a session at its user's request and write ``sign_out`` to the audit log, in one transaction (the
    API's ``POST /api/v1/auth/sign-out`` and the page's ``POST /sign-out`` both call this)."""
    with writing(ws) as s:
        s.execute(delete(WebSession).where(WebSession.id == session_id))
        audit(None, email, "sign_out", f"user:{user_id}", None, actor_id=user_id, ip=ip, session=s)


def end_sessions(ws: Workspace, user_id: int, *, keep: str | None = None) -> int:
    """End every session of ``user_id`` (but ``keep``); returns how many."""
    with writing(ws) as s:
        stmt = delete(WebSession).where(WebSession.user_id == user_id)
        if keep is not None:
            stmt = stmt.where(WebSession.id != keep)
        return s.execute(stmt).rowcount or 0


def session_count(ws: Workspace, user_id: int) -> int:
    with ws.sessions() as s:
        return len(s.execute(select(WebSession.id).where(WebSession.user_id == user_id)).all())
