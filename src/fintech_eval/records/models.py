"""The record-schema document: sources (record schemas) and derivations, validated on load (pydantic v2).

A document (``records/data/<id>.yaml``, format in ``docs/records.md``) holds its identity (``id``,
``version``, the ``framework`` whose raw variables it derives), ``sources`` (one record schema per system
extract: columns with types, codes, units, ranges and order rules) and ``derivations`` (one per raw
variable: an aggregate over one source's records with filters, grouped by entity, for one period: the
records whose time falls in it, or, for a stock source, those running ``as_of`` the period's end or the
previous period's end, or whose ``during`` timestamp falls in it).
Cross-references (variables, units, columns, codes) are checked in :mod:`fintech_eval.records.checks`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..catalog.models import Text

ColumnType = Literal["string", "code", "integer", "decimal", "boolean", "timestamp"]
Aggregate = Literal["count", "sum", "mean"]
NUMERIC: tuple[str, ...] = ("integer", "decimal")
_NAME = r"^[a-z][a-z0-9_]*$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Column(_Model):
    """One column of a record. ``required`` columns may not be empty; ``codes`` are the only values a
    ``code`` column may take; ``min`` bounds a number; ``after`` names a timestamp this one may not
    precede; ``not_above`` a number this one may not exceed (a part and its whole)."""

    name: str = Field(pattern=_NAME)
    type: ColumnType
    required: bool = True
    description: Text
    codes: dict[str, Text] | None = None
    unit: str | None = None
    min: float | None = None
    after: str | None = None
    not_above: str | None = None


class Source(_Model):
    """A record schema: what one system extract holds. An *event* source (one row per event) has a
    ``time`` column that places each record in a period; a *stock* source (one row per spell, e.g. an
    employment from hiring to leaving) has a ``span`` ``[from, until]`` instead (``until`` empty: still
    running), and its derivations say when they look (``as_of`` or ``during``)."""

    title: Text
    description: Text
    key: str = Field(pattern=_NAME)
    time: str | None = Field(default=None, pattern=_NAME)
    span: tuple[str, str] | None = None
    columns: list[Column] = Field(min_length=2)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


class Hours(_Model):
    """The time from one timestamp column to another, in hours."""

    hours: tuple[str, str]


class Condition(_Model):
    """A filter on one column: a value (equality), ``in`` / ``not_in`` a list, or ``present``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    in_: list[str | int | bool] | None = Field(default=None, alias="in")
    not_in: list[str | int | bool] | None = None
    present: bool | None = None


class Derivation(_Model):
    """One raw variable of the framework as an aggregate over the records of one source, by entity."""

    variable: str = Field(pattern=_NAME)
    source: str
    aggregate: Aggregate
    of: str | Hours | None = None
    unit: str
    where: dict[str, str | int | bool | Condition] = Field(default_factory=dict)
    as_of: Literal["end", "previous_end"] | None = None
    during: str | None = None

    @field_validator("where", mode="before")
    @classmethod
    def _conditions(cls, v):
        if isinstance(v, dict):
            return {k: (Condition.model_validate(c) if isinstance(c, dict) else c) for k, c in v.items()}
        return v


class RecordSpec(_Model):
    """The whole document. ``fingerprint`` (SHA-256 of the file) is set by the loader."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_.-]*$")
    version: str
    framework: str
    title: Text
    notes: list[Text] = Field(default_factory=list)
    sources: dict[str, Source]
    derivations: list[Derivation] = Field(min_length=1)
    fingerprint: str = ""

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"

    def derivations_of(self, source: str) -> list[Derivation]:
        return [d for d in self.derivations if d.source == source]
