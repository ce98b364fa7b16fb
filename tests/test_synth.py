"""Tests of the synthetic FST/TST video generator and its truth."""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from behavscore.synth import AnimalSpec, NuisanceSettings, generate_cohort, generate_video
from behavscore.synth.bouts import MIN_BOUT_S, frame_states, simulate_bouts
from behavscore.synth.pharmacology import behaviour_levels

TRUTH_COLUMNS = ["video", "animal", "second", "label", "detail"]
DETAILS_OF = {
    "fst": {"immobile": {"float", "paddle"}, "swimming": {"swim"}, "climbing": {"climb"}},
    "tst": {"immobile": {"hang", "swing"}, "mobile": {"struggle"}},
}


def read_gray(path):
    """All frames of a video as a (n, h, w) uint8 luma array (test videos are short)."""
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
    cap.release()
    return np.stack(frames)


def changed_pixels_per_second(gray, video, threshold_dn=12):
    """Mean count of pixels changing by more than ``threshold_dn`` between frames, per ROI and second."""
    diff = np.abs(np.diff(gray.astype(np.int16), axis=0)) > threshold_dn
    second = (np.arange(1, len(gray)) / video.fps).astype(int)
    rows = []
    for animal, x, y, w, h in video.rois:
        counts = diff[:, y : y + h, x : x + w].sum(axis=(1, 2))
        per_s = pd.Series(counts).groupby(second).mean()
        rows.append(pd.DataFrame({"animal": animal, "second": per_s.index, "changed": per_s.to_numpy()}))
    return video.truth.merge(pd.concat(rows), on=["animal", "second"])


def settled_seconds(video):
    """(animal, second) pairs whose frames, and the previous second's, all share one state."""
    frames = video.frames.assign(second=(video.frames["frame"] / video.fps).astype(int))
    pure = frames.groupby(["animal", "second"])["state"].nunique().eq(1).rename("pure").reset_index()
    pure["settled"] = pure["pure"] & pure.groupby("animal")["pure"].shift(1, fill_value=False)
    label = video.truth.set_index(["animal", "second"])["label"]
    same = label.groupby("animal").shift(1).reindex(pd.MultiIndex.from_frame(pure[["animal", "second"]])).to_numpy()
    pure["settled"] &= same == label.reindex(pd.MultiIndex.from_frame(pure[["animal", "second"]])).to_numpy()
    return pure.loc[pure["settled"], ["animal", "second"]]


@pytest.fixture(scope="module")
def fst_video(tmp_path_factory):
    path = tmp_path_factory.mktemp("synth") / "fst.mp4"
    return generate_video(path, "fst", seed=9, seconds=40.0, animals=2)


@pytest.fixture(scope="module")
def tst_video(tmp_path_factory):
    path = tmp_path_factory.mktemp("synth") / "tst.mp4"
    return generate_video(path, "tst", seed=4, seconds=40.0, animals=2)


@pytest.fixture(scope="module")
def fst_motion(fst_video):
    motion = changed_pixels_per_second(read_gray(fst_video.path), fst_video)
    return motion.merge(settled_seconds(fst_video), on=["animal", "second"])


@pytest.fixture(scope="module")
def tst_gray(tst_video):
    return read_gray(tst_video.path)


def test_same_seed_gives_identical_truth_and_frames(tmp_path):
    a = generate_video(tmp_path / "a.mp4", "tst", seed=3, seconds=3.0, animals=2)
    b = generate_video(tmp_path / "b.mp4", "tst", seed=3, seconds=3.0, animals=2)
    pd.testing.assert_frame_equal(a.truth.drop(columns="video"), b.truth.drop(columns="video"))
    assert np.array_equal(read_gray(a.path), read_gray(b.path))
    assert a.path.read_bytes() == b.path.read_bytes()


def test_different_seeds_give_different_videos(tmp_path):
    a = generate_video(tmp_path / "a.mp4", "fst", seed=1, seconds=2.0, animals=1)
    b = generate_video(tmp_path / "b.mp4", "fst", seed=2, seconds=2.0, animals=1)
    assert not np.array_equal(read_gray(a.path), read_gray(b.path))


@pytest.mark.parametrize("protocol", ["fst", "tst"])
def test_truth_has_contract_columns_and_labels(protocol, fst_video, tst_video):
    video = fst_video if protocol == "fst" else tst_video
    truth = video.truth
    assert list(truth.columns) == TRUTH_COLUMNS
    assert set(truth["video"]) == {video.path.name}
    assert set(truth["animal"]) == {roi[0] for roi in video.rois}
    for _, rows in truth.groupby("animal"):
        assert rows["second"].tolist() == list(range(40))
    allowed = DETAILS_OF[protocol]
    assert set(truth["label"]) <= set(allowed)
    for label, detail in zip(truth["label"], truth["detail"]):
        assert detail in allowed[label]


def test_label_is_majority_state_of_frames(fst_video):
    frames = fst_video.frames.assign(second=(fst_video.frames["frame"] / fst_video.fps).astype(int))
    majority = frames.groupby(["animal", "second"])["state"].agg(lambda s: s.value_counts().idxmax())
    merged = fst_video.truth.set_index(["animal", "second"])["label"]
    assert (majority.loc[merged.index] == merged).all()


@pytest.mark.parametrize("protocol", ["fst", "tst"])
def test_video_is_readable_with_stated_frames_fps_and_size(protocol, fst_video, tst_video):
    video = fst_video if protocol == "fst" else tst_video
    cap = cv2.VideoCapture(str(video.path))
    assert cap.isOpened()
    assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(video.fps)
    assert int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) == video.frame_size[0]
    assert int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) == video.frame_size[1]
    n = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        assert frame.shape == (video.frame_size[1], video.frame_size[0], 3)
        n += 1
    assert n == video.n_frames == 40 * 25


@pytest.mark.parametrize("protocol", ["fst", "tst"])
def test_rois_are_inside_the_frame_and_disjoint(protocol, fst_video, tst_video):
    video = fst_video if protocol == "fst" else tst_video
    width, height = video.frame_size
    assert len(video.rois) == 2
    for _, x, y, w, h in video.rois:
        assert 0 <= x and 0 <= y and w > 0 and h > 0 and x + w <= width and y + h <= height
    (_, x1, _, w1, _), (_, x2, _, _, _) = video.rois
    assert x1 + w1 <= x2


def test_rois_follow_the_output_scale(tmp_path):
    video = generate_video(tmp_path / "s.mp4", "fst", seed=1, seconds=1.0, animals=3, scale=0.5)
    assert video.frame_size == (240, 100)
    for _, x, y, w, h in video.rois:
        assert x + w <= 240 and y + h <= 100


def test_upscaled_video_keeps_the_animals_in_their_rois(tmp_path):
    # Above 1 the scene is upsampled (lab-camera frame sizes for throughput benchmarks).
    video = generate_video(tmp_path / "big.mp4", "tst", seed=1, seconds=1.0, animals=2, scale=2.3)
    small = generate_video(tmp_path / "small.mp4", "tst", seed=1, seconds=1.0, animals=2)
    assert video.frame_size == (round(small.frame_size[0] * 2.3), round(small.frame_size[1] * 2.3))
    xy = video.frames[["centroid_x", "centroid_y"]].to_numpy()
    ratio = np.array(video.frame_size) / np.array(small.frame_size)
    np.testing.assert_allclose(xy, (small.frames[["centroid_x", "centroid_y"]].to_numpy() + 0.5) * ratio - 0.5, atol=1e-9)
    for _, x, y, w, h in video.rois:
        assert x + w <= video.frame_size[0] and y + h <= video.frame_size[1]


def test_fst_active_seconds_change_many_more_pixels_than_floating(fst_motion):
    mean = fst_motion.groupby("detail")["changed"].mean()
    still = fst_motion.loc[fst_motion["detail"] == "float", "changed"].mean()
    assert {"swim", "climb", "float"} <= set(mean.index)
    assert mean["swim"] > 3 * still
    assert mean["climb"] > 3 * still


def test_fst_paddle_is_smaller_than_swimming(fst_video, tmp_path):
    # a long, mostly immobile session has paddles; compare with its swimming seconds
    video = generate_video(tmp_path / "late.mp4", "fst", seed=9, seconds=60.0, animals=1,
                           treatment_effects=[AnimalSpec()], nuisance=NuisanceSettings(noise_dn=0.0))
    motion = changed_pixels_per_second(read_gray(video.path), video)
    motion = motion.merge(settled_seconds(video), on=["animal", "second"])
    mean = motion.groupby("detail")["changed"].mean()
    assert "paddle" in mean.index and "swim" in mean.index
    assert mean["paddle"] < 0.4 * mean["swim"]


def test_tst_struggle_changes_many_more_pixels_than_hanging(tst_video, tst_gray):
    motion = changed_pixels_per_second(tst_gray, tst_video)
    settled = motion.merge(settled_seconds(tst_video), on=["animal", "second"])
    mean = settled.groupby("detail")["changed"].mean()
    assert mean["struggle"] > 3 * mean["hang"]
    swing = motion.loc[motion["detail"] == "swing", "changed"].mean()
    assert mean["struggle"] > swing > mean["hang"]


def _centroid_x(gray, roi):
    """Centroid column of the pixels that differ strongly from the compartment's wall."""
    _, x, y, w, h = roi
    panel = gray[:, y + 30 : y + h - 12, x + 4 : x + w - 4].astype(np.int16)
    wall = np.median(panel.reshape(len(panel), -1), axis=1)[:, None, None]
    mask = np.abs(panel - wall) > 40
    cols = np.arange(panel.shape[2])[None, None, :]
    return (mask * cols).sum(axis=(1, 2)) / np.maximum(mask.sum(axis=(1, 2)), 1)


def test_tst_swing_seconds_show_periodic_centroid_motion(tst_video, tst_gray):
    fps = tst_video.fps
    found = 0
    for roi in tst_video.rois:
        cx = _centroid_x(tst_gray, roi)
        pendulum_hz = tst_video.animals.set_index("animal").loc[roi[0], "swing_hz"]
        truth = tst_video.truth[tst_video.truth["animal"] == roi[0]].reset_index(drop=True)
        swing = truth["detail"].eq("swing").to_numpy()
        hang = truth["detail"].eq("hang").to_numpy()
        starts = [s for s in range(len(swing) - 1) if swing[s] and swing[s + 1] and (s == 0 or not swing[s - 1])]
        for s in starts:
            velocity = np.diff(cx[int(s * fps) : int((s + 2) * fps)])  # removes the resting offset
            spectrum = np.abs(np.fft.rfft(velocity * np.hanning(len(velocity)), n=8 * len(velocity)))
            freqs = np.fft.rfftfreq(8 * len(velocity), 1.0 / fps)
            peak_hz = freqs[np.argmax(spectrum)]
            assert 0.7 <= peak_hz <= 3.2
            assert peak_hz == pytest.approx(pendulum_hz, abs=0.35)
            found += 1
        hang_frames = np.repeat(hang, int(fps))[: len(cx)]
        swing_frames = np.repeat(swing, int(fps))[: len(cx)]
        if hang_frames.sum() > fps and swing_frames.sum() > fps:
            assert np.std(np.diff(cx[swing_frames])) > 2 * np.std(np.diff(cx[hang_frames]))
    assert found >= 1


def test_fst_climbing_is_upright_at_the_wall(fst_video):
    frames = fst_video.frames
    for animal, x, y, w, h in fst_video.rois:
        own = frames[frames["animal"] == animal]
        climb = own[own["state"] == "climbing"]
        still = own[own["detail"] == "float"]
        if len(climb) < 25 or len(still) < 25:
            continue
        assert climb["centroid_y"].mean() < still["centroid_y"].mean() - 3
        wall_gap = np.minimum(climb["centroid_x"] - x, x + w - climb["centroid_x"])
        assert np.median(wall_gap) < 0.3 * w


def test_fst_floating_drifts_slowly(fst_video):
    frames = fst_video.frames
    for animal, rows in frames.groupby("animal"):
        still = rows["detail"].eq("float").to_numpy()
        run = np.convolve(still, np.ones(50), "same") >= 50  # inside 2 s of continuous floating
        if run.sum() < 25:
            continue
        speed_px_s = np.abs(np.diff(rows["centroid_x"].to_numpy()))[run[1:]] * fst_video.fps
        assert np.median(speed_px_s) < 1.5


def test_no_bout_is_shorter_than_the_minimum():
    for seed in range(5):
        rng = np.random.default_rng(seed)
        for protocol in ("fst", "tst"):
            bouts = simulate_bouts(rng, protocol, 360.0, behaviour_levels(rng, protocol))
            assert all(b.duration_s >= MIN_BOUT_S - 1e-9 for b in bouts[:-1])
            assert bouts[-1].end_s == pytest.approx(360.0)


def _immobility(protocol, treatment, dose, seed, window_s):
    rng = np.random.default_rng(seed)
    bouts = simulate_bouts(rng, protocol, 360.0, behaviour_levels(rng, protocol, treatment, dose))
    states = frame_states(bouts, 360 * 5, 5.0)
    start, stop = window_s
    return float(np.mean(states[start * 5 : stop * 5] == 0))


def test_fst_immobility_grows_over_the_session():
    early = [_immobility("fst", "vehicle", 0.0, s, (0, 120)) for s in range(30)]
    late = [_immobility("fst", "vehicle", 0.0, s, (240, 360)) for s in range(30)]
    assert np.mean(late) > np.mean(early) + 0.2


def test_tst_immobility_grows_over_the_session():
    early = [_immobility("tst", "vehicle", 0.0, s, (0, 120)) for s in range(30)]
    late = [_immobility("tst", "vehicle", 0.0, s, (240, 360)) for s in range(30)]
    assert np.mean(late) > np.mean(early) + 0.1


@pytest.mark.parametrize("protocol,window", [("fst", (120, 360)), ("tst", (0, 360))])
def test_higher_dose_lowers_immobility(protocol, window):
    means = [
        np.mean([_immobility(protocol, "norclomipramine" if d else "vehicle", d, s, window) for s in range(40)])
        for d in (0.0, 5.0, 20.0)
    ]
    assert means[0] > means[1] > means[2]
    assert means[0] - means[2] > 0.15


def test_noradrenergic_drug_raises_climbing_and_serotonergic_raises_swimming():
    def active_shares(treatment, dose):
        climb, swim = 0.0, 0.0
        for s in range(40):
            rng = np.random.default_rng(s)
            bouts = simulate_bouts(rng, "fst", 360.0, behaviour_levels(rng, "fst", treatment, dose))
            climb += sum(b.duration_s for b in bouts if b.state == 2)
            swim += sum(b.duration_s for b in bouts if b.state == 1)
        return climb / (climb + swim)

    vehicle = active_shares("vehicle", 0.0)
    assert active_shares("norclomipramine", 20.0) > vehicle + 0.1
    assert active_shares("fluoxetine", 20.0) < vehicle - 0.05


def test_fixed_settled_immobility_replaces_the_drawn_one_and_nothing_else(tmp_path):
    drawn = generate_video(tmp_path / "a.mp4", "tst", seed=5, seconds=2.0, animals=2).animals
    fixed = generate_video(tmp_path / "b.mp4", "tst", seed=5, seconds=2.0, animals=2,
                           treatment_effects=[{"immobility_late": 0.92}, {}]).animals
    assert fixed["immobility_level"].iloc[0] == 0.92
    assert fixed["immobility_level"].iloc[1] == drawn["immobility_level"].iloc[1]
    others = fixed.columns.drop("immobility_level")
    pd.testing.assert_frame_equal(fixed[others], drawn[others])


def test_fixed_settled_immobility_sets_the_share_of_time_immobile():
    def late_share(level, seed):
        rng = np.random.default_rng(seed)
        levels = replace(behaviour_levels(rng, "fst"), immobility_late=level)
        states = frame_states(simulate_bouts(rng, "fst", 360.0, levels), 360 * 5, 5.0)
        return float(np.mean(states[240 * 5 :] == 0))

    assert np.mean([late_share(0.05, s) for s in range(20)]) < 0.15
    assert np.mean([late_share(0.92, s) for s in range(20)]) > 0.8


def test_cohort_writes_videos_truth_and_table(tmp_path):
    cohort = generate_cohort(tmp_path, "tst", n=2, seed=9, seconds=3.0, animals=2)
    assert list(cohort.columns[:6]) == ["video", "animal", "roi_x", "roi_y", "roi_w", "roi_h"]
    assert {"treatment", "dose_mg_kg", "sex", "coat"} <= set(cohort.columns)
    assert cohort["animal"].is_unique and len(cohort) == 4
    assert all((tmp_path / v).is_file() for v in cohort["video"])
    on_disk = pd.read_csv(tmp_path / "cohort.csv")
    pd.testing.assert_frame_equal(on_disk, cohort, check_dtype=False)
    truth = pd.read_csv(tmp_path / "truth.csv")
    assert list(truth.columns) == TRUTH_COLUMNS
    assert set(truth["animal"]) == set(cohort["animal"])
    assert len(truth) == 4 * 3
    assert set(cohort["treatment"]) <= {"vehicle", "norclomipramine"}
    assert ((cohort["treatment"] == "vehicle") == (cohort["dose_mg_kg"] == 0)).all()


def test_cohort_with_more_animals_spans_all_dose_groups(tmp_path):
    cohort = generate_cohort(tmp_path, "fst", n=2, seed=1, seconds=1.0, animals=4)
    assert sorted(cohort["dose_mg_kg"].unique()) == [0.0, 5.0, 10.0, 20.0]
    assert set(cohort["sex"]) == {"male", "female"}


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"protocol": "ofs"}, "protocol"),
        ({"animals": 0}, "animals"),
        ({"seconds": 0.5}, "seconds"),
        ({"fps": 0.0}, "fps"),
        ({"seed": -1}, "seed"),
        ({"treatment_effects": [{"treatment": "aspirin"}]}, "treatment"),
        ({"treatment_effects": [{"dose_mg_kg": -5.0}]}, "dose"),
        ({"treatment_effects": [{}, {}]}, "treatment_effects"),
        ({"treatment_effects": [{"immobility_late": 0.99}]}, "immobility_late must be between 0.05 and 0.92"),
        ({"treatment_effects": [{"immobility": 0.5}]}, "immobility_late"),
        ({"scale": 3.5}, "scale"),
        ({"animal_ids": ["x"], "animals": 2}, "animal_ids"),
    ],
)
def test_bad_arguments_raise_clear_errors(tmp_path, kwargs, match):
    args = {"protocol": "fst", "seed": 1, "seconds": 2.0, "animals": 1}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        generate_video(tmp_path / "x.mp4", **args)


def test_bad_cohort_arguments_raise_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="n must"):
        generate_cohort(tmp_path, "fst", n=0, seed=1)
    with pytest.raises(ValueError, match="protocol"):
        generate_cohort(tmp_path, "xyz", n=1, seed=1)


SAMPLE_DIR = Path(__file__).resolve().parents[1] / "videos_sample"


@pytest.mark.parametrize("protocol", ["fst", "tst"])
def test_committed_sample_matches_its_tables(protocol):
    folder = SAMPLE_DIR / protocol
    cohort = pd.read_csv(folder / "cohort.csv")
    truth = pd.read_csv(folder / "truth.csv")
    assert list(truth.columns) == TRUTH_COLUMNS
    assert set(truth["animal"]) == set(cohort["animal"])
    assert cohort["dose_mg_kg"].nunique() >= 3
    for video, rows in cohort.groupby("video"):
        cap = cv2.VideoCapture(str(folder / video))
        width, height = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 360 * 25
        cap.release()
        assert ((rows["roi_x"] + rows["roi_w"]) <= width).all() and ((rows["roi_y"] + rows["roi_h"]) <= height).all()
        assert (truth[truth["video"] == video].groupby("animal").size() == 360).all()


@pytest.mark.slow
def test_sample_script_regenerates_the_committed_sample(tmp_path):
    spec = importlib.util.spec_from_file_location("make_samples", SAMPLE_DIR / "make_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    for protocol in ("fst", "tst"):
        for name in ("truth.csv", "cohort.csv"):
            pd.testing.assert_frame_equal(pd.read_csv(tmp_path / protocol / name), pd.read_csv(SAMPLE_DIR / protocol / name))
        for video in pd.read_csv(SAMPLE_DIR / protocol / "cohort.csv")["video"].unique():
            assert np.array_equal(read_gray(tmp_path / protocol / video)[::50], read_gray(SAMPLE_DIR / protocol / video)[::50])


def test_other_frame_rates_and_partial_last_second(tmp_path):
    video = generate_video(tmp_path / "f30.mp4", "tst", seed=2, seconds=2.5, animals=1, fps=30.0)
    assert video.n_frames == 75
    assert video.truth["second"].tolist() == [0, 1, 2]
    cap = cv2.VideoCapture(str(video.path))
    assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(30.0)
