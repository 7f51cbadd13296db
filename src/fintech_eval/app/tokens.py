"""API tokens for system-to-system use (an institution's data platform submitting its returns).

A token is ``fe_`` followed by 43 random URL-safe characters (256 bits from :mod:`secrets`). It is shown once,
when created; the database keeps its SHA-256 (a fast hash is right for a random secret of that length) and its
first ten characters to name it in listings. A token has scopes (``read``, ``submit``, ``admin``): it never
allows more than its owner's role, and it can be revoked; its last use is recorded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from ..errors import DataError
from ..store.models import TOKEN_SCOPES, ApiToken, UserAccount, UserEntity
from .accounts import Account, account_from
from .audit import audit
from .tx import writing
from .workspace import Workspace

PREFIX = "fe_"
#: The scopes each role may give its tokens (a viewer's token can only read).
ROLE_SCOPES: dict[str, tuple[str, ...]] = {
    "administrator": ("read", "submit", "admin"),
    "evaluator": ("read", "submit", "admin"),
    "submitter": ("read", "submit"),
    "viewer": ("read",),
}
LAST_USED_EVERY = dt.timedelta(minutes=1)  # last_used_at is written at most this often per token


@dataclass(frozen=True)
class TokenInfo:
    id: int
    user_id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


def well_formed(secret: str) -> bool:
    """Whether ``secret`` could be a token of ours (its prefix, a bounded length): anything else is refused unread."""
    return secret.startswith(PREFIX) and len(secret) <= 200


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _info(t: ApiToken) -> TokenInfo:
    return TokenInfo(t.id, t.user_id, t.name, t.prefix, tuple(t.scopes.split()), t.created_at, t.expires_at,
                     t.last_used_at, t.revoked_at)


def create_token(ws: Workspace, user_id: int, *, name: str, scopes: Iterable[str], expires_days: int | None = None,
                 ip: str | None = None) -> tuple[TokenInfo, str]:
    """A new token of ``user_id``: its record and the secret (shown once, never stored)."""
    scopes = tuple(dict.fromkeys(scopes))
    name = str(name).strip()
    if not name or len(name) > 100:
        raise DataError("a token needs a name of 1 to 100 characters", rule="token.name", field="name",
                        zh="令牌名称需要 1 到 100 个字符")
    bad = [sc for sc in scopes if sc not in TOKEN_SCOPES]
    if bad or not scopes:
        raise DataError(f"scopes must be some of {', '.join(TOKEN_SCOPES)}" + (f"; not {', '.join(map(repr, bad))}" if bad else ""),
                        rule="token.scope", field="scopes",
                        zh=f"权限范围须取自 {', '.join(TOKEN_SCOPES)}" + (f"；不能是 {', '.join(map(repr, bad))}" if bad else ""))
    if expires_days is not None and not 1 <= expires_days <= 3650:
        raise DataError("expires_days must be between 1 and 3650", rule="token.expiry", field="expires_days",
                        zh="expires_days（有效天数）须在 1 到 3650 之间")
    secret = PREFIX + secrets.token_urlsafe(32)
    now = dt.datetime.now(dt.UTC)
    with writing(ws) as s:
        u = s.get(UserAccount, user_id)
        if u is None:
            raise DataError(f"no user {user_id}", rule="user.not_found", zh=f"用户 {user_id} 不存在")
        over = [sc for sc in scopes if sc not in ROLE_SCOPES[u.role]]
        if over:
            raise DataError(f"a {u.role} cannot give a token the scope(s) {', '.join(over)}", rule="token.scope", field="scopes",
                            zh=f"{u.role} 角色不能为令牌授予权限范围 {', '.join(over)}")
        t = ApiToken(user_id=u.id, name=name, prefix=secret[:10], token_hash=digest(secret), scopes=" ".join(scopes),
                     created_at=now, expires_at=now + dt.timedelta(days=expires_days) if expires_days else None)
        s.add(t)
        s.flush()
        audit(None, u.email, "token.create", f"token:{t.id}", {"name": name, "scopes": list(scopes), "owner": u.id},
              actor_id=u.id, ip=ip, session=s)
        return _info(t), secret


def list_tokens(ws: Workspace, user_id: int) -> list[TokenInfo]:
    with ws.sessions() as s:
        rows = s.execute(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)).scalars().all()
        return [_info(t) for t in rows]


def get_token(ws: Workspace, token_id: int) -> TokenInfo | None:
    with ws.sessions() as s:
        t = s.get(ApiToken, token_id)
        return _info(t) if t is not None else None


def revoke_token(ws: Workspace, token_id: int, *, who: str, actor_id: int | None = None, ip: str | None = None) -> TokenInfo:
    """Revoke a token (at once: the next request with it is refused); revoking twice changes nothing."""
    with writing(ws) as s:
        t = s.get(ApiToken, token_id)
        if t is None:
            raise DataError(f"no token {token_id}", rule="token.not_found", zh=f"令牌 {token_id} 不存在")
        if t.revoked_at is None:
            t.revoked_at = dt.datetime.now(dt.UTC)
            audit(None, who, "token.revoke", f"token:{t.id}", {"owner": t.user_id, "name": t.name}, actor_id=actor_id,
                  ip=ip, session=s)
        return _info(t)


def resolve_token(ws: Workspace, secret: str, *, now: dt.datetime | None = None) -> tuple[TokenInfo, Account] | None:
    """The live token with this secret and its owner's account (None: unknown, revoked or expired)."""
    return resolve_tokens(ws, [secret], now=now).get(secret)


def resolve_tokens(ws: Workspace, secrets_: Iterable[str], *,
                   now: dt.datetime | None = None) -> dict[str, tuple[TokenInfo, Account]]:
    """The live tokens among ``secrets_`` with their owners' accounts (a secret unknown, revoked or expired is
    absent), read in one query whatever their number: every API request asks, and the server's submissions
    ask for a whole batch at once. Records their use (at most every :data:`LAST_USED_EVERY`)."""
    by_digest = {digest(x): x for x in dict.fromkeys(secrets_) if well_formed(x)}
    if not by_digest:
        return {}
    now = now or dt.datetime.now(dt.UTC)
    t, u, e = ApiToken.__table__, UserAccount.__table__, UserEntity.__table__
    q = (select(t.c.id, t.c.token_hash, t.c.user_id, t.c.name, t.c.prefix, t.c.scopes, t.c.created_at, t.c.expires_at,
                t.c.last_used_at, t.c.revoked_at, u.c.email, u.c.name.label("user_name"), u.c.role, u.c.active,
                (u.c.password_hash.is_not(None)).label("password_set"), u.c.locked_until, u.c.created_by.label("u_by"),
                u.c.created_at.label("u_at"), e.c.entity_kind, e.c.entity_id)
         .join(u, u.c.id == t.c.user_id).outerjoin(e, e.c.user_id == u.c.id)
         .where(t.c.token_hash.in_(sorted(by_digest))))
    with ws.sessions() as s:  # one query: the tokens, their accounts and the accounts' entities
        rows = s.execute(q).all()
    per: dict[str, list[Any]] = {}
    for r in rows:
        per.setdefault(r.token_hash, []).append(r)
    out: dict[str, tuple[TokenInfo, Account]] = {}
    for h, rs in per.items():
        r = rs[0]
        if r.revoked_at is not None or (r.expires_at is not None and r.expires_at <= now):
            continue
        info = TokenInfo(r.id, r.user_id, r.name, r.prefix, tuple(r.scopes.split()), r.created_at, r.expires_at,
                         r.last_used_at, r.revoked_at)
        out[by_digest[h]] = info, account_from(r.user_id, r.email, r.user_name, r.role, r.active, r.password_set,
                                               r.locked_until, r.u_by, r.u_at,
                                               [(x.entity_kind, x.entity_id) for x in rs if x.entity_kind is not None])
    stale = [i.id for i, _ in out.values() if i.last_used_at is None or now - i.last_used_at >= LAST_USED_EVERY]
    if stale:
        with writing(ws) as s:
            s.execute(update(ApiToken).where(ApiToken.id.in_(stale)).values(last_used_at=now))
    return out
