"""Several curves with shared parameters, potency ratios and the parallelism F test."""

from __future__ import annotations

import numpy as np
import pytest

from assay_core import compare_models, fit_dose_response, fit_dose_response_curves, get_model

DOSE = np.repeat([0, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30.0], 3)


@pytest.fixture(scope="module")
def two_curves():
    rng = np.random.default_rng(1)
    m = get_model("LL.4")
    x = np.tile(DOSE, 2)
    curve = np.repeat(["ref", "test"], DOSE.size)
    e = np.where(curve == "ref", 0.3, 1.5)
    y = m.predict(x, 1.2, 2, 100, e) + rng.normal(0, 3, x.size)
    return x, y, curve


def test_separate_curves_equal_individual_fits(two_curves):
    x, y, curve = two_curves
    joint = fit_dose_response_curves(x, y, curve)
    for label in ("ref", "test"):
        single = fit_dose_response(x[curve == label], y[curve == label])
        for p in "bcde":
            assert joint.params.loc[(p, label), "estimate"] == pytest.approx(single.coef[p], rel=1e-6)
    assert joint.rss == pytest.approx(sum(fit_dose_response(x[curve == c], y[curve == c]).rss
                                          for c in ("ref", "test")), rel=1e-8)


def test_shared_parameters_appear_once(two_curves):
    x, y, curve = two_curves
    fit = fit_dose_response_curves(x, y, curve, shared=("b", "c", "d"))
    assert ("b", "(shared)") in fit.params.index and ("e", "test") in fit.params.index
    assert fit.design.n_free == 5
    assert list(fit.coef.columns) == ["b", "c", "d", "e"]
    assert fit.flags == []


def test_potency_ratio_of_parallel_curves_is_the_ratio_of_e(two_curves):
    x, y, curve = two_curves
    fit = fit_dose_response_curves(x, y, curve, shared=("b", "c", "d"))
    r = fit.potency_ratio("test", "ref")
    e = fit.coef["e"]
    assert r["estimate"] == pytest.approx(e["test"] / e["ref"], rel=1e-9)
    assert r["ci_low"] < 5.0 < r["ci_high"]
    assert r["p_value"] < 1e-6
    fieller = fit.potency_ratio("test", "ref", interval="fieller")
    assert fieller["estimate"] == r["estimate"] and fieller["ci_low"] < r["estimate"] < fieller["ci_high"]
    table = fit.potency_table("ref")
    assert list(table["curve"]) == ["test"]


def test_parallelism_f_test_against_separate_slopes(two_curves):
    x, y, curve = two_curves
    shared = fit_dose_response_curves(x, y, curve, shared=("b", "c", "d"))
    separate = fit_dose_response_curves(x, y, curve)
    table = compare_models(shared, separate)
    assert table.loc[1, "df"] == 3
    assert table.loc[1, "p_value"] > 0.01  # simulated parallel: no evidence against
    assert "shared: b, c, d" in table.loc[0, "model"]


def test_ed_per_curve(two_curves):
    x, y, curve = two_curves
    fit = fit_dose_response_curves(x, y, curve, shared=("b", "c", "d"))
    assert fit.ed(50, "test")["estimate"] == pytest.approx(fit.coef.loc["test", "e"])
    with pytest.raises(ValueError, match="unknown curve"):
        fit.ed(50, "nope")
    assert len(fit.ed_table([10, 50])) == 4
    assert "ED50 per curve" in fit.summary()


def test_curve_that_cannot_carry_its_own_parameters_is_refused():
    x = np.r_[DOSE, 0, 1, 0, 1]
    y = np.r_[get_model("LL.4").predict(DOSE, 1, 0, 100, 1), 100, 50, 100, 50]
    curve = np.r_[["a"] * DOSE.size, ["b"] * 4]
    with pytest.raises(ValueError, match="curve 'b'"):
        fit_dose_response_curves(x, y, curve)
    fit = fit_dose_response_curves(x, y, curve, shared=("b", "c", "d"))  # only e of its own
    assert np.isfinite(fit.coef.loc["b", "e"])
