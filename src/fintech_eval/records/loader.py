"""Find, load and validate record-schema documents: the shipped ones (``records/data/<id>.yaml``) or a
user's file, with every problem named by file and line (as frameworks are)."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from ..catalog import load_framework
from ..catalog.yamlsource import load_ref, load_yaml, schema_problems, shipped_yaml
from ..errors import FrameworkError
from .checks import Context, run_checks
from .models import RecordSpec

DATA = resources.files("fintech_eval.records") / "data"
DEFAULT = "jrt0201-records"


def shipped_files() -> dict[str, Path]:
    return shipped_yaml(DATA)


def load_records_spec(ref: str | Path = DEFAULT) -> RecordSpec:
    """A shipped document by id (``jrt0201-records``) or a YAML path, validated against its framework."""
    return load_ref(str(ref), shipped_files(), "record schema", shipped=_load_shipped, path=load_file)


@lru_cache(maxsize=8)
def _load_shipped(ref: str) -> RecordSpec:
    return load_file(shipped_files()[ref])


def load_file(path: str | Path) -> RecordSpec:
    """Load one document; raise a :class:`FrameworkError` listing every problem (file, line, rule)."""
    file = str(path)
    data, lines = load_yaml(path)
    if not isinstance(data, dict):
        raise FrameworkError("a record-schema file is a YAML mapping (id, version, framework, sources, derivations)",
                             rule="schema.document", file=file, line=1)
    try:
        spec = RecordSpec.model_validate(data)
    except ValidationError as exc:
        raise FrameworkError(schema_problems(exc, file, data, lines)) from None
    fw = load_framework(spec.framework)
    problems = run_checks(spec, Context(file=file, lines=lines, framework=fw))
    if problems:
        raise FrameworkError(problems)
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return spec.model_copy(update={"fingerprint": digest})
