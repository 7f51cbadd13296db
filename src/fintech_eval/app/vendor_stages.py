"""Who holds a draft vendor assessment: the certification centre's evaluator alone, the vendor filling its own
self-assessment, or the evaluator reviewing what the vendor submitted.

The evaluator opens the assessment (it chooses the framework, the model and the round, as a certification
centre does for an application) either for itself or as the vendor's **self-assessment**; the vendor's
submitters then answer the rubric and upload evidence, and **submit** it; the evaluator reviews it (its changes
are recorded in the history like any other), **returns** it to the vendor with a note or publishes it.

No column holds this (migration 0011 gives ``vendor_assessment.status`` the values ``draft`` and ``published``
only): the **stage** of a draft is the last hand-over in its history (``vendor_assessment_event.action``,
one of :data:`HANDOVERS`), ``evaluator`` when there is none. A published assessment keeps the stage it was
published in (a self-assessment stays visible to its vendor as such).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import DataError
from ..store.models import VendorAssessment, VendorAssessmentEvent

#: The stages of a draft: the evaluator's alone; the vendor's self-assessment while it fills it; submitted by
#: the vendor, with the evaluator.
STAGES: tuple[str, ...] = ("evaluator", "self_assessment", "submitted")


@dataclass(frozen=True)
class Handover:
    """A change of hands: the history action that records it, the stages it may start from, the stage it leads
    to, the audit-log action, and whose act it is (``staff`` or ``vendor``)."""

    action: str
    from_stages: tuple[str, ...]
    to: str
    audit: str
    by: str


HANDOVERS: dict[str, Handover] = {h.action: h for h in (
    Handover("vendor.open", ("evaluator",), "self_assessment", "vendor_assessment.open_to_vendor", "staff"),
    Handover("vendor.submit", ("self_assessment",), "submitted", "vendor_assessment.submit", "vendor"),
    Handover("vendor.return", ("submitted",), "self_assessment", "vendor_assessment.return", "staff"),
)}  # fmt: skip


class StageError(DataError):
    """A change the assessment's stage does not allow (answers 409)."""


def stages(s: Session, ids: Iterable[int]) -> dict[int, str]:
    """The stage of each assessment: its last hand-over, else ``evaluator``."""
    ids = list(ids)
    out = dict.fromkeys(ids, "evaluator")
    if ids:
        rows = s.execute(select(VendorAssessmentEvent.assessment_id, VendorAssessmentEvent.action).where(
            VendorAssessmentEvent.assessment_id.in_(ids), VendorAssessmentEvent.action.in_(list(HANDOVERS)))
            .order_by(VendorAssessmentEvent.id))
        for aid, action in rows:
            out[aid] = HANDOVERS[action].to
    return out


def stage_of(s: Session, a: VendorAssessment) -> str:
    return stages(s, [a.id])[a.id]


def check_handover(stage: str, action: str, a: VendorAssessment) -> Handover:
    """The hand-over ``action`` if the stage allows it, else a StageError naming the stage."""
    h = HANDOVERS[action]
    if stage not in h.from_stages:
        raise StageError(f"assessment {a.id} is at stage {stage!r}: {action} needs {' or '.join(h.from_stages)}",
                         rule="assessment.stage", assessment=a.id, stage=stage,
                         zh=f"评估 {a.id} 当前处于 {stage!r} 阶段：{action} 操作仅适用于 {' 或 '.join(h.from_stages)} 阶段")
    return h


def check_vendor_may_change(s: Session, a: VendorAssessment) -> None:
    """A vendor changes answers and evidence of its self-assessment only while it fills it: not once submitted
    (until the evaluator returns it), not an assessment the evaluator keeps to itself."""
    stage = stage_of(s, a)
    if stage == "submitted":
        raise StageError(f"assessment {a.id} was submitted to the evaluator: its answers and evidence change again "
                         "only if the evaluator returns it", rule="assessment.submitted", assessment=a.id,
                         zh=f"评估 {a.id} 已提交给评价人员：只有评价人员退回后，其答复和证据才能再次修改")
    if stage != "self_assessment":
        raise StageError(f"assessment {a.id} is not open to the vendor", rule="assessment.not_open", assessment=a.id,
                         zh=f"评估 {a.id} 未向服务商开放")


def check_may_publish(s: Session, a: VendorAssessment) -> None:
    """The evaluator publishes an assessment it holds, never a self-assessment the vendor is still filling."""
    if stage_of(s, a) == "self_assessment":
        raise StageError(f"assessment {a.id} is the vendor's self-assessment and the vendor has not submitted it "
                         "yet: it can be published once submitted", rule="assessment.with_vendor", assessment=a.id,
                         zh=f"评估 {a.id} 是服务商的自评，服务商尚未提交：提交后才能发布")
