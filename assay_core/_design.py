"""One or several dose-response curves as a single least-squares problem (shared and fixed parameters)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .curves import DoseResponseModel, get_model
from .engine import covariances, minimise
from .starting_values import _full_vector, grid_search

_LOG_PARAMS = ("e", "f")  # fitted on the log scale internally: must stay positive


def clean_dose_response(dose, response, weights=None, extra=None):
    """Validate and align dose/response (and weights, and an optional label array).

    NaN in dose or response marks a missing well: the row is dropped and counted.
    Infinite values, negative doses or mismatched lengths raise ``ValueError``.
    Returns ``dose, response, weights, extra, n_dropped``.
    """
    try:
        dose = np.asarray(dose, dtype=float).ravel()
        response = np.asarray(response, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"dose and response must be numeric: {exc}") from None
    if dose.shape != response.shape:
        raise ValueError(f"dose has {dose.size} values but response has {response.size}")
    if weights is None:
        w = np.ones_like(response)
    else:
        w = np.asarray(weights, dtype=float).ravel()
        if w.shape != response.shape:
            raise ValueError(f"weights has {w.size} values but response has {response.size}")
        if np.any(np.isinf(w)) or np.any(w < 0):
            raise ValueError("weights must be finite and non-negative")
    if np.any(np.isinf(dose)) or np.any(np.isinf(response)):
        raise ValueError("dose or response contains infinite values; fix or remove those wells")
    keep = ~(np.isnan(dose) | np.isnan(response) | np.isnan(w))
    if np.any(dose[keep] < 0):
        bad = dose[keep][dose[keep] < 0][:3].tolist()
        raise ValueError(f"doses must be >= 0 (got {bad}); if these are log10 concentrations, "
                         "pass 10**dose or use log_dose=True")
    n_dropped = int(np.count_nonzero(~keep))
    keep &= w > 0
    extra = None if extra is None else np.asarray(extra)[keep]
    return dose[keep], response[keep], w[keep], extra, n_dropped


@dataclass
class Design:
    """Free/fixed/shared bookkeeping for K curves of one model.

    ``index[k, j]`` is the position of parameter j of curve k in the free vector
    (-1 if fixed); ``values[k, j]`` holds fixed values.
    """

    model: DoseResponseModel
    dose: np.ndarray
    response: np.ndarray
    weights: np.ndarray
    curve: np.ndarray          # integer code per observation
    curve_labels: list
    index: np.ndarray          # (K, P) int
    values: np.ndarray         # (K, P) float
    free_labels: list          # (param_name, curve_label or None) per free parameter

    def __post_init__(self):
        self.sw = np.sqrt(self.weights)
        self.n_free = len(self.free_labels)
        self.free_param = [p for p, _ in self.free_labels]
        self.log_mask = np.array([p in _LOG_PARAMS for p in self.free_param], dtype=bool)
        self.single = len(self.curve_labels) == 1
        names = self.model.param_names
        self._log_cols = np.array([n in _LOG_PARAMS for n in names], dtype=bool)
        with np.errstate(divide="ignore", invalid="ignore"):
            self._values_int = np.where(self._log_cols, np.log(np.abs(self.values)), self.values)
        self._mask = self.index >= 0
        self._index_flat = self.index[self._mask]
        self.lx, self.lxf = self.model.log_doses(self.dose)
        if self.single:
            self.free_cols = [int(np.flatnonzero(self.index[0] == i)[0]) for i in range(self.n_free)]
        self._cache_key = None
        self._cache = None

    # --------------------------------------------------------- parameters
    def matrix(self, theta):
        """(K, P) parameter matrix for free vector ``theta`` (public scale)."""
        P = self.values.copy()
        P[self._mask] = np.asarray(theta, float)[self._index_flat]
        return P

    def theta_from_matrix(self, P):
        """Free vector from a (K, P) matrix (shared parameters: mean over curves)."""
        theta = np.zeros(self.n_free)
        count = np.zeros(self.n_free)
        np.add.at(theta, self._index_flat, P[self._mask])
        np.add.at(count, self._index_flat, 1)
        return theta / count

    def to_public(self, phi):
        phi = np.asarray(phi, float)
        return np.where(self.log_mask, np.exp(np.clip(phi, -700, 700)), phi)

    def to_internal(self, theta):
        theta = np.asarray(theta, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.log_mask, np.log(np.where(self.log_mask, theta, 1.0)), theta)

    # ------------------------------------------------------------- model
    def _evaluate(self, phi, jac):
        """Predictions (and d/d phi) on the internal scale (ln e, ln f), cached per phi."""
        key = phi.tobytes()
        if key == self._cache_key and (not jac or self._cache[1] is not None):
            return self._cache
        P = self._values_int.copy()
        P[self._mask] = phi[self._index_flat]
        rows = P[0] if self.single else P[self.curve].T
        b, c, d, le = rows[0], rows[1], rows[2], rows[3]
        f = np.exp(rows[4]) if self.model.kind == "ll5" else None
        out = self.model.core(self.lx, self.lxf, b, c, d, le, f, jac=jac)
        if not jac:
            val, J = out, None
        else:
            val, full = out
            if self.model.kind == "ll5":
                full[..., 4] *= f  # d/d ln f
            if self.single:
                J = full[:, self.free_cols]
            else:
                J = np.zeros((self.dose.size, self.n_free))
                rows_i = np.arange(self.dose.size)
                for col in range(full.shape[1]):
                    idx = self.index[self.curve, col]
                    m = idx >= 0
                    J[rows_i[m], idx[m]] = full[m, col]
            J *= self.sw[:, None]
        self._cache_key, self._cache = key, (val, J)
        return val, J

    def predict(self, theta):
        return self._evaluate(self.to_internal(theta), False)[0]

    def resid_int(self, phi):
        return self.sw * (self._evaluate(np.asarray(phi, float), False)[0] - self.response)

    def jac_int(self, phi):
        return self._evaluate(np.asarray(phi, float), True)[1].copy()

    def resid(self, theta):
        """Weighted residuals on the public scale (e, f themselves)."""
        return self.resid_int(self.to_internal(theta))

    def jac(self, theta):
        """d(weighted residual)/d(theta), public scale, (n, n_free)."""
        theta = np.asarray(theta, float)
        return self.jac_int(self.to_internal(theta)) / np.where(self.log_mask, theta, 1.0)

    # -------------------------------------------------------------- fitting
    def bounds_internal(self, bounds):
        if not bounds:
            return None, None
        lo = np.full(self.n_free, -np.inf)
        hi = np.full(self.n_free, np.inf)
        for i, p in enumerate(self.free_param):
            if p in bounds:
                low, high = bounds[p]
                lo[i] = -np.inf if low is None else float(low)
                hi[i] = np.inf if high is None else float(high)
                if self.log_mask[i]:
                    with np.errstate(divide="ignore"):
                        lo[i] = np.log(lo[i]) if lo[i] > 0 else -np.inf
                        hi[i] = np.log(hi[i]) if hi[i] > 0 else -np.inf
        if np.any(lo >= hi):
            raise ValueError("every lower bound must be below its upper bound "
                             "(and e, f bounds must allow positive values)")
        return lo, hi

    def fit(self, starts, bounds=None, max_nfev=200, explore=0, extra=2):
        """Minimise from each start matrix in turn; keep the best.

        The first ``explore`` starts are all fitted (distinct branches); after that
        at most ``extra`` further starts are tried, stopping at the first converged
        solution. Only the first start gets both solvers (Levenberg-Marquardt, then
        trust-region-reflective if LM fails); the others get LM alone, which keeps
        hopeless fits (a step-like curve whose slope runs to infinity) cheap.
        """
        lo, hi = self.bounds_internal(bounds)
        best = None
        for i, P0 in enumerate(starts[:max(explore, 1) + extra]):
            phi0 = self.to_internal(self.theta_from_matrix(P0))
            if not np.all(np.isfinite(phi0)):
                continue
            methods = ("lm", "trf") if i == 0 or lo is not None else ("lm",)
            sol = minimise(self.resid_int, self.jac_int, phi0, lower=lo, upper=hi,
                           max_nfev=max_nfev, stop_early=True, methods=methods)
            if best is None or (sol.converged and not best.converged) or (
                    sol.converged == best.converged and sol.cost < best.cost):
                best = sol
            if best.converged and i + 1 >= explore:
                break
        if best is None:
            raise ValueError("no usable starting values could be computed from these data")
        return self.to_public(best.x), best

    def canonical(self, theta):
        """Mirror image of LL.4 with d >= c (drc's convention: b > 0 means decreasing).

        c + (d - c)/(1 + (x/e)^b) is the same curve as d + (c - d)/(1 + (x/e)^-b); the
        optimiser may end on either. Curves whose b, c, d are all free and either all
        curve-specific or all shared are swapped to d >= c.
        """
        if self.model.kind != "ll":
            return theta
        theta = np.array(theta, float)
        ib, ic, id_ = self.index[:, 0], self.index[:, 1], self.index[:, 2]
        if np.any(ib < 0) or np.any(ic < 0) or np.any(id_ < 0):
            return theta
        for k in range(len(self.curve_labels)):
            cols = [ib[k], ic[k], id_[k]]
            users = [np.count_nonzero(self.index == i) for i in cols]
            if len(set(users)) != 1 or theta[ic[k]] <= theta[id_[k]]:
                continue
            if users[0] > 1 and k > 0:
                continue  # shared b, c, d: swapped once, via the first curve
            theta[ib[k]] = -theta[ib[k]]
            theta[ic[k]], theta[id_[k]] = theta[id_[k]], theta[ic[k]]
        return theta

    def curvature(self, theta, rho):
        """sum_i rho_i d2 rho_i / d theta2 by central differences of the analytic Jacobian.

        All 2 x n_free perturbed parameter vectors go through the model in one
        vectorised call (same steps as the engine's generic version).
        """
        theta = np.asarray(theta, float)
        q = theta.size
        h = np.finfo(float).eps ** 0.25 * np.where(np.abs(theta) > 0, np.abs(theta), 1.0)
        pert = np.repeat(theta[None, :], 2 * q, axis=0)
        pert[np.arange(q), np.arange(q)] += h
        pert[q + np.arange(q), np.arange(q)] -= h
        P = np.repeat(self.values[0][None, :], 2 * q, axis=0)
        P[:, self.free_cols] = pert
        with np.errstate(all="ignore"):
            cols = [P[:, j:j + 1] for j in range(P.shape[1])]
            f = cols[4] if self.model.kind == "ll5" else None
            _, J = self.model.core(self.lx[None, :], self.lxf[None, :], cols[0], cols[1], cols[2],
                                   np.log(cols[3]), f, jac=True)
            J[..., 3] /= cols[3]
            J = J[..., self.free_cols] * self.sw[None, :, None]
            dJ = (J[:q] - J[q:]) / (2 * h[:, None, None])  # (k, n, j): d2 rho / d theta_k d theta_j
            s = np.einsum("n,knj->jk", rho, dJ)
        return 0.5 * (s + s.T)

    def statistics(self, theta):
        df = int(self.dose.size - self.n_free)
        curvature = self.curvature if self.single else None
        cov_h, cov_gn, j, rss = covariances(self.resid, self.jac, theta, df, curvature=curvature)
        return cov_h, cov_gn, rss, df


def parse_fixed(model, fixed):
    """Merge the model's implied fixed parameters with the user's, validating both."""
    m = get_model(model)
    fixed = dict(fixed or {})
    for name, value in fixed.items():
        if name not in m.param_names:
            raise ValueError(f"cannot fix {name!r}: {m.name} has parameters {', '.join(m.param_names)}")
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"fixed value for {name!r} must be a number, not {value!r}") from None
        if not np.isfinite(value):
            raise ValueError(f"fixed value for {name!r} must be finite")
        if name in _LOG_PARAMS and value <= 0:
            raise ValueError(f"fixed {name} must be > 0")
        if name in m.implied_fixed and value != m.implied_fixed[name]:
            raise ValueError(f"{m.name} fixes {name} = {m.implied_fixed[name]:g}; "
                             f"use LL.4 with fixed={{'{name}': {value:g}}} instead")
        fixed[name] = value
    return {**m.implied_fixed, **fixed}


def check_identifiable(model, dose, n_free, what="the data"):
    """Raise ValueError when the doses cannot determine the free parameters."""
    levels = np.unique(dose)
    if np.count_nonzero(levels > 0) < 1:
        raise ValueError(f"{what} have no positive dose; a dose-response curve needs doses above 0")
    if dose.size < n_free:
        raise ValueError(f"{what} have {dose.size} usable points but {model.name} has {n_free} "
                         "free parameters; fix some parameters or add doses")
    if levels.size < n_free:
        raise ValueError(f"{what} have only {levels.size} distinct dose(s) but {model.name} has "
                         f"{n_free} free parameters; fix some (e.g. fixed={{'c': 0}}) or test more doses")


def single_curve_design(model, dose, response, weights, fixed):
    m = get_model(model)
    names = m.param_names
    index = -np.ones((1, len(names)), dtype=int)
    values = np.full((1, len(names)), np.nan)
    labels = []
    for j, n in enumerate(names):
        if n in fixed:
            values[0, j] = fixed[n]
        else:
            index[0, j] = len(labels)
            labels.append((n, None))
    return Design(m, dose, response, weights, np.zeros(dose.size, dtype=int), [None],
                  index, values, labels)


def single_curve_starts(design, fixed, top=4, mirror_ok=True):
    """Starting matrices: the best grid point of each distinct branch, then runners-up.

    LL.4 with free, unbounded c and d is symmetric under (b, c, d) -> (-b, d, c), so
    one branch suffices (``mirror_ok=False`` when bounds break the symmetry);
    otherwise the two signs of b (and, for LL.5, each asymmetry on the grid) are
    separate local optima and each gets its own start.
    """
    m = design.model
    grid, c, d, rss = grid_search(m, design.dose, design.response[None, :], design.weights[None, :],
                                  fixed)
    order = np.argsort(rss[0], kind="stable")
    mirror = mirror_ok and m.kind == "ll" and "c" not in fixed and "d" not in fixed
    keys = np.zeros(grid.shape[0]) if mirror else np.sign(grid[:, 0]) * 10 + (
        grid[:, 2] if m.kind == "ll5" else 0.0)
    n_branches = np.unique(keys).size
    branches, rest = {}, []
    for i in order:
        if keys[i] not in branches:
            branches[keys[i]] = _full_vector(m, grid[i], c[0, i], d[0, i])
        elif len(rest) < top:
            rest.append(_full_vector(m, grid[i], c[0, i], d[0, i]))
        if len(branches) == n_branches and len(rest) >= top:
            break
    starts = [vec[None, :] for vec in list(branches.values()) + rest]
    return starts, len(branches)
