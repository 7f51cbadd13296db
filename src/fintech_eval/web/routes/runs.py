"""``/api/v1/runs``: evaluation runs (``fintech_eval.app.runs``) and their results (``fintech_eval.app.results``).

Staff score a campaign's stored data (the default spec of each block, or a saved spec of the server's
``specs_dir``) as a new run and publish it, choosing what an institution's submitter sees of its peers. The
scoring is a background job (:mod:`.jobs`): ``POST /api/v1/runs`` answers 202 with the job to follow.

Viewers and submitters see only published runs; a draft answers them 404. The result folder and the specs are
shown to staff only. A submitter sees its own entities' scorecards and ranking rows, the anonymised distribution
of its peers' scores unless the publisher chose ``none``, and the named ranking, the province map, the industry
view and the report files only when the publisher chose ``ranking``; anything else answers 404.
"""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from fastapi.responses import FileResponse

from ...app import results as rs
from ...app.campaigns import resolve_campaign
from ...app.rows import records
from ...app.runs import publish, queue_score, run_info, runs_frame, saved_specs
from ...errors import DataError
from ..auth import Principal, SettingsDep, WorkspaceDep, client_ip, require
from ..paging import PagingDep
from ..policy import sees_drafts
from ..problems import not_found
from ..result_schemas import (
    FileOut,
    JobOut,
    MapOut,
    PeersOut,
    PlanTask,
    PublishRequest,
    RankingRow,
    RunRequest,
    ScorecardOut,
)
from ..schemas import Page, Run, RunDetail
from .common import ERRORS, Id
from .jobs import job_out, wake_runner

router = APIRouter(prefix="/runs", tags=["runs"], responses=ERRORS)
Reader = Annotated[Principal, Depends(require("runs.read"))]
Writer = Annotated[Principal, Depends(require("runs.write"))]
Lang = Annotated[Literal["zh", "en"], Query(description="Language of names and reports.")]
Entity = Annotated[str, Path(min_length=1, max_length=64)]
SUMMARY = ("id", "campaign", "name", "framework", "framework_version", "period", "status", "software", "blocks",
           "created_by", "created_at", "published_by", "published_at", "peer_visibility")


def _summary(info: dict[str, Any]) -> dict[str, Any]:
    return {**{k: info[k] for k in SUMMARY}, "n_warnings": sum(len(v) for v in (info["warnings"] or {}).values())}


def _detail(info: dict[str, Any], staff: bool) -> dict[str, Any]:
    return {**_summary(info), "warnings": info["warnings"] or {}, "scores_sha256": info["scores_sha256"] or {},
            "specs": info["specs"] if staff else None, "out_dir": info["out_dir"] if staff else None}


def visible_run(p: Principal, ws, run_id: int) -> dict[str, Any]:
    """The run, if the caller may see it (a draft: staff only); else 404."""
    if run_id not in set(runs_frame(ws)["id"].tolist()):
        raise not_found(f"run {run_id}")
    info = run_info(ws, run_id)
    if (info["status"] != "published" and not sees_drafts(p.role)) or not p.sees_campaign_of(ws, info["campaign"]):
        raise not_found(f"run {run_id}")
    return info


def own_entities(p: Principal) -> set[str] | None:
    """A submitter's institutions (None: staff and viewers see every entity of a published run)."""
    return p.account.entity_ids("institution") if p.role == "submitter" else None


def sees_peers(p: Principal, info: dict[str, Any], *, named: bool) -> bool:
    """Whether the caller sees other institutions of the run: named (the ranking, the map, the industry view,
    the report files) or anonymised (the distribution)."""
    if own_entities(p) is None:
        return True
    vis = info.get("peer_visibility", "distribution")
    return vis == "ranking" if named else vis in ("ranking", "distribution")


def _named(p: Principal, ws, run_id: int) -> dict[str, Any]:
    info = visible_run(p, ws, run_id)
    if not sees_peers(p, info, named=True):
        raise not_found(f"the peers' results of run {run_id}")
    return info


@router.get("", response_model=Page[Run], operation_id="list_runs")
def list_(p: Reader, ws: WorkspaceDep, paging: PagingDep) -> dict:
    df = runs_frame(ws)
    if not sees_drafts(p.role):
        df = df[df["status"] == "published"]
    df = df[p.campaign_filter(ws, df["campaign"])]
    ids = [r["id"] for r in records(df)]
    page = paging.page(ids)
    page["items"] = [_summary(run_info(ws, i)) for i in page["items"]]
    return page


@router.post("", response_model=JobOut, status_code=202, operation_id="create_run",
             responses={202: {"description": "Queued: follow the job at `Location` (`GET /api/v1/jobs/{id}`).",
                              "headers": {"Location": {"description": "The job's address.", "schema": {"type": "string"}}}}})
def create(body: RunRequest, p: Writer, ws: WorkspaceDep, st: SettingsDep, request: Request, response: Response) -> dict:
    """Score a campaign's stored data as a new (draft) run, in the background: the default spec of each block, or
    the saved spec ``spec`` (a name of the server's saved specs); the campaign's sample only unless
    ``outside_sample``. Answers 202 with the queued job (``Location: /api/v1/jobs/{id}``); the job's ``result``
    links the run once it succeeded, its ``problem`` says why it failed."""
    campaign = body.campaign if body.campaign is not None else resolve_campaign(ws, None).id  # the one there is
    if not p.may_see_campaign(ws, campaign):
        raise not_found(f"campaign {campaign}")
    spec = None
    if body.spec is not None:
        specs = saved_specs(st.specs_dir)
        if body.spec not in specs:
            raise DataError(f"no saved spec {body.spec!r}; saved specs: {', '.join(specs) or 'none'}", rule="run.spec",
                            field="spec")
        spec = specs[body.spec]
    job = queue_score(ws, out=st.runs_dir, campaign_id=campaign, spec=spec,
                      blocks=tuple(body.blocks) if body.blocks else None, outside_sample=body.outside_sample,
                      who=p.email, actor_id=p.id, ip=client_ip(request))
    wake_runner(request)
    response.headers["Location"] = f"/api/v1/jobs/{job['id']}"
    return job_out(job)


@router.get("/{run_id}", response_model=RunDetail, operation_id="get_run")
def show(run_id: Id, p: Reader, ws: WorkspaceDep) -> dict:
    return _detail(visible_run(p, ws, run_id), sees_drafts(p.role))


@router.post("/{run_id}/publish", response_model=RunDetail, operation_id="publish_run")
def publish_(run_id: Id, p: Writer, ws: WorkspaceDep, request: Request,
             body: Annotated[PublishRequest | None, Body()] = None) -> dict:
    """Publish the run (again: change what submitters see of their peers); writes its HTML reports. Audited."""
    body = body or PublishRequest()
    visible_run(p, ws, run_id)
    info = publish(ws, run_id, who=p.email, reports=body.reports, lang=body.lang, peer_visibility=body.peer_visibility,
                   actor_id=p.id, ip=client_ip(request))
    return _detail(info, True)


@router.get("/{run_id}/ranking", response_model=Page[RankingRow], operation_id="run_ranking")
def ranking(run_id: Id, p: Reader, ws: WorkspaceDep, paging: PagingDep, lang: Lang = "zh",
            sector: Annotated[str | None, Query(max_length=32)] = None,
            province: Annotated[str | None, Query(max_length=32, description="Code (44, 440000) or name.")] = None,
            size_band: Annotated[Literal["small", "medium", "large"] | None, Query()] = None) -> dict:
    """The institutions (block J) best first, filtered by sector, province and size band. A submitter whose
    publisher did not choose the named ranking gets its own rows only."""
    info = visible_run(p, ws, run_id)
    df = rs.ranking(ws, run_id, sector=sector, province=province, size_band=size_band, lang=lang)
    if not sees_peers(p, info, named=True):
        df = df[df["entity"].isin(own_entities(p) or set())]
    return paging.page(records(df))


@router.get("/{run_id}/peers/{entity}", response_model=PeersOut, operation_id="run_peers")
def peers(run_id: Id, entity: Entity, p: Reader, ws: WorkspaceDep, lang: Lang = "zh") -> dict:
    """Where ``entity`` stands among its peers, anonymised: quartiles, mean and a histogram of all institutions'
    scores and of its sector's (groups of fewer than 5 are not shown), never a name."""
    info = visible_run(p, ws, run_id)
    own = own_entities(p)
    if (own is not None and entity not in own) or not sees_peers(p, info, named=False):
        raise not_found(f"peers of {entity} in run {run_id}")
    return rs.peers(ws, run_id, entity, lang=lang)


@router.get("/{run_id}/entities/{entity}", response_model=ScorecardOut, operation_id="run_scorecard")
def scorecard(run_id: Id, entity: Entity, p: Reader, ws: WorkspaceDep, lang: Lang = "zh") -> dict:
    """One institution's scorecard: total and rank, ranks in its groups, every aggregate's score, rank and
    median, its strengths and weaknesses (the CLI's scorecard report as data). A submitter: its own only."""
    visible_run(p, ws, run_id)
    own = own_entities(p)
    if own is not None and entity not in own:
        raise not_found(f"entity {entity} in run {run_id}")
    try:
        return rs.scorecard(ws, run_id, entity, lang=lang)
    except DataError as exc:
        if exc.problems[0].rule == "results.entity":
            raise not_found(f"entity {entity} in run {run_id}") from None
        raise


@router.get("/{run_id}/provinces", response_model=MapOut, operation_id="run_provinces")
def provinces(run_id: Id, p: Reader, ws: WorkspaceDep, lang: Lang = "zh",
              block: Annotated[Literal["J", "Q"] | None, Query(description="Q: the regions' scores (default when "
                                                                          "the run has them); J: institutions by province.")] = None) -> dict:
    """The province map's data (the region report's)."""
    _named(p, ws, run_id)
    return rs.province_values(ws, run_id, block=block, lang=lang)


@router.get("/{run_id}/industries", response_model=list[str], operation_id="run_industries")
def industries(run_id: Id, p: Reader, ws: WorkspaceDep) -> list[str]:
    """The sectors the run's block H scored."""
    _named(p, ws, run_id)
    return rs.industries(ws, run_id)


@router.get("/{run_id}/industries/{sector}/plan", response_model=list[PlanTask], operation_id="run_plan_progress")
def plan(run_id: Id, sector: Annotated[str, Path(min_length=1, max_length=32)], p: Reader, ws: WorkspaceDep,
         lang: Lang = "zh") -> list[dict]:
    """The FinTech Development Plan (2019-2021) task progress of one sector: per task its linked indicators,
    those with data and their mean normalised score (the industry report's table)."""
    _named(p, ws, run_id)
    if sector not in rs.industries(ws, run_id):
        raise not_found(f"sector {sector} in run {run_id}")
    return rs.plan_progress(ws, run_id, sector, lang=lang)


@router.get("/{run_id}/files", response_model=Page[FileOut], operation_id="run_files")
def files(run_id: Id, p: Reader, ws: WorkspaceDep, paging: PagingDep, lang: Lang = "zh",
          kind: Annotated[Literal["ranking", "region", "industry", "scorecard", "table"] | None, Query()] = None) -> dict:
    """Every report the CLI makes of the run (html, pdf, xlsx) and its result tables (csv), named as the CLI
    names them; download one with ``GET …/files/{name}`` (rendered on first request, then kept)."""
    _named(p, ws, run_id)
    found = [f.__dict__ for f in rs.report_files(ws, run_id, lang=lang) if kind is None or f.kind == kind]
    return paging.page(found)


MEDIA = {"html": "text/html; charset=utf-8", "pdf": "application/pdf", "csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@router.get("/{run_id}/files/{name}", response_class=FileResponse, operation_id="run_file",
            responses={200: {"content": {m.split(";")[0]: {} for m in MEDIA.values()}, "description": "The file."}})
def file(run_id: Id, name: Annotated[str, Path(min_length=1, max_length=200)], p: Reader, ws: WorkspaceDep) -> FileResponse:
    _named(p, ws, run_id)
    try:
        path: FilePath = rs.report_file(ws, run_id, name)
    except DataError as exc:
        if exc.problems[0].rule == "results.file":
            raise not_found(f"file {name} of run {run_id}") from None
        raise
    fmt = name.rsplit(".", 1)[-1]
    return FileResponse(path, media_type=MEDIA.get(fmt, "application/octet-stream"), filename=name)

