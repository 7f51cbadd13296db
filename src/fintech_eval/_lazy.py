"""Public names imported on first use (PEP 562): a package's ``__getattr__`` and ``__dir__`` from one table, so
that importing the package (and the CLI's start-up) pays for a module only when one of its names is used."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, namespace: dict[str, Any], exports: Mapping[str, str | tuple[str, str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``exports``: name → relative module (``".engine.pipeline"``), or (module, the name there) when it differs.
    A name, once imported, is kept in ``namespace`` so later look-ups skip ``__getattr__``."""

    def __getattr__(name: str) -> Any:
        target = exports.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attr = target if isinstance(target, tuple) else (target, name)
        value = getattr(importlib.import_module(module, package), attr)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *exports})

    return __getattr__, __dir__
