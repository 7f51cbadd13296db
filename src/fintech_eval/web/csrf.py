"""Cross-site request forgery: every state-changing request authenticated by the session cookie must carry the
session's CSRF token, in the ``X-CSRF-Token`` header (the API) or the ``csrf_token`` form field (the pages).
The token is random per session, stored server-side beside it and compared in constant time; a bearer-token
request carries no cookie and needs none. Anonymous forms (the sign-in page) use a double-submit cookie
(``fe_csrf``) compared with the form field; anonymous JSON calls (sign-in, accepting an invitation) must be
``application/json``, which a cross-site form cannot send.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

from .problems import ApiProblem

HEADER = "X-CSRF-Token"
FORM_FIELD = "csrf_token"
COOKIE = "fe_csrf"  # the double-submit cookie of anonymous forms
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def new_token() -> str:
    return secrets.token_urlsafe(32)


def check(expected: str | None, supplied: str | None) -> None:
    """403 (``csrf.missing`` / ``csrf.invalid``) unless ``supplied`` equals ``expected``."""
    if not supplied:
        raise ApiProblem(403, "csrf.missing", f"a state-changing request of a signed-in browser needs the {HEADER} header "
                         f"(or the {FORM_FIELD} form field) with the session's CSRF token")
    if not expected or not hmac.compare_digest(str(expected).encode(), str(supplied).encode()):
        raise ApiProblem(403, "csrf.invalid", "the CSRF token does not match this session")


def require_json(request: Request) -> None:
    """Anonymous state-changing JSON calls: only ``application/json`` bodies (415 otherwise)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise ApiProblem(415, "request.media_type", "this call takes a JSON body (Content-Type: application/json)")
