"""``/api/v1/runs``: evaluation runs (``fintech_eval.app.runs``). Viewers and submitters see only published runs;
a draft answers them 404. The result folder and the specs are shown to staff only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from ...app.rows import records
from ...app.runs import run_info, runs_frame
from ..auth import Principal, WorkspaceDep, require
from ..paging import PagingDep
from ..policy import sees_drafts
from ..problems import not_found
from ..schemas import Page, Run, RunDetail
from .common import ERRORS, Id

router = APIRouter(prefix="/runs", tags=["runs"], responses=ERRORS)
Reader = Annotated[Principal, Depends(require("runs.read"))]
SUMMARY = ("id", "campaign", "name", "framework", "framework_version", "period", "status", "software", "blocks",
           "created_by", "created_at", "published_by", "published_at")


def _summary(info: dict[str, Any]) -> dict[str, Any]:
    return {**{k: info[k] for k in SUMMARY}, "n_warnings": sum(len(v) for v in (info["warnings"] or {}).values())}


@router.get("", response_model=Page[Run], operation_id="list_runs")
def list_(p: Reader, ws: WorkspaceDep, paging: PagingDep) -> dict:
    df = runs_frame(ws)
    if not sees_drafts(p.role):
        df = df[df["status"] == "published"]
    ids = [r["id"] for r in records(df)]
    page = paging.page(ids)
    page["items"] = [_summary(run_info(ws, i)) for i in page["items"]]
    return page


@router.get("/{run_id}", response_model=RunDetail, operation_id="get_run")
def show(run_id: Id, p: Reader, ws: WorkspaceDep) -> dict:
    ids = set(runs_frame(ws)["id"].tolist())
    if run_id not in ids:
        raise not_found(f"run {run_id}")
    info = run_info(ws, run_id)
    staff = sees_drafts(p.role)
    if info["status"] != "published" and not staff:
        raise not_found(f"run {run_id}")
    return {**_summary(info), "warnings": info["warnings"] or {}, "scores_sha256": info["scores_sha256"] or {},
            "specs": info["specs"] if staff else None, "out_dir": info["out_dir"] if staff else None}
