"""assay_core against R drc's published ryegrass results (shared/reference/assay/drc)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from assay_core import compare_models, fit_dose_response
from assay_core.curves import get_model

RYEGRASS = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "assay" / "drc" / "ryegrass.csv"

# Published output of R drc 3.0 for drm(rootl ~ conc, fct = ...) (shared/reference/README.md).
DRC_LL4 = {"b": (2.98222, 0.46506), "c": (0.48141, 0.21219), "d": (7.79296, 0.18857), "e": (3.05795, 0.18573)}
DRC_LL4_ED = {10: (1.46371, 1.07411, 1.85330), 50: (3.05795, 2.67053, 3.44538), 90: (6.38864, 4.62580, 8.15148)}
DRC_LL3 = {"b": (2.47033, 0.34168), "d": (7.85543, 0.20438), "e": (3.26336, 0.19641)}
DRC_LL5 = {"b": (3.92870, 2.18882), "c": (0.32165, 0.37943), "d": (7.76054, 0.19319),
           "e": (2.21539, 0.91883), "f": (0.46831, 0.53020)}


@pytest.fixture(scope="module")
def ryegrass():
    if not RYEGRASS.is_file():
        pytest.skip(f"drc reference data not available ({RYEGRASS} is absent; it sits beside the project "
                    "only in the lab's checkout)")
    return pd.read_csv(RYEGRASS)


@pytest.fixture(scope="module")
def ll4(ryegrass):
    return fit_dose_response(ryegrass["conc"], ryegrass["rootl"], "LL.4")


def _rel(a, b):
    return abs(a - b) / abs(b)


def test_ll4_estimates_match_drc_to_1e4(ll4):
    for name, (est, _) in DRC_LL4.items():
        assert _rel(ll4.params.loc[name, "estimate"], est) < 1e-4, name


def test_ll4_observed_hessian_se_match_drc_to_1e3(ll4):
    for name, (_, se) in DRC_LL4.items():
        assert _rel(ll4.params.loc[name, "se"], se) < 1e-3, name


def test_ll4_gauss_newton_se_is_reported_separately(ll4):
    # README: the (J'J)^-1 form gives 0.4584 for b instead of drc's 0.46506
    assert ll4.se_gauss_newton["b"] == pytest.approx(0.4584, abs=5e-5)
    assert ll4.params.loc["b", "se"] == pytest.approx(0.46506, rel=1e-3)


def test_ll4_residual_se_on_20_df(ll4):
    assert ll4.df_resid == 20
    assert _rel(ll4.residual_se, 0.5196256) < 1e-6


@pytest.mark.parametrize("level", [10, 50, 90])
def test_ll4_effective_doses_and_delta_ci_match_drc(ll4, level):
    est, lo, hi = DRC_LL4_ED[level]
    ed = ll4.ed(level)
    assert _rel(ed["estimate"], est) < 1e-3
    assert _rel(ed["ci_low"], lo) < 1e-3
    assert _rel(ed["ci_high"], hi) < 1e-3
    # t quantile on the residual df, symmetric delta-method interval
    q = stats.t.ppf(0.975, 20)
    assert ed["ci_high"] - ed["estimate"] == pytest.approx(q * ed["se"], rel=1e-12)


def test_ll4_ryegrass_fit_is_not_flagged(ll4):
    assert ll4.flags == []
    assert ll4.converged


def test_ll4_params_table_has_contract_columns(ll4):
    assert list(ll4.params.columns) == ["estimate", "se", "ci_low", "ci_high"]
    assert list(ll4.params.index) == ["b", "c", "d", "e"]


def test_ll3_matches_drc(ryegrass):
    fit = fit_dose_response(ryegrass["conc"], ryegrass["rootl"], "LL.3")
    assert list(fit.params.index) == ["b", "d", "e"]  # drc lists only the free parameters
    for name, (est, se) in DRC_LL3.items():
        assert _rel(fit.params.loc[name, "estimate"], est) < 1e-4, name
        assert _rel(fit.params.loc[name, "se"], se) < 1e-3, name
    assert fit.df_resid == 21
    assert _rel(fit.residual_se, 0.5615802) < 1e-6
    assert fit.fixed == {"c": 0.0}
    assert fit.coef["c"] == 0.0


def test_ll3_is_ll4_with_c_fixed_at_zero(ryegrass):
    a = fit_dose_response(ryegrass["conc"], ryegrass["rootl"], "LL.3")
    b = fit_dose_response(ryegrass["conc"], ryegrass["rootl"], "LL.4", fixed={"c": 0})
    pd.testing.assert_frame_equal(a.params, b.params, rtol=1e-9)


def test_ll5_reaches_a_lower_rss_than_drcs_stopping_point(ryegrass):
    """drc's LL.5 numbers are not at the least-squares minimum; ours is (documented deviation).

    drc minimises with BFGS (relTol 1e-7) and takes SEs from optim's finite-difference
    Hessian. For this nearly redundant 5-parameter fit (Prism dependency 0.994) drc
    stops early: its published point has RSS 1.35e-7 above ours and a gradient of
    7e-4 in f, where ours is 1e-8. The estimates therefore agree to 1e-3, not 1e-4,
    and the SEs (finite-difference vs exact Hessian of an ill-conditioned problem)
    to 5e-3; the 1e-4 / 1e-3 bars are met for LL.4 and LL.3, whose optimum drc does reach
    (and see the next test for where the SE difference comes from).
    """
    x, y = ryegrass["conc"].to_numpy(), ryegrass["rootl"].to_numpy()
    fit = fit_dose_response(x, y, "LL.5")
    m = get_model("LL.5")
    drc_point = [DRC_LL5[n][0] for n in m.param_names]
    rss_drc = float(np.sum((y - m.predict(x, *drc_point)) ** 2))
    assert fit.rss < rss_drc
    grad = fit.design.jac(fit.theta).T @ fit.design.resid(fit.theta)
    assert np.max(np.abs(grad)) < 1e-6
    for name, (est, se) in DRC_LL5.items():
        assert _rel(fit.params.loc[name, "estimate"], est) < 1e-3, name
        assert _rel(fit.params.loc[name, "se"], se) < 5e-3, name


def test_prism_names_are_the_same_fit(ll4):
    p = ll4.prism
    assert list(p.index) == ["Bottom", "Top", "LogIC50", "HillSlope", "IC50", "Span"]
    assert p.loc["Bottom", "estimate"] == ll4.params.loc["c", "estimate"]
    assert p.loc["Top", "estimate"] == ll4.params.loc["d", "estimate"]
    assert p.loc["HillSlope", "estimate"] == -ll4.params.loc["b", "estimate"]
    e, se_e = ll4.params.loc["e", ["estimate", "se"]]
    assert p.loc["LogIC50", "estimate"] == pytest.approx(np.log10(e), rel=1e-12)
    assert p.loc["LogIC50", "se"] == pytest.approx(se_e / (e * np.log(10)), rel=1e-6)
    q = stats.t.ppf(0.975, 20)
    log_e, log_se = p.loc["LogIC50", ["estimate", "se"]]
    assert p.loc["IC50", "ci_low"] == pytest.approx(10 ** (log_e - q * log_se), rel=1e-12)
    assert p.loc["IC50", "ci_high"] == pytest.approx(10 ** (log_e + q * log_se), rel=1e-12)


def test_lack_of_fit_test_against_dose_means(ll4, ryegrass):
    means = ryegrass.groupby("conc")["rootl"].transform("mean")
    rss_pure = float(np.sum((ryegrass["rootl"] - means) ** 2))
    df_pure, df_lof = 24 - 7, 7 - 4
    f = ((ll4.rss - rss_pure) / df_lof) / (rss_pure / df_pure)
    lof = ll4.lack_of_fit().iloc[0]
    assert lof["rss_pure_error"] == pytest.approx(rss_pure, rel=1e-12)
    assert lof["F"] == pytest.approx(f, rel=1e-10)
    assert lof["p_value"] == pytest.approx(stats.f.sf(f, df_lof, df_pure), rel=1e-10)


def test_nested_f_test_ll3_against_ll4_from_published_residual_se(ryegrass, ll4):
    ll3 = fit_dose_response(ryegrass["conc"], ryegrass["rootl"], "LL.3")
    rss3, rss4 = 0.5615802**2 * 21, 0.5196256**2 * 20
    f = (rss3 - rss4) / (rss4 / 20)
    table = compare_models(ll3, ll4)
    assert table.loc[1, "F"] == pytest.approx(f, rel=1e-5)
    assert table.loc[1, "p_value"] == pytest.approx(stats.f.sf(f, 1, 20), rel=1e-4)
    assert list(table["df_resid"]) == [21, 20]


def test_aic_uses_drcs_gaussian_log_likelihood(ll4):
    n = 24
    loglik = -n / 2 * (np.log(2 * np.pi) + np.log(ll4.rss / n) + 1)
    assert ll4.loglik == pytest.approx(loglik, rel=1e-12)
    assert ll4.aic == pytest.approx(-2 * loglik + 2 * 5, rel=1e-12)


def test_summary_report_names_both_conventions(ll4):
    text = str(ll4)
    for word in ("LL.4", "observed Hessian", "Prism names", "HillSlope", "ED50", "Flags: none"):
        assert word in text


def test_ll5_drc_standard_errors_come_from_a_finite_difference_hessian(ryegrass):
    """Why LL.5 SEs differ by ~2e-3: drc's are optim's numerical Hessian, not another convention.

    The same formula, vcov = (H/2)^-1 RSS/(n - p), with H by central differences of
    a central-difference gradient (step 1e-3, optim's default ndeps) at drc's
    published point reproduces drc's published SEs to 1e-3; our exact Hessian there
    differs by ~2.5e-3 because this fit is nearly redundant (small Hessian errors
    are amplified when it is inverted).
    """
    x, y = ryegrass["conc"].to_numpy(), ryegrass["rootl"].to_numpy()
    m = get_model("LL.5")
    p = np.array([DRC_LL5[n][0] for n in m.param_names])
    se_drc = np.array([DRC_LL5[n][1] for n in m.param_names])

    def rss(q):
        return float(np.sum((y - m.predict(x, *q)) ** 2))

    eps = 1e-3 * np.eye(5)
    grad = lambda q: np.array([(rss(q + e) - rss(q - e)) / 2e-3 for e in eps])  # noqa: E731
    H = np.array([(grad(p + e) - grad(p - e)) / 2e-3 for e in eps])
    H = (H + H.T) / 2
    se_fd = np.sqrt(np.diag(np.linalg.inv(H / 2) * rss(p) / (y.size - 5)))
    np.testing.assert_allclose(se_fd, se_drc, rtol=1e-3)
