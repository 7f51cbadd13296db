"""What an analysis runs on: a spec evaluated, or a saved result folder evaluated again from its inputs.

A saved result does not hold its inputs (``fe.load_result`` gives frames, not a re-runnable result), and the
analyses re-run it many times; so a folder's ``spec.yaml`` is evaluated again. Its input paths are relative
to the original spec's folder, which the saved spec does not record: a path that does not resolve beside the
result is looked up among the inputs ``manifest.json`` lists (absolute path → SHA-256) and used only if the
file still has the recorded hash; a changed or missing input is an error, never a silent re-run on other data.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ..engine.sources import sha256_file
from ..errors import DataError, SpecError


def spec_of_folder(folder: Path) -> dict:
    """The folder's spec as a dict whose input paths resolve (see the module doc)."""
    doc = yaml.safe_load((folder / "spec.yaml").read_text(encoding="utf-8"))
    manifest_path = folder / "manifest.json"
    inputs = json.loads(manifest_path.read_text(encoding="utf-8")).get("inputs", {}) if manifest_path.exists() else {}
    data = doc.get("data") or {}
    for key in ("idata", "imeta"):
        rel = data.get(key)
        if not rel or Path(rel).is_absolute() or (folder / rel).exists():
            continue
        hits = [p for p in inputs if Path(p).as_posix().endswith("/" + Path(rel).as_posix()) or Path(p).name == Path(rel).name]
        if not hits:
            raise DataError(f"input {rel!r} of the saved spec is neither beside the result nor listed in its manifest",
                            rule="analysis.input", file=str(folder / "spec.yaml"))
        p = Path(hits[0])
        if not p.exists() or sha256_file(p) != inputs[hits[0]]:
            raise DataError(f"input {p} changed (or is gone) since the result was written: its SHA-256 differs from the manifest's",
                            rule="analysis.input", file=str(p))
        data[key] = str(p)
    doc["data"] = {k: v for k, v in data.items() if v is not None}
    doc["base_dir"] = str(folder.resolve())
    return doc


def source_spec(path: str | Path):
    """The checked spec of a spec file or of a result folder (its ``uncertainty:`` section too), before anything
    runs."""
    from ..engine.spec import load_spec

    path = Path(path)
    if path.is_dir():
        if not (path / "spec.yaml").exists():
            raise SpecError(f"{path}: a result folder needs spec.yaml (written by `fintech-eval evaluate --out`)", rule="analysis.input", file=str(path))
        return load_spec(spec_of_folder(path))
    if not path.exists():
        raise SpecError(f"{path}: no such spec file or result folder", rule="analysis.input", file=str(path))
    return load_spec(path)


def evaluate_source(path: str | Path, spec=None):
    """A spec file evaluated, or a result folder's spec evaluated again from its (hash-checked) inputs
    (``spec``: :func:`source_spec` of it, when already read)."""
    from ..engine.pipeline import evaluate

    return evaluate(spec if spec is not None else source_spec(path))


def load_periods(paths: Sequence[str | Path]) -> dict[Any, Any]:
    """Results by period, for peers over time, comparisons and Plan progress: a saved result folder is read
    (nothing evaluated again), a spec file is evaluated; a result's period is its ``data.period`` (else the
    folder's or file's name); a panel result is split into its periods."""
    import dataclasses

    from ..engine.result import load_result

    out: dict[Any, Any] = {}
    for path in paths:
        r = load_result(path) if Path(path).is_dir() else evaluate_source(path)
        idx = r.final.index
        if isinstance(idx, pd.MultiIndex) and "Time" in idx.names:
            parts = {}
            for p in pd.unique(idx.get_level_values("Time")):
                def one(df, p=p):
                    return df.xs(p, level="Time") if isinstance(df, pd.DataFrame) and isinstance(df.index, pd.MultiIndex) and "Time" in df.index.names else df
                part = dataclasses.replace(r, datasets={k: one(d) for k, d in r.datasets.items()}, groups=one(r.groups),
                                           not_applicable=one(r.not_applicable))
                if hasattr(r, "units"):
                    part.units = r.units
                parts[p] = part
        else:
            parts = {r.spec.data.period if r.spec.data.period is not None else (Path(path).name if Path(path).is_dir() else Path(path).stem): r}
        for p, part in parts.items():
            if p in out:
                raise DataError(f"two results for period {p!r} (the second: {path})", rule="analysis.periods", file=str(path))
            out[p] = part
    if len({type(p) for p in out}) > 1:  # 2024 in one spec, '2023' in another: one kind of key, to sort them
        out = {str(p): r for p, r in out.items()}
    return out
