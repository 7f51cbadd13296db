"""The kinds of background job (:data:`fintech_eval.app.jobs.KINDS`): adding one is registering a function
``run(ws, ctx, params) -> result_ref`` here that calls the application function the CLI calls.

``score``: score a campaign (or a period) as a new run, exactly as ``fintech-eval score`` does
(:func:`fintech_eval.app.runs.score`), with the parameters of ``POST /api/v1/runs``: ``out`` (the runs folder),
``campaign`` or ``period``, ``spec`` (a saved spec's path), ``blocks``, ``outside_sample``. Its progress is one
step per block; its result ``run:<id>``. A score that does not finish leaves no run: the run's record, created at
its start, is removed (``cleanup``), as :func:`~fintech_eval.app.runs.score` itself does on an error.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..store.models import EvaluationRun
from .jobs import KINDS, JobContext
from .tx import writing
from .workspace import Workspace


def drop_unfinished_run(ws: Workspace, ref: str) -> None:
    """Remove run ``run:<id>`` if it never finished (no result folder recorded, still a draft)."""
    kind, _, rid = ref.partition(":")
    if kind != "run" or not rid.isdigit():
        return
    with writing(ws) as s:
        run = s.execute(select(EvaluationRun).where(EvaluationRun.id == int(rid))).scalar()
        if run is not None and not run.out_dir and run.status == "draft":
            s.delete(run)


@KINDS.register("score", cleanup=drop_unfinished_run)
def score_job(ws: Workspace, ctx: JobContext, params: dict[str, Any]) -> str:
    """Score a campaign's (or a period's) stored data as a new draft run; ``run:<id>``."""
    from .runs import BLOCKS, score

    blocks = tuple(params["blocks"]) if params.get("blocks") else None
    info = score(ws, out=params["out"], campaign_id=params.get("campaign"), period=params.get("period"),
                 spec=params.get("spec"), blocks=blocks, who=ctx.who, actor_id=ctx.actor_id,
                 outside_sample=bool(params.get("outside_sample")), progress=ctx.counter(len(blocks or BLOCKS)),
                 started=lambda run_id: ctx.note_result(f"run:{run_id}"))
    return f"run:{info['id']}"
