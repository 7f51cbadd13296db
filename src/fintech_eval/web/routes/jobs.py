"""``/api/v1/jobs``: background jobs (``fintech_eval.app.jobs``), e.g. the scoring that ``POST /api/v1/runs``
queued: poll ``GET /api/v1/jobs/{id}`` (its ``Location``) until its state is ``succeeded`` (``result`` links the
run), ``failed`` (``problem``: the rule and message of its error) or ``cancelled``.

Staff only; an evaluator sees the jobs of its campaigns, and any other job answers 404, as one that does not
exist."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from ...app.jobs import cancel, job_info, jobs_frame
from ...app.rows import records
from ...errors import DataError
from ..auth import Principal, WorkspaceDep, client_ip, require
from ..paging import PagingDep
from ..problems import not_found
from ..result_schemas import JobOut
from ..schemas import Page
from .common import ERRORS, Id

router = APIRouter(prefix="/jobs", tags=["jobs"], responses=ERRORS)
Reader = Annotated[Principal, Depends(require("jobs.read"))]
Manager = Annotated[Principal, Depends(require("jobs.manage"))]

#: Where what a job made is: ``kind:id`` → (its API address, its page).
RESULT_LINKS: dict[str, tuple[str, str]] = {"run": ("/api/v1/runs/{id}", "/results/{id}")}


def result_link(ref: str | None) -> dict[str, Any] | None:
    if not ref:
        return None
    kind, _, rid = ref.partition(":")
    api, page = RESULT_LINKS.get(kind, (None, None))
    return {"ref": ref, "href": api.format(id=rid) if api else None, "page": page.format(id=rid) if page else None}


def job_out(info: dict[str, Any]) -> dict[str, Any]:
    """A job as the API shows it: its result linked once it succeeded, its problem once it failed."""
    done = info["state"] == "succeeded"
    problem = ({"rule": info["error_rule"] or "job.error", "message": info["error_message"] or ""}
               if info["state"] == "failed" else None)
    return {**{k: info[k] for k in ("id", "kind", "state", "campaign", "requested_by", "created_at", "started_at",
                                    "finished_at", "progress", "step", "cancel_requested")},
            "result": result_link(info["result_ref"]) if done else None, "problem": problem,
            "href": f"/api/v1/jobs/{info['id']}", "page": f"/jobs/{info['id']}"}


def visible_job(p: Principal, ws, job_id: int) -> dict[str, Any]:
    """The job, if the caller may see its campaign; else 404."""
    try:
        info = job_info(ws, job_id)
    except DataError:
        raise not_found(f"job {job_id}") from None
    if not p.sees_campaign_of(ws, info["campaign"]):
        raise not_found(f"job {job_id}")
    return info


@router.get("", response_model=Page[JobOut], operation_id="list_jobs")
def list_(p: Reader, ws: WorkspaceDep, paging: PagingDep,
          state: Annotated[Literal["queued", "running", "succeeded", "failed", "cancelled"] | None, Query()] = None) -> dict:
    """The jobs the caller may see, newest first."""
    df = jobs_frame(ws, state=state)
    df = df[p.campaign_filter(ws, df["campaign"])]
    page = paging.page([r["id"] for r in records(df)])
    page["items"] = [job_out(job_info(ws, i)) for i in page["items"]]
    return page


@router.get("/{job_id}", response_model=JobOut, operation_id="get_job")
def show(job_id: Id, p: Reader, ws: WorkspaceDep) -> dict:
    """A job's state, progress and step; its result (a link) when it succeeded, its problem when it failed."""
    return job_out(visible_job(p, ws, job_id))


@router.post("/{job_id}/cancel", response_model=JobOut, operation_id="cancel_job")
def cancel_(job_id: Id, p: Manager, ws: WorkspaceDep, request: Request) -> dict:
    """Cancel a job: a queued one at once, a running one at its next step (what it made is removed). Audited."""
    visible_job(p, ws, job_id)
    return job_out(cancel(ws, job_id, who=p.email, actor_id=p.id, ip=client_ip(request)))


def wake_runner(request: Request) -> None:
    """Tell this process's job runner (if it runs one) to look at the queue now."""
    runner = getattr(request.app.state, "job_runner", None)
    if runner is not None:
        runner.wake()
