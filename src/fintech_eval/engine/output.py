"""The one type every stage returns: the new data set, the named records, the warnings as problems.

A stage never reports through ``DataFrame.attrs`` (pandas drops them when groups are concatenated, and the
warnings with them): it returns a :class:`StageOutput`, and the pipeline applies it to the running state.
Besides data, records and warnings, a stage may hand back what it changes in the context: the tree (a
weight step), the units kept (a screen) or cells that became not applicable (an indicator with no spread
in a group, left out of that group's aggregates).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import Problem


@dataclass(frozen=True, eq=False)
class StageOutput:
    data: pd.DataFrame | None = None  # the stage's data set (None: the stage changes no data, e.g. weight)
    records: dict[str, pd.DataFrame] = field(default_factory=dict)  # e.g. treat_details, impute_log
    warnings: list[Problem] = field(default_factory=list)
    tree: Any = None  # a new Tree (weight step)
    keep: pd.Index | None = None  # the units kept (screen step)
    not_applicable: pd.DataFrame | None = None  # cells newly not applicable (units × indicators, bool)
    report: Any = None  # the method's typed report where it has one (e.g. AggregationReport)


def data_only(fn: Callable[..., StageOutput], doc: str) -> Callable[..., pd.DataFrame]:
    """The DataFrame-returning twin of a ``*_output`` function (same parameters), for callers that want only
    the data set; the warnings and records are in the original."""

    @functools.wraps(fn)
    def frame(*args: object, **kwargs: object) -> pd.DataFrame:
        return fn(*args, **kwargs).data

    frame.__doc__ = doc
    frame.__signature__ = inspect.signature(fn).replace(return_annotation="pd.DataFrame")  # type: ignore[attr-defined]
    frame.__name__ = frame.__qualname__ = fn.__name__.removesuffix("_output")
    return frame
