"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error answer has ``type`` (``urn:fintech-eval:problem:<rule>``), ``title``, ``status``, ``detail``, and
``rule``, ``field`` and ``problems``: the list of :class:`fintech_eval.errors.Problem` with the same rule,
location and message the CLI prints, so a script reads the web and the CLI alike. The HTTP status of a
product error comes from its rule (:data:`RULE_STATUS`), else its kind (bad input 422).

Messages are in the request's language (:func:`api_language`: ``?lang=``, the ``fe_lang`` cookie the pages set,
``Accept-Language``; else English, the CLI's words): each problem item's ``message`` and the answer's
``detail`` are in that language; an item whose rule has a Chinese text (every rule of the import and its
validation, and the errors of review, registers, accounts, tokens, invitations and campaigns) carries both beside
it, ``message_en`` and ``message_zh`` (:func:`problem_item`).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..app.accounts import SignInRefused
from ..errors import DataError, FintechEvalError, FrameworkError, Problem, SpecError
from .i18n import LANG_COOKIE, negotiate

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("fintech_eval.web")

#: The HTTP status of a product error, by its rule (the rest: 422 for bad input, 400 otherwise).
RULE_STATUS: dict[str, int] = {
    "auth.required": 401, "sign_in.invalid": 401,
    "auth.forbidden": 403, "auth.scope": 403, "csrf.missing": 403, "csrf.invalid": 403, "password.wrong": 403,
    "user.not_found": 404, "token.not_found": 404, "invitation.not_found": 404, "campaign.which": 404,
    "run.which": 404, "register.unknown": 404, "catalog.unknown": 404, "route.not_found": 404,
    "method.not_allowed": 405, "user.exists": 409, "user.last_admin": 409,
    "campaign.not_staff": 404, "invitation.pending": 409,
    "idempotency.conflict": 409,
    "sign_in.locked": 429, "sign_in.throttled": 429,
    "assessment.which": 404, "evidence.which": 404, "assessment.exists": 409, "assessment.published": 409,
    "assessment.stage": 409, "assessment.submitted": 409, "assessment.not_open": 404, "assessment.with_vendor": 409,
    "assessment.empty": 409, "evidence.not_yours": 409,
    "evidence.too_large": 413,
    "review.unknown": 404, "review.transition": 409, "review.changed": 409,
}  # fmt: skip
TITLES = {400: "Bad request", 401: "Not signed in", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
          409: "Conflict", 413: "Content too large", 415: "Unsupported media type", 422: "Invalid input", 429: "Too many requests",
          500: "Server error", 503: "Service unavailable"}


class ProblemItem(BaseModel):
    """One broken rule with where it was broken (``field``, ``file``, ``row``, ``entity``, … as the CLI names them)."""

    model_config = ConfigDict(extra="allow")
    rule: str
    message: str = Field(description="The message in the request's language (?lang=, the fe_lang cookie, "
                                     "Accept-Language: zh or en; English by default).")
    message_en: str | None = Field(None, description="The message in English (the CLI's text), where the rule has "
                                                     "a Chinese text too.")
    message_zh: str | None = Field(None, description="The message in Chinese, where the rule has one.")


def api_language(request: Request) -> str:
    """The language of an API answer's messages: ``?lang=``, the ``fe_lang`` cookie, ``Accept-Language``; else
    English (what the CLI prints and scripts compare)."""
    return negotiate(request.query_params.get("lang") or request.cookies.get(LANG_COOKIE),
                     request.headers.get("accept-language"), "en")


def problem_item(p: Problem | dict[str, Any], lang: str = "en") -> dict[str, Any]:
    """A problem as an answer's item: the rule and the place as :meth:`Problem.as_dict` gives them, ``message``
    in ``lang``; a problem with a Chinese text has both beside it (``message_en``, ``message_zh``), one without
    (a rule outside the import) is unchanged (its message is English)."""
    d = p.as_dict() if isinstance(p, Problem) else dict(p)
    en, zh = str(d.get("message", "")), d.get("message_zh") or None
    if zh is None:
        d.pop("message_zh", None)
        return d
    return {**d, "message": zh if lang == "zh" else en, "message_en": en, "message_zh": zh}


class ProblemDetails(BaseModel):
    """An error answer (RFC 9457) carrying the product's problems."""

    model_config = ConfigDict(title="Problem")
    type: str
    title: str
    status: int
    detail: str
    rule: str | None = None
    field: str | None = None
    problems: list[ProblemItem] = []


class ApiProblem(Exception):
    """An error of the web edge (not signed in, forbidden, not found…) answered as a problem."""

    def __init__(self, status: int, rule: str, detail: str, *, field: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status, self.rule, self.detail, self.field, self.headers = status, rule, detail, field, headers


def not_found(what: str) -> ApiProblem:
    """The one answer for an object that does not exist and for one the caller may not see (no existence leak)."""
    return ApiProblem(404, "route.not_found", f"{what} not found")


def _wants_page(req: Request) -> bool:
    """A browser asking for a page (HTML, outside the API), not a client of the API."""
    return not req.url.path.startswith("/api/") and "text/html" in req.headers.get("accept", "")


def problem_response(status: int, rule: str | None, detail: str, problems: list[dict[str, Any]] | None = None, *,
                     field: str | None = None, headers: dict[str, str] | None = None,
                     extra: dict[str, Any] | None = None, lang: str = "en") -> JSONResponse:
    """A problem answer; ``extra``: members of its own (RFC 9457 extension members, e.g. where a draft was kept);
    ``lang``: the language of the items' messages (:func:`problem_item`)."""
    items = problems if problems is not None else ([{"rule": rule, "message": detail, **({"field": field} if field else {})}]
                                                   if rule else [])
    items = [problem_item(p, lang) for p in items]
    if field is None and len(items) == 1:
        field = items[0].get("field")
    body = {"type": f"urn:fintech-eval:problem:{rule}" if rule else "about:blank", "title": TITLES.get(status, "Error"),
            "status": status, "detail": detail, "rule": rule, "field": None if field is None else str(field),
            "problems": [_jsonable(p) for p in items], **(extra or {})}
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, str | int | float | bool | type(None)) else str(v) for k, v in d.items()}


def status_of(exc: FintechEvalError) -> int:
    rule = exc.problems[0].rule if exc.problems else ""
    if rule in RULE_STATUS:
        return RULE_STATUS[rule]
    return 422 if isinstance(exc, DataError | SpecError | FrameworkError) else 400


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into a problem."""

    @app.exception_handler(ApiProblem)
    async def _api(_req: Request, exc: ApiProblem) -> JSONResponse:
        return problem_response(exc.status, exc.rule, exc.detail, field=exc.field, headers=exc.headers)

    @app.exception_handler(FintechEvalError)
    async def _product(req: Request, exc: FintechEvalError) -> JSONResponse:
        first: Problem | None = exc.problems[0] if exc.problems else None
        headers = None
        if isinstance(exc, SignInRefused) and exc.retry_after:
            headers = {"Retry-After": str(exc.retry_after)}
        lang = api_language(req)
        text = first.text(lang) if first else ""
        many = f"共 {len(exc.problems)} 个问题：{text} …" if lang == "zh" else f"{len(exc.problems)} problems: {text} …"
        detail = text if len(exc.problems) == 1 else many
        return problem_response(status_of(exc), first.rule if first else None, detail,
                                [p.as_dict() for p in exc.problems], headers=headers, lang=lang)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_req: Request, exc: RequestValidationError) -> JSONResponse:
        items = []
        for e in exc.errors():
            loc = [str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path", "header", "cookie")]
            items.append({"rule": f"request.{e.get('type', 'invalid')}", "message": str(e.get("msg", "invalid")),
                          "field": ".".join(loc) or None, "in": str(e.get("loc", ("?",))[0])})
        detail = items[0]["message"] if len(items) == 1 else f"{len(items)} problems in the request"
        return problem_response(422, items[0]["rule"] if items else "request.invalid", detail, items)

    @app.exception_handler(StarletteHTTPException)
    async def _http(req: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404 and _wants_page(req):  # a mistyped page address in a browser: the 404 page
            from .i18n import TEXT
            from .routes.pages import language, render

            return render(req, "message.html.j2", 404, message=TEXT[language(req)]["not_found"])
        rule = {400: "request.malformed", 404: "route.not_found", 405: "method.not_allowed"}.get(exc.status_code, f"http.{exc.status_code}")
        return problem_response(exc.status_code, rule, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(OperationalError)
    async def _database(_req: Request, exc: OperationalError) -> JSONResponse:  # busy past the wait, or unreachable
        from ..service import db_reason

        reason = db_reason(exc)
        log.warning("database error: %s", reason)
        busy = "locked" in reason.lower()
        return problem_response(503, "db.busy" if busy else "db.unavailable",
                                "the database is busy: try again shortly" if busy else "the database cannot be reached",
                                headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def _server(_req: Request, exc: Exception) -> JSONResponse:  # a bug: logged, never shown to the client
        log.exception("unhandled error", exc_info=exc)
        return problem_response(500, "server.error", "the server failed to answer this request; it has been logged")


ERROR_STATUSES = (400, 401, 403, 404, 409, 415, 422, 429)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error statuses (the schema is re-labelled problem+json in the document)."""
    return {s: {"model": ProblemDetails, "description": TITLES.get(s, "Error")} for s in (statuses or ERROR_STATUSES)}


def relabel_openapi(doc: dict[str, Any]) -> dict[str, Any]:
    """Every 4xx/5xx answer of the document as ``application/problem+json`` with the Problem schema (FastAPI
    writes them as application/json, and its own validation error schema for 422)."""
    ref = {"$ref": "#/components/schemas/Problem"}
    for ops in doc.get("paths", {}).values():
        for op in ops.values():
            for code, resp in op.get("responses", {}).items():
                if code[0] in "45":
                    resp["content"] = {MEDIA_TYPE: {"schema": ref}}
    schemas = doc.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return doc
