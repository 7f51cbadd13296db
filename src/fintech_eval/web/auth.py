"""Who is asking: a :class:`Principal` from the session cookie or an ``Authorization: Bearer`` API token,
checked against the permission a route names (:mod:`.policy`). Routes read like prose::

    @router.get("/registers/institutions")
    def institutions(p: Annotated[Principal, Depends(require("registers.read"))], ws: WorkspaceDep): ...

Answers: no or a dead credential → 401 (``auth.required``); a role without the permission → 403
(``auth.forbidden``); a token without the scope (or any token on a session-only permission) → 403
(``auth.scope``); a cookie request changing state without the session's CSRF token → 403 (:mod:`.csrf`).
The account is read on every request, so a changed role or a disabled account takes effect at once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import pandas as pd
from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from ..app.accounts import Account, get_user
from ..app.tokens import TokenInfo, resolve_token, resolve_tokens, well_formed
from ..app.workspace import Workspace
from . import csrf
from .policy import CAMPAIGN_SCOPE, PERMISSIONS, sees_all_entities
from .problems import ApiProblem
from .sessions import COOKIE, SessionInfo, resolve_session
from .settings import WebSettings


@dataclass(frozen=True)
class Principal:
    account: Account
    via: str  # "session" or "token"
    scopes: frozenset[str] = field(default_factory=frozenset)
    session: SessionInfo | None = None
    token_id: int | None = None

    @property
    def id(self) -> int:
        return self.account.id

    @property
    def role(self) -> str:
        return self.account.role

    @property
    def email(self) -> str:
        return self.account.email

    def entities(self, kind: str) -> set[str] | None:
        """The ids of ``kind`` this caller may see: None for all (staff), else its own."""
        return None if sees_all_entities(self.role) else self.account.entity_ids(kind)

    def may_see(self, kind: str, entity_id: str) -> bool:
        own = self.entities(kind)
        return own is None or entity_id in own

    def campaign_ids(self, ws: Workspace) -> set[int] | None:
        """The campaigns this caller may see (:data:`.policy.CAMPAIGN_SCOPE`): None for all (administrators), an
        evaluator's assigned ones, those asking a submitter's institutions; every route naming a campaign (its
        status, returns, runs) answers 404 for one outside this set."""
        from ..app.campaign_staff import campaigns_of
        from ..app.campaigns import campaigns_asking

        scope = CAMPAIGN_SCOPE[self.role]
        if scope == "all":
            return None
        if scope == "assigned":
            return campaigns_of(ws, self.id)
        if scope == "entities":
            return campaigns_asking(ws, self.account.entity_ids("institution"))
        return set()

    def may_see_campaign(self, ws: Workspace, campaign_id: int) -> bool:
        ids = self.campaign_ids(ws)
        return ids is None or campaign_id in ids

    def sees_campaign_of(self, ws: Workspace, campaign_id: Any) -> bool:
        """Whether an object of ``campaign_id`` (a return, a run) is within this caller's campaigns: an evaluator
        sees those of the campaigns it is assigned to; an object of no campaign, and every other role, are
        judged by entity and publication alone (a submitter's own entities, published runs)."""
        if campaign_id is None or pd.isna(campaign_id) or CAMPAIGN_SCOPE[self.role] != "assigned":
            return True
        return self.may_see_campaign(ws, int(campaign_id))

    def campaign_filter(self, ws: Workspace, campaign_ids: pd.Series) -> pd.Series:
        """The rows (of a listing's ``campaign_id`` column) within this caller's campaigns, as
        :meth:`sees_campaign_of`."""
        if CAMPAIGN_SCOPE[self.role] != "assigned":
            return pd.Series(True, index=campaign_ids.index)
        mine = self.campaign_ids(ws) or set()
        return campaign_ids.isna() | campaign_ids.isin(list(mine))


def workspace(request: Request) -> Workspace:
    return request.app.state.workspace


def settings(request: Request) -> WebSettings:
    return request.app.state.settings


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


WorkspaceDep = Annotated[Workspace, Depends(workspace)]
SettingsDep = Annotated[WebSettings, Depends(settings)]


def _bearer(request: Request) -> str | None:
    h = request.headers.get("authorization", "")
    scheme, _, value = h.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def identify(request: Request) -> Principal | None:
    """The caller (None: anonymous). A bearer token wins over a cookie; a present but dead bearer token is 401."""
    ws, st = workspace(request), settings(request)
    secret = _bearer(request)
    if secret is not None:
        return token_principal(resolve_token(ws, secret))
    cookie = request.cookies.get(COOKIE)
    if cookie:
        sess = resolve_session(ws, cookie, st)
        acc = get_user(ws, sess.user_id) if sess else None
        if acc is not None and acc.active:
            return Principal(acc, "session", session=sess)
    return None


def token_principal(found: tuple[TokenInfo, Account] | None) -> Principal:
    """The caller of a live token and active account (:func:`~fintech_eval.app.tokens.resolve_tokens`); else 401."""
    if found is None or not found[1].active:
        raise ApiProblem(401, "auth.required", "this API token is not valid (unknown, revoked or expired)",
                         headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return Principal(found[1], "token", frozenset(found[0].scopes), token_id=found[0].id)


def authorize(p: Principal | None, permission: str, request: Request) -> Principal:
    """``p`` if it may do what ``permission`` names in this request: 401 anonymous, 403 without the CSRF token
    (a session changing state), the role or the token's scope."""
    perm = PERMISSIONS[permission]
    if p is None:
        raise ApiProblem(401, "auth.required", "sign in, or send an API token (Authorization: Bearer …)",
                         headers={"WWW-Authenticate": "Bearer"})
    if p.via == "session" and request.method not in csrf.SAFE_METHODS:
        csrf.check(p.session.csrf_token if p.session else None, request.headers.get(csrf.HEADER))
    if p.role not in perm.roles:
        raise ApiProblem(403, "auth.forbidden", f"a {p.role} may not {perm.description}")
    if p.via == "token" and (perm.scope is None or perm.scope not in p.scopes):
        need = "a signed-in browser session (not an API token)" if perm.scope is None else f"the {perm.scope!r} scope"
        raise ApiProblem(403, "auth.scope", f"this needs {need}")
    request.state.principal = p
    return p


@functools.cache
def require(permission: str) -> Callable[[Request], Principal]:
    """The dependency of a route that needs ``permission`` (one callable per permission, tagged with it so the
    authorization-matrix test and the docs can read every route's permission)."""
    PERMISSIONS[permission]  # a name the policy knows (KeyError at import otherwise)

    def check(request: Request) -> Principal:
        return authorize(identify(request), permission, request)

    check.permission = permission  # type: ignore[attr-defined]
    return check


@dataclass(frozen=True)
class TokenCaller:
    """A caller known so far by its bearer token only: :func:`require_in_batch`'s answer, authorised where the
    request's work is done (:func:`authorize_tokens`)."""

    secret: str
    permission: str
    request: Request


@functools.cache
def require_in_batch(permission: str) -> Callable[[Request], Any]:
    """:func:`require` for the submission routes, whose work runs in the server's batches
    (:mod:`.submitting`): a bearer token is read there, with the other requests' tokens of the batch in one
    query, instead of a query and a thread of the pool per request; the answers are :func:`require`'s. Anything
    else (a cookie, no credential, a token that cannot be one) is judged at once, as :func:`require` does."""
    sync = require(permission)

    async def check(request: Request) -> Principal | TokenCaller:
        secret = _bearer(request)
        if secret is not None and well_formed(secret):
            return TokenCaller(secret, permission, request)
        if secret is not None:
            return authorize(token_principal(None), permission, request)
        return await run_in_threadpool(sync, request)

    check.permission = permission  # type: ignore[attr-defined]
    return check


def authorize_tokens(ws: Workspace, callers: list[TokenCaller]) -> list[Principal | ApiProblem]:
    """Each caller's principal, authorised as :func:`require` would (its :class:`ApiProblem` otherwise): the
    tokens read in one query."""
    found = resolve_tokens(ws, [c.secret for c in callers])
    out: list[Principal | ApiProblem] = []
    for c in callers:
        try:
            out.append(authorize(token_principal(found.get(c.secret)), c.permission, c.request))
        except ApiProblem as exc:
            out.append(exc)
    return out


def permission_of(dependant) -> str | None:
    """The permission a route's dependencies require (None: a public route)."""
    for d in dependant.dependencies:
        perm = getattr(d.call, "permission", None)
        if perm is not None:
            return perm
        inner = permission_of(d)
        if inner is not None:
            return inner
    return None
