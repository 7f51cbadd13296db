"""``/api/v1/vendors`` on SQLite and PostgreSQL: an evaluator opens an assessment of V001, answers the rubric
(problems named per answer and indicator, nothing stored from a bad request), uploads evidence (kept byte for
byte; type checked from the bytes; size limited), reads the live rating (the capability package's own rating of
the same entries), publishes; the rating is then frozen; the vendor's submitter sees only published ratings of
its own vendor."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from fintech_eval.capability import Vendor, load_capability_framework, rate_vendor

from .vendor_helpers import assessment

BASE = "/api/v1/vendors"


def test_evaluator_rates_a_vendor_end_to_end(any_world):
    w = any_world
    ev = w.client("evaluator")
    r = ev.post(f"{BASE}/V001/assessments", json={"model": "comprehensive", "round": "2026"})
    assert r.status_code == 201, r.text
    a = r.json()
    assert (a["vendor"], a["provider_type"], a["status"], a["answered"]) == ("V001", "product", "draft", 0)
    url = f"{BASE}/V001/assessments/{a['id']}"
    again = ev.post(f"{BASE}/V001/assessments", json={"model": "comprehensive", "round": "2026"})
    assert again.status_code == 409 and again.json()["rule"] == "assessment.exists"

    # a bad request names every problem and stores nothing
    bad = ev.put(f"{url}/answers", json={"answers": [
        {"indicator": "C1.2.1", "step": 9}, {"indicator": "C1.1.1", "step": 2},
        {"indicator": "C9.9.9", "step": 1}, {"indicator": "C5.4.1", "step": 1, "value": 5}]})
    assert bad.status_code == 422
    got = {(p["rule"], p.get("indicator"), p.get("row")) for p in bad.json()["problems"]}
    assert got == {("scores.step", "C1.2.1", 1), ("scores.indicator", "C9.9.9", 3), ("scores.value", "C5.4.1", 4)}
    assert ev.get(url).json()["answers"] == []
    na = ev.put(f"{url}/answers", json={"answers": [{"indicator": "C4.1.1", "step": 1}]})  # ITSS: not for a product vendor
    assert na.status_code == 422 and na.json()["rule"] == "answer.not_applicable"
    strict = ev.put(f"{url}/answers", json={"answers": [{"indicator": "C1.2.1", "step": "2"}]})
    assert strict.status_code == 422  # "2" is not 2

    saved = ev.put(f"{url}/answers", json={"answers": [
        {"indicator": "C1.2.1", "step": 2, "evidence_ref": "archive 2026-17", "note": "制度已发布"},
        {"indicator": "C1.1.1", "step": 3}, {"indicator": "C5.4.1", "value": 0}]})
    assert saved.status_code == 200, saved.text
    live = saved.json()["rating"]
    assert saved.json()["changed"] == 3 and live["status"] == "draft"
    assert set(live["capped"]) >= {"C1.1.1", "C5.4.1"}  # no evidence yet: scored at the lowest step
    assert any(p["indicator"] == "C5.4.1" and p["evidence_only"] for p in live["plan"]["items"])

    # evidence: refused when its bytes are not what its name says, kept verbatim otherwise
    fake = ev.post(f"{url}/evidence", data={"indicator": "C5.4.1"}, files={"file": ("record.pdf", b"MZ\x90\x00", "application/pdf")})
    assert fake.status_code == 422 and fake.json()["rule"] == "evidence.content"
    exe = ev.post(f"{url}/evidence", data={"indicator": "C5.4.1"}, files={"file": ("x.exe", b"MZ", "application/pdf")})
    assert exe.status_code == 422 and exe.json()["rule"] == "evidence.type"
    pdf = b"%PDF-1.4\n% compliance record 2024-2026\n" + bytes(range(256))
    up = ev.post(f"{url}/evidence", data={"indicator": "C5.4.1"}, files={"file": ("合规记录.pdf", pdf, "text/plain")})
    assert up.status_code == 201, up.text
    e = up.json()
    assert (e["sha256"], e["size"], e["media_type"]) == (hashlib.sha256(pdf).hexdigest(), len(pdf), "application/pdf")
    twice = ev.post(f"{url}/evidence", data={"indicator": "C5.4.1"}, files={"file": ("copy.pdf", pdf, "application/pdf")})
    assert twice.json()["id"] == e["id"]  # the same bytes are the same evidence
    down = ev.get(f"{url}/evidence/{e['id']}")
    assert down.status_code == 200 and down.content == pdf and down.headers["content-type"] == "application/pdf"
    assert down.headers["x-content-sha256"] == e["sha256"]

    # the rating is the capability package's rating of the same entries
    rating = ev.get(f"{url}/rating").json()
    fw = load_capability_framework()
    entries = pd.DataFrame([
        {"indicator": "C1.1.1", "step": 3, "evidence_ref": None},
        {"indicator": "C1.2.1", "step": 2, "evidence_ref": "archive 2026-17"},
        {"indicator": "C5.4.1", "value": 0, "evidence_ref": "合规记录.pdf"}])
    direct = rate_vendor(fw, "comprehensive", Vendor("V001", "product", "甲科技"), entries)
    assert rating["total"] == pytest.approx(direct.total, abs=1e-4)
    assert (rating["level"], rating["next_level"]) == (direct.level, direct.next_level)
    assert "C5.4.1" not in rating["capped"] and "C1.1.1" in rating["capped"]
    assert [i["indicator"] for i in rating["plan"]["items"]] == [i.indicator for i in direct.plan.items]
    assert any(s.startswith("Why not Level") for s in rating["explanation"]["en"])

    # history: who changed what
    detail = ev.get(url).json()
    assert [h["action"] for h in detail["history"]] == ["create", "answer", "answer", "answer", "evidence.add"]
    assert detail["history"][1]["who"] == w.email("evaluator")

    # the submitter of V001 sees nothing of a draft
    sub = w.client("submitter")
    assert sub.get(url).status_code == 404
    assert sub.get(f"{url}/rating").status_code == 404
    assert sub.get(BASE).json()["items"][0]["assessments"] == []

    pub = ev.post(f"{url}/publish")
    assert pub.status_code == 200 and pub.json()["status"] == "published"
    assert pub.json()["total"] == rating["total"]
    frozen = ev.put(f"{url}/answers", json={"answers": [{"indicator": "C1.1.1", "step": 4}]})
    assert frozen.status_code == 409 and frozen.json()["rule"] == "assessment.published"
    assert ev.post(f"{url}/evidence", data={"indicator": "C1.1.1"},
                   files={"file": ("a.txt", b"text", "text/plain")}).status_code == 409
    assert ev.post(f"{url}/publish").status_code == 409

    seen = sub.get(f"{url}/rating")
    assert seen.status_code == 200 and seen.json()["total"] == rating["total"]
    shown = sub.get(url).json()
    assert shown["status"] == "published" and shown["answers"] is None and shown["history"] is None
    assert sub.get(f"{url}/evidence/{e['id']}").status_code == 404  # the files stay with the certification centre
    listed = sub.get(BASE).json()["items"]
    assert [v["id"] for v in listed] == ["V001"] and [x["id"] for x in listed[0]["assessments"]] == [a["id"]]


def test_another_vendors_rating_is_404_for_a_submitter(any_world):
    w = any_world
    other = assessment(w, "V002", published=True)
    sub = w.client("submitter")
    for path in (f"{BASE}/V002/assessments/{other}", f"{BASE}/V002/assessments/{other}/rating",
                 f"{BASE}/V001/assessments/{other}/rating", f"{BASE}/V002/assessments"):
        r = sub.get(path)
        assert r.status_code == 404, path
    assert sub.post(f"{BASE}/V001/assessments", json={"round": "x"}).status_code == 403
    assert w.client("viewer").get(BASE).status_code == 403
    staff = w.client("administrator").get(f"{BASE}/V001/assessments/{other}")  # under the wrong vendor
    assert staff.status_code == 404


def test_withdrawn_evidence_stops_counting(world):
    w = world
    aid = assessment(w, "V001", answers=[{"indicator": "C1.1.1", "step": 3}])
    ev = w.client("evaluator")
    url = f"{BASE}/V001/assessments/{aid}"
    e = ev.post(f"{url}/evidence", data={"indicator": "C1.1.1"},
                files={"file": ("plan.txt", "规划".encode(), "text/plain")}).json()
    assert "C1.1.1" not in ev.get(f"{url}/rating").json()["capped"]
    r = ev.delete(f"{url}/evidence/{e['id']}")
    assert r.status_code == 200 and r.json()["withdrawn_by"] == w.email("evaluator")
    assert "C1.1.1" in ev.get(f"{url}/rating").json()["capped"]
    assert ev.get(f"{url}/evidence/{e['id']}").content == "规划".encode()  # still kept verbatim
    assert ev.delete(f"{url}/evidence/999").status_code == 404


def test_evidence_size_limit(world, monkeypatch):
    monkeypatch.setenv("FINTECH_EVAL_MAX_EVIDENCE_MB", "0.001")  # 1,048 bytes
    aid = assessment(world, "V001")
    ev = world.client("evaluator")
    r = ev.post(f"{BASE}/V001/assessments/{aid}/evidence", data={"indicator": "C1.1.1"},
                files={"file": ("big.txt", b"x" * 5000, "text/plain")})
    assert r.status_code == 413 and r.json()["rule"] == "evidence.too_large"
    empty = ev.post(f"{BASE}/V001/assessments/{aid}/evidence", data={"indicator": "C1.1.1"},
                    files={"file": ("e.txt", b"", "text/plain")})
    assert empty.status_code == 422 and empty.json()["rule"] == "evidence.empty"
    assert ev.get(f"{BASE}/V001/assessments/{aid}").json()["evidence_files"] == []


def test_concurrent_saves_and_publish_lose_nothing(any_world):
    """Evaluators saving different indicators at once, and one publishing meanwhile: every save answered 200 is
    in the history, and the published rating is of exactly the answers saved before it (a save after it is 409)."""
    from concurrent.futures import ThreadPoolExecutor

    from fintech_eval.app.vendor_assessments import assessment_detail, rubric

    w = any_world
    aid = assessment(w, "V001")
    url = f"{BASE}/V001/assessments/{aid}"
    codes = [i["code"] for cap in rubric(w.ws, aid) for el in cap["elements"] for i in el["indicators"]
             if i["scoring"] == "rubric"][:12]

    def save(code: str) -> tuple[str, int]:
        c = w.client("evaluator")
        return code, c.put(f"{url}/answers", json={"answers": [{"indicator": code, "step": 1,
                                                                "evidence_ref": "file"}]}).status_code

    def publish() -> int:
        return w.client("administrator").post(f"{url}/publish").status_code

    with ThreadPoolExecutor(4) as pool:
        saves = [pool.submit(save, c) for c in codes[:6]]
        pub = pool.submit(publish)
        saves += [pool.submit(save, c) for c in codes[6:]]
        results = [f.result() for f in saves]
    assert pub.result() == 200
    saved = {c for c, status in results if status == 200}
    assert {status for _, status in results} <= {200, 409} and len(saved) >= 1
    detail = assessment_detail(w.ws, aid)
    assert {h["indicator"] for h in detail["history"] if h["action"] == "answer"} == saved
    rating = w.client("evaluator").get(f"{url}/rating").json()
    entered = {i["code"] for i in rating["indicators"] if i["entered"]}
    assert entered == saved


def test_the_innovation_model_asks_only_its_indicators(world):
    """An assessment answers the indicators its model uses (or names in a requirement) that apply to the
    vendor's type: the innovation model asks a product vendor far fewer than the comprehensive one."""
    from fintech_eval.app.vendor_assessments import rubric

    fw = load_capability_framework()
    aid = assessment(world, "V001", model="innovation")
    codes = [i["code"] for cap in rubric(world.ws, aid) for el in cap["elements"] for i in el["indicators"]]
    used = set(fw.model_indicators("innovation")) | {r.indicator for r in fw.requirements("innovation")}
    assert set(codes) == {c for c in used if fw.applies(c, "product")} and 0 < len(codes) < 103
    outside = next(i.code for i in fw.indicators() if i.code not in used)
    r = world.client("evaluator").put(f"{BASE}/V001/assessments/{aid}/answers",
                                      json={"answers": [{"indicator": outside, "step": 1}]})
    assert r.status_code == 422 and r.json()["rule"] == "answer.not_applicable"
