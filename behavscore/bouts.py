"""Bouts of a per-second label sequence: run lengths, minimum bout length, latency."""

from __future__ import annotations

import numpy as np
import pandas as pd


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Half-open ``[start, end)`` index runs where a boolean array is True."""
    m = np.asarray(mask, dtype=bool)
    if m.size == 0:
        return []
    edges = np.diff(np.concatenate([[0], m.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def drop_short_runs(mask: np.ndarray, min_len: int) -> np.ndarray:
    """Set runs of True shorter than ``min_len`` elements to False (a new array)."""
    out = np.asarray(mask, dtype=bool).copy()
    if min_len > 1:
        for a, b in runs(out):
            if b - a < min_len:
                out[a:b] = False
    return out


def immobile_bouts(labels: pd.Series | np.ndarray, seconds: np.ndarray, min_bout_s: float = 1.0) -> pd.DataFrame:
    """Immobile bouts of at least ``min_bout_s`` seconds, with exact start/end times.

    Parameters
    ----------
    labels : array-like of str
        Per-second labels, one per entry of ``seconds``.
    seconds : numpy.ndarray
        0-based second indices (consecutive).
    min_bout_s : float
        Shortest bout counted.

    Returns
    -------
    pandas.DataFrame
        ``start_s, end_s, duration_s`` per bout.
    """
    mask = np.asarray(labels) == "immobile"
    seconds = np.asarray(seconds)
    rows = [
        (float(seconds[a]), float(seconds[b - 1] + 1), float(b - a))
        for a, b in runs(mask)
        if b - a >= min_bout_s
    ]
    return pd.DataFrame(rows, columns=["start_s", "end_s", "duration_s"])
