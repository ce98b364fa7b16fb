"""Kinetic transporter uptake: the rate per well as the slope of the linear part of signal vs time."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["uptake_rate", "uptake_rates"]


def _window_sums(t, y):
    """Prefix sums of t^k (k <= 6), t^k y (k <= 3) and y^2, for O(1) window regressions.

    Order: 1, t, t2, t3, t4, y, ty, t2y, yy, t5, t6, t3y.
    """
    z = np.zeros(1)
    cols = [np.ones_like(t), t, t**2, t**3, t**4, y, t * y, t**2 * y, y * y, t**5, t**6, t**3 * y]
    return [np.concatenate([z, np.cumsum(c)]) for c in cols]


def _sse(S, i, j):
    """Residual sum of squares of a straight line through reads i .. j-1 (prefix sums)."""
    s0, s1, s2, sy, sty, syy = (S[k][j] - S[k][i] for k in (0, 1, 2, 5, 6, 8))
    with np.errstate(all="ignore"):
        sxx = s2 - s1 * s1 / s0
        sxy = sty - s1 * sy / s0
        return np.maximum(syy - sy * sy / s0 - np.where(sxx > 0, sxy * sxy / sxx, 0.0), 0.0)


def _solve(A, rhs):
    """Batched solve of small normal equations, equilibrated; NaN where singular."""
    d = np.sqrt(np.abs(np.diagonal(A, axis1=1, axis2=2)))
    d = np.where(d > 0, d, 1.0)
    As = A / (d[:, :, None] * d[:, None, :])
    out = np.full(rhs.shape, np.nan)
    ok = np.abs(np.linalg.det(As)) > 1e-12
    if ok.any():
        out[ok] = np.linalg.solve(As[ok], (rhs[ok] / d[ok])[..., None])[..., 0] / d[ok]
    return out


def uptake_rate(time, signal, *, min_points=5, r2_min=0.98, alpha=0.2, level=0.95, window=None):
    """Uptake rate: slope of the linear part of a kinetic read, found automatically.

    Every window of consecutive reads with at least ``min_points`` points is
    fitted by a straight line. A window is *linear* when the line explains at
    least ``r2_min`` of its variance, a cubic does not fit significantly better
    (F test on 2 df, p >= ``alpha``: no curvature, no S-shape) and neither does a
    separate line for each half of the window (Chow break test, p >= ``alpha``).
    The longest linear window is reported; among equally long ones, the steepest
    in the direction of the overall trend. A lag phase or a plateau is left out;
    a straight read uses all of its points. For reads that bend gradually, pass
    ``window=(t_start, t_end)`` to fix the window by hand.

    Parameters
    ----------
    time, signal : array_like
        Read times and signals of one well (NaN reads are dropped).
    min_points : int
        Shortest window considered (>= 5, the break test needs 2 + 2 points and 1 df).
    r2_min : float
        Linearity threshold on R^2.
    alpha : float
        Significance level of the curvature and break tests. The default 0.2 is
        deliberately high: these tests look for departures from a line, and a
        false alarm only shortens the window, while a missed bend biases the rate
        (on simulated lag-linear-plateau reads 0.05 let end points of the plateau
        in and biased the rate by -1.2 %, 0.2 by -0.4 %).
    level : float
        Confidence level of the slope's CI.
    window : (float, float), optional
        Use exactly the reads with ``window[0] <= time <= window[1]``.

    Returns
    -------
    dict
        ``rate`` (signal units per time unit), ``rate_se``, ``rate_ci_low``,
        ``rate_ci_high``, ``intercept``, ``window_start``, ``window_end`` (times),
        ``n_points``, ``r2``, ``curvature_p``, ``break_p``, ``linear`` (False when no window met
        the criteria and the best-R^2 window of minimum length is reported instead),
        ``note``.
    """
    t = np.asarray(time, float)
    y = np.asarray(signal, float)
    if t.shape != y.shape:
        raise ValueError("time and signal must have the same length")
    keep = np.isfinite(t) & np.isfinite(y)
    t, y = t[keep], y[keep]
    order = np.argsort(t, kind="stable")
    t, y = t[order], y[order]
    min_points = max(int(min_points), 5)
    if window is not None:
        inside = (t >= window[0]) & (t <= window[1])
        t, y = t[inside], y[inside]
        min_points = t.size
    if t.size < min_points:
        raise ValueError(f"{t.size} usable reads; at least {min_points} are needed for a rate")
    if np.unique(t).size < t.size:
        raise ValueError("duplicate read times in one well; give each well its own series")
    scale = t[-1] - t[0]
    t_mid, y_mean = (t[0] + t[-1]) / 2, y.mean()
    tc = (t - t_mid) / scale  # centred and scaled (and y centred) for well-conditioned sums
    S = _window_sums(tc, y - y_mean)
    n = t.size
    i, j = np.triu_indices(n + 1, k=min_points)  # window = reads i .. j-1
    s0, s1, s2, s3, s4, sy, sty, st2y, syy, s5, s6, st3y = (c[j] - c[i] for c in S)
    with np.errstate(all="ignore"):
        sxx = s2 - s1 * s1 / s0
        sxy = sty - s1 * sy / s0
        syy_c = syy - sy * sy / s0
        slope = sxy / sxx
        tiny = 1e-9 * syy_c + 1e-300  # prefix-sum round-off: below this a residual sum is zero
        sse_lin = np.maximum(syy_c - slope * sxy, 0.0)
        sse_lin = np.where(sse_lin < tiny, 0.0, sse_lin)
        r2 = np.where(syy_c > 0, 1 - sse_lin / syy_c, 0.0)
        # curvature or S-shape: does a cubic beat the line? (centred window time for conditioning)
        A = np.stack([np.stack([s0, s1, s2, s3], -1), np.stack([s1, s2, s3, s4], -1),
                      np.stack([s2, s3, s4, s5], -1), np.stack([s3, s4, s5, s6], -1)], -2)
        rhs = np.stack([sy, sty, st2y, st3y], -1)
        beta = _solve(A, rhs)
        sse_c = np.maximum(syy - np.einsum("wi,wi->w", beta, rhs), 0.0)
        sse_c = np.where(sse_c < tiny, 0.0, sse_c)
        df_c = s0 - 4
        fstat = ((sse_lin - sse_c) / 2) / (sse_c / df_c)
        p_curv = np.where(sse_c > 0, stats.f.sf(fstat, 2, df_c), np.where(sse_lin > 0, 0.0, 1.0))
        se_slope = np.sqrt(sse_lin / (s0 - 2) / sxx)
        # break test: separate lines for the two halves of the window (Chow test)
        m = (i + j) // 2
        sse_halves = _sse(S, i, m) + _sse(S, m, j)
        sse_halves = np.where(sse_halves < tiny, 0.0, sse_halves)
        df_b = s0 - 4
        f_break = ((sse_lin - sse_halves) / 2) / (sse_halves / df_b)
        p_break = np.where(sse_halves > 0, stats.f.sf(f_break, 2, df_b), np.where(sse_lin > 0, 0.0, 1.0))
        linear = ((r2 >= r2_min) & (p_curv >= alpha) & (p_break >= alpha) & np.isfinite(slope)
                  & np.isfinite(se_slope))
        direction = np.sign(slope[np.argmax(s0)]) or 1.0  # overall trend of the whole read
    if linear.any():
        cand = np.flatnonzero(linear)
        longest = cand[s0[cand] == s0[cand].max()]
        k = longest[np.argmax(direction * slope[longest])]
        note = ""
    else:
        cand = np.flatnonzero(s0 == min_points)
        k = cand[np.nanargmax(np.where(np.isfinite(r2[cand]), r2[cand], -np.inf))]
        note = (f"no window of >= {min_points} reads is linear (R^2 >= {r2_min}, no curvature, "
                "no break); the most linear shortest window is reported")
    if window is not None:
        note = "window set by hand" + ("" if linear[k] else "; it fails the linearity criteria")
    npts = int(s0[k])
    df = npts - 2
    rate = slope[k] / scale
    se = np.sqrt(sse_lin[k] / df / sxx[k]) / scale if df > 0 else np.nan
    q = stats.t.ppf(0.5 + level / 2, df) if df > 0 else np.nan
    at_mid = (sy[k] - slope[k] * s1[k]) / s0[k] + y_mean  # the line at time t_mid
    return {
        "rate": float(rate), "rate_se": float(se), "rate_ci_low": float(rate - q * se),
        "rate_ci_high": float(rate + q * se), "intercept": float(at_mid - rate * t_mid),
        "window_start": float(t[i[k]]), "window_end": float(t[j[k] - 1]), "n_points": npts,
        "r2": float(r2[k]), "curvature_p": float(p_curv[k]), "break_p": float(p_break[k]),
        "linear": bool(linear[k]), "note": note,
    }


def uptake_rates(df, well_col="well", time_col="time_min", signal_col="signal", **kwargs):
    """Rate per well from a long kinetic table (one row per well and read).

    Returns a tidy DataFrame, one row per well, with the columns of
    :func:`uptake_rate`. Wells whose rate cannot be computed get NaN and the
    reason in ``note``.
    """
    for col in (well_col, time_col, signal_col):
        if col not in df:
            raise ValueError(f"column '{col}' not found; columns are {list(df.columns)}")
    rows = []
    for well, g in df.groupby(well_col, sort=False):
        try:
            res = uptake_rate(pd.to_numeric(g[time_col], errors="coerce"),
                              pd.to_numeric(g[signal_col], errors="coerce"), **kwargs)
        except ValueError as exc:
            res = {"rate": np.nan, "linear": False, "note": str(exc)}
        rows.append({well_col: well, **res})
    return pd.DataFrame(rows)
