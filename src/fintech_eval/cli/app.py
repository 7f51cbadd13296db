"""Entry point: assembles the sub-commands and turns product errors into messages and exit codes."""

from __future__ import annotations

import sys

import typer

from .. import __version__
from ..errors import FintechEvalError
from . import analysis as analysis_cli
from . import catalog, data, engine, rate, records, report, review, rounds
from .output import report_error

app = typer.Typer(
    name="fintech-eval",
    help="China's FinTech evaluations end to end: JR/T 0201-2020 indicators, composite indices, ratings, reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(catalog.app, name="catalog")
app.add_typer(records.app, name="records")
app.command("evaluate")(engine.evaluate_cmd)
app.command("weights")(engine.weights_cmd)
app.command("import")(data.import_cmd)
app.command("validate")(review.validate_cmd)
app.command("correct")(review.correct_cmd)
app.command("history")(review.history_cmd)
app.command("indicators")(data.indicators_cmd)
app.command("observations")(data.observations_cmd)
app.command("template")(data.template_cmd)
app.command("sample")(data.sample_cmd)
app.command("demo")(data.demo_cmd)
app.command("rate")(rate.rate_cmd)
app.command("rate-template")(rate.rate_template_cmd)
app.command("report")(report.report_cmd)
app.command("analyse")(analysis_cli.analyse_cmd)
app.command("plan-improvement")(analysis_cli.plan_improvement_cmd)
app.add_typer(rounds.register_app, name="register")
app.add_typer(rounds.campaign_app, name="campaign")
app.command("derive")(rounds.derive_cmd)
app.command("score")(rounds.score_cmd)
app.add_typer(rounds.runs_app, name="runs")
app.command("publish")(rounds.publish_cmd)
app.add_typer(rounds.db_app, name="db")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fintech-eval {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True, callback=_version),
) -> None:
    """China's FinTech evaluations end to end."""


def main() -> None:
    """Run the CLI; a product error prints its problems and exits with its code (2 = bad input)."""
    try:
        app()
    except FintechEvalError as exc:
        sys.exit(report_error(exc))
