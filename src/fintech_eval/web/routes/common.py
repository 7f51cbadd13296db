"""Helpers shared by the routers: the standard error answers and account → model conversions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path

from ...app.accounts import Account
from ..problems import error_responses

#: Every API route may answer these (documented in the OpenAPI document as problem+json).
ERRORS = error_responses(400, 401, 403, 404, 422, 503)
#: A numeric id in a path: a positive 64-bit integer (what SQLite and PostgreSQL can hold).
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]


def user_out(a: Account) -> dict[str, Any]:
    return {"id": a.id, "email": a.email, "name": a.name, "role": a.role, "active": a.active,
            "entities": [{"kind": k, "id": i} for k, i in a.entities], "password_set": a.password_set,
            "locked_until": a.locked_until, "created_by": a.created_by, "created_at": a.created_at}


def entity_pairs(refs: list[Any] | None) -> list[tuple[str, str]] | None:
    return None if refs is None else [(r.kind, r.id) for r in refs]
