"""General nonlinear least-squares engine: fit, observed-Hessian and Gauss-Newton standard errors."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import stats
from scipy.optimize import least_squares

from ._report import format_table

__all__ = ["fit_curve", "CurveFit", "numerical_jacobian"]

_EPS = np.finfo(float).eps
_TOL = 1e-15  # MINPACK refuses tolerances below machine epsilon (2.2e-16)


# ---------------------------------------------------------------- derivatives
def _steps(theta, power):
    theta = np.asarray(theta, dtype=float)
    scale = np.where(np.abs(theta) > 0, np.abs(theta), 1.0)
    return _EPS**power * scale


def numerical_jacobian(fun, theta):
    """Jacobian of a vector function by a five-point central stencil (error O(h^4)).

    Steps are relative to each parameter (``eps**0.2 * |theta_j|``), which keeps
    small parameters such as NIST Misra1a's b2 = 5.5e-4 accurate to ~1e-11.
    """
    theta = np.asarray(theta, dtype=float)
    h = _steps(theta, 0.2)
    cols = []
    for j in range(theta.size):
        def at(k):
            t = theta.copy()
            t[j] += k * h[j]
            return np.asarray(fun(t), dtype=float)
        cols.append((-at(2) + 8 * at(1) - 8 * at(-1) + at(-2)) / (12 * h[j]))
    return np.stack(cols, axis=-1)


def _residual_curvature(jac, theta, rho):
    """S = sum_i rho_i * Hessian(rho_i), from central differences of the Jacobian."""
    theta = np.asarray(theta, dtype=float)
    h = _steps(theta, 0.25)
    p = theta.size
    s = np.empty((p, p))
    for k in range(p):
        tp, tm = theta.copy(), theta.copy()
        tp[k] += h[k]
        tm[k] -= h[k]
        djk = (np.asarray(jac(tp)) - np.asarray(jac(tm))) / (2 * h[k])  # (n, p): d2 rho / d theta_j d theta_k
        s[:, k] = rho @ djk
    return 0.5 * (s + s.T)


# ------------------------------------------------------------------- solving
@dataclass
class _Solution:
    x: np.ndarray
    cost: float
    converged: bool
    message: str
    nfev: int
    method: str


def _cost(resid, x):
    with np.errstate(all="ignore"):
        r = np.asarray(resid(x), dtype=float)
    c = 0.5 * float(r @ r)
    return c if np.isfinite(c) else np.inf


def _safe(fun):
    """Wrap a residual function so non-finite values become a large finite penalty."""
    def wrapped(x):
        with np.errstate(all="ignore"):
            r = np.asarray(fun(x), dtype=float)
        if not np.all(np.isfinite(r)):
            r = np.where(np.isfinite(r), r, 1e150)
        return r
    return wrapped


def _safe_jac(jac):
    def wrapped(x):
        with np.errstate(all="ignore"):
            j = np.asarray(jac(x), dtype=float)
        return np.where(np.isfinite(j), j, 0.0)
    return wrapped


def _polish(resid, jac, x, cost, max_iter=30):
    """Gauss-Newton steps (SVD least squares, step halving) to squeeze out the last digits.

    Returns ``x, cost, step_ratio``: ``step_ratio`` is the largest |Gauss-Newton step|
    relative to |x| at the returned point (inf when the Jacobian there is rank
    deficient or not finite), the convergence measure used by :func:`minimise`.
    """
    ratio = np.inf
    for _ in range(max_iter):
        with np.errstate(all="ignore"):
            r = np.asarray(resid(x), dtype=float)
            j = np.asarray(jac(x), dtype=float)
        if not (np.all(np.isfinite(r)) and np.all(np.isfinite(j))):
            return x, cost, np.inf
        step, _, rank, sv = np.linalg.lstsq(j, -r, rcond=None)
        full_rank = rank == j.shape[1] and sv[-1] > sv[0] * 1e-13
        ratio = (float(np.max(np.abs(step) / np.maximum(np.abs(x), 1e-8))) if full_rank else np.inf)
        improved = False
        for _half in range(4):
            trial = x + step
            c = _cost(resid, trial)
            if c < cost:
                improved = True
                break
            step = step / 2
        if not improved:
            return x, cost, ratio  # the step at x itself was measured above
        rel = np.max(np.abs(trial - x) / np.maximum(np.abs(x), 1e-300))
        x, cost = trial, c
        if rel < 1e-15:
            return x, cost, ratio  # a step this small leaves the measure unchanged
    return x, cost, _gn_step_ratio(resid, jac, x)


def _gn_step_ratio(resid, jac, x):
    """Largest |Gauss-Newton step| / |x| from x; inf if the Jacobian is rank deficient."""
    with np.errstate(all="ignore"):
        r = np.asarray(resid(x), dtype=float)
        j = np.asarray(jac(x), dtype=float)
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(j))):
        return np.inf
    step, _, rank, sv = np.linalg.lstsq(j, -r, rcond=None)
    if rank < j.shape[1] or sv[-1] <= sv[0] * 1e-13:
        return np.inf
    return float(np.max(np.abs(step) / np.maximum(np.abs(x), 1e-8)))


def minimise(resid, jac, p0, *, lower=None, upper=None, methods=("lm", "trf"),
             max_nfev=2000, stop_early=False):
    """Minimise 0.5*||resid(x)||^2 from ``p0``; best of several trust-region solvers, then polished.

    Parameters
    ----------
    resid, jac : callable
        Weighted residual vector and its Jacobian.
    methods : sequence of str
        scipy ``least_squares`` methods tried in order; ``"lm"`` (MINPACK
        Levenberg-Marquardt) is skipped when bounds are given.
    stop_early : bool
        Stop after the first method whose solution passes the convergence check
        (a negligible Gauss-Newton step with a full-rank Jacobian).

    Notes
    -----
    A solution counts as converged when its solver reports success and, after
    polishing, the Jacobian has full rank and a Gauss-Newton step changes no
    parameter by more than 1e-4 of its value (bounded fits: the solver's word).
    """
    p0 = np.asarray(p0, dtype=float)
    bounded = lower is not None or upper is not None
    lo = np.full(p0.size, -np.inf) if lower is None else np.asarray(lower, float)
    hi = np.full(p0.size, np.inf) if upper is None else np.asarray(upper, float)
    r_safe, j_safe = _safe(resid), _safe_jac(jac)
    best = None
    for method in methods:
        if bounded and method == "lm":
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = least_squares(r_safe, np.clip(p0, lo, hi), jac=j_safe, method=method,
                                    bounds=(lo, hi), x_scale="jac", ftol=_TOL, xtol=_TOL,
                                    gtol=_TOL, max_nfev=max_nfev)
        except (ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:
            cand = _Solution(p0, np.inf, False, f"{method}: {exc}", 0, method)
            ratio = np.inf
        else:
            x, cost = res.x, _cost(resid, res.x)
            ratio = 0.0
            if not bounded:
                x, cost, ratio = _polish(resid, jac, x, cost)
            ok = res.status > 0 and np.isfinite(cost)
            cand = _Solution(x, cost, ok, f"{method}: {res.message}", res.nfev, method)
        if best is None or cand.cost < best.cost * (1 - 1e-12) or (
                not best.converged and cand.converged and cand.cost <= best.cost * (1 + 1e-12)):
            best, best_ratio = cand, ratio
        if stop_early and best.converged and np.isfinite(best.cost) and best_ratio <= 1e-6:
            break
    if best.converged and best_ratio > 1e-4:
        best.converged = False
        best.message += (" (the Jacobian is rank-deficient or a Gauss-Newton step is not "
                         "negligible at the solution)")
    return best


# --------------------------------------------------------------- statistics
def covariances(resid, jac, theta, df_resid, curvature=None):
    """Observed-Hessian (drc) and Gauss-Newton (NIST) covariance matrices at ``theta``.

    ``curvature(theta, rho)``, if given, returns sum_i rho_i Hessian(rho_i) (the
    default differentiates ``jac`` numerically). Returns ``cov_hessian,
    cov_gauss_newton, jacobian, rss``; a matrix that cannot be inverted (or is not
    positive definite) comes back as NaN.
    """
    with np.errstate(all="ignore"):  # degenerate fits overflow here; they come back as NaN
        rho = np.asarray(resid(theta), dtype=float)
        j = np.asarray(jac(theta), dtype=float)
        rss = float(rho @ rho)
        s2 = rss / df_resid if df_resid > 0 else np.nan
        jtj = j.T @ j
        curv = _residual_curvature(jac, theta, rho) if curvature is None else curvature(theta, rho)
        half_h = jtj + curv
        return _inverse_pd(half_h) * s2, _inverse_pd(jtj) * s2, j, rss


def _inverse_pd(a):
    p = a.shape[0]
    if not np.all(np.isfinite(a)):
        return np.full((p, p), np.nan)
    d = np.sqrt(np.abs(np.diag(a)))
    if np.any(d == 0):
        return np.full((p, p), np.nan)
    scaled = a / np.outer(d, d)  # equilibrate before inverting
    try:
        w = np.linalg.eigvalsh(scaled)
        if w[0] <= w[-1] * 1e-14:
            return np.full((p, p), np.nan)
        inv = np.linalg.inv(scaled)
    except np.linalg.LinAlgError:
        return np.full((p, p), np.nan)
    return inv / np.outer(d, d)


@lru_cache(maxsize=256)
def t_quantile(level, df):
    """Two-sided t quantile for a ``level`` confidence interval on ``df`` degrees of freedom."""
    return float(stats.t.ppf(0.5 + level / 2, df)) if df > 0 else np.nan


def dependency(cov):
    """Prism's parameter dependency, 1 - 1/(C_ii (C^-1)_ii), per parameter (NaN if undefined)."""
    p = cov.shape[0]
    if not np.all(np.isfinite(cov)):
        return np.full(p, np.nan)
    try:
        inv = np.linalg.inv(cov)
    except np.linalg.LinAlgError:
        return np.full(p, np.nan)
    with np.errstate(all="ignore"):
        dep = 1.0 - 1.0 / (np.diag(cov) * np.diag(inv))
    return np.clip(dep, 0.0, 1.0)


# -------------------------------------------------------------------- result
@dataclass
class CurveFit:
    """Result of :func:`fit_curve`: estimates, both kinds of standard error, fit statistics.

    Attributes
    ----------
    estimates : ndarray
        Least-squares estimates in the order of ``p0``.
    se_hessian : ndarray
        Standard errors from the observed Hessian of the residual sum of squares,
        vcov = (H/2)^-1 * RSS/(n - p) (R drc's convention).
    se_gauss_newton : ndarray
        Standard errors from the Gauss-Newton approximation, vcov = (J'J)^-1 * s^2
        (NIST StRD's certified values, R nls, scipy curve_fit).
    rss : float
        Residual sum of squares (weighted when weights are given).
    df_resid : int
        Residual degrees of freedom, n - p.
    sigma : float
        Residual standard error sqrt(rss / df_resid).
    converged : bool
        False when no solver reached a stationary point with a full-rank Jacobian.
    """

    param_names: list
    estimates: np.ndarray
    se_hessian: np.ndarray
    se_gauss_newton: np.ndarray
    cov_hessian: np.ndarray
    cov_gauss_newton: np.ndarray
    rss: float
    n_obs: int
    df_resid: int
    converged: bool
    message: str
    method: str
    nfev: int
    fitted: np.ndarray
    residuals: np.ndarray
    level: float = 0.95
    flags: list = field(default_factory=list)

    @property
    def sigma(self):
        return float(np.sqrt(self.rss / self.df_resid)) if self.df_resid > 0 else np.nan

    def conf_int(self, level=None, se="hessian"):
        """t-based confidence limits ``(low, high)`` with the named standard error."""
        level = self.level if level is None else level
        s = self.se_hessian if se == "hessian" else self.se_gauss_newton
        q = t_quantile(level, self.df_resid)
        return self.estimates - q * s, self.estimates + q * s

    @property
    def ci_low(self):
        return self.conf_int()[0]

    @property
    def ci_high(self):
        return self.conf_int()[1]

    def to_frame(self):
        """Tidy table: one row per parameter, both standard errors, t-based CI (observed Hessian)."""
        lo, hi = self.conf_int()
        return pd.DataFrame({
            "estimate": self.estimates, "se_hessian": self.se_hessian,
            "se_gauss_newton": self.se_gauss_newton, "ci_low": lo, "ci_high": hi,
        }, index=pd.Index(self.param_names, name="parameter"))

    def summary(self):
        lines = [
            "Nonlinear least-squares fit",
            f"  solver: {self.method} ({'converged' if self.converged else 'NOT CONVERGED'}; "
            f"{self.nfev} evaluations)",
            f"  observations: {self.n_obs}   parameters: {len(self.estimates)}   "
            f"residual df: {self.df_resid}",
            f"  residual sum of squares: {self.rss:.10g}   residual SE: {self.sigma:.6g}",
            "",
            f"Parameters ({int(self.level * 100)} % CI, t on {self.df_resid} df, observed-Hessian SE):",
            format_table(self.to_frame()),
        ]
        if self.flags:
            lines += ["", "Flags (reasons not to trust this fit):"] + [f"  - {f}" for f in self.flags]
        return "\n".join(lines)

    __str__ = summary

    def __repr__(self):
        est = ", ".join(f"{n}={v:.6g}" for n, v in zip(self.param_names, self.estimates))
        return f"<CurveFit {est}; rss={self.rss:.6g}; converged={self.converged}>"


def fit_curve(f, x, y, p0, *, jac=None, weights=None, bounds=None, param_names=None,
              level=0.95, max_nfev=4000):
    """Fit any model ``y ~ f(x, *params)`` by nonlinear least squares.

    Parameters
    ----------
    f : callable
        ``f(x, *params)`` returning an array shaped like ``y``.
    x : array_like
        Predictor(s), passed to ``f`` unchanged.
    y : array_like
        Observed responses (1-D, finite).
    p0 : sequence of float
        Starting values; results come back in this order.
    jac : callable, optional
        ``jac(x, *params)`` -> (n, p) analytic Jacobian. Default: five-point
        central differences with relative steps.
    weights : array_like, optional
        Non-negative weights multiplying the squared residuals (inverse variances,
        as in R's ``nls``/``lm``). Zero-weight points do not count towards n.
    bounds : (lower, upper), optional
        Box constraints (then only the trust-region-reflective solver is used).
    param_names : list of str, optional
        Labels for the report (default ``b1, b2, ...`` as NIST numbers them).
    level : float
        Confidence level of the t-based intervals.

    Returns
    -------
    CurveFit
        ``.estimates``, ``.se_hessian``, ``.se_gauss_newton``, ``.rss`` and more.

    Notes
    -----
    MINPACK Levenberg-Marquardt (scaled by the Jacobian's column norms) and a
    trust-region-reflective solver both start from ``p0``; the lower residual sum
    of squares wins and is polished by Gauss-Newton steps with step halving until
    the parameters stop changing in the 15th digit. The fit is flagged as not
    converged when the final Jacobian is rank deficient or a Gauss-Newton step is
    still not negligible.

    Raises
    ------
    ValueError
        Non-finite data, fewer observations than parameters, a model that does not
        return finite values of the right shape at ``p0``.
    """
    p0 = np.atleast_1d(np.asarray(p0, dtype=float))
    if p0.ndim != 1 or p0.size == 0 or not np.all(np.isfinite(p0)):
        raise ValueError("p0 must be a non-empty 1-D sequence of finite numbers")
    y = np.asarray(y, dtype=float).ravel()
    x = np.asarray(x, dtype=float)
    if not np.all(np.isfinite(y)):
        bad = np.flatnonzero(~np.isfinite(y))[:5].tolist()
        raise ValueError(f"y contains NaN or infinite values (positions {bad}); drop or fix them first")
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or infinite values; drop or fix them first")
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=float).ravel()
    if w.shape != y.shape or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite, non-negative and one per observation")
    n_obs = int(np.count_nonzero(w > 0))
    if n_obs < p0.size:
        raise ValueError(f"{n_obs} observations cannot determine {p0.size} parameters")
    sw = np.sqrt(w)

    def model(theta):
        out = np.asarray(f(x, *theta), dtype=float)
        return np.broadcast_to(out, y.shape) if out.size in (1, y.size) else out

    with np.errstate(all="ignore"):
        try:
            start = model(p0)
        except Exception as exc:  # the user's model failed: report it plainly
            raise ValueError(f"the model cannot be evaluated at p0: {exc}") from exc
    if start.shape != y.shape:
        raise ValueError(f"the model returns shape {start.shape}, but y has shape {y.shape}")
    if not np.all(np.isfinite(start[w > 0])):
        raise ValueError("the model returns non-finite values at p0; choose other starting values")

    def resid(theta):
        return sw * (model(theta) - y)

    if jac is None:
        def jac_r(theta):
            return numerical_jacobian(resid, theta)
    else:
        def jac_r(theta):
            return sw[:, None] * np.asarray(jac(x, *theta), dtype=float).reshape(y.size, p0.size)

    lower = upper = None
    if bounds is not None:
        lower, upper = (np.broadcast_to(np.asarray(b, float), p0.shape) for b in bounds)
    sol = minimise(resid, jac_r, p0, lower=lower, upper=upper, max_nfev=max_nfev)
    theta = sol.x
    df = n_obs - p0.size
    cov_h, cov_gn, _, rss = covariances(resid, jac_r, theta, df)
    names = list(param_names) if param_names is not None else [f"b{i + 1}" for i in range(p0.size)]
    fitted = model(theta)
    flags = []
    if not sol.converged:
        flags.append(f"not converged: {sol.message}")
    if df == 0:
        flags.append("no residual degrees of freedom: standard errors and CIs are undefined")
    elif not np.all(np.isfinite(np.diag(cov_h))):
        flags.append("singular Hessian: the parameters are not all identifiable from these data")
    return CurveFit(
        param_names=names, estimates=theta,
        se_hessian=np.sqrt(np.diag(cov_h)), se_gauss_newton=np.sqrt(np.diag(cov_gn)),
        cov_hessian=cov_h, cov_gauss_newton=cov_gn, rss=rss, n_obs=n_obs, df_resid=df,
        converged=sol.converged, message=sol.message, method=sol.method, nfev=sol.nfev,
        fitted=fitted, residuals=y - fitted, level=level, flags=flags,
    )
