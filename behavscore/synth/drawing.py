"""Sub-pixel, anti-aliased OpenCV drawing of a mouse from a plain pose description."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SHIFT = 4  # fixed-point bits for sub-pixel drawing
SCALE = 1 << SHIFT


@dataclass(frozen=True)
class Coat:
    """Colours (BGR) of one animal."""

    name: str
    body: tuple[int, int, int]
    sheen: tuple[int, int, int]
    skin: tuple[int, int, int]  # tail, paws, ears
    eye: tuple[int, int, int]


COATS = {
    "black": Coat("black", (34, 32, 30), (62, 60, 58), (70, 72, 88), (8, 8, 8)),
    "agouti": Coat("agouti", (52, 78, 104), (78, 108, 136), (110, 128, 170), (10, 10, 12)),
    "white": Coat("white", (222, 228, 232), (244, 248, 250), (170, 178, 226), (70, 60, 170)),
}


@dataclass(frozen=True)
class MousePose:
    """Geometry of one rendered mouse, in pixels.

    Attributes
    ----------
    spine : ndarray, shape (N, 2)
        Body mid-line from the tail base to the nose tip.
    half_width : ndarray, shape (N,)
        Body half-width at each spine point.
    back_sign : float
        +1 or -1: which normal of the spine is the animal's back (for the coat sheen).
    limbs : ndarray, shape (4, 2, 2)
        Fore-left, fore-right, hind-left, hind-right as (attachment, paw) segments.
    limb_width_px : float
        Limb thickness.
    tail : ndarray, shape (M, 2)
        Tail polyline from the tail base to the tip.
    ear : ndarray, shape (2,)
        Ear centre.
    eye : ndarray, shape (2,)
        Eye centre.
    size_px : float
        Reference body width, used for ear and eye radii.
    """

    spine: np.ndarray
    half_width: np.ndarray
    back_sign: float
    limbs: np.ndarray
    limb_width_px: float
    tail: np.ndarray
    ear: np.ndarray
    eye: np.ndarray
    size_px: float


def _fixed(points: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(points) * SCALE).astype(np.int32)


def spine_normals(spine: np.ndarray) -> np.ndarray:
    """Unit normals (rotated +90 degrees from the tangent) at every spine point."""
    tangent = np.empty_like(spine)
    tangent[1:-1] = spine[2:] - spine[:-2]
    tangent[0] = spine[1] - spine[0]
    tangent[-1] = spine[-1] - spine[-2]
    tangent /= np.maximum(np.sqrt((tangent * tangent).sum(axis=1)), 1e-9)[:, None]
    normals = np.empty_like(tangent)
    normals[:, 0] = -tangent[:, 1]
    normals[:, 1] = tangent[:, 0]
    return normals


def outline(spine: np.ndarray, half_width: np.ndarray, offset: float = 0.0, normals: np.ndarray | None = None) -> np.ndarray:
    """Closed polygon around a spine; ``offset`` shifts the mid-line along the normal (in
    units of the half-width)."""
    if normals is None:
        normals = spine_normals(spine)
    centre = spine + normals * (offset * half_width)[:, None]
    left = centre + normals * half_width[:, None]
    right = centre - normals * half_width[:, None]
    return np.concatenate([left, right[::-1]], axis=0)


def draw_mouse(img: np.ndarray, pose: MousePose, coat: Coat) -> None:
    """Draw a mouse in place: tail, far limbs, body with sheen, near limbs, ear, eye."""
    aa = cv2.LINE_AA
    limb_w = max(1, int(round(pose.limb_width_px)))
    cv2.polylines(img, [_fixed(pose.tail)], False, coat.skin, max(1, limb_w - 1), aa, SHIFT)
    far_colour = tuple(int(c * 0.8) for c in coat.body)
    for k in (1, 3):  # far side limbs, slightly darker, behind the body
        a, b = _fixed(pose.limbs[k])
        cv2.line(img, tuple(a), tuple(b), far_colour, limb_w, aa, SHIFT)
    normals = spine_normals(pose.spine)
    cv2.fillPoly(img, [_fixed(outline(pose.spine, pose.half_width, normals=normals))], coat.body, aa, SHIFT)
    sheen = outline(pose.spine[1:-2], pose.half_width[1:-2] * 0.4, offset=0.9 * pose.back_sign, normals=normals[1:-2])
    cv2.fillPoly(img, [_fixed(sheen)], coat.sheen, aa, SHIFT)
    for k in (0, 2):
        a, b = _fixed(pose.limbs[k])
        cv2.line(img, tuple(a), tuple(b), coat.body, limb_w, aa, SHIFT)
        cv2.circle(img, tuple(b), int(SCALE * limb_w * 0.6), coat.skin, -1, aa, SHIFT)
    ear_r = int(SCALE * 0.22 * pose.size_px)
    cv2.circle(img, tuple(_fixed(pose.ear)), ear_r, coat.body, -1, aa, SHIFT)
    cv2.circle(img, tuple(_fixed(pose.ear)), int(ear_r * 0.6), coat.skin, -1, aa, SHIFT)
    cv2.circle(img, tuple(_fixed(pose.eye)), int(SCALE * 0.1 * pose.size_px), coat.eye, -1, aa, SHIFT)
