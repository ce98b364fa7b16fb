"""Microdialysis baseline normaliser: % of baseline, stability, missing samples, AUC, group tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assay_core import (compare_auc, normalise_baseline, peak_area_to_conc, standard_curve,
                        summarise_time_course, time_course_auc)
from assay_core.simulate import simulate_microdialysis


def _animal(values, times=(-60, -40, -20, 0, 20, 40), animal="r1", treatment="vehicle", analyte="NE"):
    return pd.DataFrame({"animal": animal, "treatment": treatment, "time_min": list(times),
                         "analyte": analyte, "conc": values})


def test_baseline_is_the_mean_of_the_last_n_pre_dose_samples():
    df = _animal([9.0, 1.0, 2.0, 3.0, 4.0, 2.0])  # pre-dose: -60, -40, -20
    samples, base = normalise_baseline(df, n_baseline=2)
    assert base.loc[0, "baseline"] == pytest.approx(1.5)  # mean of -40 and -20 only
    assert base.loc[0, "baseline_n"] == 2
    np.testing.assert_allclose(samples["pct_baseline"], 100 * df["conc"] / 1.5)


def test_unstable_baseline_is_flagged():
    _, base = normalise_baseline(_animal([1.0, 1.0, 2.0, 3.0, 4.0, 5.0]), stability_pct=20)
    assert not base.loc[0, "baseline_stable"]
    assert base.loc[0, "baseline_variation_pct"] == pytest.approx(50.0)
    assert "unstable" in base.loc[0, "baseline_note"]
    _, ok = normalise_baseline(_animal([1.0, 1.05, 0.95, 3.0, 4.0, 5.0]), stability_pct=20)
    assert ok.loc[0, "baseline_stable"]


def test_missing_samples_stay_missing():
    df = _animal([1.0, np.nan, 1.0, 3.0, np.nan, 2.0])
    samples, base = normalise_baseline(df)
    assert base.loc[0, "baseline"] == pytest.approx(1.0)
    assert base.loc[0, "baseline_n"] == 2
    assert "1 of the last 3 pre-dose samples missing" in base.loc[0, "baseline_note"]
    assert samples["pct_baseline"].isna().sum() == 2
    assert len(samples) == len(df)


def test_probe_recovery_scales_concentrations_not_percentages():
    df = _animal([1.0, 1.0, 1.0, 2.0, 2.0, 2.0])
    plain, _ = normalise_baseline(df)
    corrected, base = normalise_baseline(df, recovery={"NE": 0.2})
    np.testing.assert_allclose(corrected["conc_corrected"], df["conc"] / 0.2)
    np.testing.assert_allclose(corrected["pct_baseline"], plain["pct_baseline"])
    with pytest.raises(ValueError, match="fraction"):
        normalise_baseline(df, recovery=15)


def test_auc_by_trapezoids_from_the_dose():
    df = _animal([1.0, 1.0, 1.0, 2.0, 3.0, 1.0], times=(-60, -40, -20, 20, 40, 60))
    samples, _ = normalise_baseline(df)
    auc = time_course_auc(samples).iloc[0]
    # 100 % at t = 0, then 200, 300, 100 % at 20, 40, 60 min
    expected = (100 + 200) / 2 * 20 + (200 + 300) / 2 * 20 + (300 + 100) / 2 * 20
    assert auc["auc_pct_min"] == pytest.approx(expected)
    assert auc["auc_change_pct_min"] == pytest.approx(expected - 100 * 60)


def test_auc_with_a_missing_sample_is_reported_not_filled():
    df = _animal([1.0, 1.0, 1.0, 2.0, np.nan, 1.0], times=(-60, -40, -20, 20, 40, 60))
    samples, _ = normalise_baseline(df)
    bridged = time_course_auc(samples, missing="skip").iloc[0]
    assert bridged["n_missing"] == 1 and "bridged" in bridged["note"]
    strict = time_course_auc(samples, missing="nan").iloc[0]
    assert np.isnan(strict["auc_pct_min"])
    assert np.isnan(samples.loc[4, "pct_baseline"])


def test_standard_curve_converts_peak_areas():
    curve = standard_curve([0.5, 1, 2, 4], [52.0, 102.0, 202.0, 402.0])
    assert curve["slope"] == pytest.approx(100.0) and curve["intercept"] == pytest.approx(2.0)
    np.testing.assert_allclose(peak_area_to_conc([302.0, np.nan], curve), [3.0, np.nan])


def test_treatment_effect_against_vehicle_by_dunnett():
    data = simulate_microdialysis(seed=3)
    samples, base = normalise_baseline(data)
    assert base["baseline_stable"].mean() > 0.9
    auc = time_course_auc(samples)
    cmp = compare_auc(auc).set_index(["analyte", "group"])
    assert cmp.loc[("NE", "high"), "p_value"] < 0.001
    assert cmp.loc[("NE", "high"), "difference"] > cmp.loc[("NE", "low"), "difference"] > 0
    assert (cmp["method"] == "dunnett").all()
    course = summarise_time_course(samples)
    pre = course[(course["time_min"] < 0) & (course["analyte"] == "NE")]
    assert pre["mean"].between(80, 120).all()


def test_duplicate_samples_and_missing_columns_are_clear_errors():
    df = _animal([1.0] * 6)
    with pytest.raises(ValueError, match="appear twice"):
        normalise_baseline(pd.concat([df, df]))
    with pytest.raises(ValueError, match="column 'conc' not found"):
        normalise_baseline(df.drop(columns="conc"))
