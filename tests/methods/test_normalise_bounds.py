"""One rule for bounds on reverse indicators in every normaliser, and parameters read from iMeta (use_iMeta).

Rule (COINr's): bounds given in the spec apply to x·direction, what the method sees; bounds read from iMeta
(COINr's column names) are in the indicator's own units and flipped for reverse indicators; ``bounds="own"``
reads given bounds in own units too. Expected values are computed by hand from COINr's formulas."""

import numpy as np
import pandas as pd
import pytest

from fintech_eval.errors import SpecError
from fintech_eval.methods import normalise, normalise_output

DATA = pd.DataFrame({"up": [2.0, 4.0, 6.0, 8.0], "down": [1.0, 3.0, 5.0, 9.0]}, index=["a", "b", "c", "d"])
DIRS = {"up": 1, "down": -1}


def imeta(**cols):
    base = pd.DataFrame({"iCode": ["up", "down", "Index"], "Type": ["Indicator", "Indicator", "Aggregate"],
                         "Direction": [1, -1, np.nan], "Level": [1, 1, 2]})
    for name, vals in cols.items():
        base[name] = list(vals) + [np.nan] * (3 - len(vals))
    return base


def bounds_warnings(out):
    return [w for w in out.warnings if w.rule == "normalise.bounds"]


# --- goalposts ------------------------------------------------------------------------------------------
def test_goalposts_from_imeta_are_own_units_flipped_for_reverse():
    meta = imeta(goalpost_lower=[0, 0], goalpost_upper=[10, 10], goalpost_scale=[100, 1], goalpost_trunc2posts=[True, "FALSE"])
    out = normalise(DATA, DIRS, "goalposts", gposts="use_iMeta", trunc2posts="use_iMeta", imeta=meta)
    assert out["up"].tolist() == pytest.approx([20, 40, 60, 80])  # (x - 0)/(10 - 0)·100
    assert out["down"].tolist() == pytest.approx([0.9, 0.7, 0.5, 0.1])  # (10 - x)/(10 - 0)·1, COINr use_iMeta
    # the same goalposts given in own units, or negated on x·direction
    own = normalise(DATA, DIRS, "goalposts", gposts={"up": (0, 10, 100), "down": (0, 10, 1)}, bounds="own")
    directed = normalise(DATA, DIRS, "goalposts", gposts={"up": (0, 10, 100), "down": (-10, 0, 1)})
    pd.testing.assert_frame_equal(own, out)
    pd.testing.assert_frame_equal(directed, out)


def test_reverse_goalposts_given_explicitly_follow_coinr_and_warn_when_all_at_a_bound():
    # COINr's Normalise: explicit gposts apply to x·direction = (-1, -3, -5, -9): every unit below 0 → 0
    out = normalise_output(DATA, DIRS, "goalposts", gposts=(0, 10, 100))
    assert out.data["down"].tolist() == [0.0, 0.0, 0.0, 0.0]
    (w,) = bounds_warnings(out)
    assert w["indicator"] == "down" and "every unit (4) is at or below the lower bound" in w.message and "bounds: own" in w.message
    fixed = normalise_output(DATA, DIRS, "goalposts", gposts=(0, 10, 100), bounds="own")
    assert fixed.data["down"].tolist() == pytest.approx([90, 70, 50, 10]) and not bounds_warnings(fixed)


def test_every_unit_beyond_the_upper_goalpost_warns_too():
    out = normalise_output(DATA[["up"]], None, "goalposts", gposts=(-5, 1, 1))
    assert out.data["up"].tolist() == [1.0] * 4
    assert [w["indicator"] for w in bounds_warnings(out)] == ["up"]


def test_a_yes_no_indicator_on_goalposts_0_1_is_not_warned():
    yes_no = pd.DataFrame({"yn": [0.0, 1.0, 1.0, 0.0]}, index=list("abcd"))
    out = normalise_output(yes_no, None, "goalposts", gposts=(0, 1, 100))
    assert out.data["yn"].tolist() == [0, 100, 100, 0] and not bounds_warnings(out)


# --- distance to target ---------------------------------------------------------------------------------
def test_targets_from_imeta_and_in_own_units():
    meta = imeta(Target=[8, 2])
    out = normalise(DATA, DIRS, "dist2targ", targ="use_iMeta", imeta=meta)
    assert out["up"].tolist() == pytest.approx([0, 1 / 3, 2 / 3, 1])  # (x - 2)/(8 - 2)
    assert out["down"].tolist() == pytest.approx([8 / 7, 6 / 7, 4 / 7, 0])  # (9 - x)/(9 - 2)
    pd.testing.assert_frame_equal(normalise(DATA, DIRS, "dist2targ", targ={"up": 8, "down": 2}, bounds="own"), out)
    pd.testing.assert_frame_equal(normalise(DATA, DIRS, "dist2targ", targ={"up": 8, "down": -2}), out)
    # cap_max false when iMeta has no dist2targ_cap_max (COINr), read when it has
    capped = normalise(DATA, DIRS, "dist2targ", targ="use_iMeta", cap_max="use_iMeta", imeta=imeta(Target=[8, 2], dist2targ_cap_max=[0, 1]))
    assert capped["down"].max() == 1.0 and capped["up"].tolist() == out["up"].tolist()


def test_every_unit_at_or_beyond_the_target_warns():
    out = normalise_output(DATA[["up"]], None, "dist2targ", targ=2)
    assert [w["indicator"] for w in bounds_warnings(out)] == ["up"]


# --- scaled ---------------------------------------------------------------------------------------------
def test_scaled_bounds_from_imeta_flip_for_reverse_as_coinr():
    meta = imeta(scaled_lower=[0, 0], scaled_upper=[10, 10], scale_factor=[100, 10])
    out = normalise(DATA, DIRS, "scaled", npara="use_iMeta", scale_factor="use_iMeta", imeta=meta)
    assert out["up"].tolist() == pytest.approx([20, 40, 60, 80])
    assert out["down"].tolist() == pytest.approx([9, 7, 5, 1])  # COINr: npara (-10, 0) on -x → (10 - x)/10·10


def test_scaled_copied_verbatim_for_a_reverse_indicator_warns():
    out = normalise_output(DATA, DIRS, "scaled", npara=(0, 10), scale_factor=100)
    assert out.data["down"].tolist() == pytest.approx([-10, -30, -50, -90])  # COINr's numbers: (−x − 0)/10·100
    assert [w["indicator"] for w in bounds_warnings(out)] == ["down"]
    own = normalise(DATA, DIRS, "scaled", npara=(0, 10), scale_factor=100, bounds="own")
    assert own["down"].tolist() == pytest.approx([90, 70, 50, 10])


# --- efficacy function ----------------------------------------------------------------------------------
def test_efficacy_linear_bounds_follow_the_same_rule():
    own = normalise(DATA, DIRS, "efficacy_linear", lower=0, upper=10, scale=100, bounds="own")
    assert own["down"].tolist() == pytest.approx([90, 70, 50, 10])  # (upper - x)/(upper - lower)
    directed = normalise(DATA, DIRS, "efficacy_linear", lower={"up": 0, "down": -10}, upper={"up": 10, "down": 0}, scale=100)
    pd.testing.assert_frame_equal(directed, own)
    verbatim = normalise_output(DATA, DIRS, "efficacy_linear", lower=0, upper=10, scale=100)
    assert [w["indicator"] for w in bounds_warnings(verbatim)] == ["down"]
    meta = imeta(efficacy_lower=[0, 0], efficacy_upper=[10, 10])
    pd.testing.assert_frame_equal(normalise(DATA, DIRS, "efficacy_linear", lower="use_iMeta", upper="use_iMeta", scale=100, imeta=meta), own)


def test_efficacy_log_bounds_are_own_units():
    out = normalise(DATA, DIRS, "efficacy_log", lower=1, upper=9, scale=1)
    assert out["down"].tolist() == pytest.approx([(np.log(9) - np.log(x)) / np.log(9) for x in (1, 3, 5, 9)])


# --- errors ---------------------------------------------------------------------------------------------
def test_use_imeta_errors_name_the_indicator_or_column():
    with pytest.raises(SpecError, match="has none"):
        normalise(DATA, DIRS, "goalposts", gposts="use_iMeta")
    with pytest.raises(SpecError, match="goalpost_upper, goalpost_scale") as e:
        normalise(DATA, DIRS, "goalposts", gposts="use_iMeta", imeta=imeta(goalpost_lower=[0, 0]))
    assert e.value.problems[0]["parameter"] == "gposts"
    with pytest.raises(SpecError, match="no value for indicator 'down' in column goalpost_upper") as e:
        normalise(DATA, DIRS, "goalposts", gposts="use_iMeta",
                  imeta=imeta(goalpost_lower=[0, 0], goalpost_upper=[10, np.nan], goalpost_scale=[1, 1]))
    assert e.value.problems[0]["indicator"] == "down"
    with pytest.raises(SpecError, match="'extra' has no row in iMeta"):
        normalise(DATA.assign(extra=1.0), {**DIRS, "extra": 1}, "dist2targ", targ="use_iMeta", imeta=imeta(Target=[8, 2]))
    with pytest.raises(SpecError, match="cannot be read from iMeta"):
        normalise(DATA, DIRS, "goalposts", gposts=(0, 1, 1), trunc2posts=True, imeta=imeta(), scale="use_iMeta")
    with pytest.raises(SpecError, match="bounds must be"):
        normalise(DATA, DIRS, "goalposts", gposts=(0, 1, 1), bounds="sideways")
