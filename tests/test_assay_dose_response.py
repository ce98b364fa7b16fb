"""fit_dose_response behaviours: models, fixed parameters, weights, effective doses, flags."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assay_core import compare_models, fit_dose_response, get_model, starting_values

DOSE = np.repeat([0, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100.0], 3)


def _data(model="LL.4", b=1.2, c=2.0, d=98.0, e=1.0, f=None, noise=2.0, seed=0, dose=DOSE):
    m = get_model(model)
    extra = [] if f is None else [f]
    y = m.predict(dose, b, c, d, e, *extra) + np.random.default_rng(seed).normal(0, noise, dose.size)
    return dose, y


@pytest.mark.parametrize("model,truth", [
    ("LL.4", dict(b=1.2, c=2.0, d=98.0, e=1.0)),
    ("LL.3", dict(b=1.2, c=0.0, d=98.0, e=1.0)),
    ("W1.4", dict(b=1.2, c=2.0, d=98.0, e=1.0)),
    ("W2.4", dict(b=-1.2, c=2.0, d=98.0, e=1.0)),
    ("LL.5", dict(b=1.2, c=2.0, d=98.0, e=1.0, f=0.6)),
])
def test_each_model_recovers_simulated_parameters(model, truth):
    dose, y = _data(model, noise=0.5, **truth)
    fit = fit_dose_response(dose, y, model)
    for name, value in truth.items():
        if name in fit.params.index:
            est, se = fit.params.loc[name, ["estimate", "se"]]
            assert abs(est - value) < 5 * se + 1e-6, (name, est, value, se)


def test_zero_dose_is_the_control_asymptote():
    m = get_model("LL.4")
    assert m.predict(0.0, 1.5, 3.0, 90.0, 2.0) == 90.0  # b > 0: x -> 0 gives d
    assert m.predict(0.0, -1.5, 3.0, 90.0, 2.0) == 3.0  # b < 0: x -> 0 gives c
    assert np.all(np.isfinite(m.jacobian(np.array([0.0, 1.0]), 1.5, 3.0, 90.0, 2.0)))


def test_analytic_jacobian_matches_finite_differences():
    x = np.array([0.0, 0.05, 0.5, 2.0, 20.0])
    for name, p in [("LL.4", [1.3, 5.0, 95.0, 1.7]), ("LL.5", [1.3, 5.0, 95.0, 1.7, 0.7]),
                    ("W1.4", [0.8, 5.0, 95.0, 1.7]), ("W2.4", [-0.8, 5.0, 95.0, 1.7])]:
        m = get_model(name)
        J = m.jacobian(x, *p)
        for k in range(len(p)):
            h = 1e-6 * abs(p[k])
            up, dn = list(p), list(p)
            up[k] += h
            dn[k] -= h
            fd = (m.predict(x, *up) - m.predict(x, *dn)) / (2 * h)
            np.testing.assert_allclose(J[:, k], fd, rtol=1e-6, atol=1e-8, err_msg=f"{name} {k}")


def test_fixed_parameters_are_held_and_not_listed():
    dose, y = _data()
    fit = fit_dose_response(dose, y, fixed={"c": 0, "d": 100})
    assert list(fit.params.index) == ["b", "e"]
    assert fit.coef["c"] == 0 and fit.coef["d"] == 100
    assert fit.df_resid == dose.size - 2


def test_conflicting_or_unknown_fixed_parameters_are_refused():
    dose, y = _data()
    with pytest.raises(ValueError, match="LL.3 fixes c = 0"):
        fit_dose_response(dose, y, "LL.3", fixed={"c": 5})
    with pytest.raises(ValueError, match="cannot fix 'g'"):
        fit_dose_response(dose, y, fixed={"g": 1})
    with pytest.raises(ValueError, match="fixed e must be > 0"):
        fit_dose_response(dose, y, fixed={"e": 0})


def test_weights_multiply_squared_residuals_like_duplicated_rows():
    dose, y = _data(seed=3)
    w = np.ones_like(y)
    w[5] = 2.0
    weighted = fit_dose_response(dose, y, weights=w)
    duplicated = fit_dose_response(np.r_[dose, dose[5]], np.r_[y, y[5]])
    np.testing.assert_allclose(weighted.params["estimate"], duplicated.params["estimate"], rtol=1e-7)
    assert weighted.rss == pytest.approx(duplicated.rss, rel=1e-9)


def test_missing_wells_are_dropped_and_counted():
    dose, y = _data()
    y[[4, 7]] = np.nan
    fit = fit_dose_response(dose, y)
    assert fit.n_dropped == 2 and fit.n_obs == dose.size - 2
    assert "2 missing dropped" in fit.summary()


def test_log_dose_input_equals_linear_dose():
    dose, y = _data()
    keep = dose > 0
    a = fit_dose_response(dose[keep], y[keep])
    b = fit_dose_response(np.log10(dose[keep]), y[keep], log_dose=True)
    np.testing.assert_allclose(a.params["estimate"], b.params["estimate"], rtol=1e-8)


def test_bounds_are_respected_and_flagged_when_hit():
    dose, y = _data(b=1.2)
    fit = fit_dose_response(dose, y, bounds={"b": (1.5, None)})
    assert fit.coef["b"] == pytest.approx(1.5, abs=1e-6)
    assert any("stopped at a bound" in f for f in fit.flags)
    # an upper bound the mirror image (-b, d, c) satisfies does not change the curve
    mirror = fit_dose_response(dose, y, bounds={"b": (None, 0.8)})
    free = fit_dose_response(dose, y)
    assert mirror.rss == pytest.approx(free.rss, rel=1e-9) and mirror.coef["b"] < 0


def test_canonical_sign_d_above_c():
    for b in (1.2, -1.2):
        dose, y = _data(b=b)
        fit = fit_dose_response(dose, y)
        assert fit.coef["d"] > fit.coef["c"]
        assert np.sign(fit.coef["b"]) == np.sign(b)


def test_relative_ed_counts_from_the_control_level_for_rising_curves():
    dose, y = _data(b=-1.0, c=0.0, d=100.0, e=2.0, noise=0.0)
    fit = fit_dose_response(dose, y)
    assert fit.ed(10)["estimate"] == pytest.approx(2.0 * (10 / 90) ** (1 / 1.0), rel=1e-6)
    assert fit.prism.index[2] == "LogEC50"


def test_absolute_ed_is_the_dose_with_that_response():
    dose, y = _data(b=1.0, c=0.0, d=100.0, e=2.0, noise=0.0)
    fit = fit_dose_response(dose, y)
    ed = fit.ed(75, type="absolute")  # response 75 on a falling curve: x = e/3
    assert ed["estimate"] == pytest.approx(2.0 / 3, rel=1e-6)
    assert np.isnan(fit.ed(150, type="absolute")["estimate"])  # never reached


def test_ed_level_outside_0_100_is_refused():
    dose, y = _data()
    with pytest.raises(ValueError, match="between 0 and 100"):
        fit_dose_response(dose, y).ed(100)


def test_ic50_beyond_the_highest_dose_is_flagged():
    dose, y = _data(e=300.0)
    assert fit_dose_response(dose, y).flags  # only the start of the fall is seen: ambiguous
    fit = fit_dose_response(dose, y, fixed={"c": 2.0})  # bottom known: IC50 extrapolated
    assert fit.coef["e"] > 100
    assert any("outside the tested range" in f for f in fit.flags)


def test_missing_bottom_plateau_is_flagged():
    dose = np.repeat([0, 0.01, 0.03, 0.1, 0.3, 1.0], 3)
    dose, y = _data(e=2.0, dose=dose, noise=0.5)
    fit = fit_dose_response(dose, y)
    assert any("plateau" in f for f in fit.flags)


def test_transition_between_two_doses_is_flagged():
    dose = np.repeat([0, 0.001, 0.01, 0.1, 1, 10, 100], 2)
    y = np.where(dose > 0.3, 5.0, 95.0) + np.random.default_rng(1).normal(0, 1, dose.size)
    fit = fit_dose_response(dose, y)
    assert fit.flags  # a step: slope unbounded, IC50 anywhere between 0.1 and 1


def test_no_dose_response_is_flagged():
    dose = DOSE
    y = 50 + np.random.default_rng(2).normal(0, 5, dose.size)
    fit = fit_dose_response(dose, y)
    assert fit.flags


def test_constant_response_is_flagged_not_fitted_as_numbers():
    fit = fit_dose_response(DOSE, np.full(DOSE.size, 7.0))
    assert fit.flags and "same at every dose" in fit.flags[0]


def test_too_few_doses_for_the_model_is_a_clear_error():
    with pytest.raises(ValueError, match="only 3 distinct dose"):
        fit_dose_response([0, 1, 10, 0, 1, 10], [100, 50, 0, 98, 52, 3])


def test_lack_of_fit_needs_replicates():
    dose = np.array([0, 0.1, 0.3, 1, 3, 10, 30.0])
    y = get_model("LL.4").predict(dose, 1, 0, 100, 1) + np.random.default_rng(0).normal(0, 1, 7)
    assert fit_dose_response(dose, y).lack_of_fit() is None


def test_nested_models_compare_by_f_test():
    dose, y = _data(c=0.0)
    ll3 = fit_dose_response(dose, y, "LL.3")
    ll4 = fit_dose_response(dose, y, "LL.4")
    table = compare_models(ll4, ll3)  # order does not matter
    assert table.loc[0, "model"] == "LL.3" and table.loc[1, "df"] == 1
    assert table.loc[1, "p_value"] > 0.01  # c really is 0


def test_starting_values_are_close_enough_to_converge():
    dose, y = _data(noise=0.0)
    sv = starting_values("LL.4", dose, y)
    assert sv.shape == (4,) and np.all(np.isfinite(sv))
    pred = get_model("LL.4").predict(dose, *sv)
    assert np.sqrt(np.mean((pred - y) ** 2)) < 15


def test_tables_for_export():
    dose, y = _data()
    fit = fit_dose_response(dose, y)
    frame = fit.to_frame()
    assert set(frame["naming"]) == {"drc", "prism"}
    row = fit.to_row()
    assert row["ed50"] == pytest.approx(fit.ed(50)["estimate"])
    assert row["HillSlope"] == pytest.approx(-fit.coef["b"])
    assert isinstance(fit.ed_table(), pd.DataFrame)
    assert "Prism names" in str(fit) and repr(fit).startswith("<DoseResponseFit")
