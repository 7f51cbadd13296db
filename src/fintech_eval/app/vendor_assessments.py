"""Vendor capability assessments: a certification centre's evaluator rates a vendor indicator by indicator.

An **assessment** is one vendor rated under one evaluation model (``comprehensive`` or ``innovation`` of the
capability framework, default ``fcsc-2023-default``) in one ``round`` (e.g. ``2026``). It collects, per
indicator that applies to the vendor's provider type, the evaluator's **answer** (the rubric step, or the
quantitative value the thresholds map to a step; a reference to evidence held elsewhere; a note) and
**evidence files** (kept byte for byte with their SHA-256; size and type checked from the bytes). Every change
is in the assessment's history (who, when, what: old → new) and in the platform's audit log.

The rating is never computed here: :func:`rate_assessment` turns the stored answers into the score entries of
:func:`fintech_eval.capability.rate_vendor` (indicator, step or value, evidence reference: the uploaded
files and the written reference, reviewer: who answered, date, comment) and calls it: the same rubric, evidence
rule, level determination, reason why not the next level and smallest improvement plan as ``fintech-eval rate``.

``draft → published``: :func:`publish_assessment` freezes the rating as computed (the JSON of
:meth:`~fintech_eval.capability.Rating.to_dict`, with the per-indicator steps); afterwards nothing about the
assessment changes (``assessment.published``), and the vendor's own submitters see the published rating.

A draft may be the vendor's **self-assessment** (``create_assessment(…, self_assessment=True)``): the vendor's
submitters answer and upload evidence (``as_vendor=True``) until they submit it; who holds a draft is its
**stage** (:mod:`fintech_eval.app.vendor_stages`; the hand-overs are :mod:`fintech_eval.app.vendor_self_assessment`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import math
import os
import zipfile
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..capability.loader import DEFAULT_FRAMEWORK, load_capability_framework, shipped_files
from ..capability.models import CapabilityFramework
from ..capability.rating import Rating, Vendor, rate_vendor, read_entries
from ..capability.workbook import template_indicators
from ..collect.texts import text_rule
from ..errors import DataError, Problem, closest, shown
from ..store.models import (
    VendorAnswer,
    VendorAssessment,
    VendorAssessmentEvent,
    VendorEvidence,
    utcnow,
)
from .audit import audit
from .registers import register_entry
from .tx import writing
from .vendor_stages import check_may_publish, check_vendor_may_change, stages
from .workspace import Workspace

#: The largest evidence file accepted, in MB (``$FINTECH_EVAL_MAX_EVIDENCE_MB``, default 20).
DEFAULT_MAX_EVIDENCE_MB = 20
NOTE_LIMIT = 2000
ROUND_LIMIT = 32
REF_LIMIT = 200

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _zip_with(member_prefix: str):
    def check(data: bytes) -> bool:
        if not data.startswith(b"PK\x03\x04"):
            return False
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                return any(n.startswith(member_prefix) for n in z.namelist())
        except zipfile.BadZipFile:
            return False
    return check


def _text(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in data


#: The evidence a file may be, by its extension: the media type stored and served, and the check of its bytes
#: (a file whose bytes are not what its name says is refused: the type is never taken from the client).
EVIDENCE_TYPES: dict[str, tuple[str, Any]] = {
    ".pdf": ("application/pdf", lambda b: b.startswith(b"%PDF-")),
    ".png": ("image/png", lambda b: b.startswith(b"\x89PNG\r\n\x1a\n")),
    ".jpg": ("image/jpeg", lambda b: b.startswith(b"\xff\xd8\xff")),
    ".jpeg": ("image/jpeg", lambda b: b.startswith(b"\xff\xd8\xff")),
    ".xlsx": (XLSX, _zip_with("xl/")),
    ".docx": (DOCX, _zip_with("word/")),
    ".txt": ("text/plain; charset=utf-8", _text),
    ".csv": ("text/csv; charset=utf-8", _text),
}


def max_evidence_bytes() -> int:
    raw = os.environ.get("FINTECH_EVAL_MAX_EVIDENCE_MB", str(DEFAULT_MAX_EVIDENCE_MB))
    try:
        mb = float(raw)
    except ValueError:
        mb = DEFAULT_MAX_EVIDENCE_MB
    return int(mb * 1024 * 1024)


class AssessmentError(DataError):
    """An assessment that does not exist, or a change its state does not allow."""


# ------------------------------------------------------------------------------------------------ helpers
def _framework(fid: str) -> CapabilityFramework:
    return load_capability_framework(fid)


def assessed_indicators(fw: CapabilityFramework, model: str, provider_type: str) -> list[str]:
    """The indicators an assessment under ``model`` answers: those the model uses or names in a mandatory
    requirement, that apply to the provider type (the rubric shows these; answers and evidence name these)."""
    used = set(fw.model_indicators(model)) | {r.indicator for r in fw.requirements(model)}
    return [c for c in template_indicators(fw, provider_type) if c in used]


def _get(s: Session, assessment_id: int, *, lock: bool = False) -> VendorAssessment:
    stmt = select(VendorAssessment).where(VendorAssessment.id == assessment_id)
    if lock:
        stmt = stmt.with_for_update()
    a = s.execute(stmt.execution_options(populate_existing=True)).scalar_one_or_none()
    if a is None:
        raise AssessmentError(f"no vendor assessment {assessment_id}", rule="assessment.which",
                              assessment=assessment_id, zh=f"服务商评估 {assessment_id} 不存在")
    return a


def _draft(a: VendorAssessment) -> None:
    if a.status != "draft":
        raise AssessmentError(f"assessment {a.id} was published on {a.published_at:%Y-%m-%d} by {a.published_by}: "
                              "its answers, evidence and rating no longer change (open a new round to rate again)",
                              rule="assessment.published", assessment=a.id,
                              zh=f"评估 {a.id} 已于 {a.published_at:%Y-%m-%d} 由 {a.published_by} 发布：其答复、证据和评级"
                              "不再更改（如需重新评级，请开启新一轮评估）")


def _event(s: Session, a: VendorAssessment, who: str, action: str, indicator: str | None = None,
           old: Any = None, new: Any = None) -> None:
    s.add(VendorAssessmentEvent(assessment_id=a.id, at=utcnow(), who=who, action=action, indicator=indicator,
                                old=old, new=new))
    a.updated_by, a.updated_at = who, utcnow()


def _iso(x: Any) -> str | None:
    return x.isoformat() if x is not None else None


def _summary(a: VendorAssessment, vendor: Mapping[str, Any] | None = None, counts: Mapping[str, int] | None = None,
             stage: str = "evaluator") -> dict[str, Any]:
    fw = _framework(a.framework)
    model = fw.model(a.model)
    out = {
        "id": a.id, "vendor": a.vendor_id, "vendor_name_zh": (vendor or {}).get("name_zh"),
        "vendor_name_en": (vendor or {}).get("name_en"), "provider_type": a.provider_type,
        "framework": a.framework, "framework_version": a.framework_version, "model": a.model,
        "model_name_zh": model.name.zh, "model_name_en": model.name.en or model.name.zh, "round": a.round,
        "status": a.status, "stage": stage, "level": a.level, "total": a.total,
        "level_name_zh": fw.level(a.level).name.zh if a.level else None,
        "level_name_en": fw.level(a.level).name.en if a.level else None,
        "created_by": a.created_by, "created_at": _iso(a.created_at), "updated_by": a.updated_by,
        "updated_at": _iso(a.updated_at), "published_by": a.published_by, "published_at": _iso(a.published_at),
    }
    if counts is not None:
        out.update(answered=int(counts.get("answered", 0)), evidence=int(counts.get("evidence", 0)))
    return out


#: the Chinese name of each text field :func:`_check_text` checks
_FIELD_ZH = {"round": "轮次", "note": "说明", "evidence_ref": "证据编号"}


def _check_text(value: str | None, field: str, limit: int, *, lines: bool = False) -> list[Problem]:
    if value is None:
        return []
    hit = text_rule(value.replace("\n", " ") if lines else value, limit)
    return [Problem(hit[0], f"{field} {shown(value)} {hit[1]}", {"field": field},
                    message_zh=f"{_FIELD_ZH[field]}（{field}）{shown(value, lang='zh')} {hit[2]}")] if hit else []


# ------------------------------------------------------------------------------------------------ create, read
def create_assessment(ws: Workspace, vendor_id: str, *, model: str = "comprehensive", round: str,  # noqa: A002
                      framework: str = DEFAULT_FRAMEWORK, who: str = "cli", self_assessment: bool = False
                      ) -> dict[str, Any]:
    """Open a draft assessment of a registered vendor under ``model`` for ``round``; one per vendor, framework,
    model and round (``assessment.exists`` otherwise). ``self_assessment``: handed to the vendor at once, for its
    submitters to fill and submit (stage ``self_assessment``)."""
    vendor = register_entry(ws, "vendors", vendor_id)
    if framework not in shipped_files():  # stored by id: it must load again by id
        raise DataError(f"unknown capability framework {shown(framework)}; available: {', '.join(shipped_files())}",
                        rule="assessment.framework", field="framework",
                        zh=f"未知的能力框架 {shown(framework, lang='zh')}；可用：{', '.join(shipped_files())}")
    fw = _framework(framework)
    models = [m.id for m in fw.models]
    problems: list[Problem] = []
    if model not in models:
        hint = closest(model, models)
        problems.append(Problem("assessment.model", f"unknown model {shown(model)}; {fw.id} has {', '.join(models)}"
                                + (f" (did you mean {hint!r}?)" if hint else ""), {"field": "model"},
                                message_zh=f"未知模型 {shown(model, lang='zh')}；{fw.id} 的模型有 {', '.join(models)}"
                                + (f"（是否应为 {hint!r}？）" if hint else "")))
    rnd = (round or "").strip()
    if not rnd:
        problems.append(Problem("assessment.round", "give the round (e.g. 2026)", {"field": "round"},
                                message_zh="请填写评价轮次（如 2026）"))
    problems += _check_text(rnd, "round", ROUND_LIMIT)
    if vendor["provider_type"] not in [p.code for p in fw.provider_types]:
        problems.append(Problem("vendor.provider_type", f"vendor {vendor_id} is a {vendor['provider_type']!r} provider, "
                                f"which {fw.id} does not rate", {"entity": vendor_id},
                                message_zh=f"服务商 {vendor_id} 的服务商类型为 {vendor['provider_type']!r}，"
                                f"{fw.id} 不对该类型评级"))
    if problems:
        raise DataError(problems)
    try:
        with writing(ws) as s:
            a = VendorAssessment(vendor_id=vendor["id"], framework=fw.id, framework_version=fw.version, model=model,
                                 round=rnd, provider_type=vendor["provider_type"], status="draft", created_by=who,
                                 created_at=utcnow(), updated_by=who, updated_at=utcnow())
            s.add(a)
            s.flush()
            _event(s, a, who, "create", new={"vendor": a.vendor_id, "model": model, "round": rnd,
                                             "framework": f"{fw.id}@{fw.version}"})
            audit(None, who, "vendor_assessment.create", f"vendor_assessment:{a.id}",
                  {"vendor": a.vendor_id, "model": model, "round": rnd}, session=s)
            if self_assessment:
                from .vendor_self_assessment import hand_over

                hand_over(s, a, "vendor.open", who)
            aid = a.id
    except IntegrityError:
        raise AssessmentError(f"vendor {vendor_id} already has a {model} assessment for round {rnd} under {fw.id}",
                              rule="assessment.exists", entity=vendor_id,
                              zh=f"服务商 {vendor_id} 在 {fw.id} 下已有 {rnd} 轮次的 {model} 模型评估") from None
    return assessment_summary(ws, aid)


def _counts(s: Session, ids: list[int]) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = {i: {} for i in ids}
    if not ids:
        return out
    answered = select(VendorAnswer.assessment_id, func.count()).where(
        VendorAnswer.assessment_id.in_(ids), (VendorAnswer.step.is_not(None)) | (VendorAnswer.value.is_not(None))
    ).group_by(VendorAnswer.assessment_id)
    files = select(VendorEvidence.assessment_id, func.count()).where(
        VendorEvidence.assessment_id.in_(ids), VendorEvidence.withdrawn_at.is_(None)).group_by(VendorEvidence.assessment_id)
    for aid, n in s.execute(answered):
        out[aid]["answered"] = n
    for aid, n in s.execute(files):
        out[aid]["evidence"] = n
    return out


def list_assessments(ws: Workspace, *, vendors: Iterable[str] | None = None, published_only: bool = False,
                     for_vendor: bool = False) -> list[dict[str, Any]]:
    """Assessments (newest round first), of ``vendors`` only when given, published ones only if asked;
    ``for_vendor``: what the vendor's own submitters see (published ones and its self-assessments)."""
    from .registers import register_frame

    stmt = select(VendorAssessment)
    if vendors is not None:
        stmt = stmt.where(VendorAssessment.vendor_id.in_(list(vendors)))
    if published_only:
        stmt = stmt.where(VendorAssessment.status == "published")
    names = {r["id"]: r for r in register_frame(ws, "vendors").to_dict("records")}
    with ws.sessions() as s:
        rows = s.execute(stmt.order_by(VendorAssessment.vendor_id, VendorAssessment.round.desc(),
                                       VendorAssessment.id)).scalars().all()
        counts = _counts(s, [a.id for a in rows])
        stage = stages(s, [a.id for a in rows])
        return [_summary(a, names.get(a.vendor_id), counts[a.id], stage[a.id]) for a in rows
                if not for_vendor or a.status == "published" or stage[a.id] != "evaluator"]


def vendors_overview(ws: Workspace, *, vendors: Iterable[str] | None = None, published_only: bool = False,
                     for_vendor: bool = False) -> list[dict[str, Any]]:
    """Every registered vendor (or those of ``vendors``) with its assessments (``for_vendor``: as
    :func:`list_assessments`)."""
    from .registers import register_frame

    df = register_frame(ws, "vendors")
    if vendors is not None:
        df = df[df["id"].isin(list(vendors))]
    by_vendor: dict[str, list[dict[str, Any]]] = {}
    for a in list_assessments(ws, vendors=df["id"].tolist(), published_only=published_only, for_vendor=for_vendor):
        by_vendor.setdefault(a["vendor"], []).append(a)
    return [{"id": r["id"], "name_zh": r["name_zh"], "name_en": None if pd.isna(r["name_en"]) else r["name_en"],
             "provider_type": r["provider_type"], "assessments": by_vendor.get(r["id"], [])}
            for r in df.to_dict("records")]


def assessment_summary(ws: Workspace, assessment_id: int) -> dict[str, Any]:
    with ws.sessions() as s:
        a = _get(s, assessment_id)
        vendor = register_entry(ws, "vendors", a.vendor_id)
        return _summary(a, vendor, _counts(s, [a.id])[a.id], stages(s, [a.id])[a.id])


def _answer_dict(r: VendorAnswer) -> dict[str, Any]:
    return {"indicator": r.indicator, "step": r.step, "value": r.value, "evidence_ref": r.evidence_ref,
            "note": r.note, "updated_by": r.updated_by, "updated_at": _iso(r.updated_at)}


def _evidence_dict(e: VendorEvidence) -> dict[str, Any]:
    return {"id": e.id, "indicator": e.indicator, "file_name": e.file_name, "media_type": e.media_type,
            "sha256": e.sha256, "size": e.size, "uploaded_by": e.uploaded_by, "uploaded_at": _iso(e.uploaded_at),
            "withdrawn_by": e.withdrawn_by, "withdrawn_at": _iso(e.withdrawn_at)}


def assessment_detail(ws: Workspace, assessment_id: int) -> dict[str, Any]:
    """The assessment with its answers, evidence files (without their bytes) and history, oldest first."""
    with ws.sessions() as s:
        a = _get(s, assessment_id)
        vendor = register_entry(ws, "vendors", a.vendor_id)
        answers = s.execute(select(VendorAnswer).where(VendorAnswer.assessment_id == a.id)
                            .order_by(VendorAnswer.indicator)).scalars().all()
        files = s.execute(select(VendorEvidence).where(VendorEvidence.assessment_id == a.id)
                          .order_by(VendorEvidence.id)).scalars().all()
        events = s.execute(select(VendorAssessmentEvent).where(VendorAssessmentEvent.assessment_id == a.id)
                           .order_by(VendorAssessmentEvent.id)).scalars().all()
        return {**_summary(a, vendor, _counts(s, [a.id])[a.id], stages(s, [a.id])[a.id]),
                "answers": [_answer_dict(r) for r in answers],
                "evidence_files": [_evidence_dict(e) for e in files],
                "history": [{"at": _iso(e.at), "who": e.who, "action": e.action, "indicator": e.indicator,
                             "old": e.old, "new": e.new} for e in events]}


def rubric(ws: Workspace, assessment_id: int) -> list[dict[str, Any]]:
    """What the evaluator fills in: per capability (and element), the indicators that apply to the vendor's
    provider type, each with its steps (descriptor zh/en, score), how it is scored, the evidence it needs, the
    mandatory requirements it carries, whether the assessment's model uses it, and the current answer and files."""
    detail = assessment_detail(ws, assessment_id)
    fw = _framework(detail["framework"])
    codes = assessed_indicators(fw, detail["model"], detail["provider_type"])
    in_model = set(fw.model_indicators(detail["model"]))
    required = {r.indicator: r for r in fw.requirements(detail["model"])}
    answers = {r["indicator"]: r for r in detail["answers"]}
    files: dict[str, list[dict[str, Any]]] = {}
    for e in detail["evidence_files"]:
        if e["withdrawn_at"] is None:
            files.setdefault(e["indicator"], []).append(e)
    caps: dict[str, dict[str, Any]] = {}
    for code in codes:
        ind = fw.indicator(code)
        path = fw.path_of(code)
        cap = fw.node(path[0])
        el = fw.node(path[1]) if len(path) > 1 else None
        c = caps.setdefault(cap.code, {"code": cap.code, "name_zh": cap.name.zh, "name_en": cap.name.en or cap.name.zh,
                                       "elements": {}})
        ekey = el.code if el is not None else cap.code
        e = c["elements"].setdefault(ekey, {"code": ekey, "name_zh": (el or cap).name.zh,
                                            "name_en": (el or cap).name.en or (el or cap).name.zh, "indicators": []})
        sc = ind.scoring
        scores = fw.step_scores(code)
        e["indicators"].append({
            "code": code, "name_zh": ind.name.zh, "name_en": ind.name.en or ind.name.zh,
            "definition_zh": ind.definition.zh, "definition_en": ind.definition.en or ind.definition.zh,
            "scoring": sc.type, "unit_zh": sc.unit.zh if sc.unit else None, "unit_en": sc.unit.en if sc.unit else None,
            "steps": [{"step": st.step, "zh": st.descriptor.zh, "en": st.descriptor.en or st.descriptor.zh,
                       "score": round(scores[st.step], 4)} for st in fw.steps(code)],
            "evidence_required": [{"zh": t.zh, "en": t.en or t.zh} for t in ind.evidence],
            "mandatory": [{"level": m.level, "min_step": m.min_step} for m in ind.mandatory
                          if not m.models or detail["model"] in m.models] if code in required else [],
            "in_model": code in in_model,
            "answer": answers.get(code), "files": files.get(code, []),
        })
    return [{**c, "elements": list(c["elements"].values())} for c in caps.values()]


# ------------------------------------------------------------------------------------------------ answers
def save_answers(ws: Workspace, assessment_id: int, answers: list[Mapping[str, Any]], *, who: str = "cli",
                 at: dt.datetime | None = None, as_vendor: bool = False) -> dict[str, Any]:
    """Set the answers of some indicators (each replaces that indicator's answer; one with neither step,
    value, reference nor note removes it). All-or-nothing: every problem (unknown or not-applicable indicator,
    a step that is not one of its steps, a value for a rubric indicator or not a number, a step contradicting
    the value, a text too long) is reported at once, naming the answer's position and indicator, and nothing is
    stored. Returns how many answers changed.

    ``at``: when the answers were given, if not now (a review done on paper and typed in later, or the demo's
    synthetic review of 31 December): the answers carry it (the rating's per-indicator date); the history and
    the audit log record when they were stored. ``as_vendor``: the vendor answers its self-assessment (only
    while it fills it: :func:`~fintech_eval.app.vendor_stages.check_vendor_may_change`)."""
    with writing(ws) as s:
        a = _get(s, assessment_id, lock=True)
        _draft(a)
        if as_vendor:
            check_vendor_may_change(s, a)
        fw = _framework(a.framework)
        allowed = set(assessed_indicators(fw, a.model, a.provider_type))
        problems: list[Problem] = []
        rows = []
        seen: dict[str, int] = {}
        for n, raw in enumerate(answers, start=1):
            code = str(raw.get("indicator") or "").strip()
            where = {"row": n, "indicator": code or None}
            if code in seen:
                problems.append(Problem("scores.duplicate", f"indicator {code} is answered twice (first in answer "
                                        f"{seen[code]})", {**where, "field": "indicator"},
                                        message_zh=f"指标 {code} 被答复了两次（首次在第 {seen[code]} 条答复）"))
                continue
            seen[code] = n
            try:
                fw.indicator(code)
            except KeyError:
                pass  # named by read_entries with its did-you-mean
            else:
                if code not in allowed:
                    problems.append(Problem("answer.not_applicable", f"{code} does not apply to a {a.provider_type} "
                                            f"provider under the {a.model} model", {**where, "field": "indicator"},
                                            message_zh=f"在 {a.model} 模型下，{code} 不适用于 {a.provider_type} 类服务商"))
                    continue
            ref = raw.get("evidence_ref")
            ref = str(ref).strip() or None if ref is not None else None
            note = raw.get("note")
            note = str(note).replace("\r\n", "\n").strip() or None if note is not None else None
            for p in _check_text(ref, "evidence_ref", REF_LIMIT) + _check_text(note, "note", NOTE_LIMIT, lines=True):
                problems.append(Problem(p.rule, p.message, {**where, **p.where}, message_zh=p.message_zh))
            step, value = raw.get("step"), raw.get("value")
            rows.append({"indicator": code, "step": None if step in ("", None) else step,
                         "value": None if value in ("", None) else value, "evidence_ref": ref, "comment": note,
                         "row": n})
        entries = {}
        if rows:
            try:
                entries = read_entries(fw, pd.DataFrame(rows))
            except DataError as exc:
                problems += exc.problems
        if problems:
            problems.sort(key=lambda p: p.where.get("row") or 0)
            raise DataError(problems)
        changed = 0
        current = {r.indicator: r for r in s.execute(select(VendorAnswer).where(
            VendorAnswer.assessment_id == a.id, VendorAnswer.indicator.in_([r["indicator"] for r in rows]))).scalars()}
        for r in rows:
            code = r["indicator"]
            e = entries.get(code)
            new = {"step": None if r["step"] is None else int(float(r["step"])),
                   "value": None if e is None or e.value is None or math.isnan(e.value) else float(e.value),
                   "evidence_ref": r["evidence_ref"], "note": r["comment"]}
            old_row = current.get(code)
            old = None if old_row is None else {k: getattr(old_row, k) for k in new}
            if all(v is None for v in new.values()):
                if old_row is not None:
                    s.delete(old_row)
                    _event(s, a, who, "answer", code, old, None)
                    changed += 1
                continue
            if old == new:
                continue
            if old_row is None:
                s.add(VendorAnswer(assessment_id=a.id, indicator=code, updated_by=who, updated_at=at or utcnow(), **new))
            else:
                for k, v in new.items():
                    setattr(old_row, k, v)
                old_row.updated_by, old_row.updated_at = who, at or utcnow()
            _event(s, a, who, "answer", code, old, new)
            changed += 1
        if changed:
            audit(None, who, "vendor_assessment.answer", f"vendor_assessment:{a.id}",
                  {"indicators": [r["indicator"] for r in rows], "changed": changed}, session=s)
    return {"assessment": assessment_id, "changed": changed}


# ------------------------------------------------------------------------------------------------ evidence
def check_evidence(file_name: str, data: bytes, *, indicator: str | None = None) -> str:
    """The media type of an evidence file, or one DataError naming every rule it breaks: an empty or too large
    file, a name with control characters or too long, an extension not accepted, bytes that are not what the
    extension says."""
    where = {"file": file_name[:200], **({"indicator": indicator} if indicator else {})}
    name = file_name.strip()
    problems: list[Problem] = []
    hit = text_rule(name, 500)
    if hit or not name:
        problems.append(Problem("file.name", f"file name {shown(name)} {hit[1] if hit else 'is empty'}", where,
                                message_zh=f"文件名 {shown(name, lang='zh')} {hit[2] if hit else '为空'}"))
    ext = os.path.splitext(name)[1].lower()
    limit = max_evidence_bytes()
    if not data:
        problems.append(Problem("evidence.empty", "the file is empty", where, message_zh="文件为空"))
    elif len(data) > limit:
        problems.append(Problem("evidence.too_large", f"the file is {len(data):,} bytes, the limit is {limit:,} "
                                f"(FINTECH_EVAL_MAX_EVIDENCE_MB)", where,
                                message_zh=f"文件大小为 {len(data):,} 字节，上限为 {limit:,}（FINTECH_EVAL_MAX_EVIDENCE_MB）"))
    if ext not in EVIDENCE_TYPES:
        problems.append(Problem("evidence.type", f"{ext or 'a file without an extension'} is not accepted as evidence; "
                                f"accepted: {', '.join(EVIDENCE_TYPES)}", where,
                                message_zh=(f"扩展名为 {ext} 的文件" if ext else "无扩展名的文件")
                                + f"不能作为证据；可接受：{', '.join(EVIDENCE_TYPES)}"))
    elif data and not EVIDENCE_TYPES[ext][1](data):
        problems.append(Problem("evidence.content", f"the bytes of {shown(name)} are not a {ext[1:].upper()} file",
                                where, message_zh=f"{shown(name, lang='zh')} 的内容不是 {ext[1:].upper()} 文件"))
    if problems:
        raise DataError(problems)
    return EVIDENCE_TYPES[ext][0]


def add_evidence(ws: Workspace, assessment_id: int, indicator: str, file_name: str, data: bytes, *,
                 who: str = "cli", as_vendor: bool = False) -> dict[str, Any]:
    """Keep an evidence file for ``indicator`` byte for byte; the same bytes again for the same indicator are
    the same evidence (a withdrawn copy counts again). ``as_vendor``: as :func:`save_answers`."""
    media_type = check_evidence(file_name, data, indicator=indicator)
    sha = hashlib.sha256(data).hexdigest()
    with writing(ws) as s:
        a = _get(s, assessment_id, lock=True)
        _draft(a)
        if as_vendor:
            check_vendor_may_change(s, a)
        fw = _framework(a.framework)
        codes = assessed_indicators(fw, a.model, a.provider_type)
        if indicator not in codes:
            hint = closest(indicator, codes)
            raise DataError(f"{shown(indicator)} is not an indicator of this assessment (those of the {a.model} model "
                            f"that apply to a {a.provider_type} provider)" + (f"; did you mean {hint!r}?" if hint else ""),
                            rule="evidence.indicator", indicator=indicator, field="indicator",
                            zh=f"{shown(indicator, lang='zh')} 不是本评估的指标（本评估的指标为 {a.model} 模型中适用于 "
                            f"{a.provider_type} 类服务商的指标）" + (f"；是否应为 {hint!r}？" if hint else ""))
        found = s.execute(select(VendorEvidence).where(
            VendorEvidence.assessment_id == a.id, VendorEvidence.indicator == indicator,
            VendorEvidence.sha256 == sha)).scalar_one_or_none()
        if found is not None:
            if found.withdrawn_at is not None:
                found.withdrawn_at = found.withdrawn_by = None
                _event(s, a, who, "evidence.add", indicator, None, {"id": found.id, "file_name": found.file_name,
                                                                    "sha256": sha, "restored": True})
            return {**_evidence_dict(found), "stored": False}
        e = VendorEvidence(assessment_id=a.id, indicator=indicator, file_name=file_name.strip(), media_type=media_type,
                           sha256=sha, size=len(data), payload=data, uploaded_by=who, uploaded_at=utcnow())
        s.add(e)
        s.flush()
        _event(s, a, who, "evidence.add", indicator, None, {"id": e.id, "file_name": e.file_name, "sha256": sha,
                                                            "size": len(data)})
        audit(None, who, "vendor_assessment.evidence", f"vendor_assessment:{a.id}",
              {"indicator": indicator, "evidence": e.id, "sha256": sha, "size": len(data)}, session=s)
        return {**_evidence_dict(e), "stored": True}


def evidence_file(ws: Workspace, assessment_id: int, evidence_id: int) -> tuple[dict[str, Any], bytes]:
    """An evidence file's description and its bytes, exactly as uploaded."""
    with ws.sessions() as s:
        e = s.get(VendorEvidence, evidence_id)
        if e is None or e.assessment_id != assessment_id:
            raise AssessmentError(f"no evidence file {evidence_id} in assessment {assessment_id}",
                                  rule="evidence.which", assessment=assessment_id,
                                  zh=f"评估 {assessment_id} 中没有证据文件 {evidence_id}")
        return _evidence_dict(e), bytes(e.payload)


def withdraw_evidence(ws: Workspace, assessment_id: int, evidence_id: int, *, who: str = "cli",
                      as_vendor: bool = False) -> dict[str, Any]:
    """The file stops counting as evidence (it stays stored, and the history says who withdrew it).
    ``as_vendor``: as :func:`save_answers`, and only a file ``who`` uploaded (not the evaluator's)."""
    with writing(ws) as s:
        a = _get(s, assessment_id, lock=True)
        _draft(a)
        if as_vendor:
            check_vendor_may_change(s, a)
        e = s.get(VendorEvidence, evidence_id)
        if e is None or e.assessment_id != a.id:
            raise AssessmentError(f"no evidence file {evidence_id} in assessment {assessment_id}",
                                  rule="evidence.which", assessment=assessment_id,
                                  zh=f"评估 {assessment_id} 中没有证据文件 {evidence_id}")
        if as_vendor and e.uploaded_by != who:
            raise AssessmentError(f"evidence file {evidence_id} was uploaded by {e.uploaded_by}: the vendor withdraws "
                                  "only the files it uploaded", rule="evidence.not_yours", assessment=assessment_id,
                                  zh=f"证据文件 {evidence_id} 由 {e.uploaded_by} 上传：服务商只能撤回自己上传的文件")
        if e.withdrawn_at is None:
            e.withdrawn_by, e.withdrawn_at = who, utcnow()
            _event(s, a, who, "evidence.withdraw", e.indicator, {"id": e.id, "file_name": e.file_name}, None)
            audit(None, who, "vendor_assessment.evidence_withdraw", f"vendor_assessment:{a.id}",
                  {"indicator": e.indicator, "evidence": e.id}, session=s)
        return _evidence_dict(e)


# ------------------------------------------------------------------------------------------------ rating
def scores_frame(ws: Workspace, assessment_id: int) -> pd.DataFrame:
    """The stored answers as the score entries ``rate_vendor`` reads: the evidence reference names the written
    reference and every file that counts (name and the start of its SHA-256); the reviewer is who answered."""
    detail = assessment_detail(ws, assessment_id)
    files: dict[str, list[str]] = {}
    for e in detail["evidence_files"]:
        if e["withdrawn_at"] is None:
            files.setdefault(e["indicator"], []).append(f"{e['file_name']} (sha256 {e['sha256'][:12]})")
    rows = []
    for r in detail["answers"]:
        refs = ([r["evidence_ref"]] if r["evidence_ref"] else []) + files.pop(r["indicator"], [])
        rows.append({"indicator": r["indicator"], "step": r["step"], "value": r["value"],
                     "evidence_ref": "; ".join(refs) or None, "reviewer": r["updated_by"],
                     "date": (r["updated_at"] or "")[:10] or None, "comment": r["note"]})
    for code, refs in files.items():  # evidence uploaded before the step is chosen
        rows.append({"indicator": code, "step": None, "value": None, "evidence_ref": "; ".join(refs),
                     "reviewer": None, "date": None, "comment": None})
    return pd.DataFrame(rows, columns=["indicator", "step", "value", "evidence_ref", "reviewer", "date", "comment"])


def rate_assessment(ws: Workspace, assessment_id: int) -> Rating:
    """The rating of the assessment's answers now, by :func:`fintech_eval.capability.rate_vendor`."""
    summary = assessment_summary(ws, assessment_id)
    fw = _framework(summary["framework"])
    vendor = Vendor(summary["vendor"], summary["provider_type"], summary["vendor_name_zh"], summary["vendor_name_en"])
    return rate_vendor(fw, summary["model"], vendor, scores_frame(ws, assessment_id),
                       source=f"vendor assessment {assessment_id}")


def rating_view(r: Rating) -> dict[str, Any]:
    """A rating as JSON: :meth:`Rating.to_dict` and the step, score and evidence state of each indicator of the
    model that applies (what the vendor reads beside the level)."""
    ind = r.indicators
    rows = ind[ind["in_model"] & ind["applicable"]]

    def opt(x: Any) -> Any:
        return None if pd.isna(x) else int(x)

    return {**r.to_dict(), "indicators": [
        {"code": c, "name_zh": row["name_zh"], "name_en": row["name_en"], "capability": row["capability"],
         "step": int(row["step"]), "claimed_step": opt(row["claimed_step"]), "max_step": int(row["max_step"]),
         "score": round(float(row["score"]), 4), "capped": bool(row["capped"]), "entered": bool(row["entered"]),
         "effective_weight": round(float(row["effective_weight"]), 6)}
        for c, row in rows.iterrows()]}


def current_rating(ws: Workspace, assessment_id: int) -> dict[str, Any]:
    """The rating to show: the frozen one of a published assessment, else the one its answers give now."""
    with ws.sessions() as s:
        a = _get(s, assessment_id)
        if a.status == "published":
            return {**a.rating, "status": "published", "published_at": _iso(a.published_at),
                    "published_by": a.published_by}
    return {**rating_view(rate_assessment(ws, assessment_id)), "status": "draft", "published_at": None,
            "published_by": None}


def publish_assessment(ws: Workspace, assessment_id: int, *, who: str = "cli") -> dict[str, Any]:
    """Freeze the rating as its answers give it now and publish it (the vendor's submitters see it)."""
    with writing(ws) as s:
        a = _get(s, assessment_id, lock=True)  # answers change only under this lock: the rating is of what is stored
        _draft(a)
        check_may_publish(s, a)
        rating = rating_view(rate_assessment(ws, assessment_id))
        now = utcnow()
        a.status, a.published_by, a.published_at = "published", who, now
        a.level = rating["level"]
        a.total = rating["total"]
        a.rating = rating
        _event(s, a, who, "publish", None, {"status": "draft"},
               {"status": "published", "level": rating["level"], "total": rating["total"]})
        audit(None, who, "vendor_assessment.publish", f"vendor_assessment:{a.id}",
              {"vendor": a.vendor_id, "model": a.model, "round": a.round, "level": rating["level"],
               "total": rating["total"]}, session=s)
    return current_rating(ws, assessment_id)
