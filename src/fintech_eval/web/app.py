"""The application factory: ``create_app(settings)`` opens the database once (a :class:`Workspace`; the
database must exist and have this version's schema: ``fintech-eval db upgrade``), mounts the API routers under
``/api/v1`` and the pages, installs the problem handlers, and serves ``/openapi.json`` (with ``/docs``). Its
lifespan starts this process's job runner (:class:`~fintech_eval.app.job_runner.JobRunner`: scoring runs there,
not in the request) and stops it on shutdown."""

from __future__ import annotations

import logging
import re
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from .. import __version__
from ..app.workspace import Workspace
from . import apidocs, pagekit, problems
from .gather import Gatherer
from .headers import SecurityHeaders
from .keepalive import KeepAliveCap
from .routes import API_PREFIX, PAGE_ROUTERS, ROUTERS
from .settings import WebSettings

DESCRIPTION = """The REST API of fintech-eval: accounts and roles, registers, campaigns, evaluation runs and the
framework catalog, over the same application functions as the CLI.

Authenticate with the session cookie of `POST /api/v1/auth/sign-in` (then send `X-CSRF-Token` with every
state-changing request) or with an API token: `Authorization: Bearer fe_…`. Listings are paged
(`?limit=&offset=`, envelope `{items, total, limit, offset}`). Errors are `application/problem+json` carrying
the same `rule`, `field` and message as the CLI."""


#: On every answer: no MIME sniffing, no framing (click-jacking of the forms), and no Referer leaving the site
#: (an invitation link carries its secret in the URL).
class RedactSecrets(logging.Filter):
    """Access-log lines show ``token=…`` instead of an invitation link's secret."""

    PATTERN = re.compile(r"(token=)[^&\s]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, str) and "token=" in a for a in record.args):
            record.args = tuple(self.PATTERN.sub(r"\1…", a) if isinstance(a, str) else a for a in record.args)
        return True


def create_app(settings: WebSettings | None = None, *, workspace: Workspace | None = None) -> FastAPI:
    settings = settings or WebSettings()
    ws = workspace or Workspace(settings.db, create=False)
    if settings.extension_files():
        from ..catalog import load_extension

        for path in settings.extension_files():  # the framework it extends, with it applied
            ws.add_framework(load_extension(path))

    gatherer = Gatherer.of(ws, settings.submit_batch, settings.submit_linger_ms / 1000, freeze=settings.gc_freeze)

    @asynccontextmanager
    async def lifespan(app_: FastAPI):
        runner = None
        if settings.jobs_thread:  # this process works the job queue (scoring) while it serves
            from ..app.job_runner import JobRunner

            runner = JobRunner(ws, poll=settings.job_poll_seconds, stale_after=settings.job_stale_seconds).start()
        app_.state.job_runner = runner
        yield
        if runner is not None:  # the running job goes back to the queue at its next step
            import asyncio

            await asyncio.to_thread(runner.stop)
        app_.state.job_runner = None
        gatherer.close()
        if workspace is None:
            ws.close()

    app = FastAPI(title="fintech-eval", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  openapi_url="/openapi.json", docs_url=None, redoc_url=None)
    app.state.settings, app.state.workspace, app.state.gatherer = settings, ws, gatherer
    app.state.job_runner = None  # started by the lifespan
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactSecrets) for f in access.filters):
        access.addFilter(RedactSecrets())
    problems.install(app)
    pagekit.install(app)
    apidocs.install(app, "/openapi.json")  # /docs with Swagger UI's files served here (no CDN)

    app.add_middleware(SecurityHeaders, api_prefix=API_PREFIX)
    app.add_middleware(KeepAliveCap, limit=settings.keepalive_requests)

    for r in ROUTERS:
        app.include_router(r, prefix=API_PREFIX)
    for r in PAGE_ROUTERS:
        app.include_router(r)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            app.openapi_schema = document_access(problems.relabel_openapi(doc), app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def route_table(app: FastAPI) -> list[tuple[str, str, Any]]:
    """Every (method, path, dependant) the app answers, routers included (FastAPI ≥ 0.16x keeps included routers
    as lazy branches of ``app.routes``; :func:`fastapi.routing.iter_route_contexts` flattens them). ``dependant``
    is None for routes that are not API routes (the OpenAPI document, the docs page). HEAD is left out."""
    from fastapi import routing

    flat = routing.iter_route_contexts(app.routes) if hasattr(routing, "iter_route_contexts") else app.routes
    out = []
    for r in flat:
        path = getattr(r, "path", None)
        if path is None:
            continue
        try:
            dependant = getattr(r, "dependant", None)
        except AttributeError:
            dependant = None
        out.extend((m, path, dependant) for m in sorted(getattr(r, "methods", None) or ()) if m != "HEAD")
    return sorted(out, key=lambda t: (t[1], t[0]))


def document_access(doc: dict[str, Any], app: FastAPI) -> dict[str, Any]:
    """The document says how to authenticate (a bearer token or the session cookie) and, on each operation, the
    permission it needs (``x-permission``, see :mod:`.policy`) and the token scope (``x-token-scope``)."""
    from .auth import permission_of
    from .policy import PERMISSIONS
    from .sessions import COOKIE

    doc.setdefault("components", {})["securitySchemes"] = {
        "token": {"type": "http", "scheme": "bearer", "description": "An API token (fe_…) from POST /api/v1/tokens."},
        "session": {"type": "apiKey", "in": "cookie", "name": COOKIE,
                    "description": "The session of POST /api/v1/auth/sign-in; send X-CSRF-Token on state changes."},
    }
    for method, path, dependant in route_table(app):
        op = doc.get("paths", {}).get(path, {}).get(method.lower())
        perm = permission_of(dependant) if dependant is not None else None
        if op is None or perm is None:
            continue
        scope = PERMISSIONS[perm].scope
        op["x-permission"] = perm
        op["x-token-scope"] = scope
        op["security"] = [{"session": []}] + ([{"token": []}] if scope else [])
    return doc
