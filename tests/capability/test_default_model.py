"""The shipped default model fcsc-2023-default: counts, labels, grounding, weights, applicability, flows."""

from __future__ import annotations

import pandas as pd
import pytest

from fintech_eval.capability import (
    Vendor,
    load_capability_framework,
    rate_both,
    rate_vendor,
    template_indicators,
)
from fintech_eval.catalog import load_framework

PTYPES = ["comprehensive", "product", "consulting", "outsourcing"]


@pytest.fixture(scope="module")
def fw():
    return load_capability_framework("fcsc-2023-default")


def all_steps(fw, pick, evidence=True) -> pd.DataFrame:
    rows = []
    for ind in fw.indicators():
        rows.append({"indicator": ind.code, "step": pick(fw.step_numbers(ind.code)),
                     "evidence_ref": f"EV-{ind.code}" if evidence else None, "reviewer": "R", "date": "2024-01-31"})
    return pd.DataFrame(rows)


def test_exact_counts(fw):
    assert len(fw.indicators()) == 105
    assert len(fw.capabilities) == 6
    assert len(fw.levels) == 5 and fw.level_numbers() == [1, 2, 3, 4, 5]
    assert [m.id for m in fw.models] == ["comprehensive", "innovation"]
    assert [p.code for p in fw.provider_types] == PTYPES
    assert (fw.counts.indicators, fw.counts.capabilities, fw.counts.levels, fw.counts.models) == (105, 6, 5, 2)
    codes = [n.code for _, n in fw.walk()]
    assert len(codes) == len(set(codes))


def test_labelled_as_our_default_not_the_official_list(fw):
    assert fw.status == "unofficial"
    assert "非官方" in fw.title.zh and "not the official list" in fw.title.en
    assert "并非官方指标清单" in fw.disclaimer.zh and "not the official indicator list" in fw.disclaimer.en


def test_bilingual_everywhere(fw):
    texts = [fw.title, fw.issuer, fw.disclaimer]
    texts += [p.name for p in fw.provider_types] + [lv.name for lv in fw.levels] + [m.name for m in fw.models]
    for _, n in fw.walk():
        texts.append(n.name)
        if hasattr(n, "definition"):
            texts += [n.definition, n.grounding.rationale, *n.evidence]
            texts += [s.descriptor for s in fw.steps(n.code)]
    for s in fw.scales:
        texts += [s.name] + [st.descriptor for st in s.steps]
    assert all(t.zh.strip() and t.en.strip() for t in texts)


def test_every_indicator_is_grounded(fw):
    plan = {t.code for t in load_framework("plan-2019-2021").tasks()}
    stds = {s.id for s in fw.standards}
    for ind in fw.indicators():
        g = ind.grounding
        assert g is not None and (g.plan or g.standards), ind.code
        assert set(g.plan) <= plan and set(g.standards) <= stds
    used = {t for i in fw.indicators() for t in i.grounding.plan}
    assert len(used) >= 20  # the indicators draw on most of the Plan's 27 tasks
    named = {s for i in fw.indicators() for s in i.grounding.standards}
    # the standards of docs/reference/levels.md are all used
    assert {"iso27001", "gbt22239", "gbt20988", "gbt33136", "cmmi", "itss", "gbt36073", "fintech-cert"} <= named


def test_scoring_kinds_and_steps(fw):
    kinds = {i.scoring.type for i in fw.indicators()}
    assert kinds == {"rubric", "quantitative"}
    dr = fw.indicator("C5.3.1")  # GB/T 20988: levels 1..6 plus "none"
    assert fw.step_numbers(dr.code) == list(range(7))
    rto = fw.indicator("C5.3.2")  # lower is better
    assert rto.scoring.direction == -1 and fw.value_to_step("C5.3.2", 3) == 2 and fw.value_to_step("C5.3.2", 48) == 0
    assert fw.step_scores("C5.1.1") == {0: 0.0, 1: 100 / 3, 2: 200 / 3, 3: 100.0}


def test_weights_are_consistent_and_sum_to_one(fw):
    for m in fw.models:
        tree = fw.compile(m.id)
        assert all(res.cr < 0.1 for res in tree.ahp.values())
        for parent in {r["parent"] for r in tree.rows if r["parent"]}:
            assert sum(tree.local_weights[c] for c in tree.children(parent)) == pytest.approx(1.0)
        assert tree.effective_weights().sum() == pytest.approx(1.0)
    comp, inn = fw.compile("comprehensive"), fw.compile("innovation")
    assert len(comp.indicators) == 105
    assert set(inn.indicators) < set(comp.indicators)
    assert {fw.path_of(c)[0] for c in inn.indicators} == {"C2", "C3", "C6"}
    assert {fw.path_of(c)[1] for c in inn.indicators} == {"C2.1", "C2.3", "C3.3", "C6.1", "C6.2", "C6.3"}


def test_applicability_matrix(fw):
    product_inds = [i.code for i in fw.indicators() if i.code.startswith(("C3.1.", "C3.2."))]
    assert len(product_inds) == 12
    for code in product_inds:
        assert fw.applies(code, "product") and fw.applies(code, "comprehensive")
        assert not fw.applies(code, "consulting") and not fw.applies(code, "outsourcing")
    assert all(fw.applies(i.code, "comprehensive") for i in fw.indicators())
    assert not fw.applies("C4.1.6", "product") and fw.applies("C4.1.6", "outsourcing")
    counts = {p: len(template_indicators(fw, p)) for p in PTYPES}
    assert counts["comprehensive"] == 105 and counts["consulting"] < counts["outsourcing"] < 105


def test_requirements_are_staged_by_level(fw):
    reqs = fw.requirements("comprehensive")
    assert {r.level for r in reqs} == {1, 2, 3, 4, 5}
    dr = sorted((r.level, r.min_step) for r in reqs if r.indicator == "C5.3.1")
    assert dr == [(3, 3), (4, 4), (5, 5)]  # GB/T 20988 DR level ≥ our level from 3 up
    inn = {r.code for r in fw.requirements("innovation")}
    assert {"C5.4.1@L1", "C5.1.7@L2", "C5.1.1@L3"} <= inn  # the compliance/security floor, outside the tree


@pytest.mark.parametrize("ptype", PTYPES)
def test_top_and_bottom_vendors(fw, ptype):
    best = rate_both(fw, Vendor("TOP", ptype), all_steps(fw, lambda s: s[-1]))
    for r in best.values():
        assert r.total == pytest.approx(100.0) and r.level == 5 and r.next_level is None
    worst = rate_both(fw, Vendor("LOW", ptype), all_steps(fw, lambda s: s[0]))
    for r in worst.values():
        assert r.total == pytest.approx(0.0) and r.level is None and "C5.4.1@L1" in r.blocking
        assert r.plan.feasible and any(i.indicator == "C5.4.1" for i in r.plan.items)


def test_top_vendor_without_evidence_is_scored_at_the_bottom(fw):
    r = rate_vendor(fw, "comprehensive", Vendor("NOEV", "product"), all_steps(fw, lambda s: s[-1], evidence=False))
    assert r.total == pytest.approx(0.0) and r.level is None
    assert len(r.capped) == len(template_indicators(fw, "product"))


def test_consulting_rating_excludes_product_indicators_and_renormalises(fw):
    scores = all_steps(fw, lambda s: s[len(s) // 2])
    r = rate_vendor(fw, "comprehensive", Vendor("C", "consulting"), scores)
    assert {c for c in r.excluded if c.startswith(("C3.1.", "C3.2."))} == {
        i.code for i in fw.indicators() if i.code.startswith(("C3.1.", "C3.2."))}
    ind = r.indicators[r.indicators["applicable"]]
    assert ind["effective_weight"].sum() == pytest.approx(1.0)
    assert (ind["effective_weight"] * ind["score"]).sum() == pytest.approx(r.total)
    assert "C3.1.3@L4" not in r.requirements.index  # product certification: not a consulting requirement
    # capability C3 keeps only its solutions element (C3.3), at full capability weight
    assert r.capabilities.loc["C3", "effective_weight"] == pytest.approx(r.capabilities.loc["C3", "weight"])
    assert r.elements.loc["C3.3", "effective_weight"] == pytest.approx(r.capabilities.loc["C3", "weight"])
