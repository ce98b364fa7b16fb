"""The motion index against real rodent footage made and annotated by others."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from behavscore import Protocol, score_video
from behavscore.signals import Roi, SignalParams, compute_signals

#: Locomotion in an open field: differences over 0.2 s follow speed (and span the duplicated
#: frames of this camera); FST/TST scoring uses consecutive frames.
OPEN_FIELD_SIGNALS = SignalParams(diff_lag_s=0.2)

BSOID_PANEL_PX = 450


def open_field(duration_s: float) -> Protocol:
    """These clips are open-field recordings: a custom protocol scored from the start."""
    return Protocol("open-field", session_s=duration_s, window_start_s=0, window_end_s=duration_s)


def bsoid_rois(name: str):
    return [(f"{name}-{i}", BSOID_PANEL_PX * i, 0, BSOID_PANEL_PX, 360) for i in range(3)]


def test_open_field_motion_tracks_independent_centroid_speed(reference_video):
    video = reference_video / "tracktor_open_field.mp4"
    tracked = pd.read_csv(reference_video / "tracktor_open_field.tracked.csv")
    result = score_video(video, protocol=open_field(333), signal_params=OPEN_FIELD_SIGNALS)
    xy = tracked[["pos_x", "pos_y"]].to_numpy()
    speed_px = np.r_[np.nan, np.hypot(*np.diff(xy, axis=0).T)]
    fps = result.signals.fps
    speed = pd.Series(speed_px).groupby((tracked["frame"].to_numpy() // fps).astype(int)).mean()
    motion = result.seconds.set_index("second")["motion"]
    common = speed.index.intersection(motion.index)
    assert len(common) >= 330
    rho = spearmanr(motion.loc[common], speed.loc[common], nan_policy="omit").statistic
    assert rho >= 0.93, f"Spearman {rho:.3f}"


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
        immobility[behaviour] = r.summary["immobility_pct"].to_numpy()
    assert immobility["inactive"].min() > immobility["locomote"].max(), immobility


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
    # The header claims 602 frames, 600 decode: the scorer says so rather than trusting it.
    assert r.signals.n_frames == 600
