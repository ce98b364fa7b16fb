"""Kinetic uptake rates (automatic linear window) and Fura-2 calcium metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assay_core import (calcium_metrics, fit_dose_response_curves, fura2_ratio, grynkiewicz,
                        trace_metrics, uptake_rate, uptake_rates)
from assay_core.simulate import simulate_calcium, simulate_uptake_kinetics


# ------------------------------------------------------------------ uptake
def test_uptake_window_leaves_out_lag_and_plateau():
    t = np.arange(0, 60, 1.0)
    y = np.where(t < 5, 100, np.where(t < 25, 100 + 10 * (t - 5), 300.0))
    y = y + np.random.default_rng(0).normal(0, 2, t.size)
    r = uptake_rate(t, y)
    assert r["linear"]
    assert 4 <= r["window_start"] and r["window_end"] <= 26
    assert r["n_points"] >= 15
    assert abs(r["rate"] - 10) < 4 * r["rate_se"]


def test_uptake_rate_is_nearly_unbiased_over_many_noisy_reads():
    t = np.arange(0, 60, 1.0)
    clean = np.where(t < 5, 100, np.where(t < 25, 100 + 10 * (t - 5), 300.0))
    rates = [uptake_rate(t, clean + np.random.default_rng(s).normal(0, 2, t.size))["rate"]
             for s in range(40)]
    assert np.mean(rates) == pytest.approx(10, rel=0.01)


def test_uptake_straight_read_uses_every_point():
    t = np.arange(0, 60, 1.0)
    y = 50 + 3 * t + np.random.default_rng(1).normal(0, 2, t.size)
    r = uptake_rate(t, y)
    assert (r["window_start"], r["window_end"], r["n_points"]) == (0.0, 59.0, 60)
    assert r["rate"] == pytest.approx(3.0, abs=0.05)


def test_uptake_exact_line_gives_exact_slope_and_intercept():
    t = np.linspace(0, 10, 21)
    r = uptake_rate(t, 7 + 2.5 * t)
    assert r["rate"] == pytest.approx(2.5, rel=1e-9)
    assert r["intercept"] == pytest.approx(7, rel=1e-9)


def test_uptake_noise_without_trend_is_reported_as_not_linear():
    t = np.arange(0, 40, 1.0)
    r = uptake_rate(t, np.random.default_rng(2).normal(100, 1, t.size))
    assert not r["linear"]
    assert "no window" in r["note"]


def test_uptake_window_can_be_set_by_hand():
    t = np.arange(0, 30, 1.0)
    r = uptake_rate(t, 5 * t, window=(10, 20))
    assert (r["window_start"], r["window_end"], r["n_points"]) == (10.0, 20.0, 11)
    assert r["note"] == "window set by hand"
    assert r["rate"] == pytest.approx(5, rel=1e-9)


def test_uptake_needs_enough_reads():
    with pytest.raises(ValueError, match="usable reads"):
        uptake_rate([0, 1, 2], [1, 2, 3])


def test_uptake_rates_per_well_keep_failures_as_notes():
    kin = simulate_uptake_kinetics(["A1", "A2"], [10.0, 20.0], seed=3)
    kin = pd.concat([kin, pd.DataFrame({"well": "A3", "time_min": [0, 1], "signal": [1, 2]})])
    r = uptake_rates(kin).set_index("well")
    assert r.loc["A1", "rate"] == pytest.approx(10, rel=0.05)
    assert r.loc["A2", "rate"] == pytest.approx(20, rel=0.05)
    assert np.isnan(r.loc["A3", "rate"]) and "usable reads" in r.loc["A3", "note"]


# ----------------------------------------------------------------- calcium
def test_grynkiewicz_equation_and_its_inverse():
    kd, beta, rmin, rmax = 224.0, 6.0, 0.3, 8.0
    ca = np.array([10.0, 100.0, 1000.0])
    x = ca / (kd * beta)
    ratio = (rmin + x * rmax) / (1 + x)
    np.testing.assert_allclose(grynkiewicz(ratio, rmin, rmax, beta), ca, rtol=1e-12)


def test_grynkiewicz_outside_calibration_range_is_missing():
    out = grynkiewicz([0.2, 8.0, 9.0], 0.3, 8.0, 6.0)
    assert np.all(np.isnan(out))


def test_fura2_ratio_subtracts_background():
    np.testing.assert_allclose(fura2_ratio([300.0], [150.0], 100.0, 50.0), [2.0])


def test_trace_metrics_on_a_square_pulse():
    t = np.arange(0, 100, 1.0)
    v = np.where((t >= 50) & (t < 60), 400.0, 100.0)
    m = trace_metrics(t, v, stim_time=40)
    assert m["baseline"] == 100 and m["peak"] == 400 and m["amplitude"] == 300
    assert m["time_to_peak_s"] == 10
    assert m["auc"] == pytest.approx(300 * 10)  # trapezoids: 9 full seconds + two half ramps


def test_calcium_ec50_per_buffer_condition_recovers_truth():
    traces = simulate_calcium(seed=5)
    metrics, samples = calcium_metrics(traces, 30, rmin=0.3, rmax=8.0, beta=6.0)
    assert {"ratio", "ca_nM"} <= set(samples.columns)
    assert metrics["baseline_nM"].between(95, 105).all()
    assert (metrics["n_out_of_range"] == 0).all()
    fit = fit_dose_response_curves(metrics["conc_uM"], metrics["amplitude_nM"], metrics["condition"])
    # the peak of the simulated transient is below the Hill amplitude, but the EC50s keep their ratio
    ratio = fit.potency_ratio("ca_free", "standard")
    assert ratio["ci_low"] < 4.0 < ratio["ci_high"]
    assert fit.flags == []


def test_calcium_needs_calibration_to_convert():
    traces = simulate_calcium(conditions=("standard",), concs_uM=(1.0,), cells_per_conc=1)
    with pytest.raises(ValueError, match="rmin, rmax and beta"):
        calcium_metrics(traces, 30)
