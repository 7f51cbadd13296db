"""The page of a background job (``/jobs/{id}``): where the scoring a staff member started from ``/results``
stands (state, progress, step), refreshing itself every few seconds (a meta refresh, no script) until it ends;
then a link to the run it made, or the rule and message of its failure. Staff only, an evaluator for its
campaigns' jobs, like ``GET /api/v1/jobs/{id}`` (:mod:`.jobs`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from ...store.models import JOB_ENDED
from .. import i18n
from ..auth import Principal, workspace
from ..pagekit import page_guard, page_not_found
from ..problems import ApiProblem
from .common import Id
from .jobs import result_link, visible_job
from .pages import render

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(page_guard("jobs.read"))]
REFRESH_SECONDS = 2

i18n.add({
    "zh": {"job_title": "后台任务", "job_kind": "任务类型", "job_kind_score": "评分（新建运行）", "job_requested": "发起",
           "job_progress": "进度", "job_finished": "结束时间", "job_open_result": "查看评估运行",
           "job_again": "返回评估结果页重新评分", "job_cancelled_note": "任务已取消，未生成评估运行。",
           "job_waiting": "评分在后台进行，本页每 {n} 秒自动刷新；可以离开本页，稍后在评估结果页查看。",
           "job_state_queued": "排队中", "job_state_running": "进行中", "job_state_succeeded": "已完成",
           "job_state_failed": "失败", "job_state_cancelled": "已取消"},
    "en": {"job_title": "Background job", "job_kind": "Kind", "job_kind_score": "Scoring (a new run)", "job_requested": "Requested",
           "job_progress": "Progress", "job_finished": "Finished", "job_open_result": "Open the run",
           "job_again": "Back to the results to score again", "job_cancelled_note": "The job was cancelled: no run was made.",
           "job_waiting": "Scoring runs in the background; this page refreshes every {n} seconds. You may leave it and "
                          "find the run on the results page later.",
           "job_state_queued": "queued", "job_state_running": "running", "job_state_succeeded": "succeeded",
           "job_state_failed": "failed", "job_state_cancelled": "cancelled"},
})


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: Id, p: Reader) -> Response:
    try:
        job = visible_job(p, workspace(request), job_id)
    except ApiProblem:
        raise page_not_found() from None
    return render(request, "job.html.j2", job=job, ended=job["state"] in JOB_ENDED, refresh=REFRESH_SECONDS,
                  result=result_link(job["result_ref"]))
