"""``GET /api/v1/health``: the server answers and which schema its database has (public)."""

from __future__ import annotations

from fastapi import APIRouter

from ... import __version__
from ...store import current_revision
from ..auth import WorkspaceDep
from ..schemas import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, operation_id="health")
def health(ws: WorkspaceDep) -> dict:
    return {"status": "ok", "version": __version__, "schema_revision": current_revision(ws.engine)}
