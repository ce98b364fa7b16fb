"""Semi-Markov behaviour bouts: time-varying immobility with gamma-distributed bout lengths."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

IMMOBILE = 0
SWIMMING = 1
CLIMBING = 2
MOBILE = 1  # TST: struggling

FST_LABELS = ("immobile", "swimming", "climbing")
TST_LABELS = ("immobile", "mobile")

MIN_BOUT_S = 1.0
MAX_IMMOBILE_BOUT_S = 60.0
MAX_ACTIVE_BOUT_S = 30.0
GAMMA_SHAPE = 1.8  # coefficient of variation ~0.75, as in hand-scored sessions


@dataclass(frozen=True)
class BehaviourLevels:
    """Per-animal behavioural levels that drive the bout process.

    Attributes
    ----------
    immobility_late : float
        Target fraction of time immobile once the session has settled (FST 2-6 min,
        TST last minutes), in (0, 1).
    climb_share : float
        FST only: fraction of active time spent climbing (the rest is swimming).
    onset_s : float
        Time at which immobility reaches half of its late level.
    early_ratio : float
        Immobility level at t = 0 relative to the late level.
    """

    immobility_late: float
    climb_share: float = 0.3
    onset_s: float = 100.0
    early_ratio: float = 0.2


@dataclass(frozen=True)
class Bout:
    """One bout: behaviour state code, start and duration in seconds."""

    state: int
    start_s: float
    duration_s: float

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


def immobility_target(t_s: float, levels: BehaviourLevels) -> float:
    """Instantaneous target immobility fraction at time ``t_s``.

    A logistic ramp from ``early_ratio * immobility_late`` at the start to
    ``immobility_late`` after ``onset_s``, with a gentle further rise late in the session.
    """
    ramp = 1.0 / (1.0 + np.exp(-(t_s - levels.onset_s) / 25.0))
    level = levels.early_ratio + (1.0 - levels.early_ratio) * ramp
    late_rise = 1.0 + 0.15 * np.clip((t_s - 240.0) / 120.0, 0.0, 1.0)
    return float(np.clip(levels.immobility_late * level * late_rise, 0.02, 0.97))


def _bout_means_s(q: float) -> tuple[float, float]:
    """Mean immobile and active bout lengths giving immobile fraction ``q``."""
    cycle_s = 10.0 + 16.0 * q
    mean_immobile = float(np.clip(q * cycle_s, 1.5, 40.0))
    mean_active = float(np.clip((1.0 - q) * cycle_s, 1.5, 25.0))
    return mean_immobile, mean_active


def _gamma_duration(rng: np.random.Generator, mean_s: float, max_s: float) -> float:
    d = rng.gamma(GAMMA_SHAPE, mean_s / GAMMA_SHAPE)
    return float(np.clip(d, MIN_BOUT_S, max_s))


def simulate_bouts(
    rng: np.random.Generator, protocol: str, duration_s: float, levels: BehaviourLevels
) -> list[Bout]:
    """Simulate the semi-Markov bout sequence of one animal.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness (the only one used).
    protocol : {"fst", "tst"}
        FST alternates immobility with active episodes made of swimming and/or climbing
        bouts; TST alternates immobility with struggling.
    duration_s : float
        Session length in seconds.
    levels : BehaviourLevels
        Per-animal levels.

    Returns
    -------
    list of Bout
        Contiguous bouts covering ``[0, duration_s]``; every bout but possibly the last is at
        least ``MIN_BOUT_S`` long.

    Notes
    -----
    Both protocols start active (animals struggle or swim when first placed in the test).
    Mean bout lengths follow the instantaneous immobility target so that immobile bouts get
    longer and active bouts shorter as the session goes on.
    """
    if protocol not in ("fst", "tst"):
        raise ValueError(f"protocol must be 'fst' or 'tst', got {protocol!r}")
    bouts: list[Bout] = []
    t = 0.0
    immobile_next = False
    while t < duration_s:
        q = immobility_target(t, levels)
        mean_immobile, mean_active = _bout_means_s(q)
        if immobile_next:
            d = _gamma_duration(rng, mean_immobile, MAX_IMMOBILE_BOUT_S)
            bouts.append(Bout(IMMOBILE, t, d))
            t += d
        elif protocol == "tst":
            d = _gamma_duration(rng, mean_active, MAX_ACTIVE_BOUT_S)
            bouts.append(Bout(MOBILE, t, d))
            t += d
        else:
            episode_s = _gamma_duration(rng, mean_active, MAX_ACTIVE_BOUT_S)
            early = float(np.clip(1.4 - t / 300.0, 0.7, 1.4))  # climbing mostly early
            p_climb = float(np.clip(levels.climb_share * early, 0.0, 0.95))
            state = CLIMBING if rng.random() < p_climb else SWIMMING
            if episode_s >= 2 * MIN_BOUT_S + 1.0 and rng.random() < 0.3:
                first_s = float(rng.uniform(MIN_BOUT_S, episode_s - MIN_BOUT_S))
                other = SWIMMING if state == CLIMBING else CLIMBING
                bouts.append(Bout(state, t, first_s))
                bouts.append(Bout(other, t + first_s, episode_s - first_s))
            else:
                bouts.append(Bout(state, t, episode_s))
            t += episode_s
        immobile_next = not immobile_next
    last = bouts[-1]
    bouts[-1] = Bout(last.state, last.start_s, duration_s - last.start_s)
    return bouts


def frame_states(bouts: list[Bout], n_frames: int, fps: float) -> np.ndarray:
    """Per-frame state codes (int8) of a bout list; frame i is at time i / fps."""
    t = np.arange(n_frames) / fps
    starts = np.array([b.start_s for b in bouts])
    idx = np.searchsorted(starts, t, side="right") - 1
    codes = np.array([b.state for b in bouts], dtype=np.int8)
    return codes[np.clip(idx, 0, len(bouts) - 1)]


def seconds_majority(codes: np.ndarray, fps: float, n_codes: int) -> np.ndarray:
    """Majority code per 1-s bin [s, s+1) of per-frame codes (ties go to the lower code)."""
    n_frames = len(codes)
    second = np.floor(np.arange(n_frames) / fps + 1e-9).astype(np.int64)
    n_seconds = int(second[-1]) + 1 if n_frames else 0
    counts = np.zeros((n_seconds, n_codes), dtype=np.int64)
    np.add.at(counts, (second, codes.astype(np.int64)), 1)
    return counts.argmax(axis=1)


def frame_second_index(n_frames: int, fps: float) -> np.ndarray:
    """The 1-s bin index of every frame."""
    return np.floor(np.arange(n_frames) / fps + 1e-9).astype(np.int64)
