"""Many dose-response curves on one dose layout (a plate screen), fitted together in vectorised form."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ._design import parse_fixed
from .curves import get_model
from .dose_response import fit_dose_response
from .flags import curve_facts, curve_flags
from .starting_values import grid_search

__all__ = ["fit_many"]

_EPS = np.finfo(float).eps
_LOG = ("e", "f")


class _Batch:
    """Internal-scale (ln e, ln f) evaluation of M curves sharing one dose vector."""

    def __init__(self, model, dose, Y, W, fixed):
        self.m = model
        self.names = model.param_names
        self.free = [n for n in self.names if n not in fixed]
        self.free_cols = [self.names.index(n) for n in self.free]
        self.base = np.array([fixed.get(n, np.nan) for n in self.names], float)
        self.log_cols = np.array([n in _LOG for n in self.names])
        self.lx, self.lxf = model.log_doses(dose)
        self.Y = np.where(W > 0, Y, 0.0)
        self.sw = np.sqrt(W)

    def full(self, phi, public=False):
        """(M, P) parameter matrix; internal scale (ln e, ln f) unless ``public``."""
        P = np.repeat(self.base[None, :], phi.shape[0], axis=0)
        if not public:
            P[:, self.log_cols] = np.log(P[:, self.log_cols])
        P[:, self.free_cols] = phi
        return P

    def evaluate(self, phi, idx, jac=False, public=False):
        """Weighted residuals (and Jacobian w.r.t. the free parameters) of curves ``idx``."""
        P = self.full(phi, public)
        col = [P[:, j:j + 1] for j in range(P.shape[1])]
        b, c, d, e = col[:4]
        with np.errstate(all="ignore"):
            le = np.log(e) if public else e
            f = (col[4] if public else np.exp(col[4])) if self.m.kind == "ll5" else None
            out = self.m.core(self.lx[None, :], self.lxf[None, :], b, c, d, le, f, jac=jac)
        val = out[0] if jac else out
        sw = self.sw[idx]
        r = sw * (val - self.Y[idx])
        if not jac:
            return r
        J = out[1]
        if public:
            J[..., 3] /= e
        elif self.m.kind == "ll5":
            J[..., 4] *= f
        return r, J[..., self.free_cols] * sw[..., None]


def _lm(batch, phi, max_iter=300):
    """Levenberg-Marquardt (Marquardt's diagonal scaling) on every curve at once."""
    M, q = phi.shape
    idx_all = np.arange(M)
    with np.errstate(all="ignore"):
        r, J = batch.evaluate(phi, idx_all, jac=True)
    cost = 0.5 * np.sum(r * r, axis=1)
    cost = np.where(np.isfinite(cost), cost, np.inf)
    lam = np.full(M, 1e-3)
    active = np.isfinite(cost)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        Ji, ri = J[idx], r[idx]
        A = np.einsum("mni,mnj->mij", Ji, Ji)
        g = np.einsum("mni,mn->mi", Ji, ri)
        D = np.diagonal(A, axis1=1, axis2=2)
        D = np.maximum(D, 1e-12 * np.max(D, axis=1, keepdims=True) + 1e-300)
        Aa = A + lam[idx, None, None] * (D[:, :, None] * np.eye(q))
        try:
            step = -np.linalg.solve(Aa, g[..., None])[..., 0]
        except np.linalg.LinAlgError:
            step = np.stack([-np.linalg.lstsq(a, gg, rcond=None)[0] for a, gg in zip(Aa, g)])
        trial = phi[idx] + step
        with np.errstate(all="ignore"):
            r_new, J_new = batch.evaluate(trial, idx, jac=True)
        c_new = 0.5 * np.sum(r_new * r_new, axis=1)
        ok = np.isfinite(c_new) & (c_new <= cost[idx]) & np.all(np.isfinite(J_new), axis=(1, 2))
        acc, rej = idx[ok], idx[~ok]
        rel_step = np.max(np.abs(step[ok]) / (np.abs(phi[acc]) + 1e-10), axis=1, initial=0.0)
        dec = (cost[acc] - c_new[ok]) / np.maximum(cost[acc], 1e-300)
        phi[acc], cost[acc] = trial[ok], c_new[ok]
        r[acc], J[acc] = r_new[ok], J_new[ok]
        lam[acc] = np.maximum(lam[acc] / 5, 1e-15)
        lam[rej] = lam[rej] * 8
        active[acc[(rel_step < 1e-12) | (dec < 1e-15)]] = False  # converged (or no progress)
        active[rej[lam[rej] > 1e16]] = False  # stuck: judged by the convergence check afterwards
    return phi, cost, r, J


def _gn_small(r, J, phi, tol=1e-4):
    """Converged: full-rank Jacobian and a negligible Gauss-Newton step (as the single-curve engine)."""
    M = phi.shape[0]
    out = np.zeros(M, bool)
    good = np.all(np.isfinite(J), axis=(1, 2)) & np.all(np.isfinite(r), axis=1)
    if not good.any():
        return out
    U, s, Vt = np.linalg.svd(J[good], full_matrices=False)
    rank_ok = s[:, -1] > s[:, 0] * 1e-13
    with np.errstate(all="ignore"):
        coef = np.einsum("mni,mn->mi", U, r[good]) / s
        step = -np.einsum("mji,mj->mi", Vt, coef)
        small = np.all(np.abs(step) <= tol * np.maximum(np.abs(phi[good]), 1e-8), axis=1)
    out[good] = rank_ok & small
    return out


def _inverse_pd(A):
    """Batched inverse of symmetric positive-definite matrices; NaN where not PD."""
    M, q, _ = A.shape
    out = np.full_like(A, np.nan)
    with np.errstate(all="ignore"):
        dg = np.sqrt(np.abs(np.diagonal(A, axis1=1, axis2=2)))
        ok = np.all(np.isfinite(A), axis=(1, 2)) & np.all(dg > 0, axis=1)
        if not ok.any():
            return out
        S = A[ok] / (dg[ok][:, :, None] * dg[ok][:, None, :])
        w = np.linalg.eigvalsh(S)
        pd_ok = w[:, 0] > w[:, -1] * 1e-14
        inv = np.full_like(S, np.nan)
        if pd_ok.any():
            inv[pd_ok] = np.linalg.inv(S[pd_ok])
        inv /= dg[ok][:, :, None] * dg[ok][:, None, :]
    out[ok] = inv
    return out


def _statistics(batch, theta, level):
    """Observed-Hessian and Gauss-Newton covariances, ED50 with delta-method CI, per curve."""
    M, q = theta.shape
    idx = np.arange(M)
    r, J = batch.evaluate(theta, idx, jac=True, public=True)
    n_obs = np.count_nonzero(batch.sw > 0, axis=1)
    df = n_obs - q
    rss = np.sum(r * r, axis=1)
    with np.errstate(all="ignore"):
        s2 = np.where(df > 0, rss / np.maximum(df, 1), np.nan)
    h = _EPS ** 0.25 * np.where(np.abs(theta) > 0, np.abs(theta), 1.0)
    S = np.empty((M, q, q))
    for k in range(q):
        tp, tm = theta.copy(), theta.copy()
        tp[:, k] += h[:, k]
        tm[:, k] -= h[:, k]
        with np.errstate(all="ignore"):
            _, Jp = batch.evaluate(tp, idx, jac=True, public=True)
            _, Jm = batch.evaluate(tm, idx, jac=True, public=True)
            S[:, :, k] = np.einsum("mn,mnj->mj", r, (Jp - Jm) / (2 * h[:, k, None, None]))
    with np.errstate(all="ignore"):  # degenerate curves overflow here; they come back as NaN
        S = 0.5 * (S + np.transpose(S, (0, 2, 1)))
        JtJ = np.einsum("mni,mnj->mij", J, J)
        cov_h = _inverse_pd(JtJ + S) * s2[:, None, None]
        cov_gn = _inverse_pd(JtJ) * s2[:, None, None]
    # ED50 and its delta-method standard error
    P = batch.full(theta, public=True)
    with np.errstate(all="ignore"):
        ed = batch.m.effective_dose(50, *P.T)
        grad = np.empty((M, q))
        h3 = _EPS ** (1 / 3) * np.where(np.abs(theta) > 0, np.abs(theta), 1.0)
        for k in range(q):
            tp, tm = theta.copy(), theta.copy()
            tp[:, k] += h3[:, k]
            tm[:, k] -= h3[:, k]
            grad[:, k] = (batch.m.effective_dose(50, *batch.full(tp, True).T)
                          - batch.m.effective_dose(50, *batch.full(tm, True).T)) / (2 * h3[:, k])
        var = np.einsum("mi,mij,mj->m", grad, cov_h, grad)
        ed_se = np.where(var >= 0, np.sqrt(var), np.nan)
        tq = np.where(df > 0, stats.t.ppf(0.5 + level / 2, np.maximum(df, 1)), np.nan)
    with np.errstate(all="ignore"):
        info = (JtJ + S) / s2[:, None, None]  # inverse of cov_h, for Prism's dependency
    return dict(r=r, rss=rss, df=df, n_obs=n_obs, cov_h=cov_h, cov_gn=cov_gn, ed=ed, ed_se=ed_se,
                tq=tq, P=P, info=info)


def _branch_starts(model, grid, c, d, rss, fixed):
    """Best grid point of each branch (sign of b, and f for LL.5) per curve: list of (N, P)."""
    mirror = model.kind == "ll" and "c" not in fixed and "d" not in fixed
    keys = np.zeros(grid.shape[0]) if mirror else np.sign(grid[:, 0]) * 10 + (
        grid[:, 2] if model.kind == "ll5" else 0)
    starts = []
    for key in np.unique(keys):
        cols = np.flatnonzero(keys == key)
        best = cols[np.argmin(rss[:, cols], axis=1)]
        rows = np.arange(rss.shape[0])
        vals = {"b": grid[best, 0], "c": c[rows, best], "d": d[rows, best],
                "e": np.exp(grid[best, 1]), "f": grid[best, 2]}
        starts.append(np.stack([vals[n] for n in model.param_names], axis=1))
    return starts


def fit_many(dose, responses, model="LL.4", fixed=None, weights=None, *, curve_ids=None,
             level=0.95, fallback=True):
    """Fit one model to many curves sharing a dose layout (a plate or a screen), fast.

    The curves are fitted simultaneously: a shared starting grid (c, d solved
    exactly), then Levenberg-Marquardt iterations on all curves at once, then
    observed-Hessian standard errors and ED50 delta-method CIs in vectorised form.
    Any curve the batch solver cannot bring to a converged, full-rank solution is
    refitted with :func:`fit_dose_response` (column ``method`` says which).

    Parameters
    ----------
    dose : array_like (n,)
        Doses of the columns (>= 0, finite; replicate columns allowed).
    responses : array_like (N, n)
        One row per curve; NaN marks a missing well.
    model, fixed, weights, level
        As in :func:`fit_dose_response` (weights: (n,) or (N, n)).
    curve_ids : sequence, optional
        Labels of the rows (default 0..N-1).
    fallback : bool
        Refit unconverged curves one by one with the robust single-curve engine.

    Returns
    -------
    DataFrame
        One row per curve: ``curve, model, n_obs, df_resid, converged, method``,
        each drc parameter and its ``se_<name>`` (observed Hessian), ``ed50``,
        ``ed50_se``, ``ed50_ci_low``, ``ed50_ci_high``, ``log10_ed50``, ``direction``,
        Prism's ``Bottom, Top, HillSlope`` (log-logistic), ``residual_se``, ``rss``,
        ``aic``, ``n_flags`` and ``flags`` (texts joined by " | ").
    """
    m = get_model(model)
    fixed = parse_fixed(m, fixed)
    dose = np.asarray(dose, float).ravel()
    Y = np.atleast_2d(np.asarray(responses, float))
    if Y.shape[1] != dose.size:
        raise ValueError(f"responses have {Y.shape[1]} columns but there are {dose.size} doses")
    if not np.all(np.isfinite(dose)) or np.any(dose < 0):
        raise ValueError("doses must be finite and >= 0")
    if not np.any(dose > 0):
        raise ValueError("there is no positive dose")
    if np.any(np.isinf(Y)):
        raise ValueError("responses contain infinite values; fix or blank (NaN) those wells")
    N = Y.shape[0]
    W = np.ones_like(Y) if weights is None else np.broadcast_to(np.asarray(weights, float), Y.shape).copy()
    if np.any(~np.isfinite(W) | (W < 0)):
        raise ValueError("weights must be finite and non-negative")
    W = np.where(np.isnan(Y), 0.0, W)
    ids = np.arange(N) if curve_ids is None else np.asarray(curve_ids)
    if ids.size != N:
        raise ValueError(f"{ids.size} curve_ids for {N} curves")
    batch = _Batch(m, dose, Y, W, fixed)
    q = len(batch.free)
    # curves with too little data are reported, not fitted
    levels, inv = np.unique(dose, return_inverse=True)
    present = ((W > 0).astype(float) @ np.eye(levels.size)[inv]) > 0
    n_levels = present.sum(axis=1)
    fittable = (n_levels >= q) & present[:, levels > 0].any(axis=1)

    theta = np.full((N, q), np.nan)
    converged = np.zeros(N, bool)
    method = np.array(["batch"] * N, dtype=object)
    if fittable.any():
        fi = np.flatnonzero(fittable)
        grid, c, d, rss0 = grid_search(m, dose, Y[fi], W[fi], fixed)
        starts = _branch_starts(m, grid, c, d, rss0, fixed)
        best_cost = np.full(fi.size, np.inf)
        best_ok = np.zeros(fi.size, bool)
        sub = _Batch(m, dose, Y[fi], W[fi], fixed)
        for P0 in starts:
            with np.errstate(all="ignore"):
                phi0 = np.where(sub.log_cols, np.log(np.abs(P0)), P0)[:, sub.free_cols]
            phi, cost, r, J = _lm(sub, phi0)
            ok = _gn_small(r, J, phi) & np.isfinite(cost)
            better = (ok & ~best_ok) | ((ok == best_ok) & (cost < best_cost))
            with np.errstate(over="ignore"):
                theta[fi[better]] = np.where(np.array([n in _LOG for n in sub.free]),
                                             np.exp(phi[better]), phi[better])
            best_cost[better], best_ok[better] = cost[better], ok[better]
        converged[fi] = best_ok
    if fallback:
        for i in np.flatnonzero(fittable & ~converged):
            keep = W[i] > 0
            try:
                fit = fit_dose_response(dose[keep], Y[i, keep], m, fixed=_user_fixed(m, fixed),
                                        weights=W[i, keep], level=level)
            except ValueError:
                continue
            theta[i] = fit.theta
            converged[i] = fit.converged
            method[i] = "single"
    theta = _canonical(m, batch, theta, fixed)
    st = _statistics(batch, np.where(np.isfinite(theta), theta, 1.0), level)
    return _table(m, batch, ids, theta, converged, method, fittable, n_levels, st, W, dose)


def _user_fixed(m, fixed):
    return {k: v for k, v in fixed.items() if k not in m.implied_fixed}


def _canonical(m, batch, theta, fixed):
    """LL.4 mirror image with d >= c, as drc reports it."""
    if m.kind != "ll" or "c" in fixed or "d" in fixed or "b" in fixed:
        return theta
    ib, ic, idd = (batch.free.index(n) for n in ("b", "c", "d"))
    swap = theta[:, ic] > theta[:, idd]
    theta = theta.copy()
    theta[swap, ib] *= -1
    theta[swap, ic], theta[swap, idd] = theta[swap, idd], theta[swap, ic].copy()
    return theta


def _table(m, batch, ids, theta, converged, method, fittable, n_levels, st, W, dose):
    N, q = theta.shape
    P = np.where(np.isfinite(theta).all(axis=1)[:, None], st["P"], np.nan)
    se = np.sqrt(np.diagonal(st["cov_h"], axis1=1, axis2=2))
    out = pd.DataFrame({"curve": ids, "model": m.name, "n_obs": st["n_obs"], "df_resid": st["df"],
                        "converged": converged, "method": method})
    for j, n in enumerate(m.param_names):
        out[n] = P[:, j]
        out[f"se_{n}"] = se[:, batch.free.index(n)] if n in batch.free else np.nan
    ed, ed_se, tq = st["ed"], st["ed_se"], st["tq"]
    ed = np.where(np.isfinite(P).all(axis=1), ed, np.nan)
    out["ed50"], out["ed50_se"] = ed, ed_se
    out["ed50_ci_low"], out["ed50_ci_high"] = ed - tq * ed_se, ed + tq * ed_se
    with np.errstate(all="ignore"):
        out["log10_ed50"] = np.log10(ed)
    g0 = m.zero_dose_fraction(P[:, 0])
    a0 = P[:, 1] + (P[:, 2] - P[:, 1]) * g0
    a_inf = P[:, 1] + (P[:, 2] - P[:, 1]) * (1 - g0)
    out["direction"] = np.where(a_inf < a0, "decreasing", "increasing")
    out["Bottom"], out["Top"] = P[:, 1], P[:, 2]
    if m.kind in ("ll", "ll5"):
        out["HillSlope"] = -P[:, 0]
    with np.errstate(all="ignore"):
        out["residual_se"] = np.sqrt(st["rss"] / np.where(st["df"] > 0, st["df"], np.nan))
        n = st["n_obs"]
        loglik = -0.5 * n * (np.log(2 * np.pi) + np.log(st["rss"] / n) + 1) + 0.5 * np.sum(
            np.log(np.where(W > 0, W, 1.0)), axis=1)
    out["rss"] = st["rss"]
    out["aic"] = -2 * loglik + 2 * (q + 1)
    fitted = batch.Y + st["r"] / np.where(batch.sw > 0, batch.sw, np.inf)
    facts = curve_facts(m, np.where(np.isfinite(P), P, 0.0), set(batch.free), dose,
                        batch.Y, W, fitted, ed, (out["ed50_ci_low"].to_numpy(),
                                                 out["ed50_ci_high"].to_numpy()), q)
    with np.errstate(all="ignore"):  # Prism's dependency, 1 - 1/(C_ii (C^-1)_ii), all curves at once
        dep = 1 - 1 / (np.diagonal(st["cov_h"], axis1=1, axis2=2)
                       * np.diagonal(st["info"], axis1=1, axis2=2))
    dep = np.where(np.isfinite(dep), np.clip(dep, 0, 1), -1.0)
    k_dep = np.argmax(dep, axis=1)
    se_ok = np.all(np.isfinite(se), axis=1)
    theta_ok = np.all(np.isfinite(theta), axis=1)
    flags = []
    for i in range(N):
        if not fittable[i]:
            flags.append([f"not fitted: {n_levels[i]} distinct dose(s) with data for {q} free "
                          "parameters"])
            continue
        f = facts[i]
        f.converged = bool(converged[i])
        f.message = "the batch and single-curve solvers both failed to reach a stationary point"
        f.df = int(st["df"][i])
        f.se_defined = bool(se_ok[i])
        f.nonfinite = not theta_ok[i]
        if dep[i, k_dep[i]] >= 0:
            f.max_dependency, f.dependency_param = float(dep[i, k_dep[i]]), batch.free[k_dep[i]]
        flags.append(curve_flags(f))
    not_fit = ~fittable
    for col in [c for c in out.columns if c not in ("curve", "model", "n_obs", "converged", "method")]:
        if out[col].dtype.kind == "f":
            out.loc[not_fit, col] = np.nan
    out.loc[not_fit, "method"] = "none"
    out["n_flags"] = [len(f) for f in flags]
    out["flags"] = [" | ".join(f) for f in flags]
    return out

