"""Silhouette moments and the change of shape that rigid motion (drift, pendulum swing) cannot explain."""

from __future__ import annotations

import math
from typing import NamedTuple

import cv2
import numpy as np


_FRINGE = np.ones((3, 3), np.uint8)


class Moments(NamedTuple):
    """Area (px), centroid (px) and orientation (radians, modulo pi) of a binary silhouette."""

    area_px: float
    x_px: float
    y_px: float
    angle_rad: float


def silhouette_moments(shape: np.ndarray) -> Moments | None:
    """Moments of a 0/1 mask or of an outline (contour); None when it is empty."""
    m = cv2.moments(shape, binaryImage=shape.ndim == 2 and shape.dtype == np.uint8)
    if m["m00"] <= 0:
        return None
    angle = 0.5 * math.atan2(2.0 * m["mu11"], m["mu20"] - m["mu02"])
    return Moments(m["m00"], m["m10"] / m["m00"], m["m01"] / m["m00"], angle)


def nonrigid_change_px(prev_mask: np.ndarray, prev: Moments, mask: np.ndarray, cur: Moments) -> int:
    """Pixels by which a silhouette differs from the previous one moved rigidly onto it.

    Parameters
    ----------
    prev_mask, mask : numpy.ndarray
        0/1 uint8 silhouettes of the same ROI at two times.
    prev, cur : Moments
        Their moments.

    Returns
    -------
    int
        Size of the symmetric difference after rotating the previous silhouette about its
        centroid by the change in orientation and translating it onto the current centroid,
        less its one-pixel fringe (a 3x3 erosion).

    Notes
    -----
    A body that only drifts or swings as a pendulum keeps its shape, so this stays near the
    boundary noise; struggling, paddling and curling change the shape and raise it.
    """
    turn = cur.angle_rad - prev.angle_rad
    turn = (turn + math.pi / 2) % math.pi - math.pi / 2  # orientation is defined modulo pi
    matrix = cv2.getRotationMatrix2D((prev.x_px, prev.y_px), -math.degrees(turn), 1.0)
    matrix[0, 2] += cur.x_px - prev.x_px
    matrix[1, 2] += cur.y_px - prev.y_px
    h, w = mask.shape
    moved = cv2.warpAffine(prev_mask, matrix, (w, h), flags=cv2.INTER_NEAREST, borderValue=0)
    # A rigidly moved outline differs by a one-pixel fringe (sub-pixel motion, rounding); only
    # differences thicker than that are a change of shape.
    return cv2.countNonZero(cv2.erode(cv2.bitwise_xor(moved, mask), _FRINGE))
