"""``/api/v1/returns/…`` review steps (staff): send a return back with comments per field, accept it (or many
at once, all-or-nothing), reject it, reopen it. Each route is one call of :mod:`fintech_eval.app.submissions`
(:func:`~fintech_eval.app.submissions.return_for_changes`, :func:`~fintech_eval.app.submissions.accept`,
:func:`~fintech_eval.app.submissions.accept_submitted`, :func:`~fintech_eval.app.submissions.reject`,
:func:`~fintech_eval.app.submissions.reopen`), the same as ``fintech-eval returns return|accept|reject|reopen``;
a state that does not allow the step is 409 ``review.transition`` naming the states it is allowed from, an
unknown return 404. Each step is in the return's history and the audit log (``review.<action>``, written by
the application function in the step's transaction, with the caller's id and address)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field, model_validator

from ...app import submissions as sub
from ..auth import Principal, WorkspaceDep, client_ip, require
from ..problems import ProblemItem, _jsonable, api_language, error_responses, not_found, problem_item
from ..schemas import Out
from ..schemas import Request as Body
from .common import Id

router = APIRouter(prefix="/returns", tags=["review"], responses=error_responses(400, 401, 403, 404, 409, 422, 503))
Reviewer = Annotated[Principal, Depends(require("submissions.review"))]

Note = Field(None, max_length=2000, description="Why (shown in the return's history).")


class ReturnForChanges(Body):
    comments: dict[str, Annotated[str, Field(max_length=2000)]] = Field(
        default_factory=dict, max_length=500,
        description="A comment per field: variable → what to change (key `*`: the return as a whole).",
        examples=[{"fintech_staff": "includes contractors? count formal employees only"}])
    note: str | None = Note


class Decision(Body):
    note: str | None = Note


class NeedsNote(Body):
    note: str = Field(min_length=1, max_length=2000, description="The reason (required).")


class AcceptMany(Body):
    """The returns to accept: their ids, or every return of a campaign waiting for review."""

    ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] | None = Field(None, min_length=1, max_length=5000)
    campaign_id: int | None = Field(None, ge=1, le=2**63 - 1)
    note: str | None = Note
    dry_run: bool = Field(False, description="Check and report (flags included); store nothing.")

    @model_validator(mode="after")
    def _one_of(self) -> AcceptMany:
        if (self.ids is None) == (self.campaign_id is None):
            raise ValueError("give either ids or campaign_id")
        return self


class ReviewOut(Out):
    return_id: int
    entity_id: str
    from_state: str
    state: str
    version: int | None = Field(description="The version reviewed.")
    stored_rows: int = Field(description="Accept: the values stored as observations.")
    submission_id: int | None = Field(description="Accept: the import's submission that stored them.")
    warnings: list[ProblemItem] = Field(description="Accept: flagged values and other warnings, with their reasons.")


class AcceptedMany(Out):
    items: list[ReviewOut]
    total: int
    dry_run: bool


def _out(r: sub.ReviewResult, request: Request) -> dict[str, Any]:
    d = r.as_dict()
    d["warnings"] = [_jsonable(problem_item(w, api_language(request))) for w in d["warnings"]]
    return d


def _known(p: Principal, ws, return_id: int) -> None:
    df = sub.returns_list(ws, ids=[return_id])
    if df.empty or not p.sees_campaign_of(ws, df["campaign_id"].iloc[0]):
        raise not_found(f"return {return_id}")


@router.post("/accept", response_model=AcceptedMany, operation_id="accept_returns")
def accept_many(body: AcceptMany, request: Request, p: Reviewer, ws: WorkspaceDep) -> dict:
    """Accept many returns at once, all-or-nothing: read and validated again together as one import (outliers
    judged among them and flagged with their reason), then stored. Any problem stores nothing and lists every
    problem (an unknown id, a state that allows no accept, a validation error)."""
    if body.ids is not None:
        for rid in body.ids:  # every one within the caller's campaigns, or 404 before anything is stored
            _known(p, ws, rid)
        res = sub.accept(ws, body.ids, actor=p.email, note=body.note, dry_run=body.dry_run, actor_id=p.id,
                         ip=client_ip(request))
    else:
        if not p.may_see_campaign(ws, body.campaign_id):
            raise not_found(f"campaign {body.campaign_id}")
        res = sub.accept_submitted(ws, body.campaign_id, actor=p.email, note=body.note, dry_run=body.dry_run,
                                   actor_id=p.id, ip=client_ip(request))
    return {"items": [_out(r, request) for r in res], "total": len(res), "dry_run": body.dry_run}


@router.post("/{return_id}/return", response_model=ReviewOut, operation_id="return_for_changes")
def return_(return_id: Id, body: ReturnForChanges, request: Request, p: Reviewer, ws: WorkspaceDep) -> dict:
    """Send a submitted return back to its submitter with comments per field (or a note)."""
    _known(p, ws, return_id)
    res = sub.return_for_changes(ws, return_id, body.comments, actor=p.email, note=body.note, actor_id=p.id,
                                 ip=client_ip(request))
    return _out(res, request)


@router.post("/{return_id}/accept", response_model=ReviewOut, operation_id="accept_return")
def accept_one(return_id: Id, request: Request, p: Reviewer, ws: WorkspaceDep, body: Decision | None = None) -> dict:
    """Accept a submitted return: its reviewed version's values are stored through the import path."""
    _known(p, ws, return_id)
    note = body.note if body else None
    res = sub.accept(ws, [return_id], actor=p.email, note=note, actor_id=p.id, ip=client_ip(request))[0]
    return _out(res, request)


def _noted(step, return_id: int, note: str, request: Request, p: Principal, ws) -> dict:
    """A step that needs only a reason (reject, reopen)."""
    _known(p, ws, return_id)
    res = step(ws, return_id, actor=p.email, note=note, actor_id=p.id, ip=client_ip(request))
    return _out(res, request)


@router.post("/{return_id}/reject", response_model=ReviewOut, operation_id="reject_return")
def reject(return_id: Id, body: NeedsNote, request: Request, p: Reviewer, ws: WorkspaceDep) -> dict:
    """Refuse a submitted return as a whole, with the reason."""
    return _noted(sub.reject, return_id, body.note, request, p, ws)


@router.post("/{return_id}/reopen", response_model=ReviewOut, operation_id="reopen_return")
def reopen(return_id: Id, body: NeedsNote, request: Request, p: Reviewer, ws: WorkspaceDep) -> dict:
    """Send an accepted or rejected return back for changes, with the reason."""
    return _noted(sub.reopen, return_id, body.note, request, p, ws)
