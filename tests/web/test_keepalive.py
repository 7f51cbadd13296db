"""The cap on requests per keep-alive connection (web/keepalive.py): the N-th answer on a connection carries
``Connection: close`` (the client reconnects, and the least busy worker process takes the new connection), the
count starts again after it, connections are counted apart, and 0 turns the cap off."""

from __future__ import annotations

import asyncio
import threading

from fintech_eval.web.keepalive import KeepAliveCap


async def _app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


def _answers(mw: KeepAliveCap, clients: list[tuple[str, int]]) -> list[dict[bytes, bytes]]:
    out = []

    async def one(client):
        got = {}

        async def send(message):
            if message["type"] == "http.response.start":
                got.update(dict(message["headers"]))

        await mw({"type": "http", "client": client, "path": "/", "method": "GET"}, None, send)
        return got

    async def main():
        for c in clients:
            out.append(await one(c))

    t = threading.Thread(target=asyncio.run, args=(main(),))  # a thread of its own: an earlier test may have
    t.start()  # left an event loop running on this one
    t.join(30)
    return out


def test_the_nth_answer_of_a_connection_closes_it_and_the_count_starts_again():
    a, b = ("10.0.0.1", 5000), ("10.0.0.1", 5001)
    got = _answers(KeepAliveCap(_app, limit=3), [a, a, b, a, b, a, a, a, b])
    closes = [h.get(b"connection") == b"close" for h in got]
    assert closes == [False, False, False, True, False, False, False, True, True]
    assert all(h[b"content-type"] == b"text/plain" for h in got)  # the answer's own headers kept


def test_no_cap_and_no_client_address_pass_through():
    got = _answers(KeepAliveCap(_app, limit=0), [("h", 1)] * 5)
    assert not any(b"connection" in h for h in got)
    got = _answers(KeepAliveCap(_app, limit=1), [None, None])  # type: ignore[list-item]
    assert not any(b"connection" in h for h in got)
