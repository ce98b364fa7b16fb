"""Per-frame motion signals → one row per animal per 1-s bin, with the motion index."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .grouping import group_mean, group_median, group_quantile, runs_layout
from .repeats import repeated_rows
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


#: Half-width of the window in which each frame's calmest moment is looked for (``motion_calm``):
#: a passive pendulum swing turns (comes to rest for a frame or two) several times a second.
CALM_HALF_WINDOW_S = 0.08


def calm_half_window_frames(fps: float) -> int:
    """Frames on each side of a frame searched for its calmest moment: ``CALM_HALF_WINDOW_S``
    in whole frames (2 at 24-30 frames/s, 1 at 15, 5 at 60)."""
    return int(round(CALM_HALF_WINDOW_S * fps))


def _rolling_min(values: np.ndarray, half: int) -> np.ndarray:
    """Minimum over axis 0 within ``half`` rows either side of each row, NaN skipped (NaN when
    there is nothing but NaN), of a (rows, columns) array."""
    if half <= 0 or values.shape[0] == 0:
        return values.copy()
    pad = np.full((half,) + values.shape[1:], np.inf)
    padded = np.concatenate([pad, np.where(np.isnan(values), np.inf, values), pad])
    low = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1, axis=0).min(axis=-1)
    return np.where(np.isinf(low), np.nan, low)


def animal_index(animal: pd.Series, animals: list[str]) -> np.ndarray:
    """Position of each row's animal in ``animals`` (-1 when not there)."""
    n = len(animal) // max(1, len(animals))
    if n * len(animals) == len(animal):  # the usual layout: one block of rows per animal, in order
        blocks = np.repeat(np.asarray(animals, dtype=object), n)
        if (animal.to_numpy(dtype=object) == blocks).all():
            return np.repeat(np.arange(len(animals), dtype=np.int64), n)
    return pd.Categorical(animal, categories=animals).codes.astype(np.int64)


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
        ``motion_p10`` is the 10th percentile instead of the median: it stays high only when the
        animal moves in nearly every frame of the second, as a struggling mouse does, and drops
        when the movement stops, even briefly, as a passive pendulum swing does at each turn.
        ``motion_calm`` takes, for each frame, the fewest changed pixels within
        ``CALM_HALF_WINDOW_S`` either side of it, then the median of that over the second: it
        is low when the animal is still, or turning at the end of a swing, for most of the
        second, and high only when it keeps moving without pause for most of it (under 7
        frames/s no other frame is that close and it equals ``motion``).
        A trailing bin holding fewer than half a second of video is dropped (see :func:`n_bins`).
        Frames that repeat the frame before (a camera padding a slower capture, see
        :func:`behavscore.repeats.repeated_rows`; in one compartment only, in a picture composed
        from several cameras) are left out of the means and medians;
        ``n_frames`` counts every frame of the bin. ``body_area_px`` is the area the motion
        indices are relative to (:func:`animal_area_px`), the same in every row of an animal.

    Notes
    -----
    Means are Kahan-compensated sums in frame order and medians of an even count are the mean
    of the two middle values, as pandas' grouped ``mean``/``median`` compute them, so the
    table is the same as a ``groupby`` over (animal, second) gives, to the last bit.
    """
    f = signals.frames
    animals = [r.animal for r in signals.rois]
    # A difference between frames i - lag and i describes the moment halfway between them.
    lag = signals.params.lag_frames(signals.fps)
    t_s = (f["frame"].to_numpy() - lag / 2.0) / signals.fps
    second = np.floor(t_s).astype(np.int64)
    late = (t_s - second) >= 0.5
    animal = animal_index(f["animal"], animals)
    keep = np.flatnonzero((second >= 0) & (second < n_bins(signals.n_frames, signals.fps)) & (animal >= 0))
    # Rows of one (animal, second) bin side by side; a stable sort keeps the frame order.
    key = animal[keep] * (int(second.max(initial=0)) + 1) + second[keep]
    if np.any(key[1:] < key[:-1]):
        order = np.argsort(key, kind="stable")
        keep, key = keep[order], key[order]
    # (row in bin, bin) tables: the k-th frame of every bin side by side.
    starts, sizes, at, present = runs_layout(key)
    rows = keep[at]
    repeated = repeated_rows(signals)
    if repeated.any():
        fresh = present & ~repeated[rows]
        present = np.where(fresh.any(axis=0), fresh, present)  # a bin of repeats only keeps them all
    cols = list(SIGNAL_NAMES)
    values = f[cols].to_numpy(dtype=np.float64)[rows]
    first = keep[starts] if key.size else np.zeros(0, np.int64)
    changed = values[:, :, 0]
    out = {"video": signals.video.name, "animal": np.asarray(animals, dtype=object)[animal[first]], "second": second[first]}
    means = group_mean(values, present)
    # The motion index is the median over the second's frames: a second is immobile when most
    # of its frames are, as a human scorer (and the synthetic truth) decides.
    median = group_median(changed, present)
    # The same in each half of the second: a movement that dies away within the second (the
    # end of a struggle, a passive swing running down) shows as a calmer second half.
    is_late = late[rows]
    early_median = group_median(changed, present & ~is_late)
    late_median = group_median(changed, present & is_late)
    low = group_quantile(changed, present, 0.10)
    # Each frame's calmest moment nearby (the frames that enter the medians only), then the
    # median of those over the second: a second is immobile when, for most of it, the animal
    # is still or at the turn of a swing within a fraction of a second.
    frame = f["frame"].to_numpy(dtype=np.int64)
    by_frame = np.full((int(frame.max(initial=-1)) + 1, len(animals)), np.nan)
    used_rows = rows[present]
    by_frame[frame[used_rows], animal[used_rows]] = changed[present]
    calm = _rolling_min(by_frame, calm_half_window_frames(signals.fps))[frame[rows], animal[rows]]
    calm_median = group_median(calm, present)
    area = animal_area_px(signals)
    area_row = np.array([area[a] for a in animals], dtype=np.float64)[animal[first]] if animals else np.zeros(0)
    shape_change, silhouette_change = means[:, cols.index("shape_change_px")], means[:, cols.index("silhouette_change_px")]
    out.update(
        motion=100.0 * median / area_row,
        motion_early=100.0 * early_median / area_row,
        motion_late=100.0 * late_median / area_row,
        motion_p10=100.0 * low / area_row,
        motion_calm=100.0 * calm_median / area_row,
        shape_motion=100.0 * shape_change / area_row,
        silhouette_motion=100.0 * silhouette_change / area_row,
    )
    out.update({c: means[:, i] for i, c in enumerate(cols)})
    out.update(changed_median_px=median, changed_early_px=early_median, changed_late_px=late_median, n_frames=sizes.astype(np.int64),
               body_area_px=area_row)
    table = pd.DataFrame(out)
    table["animal"] = table["animal"].astype(str)
    return table
