"""``/api/v1/campaigns/{campaign_id}/forms/{entity_id}``: one entity's questionnaire for a campaign, as the web
form shows it (:func:`fintech_eval.app.submissions.return_form`: the variables its sector is asked, labels and
help in both languages, the unit and the units a money value may be typed in, bounds, the values as last typed
with their problems, the evaluator's open comments), its draft (kept whatever its validation says: the form's
autosave calls it), and its Excel workbook prefilled (``fintech-eval campaign templates``' file).

A submitter reaches only its own entities in the campaigns that ask them; anything else is 404.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from pydantic import Field

from ...app import forms
from ...app import submissions as sub
from ...app.campaigns import campaigns_asking, campaigns_frame
from ...app.registers import register_frame
from ..auth import Principal, WorkspaceDep, client_ip, require
from ..problems import ProblemItem, _jsonable, api_language, not_found, problem_item
from ..schemas import Out
from ..schemas import Request as Body
from .common import ERRORS, Id

router = APIRouter(prefix="/campaigns/{campaign_id}/forms", tags=["forms"], responses=ERRORS)
Reader = Annotated[Principal, Depends(require("submissions.read"))]
Writer = Annotated[Principal, Depends(require("submissions.write"))]
EntityId = Annotated[str, Path(min_length=1, max_length=64)]
KIND = "institution"


def may_fill(p: Principal, ws, campaign_id: int, entity: str) -> bool:
    """Whether ``p`` may see and fill ``entity``'s questionnaire of the campaign: the campaign exists and the
    entity is registered; a submitter's own entity, in a campaign that asks it."""
    if not p.may_see(KIND, entity) or not p.sees_campaign_of(ws, campaign_id):
        return False
    if p.entities(KIND) is not None and campaign_id not in campaigns_asking(ws, [entity]):
        return False
    if campaign_id not in set(campaigns_frame(ws)["id"].astype(int)):
        return False
    return entity in set(register_frame(ws, "institutions")["id"])


def _scope(p: Principal, ws, campaign_id: int, entity: str) -> None:
    if not may_fill(p, ws, campaign_id, entity):
        raise not_found(f"the questionnaire of {entity!r} in campaign {campaign_id}")


class FormField(Out):
    variable: str
    label: str | None
    help_zh: str
    help_en: str
    unit: str
    units: list[str] = Field(description="The units a value may be typed in (money: 元, 万元, 亿元; converted as imports convert them).")
    type: str
    min: float | None
    max: float | None
    indicators: list[str]
    raw: str | None = Field(description="The value as last typed (the newest version, a draft included).")
    entered_unit: str | None = Field(description="The unit it was typed in.")
    status: str | None = Field(description="ok, flagged or error, as the import's validation read it.")
    flag_reason: str | None
    problems: list[str] = Field(description="The validation's messages on this field (rule: message), in `lang`.")
    comment: str | None = Field(description="The evaluator's open comment on this field.")


class FormOut(Out):
    entity: str
    sector: str
    framework: str
    framework_version: str
    period: str
    campaign_id: int | None
    return_id: int | None
    state: str | None
    version: int | None
    allowed: list[str] = Field(description="The actions the return's state allows now.")
    comment: str | None = Field(description="The evaluator's open comment on the return as a whole.")
    fields: list[FormField]


class Draft(Body):
    values: dict[Annotated[str, Field(max_length=100)], Annotated[str, Field(max_length=200)] | float | None] = Field(
        max_length=2000, description="variable → the value as typed (text or number; blank or null: not answered).")
    units: dict[Annotated[str, Field(max_length=100)], Annotated[str, Field(max_length=20)]] = Field(
        default_factory=dict, max_length=2000, description="variable → the unit a money value is typed in (元, 万元, 亿元).")


class Saved(Out):
    return_id: int
    version: int
    state: str
    valid: bool
    problems: list[ProblemItem]


def _form(ws, campaign_id: int, entity: str, lang: str = "zh") -> dict[str, Any]:
    form = sub.return_form(ws, entity, campaign_id, lang=lang)
    typed = forms.typed_values(ws, form["return_id"]) if form["return_id"] is not None else {}
    for f in form["fields"]:
        got = typed.get(f["variable"], {})
        f["raw"], f["entered_unit"] = got.get("raw"), got.get("unit")
        f["status"] = f["status"] if isinstance(f["status"], str) else None
        f["flag_reason"] = f["flag_reason"] if isinstance(f["flag_reason"], str) else None
    return form


@router.get("/{entity_id}", response_model=FormOut, operation_id="get_form")
def show(campaign_id: Id, entity_id: EntityId, p: Reader, ws: WorkspaceDep, lang: str = "zh") -> dict:
    """The questionnaire of the entity's sector with what was last typed (``lang``: zh or en for ``label``)."""
    _scope(p, ws, campaign_id, entity_id)
    return _form(ws, campaign_id, entity_id, "en" if lang == "en" else "zh")


@router.put("/{entity_id}/draft", response_model=Saved, operation_id="save_draft")
def save_draft(campaign_id: Id, entity_id: EntityId, body: Draft, request: Request, p: Writer, ws: WorkspaceDep) -> dict:
    """Keep what is typed as a new draft version (validated, but no problem blocks a draft; what is under review
    stays under review)."""
    _scope(p, ws, campaign_id, entity_id)
    values = {k: v for k, v in body.values.items() if v is not None and str(v).strip() != ""}
    units = {k: u for k, u in body.units.items() if k in values}
    res = sub.submit(ws, entity_id, campaign_id, values, actor=p.email, units=units, final=False, actor_id=p.id,
                     ip=client_ip(request))
    return {"return_id": res.return_id, "version": res.version, "state": res.state, "valid": res.valid,
            "problems": [_jsonable(problem_item(x, api_language(request))) for x in res.problems]}


@router.get("/{entity_id}/workbook", operation_id="get_form_workbook",
            responses={200: {"content": {sub.XLSX: {}}, "description": "The questionnaire workbook, prefilled."}})
def workbook(campaign_id: Id, entity_id: EntityId, p: Reader, ws: WorkspaceDep) -> Response:
    """The entity's questionnaire workbook (the file of ``fintech-eval campaign templates``), prefilled with the
    newest version's values: fill it in Excel and upload it as the return."""
    from urllib.parse import quote

    from ...errors import DataError

    _scope(p, ws, campaign_id, entity_id)
    existing = sub.returns_list(ws, campaign_id, entity=entity_id)
    try:
        data, name = forms.prefilled_workbook(ws, entity_id, campaign_id,
                                              int(existing["id"].iloc[0]) if len(existing) else None)
    except DataError:  # outside the campaign's sample: no questionnaire of it
        raise not_found(f"the questionnaire of {entity_id!r} in campaign {campaign_id}") from None
    return Response(data, media_type=sub.XLSX, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})
