"""One language per report: every kind rendered in each language carries no text of the other language outside
proper names (the units' own names, a user's framework that has one language only, software and standards)
and codes. A script check on the rendered text (the HTML a reader sees and the charts' labels), not a list of
known strings."""

from __future__ import annotations

import functools
import html as html_mod
import re

import pytest

from fintech_eval.report import build_report
from fintech_eval.report.html import render_html
from fintech_eval.report.i18n import LANGS
from fintech_eval.report.localise import framework_of

from . import h_result, j_result, provinces_result, round_result, vendor_ratings

CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]+")
#: a code: letters and digits joined by - _ . : / @ (J-A3B2-C1, SYN-BAN-01, SHA-256, JR/T, jrt0201-2020, echarts@4.9.0,
#: manifest.json, fintech-eval), or a word with a digit (A1, v2)
CODE = re.compile(r"[A-Za-z0-9]+(?:[-_.:/@][A-Za-z0-9]+)+|\b\w*\d\w*\b")
#: a word of a Latin-script language (two lower-case letters or more); upper-case abbreviations (PC, APP, AHP) are codes
WORD = re.compile(r"[A-Za-z]*[a-z]{2,}[A-Za-z]*")
#: proper names of software, formats and organisations a Chinese report may name as they are
PROPER = {"python", "Python", "pandas", "plotly", "WeasyPrint", "echarts", "Apache", "COINr", "DataFrame", "Excel", "Parquet", "Sobol",
          "FinTech"}  # 《金融科技（FinTech）发展规划（2019—2021年）》: the Plan's official Chinese title

CASES = {
    "scorecard": lambda lang: build_report(round_result(), "scorecard", entity="SYN-BAN-01", lang=lang),
    "scorecard-payment": lambda lang: build_report(round_result(), "scorecard", entity="SYN-PAY-01", lang=lang),
    "ranking": lambda lang: build_report(round_result(), "ranking", lang=lang),
    "region-institutions": lambda lang: build_report(round_result(), "region", lang=lang),
    "region-provinces": lambda lang: build_report(provinces_result(), "region", lang=lang),
    "industry": lambda lang: build_report(h_result(), "industry", entity="bank", lang=lang, institutions=j_result()),
    "vendor": lambda lang: build_report(vendor_ratings(), "vendor", lang=lang),
    "scorecard-robustness": lambda lang: build_report(round_result(), "scorecard", entity="SYN-BAN-01", lang=lang, **_robustness()),
    "ranking-intervals": lambda lang: build_report(round_result(), "ranking", lang=lang, intervals=_robustness()["intervals"]),
}


@functools.cache
def _robustness() -> dict:
    """A real uncertainty analysis, improvement plan and marginal gains of the round (the rank interval's
    sentence, the interval chart and the plan's sections in each language)."""
    from fintech_eval.analysis import marginal_gains, plan_improvement, uncertainty_analysis

    r = round_result()
    ua = uncertainty_analysis(r, ["weights=0.3", "normalise.method=minmax,zscore"], n=8, seed=1)
    return {"intervals": ua.rank_intervals().set_index("uCode"), "plan": plan_improvement(r, "SYN-BAN-01", "next", max_changes=1),
            "gains": marginal_gains(r, "SYN-BAN-01")}


def _chart_strings(obj) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for k, v in obj.items() if k not in ("values", "z", "x", "names") for s in _chart_strings(v)] + \
            [s for s in (obj.get("names") or {}).values()] if isinstance(obj.get("names"), dict) else \
            [s for k, v in obj.items() if k not in ("values", "z", "x") for s in _chart_strings(v)]
    if isinstance(obj, list | tuple):
        return [s for v in obj for s in _chart_strings(v)]
    return []


def visible_text(rep) -> str:
    """What a reader reads: the HTML without scripts, styles and code listings, plus every chart's labels."""
    page = render_html(rep)
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<pre class=\"code\".*?</pre>", " ", page, flags=re.S)
    text = html_mod.unescape(re.sub(r"<[^>]+>", " ", page))
    charts = [f"{c.title} {c.note} " + " ".join(_chart_strings(c.data)) for c in rep.charts()]
    return " ".join([text, *charts])


def proper_names(case: str) -> list[str]:
    """The units' own names and codes (an institution is called what it is called), the evaluation's name (given by
    whoever ran it), the tree's codes, and the node names of a user's framework that exists in one language only."""
    source = {"region-provinces": provinces_result(), "industry": j_result(), "vendor": None}.get(case, round_result())
    names: list[str] = []
    if source is not None:
        names += [str(source.spec.name), *map(str, source.final.index), *map(str, source.tree.meta["code"])]
        names += [str(n) for n in (source.names.tolist() if source.names is not None else [])]
        if framework_of(source.tree) is None:
            names += [str(n) for n in source.tree.meta["name"]]
    if case == "industry":
        names.append(str(h_result().spec.name))
    if case == "vendor":
        names += [vendor_ratings()["comprehensive"].vendor.name]
    return sorted(set(names), key=len, reverse=True)


def foreign(text: str, lang: str, names: list[str]) -> list[str]:
    for n in names:
        text = text.replace(n, " ")
    if lang == "en":
        return CJK.findall(text)
    text = CODE.sub(" ", re.sub(r"`[^`]*`", " ", text))
    return [w for w in WORD.findall(text) if w not in PROPER]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("case", list(CASES))
def test_report_has_no_text_of_the_other_language(case, lang):
    rep = CASES[case](lang)
    bad = foreign(visible_text(rep), lang, proper_names(case))
    assert not bad, f"{case} ({lang}): {sorted(set(bad))[:40]}"


def test_the_check_catches_the_other_language():
    assert foreign("总分 Total score", "zh", []) == ["Total", "score"]
    assert foreign("Total 总分", "en", []) == ["总分"]
    assert foreign("指标 J-A3B2-C1，SHA-256，手机 APP 渠道，合成银行 Bank", "zh", ["合成银行 Bank"]) == []


def test_provinces_named_in_chinese_by_the_store_are_named_in_english_in_an_english_report():
    """The store names block Q's units by the register's 北京市; an English report names them Beijing (the data
    availability table and the map's table alike), a Chinese one keeps 北京市."""
    import copy

    import pandas as pd

    from fintech_eval.geo import provinces

    r = copy.copy(provinces_result())
    table = provinces().set_index("code")
    r.names = pd.Series({c: table.at[c, "name_zh"] for c in table.index if c in set(map(str, r.final.index))})
    en, zh = visible_text(build_report(r, "region", lang="en")), visible_text(build_report(r, "region", lang="zh"))
    assert "北京市" not in en and "Beijing" in en
    assert "北京市" in zh
