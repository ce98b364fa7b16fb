"""Camera nuisances: sensor noise, illumination drift and flicker, and small camera jitter."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

NOISE_MARGIN_PX = 16


@dataclass(frozen=True)
class NuisanceSettings:
    """Strength of the camera nuisances.

    Attributes
    ----------
    noise_dn : float
        Standard deviation of the Gaussian sensor noise, in digital numbers (0-255 scale).
    drift_fraction : float
        Amplitude of the slow illumination drift (fraction of the brightness).
    flicker_fraction : float
        Standard deviation of the per-frame gain jitter.
    jitter_px : float
        Largest camera displacement of a jitter event.
    jitter_rate_hz : float
        Mean rate of jitter events.
    """

    noise_dn: float = 2.0
    drift_fraction: float = 0.03
    flicker_fraction: float = 0.004
    jitter_px: float = 1.0
    jitter_rate_hz: float = 1.0 / 25.0

    def __post_init__(self) -> None:
        for name in ("noise_dn", "drift_fraction", "flicker_fraction", "jitter_px", "jitter_rate_hz"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"NuisanceSettings.{name} must be finite and >= 0, got {value!r}")


@dataclass(frozen=True)
class CameraTrack:
    """Per-frame camera nuisances, precomputed (small arrays, one value per frame)."""

    gain: np.ndarray  # (n_frames,)
    shift_px: np.ndarray  # (n_frames, 2) x, y
    noise_index: np.ndarray  # (n_frames,) which noise field
    noise_offset: np.ndarray  # (n_frames, 2) crop offsets into it


@dataclass(frozen=True)
class NoiseBank:
    """Precomputed noise fields, split into positive and negative parts for saturated adds."""

    positive: np.ndarray  # (k, h + margin, w + margin, 3) uint8
    negative: np.ndarray


def make_noise_bank(rng: np.random.Generator, height: int, width: int, noise_dn: float, n_fields: int = 8) -> NoiseBank:
    """Gaussian noise fields (mostly luma, a little chroma) larger than the frame by a margin."""
    shape = (n_fields, height + NOISE_MARGIN_PX, width + NOISE_MARGIN_PX)
    luma = rng.normal(0.0, noise_dn, shape).astype(np.float32)
    chroma = rng.normal(0.0, 0.35 * noise_dn, shape + (3,)).astype(np.float32)
    field = np.rint(luma[..., None] + chroma)
    positive = np.clip(field, 0, 255).astype(np.uint8)
    negative = np.clip(-field, 0, 255).astype(np.uint8)
    return NoiseBank(positive, negative)


def camera_track(rng: np.random.Generator, n_frames: int, fps: float, settings: NuisanceSettings, n_fields: int) -> CameraTrack:
    """Draw the per-frame gain (drift + flicker), jitter shifts and noise-field choices."""
    t = np.arange(n_frames) / fps
    period_s = rng.uniform(180.0, 420.0)
    phase = rng.uniform(0.0, 2 * np.pi)
    drift = settings.drift_fraction * np.sin(2 * np.pi * t / period_s + phase)
    drift += 0.3 * settings.drift_fraction * np.sin(2 * np.pi * t / (0.37 * period_s) + 1.7 * phase)
    flicker = rng.normal(0.0, settings.flicker_fraction, n_frames)
    gain = 1.0 + drift + flicker
    shift = np.zeros((n_frames, 2))
    n_events = rng.poisson(settings.jitter_rate_hz * n_frames / fps)
    for start in np.sort(rng.integers(0, max(n_frames, 1), n_events)):
        amp = rng.uniform(0.3, 1.0) * settings.jitter_px
        angle = rng.uniform(0, 2 * np.pi)
        duration = int(round(rng.uniform(0.2, 0.6) * fps))
        k = np.arange(duration)
        envelope = amp * np.exp(-k / max(1.0, 0.3 * duration)) * np.cos(2 * np.pi * k / max(2.0, 0.5 * duration))
        stop = min(n_frames, start + duration)
        shift[start:stop, 0] += envelope[: stop - start] * np.cos(angle)
        shift[start:stop, 1] += envelope[: stop - start] * np.sin(angle)
    shift = np.clip(shift, -settings.jitter_px, settings.jitter_px)
    return CameraTrack(
        gain=gain,
        shift_px=shift,
        noise_index=rng.integers(0, n_fields, n_frames),
        noise_offset=rng.integers(0, NOISE_MARGIN_PX, (n_frames, 2)),
    )


def apply_camera(frame: np.ndarray, i: int, track: CameraTrack, bank: NoiseBank | None) -> np.ndarray:
    """Apply jitter, gain and sensor noise of frame ``i``; returns a new uint8 frame."""
    dx, dy = track.shift_px[i]
    if abs(dx) > 0.05 or abs(dy) > 0.05:
        m = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]])
        frame = cv2.warpAffine(frame, m, (frame.shape[1], frame.shape[0]), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    out = cv2.convertScaleAbs(frame, alpha=float(track.gain[i]))
    if bank is not None:
        h, w = frame.shape[:2]
        k = track.noise_index[i]
        oy, ox = track.noise_offset[i]
        cv2.add(out, bank.positive[k, oy : oy + h, ox : ox + w], dst=out)
        cv2.subtract(out, bank.negative[k, oy : oy + h, ox : ox + w], dst=out)
    return out
