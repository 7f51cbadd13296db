"""Find, load and validate record-schema documents: the shipped ones (``records/data/<id>.yaml``) or a
user's file, with every problem named by file and line (as frameworks are)."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources
from pathlib import Path

from ..catalog import load_framework
from ..catalog.yamlsource import load_document, load_ref, shipped_yaml
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
    spec, _, lines = load_document(path, RecordSpec, "id, version, framework, sources, derivations")
    problems = run_checks(spec, Context(file=str(path), lines=lines, framework=load_framework(spec.framework)))
    if problems:
        raise FrameworkError(problems)
    return spec.model_copy(update={"fingerprint": hashlib.sha256(Path(path).read_bytes()).hexdigest()})
