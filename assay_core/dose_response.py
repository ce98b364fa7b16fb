"""Dose-response fits the way R drc does them, reported in drc's and Prism's names, with flags."""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats

from ._design import (check_identifiable, clean_dose_response, parse_fixed,
                      single_curve_design, single_curve_starts)
from ._report import format_flags, format_table
from .curves import get_model
from .engine import dependency, t_quantile
from .flags import curve_facts, curve_flags

__all__ = ["fit_dose_response", "DoseResponseFit", "compare_models", "lack_of_fit"]

_COLS = ["estimate", "se", "ci_low", "ci_high"]
_H3 = np.finfo(float).eps ** (1 / 3)


def _perturbed(theta):
    """Rows theta, theta + h_j e_j, theta - h_j e_j (relative central-difference steps) and h."""
    theta = np.asarray(theta, float)
    q = theta.size
    h = _H3 * np.where(np.abs(theta) > 0, np.abs(theta), 1.0)
    rows = np.repeat(theta[None, :], 2 * q + 1, axis=0)
    rows[1 + np.arange(q), np.arange(q)] += h
    rows[1 + q + np.arange(q), np.arange(q)] -= h
    return rows, h


def _value_and_gradient(fun_many, theta):
    rows, h = _perturbed(theta)
    vals = np.asarray(fun_many(rows), float)
    q = h.size
    with np.errstate(all="ignore"):  # inf - inf where the function leaves its domain
        return float(vals[0]), (vals[1:q + 1] - vals[q + 1:]) / (2 * h)


def _gradient(fun, theta):
    """Central-difference gradient of a scalar function of the parameter vector."""
    return _value_and_gradient(lambda rows: [fun(r) for r in rows], theta)[1]


def delta_method_many(fun, theta, cov):
    """Estimate and delta-method SE of ``fun`` at ``theta``; ``fun`` maps (M, q) rows to (M,) values."""
    est, g = _value_and_gradient(fun, theta)
    if not np.isfinite(est) or not np.all(np.isfinite(cov)):
        return est, np.nan
    var = float(g @ cov @ g)
    return est, (np.sqrt(var) if var >= 0 and np.isfinite(var) else np.nan)


def delta_method(fun, theta, cov):
    """Estimate and delta-method standard error of a scalar ``fun(theta)``."""
    return delta_method_many(lambda rows: [fun(r) for r in rows], theta, cov)


class _CurveFitBase:
    """What single- and multi-curve fits share: parameters, covariance, effective doses."""

    def __init__(self, design, theta, solution, cov_h, cov_gn, rss, df, level, n_dropped, bounds):
        self.design = design
        self.model = design.model
        self.theta = theta
        self.solution = solution
        self.cov_hessian = cov_h
        self.cov_gauss_newton = cov_gn
        self.rss = rss
        self.df_resid = df
        self.level = level
        self.n_dropped = n_dropped
        self.bounds = bounds or {}
        self.converged = bool(solution.converged)
        self.message = solution.message

    # ----------------------------------------------------------- statistics
    @property
    def n_obs(self):
        return int(self.design.dose.size)

    @property
    def residual_se(self):
        """Residual standard error sqrt(RSS / df) (drc's 'Residual standard error')."""
        return float(np.sqrt(self.rss / self.df_resid)) if self.df_resid > 0 else np.nan

    sigma = residual_se

    @property
    def loglik(self):
        """Gaussian log-likelihood at the estimates (drc's logLik; weights enter as known precisions)."""
        n = self.n_obs
        w = self.design.weights
        return float(-0.5 * n * (np.log(2 * np.pi) + np.log(self.rss / n) + 1) + 0.5 * np.sum(np.log(w)))

    @property
    def aic(self):
        """Akaike information criterion, -2 logLik + 2 (free parameters + 1 for the variance), as drc."""
        return -2 * self.loglik + 2 * (self.design.n_free + 1)

    @property
    def bic(self):
        return -2 * self.loglik + np.log(self.n_obs) * (self.design.n_free + 1)

    def _t(self, level=None):
        return t_quantile(self.level if level is None else level, self.df_resid)

    @property
    def fitted(self):
        return self.design.predict(self.theta)

    @property
    def residuals(self):
        return self.design.response - self.fitted

    def _coef_row(self, theta, k=0):
        return self.design.matrix(theta)[k]

    def _ed_fun(self, p, type, k):
        model = self.model

        def fun(theta):
            return float(model.effective_dose(p, *self._coef_row(theta, k), kind=type))
        return fun

    def _ed(self, p, type="relative", level=None, k=0):
        if type == "relative" and not 0 < p < 100:
            raise ValueError(f"relative effect level must be between 0 and 100 (exclusive), got {p}")
        model, d = self.model, self.design

        def eds(thetas):
            P = np.repeat(d.values[k][None, :], thetas.shape[0], axis=0)
            mask = d.index[k] >= 0
            P[:, mask] = thetas[:, d.index[k][mask]]
            with np.errstate(all="ignore"):
                return model.effective_dose(p, *P.T, kind=type)

        est, se = delta_method_many(eds, self.theta, self.cov_hessian)
        q = self._t(level)
        return {"estimate": float(est), "se": float(se), "ci_low": float(est - q * se),
                "ci_high": float(est + q * se)}

    def _direction(self, k=0):
        row = self._coef_row(self.theta, k)
        c, d = row[1], row[2]
        g0 = float(self.model.zero_dose_fraction(row[0]))
        a0 = c + (d - c) * g0
        a_inf = c + (d - c) * (1 - g0)
        return ("decreasing" if a_inf < a0 else "increasing"), g0

    def _free_names(self, k):
        return {n for n, i in zip(self.model.param_names, self.design.index[k]) if i >= 0}

    def _global_facts(self):
        """Convergence, identifiability and dependency, which belong to the whole fit."""
        se_ok = bool(np.all(np.isfinite(np.diag(self.cov_hessian))))
        dep = dependency(self.cov_hessian)
        if np.any(np.isfinite(dep)):
            i = int(np.nanargmax(dep))
            max_dep, dep_name = float(dep[i]), self._free_label(i)
        else:
            max_dep, dep_name = np.nan, ""
        return dict(converged=self.converged, message=self.message, df=self.df_resid,
                    se_defined=se_ok, nonfinite=not np.all(np.isfinite(self.theta)),
                    max_dependency=max_dep, dependency_param=dep_name)

    def _free_label(self, i):
        p, c = self.design.free_labels[i]
        return p if c is None else f"{p}:{c}"

    def _facts(self, k, include_global=True):
        """Everything :func:`curve_flags` needs about curve ``k``."""
        d = self.design
        sel = d.curve == k
        dose, y, w = d.dose[sel], d.response[sel], d.weights[sel]
        row = self._coef_row(self.theta, k)
        free = self._free_names(k)
        if np.all(np.isfinite(row)):
            ed = self._ed(50, k=k)
        else:
            ed = {"estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan}
        facts = curve_facts(self.model, row[None, :], free, dose, y[None, :], w[None, :],
                            self.fitted[sel][None, :], np.array([ed["estimate"]]),
                            (np.array([ed["ci_low"]]), np.array([ed["ci_high"]])), len(free))[0]
        for n, v in zip(self.model.param_names, row):
            if n in self.bounds and n in free:
                lo, hi = self.bounds[n]
                tol = 1e-6 * max(abs(v), 1e-12)
                if (lo is not None and v - lo <= tol) or (hi is not None and hi - v <= tol):
                    facts.at_bounds.append(n)
        if include_global:
            for key, value in self._global_facts().items():
                setattr(facts, key, value)
        return facts


class DoseResponseFit(_CurveFitBase):
    """One fitted dose-response curve (returned by :func:`fit_dose_response`).

    Attributes
    ----------
    params : DataFrame
        Free parameters in drc's names (index ``b, c, d, e`` [``f``]; fixed ones
        are not listed, as in drc), columns ``estimate, se, ci_low, ci_high``; se from
        the observed Hessian (drc), CI = estimate +/- t(df) se.
    prism : DataFrame
        The same fit in GraphPad Prism's names: Bottom, Top, LogIC50 or LogEC50,
        HillSlope (= -b), IC50/EC50 (CI back-transformed from the log scale, as
        Prism does), Span, and S (asymmetry) for LL.5. Fixed values have se NaN.
    se_gauss_newton : Series
        Gauss-Newton standard errors, (J'J)^-1 s^2 (NIST/nls convention).
    flags : list of str
        Reasons not to trust the fit; empty when sound.
    coef : dict
        All parameters including fixed ones.
    fixed : dict
        The fixed parameters (LL.3 implies ``c = 0``).
    rss, df_resid, residual_se, loglik, aic, bic, converged
        Fit statistics.
    """

    # ------------------------------------------------------------- tables
    @cached_property
    def coef(self):
        return dict(zip(self.model.param_names, map(float, self._coef_row(self.theta))))

    @property
    def fixed(self):
        names = self.model.param_names
        return {n: float(v) for n, v, i in zip(names, self.design.values[0], self.design.index[0]) if i < 0}

    @cached_property
    def params(self):
        se = np.sqrt(np.diag(self.cov_hessian))
        q = self._t()
        df = pd.DataFrame({"estimate": self.theta, "se": se, "ci_low": self.theta - q * se,
                           "ci_high": self.theta + q * se},
                          index=pd.Index(self.design.free_param, name="parameter"))
        return df

    @cached_property
    def se_gauss_newton(self):
        return pd.Series(np.sqrt(np.diag(self.cov_gauss_newton)),
                         index=pd.Index(self.design.free_param, name="parameter"),
                         name="se_gauss_newton")

    @cached_property
    def prism(self):
        return self._prism_table()

    def _prism_table(self):
        names = self.model.param_names
        idx = {n: i for i, n in enumerate(names)}
        free = set(self.design.free_param)
        direction, _ = self._direction()
        word = "IC50" if direction == "decreasing" else "EC50"
        q = self._t()

        def param(n):
            return lambda th: self._coef_row(th)[idx[n]]

        def ed50(th):
            return float(self.model.effective_dose(50, *self._coef_row(th)))

        rows = [("Bottom", param("c"), "c" in free), ("Top", param("d"), "d" in free),
                (f"Log{word}", lambda th: np.log10(ed50(th)), bool({"b", "e", "f"} & free))]
        if self.model.kind in ("ll", "ll5"):
            rows.append(("HillSlope", lambda th: -self._coef_row(th)[0], "b" in free))
        else:
            rows.append(("WeibullSlope", param("b"), "b" in free))
        if self.model.kind == "ll5":
            rows.append(("S", param("f"), "f" in free))
        rows.append((word, ed50, bool({"b", "e", "f"} & free)))
        rows.append(("Span", lambda th: self._coef_row(th)[idx["d"]] - self._coef_row(th)[idx["c"]],
                     bool({"c", "d"} & free)))
        out = {}
        self._prism_fixed = [label for label, _, is_free in rows if not is_free]
        for label, fun, is_free in rows:
            if is_free:
                est, se = delta_method(fun, self.theta, self.cov_hessian)
            else:
                est, se = float(fun(self.theta)), np.nan
            out[label] = [est, se, est - q * se, est + q * se]
        log_est, log_se = out[f"Log{word}"][:2]
        with np.errstate(over="ignore"):  # a limit past 1e308 is infinite: flagged 'ambiguous'
            out[word][2:] = [10 ** (log_est - q * log_se), 10 ** (log_est + q * log_se)]
        return pd.DataFrame.from_dict(out, orient="index", columns=_COLS).rename_axis("parameter")

    def _prism_display(self):
        """Prism table for printing: fixed values marked as such instead of NaN SEs."""
        self.prism  # noqa: B018  (computes the table and the list of fixed rows)
        shown = self.prism.astype(object)
        for name in self._prism_fixed:
            shown.loc[name, ["se", "ci_low", "ci_high"]] = "(fixed)"
        return shown

    def ed(self, p, type="relative", level=None):
        """Effective dose ED``p`` (IC``p``) with a delta-method standard error and t CI.

        Parameters
        ----------
        p : float
            ``type="relative"``: percent of the way from the control (dose 0)
            asymptote to the high-dose asymptote (drc's default, so ED10 of an
            inhibition curve is a 10 % inhibition). ``type="absolute"``: a response
            value; returns the dose whose fitted response equals it.
        level : float, optional
            Confidence level (default: the fit's, 0.95).

        Returns
        -------
        dict
            ``estimate, se, ci_low, ci_high`` (CI = estimate +/- t(df) se, as drc).
        """
        return self._ed(p, type=type, level=level)

    def ed_table(self, levels=(10, 50, 90), type="relative", level=None):
        """Tidy ED table: one row per level, columns ``estimate, se, ci_low, ci_high``."""
        rows = {f"ED{p:g}": self.ed(p, type=type, level=level) for p in levels}
        return pd.DataFrame.from_dict(rows, orient="index", columns=_COLS).rename_axis("ed")

    def predict(self, dose):
        """Fitted response at ``dose`` (0 gives the control asymptote)."""
        return self.model.predict(np.asarray(dose, float), *self._coef_row(self.theta))

    @cached_property
    def dependency(self):
        """Prism's parameter dependency for each free parameter (near 1 = redundant)."""
        return pd.Series(dependency(self.cov_hessian), index=self.design.free_param, name="dependency")

    def lack_of_fit(self):
        """Lack-of-fit F test against one mean per dose (drc's ``modelFit``); None without replicates."""
        return lack_of_fit(self)

    def coef_table(self):
        """Parameters with both SEs, t value and p value (drc's ``summary`` table)."""
        t = self.params.copy()
        t["se_gauss_newton"] = self.se_gauss_newton
        t["t_value"] = t["estimate"] / t["se"]
        t["p_value"] = 2 * stats.t.sf(np.abs(t["t_value"]), self.df_resid) if self.df_resid > 0 else np.nan
        return t

    def to_row(self):
        """The fit as one flat dict (a row of a results table).

        drc parameters and ``se_<name>``, Prism's Bottom, Top, HillSlope and Span,
        ED50 with delta-method CI, ``log10_ed50`` (Prism's LogIC50/LogEC50),
        ``direction``, residual SE, df, AIC, convergence, ``n_flags`` and ``flags``.
        """
        row = {"model": self.model.name}
        for name, value in self.coef.items():
            row[name] = value
            row[f"se_{name}"] = self.params.loc[name, "se"] if name in self.params.index else np.nan
        prism = self.prism["estimate"]
        for name in ("Bottom", "Top", "HillSlope", "Span"):
            if name in prism.index:
                row[name] = prism[name]
        ed = self.ed(50)
        row.update(ed50=ed["estimate"], ed50_se=ed["se"], ed50_ci_low=ed["ci_low"],
                   ed50_ci_high=ed["ci_high"], log10_ed50=np.log10(ed["estimate"]),
                   direction=self._direction()[0], residual_se=self.residual_se,
                   df_resid=self.df_resid, aic=self.aic, converged=self.converged,
                   n_flags=len(self.flags), flags=" | ".join(self.flags))
        return row

    def to_frame(self):
        """One tidy row per parameter (drc and Prism tables stacked), for CSV export."""
        a = self.coef_table().reset_index()
        a.insert(0, "naming", "drc")
        b = self.prism.reset_index()
        b.insert(0, "naming", "prism")
        out = pd.concat([a, b], ignore_index=True)
        out.insert(0, "model", self.model.name)
        return out

    # -------------------------------------------------------------- flags
    @cached_property
    def flags(self):
        return curve_flags(self._facts(0))

    # -------------------------------------------------------------- report
    def summary(self):
        d = self.design
        n0 = int(np.count_nonzero(d.dose == 0))
        fixed = ", ".join(f"{k} = {v:g}" for k, v in self.fixed.items()) or "none"
        lines = [
            f"Dose-response fit: {self.model.name}   {self.model.description}",
            f"  {self.n_obs} observations ({n0} at dose 0), {np.unique(d.dose).size} dose levels"
            + (f", {self.n_dropped} missing dropped" if self.n_dropped else ""),
            f"  free parameters: {d.n_free}   fixed: {fixed}   residual df: {self.df_resid}",
            f"  residual SE: {self.residual_se:.6g}   RSS: {self.rss:.6g}   "
            f"logLik: {self.loglik:.4f}   AIC: {self.aic:.4f}",
            f"  optimiser: {self.solution.method}, "
            f"{'converged' if self.converged else 'NOT CONVERGED'}",
            "",
            f"Parameters (drc names; SE from the observed Hessian; {self.level:.0%} t CI on "
            f"{self.df_resid} df):",
            format_table(self.coef_table()),
            "",
            "Prism names:",
            format_table(self._prism_display()),
            "",
            "Effective doses (relative to the control asymptote, delta method):",
            format_table(self.ed_table()),
        ]
        lof = self.lack_of_fit()
        if lof is not None:
            r = lof.iloc[0]
            lines += ["", f"Lack-of-fit F test (vs one mean per dose): F({r['df_lack_of_fit']:g}, "
                      f"{r['df_pure_error']:g}) = {r['F']:.4g}, p = {r['p_value']:.4g}"]
        lines += [""]
        lines += format_flags(self.flags)
        return "\n".join(lines)

    def __str__(self):
        return self.summary()

    def __repr__(self):
        est = ", ".join(f"{k}={v:.5g}" for k, v in self.coef.items())
        return f"<DoseResponseFit {self.model.name}: {est}; flags={len(self.flags)}>"

    def plot(self, ax=None, **kwargs):
        """Data and fitted curve on a log dose axis (matplotlib, imported on first use)."""
        from .plotting import plot_dose_response
        return plot_dose_response(self, ax=ax, **kwargs)


def flat_p_value(rss_flat, rss, n_free, n_obs):
    """F test p value of a fitted curve against a horizontal line (NaN when undefined)."""
    df2 = n_obs - n_free
    df1 = n_free - 1
    if df1 <= 0 or df2 <= 0 or not np.isfinite(rss):
        return np.nan
    if rss <= 0:
        return 0.0 if rss_flat > 0 else np.nan
    f = max((rss_flat - rss) / df1, 0.0) / (rss / df2)
    return float(stats.f.sf(f, df1, df2))


def lack_of_fit(fit):
    """Lack-of-fit F test of a fitted curve against the one-mean-per-dose ANOVA model.

    Returns a one-row DataFrame (``rss_model, rss_pure_error, df_lack_of_fit,
    df_pure_error, F, p_value``) or None when there are no replicates or no spare
    dose levels. A small p value says the curve shape does not describe the dose
    means (drc's ``modelFit``).
    """
    d = fit.design
    keys = pd.MultiIndex.from_arrays([d.curve, d.dose]) if not d.single else pd.Index(d.dose)
    codes, uniq = pd.factorize(keys)
    groups = len(uniq)
    w, y = d.weights, d.response
    sw = np.bincount(codes, w)
    mean = np.bincount(codes, w * y) / sw
    rss_pure = float(np.sum(w * (y - mean[codes]) ** 2))
    df_pure = fit.n_obs - groups
    df_lof = groups - d.n_free
    if df_pure <= 0 or df_lof <= 0 or rss_pure <= 0:
        return None
    f = ((fit.rss - rss_pure) / df_lof) / (rss_pure / df_pure)
    return pd.DataFrame([{
        "test": "lack-of-fit", "rss_model": fit.rss, "rss_pure_error": rss_pure,
        "df_lack_of_fit": df_lof, "df_pure_error": df_pure, "F": f,
        "p_value": float(stats.f.sf(f, df_lof, df_pure)),
    }])


def compare_models(reduced, full):
    """F test between nested fits (R's ``anova(reduced, full)``), e.g. LL.3 inside LL.4.

    Both fits must use the same data; ``reduced`` is the one with fewer free
    parameters. Returns a two-row DataFrame: ``model, df_resid, rss, df, F, p_value``.
    """
    if reduced.n_obs != full.n_obs:
        raise ValueError("nested models must be fitted to the same observations")
    if reduced.df_resid <= full.df_resid:
        reduced, full = full, reduced
    df = reduced.df_resid - full.df_resid
    if full.df_resid <= 0:
        raise ValueError("the larger model has no residual degrees of freedom")
    f = ((reduced.rss - full.rss) / df) / (full.rss / full.df_resid)
    p = float(stats.f.sf(f, df, full.df_resid))
    return pd.DataFrame({
        "model": [_label(reduced), _label(full)],
        "df_resid": [reduced.df_resid, full.df_resid],
        "rss": [reduced.rss, full.rss],
        "df": [np.nan, df], "F": [np.nan, f], "p_value": [np.nan, p],
    })


def _label(fit):
    shared = getattr(fit, "shared", None)
    base = fit.model.name
    if shared is not None:
        base += f" (shared: {', '.join(shared) or 'none'})"
    fixed = getattr(fit, "fixed", {})
    extra = {k: v for k, v in fixed.items() if k not in fit.model.implied_fixed}
    if extra:
        base += " [" + ", ".join(f"{k}={v:g}" for k, v in extra.items()) + "]"
    return base


def fit_dose_response(dose, response, model="LL.4", fixed=None, weights=None, *,
                      bounds=None, start=None, level=0.95, log_dose=False):
    """Fit a dose-response curve by least squares, as R drc's ``drm`` does.

    Parameters
    ----------
    dose : array_like
        Doses or concentrations (>= 0; 0 = vehicle, evaluated as the control
        asymptote). NaN marks a missing well (dropped and counted).
    response : array_like
        Responses, one per dose (replicate wells are separate rows).
    model : str
        ``"LL.4"`` (default), ``"LL.3"`` (LL.4 with c fixed at 0), ``"LL.5"``,
        ``"W1.4"`` or ``"W2.4"`` (drc's parameterisation, see :mod:`assay_core.curves`).
    fixed : dict, optional
        Parameter name -> value held constant, e.g. ``{"c": 0, "d": 100}``.
    weights : array_like, optional
        Non-negative weights multiplying the squared residuals (inverse
        variances). drc's own ``weights`` multiply the residuals before squaring:
        pass the square of those to reproduce a weighted drc fit.
    bounds : dict, optional
        Parameter name -> ``(low, high)`` (None = open), e.g. ``{"b": (0, None)}``.
    start : dict, optional
        Starting values by name; others come from the data (grid search with
        c and d solved exactly, then Levenberg-Marquardt).
    level : float
        Confidence level for all intervals (default 0.95).
    log_dose : bool
        Set when ``dose`` holds log10 concentrations (Prism's X); they are
        converted with 10**dose, so no vehicle (dose 0) wells can be given this way.

    Returns
    -------
    DoseResponseFit
        ``.params`` holds the *free* parameters only (as drc prints them: LL.3
        gives b, d, e); fixed values are in ``.fixed`` and ``.coef``. See the
        class for ``.prism``, ``.ed(p)``, ``.flags`` and the rest.

    Raises
    ------
    ValueError
        Infinite values, negative doses, no positive dose, or fewer distinct
        doses (or points) than free parameters.
    """
    m = get_model(model)
    if log_dose:
        dose = 10.0 ** np.asarray(dose, dtype=float)
    dose, response, w, _, n_dropped = clean_dose_response(dose, response, weights)
    fixed = parse_fixed(m, fixed)
    design = single_curve_design(m, dose, response, w, fixed)
    check_identifiable(m, dose, design.n_free)
    mirror_ok = not (bounds and {"b", "c", "d"} & set(bounds))
    starts, explore = single_curve_starts(design, fixed, mirror_ok=mirror_ok)
    if start:
        unknown = set(start) - set(m.param_names)
        if unknown:
            raise ValueError(f"unknown start parameter(s) {sorted(unknown)} for {m.name}")
        user = starts[0].copy()
        for j, n in enumerate(m.param_names):
            if n in start and n not in fixed:
                user[0, j] = float(start[n])
        starts = [user] + starts
        explore += 1
    if bounds:
        unknown = set(bounds) - set(m.param_names)
        if unknown:
            raise ValueError(f"unknown bound parameter(s) {sorted(unknown)} for {m.name}")
        starts = [_clip_start(s, m, bounds) for s in starts]
    theta, sol = design.fit(starts, bounds=bounds, explore=explore)
    if mirror_ok:
        theta = design.canonical(theta)
    cov_h, cov_gn, rss, df = design.statistics(theta)
    return DoseResponseFit(design, theta, sol, cov_h, cov_gn, rss, df, level, n_dropped, bounds)


def _clip_start(P, m, bounds):
    P = P.copy()
    for j, n in enumerate(m.param_names):
        if n in bounds:
            lo, hi = bounds[n]
            lo = -np.inf if lo is None else lo
            hi = np.inf if hi is None else hi
            P[:, j] = np.clip(P[:, j], lo, hi)
    return P
