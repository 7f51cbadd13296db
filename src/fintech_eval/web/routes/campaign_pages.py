"""The campaign pages: ``/campaigns`` (the campaigns the caller sees, with deadline and reporting rate),
``/campaigns/new`` (create one from the register: the sample from sectors and provinces, a JR/T 0201 §4 draw,
or a list of codes) and ``/campaigns/{id}`` (the sample and who has answered; the deadline, editable; the
reporting and on-time rates overall, by sector and by province, as a table and a bar chart; invitations sent one
per e-mail, pending / accepted / revoked, revocable; the evaluators assigned; the list to chase, also as CSV).
A submitter sees only the campaigns that ask its institutions and only its own rows, without rates.

The same application functions and tenancy as ``/api/v1/campaigns`` (:mod:`.campaigns`); every form carries the
session's CSRF token (:func:`..pagekit.page_guard`)."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...app.campaign_invitations import invite_sample, sample_access
from ...app.campaign_staff import assign_staff, campaign_staff, unassign_staff
from ...app.campaigns import (
    CST,
    campaign_status,
    choose_sample,
    create_campaign,
    missing_entities,
    update_campaign,
)
from ...app.invitations import get_invitation, list_invitations, revoke_invitation
from ...app.rows import records
from ...errors import FintechEvalError
from ...vocab import SECTORS, SIZE_ATTRIBUTES
from .. import i18n
from ..auth import Principal, client_ip, workspace
from ..pagekit import page_guard, page_not_found
from ..policy import allows
from ..problems import ApiProblem
from .campaigns import status_view, visible_campaigns
from .common import Id
from .pages import language, render

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(page_guard("campaigns.read"))]
Manager = Annotated[Principal, Depends(page_guard("campaigns.manage"))]
Chaser = Annotated[Principal, Depends(page_guard("campaigns.chase"))]
DRAW_METHODS = ("coverage", "top_n", "stratified", "all")

i18n.add({
    "zh": {"cmp_list": "评估项目", "cmp_new": "新建评估项目", "cmp_name": "名称", "cmp_framework": "指标体系",
           "cmp_period": "报告期", "cmp_deadline": "截止日期", "cmp_no_deadline": "未设截止日期",
           "cmp_asked": "样本数", "cmp_returned": "已报送", "cmp_on_time": "按时报送", "cmp_reporting_rate": "报送率",
           "cmp_on_time_rate": "按时报送率", "cmp_none": "暂无评估项目", "cmp_sample": "样本",
           "cmp_sample_register": "登记册中所选行业、省份的全部在营机构", "cmp_sample_draw": "按 JR/T 0201 第4章规模抽样",
           "cmp_sample_list": "指定机构代码（每行一个或以逗号分隔）", "cmp_sectors": "行业", "cmp_provinces": "省（区、市）",
           "cmp_all_if_none": "不选即全部", "cmp_size_period": "规模指标所属年度", "cmp_method": "抽样方法",
           "cmp_by": "规模指标", "cmp_method_names": {"coverage": "按规模覆盖比例", "top_n": "每行业规模最大的 N 家", "stratified": "按规模分层随机抽样",
                                "all": "全部（普查）"},
           "cmp_by_names": {"operating_revenue": "营业收入", "market_share": "市场份额", "total_financing": "融资总额",
                            "market_value": "市值"},
           "cmp_share": "覆盖比例（coverage）", "cmp_n": "每行业机构数（top_n / stratified）",
           "cmp_fraction": "抽样比例（stratified）", "cmp_seed": "随机种子（stratified）", "cmp_create": "创建",
           "cmp_codes": "机构代码", "cmp_sector": "行业", "cmp_province": "省（区、市）", "cmp_save": "保存", "cmp_rates": "报送情况", "cmp_overall": "总体",
           "cmp_by_sector": "按行业", "cmp_by_province": "按省（区、市）", "cmp_group": "分组",
           "cmp_entities": "样本机构", "cmp_entity": "机构", "cmp_status": "状态", "cmp_received": "报送时间",
           "cmp_completeness": "完整度", "cmp_review": "审核状态", "cmp_access": "账户 / 邀请",
           "cmp_invite_email": "邀请填报人（电子邮箱）", "cmp_invite": "发送邀请", "cmp_invite_bulk":
           "批量：每行“机构代码, 电子邮箱”", "cmp_invite_days": "有效天数", "cmp_invitations": "邀请",
           "cmp_links_once": "请立即把以下链接发给填报人：它们只显示这一次", "cmp_link": "邀请链接",
           "cmp_state": "状态", "cmp_expires": "有效期至", "cmp_staff": "评估人员", "cmp_add_staff": "添加评估人员",
           "cmp_remove": "移出", "cmp_chase": "待催报名单（尚未报送）", "cmp_csv": "下载 CSV", "cmp_nobody": "无",
           "cmp_overdue": "已逾期", "cmp_yes": "是", "cmp_overdue_head": "已逾期", "cmp_mine": "本机构报送情况", "cmp_saved": "已保存",
           "cmp_invited": "已邀请", "cmp_account": "已有账户", "cmp_chart": "报送率与按时报送率",
           "cmp_status_words": {"on_time": "按时", "late": "逾期", "missing": "未报送"},
           "cmp_states": {"pending": "待接受", "accepted": "已接受", "revoked": "已撤销", "expired": "已过期"}},
    "en": {"cmp_list": "Campaigns", "cmp_new": "New campaign", "cmp_name": "Name", "cmp_framework": "Framework",
           "cmp_period": "Period", "cmp_deadline": "Deadline", "cmp_no_deadline": "no deadline",
           "cmp_asked": "Asked", "cmp_returned": "Returned", "cmp_on_time": "On time",
           "cmp_reporting_rate": "Reporting rate", "cmp_on_time_rate": "On-time rate", "cmp_none": "No campaign yet",
           "cmp_sample": "Sample", "cmp_sample_register": "Every active registered institution of the chosen sectors and provinces",
           "cmp_sample_draw": "A JR/T 0201 §4 draw by size", "cmp_sample_list": "These institution codes (one a line or comma-separated)",
           "cmp_sectors": "Sectors", "cmp_provinces": "Provinces", "cmp_all_if_none": "none chosen: all",
           "cmp_size_period": "Period of the size attributes", "cmp_method": "Method", "cmp_by": "Size attribute", "cmp_method_names": {"coverage": "Cover a share of the size",
           "top_n": "The N largest per sector", "stratified": "Random, stratified by size", "all": "All (census)"},
           "cmp_by_names": {"operating_revenue": "Operating revenue", "market_share": "Market share",
                            "total_financing": "Total financing", "market_value": "Market value"},
           "cmp_share": "Share to cover (coverage)", "cmp_n": "Institutions per sector (top_n / stratified)",
           "cmp_fraction": "Fraction (stratified)", "cmp_seed": "Seed (stratified)", "cmp_create": "Create",
           "cmp_codes": "Institution codes", "cmp_sector": "Sector", "cmp_province": "Province", "cmp_save": "Save", "cmp_rates": "Returns", "cmp_overall": "Overall",
           "cmp_by_sector": "By sector", "cmp_by_province": "By province", "cmp_group": "Group",
           "cmp_entities": "The sample", "cmp_entity": "Institution", "cmp_status": "Status", "cmp_received": "Received",
           "cmp_completeness": "Complete", "cmp_review": "Review", "cmp_access": "Account / invitation",
           "cmp_invite_email": "Invite a submitter (e-mail)", "cmp_invite": "Send invitations",
           "cmp_invite_bulk": "In bulk: one “code, e-mail” a line", "cmp_invite_days": "Valid for (days)",
           "cmp_invitations": "Invitations", "cmp_links_once": "Send these links to the submitters now: they are shown this once",
           "cmp_link": "Invitation link", "cmp_state": "State", "cmp_expires": "Expires", "cmp_staff": "Evaluators",
           "cmp_add_staff": "Assign an evaluator", "cmp_remove": "Remove", "cmp_chase": "To chase (nothing sent yet)",
           "cmp_csv": "Download CSV", "cmp_nobody": "nobody", "cmp_overdue": "overdue", "cmp_yes": "yes", "cmp_overdue_head": "Overdue",
           "cmp_mine": "Your returns", "cmp_saved": "Saved", "cmp_invited": "invited", "cmp_account": "account",
           "cmp_chart": "Reporting and on-time rates",
           "cmp_status_words": {"on_time": "on time", "late": "late", "missing": "missing"},
           "cmp_states": {"pending": "pending", "accepted": "accepted", "revoked": "revoked", "expired": "expired"}},
})


# --- what the templates show ---------------------------------------------------------------------------------
def _local(when: Any) -> str:
    """A time as people in the round read it: China Standard Time (UTC+8)."""
    if when is None or (not isinstance(when, dt.datetime) and pd.isna(when)):
        return ""
    return pd.Timestamp(when).tz_convert(CST).strftime("%Y-%m-%d %H:%M")


def _deadline_date(when: Any) -> str:
    return "" if not when else pd.Timestamp(when).tz_convert(CST).strftime("%Y-%m-%d")


@functools.cache
def _provinces() -> dict[str, tuple[str, str]]:
    from ...geo.regions import provinces

    return {r["prefix"]: (r["short_zh"], r["name_en"]) for r in provinces(include_out_of_scope=True).to_dict("records")}


def group_label(level: str, group: str, lang: str) -> str:
    from ...report.i18n import has, t

    if level == "sector" and has(f"sector.{group}"):
        return t(f"sector.{group}", lang)
    if level == "province" and group in _provinces():
        return _provinces()[group][0 if lang == "zh" else 1]
    return group


@functools.cache
def _frameworks() -> list[dict[str, Any]]:
    from ...catalog.loader import list_frameworks

    return [f for f in list_frameworks() if f["kind"] == "indicators"]


def _rates(st_rates: pd.DataFrame, lang: str) -> dict[str, list[dict[str, Any]]]:
    rows = records(st_rates)
    out: dict[str, list[dict[str, Any]]] = {"all": [], "sector": [], "province": []}
    for r in rows:
        out[r["level"]].append({**r, "label": group_label(r["level"], r["group"], lang)})
    return out


def _summary(ws, campaign: dict[str, Any], own: set[str] | None) -> dict[str, Any]:
    """A campaign row of the list: its deadline and, for staff, the overall rates; for a submitter its own rows."""
    st = campaign_status(ws, campaign["id"])
    row = {**campaign, "deadline_local": _local(campaign["deadline"])}
    if own is None:
        overall = st.rates[st.rates["level"] == "all"].iloc[0]
        row.update(reporting_rate=float(overall["reporting_rate"]), on_time_rate=float(overall["on_time_rate"]),
                   returned=int(overall["returned"]))
    else:
        row["mine"] = records(st.entities[st.entities["entity_id"].isin(own)][["entity_id", "name_zh", "status"]])
    return row


# --- pages ---------------------------------------------------------------------------------------------------
@router.get("/campaigns", response_class=HTMLResponse)
def campaigns_page(request: Request, p: Reader) -> Response:
    ws = workspace(request)
    own = p.entities("institution")
    rows = [_summary(ws, c, own) for c in visible_campaigns(p, ws)]
    return render(request, "campaigns.html.j2", campaigns=rows, staff=own is None,
                  can_manage=allows(p.role, "campaigns.manage"))


def _new_form(request: Request, status: int = 200, **ctx) -> HTMLResponse:
    lang = language(request)
    return render(request, "campaign_new.html.j2", status, frameworks=_frameworks(),
                  sectors=[(s, group_label("sector", s, lang)) for s in SECTORS],
                  provinces=[(c, n[0] if lang == "zh" else n[1]) for c, n in _provinces().items()],
                  methods=DRAW_METHODS, attributes=SIZE_ATTRIBUTES, form=ctx.pop("form", {}), **ctx)


@router.get("/campaigns/new", response_class=HTMLResponse)
def new_page(request: Request, p: Manager) -> Response:
    return _new_form(request, form={"framework": "jrt0201-2020", "mode": "register", "method": "coverage", "share": "0.8"})


def _number(text: str, kind: type) -> Any:
    return kind(text) if text.strip() else None


@router.post("/campaigns/new", response_class=HTMLResponse)
async def new_form(request: Request, p: Manager) -> Response:
    form = await request.form()
    f = {k: str(v)[:20000] for k, v in form.items() if k not in ("sectors", "provinces")}
    sectors = [str(s) for s in form.getlist("sectors")][:20]
    provinces = [str(s) for s in form.getlist("provinces")][:40]
    ws = workspace(request)
    mode = f.get("mode", "register")
    try:
        draw = entities = None
        if mode == "draw":
            try:
                draw = {"period": f.get("size_period", ""), "method": f.get("method", "coverage"),
                        "by": f.get("by", "operating_revenue"), "share": _number(f.get("share", ""), float),
                        "n": _number(f.get("n", ""), int), "fraction": _number(f.get("fraction", ""), float),
                        "seed": _number(f.get("seed", ""), int)}
            except ValueError as exc:
                raise ApiProblem(422, "campaign.sample_choice", f"not a number: {exc}") from None
        elif mode == "list":
            entities = [c.strip() for c in f.get("codes", "").replace(",", "\n").splitlines() if c.strip()]
        sample = choose_sample(ws, entities=entities, sectors=sectors if mode != "list" else None,
                               provinces=provinces if mode == "register" else None, draw=draw,
                               framework=f.get("framework", "jrt0201-2020"))
        if sample is None:  # nothing chosen: every active registered institution
            sample = choose_sample(ws, sectors=list(SECTORS))
        cid = create_campaign(ws, period=f.get("period", "").strip(), framework=f.get("framework", "jrt0201-2020"),
                              sample=sample, deadline=f.get("deadline") or None, name=f.get("name", "").strip() or None,
                              who=p.email, staff=[p.id], actor_id=p.id, ip=client_ip(request))
    except (FintechEvalError, ApiProblem) as exc:
        msg = "; ".join(str(x.message) for x in exc.problems[:5]) if isinstance(exc, FintechEvalError) else exc.detail
        return _new_form(request, 422, error=msg, form={**f, "sectors": sectors, "provinces": provinces})
    return RedirectResponse(f"/campaigns/{cid}", status_code=303)


def _detail(request: Request, p: Principal, campaign_id: int, status: int = 200, **ctx) -> HTMLResponse:
    ws = workspace(request)
    if not p.may_see_campaign(ws, campaign_id):
        raise page_not_found()
    meta, st, ents = status_view(p, ws, campaign_id)
    staff = p.entities("institution") is None
    lang = language(request)
    rows = records(ents)
    for r in rows:
        r["received_local"] = _local(r["received_at"])
    extra: dict[str, Any] = {}
    if staff:
        access = sample_access(ws, campaign_id).set_index("entity_id")
        for r in rows:
            r["accounts"], r["invited"] = access.at[r["entity_id"], "accounts"], access.at[r["entity_id"], "invited"]
        invitations, _ = list_invitations(ws, limit=500, campaign_id=campaign_id)
        extra = {"rates": _rates(st.rates, lang), "chase": records(missing_entities(st)), "warnings": st.warnings,
                 "invitations": [{"info": i, "state": i.state(), "expires_local": _local(i.expires_at)} for i in invitations],
                 "staff_members": campaign_staff(ws, campaign_id)}
    for r in [*rows, *extra.get("chase", [])]:
        r["sector_label"] = group_label("sector", r["sector"] or "", lang)
        r["province_label"] = group_label("province", r["region_code"] or "", lang)
    return render(request, "campaign.html.j2", status, campaign={**meta, "deadline_local": _local(meta["deadline"]),
                                                                 "deadline_date": _deadline_date(meta["deadline"])},
                  entities=rows, staff=staff, can_manage=staff and allows(p.role, "campaigns.manage"), **extra, **ctx)


@router.get("/campaigns/{campaign_id}", response_class=HTMLResponse)
def campaign_page(request: Request, campaign_id: Id, p: Reader) -> Response:
    return _detail(request, p, campaign_id)


def _managed(request: Request, p: Principal, campaign_id: int) -> None:
    if not p.may_see_campaign(workspace(request), campaign_id):
        raise page_not_found()


def _refused(request: Request, p: Principal, campaign_id: int, exc: FintechEvalError) -> HTMLResponse:
    status = 404 if exc.problems and exc.problems[0].rule in ("campaign.not_staff", "user.not_found") else 422
    return _detail(request, p, campaign_id, status, error="; ".join(x.text(language(request)) for x in exc.problems[:8]))


@router.post("/campaigns/{campaign_id}", response_class=HTMLResponse)
def campaign_form(request: Request, campaign_id: Id, p: Manager, name: Annotated[str, Form(max_length=200)] = "",
                  deadline: Annotated[str, Form(max_length=40)] = "") -> Response:
    """Change the name and the deadline (an empty deadline removes it)."""
    _managed(request, p, campaign_id)
    try:
        update_campaign(workspace(request), campaign_id, name=name or None, deadline=deadline or None, who=p.email,
                        actor_id=p.id, ip=client_ip(request))
    except FintechEvalError as exc:
        return _refused(request, p, campaign_id, exc)
    return RedirectResponse(f"/campaigns/{campaign_id}", status_code=303)


@router.post("/campaigns/{campaign_id}/invitations", response_class=HTMLResponse)
async def invite_form(request: Request, campaign_id: Id, p: Manager) -> Response:
    """Invitations from the sample's e-mail fields (``email:<code>``) and the bulk lines (``code, e-mail``)."""
    _managed(request, p, campaign_id)
    form = await request.form()
    pairs = [(str(k).removeprefix("email:"), str(v)) for k, v in form.items() if str(k).startswith("email:") and str(v).strip()]
    for line in str(form.get("bulk", ""))[:200_000].splitlines():
        code, _, email = line.replace("\t", ",").replace(";", ",").partition(",")
        if code.strip() or email.strip():
            pairs.append((code.strip(), email.strip()))
    try:
        days = int(str(form.get("days") or 14))
        made = invite_sample(workspace(request), campaign_id, pairs, days=days, who=p.email, actor_id=p.id,
                             ip=client_ip(request))
    except ValueError:
        return _detail(request, p, campaign_id, 422, error="days: 1-90")
    except FintechEvalError as exc:
        return _refused(request, p, campaign_id, exc)
    base = str(request.base_url).rstrip("/")
    links = [{"email": i.email, "entities": [e for _, e in i.entities], "url": f"{base}/invitations/accept?token={secret}"}
             for i, secret in made]
    return _detail(request, p, campaign_id, new_links=links)


@router.post("/campaigns/{campaign_id}/invitations/{invitation_id}/revoke")
def revoke_form(request: Request, campaign_id: Id, invitation_id: Id, p: Manager) -> Response:
    _managed(request, p, campaign_id)
    ws = workspace(request)
    inv = get_invitation(ws, invitation_id)
    if inv is None or inv.campaign_id != campaign_id:
        raise page_not_found()
    revoke_invitation(ws, invitation_id, who=p.email, actor_id=p.id, ip=client_ip(request))
    return RedirectResponse(f"/campaigns/{campaign_id}#invitations", status_code=303)


@router.post("/campaigns/{campaign_id}/staff", response_class=HTMLResponse)
def staff_form(request: Request, campaign_id: Id, p: Manager, email: Annotated[str, Form(max_length=254)] = "") -> Response:
    _managed(request, p, campaign_id)
    try:
        assign_staff(workspace(request), campaign_id, email, who=p.email, actor_id=p.id, ip=client_ip(request))
    except FintechEvalError as exc:
        return _refused(request, p, campaign_id, exc)
    return RedirectResponse(f"/campaigns/{campaign_id}#staff", status_code=303)


@router.post("/campaigns/{campaign_id}/staff/{user_id}/remove", response_class=HTMLResponse)
def staff_remove_form(request: Request, campaign_id: Id, user_id: Id, p: Manager) -> Response:
    _managed(request, p, campaign_id)
    try:
        unassign_staff(workspace(request), campaign_id, user_id, who=p.email, actor_id=p.id, ip=client_ip(request))
    except FintechEvalError as exc:
        return _refused(request, p, campaign_id, exc)
    target = "/campaigns" if user_id == p.id and p.role != "administrator" else f"/campaigns/{campaign_id}#staff"
    return RedirectResponse(target, status_code=303)


@router.get("/campaigns/{campaign_id}/missing.csv")
def missing_csv(request: Request, campaign_id: Id, p: Chaser) -> Response:
    """The list to chase as CSV (UTF-8 with a byte-order mark, so that Excel shows the Chinese names)."""
    ws = workspace(request)
    if not p.may_see_campaign(ws, campaign_id):
        raise page_not_found()
    df = missing_entities(campaign_status(ws, campaign_id))
    return Response("\ufeff" + df.to_csv(index=False), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="campaign-{campaign_id}-missing.csv"',
                             "Cache-Control": "no-store"})
