"""The transparent threshold scorer: immobile when the motion index is below a threshold."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from .bouts import drop_short_runs

#: Default absolute immobility threshold on the motion index (% of the animal's area changing per frame).
DEFAULT_THRESHOLD_PCT = 15.0
#: Default relative threshold: a second is immobile below this share of the animal's typical active motion.
DEFAULT_RELATIVE_THRESHOLD = 0.75
#: Active seconds an animal needs before its own activity level sets its threshold.
MIN_ACTIVE_S = 10
#: The per-second motion indices (``per_second`` columns) a threshold can be set on: the
#: median or the 10th percentile over the second's frames of the changed share of the animal,
#: or the median of each frame's calmest moment nearby (see :func:`behavscore.per_second.per_second`).
STATISTIC_COLUMNS = {"median": "motion", "p10": "motion_p10", "calm": "motion_calm"}
#: Body areas (px) at and below which ``small_body_relative_threshold`` applies, and at and
#: above which ``relative_threshold`` does (in between: linear in the logarithm of the area).
#: They are the median areas of the low-resolution and of the full-resolution TST tuning
#: animals (``benchmarks/fit_default_thresholds.py``).
SMALL_BODY_AREA_PX = 350.0
LARGE_BODY_AREA_PX = 1600.0


@dataclass(frozen=True)
class ThresholdScorer:
    """Call a second immobile when its motion index is below the animal's threshold.

    Attributes
    ----------
    threshold_pct : float
        Absolute immobility threshold on the motion index, % of the animal's area changing per
        frame. Seconds above it are the animal's *active* seconds.
    relative_threshold : float or None
        When set, each animal's threshold is ``max(threshold_pct, relative_threshold x median
        motion of its active seconds)`` (over the whole video), so a vigorous struggler and a
        weak one, a near and a far camera, are judged on the same scale; with fewer than
        ``MIN_ACTIVE_S`` active seconds the absolute threshold is used. None = absolute only.
    small_body_relative_threshold : float or None
        The relative threshold for an animal whose body covers at most ``SMALL_BODY_AREA_PX``
        pixels (``relative_threshold`` applies from ``LARGE_BODY_AREA_PX`` up, and in between
        the share moves linearly with the logarithm of the area). With few pixels on the
        body, small movements of a limb change no whole pixel, so a struggle's motion index
        spreads further down towards stillness. None = ``relative_threshold`` for every size.
    min_bout_s : float
        Immobile runs shorter than this are called mobile (DBscorer's "time threshold").
    statistic : {"median", "p10", "calm"}
        How a second's frames are summarised into its motion index: their median (a second is
        mobile when the animal moves in most of its frames), their 10th percentile (mobile
        only when it moves in nearly all of them), or the median of each frame's calmest
        moment within :data:`behavscore.per_second.CALM_HALF_WINDOW_S` either side (mobile
        when the animal moves without pause for most of the second). The TST uses ``calm``: a
        passive pendulum swing after a struggle comes to rest at each turn, several times a
        second, a struggling mouse does not; unlike ``p10`` it still calls a second mobile
        when a struggle fills most but not all of it.
    """

    threshold_pct: float = DEFAULT_THRESHOLD_PCT
    relative_threshold: float | None = DEFAULT_RELATIVE_THRESHOLD
    min_bout_s: float = 1.0
    statistic: str = "median"
    name: str = "threshold"
    small_body_relative_threshold: float | None = None

    def __post_init__(self) -> None:
        if not np.isfinite(self.threshold_pct) or self.threshold_pct <= 0:
            raise ValueError(f"threshold must be a positive number (% of animal area), got {self.threshold_pct}")
        if self.relative_threshold is not None and not 0 < self.relative_threshold < 10:
            raise ValueError(f"relative threshold must be a positive fraction (e.g. 0.75) or None, got {self.relative_threshold}")
        if self.small_body_relative_threshold is not None and not 0 < self.small_body_relative_threshold < 10:
            raise ValueError(f"small-body relative threshold must be a positive fraction or None, got {self.small_body_relative_threshold}")
        if self.min_bout_s < 0:
            raise ValueError(f"minimum bout must be >= 0 s, got {self.min_bout_s}")
        if self.statistic not in STATISTIC_COLUMNS:
            raise ValueError(f"statistic must be one of {', '.join(STATISTIC_COLUMNS)}, got {self.statistic!r}")

    @property
    def column(self) -> str:
        """The per-second column holding the motion index this scorer compares."""
        return STATISTIC_COLUMNS[self.statistic]

    @property
    def labels(self) -> tuple[str, ...]:
        return ("immobile", "mobile")

    def relative_share(self, body_area_px: float) -> float | None:
        """The relative threshold for an animal whose body covers ``body_area_px`` pixels.

        ``relative_threshold`` when the area is unknown (NaN) or no small-body value is set.
        """
        small, large = self.small_body_relative_threshold, self.relative_threshold
        if small is None or large is None or not np.isfinite(body_area_px) or body_area_px <= 0:
            return large
        position = np.log(body_area_px / SMALL_BODY_AREA_PX) / np.log(LARGE_BODY_AREA_PX / SMALL_BODY_AREA_PX)
        return float(small + np.clip(position, 0.0, 1.0) * (large - small))

    def animal_thresholds(self, seconds: pd.DataFrame) -> pd.Series:
        """The threshold (% of animal area) applied to each animal.

        The body area is read from the table's ``body_area_px`` column where there is one
        (:func:`behavscore.per_second.per_second` writes it).
        """
        codes, animals = pd.factorize(seconds["animal"])
        motion = seconds[self.column].to_numpy(dtype=float)
        area = seconds["body_area_px"].to_numpy(dtype=float) if "body_area_px" in seconds.columns else None
        out = {}
        for k, animal in enumerate(animals):
            rows = codes == k
            active = motion[rows & (motion > self.threshold_pct)]
            body = area[rows] if area is not None else np.zeros(0)
            body = body[np.isfinite(body)]
            share = self.relative_share(float(np.median(body)) if body.size else np.nan)
            t = self.threshold_pct
            if share is not None and active.size >= MIN_ACTIVE_S:
                t = max(t, share * float(np.median(active)))
            out[animal] = t
        return pd.Series(out, name="threshold_pct", dtype=float)

    def raw_immobile(self, seconds: pd.DataFrame) -> np.ndarray:
        """Per-second immobile calls before the minimum bout is applied."""
        return seconds[self.column].to_numpy() < seconds["animal"].map(self.animal_thresholds(seconds)).to_numpy()

    def predict(self, seconds: pd.DataFrame) -> pd.DataFrame:
        """Label each second of each animal.

        Parameters
        ----------
        seconds : pandas.DataFrame
            Per-second table with ``animal``, ``second`` and the motion index (:attr:`column`),
            sorted by animal and second.

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


#: The threshold scorer's settings, per protocol, where they differ from the class defaults
#: (fitted by ``benchmarks/fit_default_thresholds.py`` on synthetic videos with known truth).
PROTOCOL_DEFAULTS: dict[str, dict] = {
    "tst": {"statistic": "calm", "threshold_pct": 10.0, "relative_threshold": 0.65, "small_body_relative_threshold": 0.60},
}


def default_threshold_scorer(protocol_name: str) -> ThresholdScorer:
    """The threshold scorer with a protocol's default settings (the class defaults for custom protocols)."""
    return ThresholdScorer(**PROTOCOL_DEFAULTS.get(protocol_name.lower(), {}))


def fit_threshold(
    motion: np.ndarray, immobile: np.ndarray, min_bout_s: float = 1.0, animal: np.ndarray | None = None
) -> tuple[float, float]:
    """Absolute threshold that best reproduces hand-scored seconds (maximum per-second agreement).

    Parameters
    ----------
    motion : numpy.ndarray
        Per-second motion index of the hand-scored seconds (one animal's seconds consecutive).
    immobile : numpy.ndarray of bool
        The human's call for each of those seconds.
    min_bout_s : float
        Minimum bout applied, as the scorer will apply it.
    animal : numpy.ndarray, optional
        Which animal each second belongs to: a bout never runs from one animal into the next.

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
    candidates = _candidates(motion[ok])
    starts = _animal_starts(animal, motion.size)
    min_len = int(np.ceil(min_bout_s))
    best_t, best_a = float(candidates[0]), -1.0
    for t in candidates:
        called = _called_immobile(motion, t, min_len, starts)
        a = float(np.mean(called[ok] == immobile[ok]))
        if a > best_a:
            best_t, best_a = float(t), a
    return best_t, best_a


def _animal_starts(animal: np.ndarray | None, n: int) -> np.ndarray:
    """Row indices at which a new animal's seconds begin (always 0 and n)."""
    if animal is None:
        return np.array([0, n])
    labels = np.asarray(animal)
    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    return np.r_[0, change, n]


def _called_immobile(motion: np.ndarray, threshold: float, min_len: int, starts: np.ndarray) -> np.ndarray:
    """Seconds below the threshold, runs shorter than ``min_len`` dropped within each animal."""
    below = motion < threshold
    if min_len <= 1:
        return below
    return np.concatenate([drop_short_runs(below[a:b], min_len) for a, b in zip(starts[:-1], starts[1:])])


def held_out_agreement(motion: np.ndarray, immobile: np.ndarray, animal: np.ndarray, min_bout_s: float = 1.0) -> float:
    """Per-second agreement of each animal's seconds with the threshold fitted to the other animals.

    Parameters
    ----------
    motion, immobile, min_bout_s
        As in :func:`fit_threshold`.
    animal : numpy.ndarray
        Which animal each second belongs to (each animal's seconds consecutive).

    Returns
    -------
    float
        Agreeing seconds over all seconds of the animals that could be left out (the others
        still holding immobile and mobile seconds); NaN with fewer than 2 such animals. The
        agreement a new animal may expect: the fitted threshold's own agreement flatters it.
    """
    motion, immobile, animal = np.asarray(motion, dtype=float), np.asarray(immobile, dtype=bool), np.asarray(animal)
    min_len = int(np.ceil(min_bout_s))
    agree = total = tested = 0
    for a in dict.fromkeys(animal.tolist()):
        mine = animal == a
        try:
            t, _ = fit_threshold(motion[~mine], immobile[~mine], min_bout_s, animal[~mine])
        except ValueError:
            continue
        ok = np.isfinite(motion[mine])
        called = _called_immobile(motion[mine], t, min_len, _animal_starts(None, int(mine.sum())))
        agree += int(np.sum(called[ok] == immobile[mine][ok]))
        total += int(ok.sum())
        tested += 1
    return agree / total if tested >= 2 and total else math.nan


#: Fewest animals whose hand totals can fit a threshold (DBscorer calibrates on 3-4 videos).
MIN_ANIMALS_FOR_TOTALS = 3


class TotalsFit(NamedTuple):
    """A threshold fitted to hand totals (:func:`fit_threshold_to_totals`)."""

    threshold_pct: float
    rms_error_s: float
    bias_s: float
    held_out_rms_error_s: float


def fit_threshold_to_totals(
    motion: "list[np.ndarray]", immobility_s: np.ndarray, min_bout_s: float = 1.0
) -> TotalsFit:
    """Absolute threshold whose immobility per animal best matches hand totals (least squares).

    Parameters
    ----------
    motion : list of numpy.ndarray
        Each animal's per-second motion index over the window the totals cover, in order of time.
    immobility_s : numpy.ndarray
        The hand total of each animal (a stopwatch's immobility over the same window), s.
    min_bout_s : float
        Minimum bout applied, as the scorer will apply it.

    Returns
    -------
    TotalsFit
        ``threshold_pct``: the fitted threshold (geometric midpoint between neighbouring motion
        values; the middle candidate where several fit equally well); ``rms_error_s`` and
        ``bias_s``: the root-mean-square and the mean of the differences (scorer - hand) of
        immobility per animal it gives; ``held_out_rms_error_s``: the same RMS with each animal
        scored by the threshold fitted to the others (leave one animal out), the error to
        expect on animals the fit has not seen.

    Notes
    -----
    Totals say how much of each animal's window was immobile, not which seconds: the threshold
    is the one that reproduces them, exactly over every distinct motion value. Seconds without a
    motion index count as mobile, as in :func:`fit_threshold`.
    """
    hand = np.asarray(immobility_s, dtype=float)
    series = [np.asarray(m, dtype=float) for m in motion]
    if len(series) != hand.size:
        raise ValueError(f"{len(series)} animals' motion but {hand.size} totals")
    if hand.size < MIN_ANIMALS_FOR_TOTALS or not np.isfinite(hand).all():
        raise ValueError(f"fitting a threshold to totals needs the immobility of at least {MIN_ANIMALS_FOR_TOTALS} animals")
    min_len = int(np.ceil(min_bout_s))
    threshold = _least_squares_threshold(series, hand, min_len)
    diff = np.array([_immobile_s(m, threshold, min_len) for m in series]) - hand
    # Each animal scored with the threshold fitted to the others: what a new animal may expect.
    held_out = [
        _immobile_s(series[j], _least_squares_threshold(series[:j] + series[j + 1 :], np.delete(hand, j), min_len), min_len) - hand[j]
        for j in range(hand.size)
    ]
    return TotalsFit(threshold, float(np.sqrt(np.mean(diff**2))), float(diff.mean()), float(np.sqrt(np.mean(np.square(held_out)))))


def _immobile_s(motion: np.ndarray, threshold: float, min_len: int) -> float:
    """One animal's seconds below the threshold in runs of at least ``min_len`` (NaN counts as mobile)."""
    return float(_called_immobile(motion, threshold, min_len, _animal_starts(None, motion.size)).sum())


def _candidates(motion: np.ndarray) -> np.ndarray:
    """Thresholds worth trying: the geometric midpoints between neighbouring distinct motion values."""
    values = np.unique(np.clip(motion[np.isfinite(motion)], 1e-6, None))
    return np.sqrt(values[:-1] * values[1:]) if values.size > 1 else values


def _least_squares_threshold(series: "list[np.ndarray]", hand: np.ndarray, min_len: int) -> float:
    """The candidate threshold (midpoints of the motion values) whose totals are closest to ``hand``."""
    motion = np.concatenate(series) if series else np.zeros(0)
    if np.unique(motion[np.isfinite(motion)]).size < 2:
        raise ValueError("fitting a threshold needs seconds with different motion")
    candidates = _candidates(motion)
    called = np.empty((candidates.size, hand.size))
    for j, m in enumerate(series):
        if min_len <= 1:  # immobile seconds are those below the threshold: counted by sorting
            called[:, j] = np.searchsorted(np.sort(m[np.isfinite(m)]), candidates, side="left")
        else:
            called[:, j] = [_immobile_s(m, t, min_len) for t in candidates]
    return float(candidates[_middle_best(((called - hand) ** 2).sum(axis=1))])


def _middle_best(sse: np.ndarray) -> int:
    """Index of the middle candidate among those with the least squared error."""
    best = np.flatnonzero(sse == sse.min())
    return int(best[len(best) // 2])


def motion_for_totals(
    seconds: pd.DataFrame, totals: pd.DataFrame, window_s: tuple[float, float]
) -> tuple[list[np.ndarray], np.ndarray, list[str]]:
    """Pair each animal's per-second motion over a window with its hand total, for :func:`fit_threshold_to_totals`.

    Parameters
    ----------
    seconds : pandas.DataFrame
        ``video`` (file name), ``animal``, ``second``, ``motion`` (a ``seconds.csv``).
    totals : pandas.DataFrame
        ``video``, ``animal``, ``immobility_s``: the hand totals over ``window_s``.
    window_s : (start_s, end_s)
        Seconds the totals cover.

    Returns
    -------
    motion, immobility_s, left_out
        The motion of each animal found in both tables, in order of time; their totals; and a
        line for each animal left out because its scored seconds cover only part of the window.
    """
    if "immobility_s" not in totals.columns:
        raise ValueError("a threshold is fitted to hand totals of immobility_s, which this table lacks")
    start_s, end_s = window_s
    inside = seconds[(seconds["second"] >= start_s) & (seconds["second"] + 1 <= end_s)].sort_values(["video", "animal", "second"])
    by_animal = {key: g["motion"].to_numpy(dtype=float) for key, g in inside.groupby(["video", "animal"])}
    n_window = int(np.floor(end_s) - np.ceil(start_s))
    motion, hand, left_out = [], [], []
    for video, animal, total in totals[["video", "animal", "immobility_s"]].dropna().itertuples(index=False):
        m = by_animal.get((video, animal))
        if m is None:
            continue
        if np.isfinite(m).sum() < n_window:  # a total over the whole window says nothing of a part of it
            left_out.append(f"animal '{animal}' of video '{video}' left out: {int(np.isfinite(m).sum())} of the window's {n_window} s scored")
            continue
        motion.append(m)
        hand.append(float(total))
    return motion, np.asarray(hand, dtype=float), left_out
