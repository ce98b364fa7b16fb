"""Articulated mouse skeleton: spine, limbs and tail from a few joint parameters."""

from __future__ import annotations

import numpy as np

from behavscore.synth.drawing import MousePose, spine_normals

N_SPINE = 9
# half-width along the spine, tail base -> nose tip, relative to the body half-width
WIDTH_PROFILE = np.array([0.62, 0.88, 1.0, 1.0, 0.93, 0.78, 0.6, 0.4, 0.14])
_S = np.linspace(0.0, 1.0, N_SPINE)
HIND_INDEX = 2
FORE_INDEX = 5
_LIMB_INDEX = np.array([FORE_INDEX, FORE_INDEX, HIND_INDEX, HIND_INDEX])
_LIMB_SIDE = np.array([1.0, -1.0, 1.0, -1.0])
_TAIL_S = np.linspace(0.0, 1.0, 7)


def skeleton(
    heading_rad: float,
    bend_rad: float,
    length_px: float,
    width_px: float,
    limb_angles_rad: np.ndarray,
    limb_length_px: float,
    tail_heading_rad: float | None = None,
    tail_curl_rad: float = 0.6,
    breath: float = 1.0,
    tail_xy: np.ndarray | None = None,
) -> MousePose:
    """A mouse with its tail base at the origin, in image axes (y down).

    Parameters
    ----------
    heading_rad : float
        Direction of the first spine segment (tail base towards the head); 0 points right,
        -pi/2 points up.
    bend_rad : float
        Total turning of the spine from tail base to nose (positive curls clockwise on screen).
    length_px, width_px : float
        Body length (tail base to nose) and maximum width.
    limb_angles_rad : array of 4
        Fore-left, fore-right, hind-left, hind-right; angle of each limb from the belly normal,
        positive towards the head.
    limb_length_px : float
        Limb length.
    tail_heading_rad : float, optional
        Direction of the tail leaving the body; default straight back.
    tail_curl_rad : float
        Total turning along the tail.
    breath : float
        Multiplier on the body width (breathing).
    tail_xy : ndarray, optional
        Explicit tail polyline (base first); overrides the tail parameters.

    Returns
    -------
    MousePose
        With ``back_sign`` = -1 (the back is the normal's negative side when the heading is
        rightwards and the body is upright).
    """
    angles = heading_rad + bend_rad * _S[:-1]
    step = length_px / (N_SPINE - 1)
    spine = np.zeros((N_SPINE, 2))
    spine[1:, 0] = np.cumsum(np.cos(angles)) * step
    spine[1:, 1] = np.cumsum(np.sin(angles)) * step
    half_width = WIDTH_PROFILE * (0.5 * width_px * breath)
    normals = spine_normals(spine)  # belly side (back_sign = -1)
    index = _LIMB_INDEX
    n = normals[index]
    t = np.stack([n[:, 1], -n[:, 0]], axis=1)  # towards the head
    attach = spine[index] + n * (half_width[index] * 0.55)[:, None]
    attach += (spine[index + 1] - spine[index]) * (0.25 * _LIMB_SIDE)[:, None]
    a = np.asarray(limb_angles_rad)
    direction = n * np.cos(a)[:, None] + t * np.sin(a)[:, None]
    limbs = np.empty((4, 2, 2))
    limbs[:, 0] = attach
    limbs[:, 1] = attach + direction * limb_length_px
    if tail_xy is None:
        base_dir = angles[0] + np.pi if tail_heading_rad is None else tail_heading_rad
        tail_angles = base_dir + tail_curl_rad * _TAIL_S
        tail_step = 0.85 * length_px / len(_TAIL_S)
        tail_xy = np.zeros((len(_TAIL_S) + 1, 2))
        tail_xy[1:, 0] = np.cumsum(np.cos(tail_angles)) * tail_step
        tail_xy[1:, 1] = np.cumsum(np.sin(tail_angles)) * tail_step
    head = spine[6]
    back = -normals[6]
    ear = head + back * half_width[6] * 0.75 - (spine[7] - spine[6]) * 0.3
    eye = spine[7] + back * half_width[7] * 0.35
    return MousePose(
        spine=spine,
        half_width=half_width,
        back_sign=-1.0,
        limbs=limbs,
        limb_width_px=max(2.0, 0.16 * width_px),
        tail=tail_xy,
        ear=ear,
        eye=eye,
        size_px=width_px,
    )


def transform(pose: MousePose, matrix: np.ndarray) -> MousePose:
    """Apply a 2x3 affine map to every point of a pose (a mirror flips the back side)."""
    lin = matrix[:, :2]
    off = matrix[:, 2]

    def apply(p: np.ndarray) -> np.ndarray:
        return p @ lin.T + off

    det = float(np.linalg.det(lin))
    return MousePose(
        spine=apply(pose.spine),
        half_width=pose.half_width,
        back_sign=pose.back_sign * (1.0 if det >= 0 else -1.0),
        limbs=apply(pose.limbs.reshape(-1, 2)).reshape(4, 2, 2),
        limb_width_px=pose.limb_width_px,
        tail=apply(pose.tail),
        ear=apply(pose.ear),
        eye=apply(pose.eye),
        size_px=pose.size_px,
    )


def blend(a: MousePose, b: MousePose, weight: float) -> MousePose:
    """The pose ``weight`` of the way from ``a`` to ``b`` (0 = ``a``), point by point."""
    w = float(weight)

    def mix(p: np.ndarray, q: np.ndarray) -> np.ndarray:
        return (1.0 - w) * p + w * q

    return MousePose(
        spine=mix(a.spine, b.spine),
        half_width=mix(a.half_width, b.half_width),
        back_sign=a.back_sign if w < 0.5 else b.back_sign,
        limbs=mix(a.limbs, b.limbs),
        limb_width_px=a.limb_width_px,
        tail=mix(a.tail, b.tail),
        ear=mix(a.ear, b.ear),
        eye=mix(a.eye, b.eye),
        size_px=a.size_px,
    )


def centroid(pose: MousePose) -> np.ndarray:
    """Width-weighted centroid of the body (x, y)."""
    w = pose.half_width
    return (pose.spine * w[:, None]).sum(axis=0) / w.sum()
