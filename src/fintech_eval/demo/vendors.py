"""The demo's synthetic technology vendors, rated the way a certification centre rates one on the platform.

:func:`vendor_entries` draws seeded score entries (a rubric step per applicable indicator, an evidence
reference for most of them, the reviewer and the review's date); :func:`store_vendor_ratings` registers the
vendors (``register/vendors.csv`` through ``fintech-eval register vendors``' own function), opens one assessment
per vendor and evaluation model for the round, stores the entries as the evaluator's answers, publishes each
rating (:mod:`fintech_eval.app.vendor_assessments`), and returns the ratings of the stored answers: the demo's
vendor reports are rendered from these, so the reports and ``/vendors`` of ``fintech-eval serve`` on the
demo's database show the same levels, reasons and improvement plans.

The demo's evidence is a written reference per indicator (``SYN-V-COMP/EV-C1.1.1``: evidence held on file);
no evidence file is uploaded (the rating would name it beside the reference, and the reports would change).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..app import Workspace
from ..app.registers import register_file
from ..app.vendor_assessments import (
    assessed_indicators,
    create_assessment,
    publish_assessment,
    rate_assessment,
    save_answers,
)
from ..capability import Rating, Vendor, load_capability_framework

#: The demo's synthetic technology vendors, one per provider type: a maturity that drives their rubric
#: steps, and the highest level whose mandatory requirements they meet (the comprehensive vendor scores in a
#: high band but meets the requirements of level 3 only, so the staged rule caps it — the report says why).
DEMO_VENDORS = (
    ("SYN-V-COMP", "comprehensive", "合成综合科技服务商（合成数据）", "Synthetic Comprehensive Vendor", 0.9, 3),
    ("SYN-V-PROD", "product", "合成产品科技服务商（合成数据）", "Synthetic Product Vendor", 0.75, 4),
    ("SYN-V-CONS", "consulting", "合成咨询科技服务商（合成数据）", "Synthetic Consulting Vendor", 0.55, 2),
    ("SYN-V-OUTS", "outsourcing", "合成外包科技服务商（合成数据）", "Synthetic Outsourcing Vendor", 0.35, 1),
)
#: Who reviewed the synthetic evidence, and when (the entries' ``reviewer`` and ``date``).
DEMO_REVIEWER = "demo reviewer"
DEMO_REVIEW_DATE = "2024-12-31"


def vendor_entries(seed: int = 2024) -> dict[str, tuple[Vendor, pd.DataFrame]]:
    """Seeded score entries of the demo vendors on the default capability model: a step per applicable
    indicator around the vendor's maturity, evidence for about 90 % of them (the rest are capped), and the
    mandatory requirements of the levels up to the vendor's target met, with evidence."""
    fw = load_capability_framework()
    rng = np.random.default_rng(seed)
    out = {}
    for vid, ptype, name_zh, _name_en, maturity, target in DEMO_VENDORS:
        need: dict[str, int] = {}
        for m in fw.models:
            for r in fw.requirements(m.id):
                if r.level <= target:
                    need[r.indicator] = max(need.get(r.indicator, 0), r.min_step)
        rows = []
        for ind in fw.indicators():
            if not fw.applies(ind.code, ptype):
                continue
            steps = fw.step_numbers(ind.code)
            pos = int(np.clip(round(rng.normal(maturity, 0.2) * (len(steps) - 1)), 0, len(steps) - 1))
            step = max(steps[pos], need.get(ind.code, steps[0]))
            evidence = ind.code in need or rng.random() < 0.9
            rows.append({"indicator": ind.code, "step": step, "evidence_ref": f"{vid}/EV-{ind.code}" if evidence else None,
                         "reviewer": DEMO_REVIEWER, "date": DEMO_REVIEW_DATE, "comment": "synthetic"})
        out[vid] = (Vendor(vid, ptype, name_zh), pd.DataFrame(rows))
    return out


def write_vendor_register(folder: Path) -> Path:
    """``vendors.csv`` in the register's columns (``fintech-eval register vendors`` reads it)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "vendors.csv"
    pd.DataFrame([{"id": v[0], "name_zh": v[2], "name_en": v[3], "provider_type": v[1]} for v in DEMO_VENDORS]
                 ).to_csv(path, index=False)
    return path


def store_vendor_ratings(ws: Workspace, register_folder: Path, *, seed: int, round: str,  # noqa: A002
                         who: str = "demo") -> tuple[dict[str, dict[str, Rating]], dict[str, dict[str, int]]]:
    """Register the demo vendors, rate each under every model of the default framework in ``round`` through
    the platform's assessments (answers by :data:`DEMO_REVIEWER` dated :data:`DEMO_REVIEW_DATE`, published by
    ``who``), and return (vendor → model → the rating of the stored answers, vendor → model → assessment id)."""
    fw = load_capability_framework()
    register_file(ws, write_vendor_register(register_folder), "vendors", who=who, why="synthetic vendors")
    reviewed = dt.datetime.combine(dt.date.fromisoformat(DEMO_REVIEW_DATE), dt.time(12, 0), tzinfo=dt.UTC)
    ratings: dict[str, dict[str, Rating]] = {}
    ids: dict[str, dict[str, int]] = {}
    for vid, (vendor, entries) in vendor_entries(seed).items():
        for m in fw.models:
            aid = int(create_assessment(ws, vid, model=m.id, round=round, who=who)["id"])
            asked = set(assessed_indicators(fw, m.id, vendor.provider_type))
            answers = [_answer(r) for r in entries.to_dict("records") if r["indicator"] in asked]
            save_answers(ws, aid, answers, who=DEMO_REVIEWER, at=reviewed)
            publish_assessment(ws, aid, who=who)
            ratings.setdefault(vid, {})[m.id] = rate_assessment(ws, aid)  # the published answers, rated again
            ids.setdefault(vid, {})[m.id] = aid
    return ratings, ids


def _answer(row: dict[str, Any]) -> dict[str, Any]:
    """An entry as an answer (a missing reference is None, not the frame's NaN: ``str(nan)`` is a reference)."""
    def text(x: Any) -> str | None:
        return None if x is None or pd.isna(x) else str(x)

    return {"indicator": row["indicator"], "step": int(row["step"]), "evidence_ref": text(row["evidence_ref"]),
            "note": text(row["comment"])}
