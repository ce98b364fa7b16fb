"""Forced swim test scene: side view of a water-filled cylinder with a floating, swimming or climbing mouse."""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from behavscore.synth import body
from behavscore.synth.animal import AnimalTraits
from behavscore.synth.bouts import CLIMBING, SWIMMING
from behavscore.synth.drawing import SCALE, SHIFT

FLOAT, PADDLE, SWIM, CLIMB = 0, 1, 2, 3
FST_DETAILS = ("float", "paddle", "swim", "climb")


@dataclass(frozen=True)
class FstGeometry:
    """Layout of one cylinder panel, in pixels relative to the panel's top-left corner."""

    panel_w: int = 160
    panel_h: int = 200
    wall_left: int = 18
    wall_right: int = 142
    top_y: int = 16
    water_y: int = 92
    bottom_y: int = 186
    body_length_px: float = 58.0
    body_width_px: float = 21.0


@dataclass(frozen=True)
class FstTrack:
    """Per-frame pose parameters of one animal plus its frame-level detail codes."""

    cx: np.ndarray
    cy: np.ndarray
    theta: np.ndarray  # body pitch, radians, positive = head up
    facing: np.ndarray  # +1 right ... -1 left (passes through 0 while turning)
    limbs: np.ndarray  # (n, 4) limb angles
    bend: np.ndarray
    breath: np.ndarray
    tail_wave: np.ndarray
    ripple_px: np.ndarray
    detail: np.ndarray  # per-frame FST_DETAILS codes


@dataclass(frozen=True)
class Water:
    """Precomputed water appearance of one panel plus its surface-wave parameters."""

    tint: np.ndarray  # colour image of the water region
    alpha: float
    wavenumber: np.ndarray  # rad/px
    omega: np.ndarray  # rad/s
    phase: np.ndarray
    weight: np.ndarray


def _approach(current: float, target: float, dt: float, tau_s: float) -> float:
    return current + (target - current) * (1.0 - np.exp(-dt / tau_s))


def simulate_fst(
    states: np.ndarray, fps: float, rng: np.random.Generator, traits: AnimalTraits, geom: FstGeometry
) -> FstTrack:
    """Integrate the pose of one FST animal frame by frame from its behaviour states.

    Parameters
    ----------
    states : ndarray of int
        Per-frame IMMOBILE / SWIMMING / CLIMBING codes.
    fps : float
        Frame rate.
    rng : numpy.random.Generator
        Source of randomness for drift, paddles and turns.
    traits : AnimalTraits
        Size and movement rhythms.
    geom : FstGeometry
        Cylinder layout.

    Returns
    -------
    FstTrack

    Notes
    -----
    Floating: pitch ~0.3 rad, drift velocity an Ornstein-Uhlenbeck process with sd ~0.35 px/s,
    breathing modulates the width by 2%, and brief single hind-limb paddles (0.3-0.7 s) occur
    at ~1 per 8 s. Swimming: translation at the animal's speed with turns at the wall,
    alternating limb strokes at 4-6 Hz and bobbing. Climbing: upright (~1.1 rad) against the
    nearest wall, forepaws scratching at 3-5 Hz with a strong vertical bob.
    """
    n = len(states)
    dt = 1.0 / fps
    size = traits.size_scale
    length = geom.body_length_px * size
    width = geom.body_width_px * size
    x_min = geom.wall_left + 0.45 * length + 3
    x_max = geom.wall_right - 0.45 * length - 3
    out = {k: np.empty(n) for k in ("cx", "cy", "theta", "facing", "bend", "breath", "tail_wave", "ripple_px")}
    limbs = np.empty((n, 4))
    detail = np.empty(n, dtype=np.int8)
    cx = float(rng.uniform(x_min, x_max))
    cy = geom.water_y + 0.3 * width
    theta, facing, vx, drift_v = 0.35, float(rng.choice([-1.0, 1.0])), 0.0, 0.0
    direction = facing
    limb_now = np.array([0.5, 0.5, -0.2, -0.2])
    bend = 0.0
    stroke_phase, scratch_phase = 0.0, 0.0
    paddle_left, paddle_len, since_active = 0.0, 1.0, 10.0
    activity = 0.0
    climb_wall = 1.0
    prev_state = -1
    float_y = geom.water_y + 0.32 * width
    for i in range(n):
        s = states[i]
        t = i * dt
        code = FLOAT
        if s != prev_state and s == CLIMBING:
            climb_wall = 1.0 if cx > 0.5 * (geom.wall_left + geom.wall_right) else -1.0
            if rng.random() < 0.25:
                climb_wall = -climb_wall
        if s == SWIMMING:
            stroke_phase += 2 * np.pi * traits.stroke_hz * dt
            if cx >= x_max:
                direction = -1.0
            elif cx <= x_min:
                direction = 1.0
            elif rng.random() < dt / 4.0:
                direction = -direction
            vx = _approach(vx, direction * traits.swim_speed_px_s * traits.vigour, dt, 0.25)
            cx += vx * dt
            facing = _approach(facing, direction, dt, 0.1)
            theta = _approach(theta, 0.38 + 0.06 * np.sin(stroke_phase), dt, 0.15)
            bob = 1.6 * np.sin(stroke_phase)
            cy = _approach(cy, geom.water_y + 0.38 * width + bob, dt, 0.08)
            amp = 0.75 * traits.vigour
            target = np.array([
                0.4 + 0.5 * np.sin(stroke_phase + np.pi / 2),
                0.4 + 0.5 * np.sin(stroke_phase - np.pi / 2),
                -0.1 + amp * np.sin(stroke_phase),
                -0.1 + amp * np.sin(stroke_phase + np.pi),
            ])
            limb_now = target
            bend = _approach(bend, 0.12 * np.sin(0.5 * stroke_phase), dt, 0.1)
            activity = _approach(activity, 1.0, dt, 0.5)
            since_active = 0.0
            code = SWIM
        elif s == CLIMBING:
            scratch_phase += 2 * np.pi * traits.scratch_hz * dt
            wall_x = geom.wall_right if climb_wall > 0 else geom.wall_left
            target_x = wall_x - climb_wall * (0.2 * length + 5)
            vx = 0.0
            cx = _approach(cx, target_x, dt, 0.3)
            facing = _approach(facing, climb_wall, dt, 0.1)
            theta = _approach(theta, 1.12 + 0.08 * np.sin(scratch_phase), dt, 0.15)
            bob = 3.2 * traits.vigour * np.sin(scratch_phase)
            cy = _approach(cy, geom.water_y - 0.1 * length + bob, dt, 0.06)
            target = np.array([
                1.5 + 0.9 * np.sin(scratch_phase),
                1.5 + 0.9 * np.sin(scratch_phase + np.pi),
                0.0 + 0.7 * np.sin(scratch_phase * 1.3),
                0.0 + 0.7 * np.sin(scratch_phase * 1.3 + np.pi),
            ])
            limb_now = target
            bend = _approach(bend, -0.25, dt, 0.2)
            activity = _approach(activity, 1.3, dt, 0.4)
            since_active = 0.0
            code = CLIMB
        else:
            since_active += dt
            drift_v += -drift_v / 2.0 * dt + 0.35 * np.sqrt(dt) * rng.normal()
            vx = _approach(vx, drift_v, dt, 0.2)
            cx += vx * dt
            if cx > x_max or cx < x_min:
                drift_v = -drift_v
                cx = float(np.clip(cx, x_min, x_max))
            facing = _approach(facing, 1.0 if facing >= 0 else -1.0, dt, 0.3)
            theta = _approach(theta, 0.45, dt, 0.25)
            cy = _approach(cy, float_y, dt, 0.25)
            rest = np.array([0.55, 0.45, -0.25, -0.15])
            limb_now = limb_now + (rest - limb_now) * (1.0 - np.exp(-dt / 0.2))
            bend = _approach(bend, 0.05, dt, 0.3)
            activity = _approach(activity, 0.0, dt, 2.0)
            if paddle_left > 0:
                phase = 1.0 - paddle_left / paddle_len
                limb_now = limb_now.copy()
                limb_now[2] = rest[2] + 0.55 * np.sin(np.pi * phase)
                paddle_left -= dt
                code = PADDLE
            elif since_active > 1.0 and rng.random() < dt / 8.0:
                paddle_len = float(rng.uniform(0.3, 0.7))
                paddle_left = paddle_len
        prev_state = s
        out["cx"][i] = cx
        out["cy"][i] = cy
        out["theta"][i] = theta
        out["facing"][i] = facing
        out["bend"][i] = bend
        out["breath"][i] = 1.0 + 0.02 * np.sin(2 * np.pi * traits.breath_hz * t)
        out["tail_wave"][i] = 0.3 * np.sin(stroke_phase * 0.5) if s == SWIMMING else 0.0
        out["ripple_px"][i] = 0.3 + 0.9 * activity
        limbs[i] = limb_now
        detail[i] = code
    return FstTrack(limbs=limbs, detail=detail, **out)


def fst_pose(track: FstTrack, i: int, traits: AnimalTraits, geom: FstGeometry, x0: int) -> body.MousePose:
    """The drawable pose of frame ``i`` in frame coordinates (panel offset ``x0``)."""
    size = traits.size_scale
    length = geom.body_length_px * size
    width = geom.body_width_px * size
    theta = track.theta[i]
    local = body.skeleton(
        heading_rad=-theta,
        bend_rad=track.bend[i],
        length_px=length,
        width_px=width,
        limb_angles_rad=track.limbs[i],
        limb_length_px=0.45 * width + 4.0,
        tail_heading_rad=np.pi - theta - 0.7 + track.tail_wave[i],
        tail_curl_rad=0.35,
        breath=track.breath[i],
    )
    c = body.centroid(local)
    f = float(track.facing[i])
    if abs(f) < 0.15:
        f = 0.15 if f >= 0 else -0.15
    m = np.array([[f, 0.0, x0 + track.cx[i] - f * c[0]], [0.0, 1.0, track.cy[i] - c[1]]])
    pose = body.transform(local, m)
    tail = pose.tail.copy()  # the tail bends along the glass instead of passing through it
    tail[:, 0] = np.clip(tail[:, 0], x0 + geom.wall_left + 3, x0 + geom.wall_right - 3)
    return replace(pose, tail=tail)


def _backdrop_colour(coat_name: str) -> tuple[int, int, int]:
    return (62, 64, 68) if coat_name == "white" else (188, 190, 186)


def fst_background(geom: FstGeometry, coat_names: list[str], rng: np.random.Generator) -> np.ndarray:
    """Dry background of all panels side by side: backdrop, cylinder walls, rim, base and bench."""
    k = len(coat_names)
    frame = np.empty((geom.panel_h, geom.panel_w * k, 3), dtype=np.uint8)
    for j, coat in enumerate(coat_names):
        x0 = j * geom.panel_w
        panel = frame[:, x0 : x0 + geom.panel_w]
        back = np.array(_backdrop_colour(coat), dtype=np.float32)
        yy = np.linspace(-1.0, 1.0, geom.panel_h)[:, None, None]
        xx = np.linspace(-1.0, 1.0, geom.panel_w)[None, :, None]
        shade = 1.0 - 0.06 * yy - 0.05 * xx**2
        texture = cv2.resize(rng.normal(0, 3.0, (geom.panel_h // 10, geom.panel_w // 10)).astype(np.float32), (geom.panel_w, geom.panel_h))
        img = back[None, None, :] * shade + texture[..., None]
        bench = geom.bottom_y + 4
        img[bench:] = np.array([120, 128, 134], dtype=np.float32) * (0.9 + 0.1 * xx[0])
        inner = slice(geom.wall_left, geom.wall_right)
        img[geom.top_y : geom.bottom_y, inner] = img[geom.top_y : geom.bottom_y, inner] * 0.93 + 12
        panel[:] = np.clip(img, 0, 255).astype(np.uint8)
        wall = (215, 222, 224) if coat != "white" else (150, 156, 160)
        for x in (geom.wall_left, geom.wall_right):
            cv2.line(panel, (x, geom.top_y), (x, geom.bottom_y), wall, 2, cv2.LINE_AA)
        cv2.ellipse(panel, ((geom.wall_left + geom.wall_right) // 2, geom.top_y), ((geom.wall_right - geom.wall_left) // 2, 5), 0, 0, 360, wall, 1, cv2.LINE_AA)
        cv2.ellipse(panel, ((geom.wall_left + geom.wall_right) // 2, geom.bottom_y), ((geom.wall_right - geom.wall_left) // 2, 5), 0, 0, 180, wall, 2, cv2.LINE_AA)
    return frame


def make_water(geom: FstGeometry, coat: str, rng: np.random.Generator) -> Water:
    """Water tint image and random surface-wave components of one panel."""
    h = geom.bottom_y - geom.water_y + 2
    w = geom.wall_right - geom.wall_left - 2
    base = np.array((150, 140, 112) if coat != "white" else (88, 80, 60), dtype=np.float32)
    depth = np.linspace(0.0, 1.0, h)[:, None, None]
    tint = base[None, None, :] * (1.0 - 0.25 * depth) + np.zeros((1, w, 1), np.float32)
    return Water(
        tint=np.clip(tint, 0, 255).astype(np.uint8),
        alpha=0.42,
        wavenumber=2 * np.pi / rng.uniform(18.0, 60.0, 3),
        omega=2 * np.pi * rng.uniform(0.8, 2.2, 3) * rng.choice([-1.0, 1.0], 3),
        phase=rng.uniform(0, 2 * np.pi, 3),
        weight=np.array([0.55, 0.3, 0.15]),
    )


def draw_water(frame: np.ndarray, x0: int, geom: FstGeometry, water: Water, ripple_px: float, t_s: float, coat: str) -> None:
    """Blend the water over the lower cylinder and draw the moving, rippled surface line."""
    top = geom.water_y - 1
    left = x0 + geom.wall_left + 1
    region = frame[top : top + water.tint.shape[0], left : left + water.tint.shape[1]]
    cv2.addWeighted(region, 1.0 - water.alpha, water.tint, water.alpha, 0.0, dst=region)
    xs = np.linspace(0.0, water.tint.shape[1] - 1, 28)
    waves = (water.weight[:, None] * np.sin(water.wavenumber[:, None] * xs[None, :] - water.omega[:, None] * t_s + water.phase[:, None])).sum(axis=0)
    ys = geom.water_y - 1.0 + ripple_px * waves
    pts = np.stack([xs + left, ys], axis=1)
    colour = (210, 214, 208) if coat != "white" else (120, 118, 108)
    cv2.polylines(frame, [np.round(pts * SCALE).astype(np.int32)], False, colour, 1, cv2.LINE_AA, SHIFT)
    meniscus = np.stack([xs[::4] + left, ys[::4] + 2.5], axis=1)
    dark = tuple(int(c * 0.8) for c in water.tint[0, 0])
    cv2.polylines(frame, [np.round(meniscus * SCALE).astype(np.int32)], False, dark, 1, cv2.LINE_AA, SHIFT)
