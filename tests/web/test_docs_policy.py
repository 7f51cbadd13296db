"""docs/web.md shows the permission table and the route table the code enforces: every permission with its
roles, token scope and tenancy, and every API route with its permission. A change to either fails here until
the page says it too."""

from __future__ import annotations

import re
from pathlib import Path

from fintech_eval.store.models import ROLES
from fintech_eval.web.app import route_table
from fintech_eval.web.auth import permission_of
from fintech_eval.web.policy import PERMISSIONS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "web.md").read_text(encoding="utf-8")


def _rows(first_cell: str) -> dict[str, list[str]]:
    out = {}
    for line in DOC.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and re.fullmatch(first_cell, cells[0]):
            out[cells[0].strip("`")] = cells[1:]
    return out


def test_permission_table_matches_the_policy():
    rows = _rows(r"`[a-z_]+\.[a-z_]+`")
    assert set(rows) == set(PERMISSIONS)
    for name, perm in PERMISSIONS.items():
        cells = rows[name]
        assert cells[:4] == ["yes" if r in perm.roles else "—" for r in ROLES], name
        assert cells[4] == (perm.scope or "session only"), name
        assert cells[5] == perm.tenancy, name


def test_route_table_matches_the_app(world):
    rows = _rows(r"`(GET|POST|PATCH|PUT|DELETE) /api/v1/\S+`")
    actual = {f"{m} {p}": (permission_of(d) or "public") for m, p, d in route_table(world.app) if p.startswith("/api/")}
    assert {k: v[0] for k, v in rows.items()} == actual


#: The API routes anyone may call; every other API route must name a permission.
PUBLIC = {"GET /api/v1/health", "POST /api/v1/auth/sign-in", "POST /api/v1/invitations/accept"}


def test_every_api_route_names_a_permission_and_every_permission_is_used(world):
    routes = {f"{m} {p}": permission_of(d) if d is not None else None
              for m, p, d in route_table(world.app) if p.startswith("/api/")}
    assert {r for r, perm in routes.items() if perm is None} == PUBLIC
    assert set(PERMISSIONS) == {perm for perm in routes.values() if perm is not None}
