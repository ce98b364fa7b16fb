"""A TST mouse that climbs its tail is named, with how long and from when, not silently scored."""

from __future__ import annotations

import numpy as np
import pytest

from behavscore import score_video
from behavscore.synth import generate_video

CLIMBS_S = {"a2": (12.0, 28.0), "a3": (24.0, 40.0)}


@pytest.fixture(scope="module")
def climbing(tmp_path_factory):
    """40-s TST video: a1 hangs throughout, a2 climbs its tail from 12 to 28 s, a3 from 24 s to the end."""
    specs = [{"tail_climb_s": CLIMBS_S[a]} if a in CLIMBS_S else {} for a in ("a1", "a2", "a3")]
    return generate_video(tmp_path_factory.mktemp("climb") / "tst_climb.mp4", "tst", seed=4410, seconds=40, animals=3, treatment_effects=specs)


def climbed_truth(video) -> dict[str, np.ndarray]:
    truth = video.truth
    return {a: g.loc[g["detail"] == "tail_climb", "second"].to_numpy() for a, g in truth.groupby("animal")}


def test_tail_climbing_is_flagged_with_its_length_and_start(climbing):
    truth = climbed_truth(climbing)
    r = score_video(climbing.path, protocol="tst", rois=climbing.rois, window=(0, 40))
    summary = r.summary.set_index("animal")
    assert summary.loc["a1", "tail_climbing_s"] == 0 and "tail climbing" not in summary.loc["a1", "flags"]
    for animal in CLIMBS_S:
        assert len(truth[animal]) >= 14
        assert abs(summary.loc[animal, "tail_climbing_s"] - len(truth[animal])) <= 2, (animal, summary.loc[animal], truth[animal])
        assert "tail climbing" in summary.loc[animal, "flags"]
        (text,) = [w for w in r.warnings if f"ROI {animal!r}" in w and "climbed its tail" in w]
        start_s = int(text.split(" s of the window, from ")[1].split(" s")[0])
        assert abs(start_s - truth[animal][0]) <= 1, text
    # Clinging still under the bar reads as immobility: the seconds are flagged, not hidden.
    climbed = r.seconds[(r.seconds["animal"] == "a2") & r.seconds["second"].isin(truth["a2"])]
    assert (climbed["label"] == "immobile").mean() > 0.5


def test_only_climbs_inside_the_window_count(climbing):
    r = score_video(climbing.path, protocol="tst", rois=climbing.rois, window=(0, 20))
    summary = r.summary.set_index("animal")
    truth = climbed_truth(climbing)
    assert abs(summary.loc["a2", "tail_climbing_s"] - (truth["a2"] < 20).sum()) <= 2
    assert summary.loc["a3", "tail_climbing_s"] == 0 and "tail climbing" not in summary.loc["a3", "flags"]


def test_the_threshold_scorer_measures_no_outline_so_reports_no_climbing_number(climbing):
    r = score_video(climbing.path, protocol="tst", rois=climbing.rois, window=(0, 40), model="threshold")
    assert r.summary["tail_climbing_s"].isna().all()
    assert not any("climbed its tail" in w for w in r.warnings)


def test_the_forced_swim_summary_has_no_tail_climbing_column(short_fst):
    r = score_video(short_fst.path, protocol="fst", rois=short_fst.rois, window=(0, 40), model="threshold")
    assert "tail_climbing_s" not in r.summary.columns


@pytest.mark.parametrize("bad", [{"tail_climb_s": (10.0, 5.0)}, {"tail_climb_s": (-1.0, 5.0)}, {"tail_climb_s": (float("nan"), 5.0)}])
def test_the_generator_refuses_an_impossible_climb(tmp_path, bad):
    with pytest.raises(ValueError, match="tail_climb_s"):
        generate_video(tmp_path / "x.mp4", "tst", seed=1, seconds=5, animals=1, treatment_effects=[bad])


def test_the_generator_climbs_only_in_the_tail_suspension_test(tmp_path):
    with pytest.raises(ValueError, match="tst"):
        generate_video(tmp_path / "x.mp4", "fst", seed=1, seconds=5, animals=1, treatment_effects=[{"tail_climb_s": (1.0, 3.0)}])
