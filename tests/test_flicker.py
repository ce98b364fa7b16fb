"""Lights whose brightness changes from frame to frame (lamps on the mains beating with the
camera's rate, a camera's automatic exposure) against synthetic truth."""

from __future__ import annotations

import numpy as np
import pytest

from behavscore import signals as signals_module
from behavscore.score import score_signals
from behavscore.signals import FLICKER_DN, Roi, compute_signals
from behavscore.video import iter_luma

from conftest import write_video
from mp4_times import set_display_matrix
from test_accuracy import immobility_tolerance_s

SECONDS = 60
#: Per-frame gain jitter, SD: 8-10 grey levels of mean brightness step between frames here.
FLICKER_FRACTION = 0.05
#: When the lights of the late-flicker videos start to flicker, s.
ONSET_S = 20


def both_ways(video, path):
    """The video's signals as the pass measures them, and with every frame differenced as it
    is (no brightness matching)."""
    rois = [Roi(*r) for r in video.rois]
    with pytest.MonkeyPatch.context() as m:
        m.setattr(signals_module, "FLICKER_DN", np.inf)
        naive = compute_signals(path, rois)
    return video, compute_signals(path, rois), naive


@pytest.fixture(scope="module")
def flickering(tmp_path_factory):
    """60-s, 3-animal FST and TST videos whose lights flicker from the start."""
    from behavscore.synth import generate_video
    from behavscore.synth.nuisance import NuisanceSettings

    out = tmp_path_factory.mktemp("flicker")
    made = {}
    for protocol in ("fst", "tst"):
        video = generate_video(out / f"{protocol}.mp4", protocol, seed=4401, seconds=SECONDS, animals=3,
                               nuisance=NuisanceSettings(flicker_fraction=FLICKER_FRACTION))
        made[protocol] = both_ways(video, video.path)
    return made


@pytest.fixture(scope="module")
def flickering_late(tmp_path_factory):
    """60-s, 3-animal FST and TST videos whose lights are steady for 20 s, then flicker."""
    from behavscore.synth import generate_video

    out = tmp_path_factory.mktemp("flicker_late")
    rng = np.random.default_rng(0)
    made = {}
    for protocol in ("fst", "tst"):
        video = generate_video(out / f"{protocol}.mp4", protocol, seed=4402, seconds=SECONDS, animals=3)
        frames = list(iter_luma(video.path))
        gain = 1.0 + rng.normal(0.0, FLICKER_FRACTION, len(frames)) * (np.arange(len(frames)) >= ONSET_S * video.fps)
        path = write_video(out / f"{protocol}_late.mp4", [np.clip(f * g, 0, 255).astype(np.uint8) for f, g in zip(frames, gain)], fps=video.fps)
        made[protocol] = both_ways(video, path)
    return made


@pytest.fixture(scope="module")
def banded(tmp_path_factory):
    """60-s, 3-animal FST and TST videos crossed by the rolling bands of :func:`rolling_bands`."""
    from behavscore.synth import generate_video

    out = tmp_path_factory.mktemp("banded")
    made = {}
    for protocol in ("fst", "tst"):
        video = generate_video(out / f"{protocol}.mp4", protocol, seed=4403, seconds=SECONDS, animals=3)
        path = write_video(out / f"{protocol}_banded.mp4", rolling_bands(list(iter_luma(video.path))), fps=video.fps)
        made[protocol] = both_ways(video, path)
    return made


def rolling_bands(frames):
    """Frames crossed along their rows by two bands of light and shade (6 %) that advance 0.36
    of their spacing each frame: lamps flickering at 100 Hz seen by a rolling shutter at 30
    frames/s advance theirs by a third."""
    rows = np.arange(frames[0].shape[0])[:, None] / frames[0].shape[0]
    return [np.clip(f * (1.0 + 0.06 * np.sin(2 * np.pi * (2 * rows + 0.36 * i))), 0, 255).astype(np.uint8) for i, f in enumerate(frames)]


@pytest.fixture(scope="module")
def banded_phone(tmp_path_factory):
    """The bands of :func:`rolling_bands` in a phone's portrait clip: the sensor's rows are
    stored as recorded, with a turn in the header, so that upright the bands run along the
    columns. The stored picture is the generator's turned counter-clockwise."""
    from behavscore.synth import generate_video

    out = tmp_path_factory.mktemp("banded_phone")
    made = {}
    for protocol in ("fst", "tst"):
        video = generate_video(out / f"{protocol}.mp4", protocol, seed=4406, seconds=SECONDS, animals=3)
        stored = [np.ascontiguousarray(np.rot90(f)) for f in iter_luma(video.path)]
        path = write_video(out / f"{protocol}_stored.mp4", rolling_bands(stored), fps=video.fps)
        made[protocol] = both_ways(video, set_display_matrix(path, out / f"{protocol}_phone.mp4"))
    return made


def errors_s(video, signals, protocol: str, model: str):
    """Per animal: scored minus true immobile seconds, the tolerance, and the run's warnings."""
    truth = video.truth.assign(immobile=video.truth["label"] == "immobile").groupby("animal")["immobile"].sum()
    result = score_signals(signals, protocol, model, window=(0, SECONDS))
    scored = result.summary.set_index("animal")["immobility_s"]
    return scored - truth, truth.map(immobility_tolerance_s), result.warnings


@pytest.mark.parametrize("model", ["threshold", "default"])
@pytest.mark.parametrize("protocol", ["fst", "tst"])
def test_flickering_lights_leave_immobility_where_truth_is(flickering, protocol, model):
    # Measured with frames differenced as they are: the threshold scorer called 48 s of TST
    # immobility for 6, the FST classifier 26 s for 12 (every scorer and protocol had an animal
    # outside the bar; the FST classifier that also learned from 15-frames/s videos is within
    # it even so, 5 s off at most); with brightness matched, every animal within 4 s.
    video, signals, naive = flickering[protocol]
    assert (signals.per_roi["flicker_dn"] > FLICKER_DN).all()
    error, tolerance, warnings = errors_s(video, signals, protocol, model)
    assert (error.abs() <= tolerance).all(), error
    assert any(str(signals.video) in w and "brightness" in w for w in warnings), warnings
    flags = score_signals(signals, protocol, model, window=(0, SECONDS)).summary["flags"]
    assert flags.str.contains("flickering light").all(), flags
    naive_error, _, _ = errors_s(video, naive, protocol, "threshold")
    assert (naive_error.abs() > tolerance).any(), naive_error  # the videos do test the matching


@pytest.mark.parametrize("protocol", ["fst", "tst"])
def test_lights_that_start_flickering_late_are_matched_from_then_on(flickering_late, protocol):
    # Steady for the 2 s the noise is calibrated on. Differenced as they are, the classifier
    # called 43 s of FST immobility for 10 and 36 s of TST immobility for 20; matched, every
    # animal within 3 s with either scorer.
    video, signals, naive = flickering_late[protocol]
    for model in ("threshold", "default"):
        error, tolerance, warnings = errors_s(video, signals, protocol, model)
        assert (error.abs() <= tolerance).all(), (model, error)
        assert any("brightness" in w for w in warnings), warnings
    naive_error, tolerance, _ = errors_s(video, naive, protocol, "default")
    assert (naive_error.abs() > tolerance).any(), naive_error


@pytest.mark.parametrize("model", ["threshold", "default"])
@pytest.mark.parametrize("protocol", ["fst", "tst"])
def test_rolling_bands_of_light_leave_immobility_where_truth_is(banded, protocol, model):
    # The frame's mean luma hardly changes; its rows' does. Differenced as they are, the
    # bands lit up the background and the calibrated noise: the threshold scorer called 60 s
    # of FST immobility for 15 and 52 s of TST immobility for 14, the classifier 59 for 15 and
    # 35 for 24; matched row by row, every animal within 2 s.
    video, signals, naive = banded[protocol]
    error, tolerance, warnings = errors_s(video, signals, protocol, model)
    assert (error.abs() <= tolerance).all(), error
    assert any("brightness" in w for w in warnings), warnings
    naive_error, _, _ = errors_s(video, naive, protocol, model)
    assert (naive_error.abs() > tolerance).any(), naive_error


@pytest.mark.parametrize("model", ["threshold", "default"])
@pytest.mark.parametrize("protocol", ["fst", "tst"])
def test_rolling_bands_of_a_phone_clip_turned_upright_are_matched_along_its_columns(banded_phone, protocol, model):
    # Measured along the rows only, the bands went unseen (0.97 grey levels; 7.5 along the
    # columns) and lit up the FST background: two of three mice 52 and 46 s more immobile than
    # truth (threshold scorer; classifier 51 and 43). Differenced as they are, the bands raise
    # the noise cut-off from the floor of 10 grey levels to 30-59 (FST) and 24 (TST, whose dark
    # hanging mice still stand out: within 2 s); matched along the columns, within 3 s.
    video, signals, naive = banded_phone[protocol]
    error, tolerance, warnings = errors_s(video, signals, protocol, model)
    assert (error.abs() <= tolerance).all(), error
    assert any("brightness" in w for w in warnings), warnings
    assert (signals.per_roi["cutoff_dn"] < 0.5 * naive.per_roi["cutoff_dn"]).all(), (signals.per_roi, naive.per_roi)
    if protocol == "fst":
        naive_error, _, _ = errors_s(video, naive, protocol, model)
        assert (naive_error.abs() > tolerance).any(), naive_error
