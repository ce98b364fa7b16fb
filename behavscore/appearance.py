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


def _largest_blob_px(crop: np.ndarray) -> float:
    h, w = crop.shape
    k = max(3, (min(h, w) // 2) | 1)
    background = cv2.medianBlur(crop, min(k, 255))
    contrast = cv2.absdiff(crop, background)
    spread = 1.4826 * float(np.median(contrast))
    mask = (contrast > max(MIN_CONTRAST_DN, 4.0 * spread)).astype(np.uint8)
    # Opening removes thin structures (bars, edges, reflections) that are not bodies.
    size = max(3, min(h, w) // 25)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return 0.0
    areas = stats[1:, cv2.CC_STAT_AREA].astype(float)
    area = float(areas.max())
    frac = area / (h * w)
    return area if MIN_AREA_FRACTION <= frac <= MAX_AREA_FRACTION else 0.0


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
    x0, y0 = int(round(roi.x * scale)), int(round(roi.y * scale))
    x1, y1 = int(round((roi.x + roi.w) * scale)), int(round((roi.y + roi.h) * scale))
    areas = np.array([_largest_blob_px(f[y0:y1, x0:x1]) for f in frames if y1 - y0 > 4 and x1 - x0 > 4])
    if areas.size == 0:
        return AnimalAppearance(False, float("nan"), 0.0)
    present = areas > 0
    frac = float(present.mean())
    if frac < 0.5:
        return AnimalAppearance(False, float("nan"), frac)
    return AnimalAppearance(True, float(np.median(areas[present])) / scale**2, frac)
