"""A cap on the requests one keep-alive connection carries (nginx's ``keepalive_requests``, Apache's
``MaxKeepAliveRequests``), as a plain ASGI middleware.

``fintech-eval serve --workers N`` runs N processes that share the listening socket: a connection belongs to
the process that accepted it for as long as it stays open. A data platform that keeps a few connections open and
posts returns over them can thus land most of its connections on one process, which then does most of the work
(one process uses one core at most) while the others idle; measured with 16 connections on 2 workers: 17
connections on one, 3 on the other. After :attr:`KeepAliveCap.limit` requests a connection's answer carries
``Connection: close``; the client opens a new one, which the least busy process is the likeliest to accept,
so the load evens out. Per process, connections by client address and port (bounded: the oldest forgotten
first); WebSocket and lifespan traffic pass through untouched.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any


class KeepAliveCap:
    #: connections remembered per process (a connection forgotten starts counting again)
    REMEMBERED = 10_000

    def __init__(self, app: Any, limit: int):
        self.app, self.limit = app, int(limit)
        self._served: OrderedDict[tuple[Any, ...], int] = OrderedDict()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        client = scope.get("client")
        if scope["type"] != "http" or self.limit <= 0 or not client:
            await self.app(scope, receive, send)
            return
        key = tuple(client)
        n = self._served.pop(key, 0) + 1
        if n < self.limit:
            self._served[key] = n
            if len(self._served) > self.REMEMBERED:
                self._served.popitem(last=False)
            await self.app(scope, receive, send)
            return

        async def closing(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"]
                message["headers"] = [*headers, (b"connection", b"close")]
            await send(message)

        await self.app(scope, receive, closing)
