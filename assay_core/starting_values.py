"""Starting values for dose-response fits, computed from the data (no hand tuning)."""

from __future__ import annotations

import numpy as np

from .curves import _shape, get_model

__all__ = ["starting_values", "grid_candidates", "grid_search"]

_B_GRID = np.array([-6.0, -3.0, -1.5, -0.75, 0.75, 1.5, 3.0, 6.0])
_F_GRID = np.array([0.3, 1.0, 3.0])


def _e_grid(dose, n=13):
    """Candidate ln(e) values spanning the tested doses and a step beyond each end."""
    pos = np.unique(dose[dose > 0])
    lo, hi = np.log(pos.min()), np.log(pos.max())
    pad = max((hi - lo) / max(pos.size - 1, 1), 0.5)
    return np.linspace(lo - pad, hi + pad, n)


def grid_search(model, dose, Y, W, fixed):
    """Residual sums of squares of N curves over a (b, e[, f]) grid, c and d solved exactly.

    For fixed b, e (and f) the model c (1 - g) + d g is linear in c and d, so each
    grid point costs one weighted 2x2 least-squares solve per curve (variable
    projection); all curves share the grid, so the sums are matrix products.

    Parameters
    ----------
    model : DoseResponseModel
    dose : ndarray (n,)
        Doses (>= 0, at least one positive) shared by all curves.
    Y, W : ndarray (N, n)
        Responses and weights (weight 0 = missing well, its response ignored).
    fixed : dict
        Fixed parameter values (not searched).

    Returns
    -------
    grid : ndarray (G, 3)
        Columns b, ln e, f of each grid point.
    c, d, rss : ndarray (N, G)
    """
    bs = np.array([fixed["b"]]) if "b" in fixed else _B_GRID
    les = np.array([np.log(fixed["e"])]) if "e" in fixed else _e_grid(dose)
    fs = (np.array([fixed["f"]]) if "f" in fixed else _F_GRID) if model.kind == "ll5" else np.array([1.0])
    grid = np.stack([a.ravel() for a in np.meshgrid(bs, les, fs, indexing="ij")], axis=1)
    B, LE, F = grid[:, 0:1], grid[:, 1:2], grid[:, 2:3]
    lx, lxf = model.log_doses(dose)
    t = B * (lx[None, :] - LE)  # -inf * sign(b) at dose 0; b is never 0 on the grid
    g, _, _ = _shape(model.kind, t, F if model.kind == "ll5" else None)
    h = 1.0 - g
    Y = np.where(W > 0, Y, 0.0)
    WY = W * Y
    s_hh, s_hg, s_gg = W @ (h * h).T, W @ (h * g).T, W @ (g * g).T
    s_hy, s_gy = WY @ h.T, WY @ g.T
    s_yy = np.sum(WY * Y, axis=1, keepdims=True)
    mean = (np.sum(WY, axis=1) / np.maximum(np.sum(W, axis=1), 1e-300))[:, None]
    if "c" in fixed and "d" in fixed:
        c = np.full_like(s_hh, fixed["c"])
        d = np.full_like(s_hh, fixed["d"])
    elif "c" in fixed:
        c = np.full_like(s_hh, fixed["c"])
        ok = s_gg > 1e-12
        d = np.where(ok, (s_gy - c * s_hg) / np.where(ok, s_gg, 1.0), mean)
    elif "d" in fixed:
        d = np.full_like(s_hh, fixed["d"])
        ok = s_hh > 1e-12
        c = np.where(ok, (s_hy - d * s_hg) / np.where(ok, s_hh, 1.0), mean)
    else:
        det = s_hh * s_gg - s_hg * s_hg
        ok = np.abs(det) > 1e-10 * np.maximum(s_hh * s_gg, 1e-300)
        safe = np.where(ok, det, 1.0)
        c = np.where(ok, (s_gg * s_hy - s_hg * s_gy) / safe, mean)
        d = np.where(ok, (s_hh * s_gy - s_hg * s_hy) / safe, mean)
    rss = s_yy - 2 * c * s_hy - 2 * d * s_gy + c * c * s_hh + 2 * c * d * s_hg + d * d * s_gg
    rss = np.where(np.isfinite(rss), np.maximum(rss, 0.0), np.inf)
    return grid, c, d, rss


def _full_vector(model, grid_row, c, d):
    values = {"b": grid_row[0], "c": c, "d": d, "e": np.exp(grid_row[1]), "f": grid_row[2]}
    return np.array([values[n] for n in model.param_names], dtype=float)


def grid_candidates(model, dose, response, weights=None, fixed=None, top=5):
    """Best parameter vectors of one curve on the starting grid, best first.

    Parameters
    ----------
    model : str or DoseResponseModel
    dose, response : ndarray
        Finite data; doses >= 0 with at least one positive dose.
    weights : ndarray, optional
        Multiply the squared residuals.
    fixed : dict, optional
        Parameter name -> value; fixed parameters are not searched.
    top : int or None
        How many candidates to return (None: all).

    Returns
    -------
    candidates : list of ndarray
        Full parameter vectors in drc's order (fixed parameters at their values).
    rss : ndarray
        Their residual sums of squares.
    """
    m = get_model(model)
    fixed = {**m.implied_fixed, **(fixed or {})}
    dose = np.asarray(dose, float)
    y = np.asarray(response, float)[None, :]
    w = (np.ones_like(y) if weights is None else np.asarray(weights, float)[None, :])
    grid, c, d, rss = grid_search(m, dose, y, w, fixed)
    order = np.argsort(rss[0], kind="stable")[:top]
    return [_full_vector(m, grid[i], c[0, i], d[0, i]) for i in order], rss[0, order]


def starting_values(model, dose, response, weights=None, fixed=None):
    """One full starting vector (drc's parameter order) for ``model`` on these data."""
    cands, _ = grid_candidates(model, dose, response, weights, fixed, top=1)
    return cands[0]
