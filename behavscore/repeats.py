"""Frames that repeat the one before: a camera that captured fewer frames than its file holds.

Many USB and CCTV cameras fill a 30-frames/s file from a slower capture (low light, a busy
bus) by repeating frames. A repeated frame differs from its predecessor by compression noise
only, so consecutive-frame differencing sees a moving animal "stop" for one frame in every two
or three, and the per-second motion index of a walking animal comes out lower and noisier than
the animal's movement. Such frames are found from the motion signals alone (no re-decoding)
and left out of the per-second motion measures.
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


def repeated_frames(signals: MotionSignals) -> np.ndarray:
    """Frames of a video that repeat the frame before (none when the file holds no padding).

    Parameters
    ----------
    signals : MotionSignals

    Returns
    -------
    numpy.ndarray
        Boolean per frame index (``signals.n_frames`` long). All False when the signals compare
        frames further apart than consecutive ones, or when gaps (:func:`gap_frames`) are under
        ``MIN_GAP_SHARE`` of the frames that change.
    """
    none = np.zeros(signals.n_frames, dtype=bool)
    if signals.params.lag_frames(signals.fps) != 1:
        return none
    change = frame_change_px(signals)
    gap = gap_frames(change)
    changing = int(np.count_nonzero(change > 0))
    if changing == 0 or np.count_nonzero(gap) < MIN_GAP_SHARE * changing:
        return none
    return gap


def repeat_warning(signals: MotionSignals, repeated: np.ndarray) -> str | None:
    """What to tell the user about repeated frames, or None when there are none."""
    n = int(np.count_nonzero(repeated))
    if n == 0:
        return None
    share = n / max(1, signals.n_frames)
    return (
        f"{signals.video}: {share:.0%} of frames repeat the frame before (the camera captured about "
        f"{signals.fps * (1 - share):.0f} of the file's {signals.fps:g} frames/s); per-second motion is "
        f"measured on the new frames only"
    )
