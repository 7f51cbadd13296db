"""Denomination against COINr 1.1.14 (A_data_Raw -> A_data_Denominated, mapping from iMeta)."""

import numpy as np
import pandas as pd
import pytest

from fintech_eval.errors import DataError, SpecError
from fintech_eval.methods import denominate, denominate_output, mapping_from_imeta

from ..coinr_ref import assert_frame_close, coin_input, imeta, read, sorted_units


@pytest.mark.parametrize("pipe", ["A", "B", "C"])
def test_raw_input_is_coinr_raw(pipe):
    assert_frame_close(sorted_units(coin_input().data), read(f"{pipe}_data_Raw.csv"))


@pytest.mark.parametrize("pipe", ["A", "B"])
def test_denominated_matches_coinr(pipe):
    ci = coin_input()
    mapping = mapping_from_imeta(imeta())
    assert mapping["Flights"] == "Population" and mapping["Goods"] == "GDP" and "LPI" not in mapping
    assert len(mapping) == 17
    out = denominate(sorted_units(ci.data), ci.denominators, mapping)
    assert_frame_close(out, read(f"{pipe}_data_Denominated.csv"))
    assert denominate_output(sorted_units(ci.data), ci.denominators, mapping).warnings == []


def test_unmapped_columns_unchanged_and_input_not_mutated():
    df = pd.DataFrame({"a": [1.0, 2.0, np.nan], "b": [3.0, 4.0, 5.0]}, index=["x", "y", "z"])
    dens = pd.DataFrame({"pop": [2.0, 0.0, 1.0]}, index=["z", "y", "x"])  # other order: aligned by unit
    before = df.copy()
    out = denominate(df, dens, {"a": "pop"})
    assert out["a"].iloc[0] == 1.0 and np.isinf(out["a"].iloc[1]) and np.isnan(out["a"].iloc[2])
    assert out["b"].tolist() == [3.0, 4.0, 5.0]
    pd.testing.assert_frame_equal(df, before)
    (w,) = denominate_output(df, dens, {"a": "pop"}).warnings
    assert w["unit"] == "y" and w["indicator"] == "a"
    assert denominate(df, dens, {"a": "pop"}, method="*")["a"].iloc[0] == 1.0


def test_errors_name_indicator_and_unit():
    df = pd.DataFrame({"a": [1.0, 2.0]}, index=["x", "y"])
    dens = pd.DataFrame({"pop": [1.0]}, index=["x"])
    with pytest.raises(SpecError) as e:
        denominate(df, dens, {"zz": "pop"})
    assert "zz" in str(e.value)
    with pytest.raises(SpecError) as e:
        denominate(df, dens, {"a": "gdp"})
    assert "gdp" in str(e.value)
    with pytest.raises(DataError) as e:
        denominate(df, dens, {"a": "pop"})
    assert "unit y" in str(e.value)
