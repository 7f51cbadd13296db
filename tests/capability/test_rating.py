"""Worked examples on the MINI framework (tests/capability/__init__.py), every level computed by hand.

Step scores: rubric 0..4 → 0, 25, 50, 75, 100. G2 (penalties, lower is better, thresholds 3/2/1/0): 0 → step 4,
1 → 3, 2 → 2, 3 → 1, more → 0. S2 (satisfaction %, thresholds 60/70/80/90): 85 → 3, 72 → 2, 91 → 4, 65 → 1.
Comprehensive weights: top G .5, P .25, S .25; G1 .75, G2 .25; P1 .5, P2 .5; S1 .5, S2 .25, S3 .25.
Bands: L1 ≥ 0, L2 ≥ 40, L3 ≥ 55, L4 ≥ 70, L5 ≥ 85. Requirements: G2 ≥ 1 (L1), P1 ≥ 2 (L3), G1 ≥ 3 (L4).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from fintech_eval.capability import Vendor, load_file, rate_both, rate_vendor
from fintech_eval.errors import DataError

from . import entries, mini, write


@pytest.fixture(scope="module")
def fw(tmp_path_factory):
    return load_file(write(tmp_path_factory.mktemp("mini"), mini()))


def test_comprehensive_provider_band_says_4_but_missing_requirement_caps_at_3(fw):
    # ACME, comprehensive provider: every indicator applies.
    #   G1 step 2 → 50; G2 0 penalties → step 4 → 100        G = .75·50 + .25·100          = 62.5
    #   P1 step 3 → 75; P2 step 3 → 75                         P = .5·75 + .5·75             = 75
    #   S1 step 4 → 100; S2 85 % → step 3 → 75; S3 step 3 → 75 S = .5·100 + .25·75 + .25·75 = 87.5
    #   total = .5·62.5 + .25·75 + .25·87.5 = 31.25 + 18.75 + 21.875 = 71.875  → band L4 (70 ≤ x < 85)
    #   requirements: G2 ≥ 1 (L1) met; P1 ≥ 2 (L3) met; G1 ≥ 3 (L4) NOT met (step 2) → capped at L3.
    scores = entries({"G1": 2, "P1": 3, "P2": 3, "S1": 4, "S3": 3}, values={"G2": 0, "S2": 85})
    r = rate_vendor(fw, "comprehensive", Vendor("ACME", "comprehensive"), scores)
    assert r.capabilities["score"].to_dict() == pytest.approx({"G": 62.5, "P": 75.0, "S": 87.5})
    assert r.total == pytest.approx(71.875)
    assert (r.band_level, r.requirement_level, r.level) == (4, 3, 3)
    assert r.level_name("zh") == "稳健级" and r.level_name("en") == "Robust"
    assert r.next_level == 4 and r.blocking == ("G1@L4",) and r.score_gap == 0.0
    assert r.requirements["met"].to_dict() == {"G1@L4": False, "G2@L1": True, "P1@L3": True}
    # plan: G1 2 → 3 (forced by the requirement); gain = .5·.75·25 = 9.375 → 81.25, still in band 4.
    (item,) = r.plan.items
    assert (item.indicator, item.from_step, item.to_step, item.reason) == ("G1", 2, 3, "requirement")
    assert item.requirements == ("G1@L4",) and item.gain == pytest.approx(9.375)
    assert r.plan.total_steps == 1 and r.plan.score_after == pytest.approx(81.25) and r.plan.feasible
    en = " ".join(r.explanation["en"])
    assert "Level 3 (Robust)" in en and "would allow Level 4" in en and "G1" in en and "capped at Level 3" in en
    zh = " ".join(r.explanation["zh"])
    assert "第3级（稳健级）" in zh and "仅看分数可达第4级" in zh and "封顶于第3级" in zh
    assert not r.excluded and not r.capped


def test_product_provider_renormalised_and_capped_by_level_3_requirement(fw):
    # PRODCO, product provider: S3 (on-site staff) does not apply → S1, S2 renormalised to 2/3, 1/3.
    #   G1 step 3 → 75; G2 1 penalty → step 3 → 75           G = .75·75 + .25·75       = 75
    #   P1 step 1 → 25; P2 step 4 → 100                       P = .5·25 + .5·100        = 62.5
    #   S1 step 2 → 50; S2 72 % → step 2 → 50                 S = (2/3)·50 + (1/3)·50   = 50
    #   total = .5·75 + .25·62.5 + .25·50 = 37.5 + 15.625 + 12.5 = 65.625 → band L3 (55 ≤ x < 70)
    #   requirements: G2 ≥ 1 met; P1 ≥ 2 (L3) NOT met (step 1); G1 ≥ 3 met → level 2.
    scores = entries({"G1": 3, "P1": 1, "P2": 4, "S1": 2}, values={"G2": 1, "S2": 72})
    r = rate_vendor(fw, "comprehensive", Vendor("PRODCO", "product"), scores)
    assert r.excluded == ["S3"]
    w = r.indicators["effective_weight"]
    assert w["S1"] == pytest.approx(0.25 * 2 / 3) and w["S2"] == pytest.approx(0.25 / 3) and w["S3"] == 0.0
    assert w.sum() == pytest.approx(1.0)
    assert r.capabilities["score"].to_dict() == pytest.approx({"G": 75.0, "P": 62.5, "S": 50.0})
    assert r.total == pytest.approx(65.625)
    assert (r.band_level, r.requirement_level, r.level, r.next_level) == (3, 2, 2, 3)
    assert r.blocking == ("P1@L3",) and r.score_gap == 0.0
    # plan: P1 1 → 2, gain = .25·.5·25 = 3.125 → 68.75
    assert [(i.indicator, i.from_step, i.to_step) for i in r.plan.items] == [("P1", 1, 2)]
    assert r.plan.score_after == pytest.approx(68.75)
    notes = {n.kind: n for n in r.notes}
    assert "S3" in notes["not_applicable"].codes and "renormalised" in notes["not_applicable"].en


def test_consulting_provider_product_indicators_do_not_apply(fw):
    # CONSULT, consulting provider: P1, P2 (products) and S3 do not apply; capability P drops out entirely,
    # so the top weights renormalise: G .5/.75 = 2/3, S .25/.75 = 1/3; and the L3 requirement on P1 is dropped.
    #   G1 step 3 → 75; G2 0 penalties → 100                   G = .75·75 + .25·100        = 81.25
    #   S1 step 3 → 75; S2 91 % → step 4 → 100                 S = (2/3)·75 + (1/3)·100    = 83.333…
    #   total = (2/3)·81.25 + (1/3)·83.333… = 54.1667 + 27.7778 = 81.9444 → band L4 (70 ≤ x < 85)
    #   requirements: G2 ≥ 1 met, G1 ≥ 3 met → level 4; next L5 has no requirement, gap = 85 − 81.9444 = 3.0556.
    scores = entries({"G1": 3, "S1": 3}, values={"G2": 0, "S2": 91})
    r = rate_vendor(fw, "comprehensive", Vendor("CONSULT", "consulting"), scores)
    assert set(r.excluded) == {"P1", "P2", "S3"}
    assert math.isnan(r.capabilities.loc["P", "score"]) and not r.capabilities.loc["P", "applicable"]
    assert r.capabilities.loc["G", "effective_weight"] == pytest.approx(2 / 3)
    assert r.capabilities.loc["S", "effective_weight"] == pytest.approx(1 / 3)
    assert r.total == pytest.approx(81.25 * 2 / 3 + 250 / 3 / 3)
    assert r.total == pytest.approx(81.9444, abs=1e-4)
    # every applicable requirement is met and L5 has none, so requirements alone would allow L5: the band decides
    assert (r.band_level, r.requirement_level, r.level) == (4, 5, 4)
    assert list(r.requirements.index) == ["G1@L4", "G2@L1"]  # P1@L3 does not apply
    assert any(n.kind == "requirement_not_applicable" and "P1@L3" in n.codes for n in r.notes)
    assert r.next_level == 5 and r.blocking == () and r.score_gap == pytest.approx(85 - r.total)
    # plan: one step is enough. Effective weights G1 .5, S1 2/9 (G2, S2 at their top step):
    # G1 3→4 gains .5·25 = 12.5, S1 3→4 gains 2/9·25 = 5.56; both close the 3.06 gap; the larger gain wins.
    assert [(i.indicator, i.from_step, i.to_step, i.reason) for i in r.plan.items] == [("G1", 3, 4, "score")]
    assert r.plan.score_after == pytest.approx(r.total + 12.5)
    # product entries sent anyway are ignored, and said so
    r2 = rate_vendor(fw, "comprehensive", Vendor("CONSULT", "consulting"),
                     entries({"G1": 3, "S1": 3, "P1": 4}, values={"G2": 0, "S2": 91}))
    assert r2.total == pytest.approx(r.total)
    assert any(n.kind == "ignored" and n.codes == ("P1",) for n in r2.notes)


def test_outsourcing_provider_evidence_rule_caps_unevidenced_indicator(fw):
    # OUTSRC, outsourcing provider: P1, P2 do not apply (P drops out: G 2/3, S 1/3); S3 applies.
    # S3 is entered at step 4 WITHOUT evidence → capped at its lowest step 0.
    #   G1 step 1 → 25; G2 2 penalties → step 2 → 50           G = .75·25 + .25·50            = 31.25
    #   S1 step 2 → 50; S2 65 % → step 1 → 25; S3 → 0          S = .5·50 + .25·25 + .25·0      = 31.25
    #   total = (2/3)·31.25 + (1/3)·31.25 = 31.25 → band L1 (< 40); G2 ≥ 1 met → level 1.
    #   (with S3 at 100 the total would be 39.58: still level 1.)
    scores = entries({"G1": 1, "S1": 2, "S3": 4}, values={"G2": 2, "S2": 65}, no_evidence={"S3"})
    r = rate_vendor(fw, "comprehensive", Vendor("OUTSRC", "outsourcing"), scores)
    assert r.capped == ["S3"]
    s3 = r.indicators.loc["S3"]
    assert (s3["claimed_step"], s3["step"], s3["score"]) == (4, 0, 0.0)
    assert r.capabilities["score"].dropna().to_dict() == pytest.approx({"G": 31.25, "S": 31.25})
    assert r.total == pytest.approx(31.25)
    assert (r.level, r.next_level) == (1, 2) and r.score_gap == pytest.approx(8.75)
    assert r.blocking == ()  # G1@L4 is not a level-2 requirement
    # plan: gap 8.75; per-step gains: G1 .5·25 = 12.5, G2 and S1 1/6·25 = 4.17, S2 and S3 1/12·25 = 2.08
    # → one step on G1 (1 → 2) → 43.75.
    assert [(i.indicator, i.from_step, i.to_step) for i in r.plan.items] == [("G1", 1, 2)]
    assert r.plan.score_after == pytest.approx(43.75)
    cap_note = next(n for n in r.notes if n.kind == "evidence_cap")
    assert cap_note.codes == ("S3",) and "claimed step 4" in cap_note.en and "第4档" in cap_note.zh


def test_below_level_1_when_a_level_1_requirement_fails(fw):
    # G2: 5 penalties → step 0 < 1: the level-1 requirement fails, so no level at all (staged, CMM style).
    scores = entries({"G1": 4, "P1": 4, "P2": 4, "S1": 4, "S3": 4}, values={"G2": 5, "S2": 95})
    r = rate_vendor(fw, "comprehensive", Vendor("BAD", "comprehensive"), scores)
    # total = .5·(.75·100 + 0) + .25·100 + .25·100 = 37.5 + 50 = 87.5 → band 5, but requirement level 0
    assert r.total == pytest.approx(87.5) and r.band_level == 5
    assert r.level is None and r.next_level == 1 and r.blocking == ("G2@L1",)
    assert [(i.indicator, i.from_step, i.to_step) for i in r.plan.items] == [("G2", 0, 1)]
    assert "does not reach Level 1" in r.explanation["en"][0] and "未达到第1级" in r.explanation["zh"][0]
    named = rate_vendor(fw, "comprehensive", Vendor("BAD", "comprehensive", "坏科技", "Bad Tech"), scores)
    assert "Bad Tech" in named.explanation["en"][0] and "坏科技" not in " ".join(named.explanation["en"])
    assert "坏科技" in named.explanation["zh"][0]  # each language names the vendor in it


def test_innovation_model_is_score_only_on_its_subset(fw):
    # Innovation: P (P1 only) .5, S (S1 2/3, S2 1/3) .5; bands 0/30/50/70/90; no staged requirements.
    # ACME: P = 75; S = (2/3)·100 + (1/3)·75 = 91.667; total = 83.333 → L4, even though G1 < 3.
    scores = entries({"G1": 2, "P1": 3, "P2": 3, "S1": 4, "S3": 3}, values={"G2": 0, "S2": 85})
    both = rate_both(fw, Vendor("ACME", "comprehensive"), scores)
    assert list(both) == ["comprehensive", "innovation"]
    inn = both["innovation"]
    assert inn.total == pytest.approx(0.5 * 75 + 0.5 * (200 / 3 + 25))
    assert inn.level == 4 and inn.requirement_level is None and inn.requirements.empty
    assert set(inn.indicators.index[inn.indicators["in_model"]]) == {"P1", "S1", "S2"}
    # gap 90 − 83.33 = 6.67: P1 3→4 gains .5·25 = 12.5 (S1 is at its top, S2 3→4 gains 1/6·25 = 4.17)
    assert [(i.indicator, i.to_step) for i in inn.plan.items] == [("P1", 4)]
    assert both["comprehensive"].level == 3
    # consulting: P drops out of the innovation model, S alone: (2/3)·75 + (1/3)·100 = 83.33 → L4
    c = rate_both(fw, Vendor("CONSULT", "consulting"), entries({"G1": 3, "S1": 3}, values={"G2": 0, "S2": 91}))
    assert c["innovation"].total == pytest.approx(250 / 3) and c["innovation"].level == 4


def test_missing_entries_count_at_the_lowest_step_and_are_reported(fw):
    r = rate_vendor(fw, "comprehensive", Vendor("X", "comprehensive"), entries({"G1": 4}, values={"G2": 0}))
    # G = .75·100 + .25·100 = 100, P = 0, S = 0 → total 50 → band L2; requirements L1 met, P1@L3 unmet → L2
    assert r.total == pytest.approx(50.0) and r.level == 2
    missing = next(n for n in r.notes if n.kind == "missing")
    assert set(missing.codes) == {"P1", "P2", "S1", "S2", "S3"}


def test_totals_equal_the_effective_weighted_sum(fw):
    scores = entries({"G1": 2, "P1": 1, "P2": 4, "S1": 3, "S3": 1}, values={"G2": 1, "S2": 77})
    for ptype in ("comprehensive", "product", "consulting", "outsourcing"):
        for r in rate_both(fw, Vendor("V", ptype), scores).values():
            ind = r.indicators[r.indicators["in_model"] & r.indicators["applicable"]]
            assert (ind["effective_weight"] * ind["score"]).sum() == pytest.approx(r.total)
            assert ind["effective_weight"].sum() == pytest.approx(1.0)


def test_provider_type_given_as_string_and_errors(fw):
    r = rate_vendor(fw, "comprehensive", "V", entries({"G1": 1}), provider_type="product")
    assert r.vendor == Vendor("V", "product")
    with pytest.raises(DataError, match="provider type"):
        rate_vendor(fw, "comprehensive", "V", entries({"G1": 1}))
    with pytest.raises(DataError, match="unknown provider type 'bank'"):
        rate_vendor(fw, "comprehensive", "V", entries({"G1": 1}), provider_type="bank")
    with pytest.raises(DataError, match="unknown model 'x'"):
        rate_vendor(fw, "x", "V", entries({"G1": 1}), provider_type="product")


def test_bad_entries_are_all_reported_with_row_column_indicator(fw):
    df = pd.DataFrame([
        {"indicator": "G1", "step": 7, "evidence_ref": "a"},                  # row 1: not a step
        {"indicator": "ZZ", "step": 1, "evidence_ref": "a"},                  # row 2: unknown indicator
        {"indicator": "P1", "value": 3, "evidence_ref": "a"},                 # row 3: value for a rubric
        {"indicator": "S2", "step": 1, "value": 95, "evidence_ref": "a"},     # row 4: step contradicts value
        {"indicator": "S1", "step": 2, "date": "30/06/2024"},                 # row 5: bad date
        {"indicator": "G1", "step": 2},                                       # row 6: G1 again (row 1 was bad)
        {"indicator": "S1", "step": 1},                                       # row 7: duplicate of row 5? (5 bad)
        {"indicator": "S2", "value": "many"},                                 # row 8: not a number
    ])
    with pytest.raises(DataError) as ei:
        rate_vendor(fw, "comprehensive", Vendor("V", "product"), df)
    got = {(p.where["row"], p.rule, p.where.get("column"), p.where.get("indicator")) for p in ei.value.problems}
    assert got == {
        (1, "scores.step", "step", "G1"),
        (2, "scores.indicator", "indicator", "ZZ"),
        (3, "scores.value", "value", "P1"),
        (4, "scores.value", "step", "S2"),
        (5, "scores.date", "date", "S1"),
        (8, "scores.value", "value", "S2"),
    }
    dup = pd.DataFrame([{"indicator": "G1", "step": 1}, {"indicator": "G1", "step": 2}])
    with pytest.raises(DataError, match="entered twice"):
        rate_vendor(fw, "comprehensive", Vendor("V", "product"), dup)
    with pytest.raises(DataError, match="'step' or 'value' column"):
        rate_vendor(fw, "comprehensive", Vendor("V", "product"), pd.DataFrame({"indicator": ["G1"]}))


def test_to_dict_is_json_ready(fw):
    import json

    scores = entries({"G1": 2, "P1": 3, "P2": 3, "S1": 4, "S3": 3}, values={"G2": 0, "S2": 85})
    d = rate_vendor(fw, "comprehensive", Vendor("ACME", "comprehensive"), scores).to_dict()
    back = json.loads(json.dumps(d, ensure_ascii=False))
    assert back["level"] == 3 and back["blocking"] == ["G1@L4"] and back["plan"]["total_steps"] == 1
    assert back["explanation"]["en"] and back["explanation"]["zh"]


def test_staged_only_rule_rates_by_requirements_alone(tmp_path):
    doc = mini()
    doc["models"][0]["rule"] = {"staged": True}  # no score bands
    fw = load_file(write(tmp_path, doc))
    # ACME again: total 71.875 no longer matters; requirements: L1 G2 ok, L3 P1 ok, L4 G1 missing → level 3
    scores = entries({"G1": 2, "P1": 3, "P2": 3, "S1": 4, "S3": 3}, values={"G2": 0, "S2": 85})
    r = rate_vendor(fw, "comprehensive", Vendor("ACME", "comprehensive"), scores)
    assert r.total == pytest.approx(71.875) and r.level == 3 and r.band_level is None
    assert math.isnan(r.score_gap) and r.blocking == ("G1@L4",)
    assert [(i.indicator, i.to_step) for i in r.plan.items] == [("G1", 3)]
    assert not any("band" in s for s in r.explanation["en"])
    # with G1 at 3 every requirement is met, and L5 has none: the top level
    r5 = rate_vendor(fw, "comprehensive", Vendor("ACME", "comprehensive"),
                     entries({"G1": 3, "P1": 3}, values={"G2": 0}))
    assert r5.level == 5 and r5.next_level is None and r5.plan.items == ()
    # a consulting provider on a staged-only rule: its only requirements are G2@L1 and G1@L4
    rc = rate_vendor(fw, "comprehensive", Vendor("C", "consulting"), entries({"G1": 0}, values={"G2": 0}))
    assert rc.level == 3 and rc.blocking == ("G1@L4",)
