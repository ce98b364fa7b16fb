"""A TST mouse that climbs its tail or falls, or any mouse taken out, is named with how long and from when, not silently scored."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from behavscore import score_video
from behavscore.synth import generate_video

CLIMBS_S = {"a2": (12.0, 28.0), "a3": (24.0, 40.0), "a5": (4.0, 40.0)}
FALLS_AT_S = {"a4": 20.0}


@pytest.fixture(scope="module")
def mishaps(tmp_path_factory):
    """40-s TST video: a1 hangs throughout, a2 climbs its tail from 12 to 28 s, a3 from 24 s to
    the end, a4's tape gives way at 20 s, a5 climbs 4 s in and stays up (most of the video)."""
    animals = ("a1", "a2", "a3", "a4", "a5")
    specs = [{"tail_climb_s": CLIMBS_S[a]} if a in CLIMBS_S else {"falls_at_s": FALLS_AT_S[a]} if a in FALLS_AT_S else {} for a in animals]
    return generate_video(tmp_path_factory.mktemp("mishaps") / "tst_mishaps.mp4", "tst", seed=4410, seconds=40, animals=len(animals), treatment_effects=specs)


@pytest.fixture(scope="module")
def scored(mishaps):
    return score_video(mishaps.path, protocol="tst", rois=mishaps.rois, window=(0, 40))


def truth_seconds(video, detail: str) -> dict[str, np.ndarray]:
    truth = video.truth
    return {a: g.loc[g["detail"] == detail, "second"].to_numpy() for a, g in truth.groupby("animal")}


def warned_start_s(warnings: list[str], animal: str, words: str) -> int:
    (text,) = [w for w in warnings if f"ROI {animal!r}" in w and words in w]
    return int(text.split(" s of the window, from ")[1].split(" s")[0])


def test_tail_climbing_is_flagged_with_its_length_and_start(mishaps, scored):
    truth = truth_seconds(mishaps, "tail_climb")
    summary = scored.summary.set_index("animal")
    for animal in ("a1", "a4"):
        assert summary.loc[animal, "tail_climbing_s"] == 0 and "tail climbing" not in summary.loc[animal, "flags"]
    for animal in CLIMBS_S:
        assert len(truth[animal]) >= 14
        assert abs(summary.loc[animal, "tail_climbing_s"] - len(truth[animal])) <= 2, (animal, summary.loc[animal], truth[animal])
        assert "tail climbing" in summary.loc[animal, "flags"] and "fell" not in summary.loc[animal, "flags"]
        assert abs(warned_start_s(scored.warnings, animal, "climbed its tail") - truth[animal][0]) <= 1
    # Clinging still under the bar reads as immobility: the seconds are flagged, not hidden.
    climbed = scored.seconds[(scored.seconds["animal"] == "a2") & scored.seconds["second"].isin(truth["a2"])]
    assert (climbed["label"] == "immobile").mean() > 0.5


def test_a_fall_is_flagged_with_its_length_and_start(mishaps, scored):
    truth = truth_seconds(mishaps, "fallen")
    assert len(truth["a4"]) >= 19
    flags = scored.summary.set_index("animal")["flags"]
    assert "fell" in flags["a4"] and not any("fell" in flags[a] for a in ("a1", "a2", "a3", "a5"))
    (text,) = [w for w in scored.warnings if "ROI 'a4'" in w and "fallen" in w]
    assert abs(int(text.split(" px below where it hangs for ")[1].split(" s")[0]) - len(truth["a4"])) <= 2, text
    assert abs(warned_start_s(scored.warnings, "a4", "fallen") - truth["a4"][0]) <= 1


def test_only_mishaps_inside_the_window_count(mishaps):
    r = score_video(mishaps.path, protocol="tst", rois=mishaps.rois, window=(0, 20))
    summary = r.summary.set_index("animal")
    truth = truth_seconds(mishaps, "tail_climb")
    assert abs(summary.loc["a2", "tail_climbing_s"] - (truth["a2"] < 20).sum()) <= 2
    assert summary.loc["a3", "tail_climbing_s"] == 0 and "tail climbing" not in summary.loc["a3", "flags"]
    assert "fell" not in summary.loc["a4", "flags"]


def test_the_threshold_scorer_measures_no_outline_so_reports_no_climbing_number(mishaps):
    r = score_video(mishaps.path, protocol="tst", rois=mishaps.rois, window=(0, 40), model="threshold")
    assert r.summary["tail_climbing_s"].isna().all()
    assert not any("climbed its tail" in w or "fallen" in w for w in r.warnings)


def test_the_forced_swim_summary_has_no_tail_climbing_column(short_fst):
    r = score_video(short_fst.path, protocol="fst", rois=short_fst.rois, window=(0, 40), model="threshold")
    assert "tail_climbing_s" not in r.summary.columns


@pytest.mark.parametrize("bad", [{"tail_climb_s": (10.0, 5.0)}, {"tail_climb_s": (-1.0, 5.0)}, {"tail_climb_s": (float("nan"), 5.0)},
                                 {"falls_at_s": -1.0}, {"falls_at_s": float("inf")}])
def test_the_generator_refuses_an_impossible_mishap(tmp_path, bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        generate_video(tmp_path / "x.mp4", "tst", seed=1, seconds=5, animals=1, treatment_effects=[bad])


@pytest.mark.parametrize("mishap", [{"tail_climb_s": (1.0, 3.0)}, {"falls_at_s": 2.0}])
def test_the_generator_makes_tail_suspension_mishaps_only_in_the_tail_suspension_test(tmp_path, mishap):
    with pytest.raises(ValueError, match="tst"):
        generate_video(tmp_path / "x.mp4", "fst", seed=1, seconds=5, animals=1, treatment_effects=[mishap])


@pytest.mark.parametrize("coat", ["white", "black"])
def test_mishaps_are_found_whatever_the_coat_at_the_sample_videos_resolution(tmp_path, coat):
    # A white mouse hangs against a dark wall and clings under a light bar (still scenery its
    # outline must leave out); at 0.45 of the generator's resolution its body is about 250 px.
    specs = [{"coat": coat}, {"coat": coat, "tail_climb_s": (10.0, 30.0)}, {"coat": coat, "falls_at_s": 25.0}]
    video = generate_video(tmp_path / "tst.mp4", "tst", seed=4413, seconds=40, animals=3, treatment_effects=specs, scale=0.45)
    r = score_video(video.path, protocol="tst", rois=video.rois, window=(0, 40))
    summary = r.summary.set_index("animal")
    climbed, fallen = truth_seconds(video, "tail_climb")["a2"], truth_seconds(video, "fallen")["a3"]
    assert abs(summary.loc["a2", "tail_climbing_s"] - len(climbed)) <= 2, summary
    assert summary["flags"].tolist() == ["", "tail climbing", "fell"], summary["flags"]
    assert abs(warned_start_s(r.warnings, "a3", "fallen") - fallen[0]) <= 1


def test_a_lab_can_leave_climbing_and_fallen_mice_out_of_the_group_statistics(mishaps, tmp_path):
    # Protocols exclude such animals; summary.csv keeps them, with their flags and numbers.
    from typer.testing import CliRunner

    from behavscore.cli import app

    rows = [(mishaps.path.name, a, x, y, w, h, "vehicle" if a in ("a1", "a2") else "drug") for a, x, y, w, h in mishaps.rois]
    pd.DataFrame(rows, columns=["video", "animal", "roi_x", "roi_y", "roi_w", "roi_h", "treatment"]).to_csv(tmp_path / "cohort.csv", index=False)
    (tmp_path / mishaps.path.name).write_bytes(mishaps.path.read_bytes())
    args = ["batch", str(tmp_path / "cohort.csv"), "--protocol", "tst", "--window", "0:40", "--jobs", "1"]
    r = CliRunner().invoke(app, args + ["--out", str(tmp_path / "out"), "--exclude-flagged", "tail climbing", "--exclude-flagged", "fell"])
    assert r.exit_code == 0, r.output
    summary = pd.read_csv(tmp_path / "out" / "summary.csv").set_index("animal")
    assert (summary["status"] == "ok").all() and summary["immobility_s"].notna().all()
    stats = pd.read_csv(tmp_path / "out" / "stats.csv")
    described = stats[(stats["outcome"] == "immobility_s") & (stats["analysis"] == "describe")].set_index("group")
    # vehicle: a1 kept, a2 climbed; drug: a3 and a5 climbed, a4 fell
    assert (described.loc["vehicle", "n"], described.loc["vehicle", "n_excluded"]) == (1, 1)
    assert (described.loc["drug", "n"], described.loc["drug", "n_excluded"]) == (0, 3)
    assert described.loc["vehicle", "mean"] == pytest.approx(summary.loc["a1", "immobility_s"])
    prov = json.loads((tmp_path / "out" / "provenance.json").read_text())["parameters"]["group_stats"]
    assert prov["excluded_animals"] == ["a2", "a3", "a4", "a5"] and prov["excluded_flags"] == ["tail climbing", "fell"]
    # A flag name that does not exist is refused before any scoring.
    r = CliRunner().invoke(app, args + ["--out", str(tmp_path / "typo"), "--exclude-flagged", "tail-climbing"])
    assert r.exit_code == 2 and "no flag 'tail-climbing'" in r.output and not (tmp_path / "typo" / "cache").exists()
    # Nor is a flag the chosen scorer never raises: it would exclude nobody, without a word.
    r = CliRunner().invoke(app, args + ["--out", str(tmp_path / "thr"), "--model", "threshold", "--exclude-flagged", "fell"])
    assert r.exit_code == 2 and "threshold scorer neither outlines the animal" in r.output and not (tmp_path / "thr").exists()


@pytest.mark.parametrize("protocol", ["fst", "tst"])
def test_an_animal_taken_out_is_reported_gone_with_how_long_and_from_when(tmp_path, protocol):
    # Its empty compartment does not move: scored as immobility, it would pass for a floating
    # or hanging mouse. The outline, found before, tells that no animal is there.
    video = generate_video(tmp_path / f"{protocol}.mp4", protocol, seed=4414, seconds=40, animals=3,
                           treatment_effects=[{}, {"removed_at_s": 25.0}, {}])
    absent = truth_seconds(video, "removed")["a2"]
    assert absent.tolist() == list(range(25, 40))
    r = score_video(video.path, protocol=protocol, rois=video.rois, window=(0, 40))
    assert r.summary["flags"].tolist() == ["", "gone", ""], r.summary["flags"]
    (text,) = [w for w in r.warnings if "no longer seen" in w]
    assert "ROI 'a2'" in text and "for 15 s of the window, from 25 s" in text
    # Inside a window that ends before the animal is taken out, nothing is said.
    early = score_video(video.path, protocol=protocol, rois=video.rois, window=(0, 24))
    assert not any("no longer seen" in w for w in early.warnings)
