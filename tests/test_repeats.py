"""Frames repeated by a camera that captured fewer frames than its file holds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from behavscore import repeats
from behavscore.per_second import per_second
from behavscore.repeats import gap_frames, repeat_warning, repeated_frames, repeated_rows
from behavscore.score import score_signals
from behavscore.signals import Roi, compute_signals
from behavscore.video import iter_luma

from conftest import write_video


def test_gaps_are_short_still_runs_between_moving_frames():
    change = np.array([0, 0, 9, 0, 8, 8, 0, 0, 7, 0, 0, 0, 6, 1, 6, 5, 0])
    gap = gap_frames(change)
    # Single and double gaps between changing frames; not the still start, not a run of three,
    # not a frame that changes by more than 5 % of its neighbours, not the unfinished end.
    assert np.flatnonzero(gap).tolist() == [3, 6, 7]


@pytest.fixture(scope="module")
def padded(tmp_path_factory):
    """A synthetic TST video and the same scene as a 20-frames/s camera padded to 30 frames/s."""
    from behavscore.synth import generate_video

    out = tmp_path_factory.mktemp("repeats")
    video = generate_video(out / "tst.mp4", "tst", seed=11, seconds=20, animals=2, fps=20)
    frames = list(iter_luma(video.path))
    padded_frames, is_repeat = [], []
    for i, frame in enumerate(frames):  # every other captured frame is written twice: 3 per 2
        padded_frames.append(frame)
        is_repeat.append(False)
        if i % 2 == 1:
            padded_frames.append(frame)
            is_repeat.append(True)
    path = write_video(out / "padded.mp4", padded_frames, fps=30)
    rois = [Roi(*r) for r in video.rois]
    return {"video": video, "rois": rois, "path": path, "is_repeat": np.array(is_repeat)}


def test_repeated_frames_of_a_padded_file_are_found(padded):
    signals = compute_signals(padded["path"], padded["rois"])
    found = repeated_frames(signals)
    truth = padded["is_repeat"][: signals.n_frames]
    precision = truth[found].mean()
    recall = found[truth].mean()
    assert precision >= 0.95, precision
    assert recall >= 0.6, recall  # repeats while both animals hang still look like stillness
    warning = next(w for w in score_signals(signals, "tst", "threshold", window=(0, 20)).warnings if "repeat" in w)
    assert "padded.mp4" in warning and "frames/s" in warning


def test_leaving_repeats_out_brings_motion_back_to_the_new_frames(padded, monkeypatch):
    original = per_second(compute_signals(padded["video"].path, padded["rois"]))
    signals = compute_signals(padded["path"], padded["rois"])
    fixed = per_second(signals)
    monkeypatch.setattr(repeats, "MIN_GAP_SHARE", np.inf)  # take no frame for a repeat
    naive = per_second(signals)
    key = ["animal", "second"]
    both = original.merge(fixed, on=key, suffixes=("", "_fixed")).merge(naive, on=key, suffixes=("", "_naive"))
    moving = both[both["motion"] > 5]
    assert len(moving) >= 10
    # The padded file's new frames differ over 1/20 s, as the original's frames do.
    error_fixed = (moving["motion_fixed"] - moving["motion"]).abs().median()
    error_naive = (moving["motion_naive"] - moving["motion"]).abs().median()
    assert error_fixed < 0.5 * error_naive, (error_fixed, error_naive)


def test_waveform_measures_hold_over_repeats_instead_of_seeing_troughs(padded, monkeypatch):
    # A repeat changes nothing, so read naively every other frame is a deep trough: the mark
    # of a passive swing, which the classifier calls immobile.
    from behavscore.features import frame_measures

    measures = ["trough_ratio_0.5s", "trough_ratio_1s", "swing_coherence"]
    original = frame_measures(compute_signals(padded["video"].path, padded["rois"]))
    signals = compute_signals(padded["path"], padded["rois"])
    fixed = frame_measures(signals)
    monkeypatch.setattr(repeats, "MIN_GAP_SHARE", np.inf)  # take no frame for a repeat
    naive = frame_measures(signals)
    moving = per_second(compute_signals(padded["video"].path, padded["rois"])).query("motion > 5")[["animal", "second"]]
    assert len(moving) >= 10
    both = moving.merge(original, on=["animal", "second"])
    both = both.merge(fixed, on=["animal", "second"], suffixes=("", "_fixed")).merge(naive, on=["animal", "second"], suffixes=("", "_naive"))
    for m in measures:
        error_fixed = (both[f"{m}_fixed"] - both[m]).abs().median()
        error_naive = (both[f"{m}_naive"] - both[m]).abs().median()
        assert error_fixed < 0.5 * error_naive, (m, error_fixed, error_naive)


def test_a_file_of_new_frames_has_no_repeats(tmp_path):
    from behavscore.synth import generate_video

    for protocol in ("fst", "tst"):
        video = generate_video(tmp_path / f"{protocol}.mp4", protocol, seed=12, seconds=20, animals=3)
        signals = compute_signals(video.path, [Roi(*r) for r in video.rois])
        assert not repeated_frames(signals).any()
        assert not any("repeat" in w for w in score_signals(signals, protocol, "threshold", window=(0, 20)).warnings)


def test_only_consecutive_frame_differences_are_checked(padded):
    from behavscore.signals import SignalParams

    signals = compute_signals(padded["path"], padded["rois"], SignalParams(diff_lag_s=0.2))
    assert not repeated_frames(signals).any()
    # Frames filled in to hold a variable-rate file to its constant rate are known whatever
    # the lag: a filled frame's difference spans one interval fewer than the others'.
    from dataclasses import replace

    filled = replace(signals, filled_frames=(40, 41, 90))
    assert np.flatnonzero(repeated_frames(filled)).tolist() == [40, 41, 90]
    assert repeated_rows(filled).sum() == 3 * len(padded["rois"])


def test_real_padded_camera_repeats_match_the_tracker(reference_video):
    # The open-field camera repeats about 2 frames in 5: the independent tracker's centroid
    # does not move on exactly those frames.
    signals = compute_signals(reference_video / "tracktor_open_field.mp4")
    found = repeated_frames(signals)
    tracked = pd.read_csv(reference_video / "tracktor_open_field.tracked.csv")
    xy = tracked[["pos_x", "pos_y"]].to_numpy()
    still = np.r_[False, np.hypot(*np.diff(xy, axis=0).T) < 0.01]
    n = min(len(still), found.size)
    assert 0.25 <= found.mean() <= 0.45, found.mean()
    assert still[:n][found[:n]].mean() >= 0.95


def test_repeats_are_reported_and_recorded_by_a_batch(padded, tmp_path):
    from behavscore.batch import score_cohort
    from behavscore.cohort import read_cohort

    rows = [{"video": str(padded["path"]), "animal": r.animal, "roi_x": r.x, "roi_y": r.y, "roi_w": r.w, "roi_h": r.h} for r in padded["rois"]]
    pd.DataFrame(rows).to_csv(tmp_path / "cohort.csv", index=False)
    result = score_cohort(read_cohort(tmp_path / "cohort.csv"), "tst", "threshold", window=(0, 20))
    assert any("repeat the frame before" in w for w in result.warnings)
    assert any("repeat the frame before" in w for w in result.outcomes[0].provenance()["warnings"])


@pytest.fixture(scope="module")
def composed(tmp_path_factory):
    """Two TST compartments in one 30-frames/s picture, the first from a camera that captured
    2 frames in 3 (every third frame repeats the one before), the second new in every frame:
    as a quad splitter or clips of separate arenas set side by side make them."""
    from behavscore.synth import generate_video

    out = tmp_path_factory.mktemp("composed")
    video = generate_video(out / "tst.mp4", "tst", seed=13, seconds=40, animals=2, fps=30)
    rois = [Roi(*r) for r in video.rois]
    first = rois[0]
    inside = (slice(first.y, first.y + first.h), slice(first.x, first.x + first.w))
    frames = list(iter_luma(video.path))
    picture, is_repeat = [], []
    for i, frame in enumerate(frames):
        shown = i - 1 if i % 3 == 2 else i
        frame = frame.copy()
        frame[inside] = frames[shown][inside]
        picture.append(frame)
        is_repeat.append(shown != i)
    path = write_video(out / "composed.mp4", picture, fps=30)
    return {"video": video, "rois": rois, "signals": compute_signals(path, rois), "is_repeat": np.array(is_repeat)}


def test_repeats_of_one_compartment_of_a_composed_picture_are_found(composed):
    signals = composed["signals"]
    f = signals.frames
    first = (f["animal"] == composed["rois"][0].animal).to_numpy()
    truth = composed["is_repeat"][f["frame"].to_numpy()] & first
    found = repeated_rows(signals)
    assert not repeated_frames(signals).any()  # the whole picture changes in every frame
    assert truth[found].mean() >= 0.9 and found[truth].mean() >= 0.9, (truth[found].mean(), found[truth].mean())
    assert found[~first].mean() <= 0.01
    warning = repeat_warning(signals)
    assert "composed.mp4" in warning and composed["rois"][0].animal in warning and composed["rois"][1].animal not in warning


@pytest.mark.parametrize("model", ["threshold", "tst2"])
def test_a_compartment_from_a_slower_camera_is_scored_as_its_animal_moved(composed, model, monkeypatch):
    # Read naively, each repeat stops the animal for a frame: the threshold scorer called the
    # first animal immobile in all 40 s (truth 3 s, per-second agreement 0.08), the TST model
    # in 29 s (0.35); with the repeats left out both agree in all 40 s.
    from behavscore.scorers import MODELS_DIR

    name = model if model == "threshold" else str(MODELS_DIR / f"{model}.skops")
    truth = composed["video"].truth

    def agreement() -> pd.Series:
        r = score_signals(composed["signals"], "tst", name, window=(0, 40))
        m = truth.merge(r.seconds, on=["animal", "second"], suffixes=("_truth", ""))
        return ((m["label_truth"] == "immobile") == (m["label"] == "immobile")).groupby(m["animal"]).mean()

    fixed = agreement()
    monkeypatch.setattr(repeats, "MIN_GAP_SHARE", np.inf)  # take no frame for a repeat
    naive = agreement()
    first = composed["rois"][0].animal
    assert fixed[first] >= 0.9 and naive[first] < 0.7, (fixed, naive)


#: When the picture of the ``frozen`` fixture freezes, s.
FREEZE_S = 20


@pytest.fixture(scope="module")
def frozen(tmp_path_factory):
    """A 40-s, 3-animal TST video whose picture freezes at 20 s (a recorder that lost the
    camera's signal repeats its last frame), in MJPEG (each frame coded on its own, as many
    USB cameras and capture cards record)."""
    from behavscore.synth import generate_video

    out = tmp_path_factory.mktemp("frozen")
    video = generate_video(out / "tst.mp4", "tst", seed=4407, seconds=40, animals=3)
    rois = [Roi(*r) for r in video.rois]
    frames = list(iter_luma(video.path))
    at = int(FREEZE_S * video.fps)
    path = write_video(out / "frozen.avi", frames[:at] + [frames[at - 1]] * (len(frames) - at), fps=video.fps, fourcc="MJPG")
    return {"rois": rois, "signals": compute_signals(path, rois), "original": compute_signals(video.path, rois)}


def test_a_frozen_picture_is_reported_with_when_and_how_long(frozen):
    from behavscore.repeats import frozen_seconds

    found = frozen_seconds(frozen["signals"], (0, 40))
    assert sorted(found) == sorted(r.animal for r in frozen["rois"]), found
    for frozen_s, first_s in found.values():
        assert 0.95 * (40 - FREEZE_S) <= frozen_s <= 40 - FREEZE_S and FREEZE_S <= first_s <= FREEZE_S + 0.1, found
    warnings = score_signals(frozen["signals"], "tst", "threshold", window=(0, 40)).warnings
    assert sum("does not change at all" in w for w in warnings) == 3, warnings
    # Only the window counts; the same scene, live, has no such runs.
    assert not frozen_seconds(frozen["signals"], (0, FREEZE_S))
    assert not frozen_seconds(frozen["original"], (0, 40))
    # summary.csv flags every animal, and none in the live scene.
    flags = score_signals(frozen["signals"], "tst", "threshold", window=(0, 40)).summary["flags"]
    assert flags.str.contains("frozen picture").all(), flags
    assert (score_signals(frozen["original"], "tst", "threshold", window=(0, 40)).summary["flags"] == "").all()


def test_only_the_compartment_of_the_slower_camera_is_flagged(composed):
    summary = score_signals(composed["signals"], "tst", "threshold", window=(0, 40)).summary.set_index("animal")
    first, second = (r.animal for r in composed["rois"])
    assert summary.loc[first, "flags"] == "repeated frames" and summary.loc[second, "flags"] == "", summary["flags"]


def test_a_padded_camera_is_not_a_frozen_picture(padded, composed):
    for signals in (compute_signals(padded["path"], padded["rois"]), composed["signals"]):
        assert not repeats.frozen_seconds(signals, (0, signals.n_frames / signals.fps))
