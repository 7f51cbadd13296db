"""The vendor rating pages without a browser: the list per role, opening an assessment from the form, a refused
save (every problem beside its indicator, everything typed kept, nothing stored), the rating panel alone, what
a vendor's submitter is shown, and a self-assessment going back and forth."""

from __future__ import annotations

import re

from fintech_eval.app.vendor_assessments import assessment_detail

from .vendor_helpers import ANSWERS, assessment, self_assessment


def _csrf(c) -> str:
    return c.headers["X-CSRF-Token"]


def test_staff_open_an_assessment_and_a_refused_save_keeps_what_was_typed(world):
    w = world
    ev = w.client("evaluator")
    page = ev.get("/vendors?lang=en")
    assert page.status_code == 200 and 'id="v-V001"' in page.text and 'id="v-V002"' in page.text
    r = ev.post("/vendors/V002/assessments", data={"csrf_token": _csrf(ev), "model": "comprehensive", "round": "2026"},
                follow_redirects=False)
    assert r.status_code == 303
    aid = int(re.search(r"/assessments/(\d+)$", r.headers["location"]).group(1))
    twice = ev.post("/vendors/V002/assessments", data={"csrf_token": _csrf(ev), "model": "comprehensive", "round": "2026"})
    assert twice.status_code == 422 and "already has" in twice.text
    assert ev.post("/vendors/NOPE/assessments", data={"csrf_token": _csrf(ev), "model": "innovation",
                                                       "round": "1"}).status_code == 404

    url = f"/vendors/V002/assessments/{aid}"
    bad = ev.post(f"{url}/answers?lang=en", data={"csrf_token": _csrf(ev), "step:C1.2.1": "3",
                                                  "ref:C1.2.1": "my typed reference", "step:C1.1.1": "9"})
    assert bad.status_code == 422
    assert "step 9 is not one of the steps of C1.1.1" in bad.text
    assert 'value="my typed reference"' in bad.text  # kept as typed
    assert re.search(r'name="step:C1\.2\.1" value="3" checked', bad.text)
    assert assessment_detail(w.ws, aid)["answers"] == []  # nothing stored
    panel = ev.get(f"{url}?part=rating&lang=en")
    assert panel.status_code == 200 and panel.text.lstrip().startswith('<section id="rating"')
    assert "Below level 1" in panel.text


def test_a_submitter_sees_its_published_ratings_only(world):
    w = world
    draft = assessment(w, "V001", answers=ANSWERS)
    pub = assessment(w, "V001", answers=ANSWERS, published=True)
    other = assessment(w, "V002", published=True)
    sub = w.client("submitter")
    page = sub.get("/vendors?lang=en").text
    assert f"/vendors/V001/assessments/{pub}" in page and f"/assessments/{draft}" not in page and "V002" not in page
    assert "Open an assessment" not in page
    shown = sub.get(f"/vendors/V001/assessments/{pub}?lang=en")
    assert shown.status_code == 200 and 'id="steps"' in shown.text and "<fieldset" not in shown.text
    assert "evaluator@example.org" not in shown.text.split('id="rating"')[1]  # no history for the vendor
    for path in (f"/vendors/V001/assessments/{draft}", f"/vendors/V002/assessments/{other}",
                 f"/vendors/V001/assessments/{other}"):
        assert sub.get(path).status_code == 404, path
    assert sub.post(f"/vendors/V001/assessments/{draft}/publish", data={"csrf_token": _csrf(sub)}).status_code == 403
    assert w.client("viewer").get("/vendors").status_code == 403


def test_a_self_assessment_returned_with_a_note_and_what_each_side_is_shown(world):
    """The vendor's page of its self-assessment: the rubric with a submit button (no publish); once submitted, no
    control; the evaluator's page: return with a note (shown to the vendor, in its language) and publish."""
    w = world
    aid = self_assessment(w, "V001", answers=ANSWERS)
    url = f"/vendors/V001/assessments/{aid}"
    sub, ev = w.client("submitter"), w.client("evaluator")
    mine = sub.get(f"{url}?lang=zh").text
    assert "服务商自评中" in mine and 'id="submit"' in mine and 'id="publish"' not in mine and "<fieldset" in mine
    assert 'id="with-vendor"' in ev.get(f"{url}?lang=zh").text
    assert ev.post(f"{url}/publish", data={"csrf_token": _csrf(ev)}).status_code == 409
    assert sub.post(f"{url}/submit", data={"csrf_token": _csrf(sub)}, follow_redirects=False).status_code == 303
    done = sub.get(f"{url}?lang=en").text
    assert "submitted by the vendor, under review" in done and 'id="submit"' not in done
    assert 'form="answers"' in done and "disabled" in done.split('name="step:C1.2.1"')[1][:120]
    review = ev.get(f"{url}?lang=en").text
    assert 'id="return"' in review and 'id="publish"' in review and "submitted by the vendor" in review
    back = ev.post(f"{url}/return", data={"csrf_token": _csrf(ev), "note": "C1.2.1：请补充制度批准页"},
                   follow_redirects=False)
    assert back.status_code == 303
    again = sub.get(f"{url}?lang=zh").text
    assert 'id="returned"' in again and "C1.2.1：请补充制度批准页" in again and 'id="submit"' in again
    assert "退回服务商" in again  # the history, in Chinese
    twice = ev.post(f"{url}/return", data={"csrf_token": _csrf(ev)})
    assert twice.status_code == 409  # not submitted now
    listed = sub.get("/vendors?lang=en").text
    assert f"/vendors/V001/assessments/{aid}" in listed and "self-assessment: the vendor is filling it" in listed
