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
    assert (out / "scorecard-CHN.en.xlsx").is_file()
    # all: every kind that applies (no entity: no scorecard; ASEM's units are countries: the region report is skipped, said so)
    res = CliRunner().invoke(app, [str(saved), "--out", str(out), "--format", "html"])
    assert res.exit_code == 0, res.output
    assert (out / "ranking.zh.html").is_file() and not list(out.glob("scorecard*.html"))
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
    assert (tmp_path / "out" / "region.zh.xlsx").is_file()
