"""Printing rows as a Rich table, JSON or CSV, and errors as one line per problem."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import sys
from collections.abc import Iterator, Sequence
from enum import StrEnum
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..errors import FintechEvalError, visible

console = Console()
err_console = Console(stderr=True)


class Lang(StrEnum):
    """``--lang``: the language of a printout or a report."""

    zh = "zh"
    en = "en"


class RowFmt(StrEnum):
    """``--format`` of the commands that print rows: the formats of :func:`emit`."""

    table = "table"
    json = "json"
    csv = "csv"


def emit(rows: Sequence[dict[str, Any]], fmt: str, *, columns: Sequence[str] | None = None, title: str | None = None,
         safe_csv: bool = False) -> None:
    """Write ``rows`` to stdout as ``table``, ``json`` (an array of objects) or ``csv``; ``safe_csv``: texts
    starting with a formula prefix are written with a leading ``'`` (:func:`neutralise`)."""
    columns = list(columns or (rows[0].keys() if rows else []))
    if fmt == "json":
        sys.stdout.write(json.dumps(list(rows), ensure_ascii=False, indent=2, default=str) + "\n")
    elif fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: neutralise(_flat(r.get(k))) if safe_csv else _flat(r.get(k)) for k in columns})
        sys.stdout.write(buf.getvalue())
    elif fmt == "table" and not columns:  # nothing to show: say so (an empty Rich table is a blank line)
        console.print(Text(f"{title}: none" if title else "none"))
    elif fmt == "table":
        t = Table(title=title, show_lines=False, header_style="bold")
        for c in columns:
            t.add_column(c, overflow="fold")
        for r in rows:  # cells are plain text: user texts are never read as Rich markup or printed raw
            t.add_row(*[Text(_cell(_flat(r.get(c)))) for c in columns])
        console.print(t)
    else:  # pragma: no cover - Typer restricts the choices
        raise ValueError(fmt)


def safe(value: Any) -> str:
    """A user text (file name, value, reason) for a Rich markup string: escaped, and with control
    characters shown as escapes, so that ``[/b]`` or an ESC sequence prints as text."""
    return escape(visible(str(value)))


#: the prefixes a spreadsheet reads as a formula (OWASP "CSV injection")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def neutralise(value: Any) -> Any:
    """A cell for a CSV that people open in Excel: a text starting with a formula prefix gets a leading
    ``'`` (so it is shown, never run); numbers and other texts are unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


TABLE_CELL_CHARS = 1_000  # a table cell longer than this is cut (with its length): Rich wraps long text slowly


def _cell(text: str) -> str:
    text = visible(text)
    return text if len(text) <= TABLE_CELL_CHARS else f"{text[:TABLE_CELL_CHARS]}… ({len(text):,} characters)"


def _flat(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, list | tuple):
        return ";".join(_flat(x) for x in v)
    return str(v)


def report_error(exc: FintechEvalError, lang: str = "en") -> int:
    """Print every problem of ``exc`` on stderr (messages in ``lang``, English where a rule has no Chinese
    text); return the exit code."""
    head = f"[bold red]错误[/]：共 {len(exc.problems)} 个问题" if lang == "zh" else \
        f"[bold red]error[/]: {len(exc.problems)} problem(s)"
    err_console.print(head)
    print_problems(exc.problems, lang)
    return exc.exit_code


def print_problems(problems: Sequence[Any], lang: str = "en") -> None:
    """One line per problem on stderr: place, message in ``lang``, rule."""
    for p in problems:
        err_console.print("  - " + (p.line(lang) if hasattr(p, "line") else str(p)), markup=False, highlight=False,
                          soft_wrap=True)


@contextlib.contextmanager
def problems_in(lang: str) -> Iterator[None]:
    """Inside, a product error is printed in ``lang`` and exits with its code; in English it goes up unchanged
    (the CLI's entry point prints it the same way)."""
    if lang == "en":
        yield
        return
    try:
        yield
    except FintechEvalError as exc:
        import typer

        raise typer.Exit(report_error(exc, lang)) from None
