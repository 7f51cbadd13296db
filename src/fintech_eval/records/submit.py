"""Derived observations out: a file (CSV / JSON / Parquet), or straight into the data layer as ONE
submission whose kept payload carries the provenance.

The submission is a JSON document ``{"provenance": {...}, "records": [{entity, period, variable, value,
unit, source, entity_kind}, ...]}``, the format ``fintech-eval import`` reads: it goes through the same
validation and all-or-nothing import (:func:`fintech_eval.app.intake.import_files`), and the payload stored
verbatim holds the derivation version, the engine, the record counts by source and rule, and every input
file's fingerprint. The document has no wall-clock time, so deriving the same records again gives the
same bytes and re-importing them changes nothing.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import DataError
from .derive import Derived

if TYPE_CHECKING:
    from ..app.intake import ImportReport
    from ..app.workspace import Workspace

FORMATS = (".json", ".csv", ".parquet")


def submission_document(d: Derived) -> dict[str, Any]:
    records = [
        {"entity": r.entity_id, "entity_kind": r.entity_kind, "period": r.period, "variable": r.variable,
         "value": r.value, "unit": r.unit, "source": r.source}
        for r in d.observations.itertuples(index=False)
    ]
    return {"provenance": d.provenance, "records": records}


def submission_bytes(d: Derived) -> bytes:
    return (json.dumps(submission_document(d), ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def submission_name(d: Derived) -> str:
    return f"records-{d.spec.id}-{d.spec.version}-{d.period}.json"


def write_observations(d: Derived, path: str | Path) -> Path:
    """``.json``: the submission document (with provenance); ``.csv``: the long CSV ``import`` reads (its
    provenance beside it in ``<name>.provenance.json``); ``.parquet``: the long table (same)."""
    path = Path(path)
    if path.suffix not in FORMATS:
        raise DataError(f"--out must end in {', '.join(FORMATS)}", rule="records.out_format", file=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".json":
        path.write_bytes(submission_bytes(d))
        return path
    frame = d.observations.rename(columns={"entity_id": "entity"})[["entity", "period", "variable", "value", "unit", "source", "entity_kind"]]
    if path.suffix == ".csv":
        frame.to_csv(path, index=False, float_format="%.17g")
    else:
        frame.to_parquet(path, index=False)
    path.with_name(path.name + ".provenance.json").write_text(json.dumps(d.provenance, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def import_derived(d: Derived, ws: Workspace, *, user: str = "records",
                   institutions: pd.DataFrame | str | Path | None = None) -> ImportReport:
    """Import the observations as one submission with provenance (module doc); returns the
    :class:`~fintech_eval.app.intake.ImportReport`. ``institutions`` (a frame or a CSV in the register's
    columns, e.g. the generator's ``institutions.csv``; other columns ignored) are registered in the same
    all-or-nothing transaction, audited: a bad register row or a bad observation stores nothing."""
    from ..app.intake import import_files

    if d.observations.empty:
        raise DataError("no observations to import: no entity has a valid record", rule="records.empty")
    register = None
    if institutions is not None:
        frame = institutions if isinstance(institutions, pd.DataFrame) else pd.read_csv(institutions, dtype=str, keep_default_na=False)
        register = frame[[c for c in REGISTER_COLUMNS if c in frame.columns]]
    with tempfile.TemporaryDirectory(prefix="fintech-eval-records-") as tmp:
        path = Path(tmp) / submission_name(d)
        path.write_bytes(submission_bytes(d))
        return import_files(ws, [path], d.spec.framework, user=user, register=register,
                            register_why=f"institution register of {d.spec.ref} records")


REGISTER_COLUMNS = ("id", "name_zh", "name_en", "sector", "subtype", "region_code", "listed")
