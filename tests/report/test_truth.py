"""What the reports state is true, pinned on a small JR/T 0201 round (:func:`tests.report.round_result`): a payment
firm's completeness counts only the indicators that apply to it, the not-applicable ones are listed with the
rule that excludes them, the imputation sentence appears only when something was imputed, an indicator a step
left out of a sector appears in that scorecard's notes, medians are labelled for what they are, provinces of
one institution are flagged and left unranked, and no report prints ``nan``."""

from __future__ import annotations

import re

import numpy as np
import pytest

import fintech_eval as fe
from fintech_eval.report import build_report
from fintech_eval.report.html import render_html
from fintech_eval.report.i18n import LANGS, fmt_pct, t
from fintech_eval.report.localise import entity_notes, warning_note

from . import ALL_YES, LONE_PROVINCE, asem, h_result, j_result, provinces_result, round_result, vendor_ratings

PAY = "SYN-PAY-01"
BANK = "SYN-BAN-01"


def _table(rep, key):
    found = [tb for tb in rep.tables() if tb.key == key]
    return found[0] if found else None


def _texts(rep, section: str) -> list[str]:
    return [b.text for s in rep.sections if s.key == section for b in s.blocks if hasattr(b, "text") and isinstance(b.text, str)]


@pytest.mark.parametrize("lang", LANGS)
def test_payment_firm_completeness_counts_applicable_indicators_only(lang):
    r = round_result()
    fw = fe.load_framework("jrt0201-2020")
    rep = build_report(r, "scorecard", entity=PAY, lang=lang)
    applicable = [c for c in r.tree.indicators if fw.indicator(c).applies_to("payment")]
    not_applicable = [c for c in r.tree.indicators if c not in applicable]
    assert len(not_applicable) == 10
    raw = r.datasets["Raw"].loc[PAY]
    assert rep.figures()["data_coverage"].value == fmt_pct(raw[applicable].notna().mean(), lang) == "100.0%"
    na = _table(rep, "not_applicable")
    assert na.frame.iloc[:, 0].tolist() == not_applicable
    bank_only = na.frame[na.frame.iloc[:, 0] == "J-A4B1-C1"].iloc[0, -1]
    assert t("sector.bank", lang) in bank_only and t("sector.payment", lang) not in bank_only
    # nothing imputed: no imputation sentence, no "missing" list
    assert rep.figures()["imputed_cells"].value == "0"
    assert _table(rep, "imputed") is None and _table(rep, "missing") is None
    gap_text = " ".join(_texts(rep, "gaps"))
    assert t("explain.imputed", lang, n=0)[:8] not in gap_text


def test_missing_value_is_listed_as_missing_not_as_imputed():
    rep = build_report(round_result(), "scorecard", entity="SYN-INS-03", lang="zh")
    assert _table(rep, "missing").frame.iloc[:, 0].tolist() == ["J-A2B1-C1"]
    assert _table(rep, "imputed") is None
    n_app = 51 - len(_table(rep, "not_applicable").frame)
    assert rep.figures()["data_coverage"].value == fmt_pct((n_app - 1) / n_app, "zh")


def test_imputation_sentence_names_exactly_the_imputed_values():
    r = asem()
    rep = build_report(r, "scorecard", entity="CHN", lang="en")
    imputed = r.records["impute_log"].query("uCode == 'CHN' and status == 'imputed'")["iCode"].tolist()
    assert _table(rep, "imputed").frame.iloc[:, 0].tolist() == imputed
    assert any(t("explain.imputed", "en", n=len(imputed)) == x for x in _texts(rep, "gaps"))


def test_ranking_availability_counts_applicable_indicators_only():
    r = round_result()
    rep = build_report(r, "ranking", lang="en")
    av = _table(rep, "availability").frame.set_index(t("col.code", "en"))
    assert av.loc[PAY, t("col.coverage", "en")] == 1.0
    assert av.loc[PAY, t("col.n_not_applicable", "en")] == 10 and av.loc[BANK, t("col.n_not_applicable", "en")] == 0
    assert av.loc["SYN-INS-03", t("col.coverage", "en")] < 1.0


@pytest.mark.parametrize("lang", LANGS)
def test_indicator_dropped_in_a_sector_appears_in_that_scorecard_notes(lang):
    r = round_result()
    assert r.final.loc[BANK, ALL_YES] != r.final.loc[BANK, ALL_YES]  # NaN: no spread among the banks
    rep = build_report(r, "scorecard", entity=BANK, lang=lang)
    assert _table(rep, "dropped").frame.iloc[:, 0].tolist() == [ALL_YES]
    notes = _texts(rep, "notes")
    assert any(ALL_YES in n and t("sector.bank", lang) in n for n in notes), notes
    pay = build_report(r, "scorecard", entity=PAY, lang=lang)  # the payment firms' values differ: not dropped there
    assert _table(pay, "dropped") is None and not any(ALL_YES in n for n in _texts(pay, "notes"))


def test_notes_take_warnings_as_strings_or_structured_problems():
    warnings = [
        "treat: 2 indicator(s) with fewer than 4 values in sector payment left untreated: J-A3B2-C1, J-A1B1-C1",
        {"rule": "normalise.constant", "step": "normalise", "message": "the range of x is 0: returning NaN",
         "indicator": "J-A1B2-C2", "group": "sector=bank"},
        {"rule": "something.new", "step": "aggregate", "message": "J-A2B1-C1 had too few values", "indicator": "J-A2B1-C1"},
    ]
    bank = entity_notes(warnings, "zh", groups={"sector": "bank"}, indicators=["J-A1B2-C2", "J-A2B1-C1", "J-A1B1-C1"])
    assert [n.rule for n in bank] == ["normalise.constant", "something.new"]
    assert "银行业" in bank[0].text and "J-A1B2-C2" in bank[0].text
    pay = entity_notes(warnings, "en", groups={"sector": "payment"}, indicators=["J-A1B1-C1", "J-A2B1-C1"])
    assert [n.rule for n in pay] == ["treat.sparse", "something.new"] and pay[0].indicators == ("J-A3B2-C1", "J-A1B1-C1")
    assert "Non-bank payment" in pay[0].text
    # a problem printed into a string by today's pipeline is read as the problem
    printed = "Normalised: " + repr({"step": "normalise", "method": "minmax", "message": "the range of x is 0: returning NaN",
                                     "indicator": "J-A1B2-C2"})
    assert warning_note(printed, "zh").rule == "normalise.constant"


@pytest.mark.parametrize("lang", LANGS)
def test_group_medians_are_labelled_as_group_medians(lang):
    r = round_result()
    rep = build_report(r, "ranking", lang=lang)
    tbl = _table(rep, "group:sector").frame
    assert t("col.median", lang) not in tbl.columns
    col = t("col.group_median", lang)
    banks = r.final.loc[[u for u in r.final.index if u.startswith("SYN-BAN")], "J"]
    assert tbl.loc[tbl.iloc[:, 0] == t("sector.bank", lang), col].iloc[0] == pytest.approx(banks.median())
    sc = _table(build_report(r, "scorecard", entity=BANK, lang=lang), "scores").frame
    assert sc[t("col.median", lang)].iloc[0] == pytest.approx(r.final["J"].median())  # "median (all)" is all units'
    assert sc[t("col.group_median", lang)].iloc[0] == pytest.approx(banks.median())


@pytest.mark.parametrize("min_n", [1, 3, 12])
def test_region_report_flags_small_provinces_and_leaves_them_unranked(min_n):
    r = round_result()
    rep = build_report(r, "region", lang="en", min_n=min_n)
    tbl = _table(rep, "region").frame.set_index(t("col.province_code", "en"))
    counts = tbl[t("col.n_institutions", "en")]
    assert counts.loc[LONE_PROVINCE + "0000"] == 1 and counts.sum() == len(r.final)
    ranks = tbl[t("col.rank", "en")]
    small = counts < min_n
    assert ranks[small].isna().all() and ranks[~small].notna().all()
    assert (tbl.loc[small, t("col.flag", "en")] != "").all() and (tbl.loc[~small, t("col.flag", "en")] == "").all()
    lone_best = r.final.loc["SYN-PAY-00", "J"] == r.final["J"].max()
    assert lone_best
    best = rep.figures()["best_province"].value
    assert best.startswith("Xinjiang") == (min_n == 1)
    flagged = next(c for c in rep.charts() if c.kind == "map").data["flagged"]
    assert set(flagged) == {c for c, s in small.items() if s}


def test_map_colours_keep_data_apart_from_no_data():
    from matplotlib.colors import to_rgb

    from fintech_eval.report.charts import COLORSCALE, GREY

    lightest = np.array(to_rgb(COLORSCALE[0][1]))
    grey = np.array(to_rgb(GREY))
    assert np.abs(lightest - grey).sum() > 0.3  # the lowest score is not mistaken for "no data"
    assert grey.std() < 0.01 and lightest.std() > 0.1  # grey has no hue; every score colour has


def _all_reports(lang: str):
    yield build_report(round_result(), "scorecard", entity=BANK, lang=lang)
    yield build_report(round_result(), "scorecard", entity=PAY, lang=lang)
    yield build_report(round_result(), "ranking", lang=lang)
    yield build_report(round_result(), "region", lang=lang)
    yield build_report(asem(), "scorecard", entity="CHN", lang=lang)
    yield build_report(provinces_result(), "region", lang=lang)
    yield build_report(h_result(), "industry", entity="bank", lang=lang, institutions=j_result())
    yield build_report(vendor_ratings(), "vendor", lang=lang)


@pytest.mark.parametrize("lang", LANGS)
def test_no_report_prints_nan(lang, tmp_path):
    import openpyxl

    from fintech_eval.report import write

    for i, rep in enumerate(_all_reports(lang)):
        wb = openpyxl.load_workbook(write(rep, "xlsx", tmp_path / f"r{i}.xlsx"), read_only=True)
        for ws in wb.worksheets:
            for row in ws.iter_rows(values_only=True):
                assert not any(isinstance(x, str) and x.strip().lower() == "nan" for x in row), (rep.kind, ws.title, row)
        html = render_html(rep)
        text = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
        assert not re.search(r"\bnan\b", text, flags=re.I), (rep.kind, re.search(r".{60}\bnan\b.{60}", text, flags=re.I | re.S))
        for tbl in rep.tables():
            for col in tbl.frame.columns:
                vals = tbl.frame[col]
                assert not vals.map(lambda x: isinstance(x, str) and x.strip().lower() == "nan").any(), (rep.kind, tbl.key, col)
