"""Background jobs: work a request asks for and a worker does outside it (scoring a campaign of hundreds of
institutions takes longer than a browser or a proxy waits).

The database is the queue, so it works with several server processes and with SQLite and PostgreSQL alike:

* :func:`enqueue` writes a ``queued`` job (its kind, JSON parameters, who asked, the campaign it belongs to).
* :func:`claim` takes the oldest queued job: ``SELECT … ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`` on
  PostgreSQL (a second worker skips the row the first holds), then on every backend ``UPDATE job SET
  state='running' … WHERE id=:id AND state='queued'``, and the job is ours only when that changed one row
  (SQLite has no row locks: the conditional update is the guard, and the claim is a write transaction from its
  first statement). Two workers never run the same job.
* :func:`run_job` runs it through its kind (:data:`KINDS`, a registry: the kind ``score`` calls
  :func:`fintech_eval.app.runs.score`, the function of ``fintech-eval score``), while a heartbeat thread writes
  ``heartbeat_at`` every few seconds; the kind reports ``progress`` (0-1) and a ``step``. It ends
  ``succeeded`` with ``result_ref`` (``run:12``), ``failed`` with the error's rule and message, or ``cancelled``.
* :func:`reap_stale`: a running job whose heartbeat is older than ``stale_after`` lost its worker (the process
  was killed): it is marked **failed** with the rule ``job.abandoned`` and what it had half made is removed (the
  kind's ``cleanup``: an unfinished run's record). It is not re-queued: a job that killed its worker (memory,
  a time limit) would kill the next one too; the person who asked sees why and starts it again.
* A worker asked to stop (the server shutting down) puts its running job back in the queue at the job's next
  step (:class:`JobInterrupted`), so that another worker, or this one after a restart, does it from the start.

Every job is audited: ``job.queue`` (who asked, from where), ``job.start`` (which worker), ``job.finish`` (the
state it ended in, the rule when it failed).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import select, update

from ..errors import DataError, FintechEvalError
from ..registry import Registry
from ..store.models import JOB_ENDED, Campaign, Job
from .audit import audit
from .tx import writing
from .workspace import Workspace

#: The job kinds: ``name → run(ws, ctx, params) -> result_ref``; meta ``cleanup(ws, result_ref)`` removes what an
#: abandoned, cancelled or interrupted job half made. Registered in :mod:`fintech_eval.app.job_kinds`.
KINDS = Registry("job kind")

#: Seconds between heartbeats of a running job, and the age after which a heartbeat is stale (its worker died).
HEARTBEAT_SECONDS = 5.0
STALE_SECONDS = 60.0


class JobCancelled(Exception):
    """Raised at a job's next step once someone cancelled it: the job ends ``cancelled``."""


class JobInterrupted(Exception):
    """Raised at a job's next step when its worker is stopping: the job goes back to ``queued``."""


def _kinds() -> Registry:
    from . import job_kinds  # noqa: F401 - registers the kinds

    return KINDS


def worker_name() -> str:
    """``host:pid:thread`` of the calling thread: who claimed a job."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:200]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- asking ----------------------------------------------------------------------------------------------------
def enqueue(ws: Workspace, kind: str, params: dict[str, Any], *, who: str, campaign_id: int | None = None,
            actor_id: int | None = None, ip: str | None = None) -> dict[str, Any]:
    """Queue a job of ``kind`` (a name of :data:`KINDS`) with JSON ``params``; returns it (:func:`job_info`)."""
    if kind not in _kinds():
        raise DataError(f"unknown job kind {kind!r}; choose one of: {', '.join(KINDS.names())}", rule="job.kind",
                        field="kind", zh=f"未知任务类型 {kind!r}；可选：{', '.join(KINDS.names())}")
    with writing(ws) as s:
        if campaign_id is not None and s.get(Campaign, int(campaign_id)) is None:
            raise DataError(f"no campaign {campaign_id}", rule="campaign.which", field="campaign",
                            zh=f"评估项目 {campaign_id} 不存在")
        job = Job(kind=kind, params=dict(params), state="queued", campaign_id=campaign_id, requested_by=who,
                  requested_by_id=actor_id, created_at=_now(), progress=0.0)
        s.add(job)
        s.flush()
        audit(None, who, "job.queue", f"job:{job.id}", {"kind": kind, "campaign": campaign_id, "params": params},
              actor_id=actor_id, ip=ip, session=s)
        job_id = int(job.id)
    return job_info(ws, job_id)


def cancel(ws: Workspace, job_id: int, *, who: str, actor_id: int | None = None, ip: str | None = None) -> dict[str, Any]:
    """Cancel a job: a queued one ends ``cancelled`` now, a running one at its next step; an ended job cannot be."""
    with writing(ws) as s:
        job = s.get(Job, job_id)
        if job is None:
            raise DataError(f"no job {job_id}", rule="job.which", zh=f"任务 {job_id} 不存在")
        if job.state in JOB_ENDED:
            raise DataError(f"job {job_id} has ended ({job.state}): nothing to cancel", rule="job.ended",
                            zh=f"任务 {job_id} 已结束（{job.state}），无法取消")
        if job.state == "queued":
            job.state, job.finished_at = "cancelled", _now()
            audit(None, who, "job.finish", f"job:{job_id}", {"state": "cancelled", "by": who}, actor_id=actor_id,
                  ip=ip, session=s)
        else:
            job.cancel_requested = True
    return job_info(ws, job_id)


# --- working ---------------------------------------------------------------------------------------------------
def claim(ws: Workspace, worker: str | None = None, *, job_id: int | None = None) -> int | None:
    """Take the oldest queued job (or job ``job_id`` if it is still queued) for ``worker``; its id, or None when
    there is none (module doc: how two workers never take the same one)."""
    worker = worker or worker_name()
    stmt = select(Job.id).where(Job.state == "queued")
    if job_id is not None:
        stmt = stmt.where(Job.id == job_id)
    with ws.sessions() as s:  # a read first: an idle worker never takes SQLite's write lock
        if s.execute(stmt.limit(1)).scalar() is None:
            return None
    for _ in range(8):  # another worker took the one we saw: look again
        with writing(ws) as s:
            found = s.execute(stmt.order_by(Job.id).limit(1).with_for_update(skip_locked=True)).scalar()
            if found is None:
                return None
            now = _now()
            took = s.execute(update(Job).where(Job.id == found, Job.state == "queued")
                             .values(state="running", started_at=now, heartbeat_at=now, worker=worker, step=None)
                             .execution_options(synchronize_session=False)).rowcount
            if took == 1:
                job = s.get(Job, found)
                audit(None, job.requested_by, "job.start", f"job:{found}", {"kind": job.kind, "worker": worker},
                      actor_id=job.requested_by_id, session=s)
                return int(found)
        if job_id is not None:
            return None
    return None


def beat(ws: Workspace, job_id: int, worker: str) -> bool:
    """Write the heartbeat of a job ``worker`` runs; False when the job is no longer running there."""
    with writing(ws) as s:
        n = s.execute(update(Job).where(Job.id == job_id, Job.state == "running", Job.worker == worker)
                      .values(heartbeat_at=_now()).execution_options(synchronize_session=False)).rowcount
    return n == 1


@dataclass
class JobContext:
    """What a job kind's function gets: who asked, and :meth:`step` to report progress (which is also where a
    cancellation or the worker's stopping takes effect)."""

    ws: Workspace
    job_id: int
    worker: str
    who: str
    actor_id: int | None = None
    stopping: threading.Event = field(default_factory=threading.Event)

    def step(self, text: str, progress: float | None = None) -> None:
        """Record the step the job is at (and its progress, 0-1); raises :class:`JobCancelled` once someone
        cancelled it, :class:`JobInterrupted` when its worker is stopping."""
        values: dict[str, Any] = {"step": str(text)[:500], "heartbeat_at": _now()}
        if progress is not None:
            values["progress"] = min(max(float(progress), 0.0), 1.0)
        with writing(self.ws) as s:
            s.execute(update(Job).where(Job.id == self.job_id).values(**values)
                      .execution_options(synchronize_session=False))
            cancelled = s.execute(select(Job.cancel_requested).where(Job.id == self.job_id)).scalar()
        if cancelled:
            raise JobCancelled(f"job {self.job_id} was cancelled")
        if self.stopping.is_set():
            raise JobInterrupted(f"the worker running job {self.job_id} is stopping")

    def counter(self, n_steps: int) -> Callable[[str], None]:
        """A ``progress(text)`` callback (the CLI's kind) for a function that reports ``n_steps`` steps: the
        i-th step sets progress (i-1)/n_steps."""
        seen = {"n": 0}

        def progress(text: str) -> None:
            self.step(text, seen["n"] / max(n_steps, 1))
            seen["n"] += 1

        return progress

    def note_result(self, ref: str) -> None:
        """What the job is making, as soon as it exists (``run:12``): cleaned up if the job does not finish."""
        with writing(self.ws) as s:
            s.execute(update(Job).where(Job.id == self.job_id).values(result_ref=ref)
                      .execution_options(synchronize_session=False))


def _heartbeat(ws: Workspace, job_id: int, worker: str, every: float, done: threading.Event) -> threading.Thread:
    def loop() -> None:
        while not done.wait(every):
            try:
                if not beat(ws, job_id, worker):
                    return
            except Exception:  # noqa: BLE001 - a busy database skips one beat; the next one tries again
                continue

    t = threading.Thread(target=loop, name=f"job-{job_id}-heartbeat", daemon=True)
    t.start()
    return t


def _problem(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, FintechEvalError) and exc.problems:
        p = exc.problems[0]
        where = ", ".join(f"{k} {v}" for k, v in p.where.items() if v is not None and v != "")  # file, row, field…
        more = f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
        return p.rule or "job.error", f"{p.message}{f' [{where}]' if where else ''}{more}"
    return "job.error", f"{type(exc).__name__}: {exc}"


def _end(ws: Workspace, job_id: int, state: str, *, result_ref: str | None = None,
         error: tuple[str, str] | None = None) -> None:
    with writing(ws) as s:
        job = s.get(Job, job_id)
        if job.state != "running":  # reaped meanwhile (its heartbeat went stale): the reaper's verdict stands
            return
        job.state, job.finished_at = state, _now()
        if state == "succeeded":
            job.progress, job.result_ref = 1.0, result_ref or job.result_ref
        if error is not None:
            job.error_rule, job.error_message = error[0][:64], error[1]
        audit(None, job.requested_by, "job.finish", f"job:{job_id}",
              {"kind": job.kind, "state": state, "result": job.result_ref, "rule": job.error_rule,
               "worker": job.worker}, actor_id=job.requested_by_id, session=s)


def _cleanup(ws: Workspace, kind: str, result_ref: str | None) -> None:
    fn = KINDS.entry(kind).meta.get("cleanup")
    if fn is not None and result_ref:
        fn(ws, result_ref)


def run_job(ws: Workspace, job_id: int, worker: str, *, heartbeat: float = HEARTBEAT_SECONDS,
            stopping: threading.Event | None = None) -> str:
    """Run a job ``worker`` has claimed, to its end; returns the state it ended in."""
    with ws.sessions() as s:
        job = s.get(Job, job_id)
        kind, params, who, actor_id = job.kind, dict(job.params or {}), job.requested_by, job.requested_by_id
    ctx = JobContext(ws, job_id, worker, who, actor_id, stopping or threading.Event())
    done = threading.Event()
    beating = _heartbeat(ws, job_id, worker, heartbeat, done)
    try:
        ref = _kinds().get(kind)(ws, ctx, params)
    except JobCancelled:
        _cleanup(ws, kind, _ref(ws, job_id))
        _end(ws, job_id, "cancelled")
        return "cancelled"
    except JobInterrupted:
        _cleanup(ws, kind, _ref(ws, job_id))
        with writing(ws) as s:
            s.execute(update(Job).where(Job.id == job_id).values(
                state="queued", started_at=None, heartbeat_at=None, worker=None, progress=0.0, step=None,
                result_ref=None).execution_options(synchronize_session=False))
        return "queued"
    except Exception as exc:  # noqa: BLE001 - whatever a kind raises is the job's failure, told through the API
        _end(ws, job_id, "failed", error=_problem(exc))
        return "failed"
    finally:
        done.set()
        beating.join(timeout=heartbeat + 5)
    _end(ws, job_id, "succeeded", result_ref=ref)
    return "succeeded"


def _ref(ws: Workspace, job_id: int) -> str | None:
    with ws.sessions() as s:
        return s.execute(select(Job.result_ref).where(Job.id == job_id)).scalar()


def run_next(ws: Workspace, worker: str | None = None, *, job_id: int | None = None,
             heartbeat: float = HEARTBEAT_SECONDS, stopping: threading.Event | None = None) -> int | None:
    """Claim the oldest queued job (or ``job_id``) and run it here; its id, or None when the queue is empty."""
    worker = worker or worker_name()
    jid = claim(ws, worker, job_id=job_id)
    if jid is not None:
        run_job(ws, jid, worker, heartbeat=heartbeat, stopping=stopping)
    return jid


def drain(ws: Workspace, worker: str | None = None) -> list[int]:
    """Run every queued job here, oldest first (``fintech-eval jobs run-worker --once``, tests)."""
    ran = []
    while (jid := run_next(ws, worker)) is not None:
        ran.append(jid)
    return ran


def reap_stale(ws: Workspace, *, stale_after: float = STALE_SECONDS, now: dt.datetime | None = None) -> list[int]:
    """Mark failed (``job.abandoned``) every running job whose heartbeat is older than ``stale_after`` seconds,
    removing what it half made; the ids. A read first: nothing is written while every worker is alive."""
    cutoff = (now or _now()) - dt.timedelta(seconds=stale_after)
    with ws.sessions() as s:
        stale = s.execute(select(Job.id, Job.heartbeat_at).where(Job.state == "running", Job.heartbeat_at < cutoff)).all()
    reaped = []
    for jid, seen in stale:
        with writing(ws) as s:
            job = s.get(Job, jid)
            if job is None or job.state != "running" or job.heartbeat_at != seen:
                continue  # it beat (or ended) since we looked
            kind, ref, worker = job.kind, job.result_ref, job.worker
        _cleanup(ws, kind, ref)
        message = (f"the worker {worker} running it stopped: no heartbeat since {seen:%Y-%m-%d %H:%M:%S} UTC (more "
                   f"than {stale_after:g} s){'; what it had made (' + ref + ') was removed' if ref else ''}; "
                   "start it again")
        with writing(ws) as s:
            n = s.execute(update(Job).where(Job.id == jid, Job.state == "running", Job.heartbeat_at == seen).values(
                state="failed", finished_at=_now(), error_rule="job.abandoned", error_message=message,
                result_ref=None).execution_options(synchronize_session=False)).rowcount
            if n == 1:
                job = s.get(Job, jid)
                audit(None, job.requested_by, "job.finish", f"job:{jid}",
                      {"kind": kind, "state": "failed", "rule": "job.abandoned", "worker": worker},
                      actor_id=job.requested_by_id, session=s)
                reaped.append(int(jid))
    return reaped


# --- reading ---------------------------------------------------------------------------------------------------
def _as_dict(j: Job) -> dict[str, Any]:
    iso = (lambda t: t.isoformat() if t is not None else None)  # noqa: E731
    return {"id": j.id, "kind": j.kind, "params": j.params or {}, "state": j.state, "campaign": j.campaign_id,
            "requested_by": j.requested_by, "created_at": iso(j.created_at), "started_at": iso(j.started_at),
            "finished_at": iso(j.finished_at), "heartbeat_at": iso(j.heartbeat_at), "worker": j.worker,
            "progress": float(j.progress or 0.0), "step": j.step, "cancel_requested": bool(j.cancel_requested),
            "result_ref": j.result_ref, "error_rule": j.error_rule, "error_message": j.error_message}


def job_info(ws: Workspace, job_id: int) -> dict[str, Any]:
    with ws.sessions() as s:
        j = s.get(Job, job_id)
        if j is None:
            raise DataError(f"no job {job_id}", rule="job.which", zh=f"任务 {job_id} 不存在")
        return _as_dict(j)


JOB_COLUMNS = ["id", "kind", "state", "campaign", "progress", "step", "requested_by", "created_at", "started_at",
               "finished_at", "result_ref", "error_rule", "error_message"]


def jobs_frame(ws: Workspace, *, state: str | None = None) -> pd.DataFrame:
    """Every job (or those in ``state``), newest first."""
    stmt = select(Job).order_by(Job.id.desc())
    if state is not None:
        stmt = stmt.where(Job.state == state)
    with ws.sessions() as s:
        rows = [_as_dict(j) for j in s.execute(stmt).scalars()]
    return pd.DataFrame(rows, columns=JOB_COLUMNS)
