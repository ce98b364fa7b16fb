"""The motion index against real rodent footage made and annotated by others."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from behavscore import Protocol, score_video
from behavscore.per_second import n_bins
from behavscore.repeats import frozen_seconds
from behavscore.scorers import MODELS_DIR
from behavscore.signals import Roi, SignalParams, compute_signals
from behavscore.video import probe

#: Locomotion in an open field: differences over 0.2 s follow speed (and span the duplicated
#: frames of this camera); FST/TST scoring uses consecutive frames.
OPEN_FIELD_SIGNALS = SignalParams(diff_lag_s=0.2)

BSOID_PANEL_PX = 450


def open_field(duration_s: float) -> Protocol:
    """These clips are open-field recordings: a custom protocol scored from the start."""
    return Protocol("open-field", session_s=duration_s, window_start_s=0, window_end_s=duration_s)


def bsoid_rois(name: str):
    return [(f"{name}-{i}", BSOID_PANEL_PX * i, 0, BSOID_PANEL_PX, 360) for i in range(3)]


def tracked_speed(reference_video, fps: float) -> pd.Series:
    """The independent tracker's mean speed in each second, px/frame, indexed by second."""
    tracked = pd.read_csv(reference_video / "tracktor_open_field.tracked.csv")
    xy = tracked[["pos_x", "pos_y"]].to_numpy()
    speed_px = np.r_[np.nan, np.hypot(*np.diff(xy, axis=0).T)]
    return pd.Series(speed_px).groupby((tracked["frame"].to_numpy() // fps).astype(int)).mean()


def speed_rho(reference_video, seconds: pd.DataFrame, column: str, fps: float) -> float:
    """Spearman rho of a per-second column with the independent tracker's mean speed."""
    speed = tracked_speed(reference_video, fps)
    values = seconds.set_index("second")[column]
    common = speed.index.intersection(values.index)
    assert len(common) >= 330
    return spearmanr(values.loc[common], speed.loc[common], nan_policy="omit").statistic


def test_open_field_motion_tracks_independent_centroid_speed(reference_video):
    result = score_video(reference_video / "tracktor_open_field.mp4", protocol=open_field(333), signal_params=OPEN_FIELD_SIGNALS)
    rho = speed_rho(reference_video, result.seconds, "motion", result.signals.fps)
    assert rho >= 0.93, f"Spearman {rho:.3f}"


#: The shipped classifiers learned FST/TST from side-view synthetic videos. Measured: rho 0.78
#: (tst2) and 0.86 (fst2); both call the slow seconds immobile and the fast ones mobile (next
#: test), but a classifier is sure of most seconds: p(mobile) is over 0.99 in a third of them
#: and under 0.01 in another third to half, so its ranks within those carry little of the
#: speed. Even the per-second motion index reaches only 0.92 with the default pass. Any call
#: that takes two values reaches at most 0.866 on these speeds (an even split: sqrt(3)/2), fst2
#: 0.864: passing needs p(mobile) graded in the order of speed over about a fifth of the
#: seconds round the boundary (benchmarks/open_field_p_mobile.py prints the figures).
#: Strict: passing would be news.
OUT_OF_DOMAIN = pytest.mark.xfail(
    strict=True, raises=AssertionError, reason="classifiers trained on side-view FST/TST do not transfer to open-field footage"
)


@OUT_OF_DOMAIN
@pytest.mark.parametrize("stem", ["tst2", "fst2"])
def test_open_field_classifier_p_mobile_tracks_independent_centroid_speed(reference_video, stem):
    model = str(MODELS_DIR / f"{stem}.skops")
    result = score_video(reference_video / "tracktor_open_field.mp4", protocol=open_field(333), model=model)
    rho = speed_rho(reference_video, result.seconds, "p_mobile", result.signals.fps)
    assert rho >= 0.93, f"Spearman {rho:.3f}"


@pytest.mark.parametrize("stem", ["tst2", "fst2"])
def test_open_field_classifier_p_mobile_ranks_speed_nearly_as_well_as_any_two_valued_call(reference_video, stem):
    # A call that takes two values ranks these seconds by speed at best as the best split of the
    # speed itself does (0.866, an even split). Measured: tst2 reaches 90 % of that, fst2 all of it (0.864).
    result = score_video(reference_video / "tracktor_open_field.mp4", protocol=open_field(333), model=str(MODELS_DIR / f"{stem}.skops"))
    speed = tracked_speed(reference_video, result.signals.fps).dropna()
    ceiling = max(spearmanr(speed > speed.quantile(q), speed).statistic for q in np.linspace(0.05, 0.95, 19))
    assert 0.86 <= ceiling <= 0.87, ceiling
    rho = speed_rho(reference_video, result.seconds, "p_mobile", result.signals.fps)
    assert rho >= 0.85 * ceiling, f"Spearman {rho:.3f}, {rho / ceiling:.0%} of {ceiling:.3f}"


@pytest.mark.parametrize("stem", ["tst2", "fst2"])
def test_open_field_classifier_calls_the_fastest_seconds_mobile_and_the_slowest_immobile(reference_video, stem):
    # This camera repeats 2 frames in 5. Read naively, every repeat is a trough in the motion
    # waveform, the mark of a passive swing: the TST model then called 71 % of the walking
    # mouse's seconds immobile, most of the fastest quarter among them.
    result = score_video(reference_video / "tracktor_open_field.mp4", protocol=open_field(333), model=str(MODELS_DIR / f"{stem}.skops"))
    seconds = result.seconds.set_index("second")
    quarter = pd.qcut(tracked_speed(reference_video, result.signals.fps).reindex(seconds.index), 4, labels=False)
    immobile = (seconds["label"] == "immobile").groupby(quarter).mean()
    assert immobile[0] >= 0.9 and immobile[3] <= 0.2, immobile
    # The model is told the mouse is unlike its training animals: it travels further each second.
    assert "unlike training" in result.summary["flags"].iloc[0], result.summary["flags"].iloc[0]
    assert any("centroid" in w for w in result.warnings if "unlike every animal" in w), result.warnings
    # A live camera, however still the scene, never repeats its picture exactly for long.
    assert not frozen_seconds(result.signals, (0, 333))


@pytest.mark.parametrize("roi", [None, ("arena", 95, 20, 430, 430)], ids=["whole frame", "arena"])
def test_open_field_outline_is_the_tracked_mouse_not_the_arena_wall(reference_video, roi):
    # A dark ring-shaped wall surrounds the floor and white bedding lies at the frame's edge:
    # both contrast more, and are larger, than the small dark mouse.
    signals = compute_signals(reference_video / "tracktor_open_field.mp4", [Roi(*roi)] if roi else None)
    tracked = pd.read_csv(reference_video / "tracktor_open_field.tracked.csv").drop_duplicates("frame").set_index("frame")
    f = signals.frames.set_index("frame")
    sampled = f["frame_luma_dn"].notna()
    outlined = f["animal_x_px"].notna()
    assert outlined.sum() >= 0.7 * sampled.sum(), (outlined.sum(), sampled.sum())
    x0, y0 = (roi[1], roi[2]) if roi else (0, 0)
    at = f.index[outlined]
    off_px = np.hypot(f.loc[at, "animal_x_px"] + x0 - tracked["pos_x"].reindex(at), f.loc[at, "animal_y_px"] + y0 - tracked["pos_y"].reindex(at))
    assert off_px.median() <= 3 and off_px.quantile(0.9) <= 8, off_px.describe()
    # The motion index is relative to the mouse's body, not to a piece of the wall.
    body_px = float(f["animal_area_px"].median())
    assert 0.7 < signals.per_roi["animal_area_px"].iloc[0] / body_px < 1.4


def test_bsoid_inactive_animals_more_immobile_than_locomoting_ones(reference_video):
    immobility = {}
    for behaviour in ("inactive", "locomote"):
        video = reference_video / "bsoid" / f"{behaviour}_hstacked.mp4"
        r = score_video(video, protocol=open_field(7), rois=bsoid_rois(behaviour))
        assert (r.summary["status"] == "ok").all(), r.summary
        assert not frozen_seconds(r.signals, (0, 7))  # a still mouse is not a frozen picture
        immobility[behaviour] = r.summary["immobility_pct"].to_numpy()
    assert immobility["inactive"].min() > immobility["locomote"].max(), immobility


#: Every behaviour but "inactive" is active movement. The hstacked clips freeze a shorter panel's
#: last frame until the longest ends (e.g. body_groom's third panel moves only in its first 3 of
#: 56 s, rear_plus's third in its first 1.5 of 8 s), and grooming or rearing at 15 frames/s
#: changes 0-8 % of the body. Each clip is scored whole, as the video is binned (a last bin of
#: half a second or more counts). Measured: the FST 2-class model scores the active panels
#: 20-98 % (trained at 25 frames/s alone it scored 33-95 %, a face-grooming panel whose 5 s
#: change 1.9-4.5 % of the body per frame, as much as a floating mouse's paddling, 80 %); the TST model, which learned to
#: call a body that moves without changing shape (a passive swing) immobile, ties the three
#: rearing panels and a face-grooming one with the inactive ones at 100 % (one rears nearly
#: still, the motion index 0 in 6 of its 8 s; the others move in their first 1.5-1.9 s only).
@pytest.mark.parametrize("stem", [pytest.param("tst2", marks=OUT_OF_DOMAIN), "fst2"])
def test_bsoid_classifier_scores_inactive_animals_more_immobile_than_every_active_one(reference_video, stem):
    immobility = {}
    for behaviour in ("inactive", "locomote", "body_groom", "face_groom", "orient_L", "rear_plus"):
        video = reference_video / "bsoid" / f"{behaviour}_hstacked.mp4"
        info = probe(video)
        whole_s = n_bins(info.n_frames_claimed, info.fps)
        r = score_video(video, protocol=open_field(whole_s), rois=bsoid_rois(behaviour), model=str(MODELS_DIR / f"{stem}.skops"))
        immobility[behaviour] = r.summary["immobility_pct"].to_numpy()
    active = np.concatenate([v for k, v in immobility.items() if k != "inactive"])
    assert immobility["inactive"].min() > active.max(), immobility


def test_empty_chamber_is_reported_as_no_animal(reference_video):
    r = score_video(reference_video / "eztrack_empty_chamber.wmv", protocol=open_field(9))
    assert r.summary["status"].tolist() == ["no_animal"]
    assert r.summary["immobility_s"].isna().all()
    assert r.seconds["label"].isna().all()


@pytest.mark.parametrize("model", ["threshold", "default"])
def test_empty_chamber_is_no_animal_whatever_the_scorer(reference_video, model):
    r = score_video(reference_video / "eztrack_empty_chamber.wmv", protocol="tst", window=(0, 9), model=model)
    assert r.summary["status"].tolist() == ["no_animal"]
    assert r.summary["immobility_s"].isna().all()


def test_tethered_mouse_is_an_animal(reference_video):
    r = score_video(reference_video / "tethered_home_cage_10s.avi", protocol=open_field(10))
    assert r.summary["status"].tolist() == ["ok"]
    # The header claims 602 frames and 600 decode: the file's own frame times put the second
    # decoded frame at 50 ms, 3 frames on (capture software marks frames it lost with empty
    # entries). The first frame is shown over the gap, and the scorer says so.
    assert r.signals.n_frames == 602 and r.signals.filled_frames == (1, 2) and r.signals.frames_dropped == 0
    assert any("2 frames filled in" in w for w in r.warnings), r.warnings
    assert not frozen_seconds(r.signals, (0, 10))
