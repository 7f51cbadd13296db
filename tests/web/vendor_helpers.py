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
