"""Per-animal traits: coat, sex, size and the individual rhythms of its movements."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from behavscore.synth.drawing import COATS, Coat

SEXES = ("male", "female")


@dataclass(frozen=True)
class AnimalTraits:
    """Appearance and movement rhythms of one animal (all rates in Hz, speeds in px/s)."""

    coat: Coat
    sex: str
    size_scale: float
    breath_hz: float
    stroke_hz: float
    scratch_hz: float
    swim_speed_px_s: float
    swing_hz: float
    swing_tau_s: float
    vigour: float


def sample_traits(rng: np.random.Generator, coat: str | None = None, sex: str | None = None) -> AnimalTraits:
    """Draw the traits of one animal.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    coat : {"black", "agouti", "white"}, optional
        Fixed coat colour; random when None.
    sex : {"male", "female"}, optional
        Fixed sex; random when None. Males are on average ~8% larger.

    Returns
    -------
    AnimalTraits
    """
    coat_name = coat if coat is not None else str(rng.choice(list(COATS)))
    if coat_name not in COATS:
        raise ValueError(f"coat must be one of {sorted(COATS)}, got {coat_name!r}")
    sex_name = sex if sex is not None else str(rng.choice(SEXES))
    if sex_name not in SEXES:
        raise ValueError(f"sex must be one of {SEXES}, got {sex_name!r}")
    size = float(np.clip(rng.normal(1.04 if sex_name == "male" else 0.96, 0.06), 0.85, 1.15))
    # a longer animal hangs as a longer pendulum: lower swing frequency
    swing_hz = float(np.clip(rng.normal(1.9, 0.3) / np.sqrt(size), 1.0, 2.8))
    return AnimalTraits(
        coat=COATS[coat_name],
        sex=sex_name,
        size_scale=size,
        breath_hz=float(rng.uniform(2.5, 3.8)),
        stroke_hz=float(rng.uniform(4.0, 6.0)),
        scratch_hz=float(rng.uniform(3.0, 5.0)),
        swim_speed_px_s=float(rng.uniform(24.0, 40.0)),
        swing_hz=swing_hz,
        swing_tau_s=float(rng.uniform(0.6, 1.2)),
        vigour=float(np.clip(rng.normal(1.0, 0.15), 0.7, 1.3)),
    )
