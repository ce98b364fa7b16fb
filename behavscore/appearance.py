"""Does an ROI hold something that looks like an animal, and how large is it?"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import cv2
import numpy as np

if TYPE_CHECKING:
    from .signals import Roi


@dataclass(frozen=True)
class AnimalAppearance:
    """What the sampled frames show of the animal in one ROI.

    Attributes
    ----------
    found : bool
        An animal-sized, compact, contrasting blob is seen in most sampled frames.
    area_px : float
        Median blob area in full-resolution pixels (NaN when not found).
    frames_with_blob : float
        Fraction of the sampled frames in which such a blob was seen.
    """

    found: bool
    area_px: float
    frames_with_blob: float


#: Blob area limits as fractions of the ROI area: an animal is neither a speck nor the whole arena.
MIN_AREA_FRACTION = 0.004
MAX_AREA_FRACTION = 0.35
#: Minimum luma contrast (levels) between animal and its surroundings.
MIN_CONTRAST_DN = 25.0


def median_u8(values: np.ndarray) -> float:
    """``numpy.median`` of a uint8 array (any strides), from counts of values: the same value, faster.

    For an even count it is the mean of the two middle values, as NumPy computes it. Low
    medians (frame-difference noise, local contrast) are found from a few counts of the values
    above 0, 1, ...; others from the histogram.
    """
    n = values.size
    if n == 0 or n >= 1 << 24:  # float32 histogram counts are exact below 2**24
        return float(np.median(values))
    upper_rank = n // 2
    lower_rank = upper_rank if n % 2 else upper_rank - 1
    lower = None
    for level in range(3):
        above = cv2.countNonZero(values if level == 0 else cv2.threshold(values, level, 1, cv2.THRESH_BINARY)[1])
        at_most = n - above  # values <= level
        if lower is None and at_most > lower_rank:
            lower = level
        if at_most > upper_rank:
            return (lower + level) / 2.0 if n % 2 == 0 else float(level)
    counts = cv2.calcHist([values], [0], None, [256], [0, 256]).ravel().astype(np.int64)
    below = np.cumsum(counts)
    upper = int(np.searchsorted(below, upper_rank, side="right"))
    if n % 2:
        return float(upper)
    if lower is None:
        lower = int(np.searchsorted(below, lower_rank, side="right"))
    return (lower + upper) / 2.0


def _largest_blob(crop: np.ndarray) -> tuple[np.ndarray, int, int] | None:
    """Labels, label and pixel count of the largest animal-sized compact contrasting blob, or None."""
    h, w = crop.shape
    k = max(3, (min(h, w) // 2) | 1)
    background = cv2.medianBlur(crop, min(k, 255))
    contrast = cv2.absdiff(crop, background)
    spread = 1.4826 * median_u8(contrast)
    # contrast > cut-off as 0/1; for integer levels "> t" and "> floor(t)" are the same test.
    mask = cv2.threshold(contrast, max(MIN_CONTRAST_DN, 4.0 * spread), 1, cv2.THRESH_BINARY)[1]
    # Opening removes thin structures (bars, edges, reflections) that are not bodies.
    size = max(3, min(h, w) // 25)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return None
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    area = int(stats[best, cv2.CC_STAT_AREA])
    return (labels, best, area) if MIN_AREA_FRACTION <= area / (h * w) <= MAX_AREA_FRACTION else None


def _blob_mask(crop: np.ndarray) -> np.ndarray | None:
    """Mask of the largest animal-sized compact contrasting blob in a crop, or None."""
    blob = _largest_blob(crop)
    return blob[0] == blob[1] if blob is not None else None


def _largest_blob_px(crop: np.ndarray) -> float:
    blob = _largest_blob(crop)
    return float(blob[2]) if blob is not None else 0.0


@dataclass(frozen=True)
class Silhouette:
    """How to cut the animal out of its ROI by luma alone.

    Attributes
    ----------
    threshold_dn : float
        Luma level halfway between the animal and its surroundings.
    dark : bool
        The animal is darker than its surroundings (True) or lighter.
    """

    threshold_dn: float
    dark: bool

    def cut(self, crop: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """The animal in a crop: a filled 0/1 uint8 mask of the largest region of
        animal-coloured pixels and its outline; None when there is none."""
        kind = cv2.THRESH_BINARY_INV if self.dark else cv2.THRESH_BINARY
        binary = cv2.threshold(crop, self.threshold_dn, 1, kind)[1]
        contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        if not contours:
            return None
        outline = max(contours, key=cv2.contourArea)
        mask = np.zeros_like(binary)
        cv2.drawContours(mask, [outline], -1, 1, thickness=-1)
        return mask, outline


def calibrate_silhouette(crops: Sequence[np.ndarray]) -> Silhouette | None:
    """Find the luma level that separates the animal from its surroundings.

    Parameters
    ----------
    crops : sequence of numpy.ndarray
        The ROI in a few frames (e.g. the first seconds of the video).

    Returns
    -------
    Silhouette or None
        None when no animal-like blob is seen in most of the crops.

    Notes
    -----
    In each crop the largest compact contrasting blob is taken as the animal; the threshold is
    halfway between its median luma and the median luma of a ring around it, so it adapts to
    coat colour and lighting (black mouse on white, white mouse on black).
    """
    inside, around = [], []
    for crop in crops:
        blob = _blob_mask(crop)
        if blob is None:
            continue
        blob8 = blob.astype(np.uint8)
        size = max(3, min(crop.shape) // 12) | 1
        ring = cv2.dilate(blob8, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))).astype(bool) & ~blob
        if ring.any():
            inside.append(median_u8(crop[blob]))
            around.append(median_u8(crop[ring]))
    if len(inside) < max(1, len(crops) // 2):
        return None
    a, b = float(np.median(inside)), float(np.median(around))
    if abs(a - b) < MIN_CONTRAST_DN:
        return None
    return Silhouette(threshold_dn=(a + b) / 2.0, dark=a < b)


def find_animal(frames: Sequence[np.ndarray], roi: "Roi", scale: float) -> AnimalAppearance:
    """Look for an animal-like blob in an ROI of down-scaled sampled frames.

    Parameters
    ----------
    frames : sequence of numpy.ndarray
        Luma frames down-scaled by ``scale``.
    roi : Roi
        Full-resolution compartment.
    scale : float
        Down-scaling factor of ``frames``.

    Returns
    -------
    AnimalAppearance

    Notes
    -----
    The background is a spatial median of the frame (kernel half the ROI's short side), so an
    animal that never moves is still seen; a morphological opening discards thin, bright or dark
    structures such as grid bars and cage edges, which frame differencing alone cannot tell from
    an animal that keeps still.
    """
    boxes = animal_boxes([roi], scale)
    return appearances([blob_areas_px(frame, boxes) for frame in frames], 1, scale)[0]


def animal_boxes(rois: Sequence["Roi"], scale: float) -> list[tuple[slice, slice] | None]:
    """Each ROI's rectangle in frames down-scaled by ``scale`` (None when too small to search)."""
    boxes = []
    for roi in rois:
        x0, y0 = int(round(roi.x * scale)), int(round(roi.y * scale))
        x1, y1 = int(round((roi.x + roi.w) * scale)), int(round((roi.y + roi.h) * scale))
        boxes.append((slice(y0, y1), slice(x0, x1)) if y1 - y0 > 4 and x1 - x0 > 4 else None)
    return boxes


def blob_areas_px(frame: np.ndarray, boxes: Sequence[tuple[slice, slice] | None]) -> list[float | None]:
    """Area (px of ``frame``) of the largest animal-like blob in each box of one frame (0 = none)."""
    return [_largest_blob_px(frame[box]) if box is not None else None for box in boxes]


def appearances(per_frame: Sequence[Sequence[float | None]], n_rois: int, scale: float) -> list[AnimalAppearance]:
    """The verdict for each of ``n_rois`` ROIs from :func:`blob_areas_px` of every sampled frame."""
    return [_appearance(np.array([a[j] for a in per_frame if a[j] is not None]), scale) for j in range(n_rois)]


def _appearance(areas: np.ndarray, scale: float) -> AnimalAppearance:
    """The verdict from the largest blob's area (0 = none) in each sampled frame."""
    if areas.size == 0:
        return AnimalAppearance(False, float("nan"), 0.0)
    present = areas > 0
    frac = float(present.mean())
    if frac < 0.5:
        return AnimalAppearance(False, float("nan"), frac)
    return AnimalAppearance(True, float(np.median(areas[present])) / scale**2, frac)
