"""The questionnaire forms and their review in the browser, over :mod:`fintech_eval.app.submissions` (the
functions of ``fintech-eval returns …``) and :mod:`fintech_eval.app.forms`:

* ``/returns``: a submitter's entities, the campaigns asking them and their returns ("fill in"); staff: every
  return, filtered by state, with "accept selected".
* ``/returns/new?campaign=&entity=`` and ``/returns/{id}``: the questionnaire of the entity's sector (the
  variables its workbook asks, labels and help in both languages, the unit per field, 万元 / 亿元 / 元 to choose
  for money), autosaved as a draft (no validation error blocks a draft), submitted through the import's
  validation with its messages beside each field (a refused submission keeps everything typed, as a draft);
  the evaluator's comments beside the fields; the workbook prefilled (the API's ``…/forms/{entity}/workbook``),
  upload of a filled one;
  the versions as received and the history.
* staff on ``/returns/{id}``: the version under review read-only, flagged values with their reasons, a comment
  box per field, return / accept / reject / reopen.

Another entity's return, or a campaign that does not ask the submitter's entity, is the 404 page.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from ...app import forms
from ...app import submissions as sub
from ...app.campaigns import campaigns_asking, campaigns_frame
from ...app.registers import register_frame
from ...app.rows import records
from ...errors import DataError
from ...vocab import RETURN_STATES
from .. import i18n
from ..auth import Principal, client_ip, workspace
from ..pagekit import page_guard, page_not_found
from .common import Id
from .forms import may_fill
from .pages import language, render

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(page_guard("submissions.read"))]
Writer = Annotated[Principal, Depends(page_guard("submissions.write"))]
Reviewer = Annotated[Principal, Depends(page_guard("submissions.review"))]
KIND = "institution"
MAX_UPLOAD = 20 * 1024 * 1024

i18n.add({
    "zh": {"ret_title": "填报", "ret_campaign": "评估项目", "ret_entity": "机构", "ret_period": "报告期",
           "ret_deadline": "截止时间", "ret_state": "状态", "ret_version": "版本", "ret_fill": "填写",
           "ret_open": "查看", "ret_none": "尚无填报", "ret_all_states": "全部状态", "ret_filter": "筛选",
           "ret_accept_selected": "接受所选", "ret_check_selected": "检查所选（不保存）",
           "ret_checked": "若一并接受，以下值将被标记待核实（异常值在一并接受的填报之间判断）", "ret_no_flags": "无待核实值", "ret_submitted_at": "首次提交", "ret_updated": "最近更新",
           "ret_errors": "错误", "ret_warnings": "警告", "ret_flagged": "待核实值", "ret_variable": "变量",
           "ret_value": "填报值", "ret_unit": "单位", "ret_messages": "提示", "ret_save": "保存草稿",
           "ret_submit": "提交", "ret_saved": "草稿已保存", "ret_saving": "正在保存…", "ret_save_failed": "草稿保存失败",
           "ret_help_other": "English", "ret_yes": "是", "ret_no": "否", "ret_blank": "（未填）",
           "ret_workbook": "下载 Excel 填报表（含已填内容）", "ret_upload": "上传已填写的 Excel 填报表",
           "ret_upload_button": "上传并提交", "ret_history": "历史记录", "ret_versions": "收到的版本",
           "ret_when": "时间", "ret_who": "操作人", "ret_action": "操作", "ret_change": "状态变化",
           "ret_changes": "修改内容", "ret_comments": "评审意见", "ret_note": "说明", "ret_file": "文件",
           "ret_evaluator_comment": "评估人员意见", "ret_general": "整体意见",
           "ret_review": "评审", "ret_comment_field": "意见", "ret_do_return": "退回修改",
           "ret_do_accept": "接受", "ret_do_reject": "拒绝", "ret_do_reopen": "重新打开",
           "ret_flag_reason": "待核实原因", "ret_result_submitted": "已提交，等待评审",
           "ret_result_draft": "有错误，已保存为草稿：请修改标出的字段后再提交",
           "ret_result_saved": "草稿已保存", "ret_reviewed": "评审已记录", "ret_accepted_n": "已接受的填报数",
           "ret_nothing_selected": "未选择任何填报", "ret_under_review": "评审中的版本", "ret_indicators": "用于指标",
           "ret_readonly": "此填报正在评审或已结束，不能修改",
           "ret_blank_refused": "必填：请填写数值，无数据请填 N/A（不适用）", "ret_na": "不适用 N/A",
           "ret_instructions": "按所列单位填写；金额可选择万元、亿元或元，提交时按导入规则换算。无数据请填 N/A（不适用），不要填 0。"
                               "填写内容每隔几秒自动保存为草稿；提交时按导入的校验规则检查。",
           "ret_units": {"CNY 10k": "万元", "application": "项申请", "call per day": "次/日", "claim": "件", "count": "个",
                         "device": "台", "enterprise": "家", "hour": "小时", "institution": "家", "interface": "个接口",
                         "level": "级", "loan": "笔", "ms": "毫秒", "order": "笔", "outlet": "个网点", "patent": "项",
                         "person": "人", "person-time": "人次", "project": "项", "question": "个问题", "registration": "项",
                         "scenario": "个场景", "score": "分", "service": "次", "transaction": "笔", "user": "户",
                         "yes/no": "是/否"},  # the catalog's units, in Chinese
           "ret_states": {"draft": "草稿", "submitted": "已提交", "returned": "已退回", "resubmitted": "已重新提交",
                          "accepted": "已接受", "rejected": "已拒绝", "none": "未填报"},
           "ret_actions": {"save": "保存草稿", "submit": "提交", "return": "退回", "accept": "接受", "reject": "拒绝",
                           "reopen": "重新打开"}},
    "en": {"ret_title": "Returns", "ret_campaign": "Campaign", "ret_entity": "Institution", "ret_period": "Period",
           "ret_deadline": "Deadline", "ret_state": "State", "ret_version": "Version", "ret_fill": "Fill in",
           "ret_open": "Open", "ret_none": "No return yet", "ret_all_states": "All states", "ret_filter": "Filter",
           "ret_accept_selected": "Accept selected", "ret_check_selected": "Check selected (store nothing)",
           "ret_checked": "Accepted together, these values would be flagged (outliers are judged among the returns accepted at once)",
           "ret_no_flags": "nothing flagged", "ret_submitted_at": "First submitted", "ret_updated": "Last change",
           "ret_errors": "Errors", "ret_warnings": "Warnings", "ret_flagged": "Flagged", "ret_variable": "Variable",
           "ret_value": "Value", "ret_unit": "Unit", "ret_messages": "Messages", "ret_save": "Save draft",
           "ret_submit": "Submit", "ret_saved": "Draft saved", "ret_saving": "Saving…", "ret_save_failed": "The draft was not saved",
           "ret_help_other": "中文", "ret_yes": "yes", "ret_no": "no", "ret_blank": "(blank)",
           "ret_workbook": "Download the Excel questionnaire (with what is filled in)",
           "ret_upload": "Upload a filled Excel questionnaire", "ret_upload_button": "Upload and submit",
           "ret_history": "History", "ret_versions": "Versions received", "ret_when": "When", "ret_who": "Who",
           "ret_action": "Action", "ret_change": "State", "ret_changes": "What changed", "ret_comments": "Comments",
           "ret_note": "Note", "ret_file": "File", "ret_evaluator_comment": "Evaluator's comment",
           "ret_general": "On the return as a whole", "ret_review": "Review", "ret_comment_field": "Comment",
           "ret_do_return": "Return for changes", "ret_do_accept": "Accept", "ret_do_reject": "Reject",
           "ret_do_reopen": "Reopen", "ret_flag_reason": "Flagged because",
           "ret_result_submitted": "Submitted: waiting for review",
           "ret_result_draft": "There are errors; kept as a draft: correct the marked fields and submit again",
           "ret_result_saved": "Draft saved", "ret_reviewed": "Review recorded", "ret_accepted_n": "Returns accepted",
           "ret_nothing_selected": "No return selected", "ret_under_review": "Version under review",
           "ret_indicators": "Feeds", "ret_readonly": "This return is under review or closed: it cannot be changed",
           "ret_blank_refused": "Required: give the value, or N/A (不适用) when it is not available",
           "ret_na": "N/A (不适用)",
           "ret_instructions": "Answer in the unit shown; money may be typed in 万元, 亿元 or 元 and is converted as imports "
                               "convert it. Write N/A when a figure is not available (never 0 for unknown). What you "
                               "type is saved as a draft every few seconds; submitting checks it with the import's rules.",
           "ret_units": {"CNY 10k": "CNY 10k (万元)"},
           "ret_states": {"draft": "draft", "submitted": "submitted", "returned": "returned", "resubmitted": "resubmitted",
                          "accepted": "accepted", "rejected": "rejected", "none": "not started"},
           "ret_actions": {"save": "saved", "submit": "submitted", "return": "returned", "accept": "accepted",
                           "reject": "rejected", "reopen": "reopened"}},
})


# ---------------------------------------------------------------------------------------------- helpers


def _clean(v: Any) -> Any:
    """None for pandas' missing values (NaN, NA, NaT), the value otherwise."""
    return None if pd.api.types.is_scalar(v) and pd.isna(v) else v


def _names(ws) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in records(register_frame(ws, "institutions"))}


def _campaigns(ws) -> dict[int, dict[str, Any]]:
    return {int(r["id"]): r for r in records(campaigns_frame(ws))}


def _visible_return(p: Principal, ws, return_id: int) -> dict[str, Any]:
    """The return's row, or the 404 page when it does not exist or is another entity's."""
    row = sub.returns_list(ws, ids=[return_id])
    if row.empty:
        raise page_not_found()
    r = {k: _clean(v) for k, v in row.iloc[0].to_dict().items()}
    if not p.may_see(r["entity_kind"], r["entity_id"]) or not p.sees_campaign_of(ws, r["campaign_id"]):
        raise page_not_found()
    return r


def _check_scope(p: Principal, ws, campaign: int, entity: str) -> None:
    """The 404 page unless ``p`` may fill ``entity``'s questionnaire of the campaign (:func:`.forms.may_fill`)."""
    if not may_fill(p, ws, campaign, entity):
        raise page_not_found()


def _existing(ws, campaign: int, entity: str) -> int | None:
    df = sub.returns_list(ws, campaign, entity=entity)
    return int(df["id"].iloc[0]) if len(df) else None


def _when(v: Any) -> str:
    v = _clean(v)
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    t = v.to_pydatetime() if hasattr(v, "to_pydatetime") else v
    if isinstance(t, dt.datetime):
        return t.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M:%S")
    return str(t)


# ---------------------------------------------------------------------------------------------- listing


@router.get("/returns", response_class=HTMLResponse)
def returns_page(request: Request, p: Reader, state: Annotated[str, Query(max_length=20)] = "",
                 campaign: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None) -> Response:
    return _list_page(request, p, state, campaign)


def _list_page(request: Request, p: Principal, state: str = "", campaign: int | None = None, status: int = 200,
               error: str | None = None, problems: list | None = None, checked: list | None = None) -> HTMLResponse:
    ws = workspace(request)
    own = p.entities(KIND)
    names, camps = _names(ws), _campaigns(ws)
    states = [state] if state in RETURN_STATES else None
    df = sub.returns_list(ws, campaign, state=states, entity=sorted(own) if own is not None else None)
    df = df[p.campaign_filter(ws, df["campaign_id"])]
    rows = [{k: _clean(v) for k, v in r.items()} for r in df.to_dict("records")]
    for r in rows:
        r["name"] = names.get(r["entity_id"], {})
        r["campaign"] = camps.get(r["campaign_id"]) if r["campaign_id"] is not None else None
        r["submitted"], r["updated"] = _when(r["submitted_at"]), _when(r["updated_at"])
    asked = []
    if own is not None:  # a submitter: every campaign asking one of its entities, with or without a return
        have = {(r["campaign_id"], r["entity_id"]): r for r in rows}
        for e in sorted(own):
            for cid in sorted(campaigns_asking(ws, [e])):
                asked.append({"campaign": camps[cid], "entity_id": e, "name": names.get(e, {}),
                              "deadline": _when(camps[cid]["deadline"]),
                              "ret": have.get((cid, e))})
    return render(request, "returns_list.html.j2", status, rows=rows, asked=asked, staff=own is None, state=state,
                  states=RETURN_STATES, campaign=campaign, camps=list(camps.values()),
                  notice=request.query_params.get("notice"), error=error, problems=problems or [], checked=checked)


@router.post("/returns/accept", response_class=HTMLResponse)
async def accept_selected(request: Request, p: Reviewer) -> Response:
    """Accept the returns ticked on the list, all-or-nothing (the API's ``POST /api/v1/returns/accept``); or, with
    ``action=check``, only show what accepting them together would flag (a dry run: nothing stored)."""
    ws, t = workspace(request), i18n.TEXT[language(request)]
    form = await request.form()
    try:
        ids = [int(str(x)) for x in form.getlist("ids")]
    except ValueError:
        ids = []
    if not ids:
        return _list_page(request, p, status=422, error=t["ret_nothing_selected"])
    for rid in ids:  # every one within the caller's campaigns (the 404 page otherwise, nothing stored)
        _visible_return(p, ws, rid)
    check = form.get("action") == "check"
    try:
        res = sub.accept(ws, ids, actor=p.email, note=str(form.get("note") or "") or None, dry_run=check, actor_id=p.id,
                         ip=client_ip(request))
    except DataError as exc:  # nothing was stored: the list again with every problem
        return _list_page(request, p, status=422, error=exc.problems[0].text(language(request)), problems=exc.problems[1:])
    if check:  # what accepting them together would flag (outliers are judged among the returns accepted at once)
        return _list_page(request, p, checked=[(r.return_id, r.entity_id, r.warnings) for r in res])
    return RedirectResponse(f"/returns?notice={quote(t['ret_accepted_n'] + f': {len(res)}')}", status_code=303)


# ---------------------------------------------------------------------------------------------- the form


def _fields(ws, p: Principal, form: dict[str, Any], rid: int | None, staff_view: bool,
            lang: str) -> tuple[list[dict], Any]:
    """The form's rows: the variables of ``return_form`` with what to show in them: for a submitter the values as
    last typed (newest version, a draft included); for staff the version under review. Messages in ``lang``."""
    detail = None
    typed: dict[str, dict[str, Any]] = {}
    shown_fields: dict[str, dict[str, Any]] = {}
    if rid is not None:
        if staff_view:
            detail = sub.return_detail(ws, rid, lang=lang)
        else:
            newest = int(sub.returns_list(ws, ids=[rid])["version"].iloc[0])
            detail = sub.return_detail(ws, rid, version=newest, lang=lang)
            typed = forms.typed_values(ws, rid, newest)
        shown_fields = {str(f["variable"]): {k: _clean(v) for k, v in f.items()} for f in detail.fields.to_dict("records")}
    comments = detail.comments if detail is not None else {}
    blank_refused = detail is not None and any(x.rule == "value.blank_mandatory" for x in detail.problems)
    rows = []
    for f in form["fields"]:
        var = f["variable"]
        seen = shown_fields.get(var, {})
        raw = typed.get(var, {}).get("raw") if typed else seen.get("raw")
        unit = typed.get(var, {}).get("unit") if typed else seen.get("unit")
        money = f["type"] == "money"
        units = list(sub.MONEY_UNITS) if money else [f["unit"]]
        if money and unit not in units:
            unit = "万元"  # the variable's own unit (CNY 10k), the workbook's
        blank = blank_refused and not (raw or "").strip() and not seen.get("problems")  # in a grouped problem
        rows.append({**f, "raw": raw, "entered_unit": unit, "units": units, "money": money, "blank": blank,
                     "status": seen.get("status"), "flag_reason": seen.get("flag_reason"),
                     "problems": seen.get("problems") or [], "comment": comments.get(var)})
    return rows, detail


def _form_page(request: Request, p: Principal, campaign: int, entity: str, *, status: int = 200,
               notice: str | None = None, error: str | None = None) -> HTMLResponse:
    ws, lang = workspace(request), language(request)
    form = sub.return_form(ws, entity, campaign, lang=lang)
    meta = _campaigns(ws)[campaign]
    rid = form["return_id"]
    staff_view = p.entities(KIND) is None
    rows, detail = _fields(ws, p, form, rid, staff_view, lang)
    general = [x for x in (detail.problems if detail is not None else []) if not x.where.get("variable")]
    history = []
    versions = []
    if detail is not None:
        for h in detail.history.to_dict("records"):
            h = {k: _clean(v) for k, v in h.items()}
            h["when"] = _when(h["at"])
            history.append(h)
        for v in detail.versions.to_dict("records"):
            v = {k: _clean(v2) for k, v2 in v.items()}
            v["when"] = _when(v["submitted_at"])
            versions.append(v)
    editable = not staff_view and "submit" in (form["allowed"] or [])
    summary = {k: _clean(v) for k, v in detail.summary.items()} if detail is not None else {}
    return render(request, "return_form.html.j2", status, form=form, rows=rows, rid=rid, campaign=meta,
                  entity=entity, inst=_names(ws).get(entity, {}), general=general, history=history[::-1],
                  versions=versions[::-1], editable=editable, deadline=_when(meta["deadline"]), staff=staff_view, summary=summary,
                  flagged=detail.flagged if detail is not None else [], notice=notice, error=error,
                  overall=(detail.comments.get("*") if detail is not None else None))


@router.get("/returns/new", response_class=HTMLResponse)
def new_return(request: Request, p: Writer, campaign: Annotated[int, Query(ge=1, le=2**63 - 1)],
               entity: Annotated[str, Query(min_length=1, max_length=64)]) -> Response:
    ws = workspace(request)
    _check_scope(p, ws, campaign, entity)
    rid = _existing(ws, campaign, entity)
    if rid is not None:
        return RedirectResponse(f"/returns/{rid}", status_code=303)
    return _form_page(request, p, campaign, entity)


def _scope_of(form) -> tuple[int, str]:
    try:
        return int(str(form.get("campaign"))), str(form.get("entity") or "").strip()
    except ValueError:
        raise page_not_found() from None


def _payload(request_form, rows: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, str]]:
    """What a form sent, as typed: ``variable → text`` for every field of the form (a blank field is sent blank,
    as the workbook's empty cell is: the import refuses a blank the framework asks, ``value.blank_mandatory``)
    and the unit chosen per money field."""
    values: dict[str, Any] = {}
    units: dict[str, str] = {}
    for f in rows:
        var = f["variable"]
        raw = request_form.get(f"v.{var}")
        values[var] = raw.strip() if isinstance(raw, str) else ""
        if f["type"] == "money" and values[var]:
            u = request_form.get(f"u.{var}")
            units[var] = u if u in sub.MONEY_UNITS else "万元"
    return values, units


async def _save(request: Request, p: Principal, final: bool) -> tuple[int, str, sub.SubmitResult]:
    ws = workspace(request)
    data = await request.form()
    campaign, entity = _scope_of(data)
    _check_scope(p, ws, campaign, entity)
    form = sub.return_form(ws, entity, campaign, lang=language(request))
    values, units = _payload(data, form["fields"])
    res = sub.submit(ws, entity, campaign, values, actor=p.email, units=units, final=final, actor_id=p.id,
                     ip=client_ip(request))
    return campaign, entity, res


@router.post("/returns/draft")
async def save_draft(request: Request, p: Writer) -> Response:
    """Keep what is typed as a draft (validation problems do not block it) and come back to the page (the
    "save draft" button; the page's autosave calls the API's ``PUT …/forms/{entity}/draft``)."""
    try:
        campaign, entity, res = await _save(request, p, final=False)
    except DataError as exc:  # e.g. the state allows no saving
        data = await request.form()
        campaign, entity = _scope_of(data)
        return _form_page(request, p, campaign, entity, status=409, error=exc.problems[0].text(language(request)))
    return RedirectResponse(f"/returns/{res.return_id}?notice=saved", status_code=303)


@router.post("/returns/submit", response_class=HTMLResponse)
async def submit_form(request: Request, p: Writer) -> Response:
    """Submit through the import's validation: valid → under review; errors → kept as a draft, the page again
    with the messages beside the fields and everything typed (422)."""
    t = i18n.TEXT[language(request)]
    try:
        campaign, entity, res = await _save(request, p, final=True)
    except DataError as exc:
        data = await request.form()
        campaign, entity = _scope_of(data)
        return _form_page(request, p, campaign, entity, status=409, error=exc.problems[0].text(language(request)))
    if res.submitted:
        return RedirectResponse(f"/returns/{res.return_id}?notice=submitted", status_code=303)
    return _form_page(request, p, campaign, entity, status=422, error=t["ret_result_draft"])


@router.post("/returns/upload", response_class=HTMLResponse)
async def upload_workbook(request: Request, p: Writer) -> Response:
    """A filled questionnaire workbook (or CSV / JSON) submitted as the return, kept byte for byte."""
    ws, t = workspace(request), i18n.TEXT[language(request)]
    data = await request.form()
    campaign, entity = _scope_of(data)
    _check_scope(p, ws, campaign, entity)
    file = data.get("file")
    file = file if isinstance(file, UploadFile) else None
    payload = await file.read(MAX_UPLOAD + 1) if file is not None else b""
    if not payload or len(payload) > MAX_UPLOAD:
        return _form_page(request, p, campaign, entity, status=422, error=t["ret_upload"])
    try:
        res = sub.submit(ws, entity, campaign, payload, actor=p.email, file_name=file.filename,
                         media_type=file.content_type, actor_id=p.id, ip=client_ip(request))
    except DataError as exc:
        return _form_page(request, p, campaign, entity, status=409, error=exc.problems[0].text(language(request)))
    if res.submitted:
        return RedirectResponse(f"/returns/{res.return_id}?notice=submitted", status_code=303)
    return _form_page(request, p, campaign, entity, status=422, error=t["ret_result_draft"])


@router.get("/returns/{return_id}", response_class=HTMLResponse)
def return_page(request: Request, return_id: Id, p: Reader) -> Response:
    ws = workspace(request)
    r = _visible_return(p, ws, return_id)
    if r["campaign_id"] is None:
        raise page_not_found()  # a return without a campaign (CLI, framework and period) has no form here
    t = i18n.TEXT[language(request)]
    notice = {"submitted": t["ret_result_submitted"], "saved": t["ret_result_saved"],
              "reviewed": t["ret_reviewed"]}.get(request.query_params.get("notice", ""))
    return _form_page(request, p, int(r["campaign_id"]), r["entity_id"], notice=notice)


@router.get("/returns/{return_id}/versions/{number}")
def version_payload(request: Request, return_id: Id, number: Id, p: Reader) -> Response:
    """A version exactly as it was received (the workbook, CSV or JSON), for download."""
    ws = workspace(request)
    _visible_return(p, ws, return_id)
    try:
        data, media_type, name = sub.return_payload(ws, return_id, number)
    except DataError:
        raise page_not_found() from None
    return Response(data, media_type=media_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}", "Cache-Control": "no-store"})


@router.post("/returns/{return_id}/review", response_class=HTMLResponse)
async def review_form(request: Request, return_id: Id, p: Reviewer) -> Response:
    """One review step from the page: return (with the comment boxes filled in), accept, reject, reopen."""
    ws = workspace(request)
    r = _visible_return(p, ws, return_id)
    if r["campaign_id"] is None:
        raise page_not_found()  # as on its page: a return without a campaign is reviewed with the CLI or the API
    data = await request.form()
    action = str(data.get("action") or "")
    note = str(data.get("note") or "").strip() or None
    comments = {k[2:]: str(v).strip() for k, v in data.multi_items() if k.startswith("c.") and str(v).strip()}
    if str(data.get("general") or "").strip():
        comments["*"] = str(data.get("general")).strip()
    who, ip = p.email, client_ip(request)  # the history and the audit log (written by the step itself)
    try:
        if action == "return":
            sub.return_for_changes(ws, return_id, comments, actor=who, note=note, actor_id=p.id, ip=ip)
        elif action == "accept":
            sub.accept(ws, [return_id], actor=who, note=note, actor_id=p.id, ip=ip)
        elif action == "reject":
            sub.reject(ws, return_id, actor=who, note=note or "", actor_id=p.id, ip=ip)
        elif action == "reopen":
            sub.reopen(ws, return_id, actor=who, note=note or "", actor_id=p.id, ip=ip)
        else:
            raise page_not_found()
    except DataError as exc:
        msg = "; ".join(x.text(language(request)) for x in exc.problems)
        return _form_page(request, p, int(r["campaign_id"]), r["entity_id"], status=422, error=msg)
    return RedirectResponse(f"/returns/{return_id}?notice=reviewed", status_code=303)
