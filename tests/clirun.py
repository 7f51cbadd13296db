"""Run the real CLI entry point in-process and capture what it prints and its exit code."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import pytest

from fintech_eval.cli.app import main


@dataclass
class Run:
    code: int
    out: str
    err: str


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setattr(sys, "argv", ["fintech-eval", *map(str, args)])
    monkeypatch.setenv("COLUMNS", "200")
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    cap = capsys.readouterr()
    return Run(code, cap.out, cap.err)
