"""Does an ROI hold something that looks like an animal, and how large is it?"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
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


def median_frame(stack: np.ndarray) -> np.ndarray:
    """Per-pixel median of a ``(frames, height, width)`` uint8 stack, as float32.

    The same values as ``numpy.median(stack, axis=0)`` (whole or half luma levels, exact in
    float32), from a radix sort of the uint8 values, which is faster than NumPy's partition.
    """
    ordered = np.sort(stack, axis=0, kind="stable")
    n = stack.shape[0]
    return (ordered[(n - 1) // 2].astype(np.float32) + ordered[n // 2]) / np.float32(2.0)


#: Smallest blob, as a fraction of the ROI, taken for an animal that is seen to move (a mouse in
#: a whole open field): a blob that moves is no speck of dirt.
MIN_MOVING_AREA_FRACTION = 0.001
#: A pixel has moved when its luma differs from the median of the sampled frames by more than
#: this many levels.
MOVED_DN = MIN_CONTRAST_DN
#: A blob moves (in one frame), or ever moves (over the sampled frames), when at least this share
#: of its pixels does.
MOVED_SHARE = 0.5


@dataclass(frozen=True)
class Blobs:
    """Compact contrasting regions of one crop, labelled.

    Attributes
    ----------
    labels : numpy.ndarray
        int32 label image, 0 = background.
    areas_px : numpy.ndarray
        Pixel count of each label (index 0: background).
    """

    labels: np.ndarray
    areas_px: np.ndarray

    def largest(self) -> int | None:
        """Label of the largest region when it is animal-sized, else None."""
        if self.areas_px.size <= 1:
            return None
        best = 1 + int(np.argmax(self.areas_px[1:]))
        share = self.areas_px[best] / self.labels.size
        return best if MIN_AREA_FRACTION <= share <= MAX_AREA_FRACTION else None

    def share_in(self, pixels: np.ndarray, label: int) -> float:
        """The share of one label's pixels that are set in the boolean image ``pixels``."""
        return np.count_nonzero(pixels[self.labels == label]) / max(int(self.areas_px[label]), 1)

    def share_of(self, pixels: np.ndarray) -> np.ndarray:
        """For each label, the share of its pixels that are set in the boolean image ``pixels``."""
        hits = np.bincount(self.labels.ravel(), weights=pixels.ravel(), minlength=self.areas_px.size)
        return hits / np.maximum(self.areas_px, 1)


def find_blobs(crop: np.ndarray) -> Blobs:
    """Compact regions of a crop that contrast with their neighbourhood (animal candidates).

    The background is a spatial median of the crop (kernel half its short side), so an animal
    that never moves is still seen; a morphological opening discards thin, bright or dark
    structures such as grid bars and cage edges.
    """
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
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return Blobs(labels, stats[:, cv2.CC_STAT_AREA].astype(np.int64))


def pick_animals(crops: Sequence[np.ndarray], blobs: Sequence[Blobs]) -> list[np.ndarray | None]:
    """The animal's mask in each of several crops of one ROI (None where none is seen).

    Parameters
    ----------
    crops : sequence of numpy.ndarray
        The ROI in frames sampled across the video (same size, uint8 luma).
    blobs : sequence of Blobs
        :func:`find_blobs` of each crop.

    Returns
    -------
    list
        Per crop, a boolean mask of the animal, or None.

    Notes
    -----
    In each crop the largest animal-sized region is the animal, unless it never moves: when fewer
    than :data:`MOVED_SHARE` of its pixels ever differ by more than :data:`MOVED_DN` from the
    median of the crops (a dark arena wall, bedding at the frame edge, a feeder), the largest
    region that has moved in this crop is taken instead, down to :data:`MIN_MOVING_AREA_FRACTION`
    of the ROI. An animal that never moves at all keeps the largest region, as before: nothing
    else tells it from the scenery.
    """
    if not crops:
        return []
    stack = np.stack(crops)
    moved = np.abs(stack.astype(np.float32) - median_frame(stack)) > MOVED_DN
    ever_moved = moved.any(axis=0)
    out: list[np.ndarray | None] = []
    for crop_moved, b in zip(moved, blobs):
        pick = b.largest()
        if pick is None or b.share_in(ever_moved, pick) < MOVED_SHARE:
            share = b.areas_px / b.labels.size
            moving = (b.share_of(crop_moved) >= MOVED_SHARE) & (share >= MIN_MOVING_AREA_FRACTION) & (share <= MAX_AREA_FRACTION)
            moving[0] = False
            if moving.any():
                pick = int(np.argmax(np.where(moving, b.areas_px, -1)))
        out.append(b.labels == pick if pick is not None else None)
    return out


#: A region of the animal's colour more than this many times the animal's calibrated area is
#: not the animal (a dark arena wall around a dark mouse).
SILHOUETTE_MAX_AREA_FACTOR = 4.0
#: Structuring element of the opening that removes lines under 3 px thick before the animal is
#: cut out: the drawn outline of a cylinder or box (which the animal would otherwise join when
#: it touches the wall, making one region too large to be it) and the thin tail.
_THIN = np.ones((3, 3), np.uint8)
#: Calibration crops needed before pixels of the animal's colour in all of them, away from the
#: animal, are taken for still scenery.
SCENERY_MIN_CROPS = 3
#: Still scenery also takes in pixels that come within this share of the way from the threshold
#: to the surroundings' luma (on the animal's side of it) in every calibration crop: the shaded
#: bottom of a water cylinder a few grey levels off the threshold, which sensor noise and a
#: slight change of the lights would otherwise turn into a region larger than the animal.
SCENERY_MARGIN_SHARE = 0.5
#: The animal's region must change between calibration crops by at least this share of its
#: area (pixels in one crop's region and not the next's, or the reverse) in some pair of them:
#: a region that stays put for the 2 s is scenery (an empty apparatus before the mouse is put
#: in), or an animal that has not moved yet, and the ROI is calibrated once it has. Mice at the
#: start of the synthetic tests: 31 % or more; scenery of an empty cylinder or bar: 0-8 %.
STILL_REGION_SHARE = 0.15
#: A region whose surrounding pixels are still scenery for at least this share is a fringe of
#: that scenery, not the animal (an animal touching a divider borders it along a short stretch).
FRINGE_SHARE = 0.3


@dataclass(frozen=True)
class Silhouette:
    """How to cut the animal out of its ROI by luma alone.

    Attributes
    ----------
    threshold_dn : float
        Luma level halfway between the animal and its surroundings.
    dark : bool
        The animal is darker than its surroundings (True) or lighter.
    area_px : float or None
        The animal's area in the calibration crops (px of the crops); regions more than
        :data:`SILHOUETTE_MAX_AREA_FACTOR` times larger are not the animal. None = no limit.
    keep : numpy.ndarray or None
        0/1 uint8 mask of the crop, 0 where still scenery of the animal's colour lies (a dark
        divider beside a dark mouse, the bar it hangs from): never part of the silhouette.
        None = every pixel may be.
    """

    threshold_dn: float
    dark: bool
    area_px: float | None = None
    keep: np.ndarray | None = field(default=None, compare=False, repr=False)

    def cut(self, crop: np.ndarray, gain: float = 1.0) -> tuple[np.ndarray, np.ndarray] | None:
        """The animal in a crop: a filled 0/1 uint8 mask of the largest region of animal-coloured
        pixels no larger than ``SILHOUETTE_MAX_AREA_FACTOR x area_px``, and its outline; None when
        there is none.

        Animal-coloured = beyond ``threshold_dn x gain``, where ``gain`` is the brightness of the
        lights now relative to the calibration frames (the frame's mean luma over theirs): lights
        that dim or brighten over a session, a camera's automatic exposure. With a fixed
        threshold, scenery a few grey levels off it (the shaded bottom of a water cylinder) turns
        animal-coloured after a drift of a few percent and is cut out instead of the animal.
        Still scenery of the animal's colour (``keep``) is left out, then animal-coloured lines
        under 3 px thick are removed (a 3x3 opening): arena outlines the animal touches and its
        tail. Regions inside the hole of another (a dark mouse inside a dark ring-shaped arena
        wall) count as regions of their own.
        """
        kind = cv2.THRESH_BINARY_INV if self.dark else cv2.THRESH_BINARY
        binary = cv2.threshold(crop, self.threshold_dn * gain, 1, kind)[1]
        if self.keep is not None:
            binary = cv2.bitwise_and(binary, self.keep)
        binary = cv2.morphologyEx(binary, cv2.MORPH_OPEN, _THIN)
        contours, hierarchy = cv2.findContours(binary, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
        limit = np.inf if self.area_px is None else SILHOUETTE_MAX_AREA_FACTOR * self.area_px
        regions = [
            (cv2.contourArea(outline), outline)
            for outline, (_, _, _, parent) in zip(contours, hierarchy[0] if contours else ())
            if parent < 0  # not the outline of a hole
        ]
        for area, outline in sorted(regions, key=lambda r: -r[0]):
            if area > limit:
                continue
            mask = np.zeros_like(binary)
            cv2.drawContours(mask, [outline], -1, 1, thickness=-1)
            if self.keep is None or not self._fringe(mask):
                return mask, outline
        return None

    def _fringe(self, mask: np.ndarray) -> bool:
        """Whether a region hugs the still scenery: at least ``FRINGE_SHARE`` of the pixels just
        outside it are scenery (the flickering edge of a wall, left over once the wall is removed)."""
        ring = cv2.subtract(cv2.dilate(mask, _THIN), mask)
        n = cv2.countNonZero(ring)
        return n > 0 and cv2.countNonZero(cv2.subtract(ring, self.keep)) >= FRINGE_SHARE * n


def calibrate_silhouette(crops: Sequence[np.ndarray]) -> Silhouette | None:
    """Find the luma level that separates the animal from its surroundings.

    Parameters
    ----------
    crops : sequence of numpy.ndarray
        The ROI in a few frames (e.g. the first seconds of the video).

    Returns
    -------
    Silhouette or None
        None when no animal-like blob is seen in most of the crops, or when the one seen stays
        put (changes by under :data:`STILL_REGION_SHARE` of its area between every two crops).

    Notes
    -----
    In each crop the animal is found by :func:`pick_animals` (a region whose median luma is within
    :data:`MIN_CONTRAST_DN` of the crop's is the ROI's own background set off against something
    darker or lighter, e.g. a strip of the next compartment, and is passed over); the threshold
    is halfway between its median luma and the median luma of a ring around it, so it adapts to
    coat colour and lighting (black mouse on white, white mouse on black). Its median area is
    kept, so that a much larger region of the animal's colour (a dark arena wall) is not taken
    for it later.
    With at least :data:`SCENERY_MIN_CROPS` crops, the pixels of the animal's colour, or
    within :data:`SCENERY_MARGIN_SHARE` of the way from the threshold to the surroundings' luma,
    in every crop that lie outside the animal and its ring in all of them are still scenery, left
    out of every silhouette (``keep``).
    """
    inside, around, areas, near, regions = [], [], [], [], []
    for crop, blob in zip(crops, pick_animals(crops, [find_blobs(c) for c in crops])):
        if blob is None:
            continue
        animal_dn = median_u8(crop[blob])
        if abs(animal_dn - median_u8(crop)) < MIN_CONTRAST_DN:
            continue  # a region as light as most of the ROI: its background, not the animal
        regions.append(blob)
        size = max(3, min(crop.shape) // 12) | 1
        grown = cv2.dilate(blob.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))).astype(bool)
        ring = grown & ~blob
        near.append(grown)
        if ring.any():
            inside.append(animal_dn)
            around.append(median_u8(crop[ring]))
            areas.append(float(np.count_nonzero(blob)))
    if len(inside) < max(1, len(crops) // 2):
        return None
    if len(regions) >= 2 and max(np.count_nonzero(a ^ b) / np.count_nonzero(a) for a, b in zip(regions, regions[1:])) < STILL_REGION_SHARE:
        return None  # nothing moved: scenery, or an animal still to move
    a, b = float(np.median(inside)), float(np.median(around))
    if abs(a - b) < MIN_CONTRAST_DN:
        return None
    sil = Silhouette(threshold_dn=(a + b) / 2.0, dark=a < b, area_px=float(np.median(areas)))
    if len(crops) < SCENERY_MIN_CROPS:
        return sil
    kind = cv2.THRESH_BINARY_INV if sil.dark else cv2.THRESH_BINARY
    near_threshold_dn = sil.threshold_dn + SCENERY_MARGIN_SHARE * (b - a) / 2.0
    coloured = np.logical_and.reduce([cv2.threshold(c, near_threshold_dn, 1, kind)[1].astype(bool) for c in crops])
    scenery = coloured & ~np.logical_or.reduce(near)
    return replace(sil, keep=(~scenery).astype(np.uint8)) if scenery.any() else sil


def animal_boxes(rois: Sequence["Roi"], scale: float) -> list[tuple[slice, slice] | None]:
    """Each ROI's rectangle in frames down-scaled by ``scale`` (None when too small to search)."""
    boxes = []
    for roi in rois:
        x0, y0 = int(round(roi.x * scale)), int(round(roi.y * scale))
        x1, y1 = int(round((roi.x + roi.w) * scale)), int(round((roi.y + roi.h) * scale))
        boxes.append((slice(y0, y1), slice(x0, x1)) if y1 - y0 > 4 and x1 - x0 > 4 else None)
    return boxes


def animal_appearance(crops: Sequence[np.ndarray], blobs: Sequence[Blobs], scale: float) -> AnimalAppearance:
    """The verdict for one ROI from its crops of the sampled frames and their :func:`find_blobs`."""
    picks = pick_animals(crops, blobs)
    return _appearance(np.array([np.count_nonzero(m) if m is not None else 0.0 for m in picks], dtype=float), scale)


def _appearance(areas: np.ndarray, scale: float) -> AnimalAppearance:
    """The verdict from the animal's area (0 = none) in each sampled frame."""
    if areas.size == 0:
        return AnimalAppearance(False, float("nan"), 0.0)
    present = areas > 0
    frac = float(present.mean())
    if frac < 0.5:
        return AnimalAppearance(False, float("nan"), frac)
    return AnimalAppearance(True, float(np.median(areas[present])) / scale**2, frac)
