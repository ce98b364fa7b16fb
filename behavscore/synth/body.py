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
    deltas = np.stack([np.cos(angles), np.sin(angles)], axis=1) * step
    spine = np.concatenate([np.zeros((1, 2)), np.cumsum(deltas, axis=0)], axis=0)
    half_width = WIDTH_PROFILE * (0.5 * width_px * breath)
    normals = spine_normals(spine)
    belly = normals  # back_sign = -1 -> belly is +normal
    limbs = np.empty((4, 2, 2))
    for k, (index, side) in enumerate(((FORE_INDEX, 1.0), (FORE_INDEX, -1.0), (HIND_INDEX, 1.0), (HIND_INDEX, -1.0))):
        attach = spine[index] + belly[index] * half_width[index] * 0.55
        attach = attach + (spine[index + 1] - spine[index]) * 0.25 * side
        a = limb_angles_rad[k]
        n = belly[index]
        t = np.array([n[1], -n[0]])  # tangent pointing towards the head (for back_sign -1)
        direction = n * np.cos(a) + t * np.sin(a)
        limbs[k, 0] = attach
        limbs[k, 1] = attach + direction * limb_length_px
    if tail_xy is None:
        base_dir = angles[0] + np.pi if tail_heading_rad is None else tail_heading_rad
        n_tail = 8
        tail_angles = base_dir + tail_curl_rad * np.linspace(0.0, 1.0, n_tail - 1)
        tail_step = 0.85 * length_px / (n_tail - 1)
        tail_d = np.stack([np.cos(tail_angles), np.sin(tail_angles)], axis=1) * tail_step
        tail_xy = np.concatenate([np.zeros((1, 2)), np.cumsum(tail_d, axis=0)], axis=0)
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


def centroid(pose: MousePose) -> np.ndarray:
    """Width-weighted centroid of the body (x, y)."""
    w = pose.half_width
    return (pose.spine * w[:, None]).sum(axis=0) / w.sum()
