"""Headers on every answer, and the API's one rule about query strings, as a plain ASGI middleware.

Every answer gets :data:`SECURITY_HEADERS` (where the route set none of its own); the API's answers are
never cached (``Cache-Control: no-store``: an answer may carry a secret, e.g. a new token). No parameter of
the API takes a list, so an API request that repeats a query parameter is refused (422
``request.repeated_parameter``). A plain ASGI middleware rather than Starlette's ``BaseHTTPMiddleware``: the
latter runs every request's body and answer through a second task and stream (a submission paid for it with
about a tenth of its server time)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from . import problems

SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
                    "Content-Security-Policy": "frame-ancestors 'none'", "Referrer-Policy": "same-origin"}


class SecurityHeaders:
    def __init__(self, app: Any, api_prefix: str):
        self.app, self.api_prefix = app, api_prefix

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = scope["path"].startswith(self.api_prefix)
        extra = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
        if api:
            extra.append((b"cache-control", b"no-store"))

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *((k, v) for k, v in extra if k not in have)]
            await send(message)

        if api and scope.get("query_string"):
            keys = [k for k, _ in parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)]
            repeated = sorted({k for k in keys if keys.count(k) > 1})
            if repeated:
                response = problems.problem_response(
                    422, "request.repeated_parameter", f"the query parameter {repeated[0]!r} is given more than once",
                    field=repeated[0])
                await response(scope, receive, send_with_headers)
                return
        await self.app(scope, receive, send_with_headers)

