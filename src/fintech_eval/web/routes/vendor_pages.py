"""The vendor rating pages: ``/vendors`` (the vendors and their assessments; staff open a new one, for
themselves or as the vendor's self-assessment) and ``/vendors/{vendor_id}/assessments/{assessment_id}``: the
rubric per capability and indicator (the steps to choose or the value, an evidence reference, a note, evidence
files to upload or withdraw), the live level with why not the next one and the smallest improvement plan, the
history, and the buttons the assessment's stage allows (``policy.assessment_actions``: publish, return to the
vendor, submit to the evaluator). Staff see the rubric of every assessment; a vendor's submitter the rubric of
its self-assessments, and the published rating of the others. The same functions as the API and the CLI
(``fintech_eval.app.vendor_assessments``, ``vendor_self_assessment``; the rating is
``fintech_eval.capability.rate_vendor``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from ...app import vendor_assessments as va
from ...app import vendor_self_assessment as vsa
from ...capability.loader import DEFAULT_FRAMEWORK, load_capability_framework
from ...errors import DataError
from .. import i18n
from ..auth import Principal, workspace
from ..pagekit import page_guard, page_not_found
from ..policy import allows, assessment_actions, sees_all_entities
from ..problems import ApiProblem
from .common import Id
from .pages import language, render
from .vendors import as_vendor, visible_assessment

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(page_guard("vendors.read"))]
Rater = Annotated[Principal, Depends(page_guard("vendors.rate"))]
Answerer = Annotated[Principal, Depends(page_guard("vendors.answer"))]
Submitter = Annotated[Principal, Depends(page_guard("vendors.submit"))]

i18n.add({
    "zh": {"ven_title": "服务商能力评级",
           "ven_no_vendor": "尚无登记的服务商。管理员可在命令行登记：", "ven_vendor": "服务商", "ven_type": "服务商类型", "ven_model": "评价模型",
           "ven_round": "评价轮次", "ven_status": "状态", "ven_level": "等级", "ven_total": "总分",
           "ven_open": "新建评价", "ven_none": "暂无评价", "ven_no_published": "尚无已发布的评级",
           "ven_draft": "草稿", "ven_published": "已发布", "ven_answered": "已评指标", "ven_files": "证据文件",
           "ven_below_1": "未达第1级", "ven_level_n": "第{n}级", "ven_next": "下一等级", "ven_why": "评级说明",
           "ven_plan": "最小改进方案", "ven_plan_none": "已是最高等级，无需改进方案",
           "ven_plan_infeasible": "即使全部适用指标达到最高档也无法达到下一等级",
           "ven_indicator": "指标", "ven_from_to": "档位", "ven_reason": "原因", "ven_gain": "总分提升",
           "ven_req": "必备要求", "ven_score_reason": "提高分数", "ven_evidence_only": "补充证据即可",
           "ven_capabilities": "各能力得分", "ven_capability": "能力", "ven_score": "得分", "ven_weight": "权重",
           "ven_rubric": "评分量规", "ven_save": "保存评分", "ven_saved": "已保存", "ven_not_rated": "未评",
           "ven_value": "数值", "ven_evidence_ref": "证据编号（线下存档）", "ven_note": "备注", "ven_upload": "上传证据",
           "ven_withdraw": "撤回", "ven_evidence_required": "所需证据", "ven_mandatory": "第{level}级必备：不低于第{step}档",
           "ven_not_in_model": "本模型不使用此指标", "ven_publish": "发布评级",
           "ven_publish_confirm": "发布后评分与证据将不能再修改。确定发布？", "ven_history": "修改记录",
           "ven_when": "时间", "ven_who": "操作人", "ven_action": "操作", "ven_capped": "无证据，按最低档计",
           "ven_step": "档位", "ven_steps": "各指标档位", "ven_published_by": "发布",
           "ven_problems": "未保存：请修改标出的问题", "ven_live": "修改档位后自动保存并重新计算等级",
           "ven_disclaimer": "默认模型为本项目自行编制，并非官方指标清单。",
           "ven_actions": {"create": "新建", "answer": "评分", "evidence.add": "上传证据",
                           "evidence.withdraw": "撤回证据", "publish": "发布", "vendor.open": "交服务商自评",
                           "vendor.submit": "服务商提交自评", "vendor.return": "退回服务商"},
           "ven_self": "由服务商先自评（服务商填写并提交后由评价人员审核）",
           "ven_stages": {"evaluator": "草稿", "self_assessment": "服务商自评中", "submitted": "服务商已提交，待审核"},
           "ven_submit": "提交给评价人员", "ven_submit_confirm": "提交后将不能再修改，除非评价人员退回。确定提交？",
           "ven_submitted_note": "自评已于 {at} 提交，评价人员审核中；审核期间不能修改。",
           "ven_with_vendor": "服务商正在自评：提交后才能审核发布。",
           "ven_return": "退回服务商修改", "ven_return_note": "退回说明",
           "ven_returned": "评价人员退回了自评（{at}）：", "ven_self_hint": "请逐项选择档位并上传证据；修改自动保存，等级实时计算。完成后提交给评价人员。",
           "ven_submitted_level": "提交时：{level}，总分 {total}"},
    "en": {"ven_title": "Vendor capability ratings",
           "ven_no_vendor": "No vendor is registered yet. An administrator registers them with", "ven_vendor": "Vendor", "ven_type": "Provider type",
           "ven_model": "Evaluation model", "ven_round": "Round", "ven_status": "Status", "ven_level": "Level",
           "ven_total": "Total score", "ven_open": "Open an assessment", "ven_none": "No assessment yet",
           "ven_no_published": "No published rating yet", "ven_draft": "draft", "ven_published": "published",
           "ven_answered": "Indicators rated", "ven_files": "Evidence files", "ven_below_1": "Below level 1",
           "ven_level_n": "Level {n}", "ven_next": "Next level", "ven_why": "Why this level",
           "ven_plan": "Smallest improvement plan", "ven_plan_none": "The top level: no plan needed",
           "ven_plan_infeasible": "The next level cannot be reached even with every applicable indicator at its top step",
           "ven_indicator": "Indicator", "ven_from_to": "Step", "ven_reason": "Reason", "ven_gain": "Score gain",
           "ven_req": "mandatory requirement", "ven_score_reason": "raise the score",
           "ven_evidence_only": "supply the evidence", "ven_capabilities": "Capability scores",
           "ven_capability": "Capability", "ven_score": "Score", "ven_weight": "Weight", "ven_rubric": "Rubric",
           "ven_save": "Save the rating", "ven_saved": "Saved", "ven_not_rated": "not rated", "ven_value": "Value",
           "ven_evidence_ref": "Evidence reference (held on file)", "ven_note": "Note",
           "ven_upload": "Upload evidence", "ven_withdraw": "Withdraw", "ven_evidence_required": "Evidence required",
           "ven_mandatory": "Mandatory for level {level}: step {step} or above",
           "ven_not_in_model": "not used by this model", "ven_publish": "Publish the rating",
           "ven_publish_confirm": "Once published, answers and evidence can no longer change. Publish?",
           "ven_history": "History", "ven_when": "When", "ven_who": "Who", "ven_action": "Action",
           "ven_capped": "no evidence: scored at the lowest step", "ven_step": "Step", "ven_steps": "Steps per indicator",
           "ven_published_by": "Published", "ven_problems": "Not saved: correct the marked problems",
           "ven_live": "A changed step is saved and the level recomputed at once",
           "ven_disclaimer": "The default model is this project's own, not the official indicator list.",
           "ven_actions": {"create": "opened", "answer": "rated", "evidence.add": "evidence uploaded",
                           "evidence.withdraw": "evidence withdrawn", "publish": "published",
                           "vendor.open": "handed to the vendor", "vendor.submit": "submitted by the vendor",
                           "vendor.return": "returned to the vendor"},
           "ven_self": "The vendor fills a self-assessment first (it submits it, then the evaluator reviews it)",
           "ven_stages": {"evaluator": "draft", "self_assessment": "self-assessment: the vendor is filling it",
                          "submitted": "submitted by the vendor, under review"},
           "ven_submit": "Submit to the evaluator",
           "ven_submit_confirm": "Once submitted, nothing can change unless the evaluator returns it. Submit?",
           "ven_submitted_note": "Submitted on {at}; the evaluator is reviewing it, and it cannot change meanwhile.",
           "ven_with_vendor": "The vendor is filling its self-assessment: it can be reviewed and published once submitted.",
           "ven_return": "Return to the vendor", "ven_return_note": "What to change",
           "ven_returned": "The evaluator returned the self-assessment ({at}):",
           "ven_self_hint": "Choose a step for each indicator and upload the evidence; every change is saved and the level recomputed. Submit it to the evaluator when done.",
           "ven_submitted_level": "When submitted: {level}, total {total}"},
})


def _models() -> list[dict[str, str]]:
    fw = load_capability_framework(DEFAULT_FRAMEWORK)
    return [{"id": m.id, "zh": m.name.zh, "en": m.name.en or m.name.zh} for m in fw.models]


def _provider_types() -> dict[str, dict[str, str]]:
    fw = load_capability_framework(DEFAULT_FRAMEWORK)
    return {p.code: {"zh": p.name.zh, "en": p.name.en or p.name.zh} for p in fw.provider_types}


def _list_page(request: Request, p: Principal, status: int = 200, **ctx: Any) -> HTMLResponse:
    staff = sees_all_entities(p.role)
    vendors = va.vendors_overview(workspace(request), vendors=p.entities("vendor"), for_vendor=as_vendor(p))
    return render(request, "vendors.html.j2", status, vendors=vendors, staff=staff,
                  may_rate=allows(p.role, "vendors.rate"), models=_models(), ptypes=_provider_types(), **ctx)


@router.get("/vendors", response_class=HTMLResponse)
def vendors_page(request: Request, p: Reader) -> Response:
    return _list_page(request, p)


@router.post("/vendors/{vendor_id}/assessments", response_class=HTMLResponse)
def open_form(request: Request, vendor_id: str, p: Rater, model: Annotated[str, Form(max_length=32)] = "",
              round: Annotated[str, Form(max_length=32)] = "",  # noqa: A002 - the form field's name
              self_assessment: Annotated[str, Form(max_length=8)] = "") -> Response:
    try:
        a = va.create_assessment(workspace(request), vendor_id, model=model, round=round, who=p.email,
                                 self_assessment=bool(self_assessment))
    except DataError as exc:
        if exc.problems and exc.problems[0].rule == "register.unknown":
            raise page_not_found() from None
        return _list_page(request, p, 422, error="; ".join(pr.message for pr in exc.problems), error_vendor=vendor_id)
    return RedirectResponse(f"/vendors/{vendor_id}/assessments/{a['id']}", status_code=303)


def _visible(request: Request, p: Principal, vendor_id: str, assessment_id: int) -> dict[str, Any]:
    try:
        return visible_assessment(p, workspace(request), vendor_id, assessment_id)
    except ApiProblem:
        raise page_not_found() from None


def _assessment_page(request: Request, p: Principal, vendor_id: str, assessment_id: int, status: int = 200,
                     **ctx: Any) -> HTMLResponse:
    ws = workspace(request)
    summary = _visible(request, p, vendor_id, assessment_id)
    staff = sees_all_entities(p.role)
    rating = va.current_rating(ws, assessment_id)
    extra: dict[str, Any] = {}
    if _with_rubric(p, summary):
        detail = va.assessment_detail(ws, assessment_id)
        history = [{**h, "change": change_text(h["old"], h["new"])} for h in detail["history"]]
        extra = {"rubric": va.rubric(ws, assessment_id), "history": history,
                 "handover": next((h for h in reversed(history) if h["action"].startswith("vendor.")), None)}
    acts = assessment_actions(p.role, summary["status"], summary["stage"])
    return render(request, "vendor_assessment.html.j2", status, a=summary, rating=rating, staff=staff,
                  with_rubric=_with_rubric(p, summary), acts=acts, me=p.email, may_rate="answer" in acts,
                  ptypes=_provider_types(), **extra, **ctx)


def _with_rubric(p: Principal, summary: dict[str, Any]) -> bool:
    """Staff work on the rubric of every assessment; the vendor on that of its self-assessments."""
    return sees_all_entities(p.role) or summary["stage"] != "evaluator"


@router.get("/vendors/{vendor_id}/assessments/{assessment_id}", response_class=HTMLResponse)
def assessment_page(request: Request, vendor_id: str, assessment_id: Id, p: Reader, part: str = "") -> Response:
    """The page; ``?part=rating``: only its rating panel (what the page's script redraws after a change)."""
    if part == "rating":
        summary = _visible(request, p, vendor_id, assessment_id)
        return render(request, "vendor_rating.html.j2", rating=va.current_rating(workspace(request), assessment_id),
                      with_rubric=_with_rubric(p, summary))
    return _assessment_page(request, p, vendor_id, assessment_id)


def change_text(old: Any, new: Any) -> str:
    """A history entry's old → new as one line: the fields that changed (``step: 2 → 3``), or what was added."""
    def show(v: Any) -> str:
        return "—" if v is None else (f"{v:g}" if isinstance(v, float) else str(v))

    old, new = old or {}, new or {}
    keys = [k for k in dict.fromkeys([*old, *new]) if k != "id" and old.get(k) != new.get(k)]
    if not old or not new:
        return ", ".join(f"{k}: {show((new or old).get(k))}" for k in keys)
    return ", ".join(f"{k}: {show(old.get(k))} → {show(new.get(k))}" for k in keys)


def _answers_from_form(form: Any) -> tuple[list[dict[str, Any]], dict[str, dict[str, str]]]:
    """The form's fields ``step:C1.1.1``, ``value:…``, ``ref:…``, ``note:…`` as answers (every indicator shown
    in the form, so an emptied one is removed), and what was typed (to show again when refused)."""
    typed: dict[str, dict[str, str]] = {}
    for key, value in form.multi_items():
        kind, _, code = key.partition(":")
        if kind in ("step", "value", "ref", "note") and code and isinstance(value, str):
            typed.setdefault(code, {})[kind] = value
    answers = [{"indicator": code, "step": _step(t.get("step")), "value": (t.get("value") or "").strip() or None,
                "evidence_ref": t.get("ref"), "note": t.get("note")} for code, t in typed.items()]
    return answers, typed


def _step(text: str | None) -> Any:
    s = (text or "").strip()
    return None if not s else (int(s) if s.lstrip("-").isdigit() else s)


@router.post("/vendors/{vendor_id}/assessments/{assessment_id}/answers", response_class=HTMLResponse)
async def answers_form(request: Request, vendor_id: str, assessment_id: Id, p: Answerer) -> Response:
    _visible(request, p, vendor_id, assessment_id)
    answers, typed = _answers_from_form(await request.form())
    try:
        va.save_answers(workspace(request), assessment_id, answers, who=p.email, as_vendor=as_vendor(p))
    except DataError as exc:
        by_code: dict[str, list[str]] = {}
        for pr in exc.problems:
            by_code.setdefault(str(pr.where.get("indicator") or ""), []).append(pr.message)
        status = _conflict_or(422, exc)
        return _assessment_page(request, p, vendor_id, assessment_id, status, typed=typed, field_errors=by_code,
                                error="; ".join(pr.message for pr in exc.problems[:5]))
    return RedirectResponse(f"/vendors/{vendor_id}/assessments/{assessment_id}?saved=1", status_code=303)


@router.post("/vendors/{vendor_id}/assessments/{assessment_id}/evidence", response_class=HTMLResponse)
async def evidence_form(request: Request, vendor_id: str, assessment_id: Id, p: Answerer) -> Response:
    _visible(request, p, vendor_id, assessment_id)
    form = await request.form()
    indicator, upload = str(form.get("indicator") or ""), form.get("file")
    data = b""
    name = ""
    if isinstance(upload, UploadFile):
        from .vendors import read_limited

        name = upload.filename or ""
        try:
            data = await read_limited(upload)
        except ApiProblem as exc:
            return _assessment_page(request, p, vendor_id, assessment_id, exc.status, error=exc.detail,
                                    field_errors={indicator: [exc.detail]})
    try:
        va.add_evidence(workspace(request), assessment_id, indicator, name, data, who=p.email, as_vendor=as_vendor(p))
    except DataError as exc:
        msgs = [pr.message for pr in exc.problems]
        return _assessment_page(request, p, vendor_id, assessment_id, _conflict_or(422, exc), error="; ".join(msgs),
                                field_errors={indicator: msgs})
    return RedirectResponse(f"/vendors/{vendor_id}/assessments/{assessment_id}#{indicator}", status_code=303)


@router.post("/vendors/{vendor_id}/assessments/{assessment_id}/evidence/{evidence_id}/withdraw",
             response_class=HTMLResponse)
def withdraw_form(request: Request, vendor_id: str, assessment_id: Id, evidence_id: Id, p: Answerer) -> Response:
    _visible(request, p, vendor_id, assessment_id)
    try:
        e = va.withdraw_evidence(workspace(request), assessment_id, evidence_id, who=p.email, as_vendor=as_vendor(p))
    except DataError as exc:
        if exc.problems[0].rule == "evidence.which":
            raise page_not_found() from None
        return _assessment_page(request, p, vendor_id, assessment_id, 409, error=exc.problems[0].text(language(request)))
    return RedirectResponse(f"/vendors/{vendor_id}/assessments/{assessment_id}#{e['indicator']}", status_code=303)


@router.post("/vendors/{vendor_id}/assessments/{assessment_id}/publish", response_class=HTMLResponse)
def publish_form(request: Request, vendor_id: str, assessment_id: Id, p: Rater) -> Response:
    return _act(request, p, vendor_id, assessment_id, lambda ws: va.publish_assessment(ws, assessment_id, who=p.email),
               lambda _exc: 409)


#: The rules of a refused change that are a conflict with the assessment's state (409), not bad input.
CONFLICTS = frozenset({"assessment.published", "assessment.submitted", "assessment.stage", "assessment.with_vendor",
                       "assessment.empty", "assessment.not_open", "evidence.not_yours"})


def _conflict_or(status: int, exc: DataError) -> int:
    return 409 if exc.problems and exc.problems[0].rule in CONFLICTS else status


def _act(request: Request, p: Principal, vendor_id: str, assessment_id: int, act: Callable[[Any], Any],
          status: Callable[[DataError], int]) -> Response:
    """A step of an assessment taken from its page (publish, submit, return): done, back to the page (303);
    refused, the page with the reason in the page's language and ``status(error)``."""
    _visible(request, p, vendor_id, assessment_id)
    try:
        act(workspace(request))
    except DataError as exc:
        return _assessment_page(request, p, vendor_id, assessment_id, status(exc),
                                error=exc.problems[0].text(language(request)))
    return RedirectResponse(f"/vendors/{vendor_id}/assessments/{assessment_id}", status_code=303)


@router.post("/vendors/{vendor_id}/assessments/{assessment_id}/submit", response_class=HTMLResponse)
def submit_form(request: Request, vendor_id: str, assessment_id: Id, p: Submitter) -> Response:
    """The vendor hands its self-assessment to the evaluator."""
    return _act(request, p, vendor_id, assessment_id,
                lambda ws: vsa.submit_self_assessment(ws, assessment_id, who=p.email), partial(_conflict_or, 422))


@router.post("/vendors/{vendor_id}/assessments/{assessment_id}/return", response_class=HTMLResponse)
def return_form(request: Request, vendor_id: str, assessment_id: Id, p: Rater,
                note: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """The evaluator gives a submitted self-assessment back to the vendor, with a note."""
    return _act(request, p, vendor_id, assessment_id,
                lambda ws: vsa.return_to_vendor(ws, assessment_id, who=p.email, note=note), partial(_conflict_or, 422))
