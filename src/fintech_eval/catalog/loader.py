"""Find, load and validate frameworks: the shipped ones (package data), user files and extensions.

Shipped frameworks live in ``catalog/data/<id>.yaml``; older or newer versions beside them as
``<id>@<version>.yaml`` (§5: the standard is revised, and versions coexist). A reference is an id
(``jrt0201-2020``), an id with a version (``jrt0201-2020@2020``) or a path to a YAML file.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import FrameworkError
from .checks import Context, run_checks
from .extension import Extension, apply_extension
from .models import Framework
from .yamlsource import LineMap, load_ref, load_yaml, schema_problems, shipped_yaml

DATA = resources.files("fintech_eval.catalog") / "data"


def shipped_files() -> dict[str, Path]:
    """Reference → file of every shipped framework (``id`` for the current version, ``id@version`` others)."""
    return shipped_yaml(DATA)


def list_frameworks() -> list[dict[str, Any]]:
    """Id, version, kind and titles of every shipped framework."""
    rows = []
    for ref in shipped_files():
        fw = load_framework(ref)
        rows.append(
            {
                "ref": ref,
                "id": fw.id,
                "version": fw.version,
                "kind": fw.kind,
                "status": fw.status,
                "title_zh": fw.title.zh,
                "title_en": fw.title.en,
            }
        )
    return rows


def load_framework(ref: str | Path, *, extensions: list[str | Path] = ()) -> Framework:  # type: ignore[assignment]
    """Load a shipped framework by id (or ``id@version``) or a YAML path, then apply extension files."""
    fw = load_ref(str(ref), shipped_files(), "framework", shipped=_load_shipped, path=load_file)
    for ext in extensions:
        fw = load_extension(ext, base=fw)
    return fw


@lru_cache(maxsize=32)
def _load_shipped(ref: str) -> Framework:
    """Shipped files do not change while the program runs: load each once."""
    return load_file(shipped_files()[ref])


def _code_lines(data: Any, lines: LineMap, path=()) -> dict[str, int]:
    out: dict[str, int] = {}
    if isinstance(data, dict):
        if isinstance(data.get("code"), str) and "name" in data and path in lines:
            out.setdefault(data["code"], lines[path])
        for k, v in data.items():
            out.update({c: n for c, n in _code_lines(v, lines, (*path, k)).items() if c not in out})
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out.update({c: n for c, n in _code_lines(v, lines, (*path, i)).items() if c not in out})
    return out


def load_file(path: str | Path) -> Framework:
    """Load and validate one framework file; raise a :class:`FrameworkError` listing every problem."""
    file = str(path)
    data, lines = load_yaml(path)
    if not isinstance(data, dict):
        raise FrameworkError("a framework file is a YAML mapping (id, version, title, blocks…)", rule="schema.document", file=file, line=1)
    if "extends" in data:
        raise FrameworkError(
            "this is an extension (it has 'extends'); load it with --extension on top of its framework",
            rule="framework.is_extension",
            file=file,
        )
    try:
        fw = Framework.model_validate(data)
    except ValidationError as exc:
        raise FrameworkError(schema_problems(exc, file, data, lines)) from None
    ctx = Context(file=file, code_lines=_code_lines(data, lines), lines=lines, resolve=lambda r: load_framework(r))
    problems = run_checks(fw, ctx)
    if problems:
        raise FrameworkError(problems)
    return fw


def load_extension(path: str | Path, *, base: Framework | None = None) -> Framework:
    """Apply an extension file to ``base`` (default: the framework it ``extends``), validated the same way."""
    file = str(path)
    data, lines = load_yaml(path)
    if not isinstance(data, dict) or "extends" not in data:
        raise FrameworkError("an extension file is a mapping with 'extends: <framework id>'", rule="extension.extends", file=file, line=1)
    try:
        ext = Extension.model_validate(data)
    except ValidationError as exc:
        raise FrameworkError(schema_problems(exc, file, data, lines)) from None
    if base is None:
        base = load_framework(ext.extends)
    fw = apply_extension(base, ext, file=file, code_lines=_code_lines(data, lines))
    ctx = Context(
        file=file,
        code_lines=_code_lines(data, lines),
        code_files={},
        resolve=lambda r: load_framework(r),
    )
    problems = [p for p in run_checks(fw, ctx)]
    if problems:
        raise FrameworkError(problems)
    return fw


def validate_file(path: str | Path) -> Framework:
    """Validate a framework or an extension file (whichever it is)."""
    data, _ = load_yaml(path)
    if isinstance(data, dict) and "extends" in data:
        return load_extension(path)
    return load_file(path)
