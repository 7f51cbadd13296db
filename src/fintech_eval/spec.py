"""The evaluation spec: one YAML document (or dict) that describes a run completely.

    name: ASEM, COINr pipeline C
    data: {format: coinr, idata: input_ASEM_iData.csv, imeta: input_ASEM_iMeta.csv}
    steps:
      - impute: {method: mean}
      - treat: {method: coinr}
      - normalise: {method: minmax, range: [0, 100]}
      - aggregate: {method: amean}
    ranks: {groups: [EurAsia_group]}

Paths are relative to the spec file. Each step is a one-key mapping ``stage: {parameters}``; stages and
their parameters are checked against the stage registry before anything runs, so a typo fails at once
with the step number, the stage and the parameter named (COINr's silent log-address failures cannot
happen here). Same spec + same data → identical output.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import Problem, SpecError


class DataSpec(BaseModel):
    """Where the data comes from. ``coinr``: COINr's iData/iMeta CSVs; ``frame``: DataFrames given in code."""

    model_config = ConfigDict(extra="forbid")
    format: Literal["coinr", "frame"] = "coinr"
    idata: str | None = None
    imeta: str | None = None
    period: int | str | None = None  # for a panel: evaluate this period only (None: every period)

    @model_validator(mode="after")
    def _paths(self) -> DataSpec:
        if self.format == "coinr" and (not self.idata or not self.imeta):
            raise ValueError("format coinr needs both idata and imeta")
        return self


class RankSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    groups: list[str] = []


class Spec(BaseModel):
    """A complete, validated description of one evaluation run."""

    model_config = ConfigDict(extra="forbid")
    name: str = "evaluation"
    data: DataSpec
    steps: list[dict[str, dict[str, Any]]] = Field(min_length=1)
    ranks: RankSpec = RankSpec()
    base_dir: str = "."  # directory that relative paths resolve against (the spec file's)

    @model_validator(mode="after")
    def _one_stage_per_step(self) -> Spec:
        for i, step in enumerate(self.steps, start=1):
            if len(step) != 1:
                raise ValueError(f"step {i} must be a mapping with exactly one stage, got {sorted(step)}")
        return self

    def path(self, rel: str) -> Path:
        p = Path(rel)
        return p if p.is_absolute() else Path(self.base_dir) / p

    def stage_items(self) -> list[tuple[int, str, dict[str, Any]]]:
        return [(i, *next(iter(s.items()))) for i, s in enumerate(self.steps, start=1)]

    def with_change(self, address: str, value: Any) -> Spec:
        """A copy with one parameter changed, addressed by meaning: ``"normalise.method"`` or ``"3.winmax"``.

        The address must name a step present in the spec (stage name, or step number) and the change is
        checked like the original, so a mistyped address is an error, never silently ignored.
        """
        head, _, param = address.partition(".")
        if not param:
            raise SpecError(f"address {address!r} must be 'stage.parameter' or 'N.parameter'", rule="spec.address")
        steps = copy.deepcopy(self.steps)
        idx = [i for i, (n, stage, _) in enumerate(self.stage_items()) if stage == head or str(n) == head]
        if not idx:
            raise SpecError(f"address {address!r}: no step {head!r} in this spec", rule="spec.address", parameter=address)
        if len(idx) > 1:
            raise SpecError(f"address {address!r}: several {head!r} steps; use the step number", rule="spec.address")
        (stage,) = steps[idx[0]]
        steps[idx[0]][stage][param] = value
        out = self.model_copy(update={"steps": steps})
        from .pipeline import check_spec

        check_spec(out)
        return out


def load_spec(source: str | Path | dict[str, Any]) -> Spec:
    """A spec from a YAML path or a dict; errors name the field and the rule broken."""
    if isinstance(source, dict):
        doc, base = dict(source), source.get("base_dir", ".")
        name = "spec"
    else:
        path = Path(source)
        name = str(path)
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise SpecError(f"cannot read: {exc.strerror}", rule="spec.read", file=name) from None
        except yaml.YAMLError as exc:
            raise SpecError(f"YAML syntax error: {exc}", rule="spec.yaml", file=name) from None
        if not isinstance(doc, dict):
            raise SpecError("a spec is a YAML mapping (data, steps)", rule="spec.document", file=name)
        base = str(path.resolve().parent)
    doc.setdefault("base_dir", base)
    try:
        spec = Spec.model_validate(doc)
    except ValidationError as exc:
        raise SpecError(
            [
                Problem(f"spec.{e['type']}", f"{'.'.join(map(str, e['loc'])) or 'spec'}: {e['msg']}", {"file": name})
                for e in exc.errors()
            ]
        ) from None
    from .pipeline import check_spec

    check_spec(spec)
    return spec
