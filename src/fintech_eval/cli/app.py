"""Entry point: assembles the sub-commands and turns product errors into messages and exit codes."""

from __future__ import annotations

import functools
import sys
from typing import Any

import typer

from .. import __version__
from ..errors import FintechEvalError
from . import analysis as analysis_cli
from . import audit, catalog, data, engine, jobs, rate, records, report, returns, review, rounds, vendors, web
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
app.add_typer(jobs.jobs_app, name="jobs")
app.command("publish")(rounds.publish_cmd)
app.add_typer(rounds.db_app, name="db")
app.command("peers")(analysis_cli.peers_cmd)
app.command("plan-progress")(analysis_cli.plan_progress_cmd)
app.add_typer(returns.app, name="returns")
app.command("serve")(web.serve_cmd)
app.add_typer(web.admin_app, name="admin")
app.add_typer(review.review_app, name="review")
app.add_typer(vendors.vendor_app, name="vendor")
app.add_typer(audit.audit_app, name="audit")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fintech-eval {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True, callback=_version),
) -> None:
    """China's FinTech evaluations end to end."""


@functools.cache
def _command() -> Any:
    """The Click command built from the Typer app, once per process (building it takes ~0.1 s, which
    in-process callers such as the tests would pay on every call)."""
    return typer.main.get_command(app)


def main() -> None:
    """Run the CLI; a product error prints its problems and exits with its code (2 = bad input). A busy
    or unreadable database and a file that cannot be written are one line each, never a traceback."""
    try:
        _command()(prog_name="fintech-eval")
    except FintechEvalError as exc:
        sys.exit(report_error(exc))
    except OSError as exc:
        name = exc.filename if exc.filename is not None else ""
        sys.exit(report_error(FintechEvalError(
            f"cannot use {name!s}: {exc.strerror or exc} (check the path given to --out / --db and the free space)"
            if name else f"input/output error: {exc.strerror or exc}", rule="io.error")))
    except Exception as exc:
        sa = sys.modules.get("sqlalchemy.exc")  # imported only by the commands that use a database (start-up)
        if sa is not None and isinstance(exc, sa.SQLAlchemyError):
            sys.exit(report_error(database_error(exc)))
        raise


def database_error(exc: Exception) -> FintechEvalError:
    """One line for a database failure (a SQLAlchemy error): busy (another writer held a SQLite file longer
    than the wait), or the driver's own reason."""
    from sqlalchemy.exc import OperationalError

    from ..service import db_reason
    from ..store.db import WAIT_ENV, busy_wait

    reason = db_reason(exc)
    if isinstance(exc, OperationalError) and "locked" in reason.lower():
        return FintechEvalError(
            f"the database is busy: another import or correction is writing to it and did not finish within "
            f"{busy_wait():g} s; nothing was stored — run the command again when it has finished, or wait longer "
            f"with --wait SECONDS (or ${WAIT_ENV})", rule="db.busy")
    return FintechEvalError(f"database error: {reason}", rule="db.error")
