"""DuckDB: the embedded default. Reads Parquet or CSV files in place, out of core (it spills to
``temp_directory`` when a memory limit is set), in parallel on ``threads`` cores."""

from __future__ import annotations

from typing import Any

import duckdb

from ..compile import Dialect
from . import BACKENDS

DIALECT = Dialect(
    name="duckdb",
    quote=lambda s: '"' + s.replace('"', '""') + '"',
    string=lambda s: "'" + s.replace("'", "''") + "'",
    millis=lambda e: f"epoch_ms({e})",
    file_column="filename",
    types={"integer": "BIGINT", "decimal": "DECIMAL(18,2)", "boolean": "BOOLEAN", "timestamp": "TIMESTAMP"},
)


@BACKENDS.register("duckdb")
class DuckDBBackend:
    """``threads`` (default: all cores), ``memory_limit`` (e.g. ``'4GB'``), ``temp_directory`` for spills."""

    name = "duckdb"
    dialect = DIALECT

    def __init__(self, *, threads: int | None = None, memory_limit: str | None = None, temp_directory: str | None = None):
        self.con = duckdb.connect(":memory:")
        self.con.execute("SET TimeZone = 'UTC'")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        if memory_limit:
            self.con.execute(f"SET memory_limit = {DIALECT.string(memory_limit)}")
        if temp_directory:
            self.con.execute(f"SET temp_directory = {DIALECT.string(str(temp_directory))}")

    def register(self, view: str, files: list[str], fmt: str) -> str:
        listed = "[" + ", ".join(DIALECT.string(str(f)) for f in files) + "]"
        if fmt == "parquet":
            read = f"read_parquet({listed}, filename = true, hive_partitioning = false)"
        else:
            read = f"read_csv({listed}, header = true, all_varchar = true, filename = true, hive_partitioning = false)"
        name = DIALECT.quote(view)
        self.con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM {read}")
        return name

    def rows(self, sql: str) -> list[dict[str, Any]]:
        cur = self.con.execute(sql)
        names = [c[0] for c in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def version(self) -> str:
        return f"duckdb {duckdb.__version__}"

    def close(self) -> None:
        self.con.close()
