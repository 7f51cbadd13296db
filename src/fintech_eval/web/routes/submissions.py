"""``/api/v1/returns``: an entity's returns, submitted and read (``fintech_eval.app.submissions``: the same
validation, storage, history and idempotency as ``fintech-eval returns submit``).

* ``POST /returns``: a return as JSON (``values``: ``variable → value`` or ``variable → {value, unit}``) for a
  campaign, or a framework and period. ``POST /returns/upload``: the questionnaire workbook or a CSV (multipart).
  A valid final return goes to review (201); one with errors is kept as a draft with everything as sent and
  answers 422 ``return.invalid`` with every problem (rule, field, message as the CLI's) and the draft's
  ``return_id``; ``final: false`` only saves (201). ``Idempotency-Key``: a retried request stores once and gets
  the first answer back (header ``Idempotent-Replayed: true``); the same key with another request is 409
  ``idempotency.conflict``.
* ``GET /returns`` (paged; ``campaign``, ``state``, ``entity``), ``GET /returns/{id}`` (versions, history, the
  fields with their problems and flags, the evaluator's open comments), ``GET /returns/{id}/payload`` (a
  version's bytes exactly as received).

A submitter submits and reads only its own institutions' returns, and only for campaigns that ask them; another
entity's return, an entity outside the register and another campaign answer 404 (no existence leak).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal
from urllib.parse import quote

import numpy as np
from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import ConfigDict, Field, StringConstraints

from ...app.rows import records
from ...app.submissions import (
    MEDIA_TYPES,
    SubmitRequest,
    SubmitResult,
    return_detail,
    return_payload,
    returns_list,
)
from ...errors import DataError
from ...store.db import json_bytes
from ...vocab import RETURN_STATES
from ..auth import Principal, TokenCaller, WorkspaceDep, client_ip, require, require_in_batch
from ..paging import PagingDep
from ..problems import ProblemItem, api_language, error_responses, not_found, problem_item, problem_response
from ..schemas import Out, Page
from ..schemas import Request as StrictRequest
from ..submitting import KIND, Submission
from .common import Id

router = APIRouter(prefix="/returns", tags=["returns"], responses=error_responses(400, 401, 403, 404, 409, 422, 503))
Reader = Annotated[Principal, Depends(require("submissions.read"))]
#: submitting: the caller authorised in the batch that stores the return (an API token read with the batch's others)
BatchWriter = Annotated[Principal | TokenCaller, Depends(require_in_batch("submissions.write"))]

#: the largest upload taken (a questionnaire workbook is a few hundred KB)
MAX_UPLOAD = 20 * 2**20

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200,
                                              description="A key of the client's for this request: a retry with the same "
                                                          "key (and the same request) stores once and gets the first answer.")]
VarName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Number = Annotated[float, Field(allow_inf_nan=False)]
Integer = Annotated[int, Field(ge=-(10**18), le=10**18)]  # kept an integer in the stored payload (30, not 30.0)
Raw = Annotated[str, StringConstraints(max_length=200)]


# --- models -------------------------------------------------------------------------------------------------
class ValueWithUnit(StrictRequest):
    """A value entered in a unit of its own (e.g. 亿元 for a variable asked in 万元): converted as imports convert."""

    value: Integer | Number | Raw | None
    unit: str = Field(min_length=1, max_length=20)


class ReturnCreate(StrictRequest):
    """A return as JSON. Numbers are JSON numbers (``false`` is not 0); a string is taken as typed (the
    import reads it: ``"1,234.5"``, ``"N/A"`` / ``"不适用"`` to declare a value unavailable); ``null`` is a blank
    field, which the import rejects for a variable the entity's sector is asked (``value.blank_mandatory``)."""

    entity: str = Field(min_length=1, max_length=64, description="The institution's code in the register.")
    campaign: int | None = Field(None, ge=1, le=2**63 - 1, description="The campaign (omit with one campaign, or give framework and period).")
    framework: str | None = Field(None, min_length=1, max_length=100)
    period: str | None = Field(None, min_length=1, max_length=20)
    values: dict[VarName, Integer | Number | Raw | ValueWithUnit | None] = Field(max_length=5000)
    final: bool = Field(True, description="false: save a draft only (not for review).")


class FieldOut(Out):
    model_config = ConfigDict(extra="allow")
    variable: str | None
    raw: str | int | float | None = None
    value: float | str | None = None
    unit: str | None = None
    status: str | None = None


class FlaggedOut(Out):
    variable: str | None
    value: float | str | None
    unit: str | None
    reason: str | None


class SubmitOut(Out):
    return_id: int
    version: int
    state: Literal[RETURN_STATES]  # type: ignore[valid-type]
    valid: bool
    submitted: bool = Field(description="The version went to review.")
    replayed: bool = Field(description="An idempotent retry: the first answer.")
    problems: list[ProblemItem] = Field(description="Warnings (a valid return) or every problem (a draft).")
    flagged: list[FlaggedOut]
    fields: list[FieldOut]


class ReturnRow(Out):
    id: int
    campaign_id: int | None
    framework: str
    period: str
    entity_kind: str
    entity_id: str
    state: Literal[RETURN_STATES]  # type: ignore[valid-type]
    version: int
    reviewed_version: int | None
    submitted_at: dt.datetime | None
    created_by: str
    created_at: dt.datetime
    updated_by: str
    updated_at: dt.datetime
    answered: int
    errors: int
    warnings: int
    flagged: int


class VersionOut(Out):
    number: int
    file_name: str
    media_type: str
    sha256: str
    size: int
    final: bool
    valid: bool
    submitted_by: str
    submitted_at: dt.datetime


class EventOut(Out):
    at: dt.datetime
    who: str
    action: str
    from_state: str | None
    to_state: str
    version: int | None
    comments: dict[str, str] | None
    note: str | None
    changes: dict[str, Any] | None


class DetailFieldOut(FieldOut):
    problems: list[str] = Field(description="The problems of this field: 'rule: message'.")


class ReturnDetailOut(Out):
    summary: ReturnRow
    versions: list[VersionOut]
    history: list[EventOut]
    fields: list[DetailFieldOut] = Field(description="The reviewed (else newest, or ?version=) version's fields.")
    problems: list[ProblemItem]
    flagged: list[FlaggedOut]
    comments: dict[str, str] = Field(description="The evaluator's open comments per field ('*': the whole return).")
    allowed: list[str] = Field(description="The actions the return's state allows.")


# --- helpers ------------------------------------------------------------------------------------------------
def _row(r: dict[str, Any]) -> dict[str, Any]:
    return {k: r.get(k) for k in ReturnRow.model_fields}


def _answer(r: SubmitResult, final: bool, lang: str) -> JSONResponse:
    """201 with the result; a final return with errors: 422 ``return.invalid`` (kept as a draft), with the
    problems and where the draft is. A replay gets the same answer, marked."""
    headers = {"Location": f"/api/v1/returns/{r.return_id}"}
    if r.replayed:
        headers["Idempotent-Replayed"] = "true"
    if final and r.errors:
        detail = (f"报表 {r.return_id} 第 {r.version} 版有 {len(r.errors)} 个错误：已保存为草稿，未提交（{r.errors[0].text(lang)}）"
                  if lang == "zh" else f"return {r.return_id} version {r.version} has {len(r.errors)} "
                  f"error(s): kept as a draft, not submitted ({r.errors[0].message})")
        return problem_response(422, "return.invalid", detail, [x.as_dict() for x in r.problems], headers=headers,
                                extra={"return_id": r.return_id, "version": r.version, "state": r.state,
                                       "replayed": r.replayed}, lang=lang)
    return Response(json_bytes({**r.as_dict(), "problems": [problem_item(x, lang) for x in r.problems]}),
                    status_code=201, headers=headers, media_type="application/json")


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, str | int | float | bool) or v is None:
        return v
    return str(v)


SUBMIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    201: {"model": SubmitOut, "description": "Stored: submitted for review, or saved as a draft (`final: false`)."},
    409: error_responses(409)[409] | {"description": "The Idempotency-Key was used for another request, or the "
                                                     "return's state allows no submission."},
    422: error_responses(422)[422] | {"description": "Invalid request, or a return with errors (`return.invalid`: "
                                                     "kept as a draft; `return_id` says where)."},
}


# --- routes -------------------------------------------------------------------------------------------------
async def _submit(request: Request, caller: Principal | TokenCaller, req: SubmitRequest) -> JSONResponse:
    """The submission through the process's :class:`~fintech_eval.web.gather.Gatherer`: the caller authorised
    (an API token read there, with the batch's others), its entity checked and the return validated and stored
    with the requests waiting beside it (:func:`~fintech_eval.web.submitting.run_batch`); a submitter's campaign
    that does not ask the entity answers 404 (``campaign.not_asked``), as another tenant's entity does."""
    req.ip = client_ip(request)  # the audit entry is written with the version
    try:
        r = await request.app.state.gatherer.submit(Submission(caller, req))
    except DataError as exc:
        if exc.problems and exc.problems[0].rule == "campaign.not_asked":
            raise not_found(f"campaign {exc.problems[0].where.get('campaign')}") from None
        raise
    return _answer(r, req.final, api_language(request))


@router.post("", status_code=201, response_model=SubmitOut, responses=SUBMIT_RESPONSES, operation_id="submit_return")
async def create(body: ReturnCreate, p: BatchWriter, request: Request,
                 idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """Submit (or with ``final: false`` save) a return given as JSON values."""
    values = {k: (v.model_dump() if isinstance(v, ValueWithUnit) else v) for k, v in body.values.items()}
    return await _submit(request, p, SubmitRequest(body.entity, body.campaign, values, "", idempotency_key,
                                                   final=body.final, framework=body.framework, period=body.period))


@router.post("/upload", status_code=201, response_model=SubmitOut, responses=SUBMIT_RESPONSES,
             operation_id="upload_return")
async def upload(p: BatchWriter, request: Request,
                 file: Annotated[UploadFile, File(description="The questionnaire workbook (xlsx) or a CSV or JSON file.")],
                 entity: Annotated[str, Form(min_length=1, max_length=64)],
                 campaign: Annotated[int | None, Form(ge=1, le=2**63 - 1)] = None,
                 framework: Annotated[str | None, Form(min_length=1, max_length=100)] = None,
                 period: Annotated[str | None, Form(min_length=1, max_length=20)] = None,
                 final: Annotated[bool, Form()] = True,
                 idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """Submit (or save) a return given as a file: the workbook of ``fintech-eval template`` or a CSV, kept as sent."""
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return problem_response(422, "return.too_large", f"the file is larger than {MAX_UPLOAD // 2**20} MiB", field="file")
    return await _submit(request, p, SubmitRequest(entity, campaign, data, "", idempotency_key,
                                                   media_type=file.content_type, file_name=file.filename, final=final,
                                                   framework=framework, period=period))


@router.get("", response_model=Page[ReturnRow], operation_id="list_returns")
def list_(p: Reader, ws: WorkspaceDep, paging: PagingDep,
          campaign: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
          state: Annotated[Literal[RETURN_STATES] | None, Query()] = None,  # type: ignore[valid-type]
          entity: Annotated[str | None, Query(min_length=1, max_length=64)] = None) -> dict:
    """The returns, oldest first (a submitter: its own entities')."""
    own = p.entities(KIND)
    ents: list[str] | None = [entity] if entity is not None else None
    if own is not None:
        ents = sorted(own if ents is None else set(ents) & own)
    df = returns_list(ws, campaign, state=state, entity=ents)
    df = df[df["entity_kind"] == KIND] if own is not None else df
    df = df[p.campaign_filter(ws, df["campaign_id"])]
    return paging.page([_row(r) for r in records(df)])


def _visible(p: Principal, ws, return_id: int) -> None:
    df = returns_list(ws, ids=[return_id])
    if (df.empty or not p.may_see(str(df["entity_kind"].iloc[0]), str(df["entity_id"].iloc[0]))
            or not p.sees_campaign_of(ws, df["campaign_id"].iloc[0])):
        raise not_found(f"return {return_id}")


@router.get("/{return_id}", response_model=ReturnDetailOut, operation_id="get_return")
def show(return_id: Id, request: Request, p: Reader, ws: WorkspaceDep,
         version: Annotated[int | None, Query(ge=1, le=2**31, description="Show this version's fields.")] = None) -> dict:
    """One return: its versions, its history (who, when, from and to which state, comments, changed values), the
    fields with their problems and flags (messages in the request's language, as in error answers)."""
    _visible(p, ws, return_id)
    lang = api_language(request)
    try:
        d = return_detail(ws, return_id, version=version, lang=lang)
    except DataError as exc:
        if exc.problems and exc.problems[0].rule in ("review.unknown", "review.version"):
            raise not_found(f"return {return_id}" + (f" version {version}" if version else "")) from None
        raise
    return _jsonable({"summary": _row(d.summary), "versions": records(d.versions), "history": records(d.history),
                      "fields": records(d.fields), "problems": [problem_item(x, lang) for x in d.problems], "flagged": d.flagged,
                      "comments": d.comments, "allowed": d.allowed})


PAYLOAD_TYPES = {mt: {"schema": {"type": "string", "format": "binary"}} for mt in MEDIA_TYPES.values() if mt != "application/json"}


@router.get("/{return_id}/payload", response_class=Response, operation_id="get_return_payload",
            responses={200: {"description": "The version's bytes exactly as received, with their media type.",
                             "content": {"application/json": {}, **PAYLOAD_TYPES}}})
def payload(return_id: Id, p: Reader, ws: WorkspaceDep,
            version: Annotated[int | None, Query(ge=1, le=2**31, description="Default: the newest version.")] = None) -> Response:
    """The raw submission, verbatim (bytes, media type and file name as received)."""
    _visible(p, ws, return_id)
    try:
        data, media_type, name = return_payload(ws, return_id, version)
    except DataError:
        raise not_found(f"return {return_id}" + (f" version {version}" if version else "")) from None
    disposition = f"attachment; filename=\"{name.encode('ascii', 'replace').decode().replace('?', '_')}\"; " \
                  f"filename*=UTF-8''{quote(name)}"
    return Response(data, media_type=media_type, headers={"Content-Disposition": disposition})
