"""Concurrent submissions of one server process, validated and stored together (group commit).

A return's validation has a fixed cost per call (the import's reading and checks, the register and stored-value
reads) that is several times the cost of its rows. When submissions arrive faster than one process validates
them, :class:`Gatherer` hands every request that waited during the previous call to
:func:`.submitting.run_batch` (callers authorised, then :func:`fintech_eval.app.submissions.submit_many`) at once
(at most ``max_batch``): each gets exactly what
``submit`` would give it (its own result or error, its own savepoint), the batch is one transaction, and an
answer is sent only after that transaction has committed. An idle server takes each request at once (a batch
of one): gathering costs no latency, it only stops a queue from growing behind a fixed cost. Under load (the
last batch held more than one request) a batch waits ``linger`` seconds (the server's
``FINTECH_EVAL_WEB_SUBMIT_LINGER_MS``, default 3 ms) for the requests of the clients just answered, as Kafka's
producer's ``linger.ms`` does: a few milliseconds of latency buy batches twice as large, whose fixed cost (the
tokens, samples, keys and stored values read, the transaction's statements) is shared by twice as many
(``bench/bench_web_load.py`` on 2 cores: about 230 → 300 submissions/s, p99 185 → 95 ms).

One thread per process runs the batches (the interpreter runs one thread at a time anyway); requests wait on
it without holding a thread of the pool. ``max_batch=1`` turns gathering off (each request is validated alone,
still on that thread).
"""

from __future__ import annotations

import asyncio
import gc
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

#: a batch's work: an answer (or exception) per item, in order
Batch = Callable[[Sequence[Any]], list[Any]]


class Gatherer:
    def __init__(self, run: Batch, max_batch: int = 32, linger: float = 0.0, *, freeze: bool = False):
        self.run, self.max_batch, self.linger = run, max(1, int(max_batch)), max(0.0, float(linger))
        self.freeze = freeze  # gc.freeze() after the first batch (a server process of its own: WebSettings.gc_freeze)
        self._queue: queue.SimpleQueue[tuple[Any, asyncio.AbstractEventLoop, asyncio.Future] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches: list[int] = []  # the sizes of the batches run (the last 1,000; for tests and figures)

    @classmethod
    def of(cls, ws: Any, max_batch: int = 32, linger: float = 0.0, *, freeze: bool = False) -> Gatherer:
        """The server's: :func:`.submitting.run_batch` on ``ws``."""
        from .submitting import run_batch

        return cls(lambda items: run_batch(ws, items), max_batch, linger, freeze=freeze)

    async def submit(self, request: Any) -> Any:
        """The request's result once its batch has committed (its exception raised)."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future = loop.create_future()
        self._start()
        self._queue.put((request, loop, fut))
        return await fut

    def _start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="fintech-eval-submissions", daemon=True)
                self._thread.start()

    def close(self) -> None:
        """Stop the thread after the requests already queued."""
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=60)

    def _loop(self) -> None:
        busy = False  # the last batch had company: requests are arriving faster than one at a time
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            until = time.monotonic() + self.linger if busy else 0.0
            while len(batch) < self.max_batch:
                try:
                    wait = until - time.monotonic()
                    nxt = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(nxt)
            self.batches = [*self.batches[-999:], len(batch)]
            busy = len(batch) > 1
            try:
                out: list[Any] = list(self.run([b[0] for b in batch]))
            except BaseException as exc:  # noqa: BLE001 - a database failure: every waiter gets it
                out = [exc] * len(batch)
            if self.freeze and len(self.batches) == 1:
                _freeze()
            for (_req, loop, fut), r in zip(batch, out, strict=True):
                if not loop.is_closed():
                    loop.call_soon_threadsafe(_settle, fut, r)


def _freeze() -> None:
    """After the process's first batch (which loaded the framework and compiled its rules, kept for the process's
    life): everything allocated so far is moved out of the cyclic garbage collector's reach (Python's
    :func:`gc.freeze`, as pre-fork servers use it). A full collection walked all of it, a pause of 110-150 ms
    that every waiting request paid (the load bench's p99)."""
    gc.collect()
    gc.freeze()


def _settle(fut: asyncio.Future, result: Any) -> None:
    if fut.cancelled():
        return
    if isinstance(result, BaseException):
        fut.set_exception(result)
    else:
        fut.set_result(result)
