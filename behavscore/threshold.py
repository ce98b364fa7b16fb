"""The transparent threshold scorer: immobile when the motion index is below a threshold."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .bouts import drop_short_runs

#: Default immobility threshold on the motion index (% of the animal's area changing per frame).
DEFAULT_THRESHOLD_PCT = 2.0
#: Default threshold on the shape-change index below which motion is passive (drift, swing).
DEFAULT_SHAPE_THRESHOLD_PCT = 10.0


@dataclass(frozen=True)
class ThresholdScorer:
    """Call a second immobile when its motion index is below ``threshold_pct``.

    Attributes
    ----------
    threshold_pct : float
        Immobility threshold on the motion index, % of the animal's area changing per frame.
    min_bout_s : float
        Immobile runs shorter than this are called mobile (DBscorer's "time threshold").
    passive_threshold_pct : float or None
        Exclusion of passive motion (as EthoVision's "exclude passive drift/swinging"): a second
        whose shape-change index (``shape_motion``: change of the silhouette not explained by
        rigid drift or pendulum swing, % of the animal's area) is below this is immobile even
        when its motion index is high. None (the default outside FST/TST, where walking is
        real movement that keeps the body's shape) switches the exclusion off.
    """

    threshold_pct: float = DEFAULT_THRESHOLD_PCT
    min_bout_s: float = 1.0
    passive_threshold_pct: float | None = None
    name: str = "threshold"

    def __post_init__(self) -> None:
        if not np.isfinite(self.threshold_pct) or self.threshold_pct <= 0:
            raise ValueError(f"threshold must be a positive number (% of animal area), got {self.threshold_pct}")
        if self.passive_threshold_pct is not None and not self.passive_threshold_pct > 0:
            raise ValueError(f"passive-motion threshold must be a positive number or None, got {self.passive_threshold_pct}")
        if self.min_bout_s < 0:
            raise ValueError(f"minimum bout must be >= 0 s, got {self.min_bout_s}")

    @property
    def labels(self) -> tuple[str, ...]:
        return ("immobile", "mobile")

    def raw_immobile(self, seconds: pd.DataFrame) -> np.ndarray:
        """Per-second immobile calls before the minimum bout is applied."""
        raw = seconds["motion"].to_numpy() < self.threshold_pct
        if self.passive_threshold_pct is not None and "shape_motion" in seconds:
            raw |= seconds["shape_motion"].to_numpy() < self.passive_threshold_pct  # NaN compares False
        return raw

    def predict(self, seconds: pd.DataFrame) -> pd.DataFrame:
        """Label each second of each animal.

        Parameters
        ----------
        seconds : pandas.DataFrame
            Per-second table with ``animal``, ``second``, ``motion`` and (for the passive-motion
            exclusion) ``shape_motion``, sorted by animal and second.

        Returns
        -------
        pandas.DataFrame
            Same index: ``label``, ``p_immobile``, ``p_mobile`` (0 or 1: the threshold scorer is
            not probabilistic).
        """
        immobile = np.zeros(len(seconds), dtype=bool)
        raw = self.raw_immobile(seconds)
        for _, idx in seconds.groupby("animal", sort=False).indices.items():
            immobile[idx] = drop_short_runs(raw[idx], int(np.ceil(self.min_bout_s)))
        return pd.DataFrame(
            {
                "label": np.where(immobile, "immobile", "mobile"),
                "p_immobile": immobile.astype(float),
                "p_mobile": (~immobile).astype(float),
            },
            index=seconds.index,
        )


def fit_threshold(motion: np.ndarray, immobile: np.ndarray, min_bout_s: float = 1.0) -> tuple[float, float]:
    """Threshold that best reproduces hand-scored seconds (maximum per-second agreement).

    Parameters
    ----------
    motion : numpy.ndarray
        Per-second motion index of the hand-scored seconds (one animal's seconds consecutive).
    immobile : numpy.ndarray of bool
        The human's call for each of those seconds.
    min_bout_s : float
        Minimum bout applied, as the scorer will apply it.

    Returns
    -------
    threshold_pct, agreement : float
        The fitted threshold (geometric midpoint between neighbouring candidate values) and the
        fraction of seconds on which it agrees with the human.

    Notes
    -----
    A few minutes of hand-scored video (DBscorer recommends 3–4 videos) are enough: the search
    is over every distinct motion value, so the answer is exact for the data given.
    """
    motion = np.asarray(motion, dtype=float)
    immobile = np.asarray(immobile, dtype=bool)
    ok = np.isfinite(motion)
    if ok.sum() < 10 or immobile[ok].all() or not immobile[ok].any():
        raise ValueError("fitting a threshold needs at least 10 hand-scored seconds with both immobile and mobile seconds")
    values = np.unique(np.clip(motion[ok], 1e-6, None))
    candidates = np.sqrt(values[:-1] * values[1:]) if values.size > 1 else values
    best_t, best_a = float(candidates[0]), -1.0
    for t in candidates:
        called = drop_short_runs(motion < t, int(np.ceil(min_bout_s)))
        a = float(np.mean(called[ok] == immobile[ok]))
        if a > best_a:
            best_t, best_a = float(t), a
    return best_t, best_a
