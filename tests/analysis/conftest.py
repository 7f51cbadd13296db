"""ASEM results shared by the analysis tests (evaluated once per session: the analyses never modify them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fintech_eval.engine import evaluate

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="session")
def asem_a():
    """COINr's build_example_coin (pipeline A): the coin its analysis tables were computed on."""
    return evaluate(EXAMPLES / "asem-pipeline-a.yaml")


@pytest.fixture(scope="session")
def asem_c():
    """Pipeline C: imputed, no screening, so no unit has missing data."""
    return evaluate(EXAMPLES / "asem-pipeline-c.yaml")
