"""Means, medians and quantiles of runs of equal keys, computed as pandas' groupby computes them."""

from __future__ import annotations

import numpy as np


def runs_layout(key: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Runs of equal values in ``key`` laid side by side, for the grouped statistics below.

    Parameters
    ----------
    key : numpy.ndarray
        Group of each row; the rows of a group are consecutive.

    Returns
    -------
    starts, sizes : numpy.ndarray
        First row and number of rows of each run, in order.
    at : numpy.ndarray of int
        ``(longest run, runs)``: the row holding the k-th member of each run (the last row of
        the run where it is shorter).
    present : numpy.ndarray of bool
        Same shape: whether the run has a k-th member.
    """
    key = np.asarray(key)
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if key.size else np.zeros(0, np.int64)
    sizes = np.diff(np.r_[starts, key.size])
    slot = np.arange(int(sizes.max(initial=1)))
    present = slot[:, None] < sizes[None, :]
    at = np.minimum(starts[None, :] + slot[:, None], max(key.size - 1, 0))
    return starts, sizes, at, present


def group_mean(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Mean over axis 0 of (rows, groups, columns) values, NaN and absent rows skipped.

    The sum runs over the rows in order with Kahan compensation, as pandas' grouped mean does;
    on per-second tables the result equals pandas' to the last bit (``tests/test_signals_exact.py``).
    """
    ok = ~np.isnan(values)
    ok &= present[:, :, None]
    total = np.zeros(values.shape[1:])
    compensation, y, t, c = np.zeros_like(total), np.empty_like(total), np.empty_like(total), np.empty_like(total)
    for i in range(values.shape[0]):
        np.subtract(values[i], compensation, out=y)
        np.add(total, y, out=t)
        np.subtract(t, total, out=c)
        c -= y
        c[~np.isfinite(c)] = 0.0  # an infinite value: pandas restarts the compensation
        np.copyto(compensation, c, where=ok[i])
        np.copyto(total, t, where=ok[i])
    count = ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def group_median(values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Median over axis 0 of (rows, groups) values where ``keep``, NaN skipped (NaN when none)."""
    v = np.sort(np.where(keep, values, np.nan), axis=0)  # NaN sorts last
    n = (~np.isnan(v)).sum(axis=0)
    groups = np.arange(v.shape[1])
    upper = v[np.minimum(n // 2, v.shape[0] - 1), groups]
    lower = v[np.maximum(n // 2 - 1, 0), groups]
    return np.where(n == 0, np.nan, np.where(n % 2 == 1, upper, (upper + lower) / 2))


def group_quantile(values: np.ndarray, keep: np.ndarray, q: float) -> np.ndarray:
    """Quantile ``q`` over axis 0 of (rows, groups) values where ``keep``, NaN skipped (NaN when
    none), interpolated linearly between the two nearest values as pandas' ``quantile`` does."""
    v = np.sort(np.where(keep, values, np.nan), axis=0)  # NaN sorts last
    n = (~np.isnan(v)).sum(axis=0)
    groups = np.arange(v.shape[1])
    position = q * np.maximum(n - 1, 0)
    below = np.floor(position).astype(np.int64)
    lower = v[np.minimum(below, v.shape[0] - 1), groups]
    upper = v[np.minimum(below + 1, np.maximum(n - 1, 0)), groups]
    return np.where(n == 0, np.nan, lower + (upper - lower) * (position - below))
