"""Treatment effects on behaviour: dose-dependent immobility and the FST active-behaviour profile."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from behavscore.synth.bouts import BehaviourLevels


@dataclass(frozen=True)
class DrugProfile:
    """How a compound shifts behaviour (Emax model on immobility and climbing share).

    Attributes
    ----------
    emax_immobility : float
        Maximal fractional reduction of immobility.
    ed50_mg_kg : float
        Dose giving half of the maximal effect.
    climb_shift : float
        Change in the FST climbing share of active time at maximal effect (noradrenergic > 0,
        serotonergic < 0, which raises swimming).
    """

    emax_immobility: float
    ed50_mg_kg: float
    climb_shift: float


DRUG_PROFILES = {
    "vehicle": DrugProfile(0.0, 1.0, 0.0),
    "norclomipramine": DrugProfile(0.6, 8.0, 0.4),  # noradrenergic: climbing rises
    "desipramine": DrugProfile(0.6, 10.0, 0.4),
    "fluoxetine": DrugProfile(0.5, 12.0, -0.22),  # serotonergic: swimming rises
}

VEHICLE_IMMOBILITY = {"fst": 0.66, "tst": 0.55}
VEHICLE_CLIMB_SHARE = 0.3
ANIMAL_SD_LOGIT = 0.35
#: Settled immobility fractions the bout process is given (an animal's draw is clipped to them).
IMMOBILITY_LATE_RANGE = (0.05, 0.92)


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def _expit(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


def behaviour_levels(
    rng: np.random.Generator, protocol: str, treatment: str = "vehicle", dose_mg_kg: float = 0.0
) -> BehaviourLevels:
    """Draw one animal's behavioural levels given its treatment.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the animal-to-animal variability.
    protocol : {"fst", "tst"}
    treatment : str
        A key of ``DRUG_PROFILES``.
    dose_mg_kg : float
        Dose, >= 0 (ignored for vehicle).

    Returns
    -------
    BehaviourLevels

    Notes
    -----
    Late immobility is ``vehicle * (1 - Emax * D / (D + ED50))`` on the probability scale, then
    an animal effect ~ N(0, 0.35) on the logit scale. The FST climbing share rises (falls) with
    the same occupancy for noradrenergic (serotonergic) profiles.
    """
    if protocol not in VEHICLE_IMMOBILITY:
        raise ValueError(f"protocol must be 'fst' or 'tst', got {protocol!r}")
    if treatment not in DRUG_PROFILES:
        raise ValueError(f"treatment must be one of {sorted(DRUG_PROFILES)}, got {treatment!r}")
    if not np.isfinite(dose_mg_kg) or dose_mg_kg < 0:
        raise ValueError(f"dose_mg_kg must be a finite number >= 0, got {dose_mg_kg!r}")
    profile = DRUG_PROFILES[treatment]
    occupancy = 0.0 if treatment == "vehicle" else dose_mg_kg / (dose_mg_kg + profile.ed50_mg_kg)
    mean_immobility = VEHICLE_IMMOBILITY[protocol] * (1.0 - profile.emax_immobility * occupancy)
    immobility = _expit(_logit(mean_immobility) + rng.normal(0.0, ANIMAL_SD_LOGIT))
    climb = VEHICLE_CLIMB_SHARE + profile.climb_shift * occupancy + rng.normal(0.0, 0.06)
    onset_s = float(rng.uniform(80.0, 130.0)) if protocol == "fst" else float(rng.uniform(60.0, 140.0))
    early = float(rng.uniform(0.1, 0.3)) if protocol == "fst" else float(rng.uniform(0.3, 0.55))
    return BehaviourLevels(
        immobility_late=float(np.clip(immobility, *IMMOBILITY_LATE_RANGE)),
        climb_share=float(np.clip(climb, 0.05, 0.9)),
        onset_s=onset_s,
        early_ratio=early,
    )
