"""Per-frame motion signals → one row per animal per 1-s bin, with the motion index."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .signals import SIGNAL_NAMES, MotionSignals

#: Animal area assumed, as a fraction of the ROI, when no animal-like blob could be measured.
FALLBACK_AREA_FRACTION = 0.10


def animal_area_px(signals: MotionSignals) -> dict[str, float]:
    """Area used to normalise motion per animal: the measured blob, else a fixed share of the ROI."""
    out = {}
    for row in signals.per_roi.itertuples():
        area = row.animal_area_px
        out[row.animal] = float(area) if np.isfinite(area) and area > 0 else FALLBACK_AREA_FRACTION * row.roi_w * row.roi_h
    return out


def n_bins(n_frames: int, fps: float) -> int:
    """Number of 1-s bins kept for a video: whole seconds, plus a last bin holding at least 0.5 s."""
    whole = int(np.floor(n_frames / fps + 1e-9))
    return whole + (1 if n_frames - whole * fps >= 0.5 * fps else 0)


def per_second(signals: MotionSignals) -> pd.DataFrame:
    """Aggregate per-frame signals into 1-s bins.

    Parameters
    ----------
    signals : MotionSignals
        Output of :func:`behavscore.signals.compute_signals`.

    Returns
    -------
    pandas.DataFrame
        ``video, animal, second, motion, changed_px, diff_mean_dn, motion_x_px, motion_y_px,
        motion_sd_x_px, motion_sd_y_px, n_frames``. ``second`` is the 0-based index of the bin
        [s, s+1) from the start of the video; the difference between frames ``i - lag`` and
        ``i`` belongs to the bin holding their midpoint, ``floor((i - lag / 2) / fps)``.
        ``motion`` is the motion index: the median over the second's frames of the changed
        pixels, as % of the animal's area (``changed_px`` is their mean); ``motion_early`` and
        ``motion_late`` are the same over the first and the second half of the second.
        A trailing bin holding fewer than half a second of video is dropped (see :func:`n_bins`).
    """
    f = signals.frames
    # A difference between frames i - lag and i describes the moment halfway between them.
    lag = signals.params.lag_frames(signals.fps)
    second = np.floor((f["frame"].to_numpy() - lag / 2.0) / signals.fps).astype(np.int64)
    cols = list(SIGNAL_NAMES)
    grouped = f[cols].assign(animal=f["animal"].to_numpy(), second=second).groupby(["animal", "second"], sort=False)
    out = grouped.mean()
    # The motion index is the median over the second's frames: a second is immobile when most
    # of its frames are, as a human scorer (and the synthetic truth) decides.
    out["changed_median_px"] = grouped["changed_px"].median()
    out["n_frames"] = grouped.size()
    # The same in each half of the second: a movement that dies away within the second (the
    # end of a struggle, a passive swing running down) shows as a calmer second half.
    t_s = (f["frame"].to_numpy() - lag / 2.0) / signals.fps
    late = (t_s - second) >= 0.5
    halves = f[["changed_px"]].assign(animal=f["animal"].to_numpy(), second=second, late=late)
    halves = halves.groupby(["animal", "second", "late"], sort=False)["changed_px"].median().unstack("late")
    out["changed_early_px"] = halves.get(False)
    out["changed_late_px"] = halves.get(True)
    out = out.reset_index()
    out = out[(out["second"] >= 0) & (out["second"] < n_bins(signals.n_frames, signals.fps))].copy()
    area = animal_area_px(signals)
    out["motion"] = 100.0 * out["changed_median_px"] / out["animal"].map(area)
    out["motion_early"] = 100.0 * out["changed_early_px"] / out["animal"].map(area)
    out["motion_late"] = 100.0 * out["changed_late_px"] / out["animal"].map(area)
    out["shape_motion"] = 100.0 * out["shape_change_px"] / out["animal"].map(area)
    out["silhouette_motion"] = 100.0 * out["silhouette_change_px"] / out["animal"].map(area)
    out.insert(0, "video", signals.video.name)
    order = ["video", "animal", "second", "motion", "motion_early", "motion_late", "shape_motion", "silhouette_motion"]
    order += cols + ["changed_median_px", "changed_early_px", "changed_late_px", "n_frames"]
    animals = [r.animal for r in signals.rois]
    out["animal"] = pd.Categorical(out["animal"], categories=animals, ordered=True)
    out = out.sort_values(["animal", "second"]).reset_index(drop=True)
    out["animal"] = out["animal"].astype(str)
    return out[order]
