"""Leave-one-out: how much the ranking leans on each indicator or aggregate (COINr ``remove_elements``).

Each node of a level is removed in turn by giving it weight 0 (its siblings' weights renormalised by the
aggregator, as COINr does) and the evaluation re-run from the aggregation; the output is the mean over units
of the absolute change of the target's rank against the nominal ranking.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import SpecError
from .uncertainty import default_target
from .variants import ranks_of, run_variants


def remove_elements(result, level: int, *, target: str | None = None, workers: int | None = None) -> pd.DataFrame:
    """``Removed`` (``Nominal`` first, then each node of ``level``) and ``MeanAbsRankDiff`` of ``target``
    (default the index), as COINr's ``remove_elements(coin, Level, iCode)$MeanAbsDiff``."""
    tree = result.tree
    if not isinstance(level, int) or not 1 <= level < tree.n_levels:
        raise SpecError(f"leave-one-out: level must be within 1..{tree.n_levels - 1}, got {level!r}", rule="analysis.level", parameter="level")
    tgt = target or default_target(result)[0]
    if tgt not in result.final.columns:
        raise SpecError(f"leave-one-out: target {tgt!r} is not in the result", rule="analysis.target", parameter="target")
    codes = list(tree.codes(level))
    from .assumptions import _nominal_weights

    nominal_w = _nominal_weights(result)
    changes = [{"aggregate.weights": {**nominal_w, c: 0.0}} for c in codes]
    v = run_variants(result, changes, target=[tgt], workers=workers)
    nominal = ranks_of(result.final[[tgt]].to_numpy(dtype=float, na_value=np.nan)[None])[0, :, 0]
    diff = np.nanmean(np.abs(v.ranks[:, :, 0] - nominal), axis=1)
    return pd.DataFrame({"Removed": ["Nominal", *codes], "MeanAbsRankDiff": [0.0, *diff]})
