"""``GET /api/v1/audit``: the audit log, newest first (administrators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ...app.audit import audit_entries
from ..auth import Principal, WorkspaceDep, require
from ..paging import PagingDep
from ..schemas import AuditOut, Page
from .common import ERRORS

router = APIRouter(prefix="/audit", tags=["audit"], responses=ERRORS)


@router.get("", response_model=Page[AuditOut], operation_id="list_audit")
def list_(p: Annotated[Principal, Depends(require("audit.read"))], ws: WorkspaceDep, paging: PagingDep,
          action: Annotated[str | None, Query(max_length=64, description="Only this action, e.g. sign_in.failure.")] = None,
          actor: Annotated[str | None, Query(max_length=254)] = None) -> dict:
    items, total = audit_entries(ws, action=action, actor=actor, limit=paging.limit, offset=paging.offset)
    return paging.page(items, total)
