"""``/api/v1/registers``: registered institutions and vendors (``fintech_eval.app.registers``). Staff see every
entity; a submitter only its own, and another entity answers 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from ...app.registers import register_entry, register_frame
from ...app.rows import records
from ...errors import DataError
from ..auth import Principal, WorkspaceDep, require
from ..paging import PagingDep
from ..problems import not_found
from ..schemas import Institution, Page, Vendor
from .common import ERRORS

router = APIRouter(prefix="/registers", tags=["registers"], responses=ERRORS)
Reader = Annotated[Principal, Depends(require("registers.read"))]
EntityId = Annotated[str, Path(min_length=1, max_length=64)]
KINDS = {"institutions": "institution", "vendors": "vendor"}


def visible(p: Principal, ws, register: str) -> list[dict]:
    df = register_frame(ws, register)
    own = p.entities(KINDS[register])
    if own is not None:
        df = df[df["id"].isin(own)]
    return records(df)


def one(p: Principal, ws, register: str, entity_id: str) -> dict:
    if not p.may_see(KINDS[register], entity_id):
        raise not_found(f"{KINDS[register]} {entity_id}")
    try:
        return register_entry(ws, register, entity_id)
    except DataError as exc:
        if exc.problems and exc.problems[0].rule == "register.unknown":
            raise not_found(f"{KINDS[register]} {entity_id}") from None
        raise


@router.get("/institutions", response_model=Page[Institution], operation_id="list_institutions")
def institutions(p: Reader, ws: WorkspaceDep, paging: PagingDep) -> dict:
    return paging.page(visible(p, ws, "institutions"))


@router.get("/institutions/{entity_id}", response_model=Institution, operation_id="get_institution")
def institution(entity_id: EntityId, p: Reader, ws: WorkspaceDep) -> dict:
    return one(p, ws, "institutions", entity_id)


@router.get("/vendors", response_model=Page[Vendor], operation_id="list_vendors")
def vendors(p: Reader, ws: WorkspaceDep, paging: PagingDep) -> dict:
    return paging.page(visible(p, ws, "vendors"))


@router.get("/vendors/{entity_id}", response_model=Vendor, operation_id="get_vendor")
def vendor(entity_id: EntityId, p: Reader, ws: WorkspaceDep) -> dict:
    return one(p, ws, "vendors", entity_id)
