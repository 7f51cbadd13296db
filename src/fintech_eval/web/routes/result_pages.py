"""The results pages: the runs (``/results``; staff start a run of a campaign with the default or a saved spec,
a background job whose page, ``/jobs/{id}``, follows it to the new run; they see its warnings and publish it, choosing what submitters see of their peers), and the dashboards of a run:
the ranking with filters (sector, province, size band), each institution's scorecard, the province map, the
industry view with the Plan-task progress, and the report files to download. The same functions and the same
visibility rules as ``/api/v1/runs`` (:mod:`.runs`); charts are the reports' plotly charts, with plotly.js
served by this server (``/assets/plotly.min.js``, from the plotly package: nothing is fetched elsewhere)."""

from __future__ import annotations

import functools
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...app import results as rs
from ...app.campaigns import campaigns_frame
from ...app.jobs import jobs_frame
from ...app.rows import records
from ...app.runs import publish, queue_score, run_info, runs_frame, saved_specs
from ...errors import DataError
from ...store.models import PEER_VISIBILITIES
from .. import i18n
from ..auth import Principal, client_ip, settings, workspace
from ..pagekit import page_guard, page_not_found
from ..policy import sees_drafts
from ..problems import ApiProblem
from .common import Id
from .jobs import wake_runner
from .pages import language, render
from .runs import own_entities, sees_peers, visible_run

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(page_guard("runs.read"))]
Writer = Annotated[Principal, Depends(page_guard("runs.write"))]

i18n.add({
    "zh": {"res_title": "评估结果", "res_runs": "评估运行", "res_id": "编号", "res_period": "期间", "res_status": "状态",
           "res_blocks": "板块", "res_warnings": "警告", "res_published_at": "发布时间", "res_created": "创建",
           "res_new": "评分（新建运行）", "res_campaign": "评估项目", "res_spec": "评价方案", "res_default_spec": "默认方案（各板块）",
           "res_score": "开始评分", "res_in_request": "评分在后台进行：提交后进入任务页查看进度，完成后链接到新的评估运行。",
           "res_outside_sample": "同时评分样本以外的机构（如作为参考数据导入的上市银行披露数据）；默认仅评分本项目样本",
           "res_jobs": "最近的评分任务", "res_job": "任务",
           "res_status_draft": "草稿", "res_status_published": "已发布", "res_publish": "发布",
           "res_visibility": "填报机构可见的同业信息", "res_vis_distribution": "匿名同业分布（四分位数与直方图，不含名称）",
           "res_vis_ranking": "完整排名（含名称）", "res_vis_none": "不显示同业", "res_republish": "重新发布（更改同业可见性）",
           "res_ranking": "排名", "res_sector": "行业", "res_province": "省份", "res_size_band": "规模档",
           "res_all": "全部", "res_filter": "筛选", "res_rank": "排名", "res_name": "机构", "res_score_col": "总分",
           "res_rank_in_sector": "行业内排名", "res_map": "省份地图", "res_industry": "行业视图与规划任务进展",
           "res_downloads": "报告下载", "res_scorecard": "评分卡", "res_none": "暂无已发布的评估结果",
           "res_n": "共 {n} 家", "res_no_rows": "没有符合条件的机构",
           "res_bands": {"small": "小型", "medium": "中型", "large": "大型"},
           "res_own": "本机构结果", "res_peers": "同业分布（匿名）", "res_peers_all": "全部机构",
           "res_peers_sector": "本行业", "res_q1": "下四分位数", "res_median": "中位数", "res_q3": "上四分位数",
           "res_mean": "平均值", "res_percentile": "本机构得分不低于 {pct} 的同业",
           "res_too_few": "少于 {n} 家机构，不显示分布（以免识别个体）", "res_peers_hidden": "发布方未公开同业信息",
           "res_files_of": "本机构的评分卡文件", "res_tables": "结果数据表（CSV）", "res_back": "返回排名",
           "res_choose_sector": "选择行业", "res_map_q": "地区（Q）得分", "res_map_j": "机构（J）按省份汇总",
           "res_spec_saved": "已保存方案", "res_histogram": "得分分布", "res_count": "机构数"},
    "en": {"res_title": "Results", "res_runs": "Evaluation runs", "res_id": "Id", "res_period": "Period", "res_status": "Status",
           "res_blocks": "Blocks", "res_warnings": "Warnings", "res_published_at": "Published", "res_created": "Created",
           "res_new": "Score (a new run)", "res_campaign": "Campaign", "res_spec": "Spec", "res_default_spec": "Default spec (each block)",
           "res_score": "Score", "res_in_request": "Scoring runs in the background: you are taken to the job's page, which shows its progress and links to the new run when it is done.",
           "res_outside_sample": "Also score institutions outside the campaign's sample (e.g. listed banks' disclosures imported as reference data); by default only the sample is scored",
           "res_jobs": "Recent scoring jobs", "res_job": "Job",
           "res_status_draft": "draft", "res_status_published": "published", "res_publish": "Publish",
           "res_visibility": "What submitters see of their peers", "res_vis_distribution": "Anonymised peer distribution (quartiles and histogram, no names)",
           "res_vis_ranking": "Full ranking with names", "res_vis_none": "Nothing of their peers",
           "res_republish": "Publish again (change what submitters see)",
           "res_ranking": "Ranking", "res_sector": "Sector", "res_province": "Province", "res_size_band": "Size band",
           "res_all": "All", "res_filter": "Filter", "res_rank": "Rank", "res_name": "Institution", "res_score_col": "Score",
           "res_rank_in_sector": "Rank in sector", "res_map": "Province map", "res_industry": "Industry view and Plan-task progress",
           "res_downloads": "Downloads", "res_scorecard": "Scorecard", "res_none": "No published results yet",
           "res_n": "{n} institutions", "res_no_rows": "No institution matches",
           "res_bands": {"small": "small", "medium": "medium", "large": "large"},
           "res_own": "Your results", "res_peers": "Peers (anonymised)", "res_peers_all": "All institutions",
           "res_peers_sector": "Your sector", "res_q1": "Lower quartile", "res_median": "Median", "res_q3": "Upper quartile",
           "res_mean": "Mean", "res_percentile": "You score at least as much as {pct} of them",
           "res_too_few": "Fewer than {n} institutions: no distribution shown (it would identify them)",
           "res_peers_hidden": "The publisher does not show peers",
           "res_files_of": "Your scorecard files", "res_tables": "Result tables (CSV)", "res_back": "Back to the ranking",
           "res_choose_sector": "Sector", "res_map_q": "Regions (Q) scores", "res_map_j": "Institutions (J) by province",
           "res_spec_saved": "Saved specs", "res_histogram": "Score distribution", "res_count": "Institutions"},
})


@router.get("/assets/plotly.min.js")
def plotly_js() -> Response:
    """plotly.js from the installed plotly package (the charts of the dashboards), cached by the browser."""
    return Response(_plotly(), media_type="application/javascript",
                    headers={"Cache-Control": "public, max-age=86400"})


@functools.cache
def _plotly() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def _visible(p: Principal, ws, run_id: int) -> dict[str, Any]:
    try:
        return visible_run(p, ws, run_id)
    except ApiProblem:
        raise page_not_found() from None


def _runs(p: Principal, ws) -> list[dict[str, Any]]:
    df = runs_frame(ws)
    if not sees_drafts(p.role):
        df = df[df["status"] == "published"]
    df = df[p.campaign_filter(ws, df["campaign"])]
    return [run_info(ws, r["id"]) for r in records(df)][::-1]


def _list_page(request: Request, p: Principal, status: int = 200, **ctx) -> HTMLResponse:
    ws = workspace(request)
    staff = sees_drafts(p.role)
    jobs = []
    if staff:
        df = jobs_frame(ws)
        jobs = records(df[p.campaign_filter(ws, df["campaign"])].head(10))
    return render(request, "results.html.j2", status, runs=_runs(p, ws), staff=staff, jobs=jobs,
                  campaigns=records(campaigns_frame(ws)) if staff else [],
                  specs=list(saved_specs(settings(request).specs_dir)) if staff else [], **ctx)


@router.get("/results", response_class=HTMLResponse)
def results_page(request: Request, p: Reader) -> Response:
    return _list_page(request, p)


@router.post("/results", response_class=HTMLResponse)
def score_form(request: Request, p: Writer, campaign: Annotated[int | None, Form(ge=1, le=2**63 - 1)] = None,
               spec: Annotated[str, Form(max_length=100)] = "",
               outside_sample: Annotated[str, Form(max_length=8)] = "") -> Response:
    """Queue the scoring of a campaign (the default spec, or a saved one) and show its job's page."""
    ws, st = workspace(request), settings(request)
    if campaign is not None and not p.may_see_campaign(ws, campaign):
        raise page_not_found()
    try:
        specs = saved_specs(st.specs_dir)
        if spec and spec not in specs:
            raise DataError(f"no saved spec {spec!r}", rule="run.spec")
        job = queue_score(ws, out=st.runs_dir, campaign_id=campaign, spec=specs.get(spec) if spec else None,
                          outside_sample=outside_sample in ("1", "on", "true"), who=p.email, actor_id=p.id,
                          ip=client_ip(request))
    except DataError as exc:
        return _list_page(request, p, 422, error="; ".join(pr.message for pr in exc.problems[:5]))
    wake_runner(request)
    return RedirectResponse(f"/jobs/{job['id']}", status_code=303)


@router.post("/results/{run_id}/publish", response_class=HTMLResponse)
def publish_form(request: Request, run_id: Id, p: Writer,
                 peer_visibility: Annotated[str, Form(max_length=16)] = "distribution") -> Response:
    ws = workspace(request)
    _visible(p, ws, run_id)
    try:
        publish(ws, run_id, who=p.email, lang=language(request), peer_visibility=peer_visibility, actor_id=p.id,
                ip=client_ip(request))
    except DataError as exc:
        return _run_page(request, p, run_id, status=422, error=exc.problems[0].text(language(request)))
    return RedirectResponse(f"/results/{run_id}", status_code=303)


def _run_page(request: Request, p: Principal, run_id: int, *, status: int = 200, error: str | None = None,
              sector: str = "", province: str = "", size_band: str = "") -> HTMLResponse:
    from ...report.localise import group_value

    ws, lang = workspace(request), language(request)
    info = _visible(p, ws, run_id)
    from ...report.localise import warning_note

    staff = sees_drafts(p.role)
    ctx: dict[str, Any] = {"run": info, "staff": staff, "error": error, "visibilities": PEER_VISIBILITIES,
                           "filters": {"sector": sector, "province": province, "size_band": size_band},
                           "warnings": [(b, w.get("rule", ""), warning_note(w, lang).text)  # in the page's language
                                        for b, ws_ in (info["warnings"] or {}).items() for w in ws_] if staff else []}
    if "J" in info["blocks"]:
        full = rs.ranking(ws, run_id, lang=lang)
        named = sees_peers(p, info, named=True)
        ctx["choices"] = rs.filter_choices(full)
        ctx["sector_names"] = {s: group_value("sector", s, lang) for s in ctx["choices"]["sector"]}
        try:
            rows = rs.filter_ranking(full, sector=sector or None, province=province or None, size_band=size_band or None)
        except DataError as exc:
            rows, ctx["error"] = full.iloc[0:0], exc.problems[0].text(language(request))
        own = own_entities(p)
        if own is not None:
            ctx["own"] = records(full[full["entity"].isin(own)])
            if sees_peers(p, info, named=False) and not named and ctx["own"]:
                ctx["peers"] = [rs.peers(ws, run_id, e["entity"], lang=lang) for e in ctx["own"]]
        ctx["rows"] = records(rows) if named else None
        ctx["total"] = len(full)
        ctx["named"] = named
        if named:
            files = rs.report_files(ws, run_id, lang=lang, scorecards=False)
            ctx["reports"] = _by_report([f for f in files if f.kind != "table"])
            ctx["tables"] = [f.name for f in files if f.kind == "table"]
            ctx["industries"] = rs.industries(ws, run_id)
    return render(request, "result.html.j2", status, **ctx)


def _by_report(files: list[rs.ReportFile]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Report files grouped by report: (``J-2024_ranking``, [(format, file name), …])."""
    out: dict[str, list[tuple[str, str]]] = {}
    for f in files:
        out.setdefault(f.name.rsplit(".", 2)[0], []).append((f.fmt, f.name))
    return list(out.items())


@router.get("/results/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, run_id: Id, p: Reader, sector: str = "", province: str = "", size_band: str = "") -> Response:
    return _run_page(request, p, run_id, sector=sector[:32], province=province[:32], size_band=size_band[:16])


def _report_page(request: Request, run: dict[str, Any], report, *, heading: str, **ctx) -> HTMLResponse:
    """A report of :mod:`fintech_eval.report` inside a page: its sections (not the method appendix, which the
    downloads carry), its charts drawn by plotly.js served here."""
    from ...report.charts import plotly_html
    from ...report.html import TOPOJSON_NAME, prepare_sections

    def chart(c, n: int) -> str:
        return plotly_html(c, include_plotlyjs=False, div_id=f"chart-{n}-{c.key or c.kind}".replace(":", "-"))

    sections = [s for s in prepare_sections(report, chart) if not s["appendix"]]
    return render(request, "result_report.html.j2", run=run, report=report, sections=sections, heading=heading,
                  topojson_name=TOPOJSON_NAME, **ctx)


@router.get("/results/{run_id}/entities/{entity}", response_class=HTMLResponse)
def scorecard_page(request: Request, run_id: Id, entity: str, p: Reader) -> Response:
    ws, lang = workspace(request), language(request)
    info = _visible(p, ws, run_id)
    own = own_entities(p)
    if (own is not None and entity not in own) or "J" not in info["blocks"]:
        raise page_not_found()
    try:
        rep = rs.run_report(ws, run_id, "scorecard", entity=entity, lang=lang)
    except DataError:
        raise page_not_found() from None
    files = (_by_report([f for f in rs.report_files(ws, run_id, lang=lang) if f.kind == "scorecard" and f.entity == entity])
             if sees_peers(p, info, named=True) else [])
    return _report_page(request, info, rep, heading=rep.title, files=files)


@router.get("/results/{run_id}/map", response_class=HTMLResponse)
def map_page(request: Request, run_id: Id, p: Reader, block: str = "") -> Response:
    ws, lang = workspace(request), language(request)
    info = _visible(p, ws, run_id)
    if not sees_peers(p, info, named=True) or block not in ("", "J", "Q"):
        raise page_not_found()
    try:
        rep = rs.run_report(ws, run_id, "region", block=block or None, lang=lang)
    except DataError:
        raise page_not_found() from None
    blocks = [b for b in ("Q", "J") if b in info["blocks"]]
    return _report_page(request, info, rep, heading=rep.title, map_blocks=blocks, block=block or blocks[0])


@router.get("/results/{run_id}/industry", response_class=HTMLResponse)
def industry_page(request: Request, run_id: Id, p: Reader, sector: str = "") -> Response:
    ws, lang = workspace(request), language(request)
    info = _visible(p, ws, run_id)
    if not sees_peers(p, info, named=True) or "H" not in info["blocks"]:
        raise page_not_found()
    sectors = rs.industries(ws, run_id)
    chosen = sector or (sectors[0] if sectors else "")
    if chosen not in sectors:
        raise page_not_found()
    from ...report.localise import group_value

    rep = rs.run_report(ws, run_id, "industry", entity=chosen, lang=lang)
    return _report_page(request, info, rep, heading=rep.title, sectors=[(s, group_value("sector", s, lang)) for s in sectors],
                        sector=chosen)
