"""The API models of vendor assessments (``/api/v1/vendors``): what an evaluator sends (strict, no unknown
fields) and what a rating looks like (:func:`fintech_eval.app.vendor_assessments.rating_view`)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .schemas import Out, Request


class AssessmentCreate(Request):
    model: str = Field("comprehensive", min_length=1, max_length=32, description="comprehensive or innovation.")
    round: str = Field(min_length=1, max_length=32, examples=["2026"])
    framework: str = Field("fcsc-2023-default", min_length=1, max_length=64)
    self_assessment: bool = Field(False, description="Hand it to the vendor's submitters to fill and submit first.")


class ReturnIn(Request):
    note: str | None = Field(None, max_length=2000, description="What the vendor should change.")


class AnswerIn(Request):
    indicator: str = Field(min_length=1, max_length=32, examples=["C1.2.1"])
    step: int | None = Field(None, ge=-1000, le=1000, description="The rubric step chosen.")
    value: float | None = Field(None, ge=-1e15, le=1e15, description="A quantitative indicator's value (its unit).")
    evidence_ref: str | None = Field(None, max_length=200, description="A reference to evidence held elsewhere.")
    note: str | None = Field(None, max_length=2000)


class AnswersIn(Request):
    answers: list[AnswerIn] = Field(min_length=1, max_length=500,
                                    description="Each replaces that indicator's answer; all empty removes it.")


class AssessmentOut(Out):
    id: int
    vendor: str
    vendor_name_zh: str | None
    vendor_name_en: str | None
    provider_type: str
    framework: str
    framework_version: str
    model: str
    model_name_zh: str
    model_name_en: str
    round: str
    status: str
    stage: str = Field(description="Who holds a draft: evaluator, self_assessment (the vendor fills it) or submitted.")
    level: int | None
    level_name_zh: str | None
    level_name_en: str | None
    total: float | None
    created_by: str
    created_at: str
    updated_by: str
    updated_at: str
    published_by: str | None
    published_at: str | None
    answered: int
    evidence: int


class AnswerOut(Out):
    indicator: str
    step: int | None
    value: float | None
    evidence_ref: str | None
    note: str | None
    updated_by: str
    updated_at: str | None


class EvidenceOut(Out):
    id: int
    indicator: str
    file_name: str
    media_type: str
    sha256: str
    size: int
    uploaded_by: str
    uploaded_at: str | None
    withdrawn_by: str | None
    withdrawn_at: str | None


class EventOut(Out):
    at: str | None
    who: str
    action: str
    indicator: str | None
    old: Any
    new: Any


class AssessmentDetail(AssessmentOut):
    """With the answers, evidence files and history for staff and, of its self-assessments, for the vendor's
    submitter (null otherwise)."""

    answers: list[AnswerOut] | None
    evidence_files: list[EvidenceOut] | None
    history: list[EventOut] | None


class VendorOverview(Out):
    id: str
    name_zh: str
    name_en: str | None
    provider_type: str
    assessments: list[AssessmentOut]


class CapabilityScore(Out):
    code: str
    name_zh: str
    name_en: str
    score: float | None
    weight: float
    effective_weight: float


class RequirementOut(Out):
    code: str
    indicator: str
    level: int
    min_step: int
    step: int
    met: bool


class PlanItemOut(Out):
    indicator: str
    from_step: int
    to_step: int
    reason: str
    gain: float
    requirements: list[str]
    evidence_only: bool


class PlanOut(Out):
    target_level: int | None
    feasible: bool
    total_steps: int
    score_after: float | None
    items: list[PlanItemOut]
    method: str


class NoteOut(Out):
    kind: str
    zh: str
    en: str
    codes: list[str]


class IndicatorScore(Out):
    code: str
    name_zh: str
    name_en: str
    capability: str
    step: int
    claimed_step: int | None
    max_step: int
    score: float
    capped: bool
    entered: bool
    effective_weight: float


class RatingOut(Out):
    """The level, why not the next one (``explanation``, ``blocking``, ``score_gap``) and the smallest
    improvement plan, as ``fintech-eval rate`` computes them; frozen once published."""

    status: str
    published_at: str | None
    published_by: str | None
    framework: str
    model: str
    vendor: str
    provider_type: str
    total: float | None
    level: int | None
    level_name_zh: str | None
    level_name_en: str | None
    band_level: int | None
    requirement_level: int | None
    next_level: int | None
    score_gap: float | None
    blocking: list[str]
    reason: str
    capabilities: list[CapabilityScore]
    requirements: list[RequirementOut]
    excluded: list[str]
    capped: list[str]
    plan: PlanOut
    notes: list[NoteOut]
    explanation: dict[str, list[str]]
    indicators: list[IndicatorScore]


class AnswersSaved(Out):
    changed: int
    rating: RatingOut
