"""One local Spark session for the whole test session (starting one takes seconds). Without pyspark or
Java the Spark tests are skipped with the reason, except under CI (``CI=true``), where that fails."""

from __future__ import annotations

import os
import shutil

import pytest


@pytest.fixture(scope="session")
def spark():
    why = None
    try:
        import pyspark  # noqa: F401
    except ImportError:
        why = "pyspark is not installed (pip install -e '.[test,spark]')"
    if why is None and shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        why = "no Java runtime (Spark needs Java 17+)"
    if why:
        if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
            pytest.fail(f"CI runs the Spark tests: {why}")
        pytest.skip(why)
    from fintech_eval.records.backends.spark import spark_session

    session = spark_session("local[2]", app_name="fintech-eval tests", conf={
        "spark.sql.shuffle.partitions": "4", "spark.ui.enabled": "false", "spark.driver.memory": "1g"})
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
