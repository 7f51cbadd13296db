"""The reports' numbers are the result's numbers (built as documents, before any format)."""

import numpy as np
import pandas as pd
import pytest

from fintech_eval.errors import DataError, SpecError
from fintech_eval.geo import provinces
from fintech_eval.methods import rank
from fintech_eval.report import REPORT_KINDS, build_report
from fintech_eval.report.document import Chart, Table
from fintech_eval.report.i18n import fmt_number, fmt_rank
from fintech_eval.report.kinds import region_map
from fintech_eval.report.tables import effective_weights, headline_codes, view

from . import BOGUS_REGION, ENTITY, asem, asem_panel, province_data, province_tree, provinces_result


def _table(rep, key) -> Table:
    return next(t for t in rep.tables() if t.key == key)


def _chart(rep, key) -> Chart:
    return next(c for c in rep.charts() if c.key == key)


def test_registry_lists_the_kinds():
    assert {"scorecard", "ranking", "region"} <= set(REPORT_KINDS.names())
    with pytest.raises(SpecError, match="choose one of"):
        build_report(asem(), "no-such-kind")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_scorecard_numbers_equal_the_result(lang):
    r = asem()
    rep = build_report(r, "scorecard", entity=ENTITY, lang=lang)
    total = r.scores.set_index("uCode").at[ENTITY, "Index"]
    rk = int(r.ranks.at[ENTITY, "Index"])
    figs = rep.figures()
    assert figs["total_score"].value == fmt_number(total, lang)
    assert figs["overall_rank"].value == fmt_rank(rk, 51, lang)
    # within its EurAsia group: the result's group rank, out of the group's size
    grank = int(r.group_ranks["EurAsia_group"].at[ENTITY, "Index"])
    assert figs["group_rank:EurAsia_group"].value == fmt_rank(grank, 21, lang)
    assert rep.meta["total"] == pytest.approx(total) and rep.meta["rank"] == rk
    scores = _table(rep, "scores").frame
    assert scores.iloc[0, 0] == "Index" and scores.iloc[0, 3] == pytest.approx(total)
    # radar: level-2 pillars of the unit and the median of its group (Asia)
    radar = _chart(rep, "radar")
    heads = headline_codes(r.tree)
    assert len(radar.data["axes"]) == len(heads) == 8
    assert radar.data["series"][0]["values"] == pytest.approx(r.final.loc[ENTITY, heads].tolist())
    asia = r.final.loc[r.final.index.isin(_asia_members()), heads].median()
    assert radar.data["series"][1]["values"] == pytest.approx(asia.tolist())
    # one value was imputed for CHN: listed, and the coverage says so
    gaps = _table(rep, "gaps").frame
    imputed = r.records["impute_log"].query("uCode == @ENTITY")["iCode"].tolist()
    assert gaps.iloc[:, 0].tolist() == imputed and len(imputed) == 1
    assert figs["imputed_cells"].value == "1"


def _asem_units() -> pd.DataFrame:
    from fintech_eval.coinr import read_coinr

    from . import ASEM_META, ROOT

    coin = read_coinr(ROOT / "examples/asem/input_ASEM_iData.csv", ASEM_META)
    return coin.groups


def _asia_members() -> list[str]:
    g = _asem_units()
    return g.index[g["EurAsia_group"] == "Asia"].tolist()


def test_strengths_and_weaknesses_are_the_best_and_worst_ranked_indicators():
    r = asem()
    rep = build_report(r, "scorecard", entity=ENTITY, lang="en")
    best, worst = _table(rep, "strengths").frame, _table(rep, "weaknesses").frame
    vals = r.final[r.tree.indicators]
    informative = [c for c in r.tree.indicators if vals[c].nunique() >= 0.5 * vals[c].notna().sum()]  # COINr's unq_thresh
    assert len(informative) < len(r.tree.indicators)
    ranks = r.ranks.loc[ENTITY, informative].astype(float)
    assert best.iloc[:, 3].tolist() == sorted(ranks.dropna())[:5]
    assert worst.iloc[:, 3].tolist() == sorted(ranks.dropna())[::-1][:5]
    assert best.iloc[0, 0] in ranks.index[ranks == ranks.min()]


def test_scorecard_of_a_panel_shows_the_change_on_the_previous_period():
    r = asem_panel()
    rep = build_report(r, "scorecard", entity="CHN", lang="zh")
    trend = _table(rep, "trend").frame
    periods = sorted(set(r.final.index.get_level_values("Time")))
    assert trend.iloc[:, 0].tolist() == periods
    prev, last = (r.final.xs(p, level="Time").at["CHN", "Index"] for p in periods[-2:])
    assert rep.figures()["change_prev"].value.replace("−", "-") == f"{last - prev:+.2f}"
    assert rep.meta["period"] == periods[-1]
    assert rep.meta["rank"] == int(rank(r.final.xs(periods[-1], level="Time")["Index"])["CHN"])
    assert _chart(rep, "trend").data["x"] == periods


def test_rank_interval_shown_when_the_result_has_one():
    r = asem()
    stats = pd.DataFrame({"uCode": ["CHN"], "Nominal": [18], "Median": [17.0], "Q5": [12.0], "Q95": [24.0]})
    import copy

    r2 = copy.copy(r)
    r2.records = {**r.records, "rank_stats": stats}
    rep = build_report(r2, "scorecard", entity="China", lang="en")  # a unit's name works as well as its code
    assert rep.figures()["rank_interval"].value == "12–24"
    assert rep.meta["entity"] == "CHN"


def test_unknown_entity_and_missing_entity_are_errors():
    with pytest.raises(DataError, match="no unit 'Narnia'"):
        build_report(asem(), "scorecard", entity="Narnia")
    with pytest.raises(DataError, match="needs an entity"):
        build_report(asem(), "scorecard")
    with pytest.raises(DataError, match="unknown language"):
        build_report(asem(), "ranking", lang="fr")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_ranking_is_the_result_order(lang):
    r = asem()
    rep = build_report(r, "ranking", lang=lang)
    table = _table(rep, "ranking").frame
    expected = r.final["Index"].sort_values(ascending=False)
    assert table.iloc[:, 1].tolist() == expected.index.tolist()
    assert table.iloc[:, 0].tolist() == r.ranks.loc[expected.index, "Index"].tolist()
    assert rep.meta["top"] == expected.index[0] and rep.meta["top_total"] == pytest.approx(expected.iloc[0])


def test_region_report_maps_31_provinces_and_reports_the_rest():
    r = provinces_result()
    rep = build_report(r, "region", lang="zh")
    assert rep.meta["mode"] == "units" and len(rep.meta["provinces"]) == 31
    assert rep.meta["unresolved"] == [BOGUS_REGION]
    assert _table(rep, "unresolved").frame.iloc[:, 0].tolist() == [BOGUS_REGION]
    values = _chart(rep, "map").data["values"]
    assert set(values) == set(provinces()["code"])
    for code, v in values.items():
        assert v == pytest.approx(r.final.at[code, "Index"])
    table = _table(rep, "region").frame
    assert table.iloc[0, 1] == provinces().set_index("code").at[r.final.drop(BOGUS_REGION)["Index"].idxmax(), "name_zh"]
    en = build_report(r, "region", lang="en")
    assert _table(en, "region").frame.iloc[0, 1] == provinces().set_index("code").at[table.iloc[0, 2], "name_en"]


def test_region_report_of_institutions_by_their_province_group():
    import fintech_eval as fe

    data = province_data(extra_unit=None)
    # 62 institutions: two per province; their province named in different ways; one unknown
    inst = pd.concat([data, data * 1.1]).set_axis([f"B{i:03d}" for i in range(62)])
    inst.index.name = "uCode"
    prov = provinces()
    names = prov["name_zh"].tolist() + prov["name_en"].tolist()
    names[5] = "火星省"
    units = pd.DataFrame({"name": [f"银行{i}" for i in range(62)], "province": names}, index=inst.index)
    spec = {"name": "机构", "data": {"format": "frame"},
            "steps": [{"impute": {"method": "mean"}}, {"normalise": {"method": "minmax", "range": [0, 100]}}, {"aggregate": {}}]}
    r = fe.evaluate(spec, frames={"data": inst, "tree": province_tree()})
    rm = region_map(view(r, units=units))
    assert rm.mode == "group" and rm.column == "province" and rm.unresolved == ["火星省"]
    rep = build_report(r, "region", lang="en", units=units)
    vals = _chart(rep, "map").data["values"]
    assert len(vals) == 31
    code = prov["code"].iloc[0]  # Beijing: institutions B000 and B031
    assert vals[code] == pytest.approx(np.mean([r.final.at["B000", "Index"], r.final.at["B031", "Index"]]))


def test_region_report_refuses_units_that_are_not_provinces():
    with pytest.raises(DataError, match="not provinces"):
        build_report(asem(), "region")


def test_method_appendix_lets_a_reader_reproduce():
    r = asem()
    rep = build_report(r, "ranking", lang="en")
    keys = [s.key for s in rep.sections if s.appendix]
    assert keys[:3] == ["appendix", "tree", "spec"] and {"treatment", "imputation", "sources", "software"} <= set(keys)
    tree = _table(rep, "tree").frame
    eff = effective_weights(r.tree)
    assert tree.set_index(tree.columns[0]).iloc[:, -1].to_dict() == pytest.approx(eff.to_dict())
    assert sum(eff[c] for c in r.tree.indicators) == pytest.approx(1.0)
    soft = _table(rep, "software").frame
    assert r.manifest()["scores_sha256"] in soft.iloc[:, 1].tolist()
    imp = _table(rep, "imputation").frame
    assert len(imp) == len(r.records["impute_log"])
    assert "Raw" not in rep.workbook and any(k.startswith("S0 ") for k in rep.workbook)
    assert len([k for k in rep.workbook if k.startswith("S")]) == len(r.datasets)
