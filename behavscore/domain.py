"""Whether an animal's seconds look like those a trained model learned from.

A classifier answers every second, however unlike its training videos the second is: a mouse
walking across an open field, filmed from above, is labelled with the same confidence as a
swimming one, and nothing in the labels shows it. Each model therefore keeps the range of each
feature over its training seconds, and an animal is reported when many of its seconds lie well
outside the range of one feature: the model is extrapolating, and its labels of that animal
need checking against hand scores.

Measured on the shipped models (the limits below set on evaluation seeds 9101 and 9102, where
no animal of 36 is reported): no fresh synthetic animal of the model's protocol is reported
(0 of 24 of seeds 9201-9302 at full resolution, 0 of 36 at the sample videos' resolution, no
sample animal); the real open-field mouse is, with either model (it travels further each
second than any training animal), and so is the tethered home-cage mouse, 1 (FST 2-class
model) or 3 (TST model) of the 18 B-SOiD mice, and 5 of 18 FST animals given to the TST model.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from .features import FEATURE_DOCS

#: A value is outside when it lies beyond the training range by more than this share of the
#: range's width. Fresh synthetic animals of the training protocol reach just past the range
#: now and then (a lighting change moves ``diff_rel`` to twice its training maximum in up to a
#: third of an animal's seconds); half the width again is far past that.
RANGE_MARGIN = 0.5
#: An animal is reported when at least this share of its seconds is outside for one feature
#: (measured: at most 15 % in fresh synthetic animals of the training protocol, 30-45 % for
#: the open-field mouse).
OUTSIDE_SHARE = 0.25
#: ... and at least this many seconds: a clip of a few seconds is not judged on one second.
MIN_OUTSIDE_S = 3
#: Only seconds in which the animal moves at least this share of its own typical active
#: movement (``motion_rel_active``) are judged. The features that say how an animal moves are
#: ratios of tiny numbers while it hardly moves: the changed pixels of a small or low-contrast
#: still mouse may lie in one row, their vertical spread is 0 and its log ratio to the
#: horizontal spread runs to -14, far past anything in training, in seconds the models label
#: well (a quarter of the seconds of one sample FST mouse, two tail-climbing mice clinging still).
MOVING_REL_ACTIVE = 0.25


def feature_ranges(features: pd.DataFrame) -> dict[str, list[float]]:
    """Smallest and largest value of each feature over the seconds a model is trained on.

    Parameters
    ----------
    features : pandas.DataFrame
        Feature matrix of the training seconds (:func:`behavscore.features.second_features`).

    Returns
    -------
    dict
        ``{feature: [low, high]}``, plain floats (stored in the model file's metadata).
    """
    values = features.to_numpy(dtype=float)
    low, high = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
    return {name: [float(lo), float(hi)] for name, lo, hi in zip(features.columns, low, high)}


def outside(features: pd.DataFrame, ranges: Mapping[str, list[float]]) -> pd.DataFrame:
    """Which values lie outside the training range of their feature.

    Parameters
    ----------
    features : pandas.DataFrame
        Feature matrix of the seconds to judge.
    ranges : mapping
        ``{feature: [low, high]}`` from :func:`feature_ranges`; features without a range are
        not judged.

    Returns
    -------
    pandas.DataFrame
        Boolean, same index, one column per judged feature: below
        ``low - RANGE_MARGIN * (high - low)`` or above ``high + RANGE_MARGIN * (high - low)``.
    """
    names = [n for n in features.columns if n in ranges]
    bounds = np.array([ranges[n] for n in names], dtype=float).reshape(-1, 2)
    margin = RANGE_MARGIN * (bounds[:, 1] - bounds[:, 0])
    values = features[names].to_numpy(dtype=float)
    beyond = (values < bounds[:, 0] - margin) | (values > bounds[:, 1] + margin)
    return pd.DataFrame(beyond, columns=names, index=features.index)


def unlike_training_warnings(
    video: str, features: pd.DataFrame, animal: pd.Series, ranges: Mapping[str, list[float]], model: str
) -> dict[str, str]:
    """A warning for each animal whose seconds are often far outside the model's training range.

    Parameters
    ----------
    video : str
        Video name, for the message.
    features : pandas.DataFrame
        Feature matrix of the animal's seconds in the analysed window.
    animal : pandas.Series
        Animal of each row (same index).
    ranges : mapping
        The model's training ranges (:func:`feature_ranges`).
    model : str
        Model name, for the message.

    Returns
    -------
    dict
        ``{animal: message}`` for the animals with at least ``OUTSIDE_SHARE`` of their seconds
        (and ``MIN_OUTSIDE_S`` seconds) both moving (``MOVING_REL_ACTIVE``) and outside the
        range of one feature (:func:`outside`); the
        message names the features (at most three, the most often outside first), their
        training range and the median of the animal's values outside it.
    """
    if not ranges or features.empty:
        return {}
    beyond = outside(features, ranges)
    if "motion_rel_active" in features.columns:
        beyond[(features["motion_rel_active"] < MOVING_REL_ACTIVE).to_numpy()] = False
    out: dict[str, str] = {}
    for name, rows in beyond.groupby(animal.to_numpy(), sort=False):
        counts = rows.sum()
        hit = counts[(counts >= OUTSIDE_SHARE * len(rows)) & (counts >= MIN_OUTSIDE_S)].sort_values(ascending=False, kind="stable")
        if hit.empty:
            continue
        parts = [
            f"{feature} ({FEATURE_DOCS.get(feature, 'feature')}) in {n / len(rows):.0%} of its seconds (median there "
            f"{float(features.loc[rows.index[rows[feature]], feature].median()):.3g}; training {ranges[feature][0]:.3g} "
            f"to {ranges[feature][1]:.3g})"
            for feature, n in hit.head(3).items()
        ]
        out[str(name)] = (
            f"{video}: animal {name!r} is unlike every animal model {model} was trained on: "
            + "; ".join(parts)
            + ". The model has not learned such seconds and may label them wrongly without knowing it: check its labels "
            "against a few hand-scored animals (behavscore validate), or train a model on your own scored videos"
        )
    return out
