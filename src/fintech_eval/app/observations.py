"""The stored raw values as received and the audited history of one of them (``fintech-eval observations``
and ``history``; the web's review pages read the same)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from ..collect.validate import normalise_period
from ..errors import DataError
from ..store import ObsKey, history, observations_frame
from .workspace import Workspace


def stored_observations(ws: Workspace, *, period: Iterable[str] | str | None = None, entity_kind: str | None = None,
                        variables: Iterable[str] | None = None, entities: Iterable[str] | None = None) -> pd.DataFrame:
    """The stored observations (long: entity, period, variable, value, unit, value_norm, unit_norm, source,
    status, flag_reason, submission_id), filtered; missing values stay missing."""
    with ws.sessions() as s:
        return observations_frame(s, period=period, entity_kind=entity_kind, variables=variables, entity_ids=entities)


def value_history(ws: Workspace, entity_kind: str, entity: str, period: str, variable: str) -> tuple[ObsKey, pd.DataFrame]:
    """Every recorded change of one stored value, oldest first (empty: imported once, never changed); a value
    that was never stored is a :class:`DataError`."""
    key = ObsKey(entity_kind, entity, normalise_period(period) or period, variable)
    with ws.sessions() as s:
        trail = history(s, key)
        stored = len(trail) or len(observations_frame(s, key.period, entity_kind, variables=[variable], entity_ids=[entity],
                                                      columns=["unit"]))
    if not stored:
        raise DataError(f"no stored value for {'/'.join(key)}", rule="store.unknown_key", **key._asdict())
    return key, trail
