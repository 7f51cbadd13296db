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
    gaps = _table(rep, "imputed").frame
    imputed = r.records["impute_log"].query("uCode == @ENTITY")["iCode"].tolist()
    assert gaps.iloc[:, 0].tolist() == imputed and len(imputed) == 1
    assert figs["imputed_cells"].value == "1"
    assert not [tb for tb in rep.tables() if tb.key == "missing"]  # the imputed value is not also "missing"


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


# --- industry (one sector of block H) and vendor (a capability rating) ------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_industry_numbers_equal_the_result(lang):
    from . import h_result, j_result

    h, j = h_result(), j_result()
    rep = build_report(h, "industry", entity="bank", lang=lang, institutions=j)
    figs = rep.figures()
    assert figs["total_score"].value == fmt_number(h.final.at["bank", "H"], lang)
    assert figs["industry_rank"].value == fmt_rank(int(h.ranks.at["bank", "H"]), 4, lang)
    assert rep.meta["total"] == pytest.approx(h.final.at["bank", "H"])
    # every H indicator and aggregate: the sector's value, its rank among the industries
    ind = _table(rep, "h_indicators").frame
    assert ind.iloc[:, 0].tolist()[0] == "H" and set(ind.iloc[:, 0]) == set(h.final.columns)
    assert ind.iloc[:, 4].tolist() == pytest.approx(h.final.loc["bank", ind.iloc[:, 0]].tolist())
    assert ind.iloc[:, 5].tolist() == h.ranks.loc["bank", ind.iloc[:, 0]].tolist()
    heads = headline_codes(h.tree)
    l1 = _table(rep, "h_level1").frame
    assert l1.iloc[:, 0].tolist() == heads == ["H-A1", "H-A2", "H-A3", "H-A4"]
    assert l1.iloc[:, 2].tolist() == pytest.approx(h.final.loc["bank", heads].tolist())
    # the sector's institutions: distribution and the top 10 by J score with their ranks
    banks = [u for u in j.final.index if int(u.split("-")[1]) % 4 == 0]  # SECTORS * 12: every fourth is a bank
    top = j.final.loc[banks, "J"].sort_values(ascending=False)
    assert figs["n_institutions"].value == "12"
    leaders = _table(rep, "leaders").frame
    assert leaders.iloc[:, 2].tolist() == top.index[:10].tolist()
    assert leaders.iloc[:, 4].tolist() == pytest.approx(top.iloc[:10].tolist())
    assert leaders.iloc[:, 0].tolist() == list(range(1, 11))
    assert leaders.iloc[:, 1].tolist() == j.ranks.loc[top.index[:10], "J"].tolist()
    dist = _chart(rep, "institutions_dist")
    assert sorted(dist.data["groups"][0]["values"]) == pytest.approx(sorted(j.final.loc[banks, "J"]))
    # the Plan-task view: the 27 tasks, those with no linked indicator said so
    tasks = _table(rep, "plan_tasks").frame
    assert tasks.iloc[:, 0].tolist() == list(range(1, 28))
    no_link = tasks[tasks.iloc[:, 3] == 0]
    assert len(no_link) == 7 and no_link.iloc[:, 5].isna().all()
    from fintech_eval.report.i18n import t

    assert (no_link.iloc[:, -1] == t("task.no_link", lang)).all()
    # task 1 links J-A1B1-C1, J-A2B1-C1 (institutions: the banks' mean) and H-A1B1-C1 (the sector's value)
    expected = np.mean([h.final.at["bank", "H-A1B1-C1"], j.final.loc[banks, "J-A1B1-C1"].mean(), j.final.loc[banks, "J-A2B1-C1"].mean()])
    assert tasks.iloc[0, 5] == pytest.approx(expected)


def test_industry_without_institutions_and_of_a_result_that_is_not_block_h():
    from . import h_result

    rep = build_report(h_result(), "industry", entity="bank", lang="en")
    keys = [t.key for t in rep.tables()]
    assert "leaders" not in keys and "institutions" not in keys
    text = " ".join(b.text for s in rep.sections for b in s.blocks if hasattr(b, "text") and isinstance(b.text, str))
    assert "--with" in text
    tasks = _table(rep, "plan_tasks").frame
    assert len(tasks) == 27 and tasks.iloc[:, 7].isna().all()  # no J part without the J result
    measured = tasks.dropna(subset=[tasks.columns[5]])
    assert (measured.iloc[:, 5] == measured.iloc[:, 6]).all()  # the H part alone
    with pytest.raises(DataError, match="block H"):
        build_report(asem(), "industry", entity=ENTITY)
    with pytest.raises(DataError, match="needs an entity"):
        build_report(h_result(), "industry")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_vendor_report_numbers_equal_the_rating(lang):
    from fintech_eval.capability.report import LABELS

    from . import vendor_ratings

    rs = vendor_ratings()
    rep = build_report(rs, "vendor", lang=lang)
    figs = rep.figures()
    assert rep.meta["levels"] == {m: r.level for m, r in rs.items()}
    caps = _table(rep, "capabilities").frame
    for i, (m, r) in enumerate(rs.items()):
        assert figs[f"total:{m}"].value == fmt_number(r.total, lang)
        assert figs[f"level:{m}"].value.startswith(LABELS[lang]["level_n"].format(n=r.level))
        col = caps.iloc[:, 2 + 2 * i]
        assert col.tolist() == pytest.approx(r.capabilities["score"].reindex(caps.iloc[:, 0]).tolist(), nan_ok=True)
        req = _table(rep, f"requirements:{m}").frame
        assert req.iloc[:, 0].tolist() == r.requirements.sort_values("level", kind="stable").index.tolist()
        missing = r.requirements.index[~r.requirements["met"]].tolist()
        assert missing and req.loc[req.iloc[:, 0].isin(missing), req.columns[-1]].str.startswith("✗").all()
        plan = _table(rep, f"plan:{m}").frame
        assert [x.split()[0] for x in plan.iloc[:, 0]] == [i.indicator for i in r.plan.items]
        assert plan.iloc[:, -1].sum() == pytest.approx(r.plan.score_after - r.plan.score_before)
        paragraphs = [b.text for b in next(s for s in rep.sections if s.key == f"model:{m}").blocks if hasattr(b, "style")]
        assert all(line in paragraphs for line in r.explanation[lang])  # the rating's own explanation texts
    assert len(_chart(rep, "capabilities_chart").data["series"]) == 2
    with pytest.raises(DataError, match="capability rating"):
        build_report(asem(), "vendor")
    with pytest.raises(DataError, match="needs an evaluation result"):
        build_report(rs, "ranking")


def test_industry_of_a_panel_shows_the_indicators_over_time():
    import fintech_eval as fe

    from . import SECTORS

    tree = fe.Tree.from_framework(fe.load_framework("jrt0201-2020"), "H")
    idx = pd.MultiIndex.from_product([SECTORS, [2022, 2023, 2024]], names=["uCode", "Time"])
    data = pd.DataFrame(np.random.default_rng(1).lognormal(1, 0.5, (len(idx), len(tree.indicators))), index=idx, columns=tree.indicators)
    spec = {"name": "H panel", "data": {"format": "frame"},
            "steps": [{"normalise": {"method": "minmax", "range": [0, 100]}}, {"aggregate": {}}]}
    r = fe.evaluate(spec, frames={"data": data, "tree": tree})
    rep = build_report(r, "industry", entity="bank", lang="zh")
    trend = _table(rep, "trend").frame
    assert trend.iloc[:, 0].tolist() == [2022, 2023, 2024]
    assert trend.iloc[:, 1].tolist() == pytest.approx(r.final.xs("bank", level="uCode")["H"].tolist())
    assert _chart(rep, "trend").data["x"] == [2022, 2023, 2024] and rep.meta["period"] == 2024
