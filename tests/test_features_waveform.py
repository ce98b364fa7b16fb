"""Waveform measures of the per-frame signals: a passive pendulum swing against a struggle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from behavscore.features import DEFAULT_RHYTHM_HZ, FRAME_MEASURES, add_frame_measures, frame_measures, rhythm_hz, second_features, welch_power
from behavscore.per_second import per_second
from behavscore.signals import SIGNAL_NAMES, MotionSignals, Roi, SignalParams

AREA_PX = 1000.0


def swing_px(t_s: np.ndarray, swing_hz: float, start_s: float, peak_px: float = 400.0, tau_s: float = 3.0) -> np.ndarray:
    """Changed pixels of a body swinging freely from ``start_s``: a decaying rectified sine at twice ``swing_hz``."""
    dt = np.clip(t_s - start_s, 0, None)
    return peak_px * np.exp(-dt / tau_s) * np.abs(np.sin(2 * np.pi * swing_hz * dt))


def struggle_px(rng: np.random.Generator, n: int, level_px: float = 300.0) -> np.ndarray:
    """Changed pixels of a struggle: irregular, never near zero (limbs keep moving)."""
    return level_px * (0.6 + 0.4 * rng.random(n))


def make_signals(changed: dict[str, np.ndarray], fps: float = 25.0, shape: dict[str, np.ndarray] | None = None) -> MotionSignals:
    """Per-frame signals of hand-made changed-pixel series (silhouette measured every 0.2 s)."""
    n = len(next(iter(changed.values())))
    every = SignalParams().silhouette_frames(fps)
    rows = []
    for animal, cp in changed.items():
        sampled = np.arange(n) % every == 0
        sig = {c: np.full(n, np.nan) for c in SIGNAL_NAMES}
        sig["changed_px"] = cp.astype(float)
        sig["diff_mean_dn"] = cp / 100.0
        for c, v in (("motion_x_px", 50.0), ("motion_y_px", 60.0), ("motion_sd_x_px", 5.0), ("motion_sd_y_px", 9.0),
                     ("frame_luma_dn", 120.0), ("animal_area_px", AREA_PX), ("animal_x_px", 50.0), ("animal_y_px", 60.0),
                     ("animal_angle_deg", 90.0), ("silhouette_change_px", 50.0)):
            sig[c] = np.where(sampled, v, np.nan)
        sig["shape_change_px"] = np.where(sampled, 0.0 if shape is None else shape[animal], np.nan)
        sig["changed_px"][0] = np.nan  # the first frame has nothing to be compared with
        rows.append(pd.DataFrame({"animal": animal, "frame": np.arange(n), **sig}))
    rois = tuple(Roi(a, 0, 0, 100, 150) for a in changed)
    per_roi = pd.DataFrame([{"animal": a, "roi_x": 0, "roi_y": 0, "roi_w": 100, "roi_h": 150, "noise_sd_dn": 1.0,
                             "cutoff_dn": 10.0, "animal_area_px": AREA_PX, "animal_found": True} for a in changed])
    return MotionSignals(video=Path("hand_made.mp4"), fps=fps, n_frames=n, n_frames_claimed=n, rois=rois,
                         frames=pd.concat(rows, ignore_index=True), per_roi=per_roi)


def struggle_then_swing(fps: float = 25.0, seconds: int = 60, swing_hz: float = 1.6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Alternating 6-s struggles and 6-s free swings; returns changed pixels and the per-frame truth (True = swing)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * fps)) / fps
    swinging = (t // 6) % 2 == 1
    start = (t // 6) * 6
    cp = np.where(swinging, swing_px(t, swing_hz, start), struggle_px(rng, t.size))
    return cp + rng.normal(0, 5, t.size).clip(0), swinging


def test_rhythm_is_half_the_dominant_frequency_of_changed_pixels():
    fps = 25.0
    t = np.arange(int(90 * fps)) / fps
    for hz in (1.2, 1.9, 2.6):
        cp = swing_px(t, hz, 0.0, tau_s=1e9) + np.random.default_rng(1).normal(0, 10, t.size)
        assert rhythm_hz(cp, fps) == pytest.approx(hz, abs=0.1)


def test_rhythm_falls_back_when_the_recording_is_too_short():
    assert rhythm_hz(np.ones(20), 25.0) == pytest.approx(1.9)


def test_a_free_swing_is_periodic_with_deep_troughs_and_a_struggle_is_not():
    cp, swinging = struggle_then_swing()
    m = frame_measures(make_signals({"A": cp})).set_index("second")
    seconds = np.arange(60)
    # whole seconds well inside each phase (not the first second of a phase)
    swing_s = seconds[((seconds // 6) % 2 == 1) & (seconds % 6 >= 1) & (seconds % 6 <= 4)]
    struggle_s = seconds[((seconds // 6) % 2 == 0) & (seconds % 6 >= 1) & (seconds % 6 <= 4)]
    sw, st = m.loc[swing_s], m.loc[struggle_s]
    assert m["swing_hz"].iloc[0] == pytest.approx(1.6, abs=0.15)
    assert sw["swing_autocorr"].median() > 0.5 > st["swing_autocorr"].median()
    assert sw["swing_coherence"].median() > 2 * st["swing_coherence"].median()
    assert sw["trough_ratio_0.5s"].median() < 0.1 < st["trough_ratio_0.5s"].median()
    assert sw["swing_band_share"].median() > st["swing_band_share"].median()


def test_measures_do_not_depend_on_the_frame_rate():
    cols = ["swing_autocorr", "swing_coherence", "trough_ratio_1s", "swing_band_share"]
    out = []
    for fps in (25.0, 50.0):
        cp, _ = struggle_then_swing(fps=fps, seed=3)
        m = frame_measures(make_signals({"A": cp}, fps=fps)).set_index("second")
        out.append(m.loc[7:10, cols].median())  # a swing phase
    np.testing.assert_allclose(out[0].to_numpy(), out[1].to_numpy(), atol=0.12)


def test_rigid_share_counts_silhouette_measurements_without_shape_change():
    fps, n = 25.0, 250
    shape = np.zeros(n)
    shape[:125] = 0.05 * AREA_PX  # first 5 s: the body changes shape (5% of its area)
    # second 5 holds frames 126-150 (a difference belongs to the bin of its midpoint): 3 of its
    # 5 measurements change shape
    shape[130:151:10] = 0.05 * AREA_PX
    m = frame_measures(make_signals({"A": np.full(n, 100.0)}, fps, shape={"A": shape})).set_index("second")
    assert m.loc[0:3, "rigid_share"].eq(0).all()
    assert m.loc[5, "rigid_share"] == pytest.approx(0.4)
    assert m.loc[6:8, "rigid_share"].eq(1).all()


def test_measures_join_the_per_second_table_row_for_row():
    cp_a, _ = struggle_then_swing(seed=4)
    cp_b, _ = struggle_then_swing(seed=5, swing_hz=2.2)
    signals = make_signals({"A": cp_a, "B": cp_b})
    table = per_second(signals)
    table.index = table.index + 100
    out = add_frame_measures(table, signals)
    assert out.index.equals(table.index)
    pd.testing.assert_frame_equal(out[table.columns], table)
    assert set(FRAME_MEASURES) <= set(out.columns)
    assert np.isfinite(out[list(FRAME_MEASURES)].to_numpy()).all()
    assert out.groupby("animal")["swing_hz"].first().round(1).to_dict() == {"A": 1.6, "B": 2.2}
    # joined twice: replaced, not duplicated
    assert list(add_frame_measures(out, signals).columns) == list(out.columns)


def test_measures_of_one_animal_ignore_the_others():
    cp_a, _ = struggle_then_swing(seed=6)
    cp_b, _ = struggle_then_swing(seed=7)
    alone = frame_measures(make_signals({"A": cp_a}))
    together = frame_measures(make_signals({"A": cp_a, "B": 3 * cp_b}))
    pd.testing.assert_frame_equal(alone, together[together["animal"] == "A"].reset_index(drop=True))


def test_measures_become_features_and_are_neutral_when_absent():
    cp, _ = struggle_then_swing(seed=8)
    signals = make_signals({"A": cp})
    table = per_second(signals)
    with_measures = second_features(add_frame_measures(table, signals))
    without = second_features(table)
    assert (without[list(FRAME_MEASURES)] == 0).all().all()
    assert with_measures["swing_autocorr"].std() > 0
    pd.testing.assert_frame_equal(with_measures.drop(columns=list(FRAME_MEASURES)), without.drop(columns=list(FRAME_MEASURES)))


def test_classifier_trained_with_measures_warns_when_a_table_lacks_them():
    from behavscore.classifier import ClassifierScorer

    cp, swinging = struggle_then_swing(seed=9)
    signals = make_signals({"A": cp, "B": cp[::-1].copy()})
    table = add_frame_measures(per_second(signals), signals)
    y = np.where(table["motion"] > table["motion"].median(), "mobile", "immobile")
    scorer = ClassifierScorer(max_iter=5).fit(table, y)
    assert scorer.metadata_["frame_measures"] is True
    with pytest.warns(UserWarning, match="add_frame_measures"):
        scorer.predict(table.drop(columns=list(FRAME_MEASURES)))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scorer.predict(table)


def test_scored_video_carries_the_measures_a_trained_model_uses(short_tst):
    from behavscore import score_video

    result = score_video(short_tst.path, "tst", rois=short_tst.rois, model="threshold", window=(0, 40))
    assert not set(FRAME_MEASURES) & set(result.features.columns)  # the threshold scorer reads none of them
    trained = score_video(short_tst.path, "tst", rois=short_tst.rois, model="default", window=(0, 40))
    assert set(FRAME_MEASURES) <= set(trained.features.columns)
    assert np.isfinite(trained.features[list(FRAME_MEASURES)].to_numpy()).all()


def test_nan_filling_matches_pandas_linear_interpolation_inside():
    from behavscore.features import _fill

    rng = np.random.default_rng(7)
    for _ in range(50):
        x = rng.normal(size=40)
        x[rng.random(40) < 0.4] = np.nan
        expected = pd.Series(x).interpolate(limit_area="inside").fillna(-1.0).to_numpy() if np.isfinite(x).sum() >= 2 else np.nan_to_num(x, nan=-1.0)
        assert np.array_equal(_fill(x, -1.0), expected)


@pytest.mark.parametrize(("n", "fps", "n_seg"), [(9000, 25.0, 128), (1500, 30.0, 154), (777, 15.0, 77)])
def test_welch_spectrum_is_scipys_up_to_a_constant(n, fps, n_seg):
    from scipy.signal import welch

    x = np.random.default_rng(n).gamma(2.0, size=n)
    x -= x.mean()
    f_ref, p_ref = welch(x, fs=fps, nperseg=n_seg)
    f, p = welch_power(x, fps, n_seg)
    assert np.array_equal(f, f_ref)
    ratio = p_ref / p
    assert np.allclose(ratio, ratio[0], rtol=1e-12, atol=0)


def test_a_still_roi_has_no_rhythm_of_its_own():
    assert rhythm_hz(np.full(3000, 7.0), 25.0) == DEFAULT_RHYTHM_HZ
    assert rhythm_hz(np.zeros(3000), 25.0) == DEFAULT_RHYTHM_HZ
