"""Execution backends: one interface, one registry. A backend exposes record files as a named relation
and runs the SQL :mod:`fintech_eval.records.compile` writes in its :class:`~fintech_eval.records.compile.Dialect`.

    backend = get_backend("duckdb")             # or "spark" (pip install 'fintech-eval[spark]')
    backend.register("transactions", files, "parquet")
    rows = backend.rows("SELECT ...")           # list of dicts

Adding an engine is a module with a class registered under its name.
"""

from __future__ import annotations

from typing import Any, Protocol

from ...registry import Registry
from ..compile import Dialect

BACKENDS = Registry("records engine")


class Backend(Protocol):
    name: str
    dialect: Dialect

    def register(self, view: str, files: list[str], fmt: str) -> str:
        """Expose ``files`` (paths or URIs; ``parquet``, or ``csv`` read as text) as a relation; return its SQL name."""

    def rows(self, sql: str) -> list[dict[str, Any]]:
        """Run a query and return its rows."""

    def version(self) -> str: ...

    def close(self) -> None: ...


def get_backend(name: str, **options: Any) -> Backend:
    """A new backend by name (``duckdb``, ``spark``) with its options (e.g. ``threads``, ``master``)."""
    if name == "spark":
        from . import spark  # noqa: F401  (imports pyspark: only when asked for)
    else:
        from . import duckdb  # noqa: F401
    return BACKENDS.get(name)(**options)


def engine_names() -> list[str]:
    return ["duckdb", "spark"]
