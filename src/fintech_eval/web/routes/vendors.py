"""``/api/v1/vendors``: vendor capability assessments (``fintech_eval.app.vendor_assessments``). Staff open an
assessment of a vendor (a model and a round), answer the rubric per indicator, upload evidence, read the live
rating (level, why not the next one, the smallest improvement plan) and publish it. A submitter bound to a
vendor sees that vendor's published assessments and ratings, and its **self-assessments** (opened by staff with
``self_assessment: true``): it answers and uploads evidence while it fills one, then submits it; staff review it
(their changes are in its history), return it with a note or publish it. A draft the evaluator keeps to itself,
another vendor's assessment, and the evidence files of an assessment that is not a self-assessment answer the
submitter 404."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, UploadFile
from fastapi.responses import Response

from ...app import vendor_assessments as va
from ...app import vendor_self_assessment as vsa
from ...errors import DataError
from ..auth import Principal, WorkspaceDep, require
from ..paging import PagingDep
from ..policy import sees_all_entities, sees_assessment
from ..problems import ApiProblem, not_found
from ..schemas import Page
from ..vendor_schemas import (
    AnswersIn,
    AnswersSaved,
    AssessmentCreate,
    AssessmentDetail,
    AssessmentOut,
    EvidenceOut,
    RatingOut,
    ReturnIn,
    VendorOverview,
)
from .common import ERRORS, Id
from .registers import one

router = APIRouter(prefix="/vendors", tags=["vendors"], responses=ERRORS)
Reader = Annotated[Principal, Depends(require("vendors.read"))]
Rater = Annotated[Principal, Depends(require("vendors.rate"))]
Answerer = Annotated[Principal, Depends(require("vendors.answer"))]
Submitter = Annotated[Principal, Depends(require("vendors.submit"))]
VendorId = Annotated[str, Path(min_length=1, max_length=64)]


def visible_assessment(p: Principal, ws, vendor_id: str, assessment_id: int) -> dict[str, Any]:
    """The assessment if the caller may see it under this vendor: staff any; a submitter its own vendors'
    published ones and self-assessments. Anything else is the same 404 as an assessment that does not exist."""
    if not p.may_see("vendor", vendor_id):
        raise not_found(f"vendor assessment {assessment_id}")
    with missing_as_404("assessment.which", f"vendor assessment {assessment_id}"):
        a = va.assessment_summary(ws, assessment_id)
    if a["vendor"] != vendor_id or not sees_assessment(p.role, a["status"], a["stage"]):
        raise not_found(f"vendor assessment {assessment_id}")
    return a


def as_vendor(p: Principal) -> bool:
    """A change by the vendor's own submitter (the application then holds it to its self-assessment's stage)."""
    return not sees_all_entities(p.role)


@contextmanager
def missing_as_404(rule: str, what: str) -> Iterator[None]:
    """An application error with ``rule`` (an unknown id) answers the one 404 of the API."""
    try:
        yield
    except DataError as exc:
        if exc.problems and exc.problems[0].rule == rule:
            raise not_found(what) from None
        raise


def _vendor(p: Principal, ws, vendor_id: str) -> None:
    one(p, ws, "vendors", vendor_id)  # the register's own tenancy and 404


@router.get("", response_model=Page[VendorOverview], operation_id="list_vendor_assessments")
def overview(p: Reader, ws: WorkspaceDep, paging: PagingDep) -> dict:
    """Vendors with their assessments (a submitter: its own vendors, their published assessments and
    self-assessments)."""
    return paging.page(va.vendors_overview(ws, vendors=p.entities("vendor"), for_vendor=as_vendor(p)))


@router.get("/{vendor_id}/assessments", response_model=Page[AssessmentOut], operation_id="list_assessments_of_vendor")
def assessments(vendor_id: VendorId, p: Reader, ws: WorkspaceDep, paging: PagingDep) -> dict:
    _vendor(p, ws, vendor_id)
    return paging.page(va.list_assessments(ws, vendors=[vendor_id], for_vendor=as_vendor(p)))


@router.post("/{vendor_id}/assessments", response_model=AssessmentOut, status_code=201,
             operation_id="create_vendor_assessment")
def create(vendor_id: VendorId, body: AssessmentCreate, p: Rater, ws: WorkspaceDep) -> dict:
    _vendor(p, ws, vendor_id)
    """Open an assessment; ``self_assessment: true`` hands it to the vendor's submitters to fill and submit."""
    return va.create_assessment(ws, vendor_id, model=body.model, round=body.round, framework=body.framework,
                                who=p.email, self_assessment=body.self_assessment)


@router.get("/{vendor_id}/assessments/{assessment_id}", response_model=AssessmentDetail,
            operation_id="get_vendor_assessment")
def show(vendor_id: VendorId, assessment_id: Id, p: Reader, ws: WorkspaceDep) -> dict:
    """The assessment; staff, and the vendor for its self-assessment, also get its answers, evidence files and
    history."""
    a = visible_assessment(p, ws, vendor_id, assessment_id)
    if as_vendor(p) and a["stage"] == "evaluator":
        return {**a, "answers": None, "evidence_files": None, "history": None}
    return va.assessment_detail(ws, assessment_id)


@router.put("/{vendor_id}/assessments/{assessment_id}/answers", response_model=AnswersSaved,
            operation_id="save_vendor_answers")
def answers(vendor_id: VendorId, assessment_id: Id, body: AnswersIn, p: Answerer, ws: WorkspaceDep) -> dict:
    """Save answers (all-or-nothing, every problem named with its answer's position and indicator) and return
    the rating they give now. The vendor answers its self-assessment until it submits it (then 409
    ``assessment.submitted``)."""
    visible_assessment(p, ws, vendor_id, assessment_id)
    out = va.save_answers(ws, assessment_id, [a.model_dump() for a in body.answers], who=p.email,
                          as_vendor=as_vendor(p))
    return {"changed": out["changed"], "rating": va.current_rating(ws, assessment_id)}


@router.post("/{vendor_id}/assessments/{assessment_id}/evidence", response_model=EvidenceOut, status_code=201,
             operation_id="upload_vendor_evidence")
async def upload(vendor_id: VendorId, assessment_id: Id, p: Answerer, ws: WorkspaceDep,
                 indicator: Annotated[str, Form(min_length=1, max_length=32)],
                 file: Annotated[UploadFile, File(description="PDF, PNG, JPEG, XLSX, DOCX, TXT or CSV.")]) -> dict:
    """Keep an evidence file for one indicator, byte for byte (the same bytes twice are stored once)."""
    visible_assessment(p, ws, vendor_id, assessment_id)
    data = await read_limited(file)
    return va.add_evidence(ws, assessment_id, indicator, file.filename or "", data, who=p.email, as_vendor=as_vendor(p))


async def read_limited(file: UploadFile) -> bytes:
    """The upload's bytes, refused (413 ``evidence.too_large``) as soon as they pass the limit."""
    limit = va.max_evidence_bytes()
    chunks, size = [], 0
    while chunk := await file.read(1 << 20):
        size += len(chunk)
        if size > limit:
            raise ApiProblem(413, "evidence.too_large", f"the file is larger than {limit:,} bytes "
                             "(FINTECH_EVAL_MAX_EVIDENCE_MB)", field="file")
        chunks.append(chunk)
    return b"".join(chunks)


@router.get("/{vendor_id}/assessments/{assessment_id}/evidence/{evidence_id}", operation_id="download_vendor_evidence",
            response_class=Response, responses={200: {"content": {"application/octet-stream": {}},
                                                      "description": "The file as uploaded."}})
def download(vendor_id: VendorId, assessment_id: Id, evidence_id: Id, p: Reader, ws: WorkspaceDep) -> Response:
    """An evidence file exactly as uploaded (staff; a vendor's submitter those of its self-assessments)."""
    a = visible_assessment(p, ws, vendor_id, assessment_id)
    if as_vendor(p) and a["stage"] == "evaluator":
        raise not_found(f"evidence file {evidence_id}")
    with missing_as_404("evidence.which", f"evidence file {evidence_id}"):
        meta, data = va.evidence_file(ws, assessment_id, evidence_id)
    from urllib.parse import quote

    return Response(data, media_type=meta["media_type"], headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(meta['file_name'])}",
        "ETag": f'"{meta["sha256"]}"', "X-Content-SHA256": meta["sha256"]})


@router.delete("/{vendor_id}/assessments/{assessment_id}/evidence/{evidence_id}", response_model=EvidenceOut,
               operation_id="withdraw_vendor_evidence")
def withdraw(vendor_id: VendorId, assessment_id: Id, evidence_id: Id, p: Answerer, ws: WorkspaceDep) -> dict:
    """The file stops counting as evidence (it stays stored; the history says who withdrew it). The vendor
    withdraws the files it uploaded, while it fills its self-assessment."""
    visible_assessment(p, ws, vendor_id, assessment_id)
    with missing_as_404("evidence.which", f"evidence file {evidence_id}"):
        return va.withdraw_evidence(ws, assessment_id, evidence_id, who=p.email, as_vendor=as_vendor(p))


@router.get("/{vendor_id}/assessments/{assessment_id}/rating", response_model=RatingOut,
            operation_id="get_vendor_rating")
def rating(vendor_id: VendorId, assessment_id: Id, p: Reader, ws: WorkspaceDep) -> dict:
    """The level, why not the next one and the improvement plan: live for a draft, frozen once published."""
    visible_assessment(p, ws, vendor_id, assessment_id)
    return va.current_rating(ws, assessment_id)


@router.post("/{vendor_id}/assessments/{assessment_id}/publish", response_model=RatingOut,
             operation_id="publish_vendor_rating")
def publish(vendor_id: VendorId, assessment_id: Id, p: Rater, ws: WorkspaceDep) -> dict:
    """Freeze the rating as the answers give it now; the vendor's submitters see it from then on. A
    self-assessment is published once the vendor has submitted it (409 ``assessment.with_vendor`` before)."""
    visible_assessment(p, ws, vendor_id, assessment_id)
    return va.publish_assessment(ws, assessment_id, who=p.email)


@router.post("/{vendor_id}/assessments/{assessment_id}/submit", response_model=AssessmentOut,
             operation_id="submit_vendor_self_assessment")
def submit(vendor_id: VendorId, assessment_id: Id, p: Submitter, ws: WorkspaceDep) -> dict:
    """The vendor hands its self-assessment to the evaluator (409 ``assessment.stage`` unless it is filling it,
    ``assessment.empty`` with no answer); it then reads it but changes nothing unless it is returned."""
    visible_assessment(p, ws, vendor_id, assessment_id)
    return vsa.submit_self_assessment(ws, assessment_id, who=p.email)


@router.post("/{vendor_id}/assessments/{assessment_id}/return", response_model=AssessmentOut,
             operation_id="return_vendor_self_assessment")
def give_back(vendor_id: VendorId, assessment_id: Id, p: Rater, ws: WorkspaceDep, body: ReturnIn | None = None) -> dict:
    """Give a submitted self-assessment back to the vendor, with a note of what to change (409
    ``assessment.stage`` unless it was submitted)."""
    visible_assessment(p, ws, vendor_id, assessment_id)
    return vsa.return_to_vendor(ws, assessment_id, who=p.email, note=body.note if body else None)
