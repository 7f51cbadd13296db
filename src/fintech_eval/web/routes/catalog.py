"""``/api/v1/catalog``: the shipped frameworks, their indicators and the raw variables asked of a sector
(``fintech_eval.catalog``; what the questionnaire forms will be built from)."""

from __future__ import annotations

import functools
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from ...vocab import SECTORS
from ..auth import Principal, WorkspaceDep, require
from ..paging import PagingDep
from ..problems import ApiProblem
from ..schemas import FrameworkOut, IndicatorOut, Page, VariableOut
from .common import ERRORS

router = APIRouter(prefix="/catalog", tags=["catalog"], responses=ERRORS)
Reader = Annotated[Principal, Depends(require("catalog.read"))]
Sector = Literal[SECTORS]  # type: ignore[valid-type]


@functools.cache
def _frameworks() -> tuple[dict, ...]:
    from ...catalog import list_frameworks

    return tuple(list_frameworks())


def _framework(ws, framework_id: str):
    refs = {f["ref"] for f in _frameworks()}
    if framework_id not in refs:
        raise ApiProblem(404, "catalog.unknown", f"no shipped framework {framework_id!r}; see /api/v1/catalog/frameworks")
    return ws.framework(framework_id)


@router.get("/frameworks", response_model=Page[FrameworkOut], operation_id="list_frameworks")
def frameworks(p: Reader, paging: PagingDep) -> dict:
    return paging.page(list(_frameworks()))


@router.get("/frameworks/{framework_id}/indicators", response_model=Page[IndicatorOut], operation_id="list_indicators")
def indicators(framework_id: str, p: Reader, ws: WorkspaceDep, paging: PagingDep,
               sector: Annotated[Sector | None, Query(description="Only the indicators that apply to this sector.")] = None,
               block: Annotated[str | None, Query(max_length=16, description="J, H or Q.")] = None) -> dict:
    fw = _framework(ws, framework_id)
    out = []
    for ind in fw.indicators(block=block, include_incomplete=True):
        if sector is not None and not ind.applies_to(sector):
            continue
        out.append({"code": ind.code, "block": fw.path_of(ind.code)[0] if fw.path_of(ind.code) else ind.code,
                    "name_zh": ind.name.zh, "name_en": ind.name.en, "unit": ind.unit, "type": ind.type,
                    "direction": ind.direction, "sectors": list(ind.sectors),
                    "formula": ind.formula_for(sector) if ind.complete else None, "complete": ind.complete})
    return paging.page(out)


@router.get("/frameworks/{framework_id}/variables", response_model=Page[VariableOut], operation_id="list_variables")
def variables(framework_id: str, sector: Annotated[Sector, Query(description="The institution's sector.")], p: Reader,
              ws: WorkspaceDep, paging: PagingDep) -> dict:
    """The raw variables asked of an institution of ``sector``, each with the indicators it feeds."""
    from ...collect.validate import applicable_variables

    fw = _framework(ws, framework_id)
    out = [{"name": v.name, "unit": v.unit, "type": v.type, "help_zh": v.help.zh, "help_en": v.help.en, "min": v.min,
            "max": v.max, "sectors": list(v.sectors), "indicators": list(feeds)}
           for v, feeds in applicable_variables(fw, sector)]
    return paging.page(out)
