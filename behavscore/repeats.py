"""Frames that repeat the one before: a camera that captured fewer frames than its file holds.

Many USB and CCTV cameras fill a 30-frames/s file from a slower capture (low light, a busy
bus) by repeating frames. A repeated frame differs from its predecessor by compression noise
only, so consecutive-frame differencing sees a moving animal "stop" for one frame in every two
or three, and the per-second motion index of a walking animal comes out lower and noisier than
the animal's movement. Such frames are found from the motion signals alone (no re-decoding)
and left out of the per-second motion measures.

A picture composed of several cameras (a quad splitter, clips of separate arenas set side by
side) may repeat frames in one compartment only, at that camera's own rate: each ROI's changes
are searched too.
"""

from __future__ import annotations

import numpy as np

from .signals import MotionSignals

#: A frame (or a pair of frames) is a gap when its total change is at most this share of the
#: change of the frames on either side of it.
GAP_FRACTION = 0.05
#: Longest run of repeated frames looked for (a third of the file's rate or more captured).
MAX_GAP_FRAMES = 2
#: Gaps are taken for repeated frames only when they make up at least this share of the frames
#: that change at all: a moving animal does not stop for single frames, so in a file whose
#: every frame is a new capture gaps are rare (under 4 % in the synthetic videos; 28-63 % in
#: real files padded by their camera).
MIN_GAP_SHARE = 0.20


def frame_change_px(signals: MotionSignals) -> np.ndarray:
    """Changed pixels per frame, summed over the ROIs (0 where not measured)."""
    f = signals.frames
    frame = f["frame"].to_numpy(dtype=np.int64)
    changed = np.nan_to_num(f["changed_px"].to_numpy(dtype=np.float64))
    return np.bincount(frame, weights=changed, minlength=signals.n_frames)[: signals.n_frames]


def gap_frames(change_px: np.ndarray) -> np.ndarray:
    """Runs of one or two frames that change almost nothing between two frames that change.

    Parameters
    ----------
    change_px : numpy.ndarray
        Changed pixels per frame (difference to the frame before).

    Returns
    -------
    numpy.ndarray
        Boolean per frame: inside a run of at most ``MAX_GAP_FRAMES`` frames whose change is at
        most ``GAP_FRACTION`` of the smaller change of the two frames around the run, both of
        which change.
    """
    c = np.asarray(change_px, dtype=np.float64)
    n = c.size
    gap = np.zeros(n, dtype=bool)
    for run in range(1, MAX_GAP_FRAMES + 1):
        if n < run + 2:
            break
        before, after = c[: n - run - 1], c[run + 1 :]
        inside = np.max([c[1 + k : n - run + k] for k in range(run)], axis=0)
        hit = (before > 0) & (after > 0) & (inside <= GAP_FRACTION * np.minimum(before, after))
        for k in range(run):
            gap[1 + k : n - run + k] |= hit
    return gap


def _repeats(change_px: np.ndarray, known: np.ndarray | None = None) -> np.ndarray:
    """The gaps of a series of changed pixels, when they are common enough to be repeats
    (not counting ``known`` repeats, whose own gaps say nothing of the camera)."""
    gap = gap_frames(change_px) if known is None else gap_frames(change_px) & ~known
    changing = int(np.count_nonzero(change_px > 0))
    if changing == 0 or np.count_nonzero(gap) < MIN_GAP_SHARE * changing:
        return np.zeros(gap.size, dtype=bool)
    return gap


def repeated_frames(signals: MotionSignals) -> np.ndarray:
    """Frames of a video that repeat the frame before (none when the file holds no padding).

    Parameters
    ----------
    signals : MotionSignals

    Returns
    -------
    numpy.ndarray
        Boolean per frame index (``signals.n_frames`` long): the gaps (:func:`gap_frames`) when
        they are at least ``MIN_GAP_SHARE`` of the frames that change, and the frames filled in
        to hold the file to a constant rate (``signals.filled_frames``). Where the signals
        compare frames further apart than consecutive ones, gaps are not looked for: the filled
        frames only.
    """
    filled = np.isin(np.arange(signals.n_frames), signals.filled_frames)
    if signals.params.lag_frames(signals.fps) != 1:
        return filled
    return _repeats(frame_change_px(signals), filled) | filled


def repeated_rows(signals: MotionSignals) -> np.ndarray:
    """Rows of ``signals.frames`` whose frame repeats the one before in that row's ROI.

    Parameters
    ----------
    signals : MotionSignals

    Returns
    -------
    numpy.ndarray
        Boolean per row of ``signals.frames``: the whole frame repeats (:func:`repeated_frames`),
        or the ROI's own changed pixels have gaps (:func:`gap_frames`) in at least
        ``MIN_GAP_SHARE`` of the frames in which they change (a compartment filmed by a slower
        camera of a composed picture). Where the signals compare frames further apart than
        consecutive ones, the filled frames of :func:`repeated_frames` only.
    """
    f = signals.frames
    frame = f["frame"].to_numpy(dtype=np.int64)
    out = repeated_frames(signals)[frame]
    if signals.params.lag_frames(signals.fps) != 1:
        return out
    changed = np.nan_to_num(f["changed_px"].to_numpy(dtype=np.float64))
    filled = np.isin(frame, signals.filled_frames)
    for idx in f.groupby("animal", sort=False, observed=True).indices.values():
        rows = idx[np.argsort(frame[idx], kind="stable")]
        out[rows] |= _repeats(changed[rows], filled[rows])
    return out


def animals_with_repeats(signals: MotionSignals) -> list[str]:
    """The animals whose per-second motion leaves out repeated frames (:func:`repeated_rows`)."""
    rows = repeated_rows(signals)
    return list(dict.fromkeys(signals.frames["animal"].to_numpy()[rows].tolist()))


def repeat_warning(signals: MotionSignals) -> str | None:
    """What to tell the user about repeated frames (whole frames, or one compartment's), or None."""
    parts = []
    whole = repeated_frames(signals)
    camera = whole & ~np.isin(np.arange(signals.n_frames), signals.filled_frames)  # fills: told as the file's timing
    if camera.any():
        share = np.count_nonzero(camera) / max(1, signals.n_frames)
        parts.append(
            f"{share:.0%} of frames repeat the frame before (the camera captured about "
            f"{signals.fps * (1 - share):.0f} of the file's {signals.fps:g} frames/s)"
        )
    frame = signals.frames["frame"].to_numpy(dtype=np.int64)
    rows = repeated_rows(signals)
    own = rows & ~whole[frame]
    for animal, idx in signals.frames.groupby("animal", sort=False, observed=True).indices.items():
        if own[idx].any():
            share = np.count_nonzero(rows[idx]) / idx.size
            parts.append(
                f"{share:.0%} of {animal}'s frames repeat the frame before in its compartment alone (a picture "
                f"composed from a camera of about {signals.fps * (1 - share):.0f} frames/s)"
            )
    if not parts:
        return None
    return f"{signals.video}: " + "; ".join(parts) + "; per-second motion is measured on the new frames only"


#: A picture frozen by its recorder (the camera's signal lost and the last frame repeated, a
#: capture program that stalls) is told from a camera that repeats frames by runs at least
#: this long of frames identical, pixel for pixel, to the one before in an ROI: a camera that
#: captures 4 frames/s or more repeats none this long. (A recorder that encodes the frozen
#: picture afresh at each key frame breaks it into runs as long as its key-frame interval.)
FROZEN_RUN_S = 0.3


def frozen_seconds(signals: MotionSignals, window_s: tuple[float, float]) -> dict[str, tuple[float, float]]:
    """Where each ROI's picture stands still, pixel for pixel, inside a window.

    Parameters
    ----------
    signals : MotionSignals
    window_s : (float, float)
        Start and end of the window, seconds of the video.

    Returns
    -------
    dict
        ``animal -> (frozen_s, first_s)`` for the ROIs with runs of at least ``FROZEN_RUN_S``
        of frames identical to the frame compared with (``diff_mean_dn`` exactly 0) inside the
        window: the seconds in such runs, and when the first begins.
    """
    f = signals.frames
    start, end = (int(round(t * signals.fps)) for t in window_s)
    min_run = max(2, int(np.ceil(FROZEN_RUN_S * signals.fps)))
    out = {}
    for animal, rows in f.groupby("animal", sort=False, observed=True):
        rows = rows[(rows["frame"] >= start) & (rows["frame"] < end)].sort_values("frame")
        same = np.r_[False, rows["diff_mean_dn"].to_numpy() == 0, False]
        edges = np.flatnonzero(np.diff(same.astype(np.int8)))
        first, last = edges[::2], edges[1::2]  # each run: rows first..last-1
        long = (last - first) >= min_run
        if long.any():
            frames = rows["frame"].to_numpy()
            out[str(animal)] = (float((last - first)[long].sum()) / signals.fps, float(frames[first[long][0]]) / signals.fps)
    return out


def frozen_warnings(signals: MotionSignals, window_s: tuple[float, float]) -> dict[str, str]:
    """What to tell the user (by animal) about ROIs whose picture stands still inside the window
    (see :func:`frozen_seconds`)."""
    return {
        animal: f"{signals.video}: ROI {animal!r}: the picture does not change at all (every pixel the same as in the "
        f"frame before) for {frozen_s:.1f} s of the window, from {first_s:.1f} s on, in runs of {FROZEN_RUN_S:g} s or "
        f"more: a frozen picture (a recorder that lost the camera's signal) is scored as immobility; look at the video there"
        for animal, (frozen_s, first_s) in frozen_seconds(signals, window_s).items()
    }
