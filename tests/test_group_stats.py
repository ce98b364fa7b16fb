"""Dunnett comparisons never return a confidence interval at the wrong level."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from assay_core.group_stats import compare_to_reference


def _failing_case():
    """Data and a seed for which scipy's Dunnett CI stops at the wrong confidence level."""
    rng = np.random.default_rng(0)
    for seed in range(200):
        a, b, c = rng.normal(0, 1, 6), rng.normal(1, 1, 6), rng.normal(2, 1, 6)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            stats.dunnett(a, b, control=c, rng=seed).confidence_interval(0.95)
        if any("did not converge" in str(w.message) for w in caught):
            return a, b, c, seed
    raise AssertionError("no failing case found")


def test_dunnett_ci_is_recomputed_when_scipy_does_not_converge():
    a, b, c, seed = _failing_case()
    df = pd.DataFrame({"group": ["c"] * 6 + ["a"] * 6 + ["b"] * 6, "value": np.r_[c, a, b]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning escapes, so no wrong-level CI was used
        out = compare_to_reference(df, "value", "group", "c", rng=seed).set_index("group")
    # Half-width = critical value x SE, SE from the variance pooled over all three groups. Dunnett's
    # (1955) two-sided 95 % table gives 2.44 for 2 comparisons with 15 degrees of freedom.
    pooled_sd = np.sqrt((5 * a.var(ddof=1) + 5 * b.var(ddof=1) + 5 * c.var(ddof=1)) / 15)
    se = pooled_sd * np.sqrt(2 / 6)
    for g in ("a", "b"):
        row = out.loc[g]
        assert (row["ci_high"] - row["ci_low"]) / 2 / se == pytest.approx(2.44, abs=0.006)
        assert row["ci_low"] < row["difference"] < row["ci_high"]


def test_same_seed_same_p_values():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"group": np.repeat(["v", "d1", "d2"], 5), "value": rng.normal(0, 1, 15)})
    first = compare_to_reference(df, "value", "group", "v")
    second = compare_to_reference(df, "value", "group", "v")
    pd.testing.assert_frame_equal(first, second)


def test_groups_of_equal_values_are_compared_without_warnings():
    # Two vehicle animals both immobile for 18.5 s: a zero within-group variance is data, not
    # a numerical problem to print on the user's screen.
    df = pd.DataFrame({"group": ["vehicle"] * 2 + ["low"] * 2 + ["high"] * 2,
                       "immobility_s": [18.5, 18.5, 18.0, 19.0, 9.0, 10.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = compare_to_reference(df, "immobility_s", "group", "vehicle")
    high = out[out["group"] == "high"].iloc[0]
    assert high["difference"] == pytest.approx(-9.0)
    assert high["p_value"] < 0.05
