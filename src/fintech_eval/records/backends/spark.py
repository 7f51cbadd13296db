"""Apache Spark: the same SQL on a cluster (``master="spark://host:7077"``, ``yarn``, ``k8s://…``) or in
local mode (``local[N]``, the tests). Needs ``pip install 'fintech-eval[spark]'`` and Java 17+.

The session's time zone is UTC so that timestamps without a zone read and compare as written (they are
local business times: the period boundaries are local dates)."""

from __future__ import annotations

from typing import Any

from ...errors import SpecError
from ..compile import Dialect
from . import BACKENDS

DIALECT = Dialect(
    name="spark",
    quote=lambda s: "`" + s.replace("`", "``") + "`",
    string=lambda s: "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'",
    millis=lambda e: f"unix_millis(CAST({e} AS TIMESTAMP))",
    file_column="input_file_name()",
    types={"integer": "BIGINT", "decimal": "DECIMAL(18,2)", "boolean": "BOOLEAN", "timestamp": "TIMESTAMP"},
)


def spark_session(master: str | None = "local[2]", app_name: str = "fintech-eval records", conf: dict[str, str] | None = None):
    """A SparkSession (the active one if there is one and ``master`` is None)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SpecError("the spark engine needs pyspark: pip install 'fintech-eval[spark]' (and Java 17+)",
                        rule="engine.unavailable") from None
    b = SparkSession.builder.appName(app_name).config("spark.sql.session.timeZone", "UTC").config("spark.ui.showConsoleProgress", "false")
    if master:
        b = b.master(master)
    for k, v in (conf or {}).items():
        b = b.config(k, v)
    return b.getOrCreate()


@BACKENDS.register("spark")
class SparkBackend:
    """``master`` (default ``local[2]``; ``None`` under spark-submit), ``conf`` (Spark settings), or an
    existing ``session``. ``close()`` stops only a session this backend started."""

    name = "spark"
    dialect = DIALECT

    def __init__(self, *, master: str | None = "local[2]", conf: dict[str, str] | None = None, session: Any = None):
        self._own = session is None
        self.spark = session if session is not None else spark_session(master, conf=conf)
        self.spark.conf.set("spark.sql.session.timeZone", "UTC")

    def register(self, view: str, files: list[str], fmt: str) -> str:
        paths = [str(f) for f in files]
        if fmt == "parquet":
            df = self.spark.read.parquet(*paths)
        else:
            df = self.spark.read.option("header", True).option("inferSchema", False).csv(paths)
        df.createOrReplaceTempView(view)
        return DIALECT.quote(view)

    def rows(self, sql: str) -> list[dict[str, Any]]:
        return [r.asDict() for r in self.spark.sql(sql).collect()]

    def version(self) -> str:
        return f"spark {self.spark.version}"

    def close(self) -> None:
        if self._own:
            self.spark.stop()
