"""The CLI is a thin layer over ``fintech_eval.app``: no CLI module reaches the store (or the URL-taking
service helpers) for anything but naming the database and the writers' wait; every read and write of stored
data goes through an application function on a ``Workspace``, which the web calls too."""

from __future__ import annotations

import ast
from pathlib import Path

import fintech_eval.cli

#: what a CLI module may take from the store and the service: configuration and one-line error texts
ALLOWED = {"store": {"database_url"}, "store.db": {"WAIT_ENV", "busy_wait"}, "service": {"db_reason"}}


def test_cli_modules_import_no_store_or_service_function_that_reads_or_writes():
    found = []
    for path in sorted(Path(fintech_eval.cli.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 2 and (node.module or "").split(".")[0] in ("store", "service"):
                found += [(path.name, node.module, a.name) for a in node.names if a.name not in ALLOWED.get(node.module, set())]
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith(("fintech_eval.store", "fintech_eval.service")):
                found += [(path.name, node.module, a.name) for a in node.names]
    assert found == []
