"""Lights that change from frame to frame, and matching a frame's brightness to another's.

Lamps on the mains beating with the camera's rate, or a camera's automatic exposure, change the
picture's brightness from one frame to the next, and a step of a few grey levels lights up the
background in a frame difference. A rolling shutter reads the sensor line by line and sees
100-Hz (or 120-Hz) lamp flicker as bands of light and shade along the sensor's rows, which roll
through the picture when the camera's rate is not a divisor of the flicker's. The sensor's rows
are the picture's rows, or its columns in a clip whose header turns it by a quarter (a phone's
portrait clip, stored as the sensor recorded it and measured upright): brightness is measured
and matched along those lines.
"""

from __future__ import annotations

import collections
import math
from typing import Iterable

import cv2
import numpy as np

#: Lights flicker when the mean luma of the ROIs' lines (rows, or columns; see
#: :func:`sensor_rows_axis`) changes from frame to frame by more than this (root mean square
#: over the last ``calibration_frames`` frames of each frame's median change over the lines),
#: in luma levels; each frame is then matched in brightness, line by line, to the frame it is
#: compared with before differencing. Steady synthetic lights give 0.52-1.16 along rows,
#: 0.46-1.24 along columns.
FLICKER_DN = 1.5
#: Axes of a picture along which brightness is measured and matched.
ROWS, COLUMNS = 0, 1


def sensor_rows_axis(turned_deg: int) -> int:
    """The lines of the upright picture that a rolling shutter read one by one: its rows, or its
    columns when the file's header turns the stored picture by 90 or 270 degrees."""
    return COLUMNS if turned_deg % 180 == 90 else ROWS


def line_means(part: np.ndarray, axis: int) -> np.ndarray:
    """Mean luma of each row (``axis`` ROWS) or column (COLUMNS) of an 8-bit image, luma levels
    (exact sums, then one division)."""
    if axis == ROWS:
        return cv2.reduce(part, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel() / float(part.shape[1])
    return cv2.reduce(part, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel() / float(part.shape[0])


def brightness_step_dn(means_dn: np.ndarray, before_means_dn: np.ndarray) -> float:
    """How much the lights changed between two frames: the median over the lines of the change
    of their mean luma, luma levels (a moving animal changes a few lines only; a flickering
    lamp, the whole frame or bands rolling through it). Equals ``numpy.median``."""
    change = np.abs(means_dn - before_means_dn)
    k = change.size // 2
    if change.size % 2:
        return float(np.partition(change, k)[k])
    low, high = np.partition(change, (k - 1, k))[k - 1 : k + 1]
    return float((low + high) / 2.0)


class BrightnessSteps:
    """The last ``n`` brightness steps between consecutive frames and their root mean square
    (luma levels), kept as a running sum: the same work per frame whatever ``n``."""

    def __init__(self, steps_dn: Iterable[float], n: int):
        self.window: collections.deque[float] = collections.deque(maxlen=max(1, n))
        self.total_sq = 0.0
        for step in steps_dn:
            self.add(step)

    def add(self, step_dn: float) -> None:
        if len(self.window) == self.window.maxlen:
            self.total_sq -= self.window[0] ** 2
        self.window.append(step_dn)
        self.total_sq += step_dn * step_dn

    def rms(self) -> float:
        """Root mean square of the steps in the window (0 when empty)."""
        return math.sqrt(max(self.total_sq / len(self.window), 0.0)) if self.window else 0.0


def match_brightness(before: np.ndarray, before_means_dn: np.ndarray, means_dn: np.ndarray, axis: int) -> np.ndarray:
    """``before`` with each row (``axis`` ROWS) or column (COLUMNS) scaled to its mean luma
    ``means_dn`` in the frame it is compared with (rounded half to even, 0-255)."""
    ratio = np.divide(means_dn, before_means_dn, out=np.ones_like(means_dn), where=before_means_dn > 0)
    return np.clip(np.rint(before * (ratio[:, None] if axis == ROWS else ratio[None, :])), 0, 255).astype(np.uint8)
