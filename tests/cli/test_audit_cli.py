"""``fintech-eval audit list``: the platform's audit log from the CLI, through the function the API's
``GET /api/v1/audit`` calls (:func:`fintech_eval.app.audit.audit_entries`): newest first, filtered by actor, action
prefix, object and dates (a date is a day in China Standard Time), limited, as a table, CSV or JSON."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from fintech_eval.app import Workspace
from fintech_eval.app.audit import audit, audit_entries, audit_window
from fintech_eval.errors import DataError
from fintech_eval.store.audit import log_row
from fintech_eval.store.models import AuditLog
from tests.clirun import run_cli

UTC = dt.UTC
#: (at in UTC, actor, action, object, detail): 2025-03-01 15:59 UTC is 23:59 on 1 March in Beijing, 16:00 UTC is
#: already 2 March there
ENTRIES = [
    (dt.datetime(2025, 2, 28, 1, 0, tzinfo=UTC), "admin@example.org", "user.create", "user:2", {"role": "evaluator"}),
    (dt.datetime(2025, 3, 1, 2, 0, tzinfo=UTC), "anonymous", "sign_in.failure", "email:x@example.org", {"reason": "unknown"}),
    (dt.datetime(2025, 3, 1, 15, 59, tzinfo=UTC), "ev@example.org", "review.return", "return:7", {"fields": ["outlets"]}),
    (dt.datetime(2025, 3, 1, 16, 0, tzinfo=UTC), "ev@example.org", "review.accept", "return:7", {"from": "resubmitted"}),
    (dt.datetime(2025, 3, 2, 9, 0, tzinfo=UTC), "ev@example.org", "review.accept", "return:8", None),
    (dt.datetime(2025, 3, 3, 9, 0, tzinfo=UTC), "=cmd|' /C calc'!A0", "signxin.odd", "return:70", {"note": "审核"}),
]


@pytest.fixture
def db(tmp_path) -> str:
    url = f"sqlite+pysqlite:///{tmp_path / 'audit.sqlite'}"
    with Workspace(url) as ws, ws.sessions() as s, s.begin():
        s.add_all([AuditLog(**log_row(at, actor, action, obj, detail, ip="10.0.0.1")) for at, actor, action, obj, detail in ENTRIES])
    return url


def _json(db: str, capsys, monkeypatch, *args: str) -> list[dict]:
    r = run_cli(["audit", "list", "--db", db, "--format", "json", *args], capsys, monkeypatch)
    assert r.code == 0, r.err
    return json.loads(r.out)


def _actions(rows: list[dict]) -> list[tuple[str, str]]:
    return [(x["action"], x["object"]) for x in rows]


def test_the_table_is_newest_first_with_the_count(db, capsys, monkeypatch):
    r = run_cli(["audit", "list", "--db", db], capsys, monkeypatch)
    assert r.code == 0, r.err
    assert "audit log: 6 entries" in r.out and "--limit" not in r.out
    lines = [ln for ln in r.out.splitlines() if "@example.org" in ln or "anonymous" in ln]
    assert "review.accept" in lines[0] and "return:8" in lines[0] and "user.create" in lines[-1]
    assert '{"role":"evaluator"}' in r.out and "2025-02-28T01:00:00+00:00" in r.out and "10.0.0.1" in r.out
    r = run_cli(["audit", "list", "--db", db, "--limit", "2"], capsys, monkeypatch)
    assert "audit log: 6 entries, the newest 2 shown (--limit)" in r.out and "user.create" not in r.out


def test_filters_combine(db, capsys, monkeypatch):
    assert _actions(_json(db, capsys, monkeypatch, "--action", "review")) == [
        ("review.accept", "return:8"), ("review.accept", "return:7"), ("review.return", "return:7")]
    assert _actions(_json(db, capsys, monkeypatch, "--action", "review.accept", "--object", "return:7")) == [
        ("review.accept", "return:7")]
    # a prefix is plain text: the _ of sign_in matches only itself, not any character
    assert _actions(_json(db, capsys, monkeypatch, "--action", "sign_in")) == [("sign_in.failure", "email:x@example.org")]
    assert _json(db, capsys, monkeypatch, "--object", "return:") == []  # an object is matched exactly
    assert len(_json(db, capsys, monkeypatch, "--actor", "ev@example.org")) == 3
    assert _json(db, capsys, monkeypatch, "--actor", "ev@example.org", "--action", "user") == []
    r = run_cli(["audit", "list", "--db", db, "--actor", "nobody@example.org"], capsys, monkeypatch)
    assert r.code == 0 and "no audit entry matches" in r.out


def test_dates_are_days_in_china_standard_time(db, capsys, monkeypatch):
    day1 = _json(db, capsys, monkeypatch, "--since", "2025-03-01", "--until", "2025-03-01")
    assert _actions(day1) == [("review.return", "return:7"), ("sign_in.failure", "email:x@example.org")]
    day2 = _json(db, capsys, monkeypatch, "--since", "2025-03-02", "--until", "2025-03-02")
    assert _actions(day2) == [("review.accept", "return:8"), ("review.accept", "return:7")]
    # a date and time: up to and including it; with a zone, that zone
    at = _json(db, capsys, monkeypatch, "--since", "2025-03-01T16:00:00+00:00", "--until", "2025-03-02T00:00")
    assert _actions(at) == [("review.accept", "return:7")]
    assert len(_json(db, capsys, monkeypatch, "--since", "2025-03-03")) == 1


def test_json_and_csv(db, capsys, monkeypatch):
    [row] = _json(db, capsys, monkeypatch, "--action", "user")
    assert row == {"id": 1, "at": "2025-02-28T01:00:00+00:00", "actor": "admin@example.org", "actor_id": None,
                   "action": "user.create",
                   "object": "user:2", "detail": {"role": "evaluator"}, "ip": "10.0.0.1"}
    r = run_cli(["audit", "list", "--db", db, "--format", "csv", "--limit", "1"], capsys, monkeypatch)
    [rec] = list(csv.DictReader(io.StringIO(r.out)))
    assert list(rec) == ["id", "at", "actor", "actor_id", "action", "object", "detail", "ip"]
    assert rec["actor"] == "'=cmd|' /C calc'!A0"  # a formula is written as text, never run by a spreadsheet
    assert json.loads(rec["detail"]) == {"note": "审核"}


def test_a_wrong_date_is_an_error_naming_the_option(db, capsys, monkeypatch):
    r = run_cli(["audit", "list", "--db", db, "--since", "1 March"], capsys, monkeypatch)
    assert r.code == 2 and "[audit.since]" in r.err and "'1 March' is not a date" in r.err
    r = run_cli(["audit", "list", "--db", db, "--since", "2025-03-02", "--until", "2025-03-01"], capsys, monkeypatch)
    assert r.code == 2 and "[audit.window]" in r.err
    with pytest.raises(DataError) as exc:
        audit_window(until="2025-13-01")
    assert exc.value.problems[0].message_zh.startswith("--until '2025-13-01' 不是日期")


def test_the_api_and_the_cli_read_the_same_entries(db, capsys, monkeypatch):
    """``GET /api/v1/audit`` and the CLI call one function; an entry written through ``audit`` is in both."""
    from fintech_eval.web.routes import audit as route

    assert route.audit_entries is audit_entries
    with Workspace(db) as ws:
        audit(ws, "cli", "campaign.create", "campaign:1", {"period": "2024"})
        api_items, total = audit_entries(ws, actor="cli")
    assert total == 1
    [row] = _json(db, capsys, monkeypatch, "--actor", "cli")
    assert row["id"] == api_items[0]["id"] and row["action"] == "campaign.create" and row["detail"] == {"period": "2024"}
