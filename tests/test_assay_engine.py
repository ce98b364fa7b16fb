"""fit_curve: the general least-squares engine and its two kinds of standard error."""

from __future__ import annotations

import numpy as np
import pytest

from assay_core import fit_curve


def _exp(x, a, k):
    return a * (1 - np.exp(-k * x))


X = np.linspace(0.5, 10, 12)
Y = _exp(X, 5.0, 0.4) + np.random.default_rng(0).normal(0, 0.05, X.size)


def test_linear_model_has_ordinary_least_squares_errors():
    x = np.arange(10.0)
    y = 1 + 2 * x + np.random.default_rng(1).normal(0, 0.3, 10)
    fit = fit_curve(lambda x, a, b: a + b * x, x, y, [0.0, 0.0])
    X1 = np.c_[np.ones(10), x]
    beta, rss, *_ = np.linalg.lstsq(X1, y, rcond=None)
    cov = np.linalg.inv(X1.T @ X1) * rss[0] / 8
    np.testing.assert_allclose(fit.estimates, beta, rtol=1e-10)
    # a linear model has no curvature: both conventions equal the OLS errors
    np.testing.assert_allclose(fit.se_gauss_newton, np.sqrt(np.diag(cov)), rtol=1e-8)
    np.testing.assert_allclose(fit.se_hessian, np.sqrt(np.diag(cov)), rtol=1e-6)


def test_results_follow_the_order_of_p0():
    a = fit_curve(_exp, X, Y, [4.0, 0.3])
    b = fit_curve(lambda x, k, a: _exp(x, a, k), X, Y, [0.3, 4.0])
    np.testing.assert_allclose(a.estimates, b.estimates[::-1], rtol=1e-9)
    np.testing.assert_allclose(a.se_hessian, b.se_hessian[::-1], rtol=1e-6)


def test_analytic_jacobian_gives_the_same_fit():
    def jac(x, a, k):
        return np.c_[1 - np.exp(-k * x), a * x * np.exp(-k * x)]
    a = fit_curve(_exp, X, Y, [4.0, 0.3])
    b = fit_curve(_exp, X, Y, [4.0, 0.3], jac=jac)
    np.testing.assert_allclose(a.estimates, b.estimates, rtol=1e-8)  # 5-point differences: ~1e-9
    np.testing.assert_allclose(a.se_gauss_newton, b.se_gauss_newton, rtol=1e-8)


def test_weight_two_equals_a_duplicated_point():
    w = np.ones_like(Y)
    w[3] = 2
    a = fit_curve(_exp, X, Y, [4.0, 0.3], weights=w)
    b = fit_curve(_exp, np.r_[X, X[3]], np.r_[Y, Y[3]], [4.0, 0.3])
    np.testing.assert_allclose(a.estimates, b.estimates, rtol=1e-9)
    assert a.rss == pytest.approx(b.rss, rel=1e-9)


def test_bounds_hold():
    fit = fit_curve(_exp, X, Y, [4.0, 0.3], bounds=([0, 0], [4.5, 1]))
    assert fit.estimates[0] <= 4.5 + 1e-12


def test_t_confidence_interval_uses_residual_df():
    from scipy import stats
    fit = fit_curve(_exp, X, Y, [4.0, 0.3])
    lo, hi = fit.conf_int()
    q = stats.t.ppf(0.975, X.size - 2)
    np.testing.assert_allclose(hi - fit.estimates, q * fit.se_hessian)
    lo_gn, _ = fit.conf_int(se="gauss_newton", level=0.9)
    np.testing.assert_allclose(fit.estimates - lo_gn, stats.t.ppf(0.95, 10) * fit.se_gauss_newton)


def test_report_prints_both_standard_errors():
    text = fit_curve(_exp, X, Y, [4.0, 0.3], param_names=["a", "k"]).summary()
    assert "se_hessian" in text and "se_gauss_newton" in text and "converged" in text


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_data_is_refused(bad):
    y = Y.copy()
    y[2] = bad
    with pytest.raises(ValueError, match="NaN or infinite"):
        fit_curve(_exp, X, y, [4.0, 0.3])


def test_more_parameters_than_points_is_refused():
    with pytest.raises(ValueError, match="cannot determine"):
        fit_curve(_exp, X[:1], Y[:1], [4.0, 0.3])


def test_model_failing_at_start_is_a_clear_error():
    with pytest.raises(ValueError, match="cannot be evaluated at p0"):
        fit_curve(lambda x, a: a.undefined, X, Y, [1.0])
    with pytest.raises(ValueError, match="non-finite values at p0"):
        fit_curve(lambda x, a: np.log(a) * x, X, Y, [-1.0])


def test_unidentifiable_model_is_flagged():
    fit = fit_curve(lambda x, a, b: (a + b) * x, X, Y, [1.0, 1.0])
    assert not fit.converged or fit.flags
    assert fit.flags
