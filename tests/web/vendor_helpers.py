"""Vendor assessments for the web tests: ``assessment(w, "V001", published=True)`` opens one (a new round each
call, so that tests and matrix cells never share one) through the application layer."""

from __future__ import annotations

import itertools

from fintech_eval.app.vendor_assessments import create_assessment, publish_assessment, save_answers

_rounds = itertools.count(1)
EVALUATOR = "evaluator@example.org"
#: A few answers of a product vendor: C1.2.1 with a written evidence reference, C5.4.1 (quantitative: 0 cases
#: is its top step) without evidence, so the rating caps it and its requirement blocks level 1.
ANSWERS = [{"indicator": "C1.2.1", "step": 2, "evidence_ref": "archive 2026-17"},
           {"indicator": "C5.4.1", "value": 0}]


def assessment(w, vendor: str = "V001", *, published: bool = False, answers: list[dict] | None = None,
               model: str = "comprehensive") -> int:
    a = create_assessment(w.ws, vendor, model=model, round=f"R{next(_rounds)}", who=EVALUATOR)
    if answers:
        save_answers(w.ws, a["id"], answers, who=EVALUATOR)
    if published:
        publish_assessment(w.ws, a["id"], who=EVALUATOR)
    return a["id"]


# ---------------------------------------------------------------------------- the authorization matrix's cells
#: "own" is vendor V001 (the submitter is bound to it), "other" is V002.
def vendor_of(tenancy: str) -> str:
    return "V001" if tenancy == "own" else "V002"


def published(w, tenancy: str, *, evidence: bool = False) -> tuple[int, int | None]:
    """A published assessment of the tenancy's vendor (one per world and kind, made on first use), and the id of
    its evidence file when asked."""
    from fintech_eval.app.vendor_assessments import add_evidence

    cache = w.__dict__.setdefault("_vendor_published", {})
    key = (tenancy, evidence)
    if key not in cache:
        aid = assessment(w, vendor_of(tenancy), answers=ANSWERS)
        eid = add_evidence(w.ws, aid, "C1.2.1", "policy.pdf", b"%PDF-1.4 policy", who=EVALUATOR)["id"] if evidence else None
        publish_assessment(w.ws, aid, who=EVALUATOR)
        cache[key] = (aid, eid)
    return cache[key]


def draft(w, tenancy: str, *, evidence: bool = False) -> tuple[int, int | None]:
    """A fresh draft of the tenancy's vendor (a cell that changes it never disturbs another)."""
    from fintech_eval.app.vendor_assessments import add_evidence

    aid = assessment(w, vendor_of(tenancy))
    eid = add_evidence(w.ws, aid, "C1.2.1", "policy.pdf", b"%PDF-1.4 policy", who=EVALUATOR)["id"] if evidence else None
    return aid, eid


def assessment_params(kind: str, *, evidence: bool = False):
    def params(w, role, tenancy) -> dict:
        aid, eid = (published if kind == "published" else draft)(w, tenancy, evidence=evidence)
        return {"vendor_id": vendor_of(tenancy), "assessment_id": aid, **({"evidence_id": eid} if evidence else {})}
    return params


def _csrf(client) -> str:
    return client.headers.get("X-CSRF-Token", "")


def upload_api(w, client, role, tenancy):
    aid, _ = draft(w, tenancy)
    return client.post(f"/api/v1/vendors/{vendor_of(tenancy)}/assessments/{aid}/evidence", data={"indicator": "C1.2.1"},
                       files={"file": ("p.txt", b"policy", "text/plain")})


def open_page_form(w, client, role, tenancy):
    return client.post(f"/vendors/{vendor_of(tenancy)}/assessments", follow_redirects=False,
                       data={"csrf_token": _csrf(client), "model": "comprehensive", "round": f"P{next(_rounds)}"})


def answers_page_form(w, client, role, tenancy):
    aid, _ = draft(w, tenancy)
    return client.post(f"/vendors/{vendor_of(tenancy)}/assessments/{aid}/answers", follow_redirects=False,
                       data={"csrf_token": _csrf(client), "step:C1.2.1": "2"})


def upload_page_form(w, client, role, tenancy):
    aid, _ = draft(w, tenancy)
    return client.post(f"/vendors/{vendor_of(tenancy)}/assessments/{aid}/evidence", follow_redirects=False,
                       data={"csrf_token": _csrf(client), "indicator": "C1.2.1"},
                       files={"file": ("p.txt", b"policy", "text/plain")})


def withdraw_page_form(w, client, role, tenancy):
    aid, eid = draft(w, tenancy, evidence=True)
    return client.post(f"/vendors/{vendor_of(tenancy)}/assessments/{aid}/evidence/{eid}/withdraw",
                       follow_redirects=False, data={"csrf_token": _csrf(client)})


def publish_page_form(w, client, role, tenancy):
    aid, _ = draft(w, tenancy)
    return client.post(f"/vendors/{vendor_of(tenancy)}/assessments/{aid}/publish", follow_redirects=False,
                       data={"csrf_token": _csrf(client)})


# ---------------------------------------------------------------------------- self-assessments (the vendor fills)
SUBMITTER = "submitter@example.org"  # the conftest's submitter, bound to V001


def self_assessment(w, vendor: str = "V001", *, answers: list[dict] | None = None, submitted: bool = False,
                    model: str = "comprehensive") -> int:
    """A fresh assessment opened as ``vendor``'s self-assessment; answered by the vendor's submitter and
    submitted when asked (through the application layer)."""
    from fintech_eval.app.vendor_self_assessment import submit_self_assessment

    a = create_assessment(w.ws, vendor, model=model, round=f"S{next(_rounds)}", who=EVALUATOR, self_assessment=True)
    if answers or submitted:
        save_answers(w.ws, a["id"], answers or ANSWERS, who=SUBMITTER, as_vendor=True)
    if submitted:
        submit_self_assessment(w.ws, a["id"], who=SUBMITTER)
    return a["id"]


def self_params(*, submitted: bool = False, answered: bool = False, evidence: bool = False):
    """Matrix parameters: a fresh self-assessment of the tenancy's vendor (and a file the vendor uploaded)."""
    from fintech_eval.app.vendor_assessments import add_evidence

    def params(w, role, tenancy) -> dict:
        aid = self_assessment(w, vendor_of(tenancy), answers=ANSWERS if answered else None, submitted=submitted)
        out = {"vendor_id": vendor_of(tenancy), "assessment_id": aid}
        if evidence:
            out["evidence_id"] = add_evidence(w.ws, aid, "C1.2.1", "policy.pdf", b"%PDF-1.4 policy", who=SUBMITTER,
                                              as_vendor=True)["id"]
        return out
    return params


def self_upload_api(w, client, role, tenancy):
    aid = self_assessment(w, vendor_of(tenancy))
    return client.post(f"/api/v1/vendors/{vendor_of(tenancy)}/assessments/{aid}/evidence", data={"indicator": "C1.2.1"},
                       files={"file": ("p.txt", b"policy", "text/plain")})


def self_answers_page_form(w, client, role, tenancy):
    aid = self_assessment(w, vendor_of(tenancy))
    return client.post(f"/vendors/{vendor_of(tenancy)}/assessments/{aid}/answers", follow_redirects=False,
                       data={"csrf_token": _csrf(client), "step:C1.2.1": "2"})


def self_upload_page_form(w, client, role, tenancy):
    aid = self_assessment(w, vendor_of(tenancy))
    return client.post(f"/vendors/{vendor_of(tenancy)}/assessments/{aid}/evidence", follow_redirects=False,
                       data={"csrf_token": _csrf(client), "indicator": "C1.2.1"},
                       files={"file": ("p.txt", b"policy", "text/plain")})


def self_withdraw_page_form(w, client, role, tenancy):
    ids = self_params(evidence=True)(w, role, tenancy)
    return client.post("/vendors/{vendor_id}/assessments/{assessment_id}/evidence/{evidence_id}/withdraw".format(**ids),
                       follow_redirects=False, data={"csrf_token": _csrf(client)})


def submit_page_form(w, client, role, tenancy):
    aid = self_assessment(w, vendor_of(tenancy), answers=ANSWERS)
    return client.post(f"/vendors/{vendor_of(tenancy)}/assessments/{aid}/submit", follow_redirects=False,
                       data={"csrf_token": _csrf(client)})


def return_page_form(w, client, role, tenancy):
    aid = self_assessment(w, vendor_of(tenancy), submitted=True)
    return client.post(f"/vendors/{vendor_of(tenancy)}/assessments/{aid}/return", follow_redirects=False,
                       data={"csrf_token": _csrf(client), "note": "C1.2.1: the policy's approval page, please"})
