"""A vendor's self-assessment changing hands: the evaluator opens it for the vendor (``create_assessment(…,
self_assessment=True)``), the vendor's submitter submits it (:func:`submit_self_assessment`), the evaluator
returns it with a note (:func:`return_to_vendor`) or publishes it (``publish_assessment``).

Why the evaluator opens it and not the vendor: the certification centre decides the framework, the model and
the round of an evaluation (the vendor applies for one), and one assessment exists per vendor, model and round;
a vendor opening rounds of its own would take the key the centre means to use.

Each hand-over is one entry of the assessment's history (its stage: :mod:`fintech_eval.app.vendor_stages`)
and of the audit log, written in the transaction that checks it, under the assessment's lock."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy.orm import Session

from ..store.models import VendorAssessment
from .audit import audit
from .tx import writing
from .vendor_assessments import (
    NOTE_LIMIT,
    _check_text,
    _counts,
    _draft,
    _event,
    _get,
    assessment_summary,
    rate_assessment,
)
from .vendor_stages import StageError, check_handover, stage_of
from .workspace import Workspace


def hand_over(s: Session, a: VendorAssessment, action: str, who: str, detail: dict[str, Any] | None = None) -> None:
    """Record the hand-over ``action`` (one of :data:`~fintech_eval.app.vendor_stages.HANDOVERS`) of the locked
    assessment ``a`` if its stage allows it: history (old → new stage, with ``detail``) and audit log."""
    stage = stage_of(s, a)
    h = check_handover(stage, action, a)
    _event(s, a, who, action, None, {"stage": stage}, {"stage": h.to, **(detail or {})})
    audit(None, who, h.audit, f"vendor_assessment:{a.id}", {"vendor": a.vendor_id, "stage": h.to, **(detail or {})},
          session=s)


def submit_self_assessment(ws: Workspace, assessment_id: int, *, who: str) -> dict[str, Any]:
    """The vendor hands its self-assessment to the evaluator: from then on it reads it (answers, evidence, live
    level) but changes nothing unless the evaluator returns it. The history keeps what was submitted: how many
    indicators were answered and evidenced, and the level and total they gave at that moment."""
    with writing(ws) as s:
        a = _get(s, assessment_id, lock=True)
        _draft(a)
        check_handover(stage_of(s, a), "vendor.submit", a)
        counts = _counts(s, [a.id])[a.id]
        if not counts.get("answered"):
            raise StageError(f"assessment {a.id} has no answer yet: answer the indicators before submitting",
                             rule="assessment.empty", assessment=a.id, zh=f"评估 {a.id} 尚无任何答复：请先答复指标再提交")
        r = rate_assessment(ws, assessment_id)
        hand_over(s, a, "vendor.submit", who, {"answered": int(counts.get("answered", 0)),
                                                "evidence": int(counts.get("evidence", 0)), "level": r.level,
                                                "total": None if math.isnan(r.total) else round(r.total, 4)})
    return assessment_summary(ws, assessment_id)


def return_to_vendor(ws: Workspace, assessment_id: int, *, who: str, note: str | None = None) -> dict[str, Any]:
    """The evaluator gives a submitted self-assessment back to the vendor, with a note saying what to change."""
    note = (note or "").replace("\r\n", "\n").strip() or None
    problems = _check_text(note, "note", NOTE_LIMIT, lines=True)
    if problems:
        raise StageError(problems)
    with writing(ws) as s:
        a = _get(s, assessment_id, lock=True)
        _draft(a)
        hand_over(s, a, "vendor.return", who, {"note": note})
    return assessment_summary(ws, assessment_id)
