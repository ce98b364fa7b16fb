"""Per-animal summaries of labelled seconds over the protocol window, and per-minute bins."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .bouts import immobile_bouts
from .protocols import Protocol

SUMMARY_COLUMNS = [
    "protocol", "window_start_s", "window_end_s", "immobility_s", "immobility_pct",
    "latency_s", "bouts", "mean_bout_s",
]


def in_window_mask(second: pd.Series | np.ndarray, window_s: tuple[float, float]) -> np.ndarray:
    """True where the 1-s bin ``[s, s + 1)`` lies inside the scored window ``(start_s, end_s)``."""
    s = np.asarray(second, dtype=float)
    return (s >= window_s[0]) & (s + 1 <= window_s[1])


def in_window(seconds: pd.DataFrame, protocol: Protocol) -> pd.DataFrame:
    """Rows whose 1-s bin lies inside the protocol's window."""
    return seconds[in_window_mask(seconds["second"], (protocol.window_start_s, protocol.window_end_s))]


def _window_labels(labelled: pd.DataFrame, protocol: Protocol) -> tuple[np.ndarray, np.ndarray]:
    """One animal's seconds inside the window and their labels, in order of time."""
    second = labelled["second"].to_numpy()
    inside = in_window_mask(second, (protocol.window_start_s, protocol.window_end_s))
    second, labels = second[inside], labelled["label"].to_numpy()[inside]
    if np.any(second[1:] < second[:-1]):
        order = np.argsort(second, kind="stable")
        second, labels = second[order], labels[order]
    return second, labels


#: Length (s) of a time-sampling period: the modified forced swim test scores the behaviour
#: that predominates in each 5-s period of the test (Detke, Rickels & Lucki 1995), 60 counts
#: in 5 minutes.
SAMPLE_PERIOD_S = 5


def time_sampling_counts(second: np.ndarray, labels: np.ndarray, window_start_s: float, classes: tuple[str, ...],
                         period_s: int = SAMPLE_PERIOD_S) -> dict[str, int]:
    """How many time-sampling periods of the window each class predominates in.

    Parameters
    ----------
    second : numpy.ndarray
        The animal's seconds inside the window, in order of time.
    labels : numpy.ndarray
        Their labels.
    window_start_s : float
        Start of the window: the first period begins there.
    classes : tuple of str
        Classes counted (each gets a count, 0 when it never predominates).
    period_s : int
        Length of a period, whole seconds.

    Returns
    -------
    dict
        Class → number of periods in which it held the most seconds; a tie goes to the tied
        class seen last in the period (the behaviour the period ends in). Only whole periods
        with every second labelled count: a last part-period of the window is left out.
    """
    counts = dict.fromkeys(classes, 0)
    period = np.floor((np.asarray(second, dtype=float) - window_start_s) / period_s).astype(int)
    for k in np.unique(period):
        mine = [str(label) for label in labels[period == k] if isinstance(label, str)]
        if len(mine) < period_s:
            continue
        held = {c: mine.count(c) for c in dict.fromkeys(mine)}
        most = max(held.values())
        winner = next(c for c in reversed(mine) if held[c] == most)
        if winner in counts:
            counts[winner] += 1
    return counts


def summarise_animal(labelled: pd.DataFrame, protocol: Protocol, min_bout_s: float = 1.0) -> dict:
    """Summary of one animal's labelled seconds over the protocol window.

    Parameters
    ----------
    labelled : pandas.DataFrame
        One animal's rows with ``second`` and ``label``.
    protocol : Protocol
        Gives the scored window.
    min_bout_s : float
        Shortest immobile bout counted for ``bouts`` and ``latency_s``.

    Returns
    -------
    dict
        ``protocol, window_start_s, window_end_s, immobility_s, immobility_pct, latency_s,
        bouts, mean_bout_s, longest_bout_s`` and, with 3-class labels, ``swimming_s,
        climbing_s`` and the modified FST's time-sampling counts ``immobility_counts,
        swimming_counts, climbing_counts`` (5-s periods of the window in which the behaviour
        predominates: :func:`time_sampling_counts`). ``latency_s`` (time from window start to
        the first immobile bout of at least ``min_bout_s``) is NaN when there is no such bout.
    """
    second, labels = _window_labels(labelled, protocol)
    n = len(second)
    bouts = immobile_bouts(labels, second, min_bout_s)
    immobility_s = float(np.sum(labels == "immobile"))
    row = {
        "protocol": protocol.name,
        "window_start_s": protocol.window_start_s,
        "window_end_s": protocol.window_end_s,
        "immobility_s": immobility_s,
        "immobility_pct": 100.0 * immobility_s / n if n else np.nan,
        "latency_s": float(bouts["start_s"].iloc[0] - protocol.window_start_s) if len(bouts) else np.nan,
        "bouts": int(len(bouts)),
        "mean_bout_s": float(bouts["duration_s"].mean()) if len(bouts) else 0.0,
        "longest_bout_s": float(bouts["duration_s"].max()) if len(bouts) else 0.0,
    }
    if "swimming" in protocol.labels:
        row["swimming_s"] = float(np.sum(labels == "swimming"))
        row["climbing_s"] = float(np.sum(labels == "climbing"))
        counts = time_sampling_counts(second, labels, protocol.window_start_s, ("immobile", "swimming", "climbing"))
        row.update(immobility_counts=counts["immobile"], swimming_counts=counts["swimming"], climbing_counts=counts["climbing"])
    return row


#: Columns of :func:`bout_table`.
BOUT_COLUMNS = ["video", "animal", "bout", "start_s", "end_s", "duration_s"]


def bout_table(labelled: pd.DataFrame, protocol: Protocol, min_bout_s: float = 1.0) -> pd.DataFrame:
    """Every immobile bout that the summaries count, with its times.

    Parameters
    ----------
    labelled : pandas.DataFrame
        Rows of ``video, animal, second, label`` (any number of animals).
    protocol : Protocol
        Gives the scored window.
    min_bout_s : float
        Shortest immobile bout counted (as for ``bouts`` and ``latency_s`` of
        :func:`summarise_animal`).

    Returns
    -------
    pandas.DataFrame
        ``video, animal, bout`` (1, 2, ... in order of time), ``start_s, end_s`` (s, on the
        clock of ``second``) and ``duration_s``, one row per bout of each animal inside the
        window: an animal's rows are as many as its ``bouts``, the first starts ``latency_s``
        after the window's start, their mean duration is its ``mean_bout_s``.
    """
    tables = []
    for (video, animal), rows in labelled.groupby(["video", "animal"], sort=False, observed=True):
        second, labels = _window_labels(rows, protocol)
        bouts = immobile_bouts(labels, second, min_bout_s)
        bouts.insert(0, "bout", np.arange(1, len(bouts) + 1))
        bouts.insert(0, "animal", animal)
        bouts.insert(0, "video", video)
        tables.append(bouts)
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=BOUT_COLUMNS)


def per_minute(labelled: pd.DataFrame, protocol: Protocol, bin_s: float = 60.0) -> pd.DataFrame:
    """Seconds of each label in consecutive bins (default 60 s) of the scored window.

    Returns
    -------
    pandas.DataFrame
        ``video, animal, bin_start_s, bin_end_s, seconds_scored, immobility_s`` (+ ``swimming_s,
        climbing_s`` for 3-class FST), one row per animal and bin.
    """
    w = in_window(labelled, protocol)
    start = (w["second"].to_numpy() - protocol.window_start_s) // bin_s * bin_s + protocol.window_start_s
    codes, bins = pd.MultiIndex.from_arrays([w["video"], w["animal"], start.astype(float)]).factorize()
    out = bins.to_frame(index=False, name=["video", "animal", "bin_start_s"])
    out["seconds_scored"] = np.bincount(codes, minlength=len(bins)).astype(np.int64)
    counted = {"immobility_s": "immobile"} | ({"swimming_s": "swimming", "climbing_s": "climbing"} if "swimming" in protocol.labels else {})
    label = w["label"].to_numpy(dtype=object)
    for column, name in counted.items():
        out[column] = np.bincount(codes, weights=label == name, minlength=len(bins)).astype(float)
    out.insert(3, "bin_end_s", np.minimum(out["bin_start_s"] + bin_s, protocol.window_end_s))
    return out
