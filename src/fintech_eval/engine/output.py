"""The one type every stage returns: the new data set, the named records, the warnings as problems.

A stage never reports through ``DataFrame.attrs`` (pandas drops them when groups are concatenated, and the
warnings with them): it returns a :class:`StageOutput`, and the pipeline applies it to the running state.
Besides data, records and warnings, a stage may hand back what it changes in the context: the tree (a
weight step), the units kept (a screen) or cells that became not applicable (an indicator with no spread
in a group, left out of that group's aggregates).

A record that most builds never read (a per-cell log, ``treat_points``) may be handed back as
:class:`Lazy`: the pipeline keeps the state's and the result's records in :class:`Records`, a mapping that
computes such a table on first access (once), so that an uncertainty analysis of thousands of rebuilds
does not assemble tables nobody looks at.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import Problem


class Lazy:
    """A record computed on first use, once (copies of a :class:`Records` share it)."""

    __slots__ = ("_fn", "_value")

    def __init__(self, fn: Callable[[], pd.DataFrame]) -> None:
        self._fn: Callable[[], pd.DataFrame] | None = fn
        self._value: pd.DataFrame | None = None

    def get(self) -> pd.DataFrame:
        if self._fn is not None:
            self._value, self._fn = self._fn(), None
        return self._value  # type: ignore[return-value]

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # pickled (e.g. to a worker process) as its table
        return _computed, (self.get(),)


def _computed(value: pd.DataFrame) -> Lazy:
    lazy = Lazy(lambda: value)
    lazy.get()
    return lazy


class Records(MutableMapping[str, pd.DataFrame]):
    """Record name → table, in the order the stages produced them; a :class:`Lazy` value is computed when
    first read (``records["impute_log"]``, ``.items()``, ``.values()``, saving), never before."""

    def __init__(self, items: Any = ()) -> None:
        self._d: dict[str, Any] = dict(items._d if isinstance(items, Records) else items)

    def __getitem__(self, key: str) -> pd.DataFrame:
        v = self._d[key]
        return v.get() if isinstance(v, Lazy) else v

    def __setitem__(self, key: str, value: pd.DataFrame | Lazy) -> None:
        self._d[key] = value

    def __delitem__(self, key: str) -> None:
        del self._d[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def update(self, other: Any = (), /, **kw: Any) -> None:  # type: ignore[override]
        """Add ``other``'s records as they are (a lazy one stays lazy)."""
        self._d.update(other._d if isinstance(other, Records) else other, **kw)

    def copy(self) -> Records:
        return Records(self)

    def __repr__(self) -> str:
        return f"Records({', '.join(f'{k}' + (' (not computed yet)' if isinstance(v, Lazy) and v._fn else '') for k, v in self._d.items())})"


@dataclass(frozen=True, eq=False)
class StageOutput:
    data: pd.DataFrame | None = None  # the stage's data set (None: the stage changes no data, e.g. weight)
    records: dict[str, pd.DataFrame | Lazy] = field(default_factory=dict)  # e.g. treat_details, impute_log
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
