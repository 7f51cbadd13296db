"""Results over the API, on SQLite and PostgreSQL: staff score a campaign's stored data and publish the run with
what submitters see of their peers (audited, from the web and the CLI alike); readers see the ranking with
filters, scorecards, the province map, the Plan-task progress and the report files; a submitter sees its own
scorecard, the anonymised distribution of its peers (never a name) or more or less as the publisher chose."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from fintech_eval.app.audit import audit_entries
from fintech_eval.app.results import MIN_PEERS, distribution, register_names, run_report
from fintech_eval.app.runs import run_info
from fintech_eval.report.html import render_html
from tests.clirun import run_cli

from .results_data import load_round, score_via_api


@pytest.fixture
def scored(any_world, tmp_path):
    """The world with the round loaded, a run scored and published through the API by the evaluator."""
    w = any_world
    rnd = load_round(w.ws, tmp_path)
    ev = w.client("evaluator")
    run = score_via_api(w, ev, campaign=rnd.campaign)
    return w, rnd, ev, run


def test_staff_score_see_warnings_and_publish_audited(scored):
    w, rnd, ev, run = scored
    assert run["status"] == "draft" and run["blocks"] == ["H", "J", "Q"] and run["campaign"] == rnd.campaign
    assert run["n_warnings"] == sum(len(v) for v in run["warnings"].values()) > 0
    assert run["out_dir"] and run["specs"]["J"]["data"]["source"] == "store"
    viewer = w.client("viewer")
    for path in ("", "/ranking", "/entities/B001", "/provinces", "/files"):  # a draft is not there for a viewer
        assert viewer.get(f"/api/v1/runs/{run['id']}{path}").status_code == 404, path
    assert viewer.post(f"/api/v1/runs/{run['id']}/publish", json={}).status_code == 403
    r = ev.post(f"/api/v1/runs/{run['id']}/publish", json={"peer_visibility": "everything"})
    assert r.status_code == 422 and r.json()["field"] == "peer_visibility"
    r = ev.post(f"/api/v1/runs/{run['id']}/publish", json={"reports": False})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["peer_visibility"]) == ("published", "distribution")
    entries, _ = audit_entries(w.ws, action="run.publish")
    assert [(e["actor"], e["object"], e["detail"]["peer_visibility"], e["detail"]["before"]["status"]) for e in entries] == [
        ("evaluator@example.org", f"run:{run['id']}", "distribution", "draft")]
    scored_entries, _ = audit_entries(w.ws, action="run.score")
    assert scored_entries[0]["object"] == f"run:{run['id']}" and scored_entries[0]["detail"]["blocks"] == ["H", "J", "Q"]
    assert viewer.get(f"/api/v1/runs/{run['id']}").json()["out_dir"] is None  # the server's folders: staff only


def test_bad_requests_to_score(scored, tmp_path):
    w, rnd, ev, _ = scored
    r = ev.post("/api/v1/runs", json={"campaign": rnd.campaign, "spec": "nope"})
    assert r.status_code == 422 and r.json()["rule"] == "run.spec" and r.json()["field"] == "spec"
    assert ev.post("/api/v1/runs", json={"campaign": 999}).status_code == 404
    r = ev.post("/api/v1/runs", json={"campaign": "1"})  # strict: a string is not an id
    assert r.status_code == 422
    assert ev.post("/api/v1/runs", json={"campaign": rnd.campaign, "blocks": ["X"]}).status_code == 422
    assert w.client("submitter").post("/api/v1/runs", json={"campaign": rnd.campaign}).status_code == 403


def test_readers_see_ranking_filters_scorecard_map_plan_and_files(scored):
    w, rnd, ev, run = scored
    rid = run["id"]
    ev.post(f"/api/v1/runs/{rid}/publish", json={"reports": False})
    v = w.client("viewer")
    rows = v.get(f"/api/v1/runs/{rid}/ranking?limit=500").json()["items"]
    assert {r["entity"] for r in rows} == set(rnd.members)
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True) and [r["rank"] for r in rows][:3] == [1, 2, 3]
    banks = v.get(f"/api/v1/runs/{rid}/ranking?sector=bank&limit=500").json()["items"]
    assert {r["entity"] for r in banks} == {e for e, s in rnd.sectors.items() if s == "bank"}
    assert [r["rank_in_sector"] for r in banks] == sorted(r["rank_in_sector"] for r in banks)
    b001 = next(r for r in rows if r["entity"] == "B001")
    assert (b001["province"], b001["name"]) == ("110000", "甲银行") and set(b001["scores"]) == {f"J-A{i}" for i in range(1, 7)}
    beijing = v.get(f"/api/v1/runs/{rid}/ranking?province=北京").json()["items"]
    assert "B001" in {r["entity"] for r in beijing} and {r["province"] for r in beijing} == {"110000"}
    assert v.get(f"/api/v1/runs/{rid}/ranking?province=Atlantis").json()["rule"] == "results.province"
    bands = {b: {r["entity"] for r in v.get(f"/api/v1/runs/{rid}/ranking?size_band={b}&limit=500").json()["items"]}
             for b in ("small", "medium", "large")}
    banded = set().union(*bands.values())
    assert sum(map(len, bands.values())) == len(banded) and len(banded) >= len(rnd.members) - 3
    assert max(map(len, bands.values())) - min(map(len, bands.values())) <= 1  # equal-count thirds
    assert v.get(f"/api/v1/runs/{rid}/ranking?size_band=huge").status_code == 422

    sc = v.get(f"/api/v1/runs/{rid}/entities/B001?lang=en").json()
    assert sc["score"] == pytest.approx(b001["score"]) and sc["rank"] == b001["rank"] and sc["of"] == len(rows)
    assert sc["group_ranks"]["sector"] == {"group": "bank", "rank": b001["rank_in_sector"], "of": len(banks)}
    levels = {a["code"]: a for a in sc["aggregates"]}
    assert {"J-A1", "J-A1B1"} <= set(levels) and levels["J-A1"]["score"] == pytest.approx(b001["scores"]["J-A1"])
    assert len(sc["strengths"]) == len(sc["weaknesses"]) == 5
    assert sc["strengths"][0]["rank"] <= sc["weaknesses"][0]["rank"]
    assert v.get(f"/api/v1/runs/{rid}/entities/NOPE").status_code == 404

    m = v.get(f"/api/v1/runs/{rid}/provinces").json()
    assert m["block"] == "Q" and m["mode"] == "units" and len(m["provinces"]) == 31
    mj = v.get(f"/api/v1/runs/{rid}/provinces?block=J").json()
    bj = next(p for p in mj["provinces"] if p["code"] == "110000")
    beijing_scores = [r["score"] for r in beijing]
    assert bj["institutions"] == len(beijing_scores) and bj["value"] == pytest.approx(sum(beijing_scores) / len(beijing_scores))

    assert v.get(f"/api/v1/runs/{rid}/industries").json() == ["bank", "insurance", "payment", "securities"]
    plan = v.get(f"/api/v1/runs/{rid}/industries/bank/plan?lang=en").json()
    assert len(plan) == 27 and plan[0]["code"] == "PLAN-T01" and any(t["score"] is not None for t in plan)
    assert v.get(f"/api/v1/runs/{rid}/industries/farming/plan").status_code == 404
    banks_ = sorted(e for e, s in rnd.sectors.items() if s == "bank")
    zh, en = (register_names(w.ws, banks_, lang) for lang in ("zh", "en"))
    page = render_html(run_report(w.ws, rid, "industry", entity="bank", lang="en"))  # its institutions in English too
    assert not [n for n in zh.values() if n in page] and [n for n in en.values() if n in page]

    files = v.get(f"/api/v1/runs/{rid}/files?limit=500").json()
    names = {f["name"] for f in files["items"]}
    assert {"J-2024_ranking.zh.html", "J-2024_ranking.zh.pdf", "J-2024_ranking.zh.xlsx", "Q-2024_region.zh.html",
            "H-2024_industry_bank.zh.html", "J-2024_scorecard_B001.zh.pdf", "J-2024_scores.csv"} <= names
    csv = v.get(f"/api/v1/runs/{rid}/files/J-2024_scores.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert set(pd.read_csv(io.StringIO(csv.text))["uCode"]) == set(rnd.members)
    x = v.get(f"/api/v1/runs/{rid}/files/J-2024_scorecard_B001.en.xlsx")
    assert x.status_code == 200 and x.content[:2] == b"PK"
    assert v.get(f"/api/v1/runs/{rid}/files/..%2F..%2Fetc%2Fpasswd").status_code == 404


def test_submitter_sees_itself_and_peers_only_as_the_publisher_allows(scored, capsys, monkeypatch):
    w, rnd, ev, run = scored
    rid = run["id"]
    sub = w.client("submitter")
    assert sub.get(f"/api/v1/runs/{rid}/entities/B001").status_code == 404  # a draft
    ev.post(f"/api/v1/runs/{rid}/publish", json={"reports": False})

    # distribution (default): own rows and scorecard; peers anonymised; nothing named of anyone else
    mine = sub.get(f"/api/v1/runs/{rid}/ranking").json()["items"]
    assert [r["entity"] for r in mine] == ["B001"]
    assert sub.get(f"/api/v1/runs/{rid}/entities/B001").status_code == 200
    assert sub.get(f"/api/v1/runs/{rid}/entities/B002").status_code == 404
    peers = sub.get(f"/api/v1/runs/{rid}/peers/B001")
    assert peers.status_code == 200
    body = peers.text
    assert not any(e in body for e in rnd.members if e != "B001") and "乙银行" not in body
    p = peers.json()
    assert p["overall"]["n"] == len(rnd.members) and p["in_sector"]["n"] == 10
    assert sum(b["count"] for b in p["overall"]["histogram"]) == len(rnd.members)
    assert p["overall"]["q1"] <= p["overall"]["median"] <= p["overall"]["q3"]
    assert sub.get(f"/api/v1/runs/{rid}/peers/B002").status_code == 404
    for path in ("/provinces", "/industries", "/industries/bank/plan", "/files", "/files/J-2024_scores.csv"):
        assert sub.get(f"/api/v1/runs/{rid}{path}").status_code == 404, path

    # the named ranking: everything a viewer sees (but still only its own scorecard)
    ev.post(f"/api/v1/runs/{rid}/publish", json={"peer_visibility": "ranking", "reports": False})
    assert len(sub.get(f"/api/v1/runs/{rid}/ranking?limit=500").json()["items"]) == len(rnd.members)
    assert sub.get(f"/api/v1/runs/{rid}/provinces").status_code == 200
    assert sub.get(f"/api/v1/runs/{rid}/entities/B002").status_code == 404

    # nothing of the peers, from the CLI this time (audited too)
    res = run_cli(["publish", str(rid), "--peers", "none", "--no-reports", "--db", w.ws.url, "--user", "ops"], capsys, monkeypatch)
    assert res.code == 0, res.err
    assert run_info(w.ws, rid)["peer_visibility"] == "none"
    assert sub.get(f"/api/v1/runs/{rid}/peers/B001").status_code == 404
    assert [r["entity"] for r in sub.get(f"/api/v1/runs/{rid}/ranking").json()["items"]] == ["B001"]
    entries, _ = audit_entries(w.ws, action="run.publish")
    assert [(e["actor"], e["detail"]["peer_visibility"]) for e in entries][:2] == [("ops", "none"), ("evaluator@example.org", "ranking")]


def test_a_small_group_shows_no_distribution():
    assert distribution([10.0, 20.0, 30.0, 40.0])["shown"] is False
    d = distribution([float(x) for x in range(0, 100, 10)], own=55.0)
    assert d["shown"] and d["n"] == 10 and d["median"] == pytest.approx(45.0) and d["own_percentile"] == pytest.approx(0.6)
    assert [b["count"] for b in d["histogram"]] == [1] * 10 and MIN_PEERS == 5
    z = distribution([-1.5, -0.5, 0.0, 0.2, 0.5, 1.0, 2.5])  # z-scores: bins over their range, every score counted
    assert z["histogram"][0]["from"] == -1.5 and z["histogram"][-1]["to"] == 2.5
    assert sum(b["count"] for b in z["histogram"]) == 7


def test_score_with_a_saved_spec(world_factory, tmp_path):
    """A saved spec of the server's specs folder scores its own block with its own steps; the form offers it."""
    import yaml

    from fintech_eval.service import block_spec
    from fintech_eval.web.settings import WebSettings

    specs = tmp_path / "specs"
    specs.mkdir()
    doc = block_spec("J", "2024", name="J by z-scores")
    doc["steps"] = [{"normalise": {"method": "zscore", "by": "sector"}}, {"aggregate": {"method": "amean", "dat_thresh": 0.5}}]
    (specs / "zscore.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    w = world_factory(settings=WebSettings(runs_dir=str(tmp_path / "runs"), specs_dir=str(specs)))
    rnd = load_round(w.ws, tmp_path)
    ev = w.client("evaluator")
    assert '<option value="zscore">zscore</option>' in ev.get("/results").text
    run = score_via_api(w, ev, campaign=rnd.campaign, spec="zscore")
    assert run["blocks"] == ["J"] and run["specs"]["J"]["steps"][0]["normalise"]["method"] == "zscore"
    assert run["specs"]["J"]["data"]["campaign"] == rnd.campaign and run["out_dir"].startswith(str(tmp_path / "runs"))
    ev.post(f"/api/v1/runs/{run['id']}/publish", json={"reports": False})
    rows = ev.get(f"/api/v1/runs/{run['id']}/ranking?limit=500").json()["items"]
    assert len(rows) == len(rnd.members) and min(r["score"] for r in rows) < 0  # z-scores, not 0-100
