"""When in the test two scorers part: minute by minute, and the stretches of seconds to watch.

Papers show FST and TST immobility per minute as well as over the scored window (immobility
rises as the test goes on; a drug may act late or early), and two scorers can agree on each
animal's total yet part in one stretch. The stretches of consecutive seconds they label
differently, longest first, are what a lab watches (``behavscore overlay --human``) to decide
who is right.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .agreement import IMMOBILE, bland_altman, pearson

#: Bin width, s (``minutes.csv`` uses the same).
BIN_S = 60.0


def minute_agreement(aligned: pd.DataFrame, window_s: tuple[float, float], bin_s: float = BIN_S) -> pd.DataFrame:
    """Per-animal immobility of two scorers in consecutive bins of the window, compared.

    Parameters
    ----------
    aligned : pandas.DataFrame
        Seconds labelled by both scorers (``video, animal, second, label_a, label_b``:
        :func:`behavscore.agreement.align`).
    window_s : (float, float)
        The compared window; bins start at its start (the last may be shorter).
    bin_s : float
        Bin width, s.

    Returns
    -------
    pandas.DataFrame
        One row per bin: ``bin_start_s, bin_end_s, n_animals``, the mean immobile seconds per
        animal by each scorer (``mean_a_s``, ``mean_b_s``), the Bland-Altman ``bias_s`` (a - b),
        ``loa_low_s``, ``loa_high_s``, Pearson ``r`` of the animals' seconds, and ``accuracy``
        (share of the bin's seconds given the same label).
    """
    start, end = float(window_s[0]), float(window_s[1])
    second = aligned["second"].to_numpy(dtype=float)
    bin_start = start + np.floor((second - start) / bin_s) * bin_s
    df = pd.DataFrame({
        "video": aligned["video"].to_numpy(),
        "animal": aligned["animal"].to_numpy(),
        "bin_start_s": bin_start,
        "a": (aligned["label_a"] == IMMOBILE).to_numpy(dtype=float),
        "b": (aligned["label_b"] == IMMOBILE).to_numpy(dtype=float),
        "same": (aligned["label_a"] == aligned["label_b"]).to_numpy(dtype=float),
    })
    rows = []
    for b0, part in df.groupby("bin_start_s", sort=True):
        per = part.groupby(["video", "animal"], sort=True)[["a", "b"]].sum()
        ba = bland_altman(per["a"], per["b"]).iloc[0]
        rows.append({
            "bin_start_s": float(b0),
            "bin_end_s": min(float(b0) + bin_s, end),
            "n_animals": int(len(per)),
            "mean_a_s": float(per["a"].mean()),
            "mean_b_s": float(per["b"].mean()),
            "bias_s": float(ba["bias"]),
            "loa_low_s": float(ba["loa_low"]),
            "loa_high_s": float(ba["loa_high"]),
            "r": float(pearson(per["a"], per["b"])["r"].iloc[0]),
            "accuracy": float(part["same"].mean()),
        })
    return pd.DataFrame(rows, columns=["bin_start_s", "bin_end_s", "n_animals", "mean_a_s", "mean_b_s", "bias_s", "loa_low_s",
                                       "loa_high_s", "r", "accuracy"])


def minute_line(comparison: str, minutes: pd.DataFrame) -> str:
    """One terminal line: where in the window the two scorers part most."""
    if minutes.empty:
        return f"{comparison}: no minute compared"
    width = minutes["loa_high_s"] - minutes["loa_low_s"]
    worst = minutes.loc[minutes["bias_s"].abs().idxmax()]
    spread = minutes.loc[width.idxmax()] if width.notna().any() else worst
    return (
        f"{comparison}, minute by minute ({len(minutes)} bins): mean immobility per animal "
        f"{' '.join(f'{v:.0f}' for v in minutes['mean_a_s'])} s vs {' '.join(f'{v:.0f}' for v in minutes['mean_b_s'])} s; "
        f"largest bias {worst['bias_s']:+.1f} s ({worst['bin_start_s']:g}-{worst['bin_end_s']:g} s), widest limits of agreement "
        f"{spread['loa_low_s']:.1f} to {spread['loa_high_s']:.1f} s ({spread['bin_start_s']:g}-{spread['bin_end_s']:g} s)"
    )


#: Columns of :func:`disagreement_runs`.
RUN_COLUMNS: tuple[str, ...] = ("video", "animal", "start_s", "end_s", "duration_s", "label_a", "label_b")


def disagreement_runs(aligned: pd.DataFrame) -> pd.DataFrame:
    """Stretches of consecutive seconds that two scorers label differently, longest first.

    Parameters
    ----------
    aligned : pandas.DataFrame
        Seconds labelled by both scorers (``video, animal, second, label_a, label_b``:
        :func:`behavscore.agreement.align`).

    Returns
    -------
    pandas.DataFrame
        :data:`RUN_COLUMNS`: one row per run of consecutive seconds of one animal with the same
        pair of differing labels, ``[start_s, end_s)``; sorted by ``duration_s`` (longest first),
        then video, animal and start.
    """
    df = aligned.sort_values(["video", "animal", "second"], kind="stable").reset_index(drop=True)
    differ = (df["label_a"] != df["label_b"]).to_numpy()
    same_as_before = (
        (df["second"].diff() == 1)
        & (df["video"] == df["video"].shift())
        & (df["animal"] == df["animal"].shift())
        & (df["label_a"] == df["label_a"].shift())
        & (df["label_b"] == df["label_b"].shift())
    ).to_numpy()
    starts = differ & ~(same_as_before & np.r_[False, differ[:-1]])
    run = np.cumsum(starts)[differ]
    part = df[differ]
    if part.empty:
        return pd.DataFrame(columns=list(RUN_COLUMNS))
    g = part.groupby(run, sort=False)
    out = pd.DataFrame({
        "video": g["video"].first(),
        "animal": g["animal"].first(),
        "start_s": g["second"].min().astype(float),
        "end_s": g["second"].max().astype(float) + 1.0,
        "label_a": g["label_a"].first(),
        "label_b": g["label_b"].first(),
    })
    out["duration_s"] = out["end_s"] - out["start_s"]
    out = out.sort_values(["duration_s", "video", "animal", "start_s"], ascending=[False, True, True, True], kind="stable")
    return out[list(RUN_COLUMNS)].reset_index(drop=True)
