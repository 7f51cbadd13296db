"""``fintech-eval jobs``: the background jobs the web platform queues (scoring a campaign): list them, and run a
worker that does them in this process (``run-worker``) when the server's processes do not
(``FINTECH_EVAL_WEB_JOBS_THREAD=false``), or to run what is queued once (``--once``)."""

from __future__ import annotations

import signal
import time
from typing import Annotated

import typer

from .data import DbOpt
from .output import RowFmt, console, emit

jobs_app = typer.Typer(help="Background jobs of the web platform (scoring): list them, run a worker.",
                       no_args_is_help=True)
STATES = ("queued", "running", "succeeded", "failed", "cancelled")


@jobs_app.command("list")
def jobs_list(
    state: Annotated[str | None, typer.Option("--state", help=f"Only jobs in this state: {', '.join(STATES)}.")] = None,
    db: DbOpt = None, fmt: Annotated[RowFmt, typer.Option("--format")] = RowFmt.table,
) -> None:
    """List the jobs, newest first: kind, state, progress, who asked, what they made or why they failed."""
    from ..app import Workspace
    from ..app.jobs import jobs_frame
    from ..app.rows import records
    from ..errors import DataError

    if state is not None and state not in STATES:
        raise DataError(f"--state {state!r}: choose one of {', '.join(STATES)}", rule="job.state", field="state")
    with Workspace(db, create=False) as ws:
        df = jobs_frame(ws, state=state)
    emit(records(df), fmt.value, title="jobs")


@jobs_app.command("run-worker")
def run_worker(
    once: Annotated[bool, typer.Option("--once", help="Run the queued jobs, then stop (instead of waiting for more).")] = False,
    poll: Annotated[float, typer.Option("--poll", min=0.1, help="Seconds between looks at an empty queue.")] = 1.0,
    stale_after: Annotated[float, typer.Option("--stale-after", min=5, help="A running job without a heartbeat for this long lost its worker: marked failed.")] = 60.0,
    db: DbOpt = None,
) -> None:
    """Work the job queue here until Ctrl+C (or SIGTERM): the running job then goes back to the queue at its next
    step. Several workers (and server processes) may share one queue: a job is claimed by one of them only."""
    from ..app import Workspace
    from ..app.job_runner import JobRunner
    from ..app.jobs import drain, reap_stale

    with Workspace(db, create=False) as ws:
        if once:
            reap_stale(ws, stale_after=stale_after)
            ran = drain(ws)
            console.print(f"{len(ran)} job(s) run: {', '.join(map(str, ran)) or 'none queued'}")
            return
        runner = JobRunner(ws, poll=poll, stale_after=stale_after).start()
        stop = {"now": False}
        signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
        console.print("working the job queue; Ctrl+C stops")
        try:
            while not stop["now"] and runner.alive:
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass
        finally:
            runner.stop()
