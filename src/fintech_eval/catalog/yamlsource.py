"""YAML with line numbers: so that every validation error can say *file, line*.

``load_yaml`` returns the plain data (``yaml.safe_load``) and a map from each data path
(a tuple of keys and list indices) to the 1-based line where that node starts. Duplicate mapping keys,
which ``safe_load`` silently overwrites, are an error here.

``shipped_yaml`` and ``load_ref`` find a YAML file shipped as package data (``data/<id>.yaml``,
``data/<id>@<version>.yaml``) by its reference, or a user's file by path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from ..errors import FrameworkError, Problem

LineMap = dict[tuple[Any, ...], int]
T = TypeVar("T")


def shipped_yaml(folder: Traversable) -> dict[str, Path]:
    """Reference (the file name without ``.yaml``: ``id`` or ``id@version``) → file of every YAML file in a
    package data folder, sorted by name."""
    out: dict[str, Path] = {}
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            out[entry.name[: -len(".yaml")]] = Path(str(entry))
    return out


def load_ref(ref: str, files: Mapping[str, Path], what: str, *, shipped: Callable[[str], T], path: Callable[[Path], T]) -> T:
    """Load ``ref``: a reference of ``files`` (the shipped ones) with ``shipped``, else a path to a YAML file
    (``.yaml``/``.yml``, or any file that exists) with ``path``; else raise a :class:`FrameworkError`
    ``unknown <what> …`` listing the shipped references."""
    if ref in files:
        return shipped(ref)
    file = Path(ref)
    if file.suffix in (".yaml", ".yml") or file.exists():
        return path(file)
    raise FrameworkError(
        f"unknown {what} {ref!r}; shipped: {', '.join(files)} (or give a path to a YAML file)",
        rule="framework.unknown",
    )


def load_yaml(source: str | Path, text: str | None = None) -> tuple[Any, LineMap]:
    """Parse ``source`` (a path, or a name for ``text``). Errors name the file and line."""
    name = str(source)
    if text is None:
        try:
            raw = Path(source).read_bytes()
        except OSError as exc:
            raise FrameworkError(f"cannot read: {exc.strerror}", rule="file.read", file=name) from None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise FrameworkError(
                f"not UTF-8 text (byte {exc.start}); save the file as UTF-8",
                rule="file.encoding",
                file=name,
            ) from None
    if len(text) > MAX_YAML_CHARS:
        raise FrameworkError(f"the YAML document is {len(text):,} characters long, more than the limit of "
                             f"{MAX_YAML_CHARS:,}: not a framework or extension file", rule="yaml.too_large", file=name)
    try:
        node, data = _parse(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise FrameworkError(
            f"YAML syntax error: {getattr(exc, 'problem', None) or exc}",
            rule="yaml.syntax",
            file=name,
            line=(mark.line + 1) if mark else None,
        ) from None
    lines: LineMap = {}
    problems: list[Problem] = []
    if node is not None:
        budget = [MAX_YAML_NODES]
        try:
            _walk(node, (), lines, problems, name, budget)
        except _TooLarge:
            raise FrameworkError(
                f"the YAML document expands to more than {MAX_YAML_NODES:,} values (aliases *name referring to "
                "anchors &name that refer to others: an 'alias bomb'); write the values out instead",
                rule="yaml.too_large", file=name) from None
    if problems:
        raise FrameworkError(problems)
    return data, lines


#: libyaml's parser when PyYAML has it (its wheels do): 25 times faster than the pure-Python one on the
#: shipped catalog (0.03 s instead of 0.75 s), which every command loads.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse(text: str) -> tuple[yaml.Node | None, Any]:
    """One parse giving both the node tree (for line numbers and duplicate keys) and the data."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


#: bounds of a framework or extension document: its size, and the values it expands to once aliases are
#: followed (the shipped catalog: about 0.2 MB and 20,000 values)
MAX_YAML_CHARS = 20_000_000
MAX_YAML_NODES = 2_000_000


class _TooLarge(Exception):
    pass


def _walk(node: yaml.Node, path: tuple[Any, ...], lines: LineMap, problems: list[Problem], name: str,
          budget: list[int]):
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooLarge
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for knode, vnode in node.value:
            key = knode.value
            if key in seen:
                problems.append(
                    Problem(
                        "yaml.duplicate_key",
                        f"key {key!r} appears twice in the same mapping",
                        {"file": name, "line": knode.start_mark.line + 1},
                    )
                )
            seen.add(key)
            _walk(vnode, (*path, key), lines, problems, name, budget)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), lines, problems, name, budget)


def line_of(lines: LineMap, path: tuple[Any, ...]) -> int | None:
    """The line of the deepest known prefix of ``path``."""
    for n in range(len(path), -1, -1):
        if path[:n] in lines:
            return lines[path[:n]]
    return None


def node_path(data: Any, path: tuple[Any, ...]) -> str:
    """The codes of the nodes along ``path`` (e.g. ``J > J-A3 > J-A3B2 > J-A3B2-C6``)."""
    codes: list[str] = []
    cur = data
    for key in path:
        try:
            cur = cur[key]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(cur, dict) and isinstance(cur.get("code"), str):
            codes.append(cur["code"])
    return " > ".join(codes)


def schema_problems(exc: Any, file: str, data: Any, lines: LineMap, *, prefix: tuple[Any, ...] = (), path_key: str = "path") -> list[Problem]:
    """A pydantic ``ValidationError`` as problems that name the file, the line and the node path."""
    problems = []
    for err in exc.errors():
        loc = (*prefix, *err["loc"])
        # pydantic puts the failing union/literal member into the loc; keep only real keys
        loc = tuple(x for x in loc if isinstance(x, int) or (isinstance(x, str) and "[" not in x))
        field = ".".join(str(x) for x in loc if isinstance(x, str))
        problems.append(
            Problem(
                f"schema.{err['type']}",
                f"{field or 'document'}: {err['msg']}",
                {"file": file, "line": line_of(lines, loc), path_key: node_path(data, loc) or None},
            )
        )
    return problems


M = TypeVar("M")


def load_document(path: str | Path, model: type[M], shape: str, *, path_key: str = "path") -> tuple[M, Any, LineMap]:
    """A YAML mapping validated by a pydantic ``model``: the model, the data and the line map; a
    :class:`FrameworkError` naming file and line otherwise (``shape`` says what the mapping holds)."""
    file = str(path)
    data, lines = load_yaml(path)
    if not isinstance(data, dict):
        raise FrameworkError(f"the file is a YAML mapping ({shape})", rule="schema.document", file=file, line=1)
    try:
        return model.model_validate(data), data, lines  # type: ignore[attr-defined]
    except ValidationError as exc:
        raise FrameworkError(schema_problems(exc, file, data, lines, path_key=path_key)) from None
