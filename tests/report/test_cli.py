"""``fintech-eval report`` (``report_cmd``) on a directory written by ``fintech-eval evaluate --out``."""

import pytest
import typer
from typer.testing import CliRunner

from fintech_eval.cli.report import report_cmd
from fintech_eval.errors import FintechEvalError

from . import asem, provinces_result

app = typer.Typer()
app.command()(report_cmd)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli") / "run"
    asem().save(d)
    return d


def test_report_command_writes_each_kind(saved, tmp_path):
    out = tmp_path / "reports"
    res = CliRunner().invoke(app, [str(saved), "--kind", "scorecard", "--entity", "CHN", "--lang", "en",
                                   "--format", "xlsx", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "Index_scorecard_CHN.en.xlsx").is_file()
    # all: every kind that applies (no entity: no scorecard; ASEM's units are countries: the region report is skipped, said so)
    res = CliRunner().invoke(app, [str(saved), "--out", str(out), "--format", "html"])
    assert res.exit_code == 0, res.output
    assert (out / "Index_ranking.zh.html").is_file() and not list(out.glob("*scorecard*.html"))
    assert "skipped" in res.output and "region" in res.output


def test_report_command_errors_name_the_problem(saved, tmp_path):
    res = CliRunner().invoke(app, [str(saved), "--kind", "scorecard", "--entity", "Narnia", "--out", str(tmp_path)])
    assert res.exit_code != 0 and isinstance(res.exception, FintechEvalError) and "Narnia" in str(res.exception)
    res = CliRunner().invoke(app, [str(saved), "--kind", "pie", "--out", str(tmp_path)])
    assert isinstance(res.exception, FintechEvalError) and "choose one of" in str(res.exception)
    res = CliRunner().invoke(app, [str(tmp_path / "nothing"), "--out", str(tmp_path)])
    assert isinstance(res.exception, FintechEvalError)


def test_region_report_from_a_saved_province_result(tmp_path):
    provinces_result().save(tmp_path / "run")
    res = CliRunner().invoke(app, [str(tmp_path / "run"), "--kind", "region", "--lang", "zh", "--format", "xlsx",
                                   "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "out" / "Index_region.zh.xlsx").is_file()


def test_industry_report_with_the_institutions_of_the_same_period(tmp_path):
    import openpyxl

    from . import h_result, j_result

    h_result().save(tmp_path / "H")
    j_result().save(tmp_path / "J")
    res = CliRunner().invoke(app, [str(tmp_path / "H"), "--kind", "industry", "--entity", "bank", "--with", str(tmp_path / "J"),
                                   "--lang", "en", "--format", "xlsx", "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(tmp_path / "out" / "H_industry_bank.en.xlsx")
    assert any(ws.cell(1, 1).value == "Rank in the sector" for ws in wb.worksheets)  # the leaders: from the J result
    # all, with the entity: scorecard, ranking and industry of the sector; region skipped (units are not provinces)
    res = CliRunner().invoke(app, [str(tmp_path / "H"), "--entity", "bank", "--format", "html", "--out", str(tmp_path / "all")])
    assert res.exit_code == 0, res.output
    assert {p.name for p in (tmp_path / "all").iterdir()} == {"H_scorecard_bank.zh.html", "H_ranking.zh.html", "H_industry_bank.zh.html"}
    # an institution result: no industry report for it, said so
    res = CliRunner().invoke(app, [str(tmp_path / "J"), "--entity", "INST-00", "--format", "html", "--out", str(tmp_path / "j")])
    assert res.exit_code == 0, res.output
    assert "industry" in res.output and "skipped" in res.output and not list((tmp_path / "j").glob("*industry*"))


def test_rate_writes_the_vendor_report_as_a_workbook(tmp_path):
    import openpyxl

    from fintech_eval.cli.rate import rate_cmd

    from . import vendor_ratings

    rs = vendor_ratings()
    scores = tmp_path / "scores.csv"
    rows = next(iter(rs.values())).indicators
    import pandas as pd

    pd.DataFrame({"indicator": rows.index, "step": rows["claimed_step"], "evidence_ref": rows["evidence_ref"],
                  "reviewer": rows["reviewer"], "date": rows["date"]}).to_csv(scores, index=False)
    rate = typer.Typer()
    rate.command()(rate_cmd)
    out = tmp_path / "V001.xlsx"
    res = CliRunner().invoke(rate, ["--vendor", "V001", "--scores", str(scores), "-p", "product", "--model", "both",
                                    "--out", str(out), "--lang", "en"])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(out)
    contents = wb.worksheets[0]
    values = [c.value for row in contents.iter_rows(max_col=2) for c in row]
    for r in rs.values():
        assert f"{r.total:,.2f}" in values
