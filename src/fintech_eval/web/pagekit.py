"""What every signed-in page needs: :func:`page_guard` (the dependency of a page route, tagged with its
permission like the API's :func:`fintech_eval.web.auth.require`, so the authorization matrix and the docs read
it) and the answer when it refuses: anonymous → the sign-in page (GET, coming back afterwards) or 401;
a role without the permission → 403; an object the caller may not see → 404 (:func:`page_not_found`), the
same page as one that does not exist. Pages take the browser session only (never an API token), and every
state-changing form carries the session's CSRF token (field ``csrf_token`` or header ``X-CSRF-Token``)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from . import csrf
from .auth import Principal, identify
from .i18n import TEXT
from .policy import PERMISSIONS
from .problems import ApiProblem

#: The links of the page header: (path, words key, permission). A link shows when the permission exists in
#: :mod:`.policy` and the signed-in role holds it.
NAV = (("/", "home", "account.read"), ("/campaigns", "campaigns", "campaigns.read"),
       ("/returns", "returns", "submissions.read"), ("/results", "results", "runs.read"),
       ("/vendors", "vendors", "vendors.read"), ("/account", "account", "account.read"))


def nav_links(role: str | None) -> list[tuple[str, str]]:
    if role is None:
        return []
    return [(href, words) for href, words, perm in NAV if perm in PERMISSIONS and role in PERMISSIONS[perm].roles]


class PageRefused(Exception):
    """A page that cannot be shown: ``status`` 401, 403 or 404, with the page's words key for the message."""

    def __init__(self, status: int, words: str):
        super().__init__(words)
        self.status, self.words = status, words


def page_not_found() -> PageRefused:
    return PageRefused(404, "not_found")


@functools.cache
def page_guard(permission: str) -> Callable[[Request], Awaitable[Principal]]:
    """The dependency of a page needing ``permission``: the signed-in session's principal."""
    perm = PERMISSIONS[permission]

    async def check(request: Request) -> Principal:
        p = identify(request) if not request.headers.get("authorization") else None
        if p is None or p.session is None:
            raise PageRefused(401, "not_signed_in")
        if request.method not in csrf.SAFE_METHODS:
            sent = request.headers.get(csrf.HEADER)
            if sent is None and "form" in request.headers.get("content-type", ""):
                sent = (await request.form()).get("csrf_token")
            try:
                csrf.check(p.session.csrf_token, sent if isinstance(sent, str) else None)
            except ApiProblem:
                raise PageRefused(403, "csrf") from None
        if p.role not in perm.roles:
            raise PageRefused(403, "forbidden")
        request.state.principal = p
        return p

    check.permission = permission  # type: ignore[attr-defined]
    return check


def install(app: FastAPI) -> None:
    """Answer a refused page with a page (the API keeps its problems)."""
    from .routes.pages import language, render

    @app.exception_handler(PageRefused)
    async def _refused(request: Request, exc: PageRefused) -> Response:
        if exc.status == 401 and request.method in csrf.SAFE_METHODS:
            return RedirectResponse(f"/sign-in?next={quote(request.url.path)}", status_code=303)
        return render(request, "message.html.j2", exc.status, message=TEXT[language(request)][exc.words])
