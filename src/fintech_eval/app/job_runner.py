"""A job runner: one thread that works the job queue (:mod:`fintech_eval.app.jobs`) in this process. The web
server starts one per worker process in its lifespan and stops it on shutdown; ``fintech-eval jobs run-worker``
runs one in the foreground.

Its loop: every ``stale_after / 4`` seconds mark failed the running jobs whose worker died (:func:`reap_stale`);
claim the oldest queued job and run it; when the queue is empty, sleep ``poll`` seconds or until :meth:`wake`
(a request of this process queued a job). Each step is a read unless there is something to do, so an idle
runner does not compete with the requests for SQLite's write lock. :meth:`stop` asks the running job to go
back to the queue at its next step and waits for the thread; a job that reaches no step before ``timeout`` is
left to the heartbeat rule (the process ends, its heartbeat goes stale, another runner marks it failed).
"""

from __future__ import annotations

import logging
import threading
import time

from .jobs import HEARTBEAT_SECONDS, STALE_SECONDS, reap_stale, run_next, worker_name
from .workspace import Workspace

log = logging.getLogger("fintech_eval.jobs")


class JobRunner:
    """Works the queue in a daemon thread until :meth:`stop`."""

    def __init__(self, ws: Workspace, *, poll: float = 1.0, heartbeat: float = HEARTBEAT_SECONDS,
                 stale_after: float = STALE_SECONDS) -> None:
        self.ws, self.poll, self.heartbeat, self.stale_after = ws, poll, heartbeat, stale_after
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.worker = ""

    def start(self) -> JobRunner:
        self._thread = threading.Thread(target=self._loop, name="fintech-eval-jobs", daemon=True)
        self._thread.start()
        return self

    def wake(self) -> None:
        """Look at the queue now (a job was just queued)."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        self.worker = worker_name()
        next_reap = 0.0
        while not self._stop.is_set():
            try:
                if time.monotonic() >= next_reap:
                    for jid in reap_stale(self.ws, stale_after=self.stale_after):
                        log.warning("job %s: its worker stopped (no heartbeat for %s s): marked failed", jid,
                                    self.stale_after)
                    next_reap = time.monotonic() + self.stale_after / 4
                self._wake.clear()
                if run_next(self.ws, self.worker, heartbeat=self.heartbeat, stopping=self._stop) is not None:
                    continue
            except Exception:  # noqa: BLE001 - a busy or unreachable database: log, wait, try again
                log.exception("job runner: the queue could not be read; trying again in %s s", self.poll)
            self._wake.wait(self.poll)
