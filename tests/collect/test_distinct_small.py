"""Text cells are coded once per distinct text (readers._distinct); a short column (a return's hundred cells) is
coded in Python: the codes and texts must be exactly pandas' (``astype("str").fillna("")`` then factorize)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fintech_eval.collect import readers

COLUMNS = [
    pd.Series(["a", None, "b", "a", np.nan, ""], dtype=object),
    pd.Series([1.0, 0.1 + 0.2, np.nan, 1e20, -0.0, 3]),
    pd.Series(["x", None, "x"], dtype="str"),
    pd.Series([True, False, None], dtype=object),
    pd.Series([1, 2, 1]),
    pd.Series([pd.NA, "z"], dtype="string"),
    pd.Series([], dtype=object),
    pd.Series([" a", "a ", "甲银行", "=cmd"], dtype="str"),
    pd.Series([1.5, "1.5", 2], dtype=object),
]


@pytest.mark.parametrize("col", COLUMNS, ids=range(len(COLUMNS)))
def test_short_columns_are_coded_as_pandas_codes_them(col):
    codes, uniq = pd.factorize(col.astype("str").fillna(""))
    got_codes, got_uniq = readers._distinct(col)
    assert got_codes.tolist() == np.asarray(codes).tolist()
    assert got_uniq.tolist() == np.asarray(uniq, dtype=object).tolist()
    long = pd.concat([col] * (readers._SMALL // max(len(col), 1) + 1), ignore_index=True)  # the pandas path
    assert readers._distinct(long)[1].tolist() == got_uniq.tolist()
