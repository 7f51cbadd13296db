"""Rank intervals of a real uncertainty analysis drawn in the reports: the scorecard's sentence and key figure,
the ranking's columns and interval chart (plotly and matplotlib), in both languages; intervals of another
result are refused, never printed beside the wrong rank."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from fintech_eval.analysis import load_rank_intervals
from fintech_eval.errors import DataError
from fintech_eval.report import build_report
from fintech_eval.report.charts import mpl_png, plotly_figure
from fintech_eval.report.loader import load_result
from tests.clirun import run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    """ASEM pipeline C saved, then a small seeded uncertainty analysis of it (weights ±25 %, two normalisers)
    saved beside it, as `fintech-eval analyse RESULT` does."""
    from fintech_eval.analysis import uncertainty_analysis
    from fintech_eval.engine import evaluate

    res = tmp_path_factory.mktemp("ua") / "res"
    result = evaluate(EXAMPLES / "asem-pipeline-c.yaml")
    result.save(res)
    ua = uncertainty_analysis(result, ["weights=0.25", "normalise.method=minmax,zscore"], n=30, seed=3)
    ua.save(res / "analysis", plots=False)
    return res


def _chart(rep, key):
    return next(c for c in rep.charts() if c.key == key)


def _wide_unit(iv: pd.DataFrame) -> str:
    """A unit whose interval is not a single rank (so the sentence says something)."""
    w = (iv["rank_high"] - iv["rank_low"]).sort_values(ascending=False)
    return str(w.index[0])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_scorecard_states_the_interval_in_words(analysed, lang):
    iv = load_rank_intervals(analysed)
    u = _wide_unit(iv)
    rank, lo, hi = (int(iv.at[u, c]) for c in ("rank", "rank_low", "rank_high"))
    assert lo <= rank <= hi and lo < hi
    rep = build_report(load_result(analysed), "scorecard", entity=u, lang=lang, intervals=iv)
    fig = rep.figures()["rank_interval"]
    assert fig.value == f"{lo}–{hi}"
    texts = [b.text for s in rep.sections for b in s.blocks if hasattr(b, "text")]
    want = (f"rank {rank}, 90% of plausible choices put it between {lo} and {hi}." if lang == "en"
            else f"排名第 {rank}，90% 的合理方法选择使其排名位于第 {lo} 至 {hi} 名之间。")
    assert want in texts
    assert "90%" in fig.label


def test_ranking_shows_interval_columns_and_a_chart_drawn_both_ways(analysed):
    iv = load_rank_intervals(analysed)
    rep = build_report(load_result(analysed), "ranking", lang="en", intervals=iv)
    table = next(t for t in rep.tables() if t.key == "ranking").frame
    lo_col, hi_col = "Rank interval, best", "Rank interval, worst"
    codes = table["Code"].astype(str)
    assert (table[lo_col].to_numpy() == iv["rank_low"].reindex(codes).to_numpy()).all()
    assert (table[hi_col].to_numpy() == iv["rank_high"].reindex(codes).to_numpy()).all()
    ch = _chart(rep, "rank_intervals")
    d = ch.data
    assert len(d["labels"]) == 30 and d["rank"] == sorted(d["rank"])  # the top 30, in rank order, as the bar chart
    assert all(a <= r <= b for a, r, b in zip(d["low"], d["rank"], d["high"], strict=True))
    fig = plotly_figure(ch)
    assert [t.type for t in fig.data] == ["bar", "scatter", "scatter"]
    bar = fig.data[0]  # the interval as a bar over the ranks from its low end to its high end
    assert list(bar.base) == pytest.approx([lo - 0.4 for lo in d["low"]][::-1])
    assert list(bar.x) == pytest.approx([h - lo + 0.8 for lo, h in zip(d["low"], d["high"], strict=True)][::-1])
    png = mpl_png(ch, dpi=40)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_report_command_draws_the_intervals_it_finds_beside_the_result(analysed, tmp_path, capsys, monkeypatch):
    out = tmp_path / "rep"
    r = run_cli(["report", analysed, "--kind", "ranking", "--lang", "zh", "--out", out], capsys, monkeypatch)
    assert r.code == 0, r.out + r.err
    html = next(out.glob("*ranking.zh.html")).read_text(encoding="utf-8")
    assert 'data-key="rank_intervals"' in html or "rank_intervals" in html
    assert "90% 的排名落在其区间内" in html
    iv = load_rank_intervals(analysed)
    u = _wide_unit(iv)
    r = run_cli(["report", analysed, "--kind", "scorecard", "--entity", u, "--lang", "en", "--out", out], capsys, monkeypatch)
    assert r.code == 0, r.out + r.err
    html = next(out.glob(f"*scorecard_{u}.en.html")).read_text(encoding="utf-8")
    assert f"rank {int(iv.at[u, 'rank'])}, 90% of plausible choices put it between {int(iv.at[u, 'rank_low'])} and {int(iv.at[u, 'rank_high'])}" in html


def test_intervals_of_another_result_are_refused(analysed, tmp_path, capsys, monkeypatch):
    iv = load_rank_intervals(analysed).copy()
    u = iv.index[0]
    iv.loc[u, "rank"] = iv.loc[u, "rank"] + 1
    with pytest.raises(DataError, match=f"{u} is ranked"):
        build_report(load_result(analysed), "ranking", lang="en", intervals=iv)
    # the command warns and renders without them
    import shutil

    other = tmp_path / "res"
    shutil.copytree(analysed, other)
    iv.reset_index().to_csv(other / "analysis" / "rank_intervals.csv", index=False)
    out = tmp_path / "rep"
    r = run_cli(["report", other, "--kind", "ranking", "--lang", "en", "--out", out], capsys, monkeypatch)
    assert r.code == 0, r.out + r.err
    assert "rank intervals not shown" in r.out + r.err
    html = next(out.glob("*ranking.en.html")).read_text(encoding="utf-8")
    assert "Rank interval, best" not in html


def test_no_analysis_no_interval(analysed):
    rep = build_report(load_result(analysed), "scorecard", entity="AUT", lang="en")
    assert "rank_interval" not in rep.figures()
    assert not any(c.key == "rank_intervals" for c in build_report(load_result(analysed), "ranking", lang="en").charts())


def test_a_round_of_scorecards_shows_each_units_interval(analysed, tmp_path):
    from fintech_eval.report.batch import render_batch

    iv = load_rank_intervals(analysed)
    units = ["DEU", _wide_unit(iv)]
    batch = render_batch(load_result(analysed), units, lang="en", fmt="html", out=tmp_path / "round", workers=1, intervals=iv)
    for u, path in zip(units, batch.files, strict=True):
        html = path.read_text(encoding="utf-8")
        lo, hi = int(iv.at[u, "rank_low"]), int(iv.at[u, "rank_high"])
        assert f"90% of plausible choices put it between {lo} and {hi}" in html


def test_the_scorecard_shows_the_improvement_plan_it_is_given(analysed):
    """The planner's figures (exact re-runs) in the scorecard, in both languages (see also the CLI's --plan)."""
    from fintech_eval.analysis import marginal_gains, plan_improvement
    from fintech_eval.analysis.source import evaluate_source

    again = evaluate_source(analysed)
    plan = plan_improvement(again, "AUT", "rank:10", max_changes=2)
    assert plan.changes is not None
    gains = marginal_gains(again, "AUT")
    for lang in ("zh", "en"):
        rep = build_report(load_result(analysed), "scorecard", entity="AUT", lang=lang, plan=plan, gains=gains)
        table = next(t for t in rep.tables() if t.key == "plan").frame
        assert table.iloc[:, 0].tolist() == plan.changes["iCode"].tolist()
        texts = [b.text for s in rep.sections if s.key == "plan" for b in s.blocks if hasattr(b, "text")]
        want = (f"the rank {plan.new_rank}, reaching the target: rank 10 or better" if lang == "en" else f"排名第 {plan.new_rank}，达到目标：第 10 名或更好")
        assert any(want in x for x in texts), texts
        assert next(t for t in rep.tables() if t.key == "gains").frame.iloc[0, 0] == gains["iCode"].iloc[0]
    with pytest.raises(DataError, match="is for AUT"):
        build_report(load_result(analysed), "scorecard", entity="DEU", lang="en", plan=plan)


def test_report_plan_option(analysed, tmp_path, capsys, monkeypatch):
    out = tmp_path / "rep"
    r = run_cli(["report", analysed, "--kind", "scorecard", "--entity", "AUT", "--plan", "score:200", "--lang", "en", "--out", out],
                capsys, monkeypatch)
    assert r.code == 0, r.out + r.err
    html = next(out.glob("*scorecard_AUT.en.html")).read_text(encoding="utf-8")
    assert "No set of up to 3 indicator(s) within their feasible bounds reaches the target: a total score of 200.00 or more" in html
    r = run_cli(["report", analysed, "--kind", "ranking", "--plan", "next", "--out", out], capsys, monkeypatch)
    assert r.code == 2 and "--plan goes with the scorecard of one --entity" in r.err
