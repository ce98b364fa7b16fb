"""Animals unlike a model's training animals are reported, by feature."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from behavscore.domain import MIN_OUTSIDE_S, MOVING_REL_ACTIVE, OUTSIDE_SHARE, RANGE_MARGIN, feature_ranges, outside, unlike_training_warnings


def test_ranges_are_the_smallest_and_largest_training_values():
    features = pd.DataFrame({"a": [0.0, 2.0, 1.0], "b": [-1.0, 5.0, 3.0]})
    assert feature_ranges(features) == {"a": [0.0, 2.0], "b": [-1.0, 5.0]}


def test_a_value_is_outside_only_past_the_margin():
    ranges = {"a": [0.0, 2.0]}  # width 2: outside below -2 * RANGE_MARGIN or above 2 + 2 * RANGE_MARGIN
    edge = 2.0 * RANGE_MARGIN
    values = [-edge - 0.01, -edge, 1.0, 2.0 + edge, 2.0 + edge + 0.01, 100.0]
    beyond = outside(pd.DataFrame({"a": values, "unjudged": 1e9}), ranges)
    assert list(beyond.columns) == ["a"]  # a feature without a training range is not judged
    assert beyond["a"].tolist() == [True, False, False, False, True, True]


def _animals(n_seconds: int, n_outside: dict[str, int]) -> tuple[pd.DataFrame, pd.Series]:
    rows, animals = [], []
    for name, k in n_outside.items():
        rows += [10.0] * k + [0.5] * (n_seconds - k)
        animals += [name] * n_seconds
    return pd.DataFrame({"centroid_step_bl": rows}), pd.Series(animals)


def test_an_animal_is_reported_when_enough_of_its_seconds_are_far_outside():
    n = 40
    k_hit = int(np.ceil(OUTSIDE_SHARE * n))
    features, animal = _animals(n, {"walker": k_hit, "swimmer": k_hit - 1})
    out = unlike_training_warnings("v.mp4", features, animal, {"centroid_step_bl": [0.0, 1.0]}, "tst2-v2")
    assert list(out) == ["walker"]
    message = out["walker"]
    assert "v.mp4" in message and "tst2-v2" in message and "centroid_step_bl" in message
    assert "body lengths" in message  # the feature's meaning and unit
    assert "training 0 to 1" in message and f"{k_hit / n:.0%}" in message and "median there 10" in message
    assert "behavscore validate" in message


def test_a_few_seconds_of_a_short_clip_are_not_enough():
    features, animal = _animals(MIN_OUTSIDE_S, {"brief": MIN_OUTSIDE_S - 1})  # 2 of 3 s outside
    assert unlike_training_warnings("v.mp4", features, animal, {"centroid_step_bl": [0.0, 1.0]}, "m") == {}


def test_seconds_in_which_the_animal_hardly_moves_are_not_judged():
    # A still mouse's log ratio of two spreads of a few changed pixels can be anything.
    n = 20
    features = pd.DataFrame({"flow_y_over_x": [-14.0] * n, "motion_rel_active": [MOVING_REL_ACTIVE / 2] * 10 + [1.0] * 10})
    animal = pd.Series(["still"] * 10 + ["moving"] * 10)
    out = unlike_training_warnings("v.mp4", features, animal, {"flow_y_over_x": [-1.5, 0.8], "motion_rel_active": [0.0, 2.0]}, "m")
    assert list(out) == ["moving"]


def test_no_ranges_no_warning():
    features, animal = _animals(10, {"a": 10})
    assert unlike_training_warnings("v.mp4", features, animal, {}, "m") == {}
