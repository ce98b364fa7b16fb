"""QC figure of one video: motion trace, threshold, immobile bouts and the scored window."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from .bouts import runs
from .outputs import write_png
from .protocols import Protocol

LABEL_COLOURS = {"immobile": "#4C72B0", "swimming": "#55A868", "climbing": "#C44E52", "mobile": "#DD8452"}


def plot_qc(
    seconds: pd.DataFrame,
    protocol: Protocol,
    path: str | os.PathLike,
    threshold_pct: dict[str, float] | None = None,
    title: str = "",
    flags: dict[str, str] | None = None,
) -> None:
    """Write a QC figure (PNG) with one panel per animal.

    Parameters
    ----------
    seconds : pandas.DataFrame
        Labelled per-second table (``animal, second, label, motion``).
    protocol : Protocol
        Its window is shaded.
    path : path-like
        Output PNG.
    threshold_pct : dict, optional
        Threshold per animal, drawn as a horizontal line when the threshold scorer was used.
    title : str
        Figure title (e.g. the video name).
    flags : dict, optional
        Per animal, what deserves a second look (the summary's ``flags``), written in red in
        its panel.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    animals = list(dict.fromkeys(seconds["animal"]))
    height_in = 1.9 * len(animals) + 0.6
    fig, axes = plt.subplots(len(animals), 1, figsize=(10, height_in), sharex=True, squeeze=False)
    # Fixed margins (inches) instead of tight_layout, which costs as much as drawing the figure.
    fig.subplots_adjust(left=0.09, right=0.985, top=1 - 0.35 / height_in, bottom=0.5 / height_in, hspace=0.12)
    for ax, animal in zip(axes[:, 0], animals):
        a = seconds[seconds["animal"] == animal]
        t = a["second"].to_numpy()
        motion = np.clip(a["motion"].to_numpy(dtype=float), 1e-2, None)
        labels = a["label"].to_numpy()
        for label, colour in LABEL_COLOURS.items():
            spans = [(t[i], t[j - 1] + 1 - t[i]) for i, j in runs(labels == label)]
            if label != "mobile" and spans:  # one artist per label: fast with hundreds of bouts
                ax.broken_barh(spans, (0, 1), transform=ax.get_xaxis_transform(), color=colour, alpha=0.25, lw=0)
        ax.step(t + 0.5, motion, where="mid", color="k", lw=0.7)
        ax.set_yscale("log")
        if threshold_pct and np.isfinite(threshold_pct.get(animal, np.nan)):
            ax.axhline(threshold_pct[animal], color="r", lw=0.8, ls="--")
        ax.axvline(protocol.window_start_s, color="grey", lw=1)
        ax.axvline(protocol.window_end_s, color="grey", lw=1)
        if flags and flags.get(animal):
            ax.text(0.005, 0.95, f"look: {flags[animal]}", transform=ax.transAxes, ha="left", va="top", fontsize=7, color="#B22222")
        status = "" if pd.notna(labels).any() else "  (no animal)"
        ax.set_ylabel(f"{animal}{status}\nmotion, %", fontsize=8)
    shaded = [l for l in LABEL_COLOURS if l != "mobile" and l in set(seconds["label"].dropna())]
    if shaded:
        handles = [plt.Rectangle((0, 0), 1, 1, color=LABEL_COLOURS[l], alpha=0.4) for l in shaded]
        axes[0, 0].legend(handles, shaded, loc="upper right", fontsize=7, ncol=len(shaded))
    axes[-1, 0].set_xlabel("time, s (grey lines: scored window)")
    fig.suptitle(title, fontsize=9, y=1 - 0.08 / height_in, va="top")
    write_png(fig, path, dpi=90)
    plt.close(fig)
