"""Radioligand binding: specific binding, Cheng-Prusoff Ki, selectivity and occupancy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assay_core import (cheng_prusoff, fit_dose_response, fractional_occupancy, ki_from_fit,
                        occupancy_table, percent_specific_binding, selectivity_table, specific_binding)


def test_specific_binding_is_total_minus_nonspecific():
    np.testing.assert_allclose(specific_binding([1000, 800], [200, 200]), [800, 600])


def test_percent_specific_binding_runs_from_nsb_to_total():
    np.testing.assert_allclose(percent_specific_binding([1200, 200, 700], 1200, 200), [100, 0, 50])


def test_percent_specific_binding_rejects_inverted_controls():
    with pytest.raises(ValueError, match="total binding must exceed"):
        percent_specific_binding([1, 2], 100, 200)


def test_cheng_prusoff():
    # [L] = Kd halves the IC50
    assert cheng_prusoff(10.0, 2.0, 2.0) == pytest.approx(5.0)
    assert cheng_prusoff(10.0, 0.0, 2.0) == pytest.approx(10.0)


def test_ki_from_competition_fit_recovers_true_ki():
    rng = np.random.default_rng(4)
    ki, L, kd = 4.0, 1.0, 0.5
    ic50 = ki * (1 + L / kd)
    conc = np.repeat(10 ** np.linspace(-1, 3, 9), 3)
    pct = 100 / (1 + conc / ic50) + rng.normal(0, 1.5, conc.size)
    fit = fit_dose_response(np.r_[conc, 0, 0, 0], np.r_[pct, 100, 100, 100], fixed={"c": 0, "d": 100})
    res = ki_from_fit(fit, L, kd)
    assert res["factor"] == pytest.approx(3.0)
    assert res["ki_ci_low"] < ki < res["ki_ci_high"]
    assert res["ki"] == pytest.approx(fit.ed(50)["estimate"] / 3)


def test_selectivity_ratios_relative_to_highest_affinity_target():
    profile = pd.DataFrame({"target": ["SERT", "NET", "DAT"], "ki_nM": [30.0, 1.5, 600.0]})
    t = selectivity_table(profile).set_index("target")
    assert list(t.index) == ["NET", "SERT", "DAT"]  # sorted by Ki
    assert (t["primary_target"] == "NET").all()
    assert t.loc["SERT", "selectivity_ratio"] == pytest.approx(20.0)
    assert t.loc["DAT", "selectivity_ratio"] == pytest.approx(400.0)
    assert t.loc["NET", "pKi"] == pytest.approx(-np.log10(1.5e-9))


def test_selectivity_per_compound_and_chosen_primary():
    profile = pd.DataFrame({"compound": ["a", "a", "b", "b"], "target": ["NET", "SERT"] * 2,
                            "ki_nM": [2.0, 20.0, 50.0, 5.0]})
    t = selectivity_table(profile, compound_col="compound", primary="NET")
    b = t[t["compound"] == "b"].set_index("target")
    assert b.loc["SERT", "selectivity_ratio"] == pytest.approx(0.1)


def test_occupancy_is_half_at_ki():
    assert fractional_occupancy(5.0, 5.0) == pytest.approx(0.5)
    assert fractional_occupancy(45.0, 5.0) == pytest.approx(0.9)


def test_occupancy_table_adds_one_column_per_concentration():
    profile = pd.DataFrame({"target": ["NET", "SERT"], "ki_nM": [1.0, 100.0]})
    t = occupancy_table(profile, [1.0, 100.0]).set_index("target")
    assert t.loc["NET", "occupancy_pct_at_1nM"] == pytest.approx(50.0)
    assert t.loc["SERT", "occupancy_pct_at_100nM"] == pytest.approx(50.0)


def test_selectivity_rejects_non_positive_ki():
    with pytest.raises(ValueError, match="positive"):
        selectivity_table(pd.DataFrame({"target": ["x"], "ki_nM": [0.0]}))
