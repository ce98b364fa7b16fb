"""Tail suspension test scene: mice hanging head-down by the tail in walled compartments."""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np
from scipy.linalg import expm

from behavscore.synth import body
from behavscore.synth.animal import AnimalTraits
from behavscore.synth.bouts import MOBILE

HANG, SWING, STRUGGLE, TAIL_CLIMB, FALLEN = 0, 1, 2, 3, 4
TST_DETAILS = ("hang", "swing", "struggle", "tail_climb", "fallen")
#: A tail-climbing mouse takes this long to pull itself up to the bar, and this long to let go.
CLIMB_UP_S = 1.2
CLIMB_DOWN_S = 0.4
#: A mouse whose tape gives way reaches the floor in this long.
FALL_S = 0.3
SWING_MIN_PX = 1.5  # passive swing counts as "swing" while its centroid amplitude exceeds this


@dataclass(frozen=True)
class TstGeometry:
    """Layout of one compartment panel, in pixels relative to the panel's top-left corner."""

    panel_w: int = 140
    panel_h: int = 200
    divider_px: int = 6
    bar_y: int = 14
    pivot_y: float = 22.0
    tail_length_px: float = 40.0
    body_length_px: float = 64.0
    body_width_px: float = 22.0

    @property
    def pivot_x(self) -> float:
        return self.panel_w / 2.0


@dataclass(frozen=True)
class TstTrack:
    """Per-frame pose parameters of one hanging animal plus its frame-level detail codes."""

    phi: np.ndarray  # pendulum angle about the tape, radians
    twist: np.ndarray  # mirror factor of the body about its hanging axis (+1 .. -1)
    bend: np.ndarray  # curling of the spine, radians
    limbs: np.ndarray  # (n, 4)
    breath: np.ndarray
    swing_amplitude_px: np.ndarray  # pendulum amplitude at the body centroid
    detail: np.ndarray  # per-frame TST_DETAILS codes


def _smooth_noise(rng: np.random.Generator, n: int, fps: float, tau_s: float) -> np.ndarray:
    """Unit-variance Ornstein-Uhlenbeck noise with correlation time ``tau_s``."""
    a = np.exp(-1.0 / (fps * tau_s))
    e = rng.normal(0.0, np.sqrt(1 - a * a), n)
    x = np.empty(n)
    acc = rng.normal()
    for i in range(n):
        acc = a * acc + e[i]
        x[i] = acc
    return x


def simulate_tst(
    states: np.ndarray, fps: float, rng: np.random.Generator, traits: AnimalTraits, geom: TstGeometry
) -> TstTrack:
    """Integrate the pose of one hanging animal frame by frame.

    Parameters
    ----------
    states : ndarray of int
        Per-frame IMMOBILE / MOBILE codes.
    fps : float
        Frame rate.
    rng : numpy.random.Generator
        Source of randomness.
    traits : AnimalTraits
        Size, pendulum frequency and decay.
    geom : TstGeometry
        Compartment layout.

    Returns
    -------
    TstTrack

    Notes
    -----
    The body is a damped pendulum about the tape (frequency ``traits.swing_hz``, amplitude decay
    time ``traits.swing_tau_s``), stepped exactly with the matrix exponential. Struggling
    drives it with correlated pushes and curls, twists and flails the body; when a struggle
    ends, the pendulum keeps swinging and decays: those immobile frames are ``swing`` while the
    centroid amplitude exceeds ``SWING_MIN_PX``, then ``hang``.
    """
    n = len(states)
    dt = 1.0 / fps
    omega = 2 * np.pi * traits.swing_hz
    gamma = 1.0 / traits.swing_tau_s
    step = expm(np.array([[0.0, 1.0], [-omega**2, -2 * gamma]]) * dt)
    lever_px = geom.tail_length_px * traits.size_scale + 0.5 * geom.body_length_px * traits.size_scale
    drive = _smooth_noise(rng, n, fps, 0.12)
    curl = _smooth_noise(rng, n, fps, 0.35)
    twist_noise = _smooth_noise(rng, n, fps, 0.5)
    phi = np.empty(n)
    twist = np.empty(n)
    bend = np.empty(n)
    breath = np.empty(n)
    amp = np.empty(n)
    limbs = np.empty((n, 4))
    detail = np.empty(n, dtype=np.int8)
    x = np.array([0.0, 0.0])
    twist_angle = 0.0 if rng.random() < 0.5 else np.pi
    bend_now = 0.1
    flail_phase = 0.0
    flail_hz = traits.stroke_hz + 1.0
    rest = np.array([0.9, 0.75, 0.25, 0.15])
    limb_now = rest.copy()
    k_relax = 1.0 - np.exp(-dt / 0.2)
    push = 0.55 * omega * traits.vigour
    for i in range(n):
        x = step @ x
        if states[i] == MOBILE:
            x[1] += push * drive[i] * dt
            flail_phase += 2 * np.pi * flail_hz * dt
            bend_now += (1.5 * traits.vigour * curl[i] - bend_now) * (1.0 - np.exp(-dt / 0.1))
            twist_angle += (2.2 * twist_noise[i] - twist_angle) * (1.0 - np.exp(-dt / 0.15))
            limb_now = np.array([
                0.8 + 0.9 * np.sin(flail_phase),
                0.8 + 0.9 * np.sin(flail_phase + 2.1),
                0.3 + 0.8 * np.sin(1.3 * flail_phase + 1.0),
                0.3 + 0.8 * np.sin(1.3 * flail_phase + 3.5),
            ])
            code = STRUGGLE
        else:
            bend_now += (0.1 - bend_now) * k_relax
            nearest = np.pi * np.round(twist_angle / np.pi)
            twist_angle += (nearest - twist_angle) * k_relax
            limb_now = limb_now + (rest - limb_now) * k_relax
            code = HANG
        a = lever_px * float(np.hypot(x[0], x[1] / omega))
        if code == HANG and a > SWING_MIN_PX:
            code = SWING
        phi[i] = x[0]
        amp[i] = a
        twist[i] = np.cos(twist_angle)
        bend[i] = bend_now
        breath[i] = 1.0 + 0.02 * np.sin(2 * np.pi * traits.breath_hz * i * dt)
        limbs[i] = limb_now
        detail[i] = code
    return TstTrack(phi=phi, twist=twist, bend=bend, limbs=limbs, breath=breath, swing_amplitude_px=amp, detail=detail)


def tst_pose(track: TstTrack, i: int, traits: AnimalTraits, geom: TstGeometry, x0: int) -> body.MousePose:
    """The drawable pose of frame ``i`` in frame coordinates (panel offset ``x0``)."""
    size = traits.size_scale
    tail_len = geom.tail_length_px * size
    tail = np.stack([0.6 * np.sin(np.linspace(0, np.pi, 6)) * track.bend[i] * 3.0, -np.linspace(0.0, tail_len, 6)], axis=1)
    local = body.skeleton(
        heading_rad=np.pi / 2,
        bend_rad=track.bend[i],
        length_px=geom.body_length_px * size,
        width_px=geom.body_width_px * size,
        limb_angles_rad=track.limbs[i],
        limb_length_px=0.45 * geom.body_width_px * size + 4.0,
        breath=track.breath[i],
        tail_xy=tail,
    )
    f = float(track.twist[i])
    if abs(f) < 0.15:
        f = 0.15 if f >= 0 else -0.15
    c, s = np.cos(track.phi[i]), np.sin(track.phi[i])
    lin = np.array([[c, -s], [s, c]]) @ np.diag([f, 1.0])
    pivot = np.array([x0 + geom.pivot_x, geom.pivot_y])
    offset = pivot - lin @ np.array([0.0, -tail_len])
    return body.transform(local, np.concatenate([lin, offset[:, None]], axis=1))


def climb_share(n_frames: int, fps: float, start_s: float, end_s: float) -> np.ndarray:
    """Per frame, how far a mouse that climbs its tail from ``start_s`` to ``end_s`` is up (0-1).

    It pulls itself up over :data:`CLIMB_UP_S`, clings under the bar until ``end_s``, then lets
    go and drops back over :data:`CLIMB_DOWN_S`.
    """
    t = np.arange(n_frames) / fps
    up = np.clip((t - start_s) / CLIMB_UP_S, 0.0, 1.0)
    down = np.clip((t - end_s) / CLIMB_DOWN_S, 0.0, 1.0)
    rise = up * (1.0 - down)
    return 0.5 - 0.5 * np.cos(np.pi * rise)  # eased: no jerk at either end


def climbed_pose(i: int, fps: float, traits: AnimalTraits, geom: TstGeometry, x0: int) -> body.MousePose:
    """A mouse that has climbed its tail: lying along the underside of the bar, gripping it.

    Its tail runs from its hindquarters to the tape; it shifts its grip slowly.
    """
    size = traits.size_scale
    t = i / fps
    length = geom.body_length_px * size
    width = geom.body_width_px * size
    grip = 0.25 * np.sin(2 * np.pi * 0.4 * t)
    local = body.skeleton(
        heading_rad=0.0,
        bend_rad=-0.35 + 0.1 * np.sin(2 * np.pi * 0.25 * t),
        length_px=length,
        width_px=width,
        limb_angles_rad=np.array([2.3 + grip, 2.1 - grip, 1.9 + 0.5 * grip, 1.8 - 0.5 * grip]),
        limb_length_px=0.45 * width + 4.0,
        breath=1.0 + 0.02 * np.sin(2 * np.pi * traits.breath_hz * t),
    )
    base = np.array([x0 + geom.pivot_x - 0.5 * length, geom.bar_y + 4.0 + 0.5 * width])
    # lying on its side under the bar: the back faces the camera's top (mirror about the spine)
    pose = body.transform(local, np.array([[1.0, 0.0, base[0]], [0.0, -1.0, base[1]]]))
    tail = np.linspace(pose.spine[0], [x0 + geom.pivot_x, geom.pivot_y], 6)
    tail[1:-1, 1] += 6.0 * size * np.sin(np.linspace(0, np.pi, 6))[1:-1]
    return replace(pose, tail=tail)


def fall_share(n_frames: int, fps: float, fall_s: float) -> np.ndarray:
    """Per frame, how far a mouse whose tape gives way at ``fall_s`` has dropped (0-1)."""
    t = np.arange(n_frames) / fps
    return np.clip((t - fall_s) / FALL_S, 0.0, 1.0) ** 2  # accelerating


def fallen_pose(i: int, fps: float, fall_s: float, traits: AnimalTraits, geom: TstGeometry, x0: int) -> body.MousePose:
    """A mouse that fell to the compartment's floor: walking to and fro along it, its tail trailing."""
    size = traits.size_scale
    t = max(0.0, i / fps - fall_s)
    length = geom.body_length_px * size
    width = geom.body_width_px * size
    tail_px = geom.tail_length_px * size
    tail_back_px = 0.5 * tail_px  # the tail trails back and up the wall
    room = geom.panel_w - 2 * geom.divider_px - 1.05 * length - tail_back_px - 4.0
    lap = (traits.swim_speed_px_s * 0.6 * t) % (2 * room)
    rightwards = lap < room
    # walking right: the rear from the left wall on; walking left: the mirror image
    x_rear = x0 + geom.divider_px + 2.0 + tail_back_px + (lap if rightwards else lap - room)
    stride = 2 * np.pi * 3.0 * t
    local = body.skeleton(
        heading_rad=0.0,
        bend_rad=0.15 * np.sin(2 * np.pi * 0.5 * t),
        length_px=length,
        width_px=width,
        limb_angles_rad=np.array([0.5 * np.sin(stride), 0.5 * np.sin(stride + np.pi), 0.5 * np.sin(stride + np.pi), 0.5 * np.sin(stride)]),
        limb_length_px=0.45 * width + 4.0,
        breath=1.0 + 0.02 * np.sin(2 * np.pi * traits.breath_hz * t),
        tail_xy=np.stack([-np.linspace(0.0, tail_back_px, 6), -np.linspace(0.0, 0.85 * tail_px, 6)], axis=1),
    )
    floor_y = geom.panel_h - 8.0 - 0.5 * width
    if rightwards:
        matrix = np.array([[1.0, 0.0, x_rear], [0.0, 1.0, floor_y]])
    else:  # facing left: mirrored about the vertical, the rear at the right
        matrix = np.array([[-1.0, 0.0, 2 * x0 + geom.panel_w - x_rear], [0.0, 1.0, floor_y]])
    return body.transform(local, matrix)


def _wall_colour(coat_name: str) -> tuple[int, int, int]:
    return (58, 58, 62) if coat_name == "white" else (204, 206, 202)


def tst_background(geom: TstGeometry, coat_names: list[str], rng: np.random.Generator) -> np.ndarray:
    """Compartments side by side: back wall contrasting with the coat, opaque dividers, bar."""
    k = len(coat_names)
    frame = np.empty((geom.panel_h, geom.panel_w * k, 3), dtype=np.uint8)
    yy = np.linspace(-1.0, 1.0, geom.panel_h)[:, None, None]
    xx = np.linspace(-1.0, 1.0, geom.panel_w)[None, :, None]
    for j, coat in enumerate(coat_names):
        x0 = j * geom.panel_w
        wall = np.array(_wall_colour(coat), dtype=np.float32)
        shade = 1.0 - 0.07 * yy - 0.08 * xx**2
        texture = cv2.resize(rng.normal(0, 2.5, (geom.panel_h // 10, geom.panel_w // 10)).astype(np.float32), (geom.panel_w, geom.panel_h))
        img = wall[None, None, :] * shade + texture[..., None]
        img[-10:] *= 0.8  # floor edge shadow
        panel = np.clip(img, 0, 255).astype(np.uint8)
        panel[:, : geom.divider_px] = (40, 42, 45)
        panel[:, -geom.divider_px :] = (40, 42, 45)
        panel[:, geom.divider_px : geom.divider_px + 2] = (70, 72, 75)
        frame[:, x0 : x0 + geom.panel_w] = panel
    cv2.rectangle(frame, (0, geom.bar_y - 3), (frame.shape[1] - 1, geom.bar_y + 2), (150, 152, 155), -1)
    cv2.line(frame, (0, geom.bar_y - 2), (frame.shape[1] - 1, geom.bar_y - 2), (205, 208, 210), 1)
    return frame


def draw_tape(frame: np.ndarray, x0: int, geom: TstGeometry) -> None:
    """Draw the tape holding the tail to the bar of the compartment at ``x0``."""
    px = int(round(x0 + geom.pivot_x))
    cv2.rectangle(frame, (px - 6, geom.bar_y - 4), (px + 6, int(geom.pivot_y) + 4), (196, 220, 228), -1)
    cv2.line(frame, (px - 6, int(geom.pivot_y) + 4), (px + 6, int(geom.pivot_y) + 4), (150, 170, 178), 1)
