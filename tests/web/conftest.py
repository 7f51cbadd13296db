"""Fixtures of the web tests: a database (SQLite, and PostgreSQL for the tests marked ``pg``) with two
institutions and two vendors registered, two campaigns (one asking B001, one asking only B002), a published
and a draft run, and one account per role; the submitter answers for institution B001 and vendor V001 and the
evaluator is assigned to campaign 1 only, so B002, V002, campaign 2 are "another tenant's" (campaign 2 for the
evaluator too). ``client(role)`` is a TestClient signed in as that role."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

os.environ.setdefault("FINTECH_EVAL_ARGON2_TIME_COST", "1")  # cheap hashes for tests (each hash records its cost)
os.environ.setdefault("FINTECH_EVAL_ARGON2_MEMORY_KIB", "8192")

from fastapi.testclient import TestClient  # noqa: E402

from fintech_eval.app import Workspace  # noqa: E402
from fintech_eval.app.accounts import create_user  # noqa: E402
from fintech_eval.app.campaign_staff import assign_staff  # noqa: E402
from fintech_eval.app.campaigns import create_campaign  # noqa: E402
from fintech_eval.app.registers import register_file  # noqa: E402
from fintech_eval.store.models import EvaluationRun  # noqa: E402
from fintech_eval.web.app import create_app  # noqa: E402
from fintech_eval.web.settings import WebSettings  # noqa: E402
from tests.store.conftest import pg_server, pg_url  # noqa: E402,F401

PASSWORD = "correct horse battery"
ROLES = ("administrator", "evaluator", "submitter", "viewer")


@dataclass
class World:
    ws: Workspace
    app: object
    users: dict[str, int] = field(default_factory=dict)
    runs: dict[str, int] = field(default_factory=dict)
    clients: list[TestClient] = field(default_factory=list)

    def email(self, role: str) -> str:
        return f"{role}@example.org"

    def anonymous(self) -> TestClient:
        c = TestClient(self.app)
        self.clients.append(c)
        return c

    def client(self, role: str) -> TestClient:
        """A client signed in (session cookie) as ``role``, sending the session's CSRF token on every request."""
        c = self.anonymous()
        r = c.post("/api/v1/auth/sign-in", json={"email": self.email(role), "password": PASSWORD})
        assert r.status_code == 200, r.text
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        return c

    def token(self, role: str, scopes=("read",)) -> str:
        r = self.client(role).post("/api/v1/tokens", json={"name": f"{role} test", "scopes": list(scopes)})
        assert r.status_code == 201, r.text
        return r.json()["token"]


def build_world(url: str, tmp: Path, settings: WebSettings | None = None) -> World:
    ws = Workspace(url)
    (tmp / "inst.csv").write_text("id,name_zh,name_en,sector,region_code\nB001,甲银行,Bank A,bank,11\n"
                                  "B002,乙银行,Bank B,bank,44\n", encoding="utf-8")
    (tmp / "vend.csv").write_text("id,name_zh,name_en,provider_type\nV001,甲科技,Tech A,product\n"
                                  "V002,乙科技,Tech B,consulting\n", encoding="utf-8")
    register_file(ws, tmp / "inst.csv", "institutions")
    register_file(ws, tmp / "vend.csv", "vendors")
    create_campaign(ws, period="2024", sample=["B001", "B002"], deadline="2025-03-31")
    create_campaign(ws, period="2024", sample=["B002"], name="B002 only")
    w = World(ws, create_app(settings or WebSettings(runs_dir=str(tmp / "runs")), workspace=ws))  # runs scored here
    for role in ROLES:
        ents = [("institution", "B001"), ("vendor", "V001")] if role == "submitter" else []
        w.users[role] = create_user(ws, email=w.email(role), role=role, password=PASSWORD, entities=ents).id
    assign_staff(ws, 1, w.email("evaluator"), who="test")
    with ws.sessions() as s, s.begin():
        for status in ("published", "draft"):
            run = EvaluationRun(campaign_id=1, name=f"{status} run", framework="jrt0201-2020", framework_version="2020",
                                period="2024", specs={"J": {"data": {"source": "store"}}}, out_dir="/srv/runs/x",
                                software="test", created_by="cli", status=status,
                                published_by="cli" if status == "published" else None,
                                published_at=dt.datetime.now(dt.UTC) if status == "published" else None,
                                warnings={"J": [{"rule": "no_spread", "message": "no spread", "indicator": "J-A1B1-C1"}]},
                                scores_sha256={"J": "0" * 64})
            s.add(run)
            s.flush()
            w.runs[status] = run.id
    return w


@pytest.fixture
def world_factory(tmp_path: Path) -> Iterator[Callable[..., World]]:
    made: list[World] = []

    def make(url: str | None = None, settings: WebSettings | None = None) -> World:
        w = build_world(url or f"sqlite+pysqlite:///{tmp_path / 'web.sqlite'}", tmp_path, settings)
        made.append(w)
        return w

    yield make
    for w in made:
        for c in w.clients:
            c.close()
        w.ws.close()


@pytest.fixture
def world(world_factory) -> World:
    return world_factory()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def any_world(request, world_factory, tmp_path) -> World:
    """The world on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return world_factory()
    return world_factory(request.getfixturevalue("pg_url"))
