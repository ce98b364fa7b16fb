"""Per-second feature matrix for the trained classifier; per-second measures of the per-frame motion waveform."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .grouping import group_mean, group_median, runs_layout

if TYPE_CHECKING:
    from .signals import MotionSignals

#: Motion index (% of the animal's area) above which a second counts as *active* when the
#: animal's own activity scale is measured (the threshold scorer's default absolute threshold).
ACTIVE_MOTION_PCT = 15.0
#: Active seconds an animal needs before the median of its active seconds sets its scale;
#: with fewer, the 90th percentile of all its seconds is used.
MIN_ACTIVE_S = 10
#: Half-widths (s) of the centred rolling windows: ±1, ±2, ±3 s.
NEIGHBOUR_HALF_WIDTHS_S = (1, 2, 3)
#: Seconds looked back by the decay features (a passive swing decays after a struggle).
DECAY_LOOKBACK_S = 3
#: Cap (s) on the "seconds since the last strong movement" feature.
SINCE_ACTIVE_CAP_S = 30
#: Guard against division by zero in ratios.
EPS = 1e-6

#: Pendulum frequencies of a mouse hanging by its tail, Hz. The changed-pixel count follows the
#: speed of the swing, which peaks twice per swing period, so the waveform measures look for a
#: rhythm at twice these frequencies.
PENDULUM_BAND_HZ = (0.8, 3.0)
#: Rhythm assumed when an animal's own cannot be measured (too short a recording, too low a
#: frame rate), Hz.
DEFAULT_RHYTHM_HZ = 1.9
#: Segment length (s) of the Welch spectrum that estimates each animal's rhythm.
RHYTHM_SEGMENT_S = 5.12
#: Window (s) of the periodicity measures (autocorrelation and coherence at the rhythm).
PERIODICITY_WINDOW_S = 1.0
#: Windows (s) of the trough measures (slowest / fastest frame in the window).
TROUGH_WINDOWS_S = (0.5, 1.0)
#: Half-width (s) of the window of the band-power share (second ±1 s).
BAND_HALF_WIDTH_S = 1.0
#: A silhouette measurement is rigid when its non-rigid change is below this share of the
#: animal's area, %.
RIGID_SHAPE_PCT = 1.0
#: Sub-bins per second of the time-resolved waveform measures (5 = every 0.2 s).
SUB_BINS = 5

#: Per-second columns the features are computed from (``per_second`` output).
REQUIRED_COLUMNS = ("animal", "second", "motion")

#: Every feature, in matrix column order, with its unit and meaning.
FEATURE_DOCS: dict[str, str] = {}

#: Per-second measures of the per-frame waveform (:func:`frame_measures`), with their meaning;
#: each is also a feature of the same name.
FRAME_MEASURE_DOCS: dict[str, str] = {
    "trough_ratio_0.5s": "median over the second's frames of min/(max + 1) changed pixels in the centred 0.5-s window: "
    "near 0 when the body comes to rest at the turning points of a swing, ratio",
    "trough_ratio_1s": "the same over the centred 1-s window, ratio",
    "trough_ratio_back_0.5s": "the same over the 0.5 s up to each frame, ratio",
    "trough_ratio_fwd_0.5s": "the same over the 0.5 s from each frame on, ratio",
    "swing_autocorr": "median over the second's frames of the autocorrelation of changed pixels at half the animal's "
    "rhythm period (swing_hz), centred 1-s window, -1 to 1",
    "swing_autocorr_back": "the same over the 1 s up to each frame, -1 to 1",
    "swing_autocorr_fwd": "the same over the 1 s from each frame on, -1 to 1",
    "swing_coherence": "median over the second's frames of the amplitude of changed pixels at twice swing_hz (lock-in, "
    "centred 1-s window) relative to their SD: near 1 for a steady swing, near 0 for aperiodic struggling, ratio",
    "swing_coherence_back": "the same over the 1 s up to each frame, ratio",
    "swing_coherence_fwd": "the same over the 1 s from each frame on, ratio",
    "swing_band_share": "share of the power of changed pixels over second ±1 s in the pendulum band "
    "(twice 0.8-3 Hz), fraction",
    "rigid_share": "share of the second's silhouette measurements whose non-rigid change is below 1% of the animal's "
    "area (the whole body moves as one), fraction",
}
# Time-resolved within the second: when the swing takes over from the struggle.
for _k in range(SUB_BINS):
    _when = f"{_k / SUB_BINS:.1f}-{(_k + 1) / SUB_BINS:.1f} s into the second"
    FRAME_MEASURE_DOCS[f"swing_autocorr_fwd_{_k}"] = f"mean swing_autocorr_fwd of the frames {_when}, -1 to 1"
    FRAME_MEASURE_DOCS[f"swing_coherence_fwd_{_k}"] = f"mean swing_coherence_fwd of the frames {_when}, ratio"
    FRAME_MEASURE_DOCS[f"trough_ratio_fwd_{_k}"] = f"mean trough_ratio_fwd_0.5s of the frames {_when}, ratio"
del _k, _when
#: Per-second measures added by :func:`add_frame_measures`, in feature order.
FRAME_MEASURES: tuple[str, ...] = tuple(FRAME_MEASURE_DOCS)


def _doc(name: str, text: str) -> str:
    FEATURE_DOCS[name] = text
    return name


def _register() -> list[str]:
    names = [
        _doc("motion_pct", "motion index: median changed pixels per frame, % of animal area"),
        _doc("motion_log", "log1p(motion_pct), log(1 + %)"),
        _doc("motion_rank", "rank of motion_pct among the animal's seconds, fraction 0-1"),
        _doc("motion_rel_active", "motion_pct / median motion of the animal's active seconds, ratio"),
        _doc("motion_rel_p90", "motion_pct / 90th percentile of the animal's motion, ratio"),
    ]
    for w in NEIGHBOUR_HALF_WIDTHS_S:
        for stat in ("mean", "max", "min"):
            names.append(_doc(f"motion_rel_{stat}_pm{w}s", f"{stat} of motion_rel_active over second ±{w} s, ratio"))
    for w in NEIGHBOUR_HALF_WIDTHS_S[:2]:
        names.append(_doc(f"motion_rank_mean_pm{w}s", f"mean of motion_rank over second ±{w} s, fraction"))
    names += [
        _doc("late_rel_active", "motion in the second half of the second / median motion of active seconds, ratio"),
        _doc("late_over_early", "log((late-half motion + 1) / (early-half motion + 1)): negative when movement dies away"),
        _doc("motion_rel_prev1s", "motion_rel_active of the previous second, ratio"),
        _doc("motion_rel_next1s", "motion_rel_active of the next second, ratio"),
        _doc("shape_pct", "shape_motion: silhouette change not explained by rigid drift/swing, % of animal area"),
        _doc("shape_rel", "shape_pct / median shape_pct of the animal's active seconds, ratio"),
        _doc("silhouette_pct", "silhouette_motion: silhouette change, % of animal area"),
        _doc("silhouette_rel", "silhouette_pct / median silhouette_pct of the animal's active seconds, ratio"),
        _doc("shape_share", "shape_pct / (silhouette_pct + eps): share of silhouette change that is not rigid, ratio"),
        _doc("shape_per_motion", "shape_pct / (motion_pct + 1): non-rigid change per unit of motion, ratio"),
    ]
    for w in NEIGHBOUR_HALF_WIDTHS_S[:2]:
        for stat in ("mean", "max"):
            names.append(_doc(f"shape_rel_{stat}_pm{w}s", f"{stat} of shape_rel over second ±{w} s, ratio"))
            names.append(_doc(f"silhouette_rel_{stat}_pm{w}s", f"{stat} of silhouette_rel over second ±{w} s, ratio"))
        names.append(_doc(f"shape_share_mean_pm{w}s", f"mean of shape_share over second ±{w} s, ratio"))
    names += [
        _doc("centroid_step_bl", "centroid displacement from the previous second, body lengths (sqrt of area)"),
        _doc("centroid_dx_bl", "|horizontal centroid change| from the previous second, body lengths"),
        _doc("centroid_dy_bl", "signed vertical centroid change from the previous second, body lengths (image y down)"),
        _doc("centroid_step_mean_pm2s", "mean centroid_step_bl over second ±2 s, body lengths"),
        _doc("centroid_dy_mean_pm2s", "mean |centroid_dy_bl| over second ±2 s, body lengths"),
        _doc("flow_sd_x_bl", "spread of horizontal motion of changed pixels (motion_sd_x_px), body lengths"),
        _doc("flow_sd_y_bl", "spread of vertical motion of changed pixels (motion_sd_y_px), body lengths"),
        _doc("flow_y_over_x", "log((motion_sd_y_px + eps) / (motion_sd_x_px + eps)): vertical vs horizontal movement"),
        _doc("flow_y_over_x_mean_pm2s", "mean flow_y_over_x over second ±2 s, log ratio"),
        _doc("motion_offset_x_bl", "|horizontal distance from the body's centroid to the centroid of the changed pixels|, "
             "body lengths (where on the body the movement is; not where the body is in the ROI)"),
        _doc("motion_offset_y_bl", "vertical offset of the changed pixels' centroid from the body's centroid (image y down: "
             "negative = movement above the body's centre, as forepaws scrabbling at the wall), body lengths"),
        _doc("area_rel", "animal area / the animal's median area, ratio (rearing/climbing stretches the silhouette)"),
        _doc("angle_change_deg", "|change of body angle| from the previous second, degrees (wrapped to 0-90)"),
        _doc("diff_rel", "mean absolute frame difference / the animal's median, ratio"),
        _doc("decay_ratio", "motion_pct / mean motion_pct of the previous 3 s, ratio (passive swing decays)"),
        _doc("decay_drop_rel", "(max of previous 3 s - current) motion, in units of the animal's active motion"),
        _doc("prev3_max_rel", "max motion_rel_active over the previous 3 s, ratio"),
        _doc("since_active_s", "seconds since the last second with motion_rel_active >= 1, capped at 30 s"),
        _doc("shape_decay_ratio", "shape_pct / mean shape_pct of the previous 3 s, ratio"),
    ]
    names += [_doc(m, text) for m, text in FRAME_MEASURE_DOCS.items()]
    return names


#: Feature names, in matrix column order.
FEATURE_NAMES: tuple[str, ...] = tuple(_register())


def _col(table: pd.DataFrame, name: str) -> np.ndarray:
    if name in table.columns:
        return pd.to_numeric(table[name], errors="coerce").to_numpy(dtype=float)
    return np.full(len(table), np.nan)


#: Per-second columns the features read, with :data:`FRAME_MEASURES` (NaN where a table lacks one).
INPUT_COLUMNS = (
    "motion", "motion_early", "motion_late", "shape_motion", "silhouette_motion", "animal_area_px", "animal_x_px",
    "animal_y_px", "motion_sd_x_px", "motion_sd_y_px", "motion_x_px", "motion_y_px", "animal_angle_deg", "diff_mean_dn",
)


def _fill(x: np.ndarray, value: float = 0.0) -> np.ndarray:
    """Interpolate interior NaN along one animal's seconds, then fill the rest with ``value``.

    Linear in the position, as ``pandas.Series.interpolate(limit_area="inside")`` does.
    """
    out = np.array(x, dtype=float)
    missing = np.isnan(out)
    if not missing.any():
        return out
    known = np.flatnonzero(~missing)
    if known.size >= 2:
        inside = np.flatnonzero(missing[known[0] : known[-1]]) + known[0]
        out[inside] = np.interp(inside, known, out[known])
    out[np.isnan(out)] = value
    return out


def _centred(columns: dict[str, np.ndarray], half: int, stat: str) -> dict[str, np.ndarray]:
    """``stat`` of each column over the ``2 * half + 1`` seconds centred on each second (clipped at the ends)."""
    r = pd.DataFrame(columns).rolling(2 * half + 1, center=True, min_periods=1)
    return {name: values.to_numpy(dtype=float) for name, values in getattr(r, stat)().items()}


def _previous(x: np.ndarray, n: int, stat: str) -> np.ndarray:
    """``stat`` over the ``n`` seconds before each second; the first second sees itself."""
    shifted = pd.Series(x).shift(1)
    shifted.iloc[:1] = x[:1]
    return getattr(shifted.rolling(n, min_periods=1), stat)().to_numpy(dtype=float)


def _active_scale(x: np.ndarray, motion: np.ndarray) -> float:
    """Median of ``x`` over the animal's active seconds, else its 90th percentile; never below EPS."""
    ok = np.isfinite(x)
    active = ok & (motion > ACTIVE_MOTION_PCT)
    if active.sum() >= MIN_ACTIVE_S:
        v = float(np.median(x[active]))
    elif ok.any():
        v = float(np.percentile(x[ok], 90))
    else:
        v = 1.0
    return max(v, EPS) if np.isfinite(v) and v > 0 else 1.0


def _since(mask: np.ndarray, cap: int) -> np.ndarray:
    out = np.empty(mask.size)
    last = -np.inf
    for i, m in enumerate(mask):
        if m:
            last = i
        out[i] = min(i - last, cap)
    return out


def _one_animal(t: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Features of one animal's consecutive seconds (sorted by second), from its columns
    (:data:`INPUT_COLUMNS` and :data:`FRAME_MEASURES`)."""
    motion = _fill(t["motion"])
    f: dict[str, np.ndarray] = {"motion_pct": motion, "motion_log": np.log1p(np.clip(motion, 0, None))}
    f["motion_rank"] = pd.Series(motion).rank(pct=True).to_numpy(dtype=float)
    scale = _active_scale(motion, motion)
    rel = motion / scale
    f["motion_rel_active"] = rel
    f["motion_rel_p90"] = motion / max(float(np.percentile(motion, 90)) if motion.size else 1.0, EPS)
    early = _fill(t["motion_early"], np.nan)
    late = _fill(t["motion_late"], np.nan)
    early, late = np.where(np.isfinite(early), early, motion), np.where(np.isfinite(late), late, motion)
    f["late_rel_active"] = late / scale
    f["late_over_early"] = np.log((np.clip(late, 0, None) + 1.0) / (np.clip(early, 0, None) + 1.0))
    f["motion_rel_prev1s"] = np.concatenate([rel[:1], rel[:-1]])
    f["motion_rel_next1s"] = np.concatenate([rel[1:], rel[-1:]])

    raw_motion = t["motion"]
    shape = _fill(t["shape_motion"])
    sil = _fill(t["silhouette_motion"])
    f["shape_pct"] = shape
    f["shape_rel"] = shape / _active_scale(shape, raw_motion)
    f["silhouette_pct"] = sil
    f["silhouette_rel"] = sil / _active_scale(sil, raw_motion)
    f["shape_share"] = np.clip(shape / (sil + EPS), 0, 10) * (sil > EPS)
    f["shape_per_motion"] = shape / (motion + 1.0)

    area = t["animal_area_px"]
    med_area = float(np.nanmedian(area)) if np.isfinite(area).any() else np.nan
    body_px = np.sqrt(med_area) if np.isfinite(med_area) and med_area > 0 else 1.0
    x = _fill(t["animal_x_px"], np.nan)
    y = _fill(t["animal_y_px"], np.nan)
    dx = np.nan_to_num(np.diff(x, prepend=x[:1] if x.size else x) / body_px)
    dy = np.nan_to_num(np.diff(y, prepend=y[:1] if y.size else y) / body_px)
    f["centroid_step_bl"] = np.hypot(dx, dy)
    f["centroid_dx_bl"] = np.abs(dx)
    f["centroid_dy_bl"] = dy
    sdx = _fill(t["motion_sd_x_px"])
    sdy = _fill(t["motion_sd_y_px"])
    f["flow_sd_x_bl"] = sdx / body_px
    f["flow_sd_y_bl"] = sdy / body_px
    f["flow_y_over_x"] = np.log((np.abs(sdy) + EPS) / (np.abs(sdx) + EPS)) * ((sdx > EPS) | (sdy > EPS))
    # Both centroids are in ROI coordinates: their difference does not depend on how the ROI was drawn.
    f["motion_offset_x_bl"] = np.nan_to_num(np.abs(_fill(t["motion_x_px"], np.nan) - x) / body_px)
    f["motion_offset_y_bl"] = np.nan_to_num((_fill(t["motion_y_px"], np.nan) - y) / body_px)
    f["area_rel"] = _fill(area / med_area, 1.0) if np.isfinite(med_area) and med_area > 0 else np.ones(len(motion))
    angle = _fill(t["animal_angle_deg"], np.nan)
    d_angle = np.abs(np.diff(angle, prepend=angle[:1] if angle.size else angle)) % 180.0
    f["angle_change_deg"] = np.nan_to_num(np.minimum(d_angle, 180.0 - d_angle))
    diff = _fill(t["diff_mean_dn"])
    med_diff = float(np.median(diff)) if diff.size else 1.0
    f["diff_rel"] = diff / max(med_diff, EPS)

    prev_mean = _previous(motion, DECAY_LOOKBACK_S, "mean")
    prev_max = _previous(rel, DECAY_LOOKBACK_S, "max")
    f["decay_ratio"] = np.clip(motion / (prev_mean + 1.0), 0, 20)
    f["decay_drop_rel"] = prev_max - rel
    f["prev3_max_rel"] = prev_max
    f["since_active_s"] = _since(rel >= 1.0, SINCE_ACTIVE_CAP_S)
    f["shape_decay_ratio"] = np.clip(shape / (_previous(shape, DECAY_LOOKBACK_S, "mean") + 1.0), 0, 20)
    for m in FRAME_MEASURES:
        f[m] = _fill(t[m])
    # Neighbourhood statistics, every column of one window width in one rolling pass.
    for w in NEIGHBOUR_HALF_WIDTHS_S:
        narrow = w in NEIGHBOUR_HALF_WIDTHS_S[:2]
        averaged = {"motion_rel": rel}
        if narrow:
            averaged.update(motion_rank=f["motion_rank"], shape_rel=f["shape_rel"], silhouette_rel=f["silhouette_rel"], shape_share=f["shape_share"])
        if w == 2:
            averaged.update(centroid_step=f["centroid_step_bl"], centroid_dy=np.abs(dy), flow_y_over_x=f["flow_y_over_x"])
        peaks = {name: averaged[name] for name in (("motion_rel", "shape_rel", "silhouette_rel") if narrow else ("motion_rel",))}
        for stat, columns in (("mean", averaged), ("max", peaks), ("min", {"motion_rel": rel})):
            for name, values in _centred(columns, w, stat).items():
                f[f"{name}_{stat}_pm{w}s"] = values
    return f


def second_features(table: pd.DataFrame) -> pd.DataFrame:
    """Numeric feature matrix, one row per row of a per-second table.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`behavscore.per_second.per_second` (one video) or several such tables
        concatenated. Needs ``animal``, ``second`` and ``motion``; uses, when present, ``video``,
        ``shape_motion``, ``silhouette_motion``, ``diff_mean_dn``, ``motion_x_px``,
        ``motion_y_px``, ``motion_sd_x_px``, ``motion_sd_y_px``, ``animal_area_px``,
        ``animal_x_px``, ``animal_y_px``, ``animal_angle_deg`` and the waveform measures
        :data:`FRAME_MEASURES` (added by :func:`add_frame_measures`; 0 where absent).

    Returns
    -------
    pandas.DataFrame
        Same index as ``table``, columns :data:`FEATURE_NAMES` (units in :data:`FEATURE_DOCS`),
        all finite.

    Notes
    -----
    Rows are grouped by ``(video, animal)`` (``animal`` alone without a ``video`` column) and
    each group is processed in order of ``second``; neighbour windows never cross animals.
    Every feature that compares animals is relative to the animal's own distribution over the
    table given (its active-second median motion, its median area, ...), so lighting, camera
    distance and animal size shift the raw signals but not the features the classifier
    leans on. Missing values (the silhouette columns between measurements, an animal never
    found) are interpolated within the animal and otherwise filled with neutral values (0 for
    movement, 1 for ratios to the animal's own median). Deterministic: no randomness, no state.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"per-second table lacks column(s) {missing}: pass the output of behavscore.per_second.per_second")
    keys = ["video", "animal"] if "video" in table.columns else ["animal"]
    out = np.zeros((len(table), len(FEATURE_NAMES)))
    positions = np.arange(len(table))
    inputs = {name: _col(table, name) for name in (*INPUT_COLUMNS, *FRAME_MEASURES)}
    for _, idx in table.groupby(keys, sort=False, observed=True).indices.items():
        idx = np.asarray(idx)
        order = idx[np.argsort(table["second"].to_numpy()[idx], kind="stable")]
        f = _one_animal({name: values[order] for name, values in inputs.items()})
        out[positions[order]] = np.column_stack([f[n] for n in FEATURE_NAMES])
    out = np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)
    return pd.DataFrame(out, index=table.index, columns=list(FEATURE_NAMES))


# --- per-second measures of the per-frame waveform --------------------------------------------


def _window_sum(x: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Sum of ``x[i + lo : i + hi + 1]`` for every ``i`` (the window clipped to the series)."""
    n = x.size
    c = np.concatenate([[0.0], np.cumsum(x)])
    i = np.arange(n)
    return c[np.clip(i + hi + 1, 0, n)] - c[np.clip(i + lo, 0, n)]


def welch_power(x: np.ndarray, fps: float, n_seg: int) -> tuple[np.ndarray, np.ndarray]:
    """Welch's power spectrum of ``x``: Hann-windowed segments of ``n_seg`` samples overlapping
    by half, each less its mean, their one-sided periodograms averaged (up to a constant
    factor, the spectral density ``scipy.signal.welch`` gives with its defaults).

    Returns
    -------
    freq_hz, power : numpy.ndarray
    """
    step = n_seg - n_seg // 2
    segments = np.lib.stride_tricks.sliding_window_view(x, n_seg)[::step]
    segments = segments - segments.mean(axis=1, keepdims=True)
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n_seg) / n_seg)  # periodic Hann
    power = (np.abs(np.fft.rfft(segments * window, axis=1)) ** 2).mean(axis=0)
    power[1 : n_seg // 2 + (n_seg % 2)] *= 2.0  # one-sided: every bin but 0 Hz and Nyquist counts twice
    return np.fft.rfftfreq(n_seg, d=1.0 / fps), power


def rhythm_hz(changed_px: np.ndarray, fps: float) -> float:
    """An animal's movement rhythm: half the dominant frequency of its changed-pixel count.

    Parameters
    ----------
    changed_px : numpy.ndarray
        Changed pixels of every frame of one animal (NaN-free).
    fps : float
        Frame rate.

    Returns
    -------
    float
        Hz, within :data:`PENDULUM_BAND_HZ`; :data:`DEFAULT_RHYTHM_HZ` when the recording is
        too short or its frame rate too low to measure it, or nothing moves in the band.

    Notes
    -----
    The changed-pixel count of a swinging body follows the speed of the swing, which peaks twice
    per period, so its Welch spectrum (segments of :data:`RHYTHM_SEGMENT_S`) peaks at twice the
    pendulum frequency. Struggling drives the same pendulum, so the whole recording shows it.
    """
    lo, hi = 2 * PENDULUM_BAND_HZ[0], min(2 * PENDULUM_BAND_HZ[1], 0.5 * fps)
    n_seg = int(round(RHYTHM_SEGMENT_S * fps))
    if changed_px.size < n_seg or hi <= lo:
        return DEFAULT_RHYTHM_HZ
    f, power = welch_power(changed_px - changed_px.mean(), fps, n_seg)
    band = (f >= lo) & (f <= hi)
    # No rhythm where the band holds nothing but rounding noise (a still or empty ROI).
    if not band.any() or not np.isfinite(power).all() or power[band].max() <= 1e-12 * power.sum():
        return DEFAULT_RHYTHM_HZ
    return float(f[band][np.argmax(power[band])] / 2.0)


def _autocorrelation(x: np.ndarray, lag: int, lo: int, hi: int) -> np.ndarray:
    """Autocorrelation at ``lag`` frames of ``x`` in the window ``[i + lo, i + hi]`` of every frame."""
    n = x.size
    if lag >= n:
        return np.zeros(n)
    count = _window_sum(np.ones(n), lo, hi)
    mean = _window_sum(x, lo, hi) / np.maximum(count, 1)
    var = _window_sum(x * x, lo, hi) - count * mean * mean
    head, tail = np.zeros(n), np.zeros(n)
    head[: n - lag], tail[: n - lag] = x[: n - lag], x[lag:]
    pairs = np.r_[np.ones(n - lag), np.zeros(lag)]
    # pairs (t, t + lag) with t in [i + lo, i + hi - lag]
    cov = (
        _window_sum(head * tail, lo, hi - lag) - mean * _window_sum(head, lo, hi - lag)
        - mean * _window_sum(tail, lo, hi - lag) + _window_sum(pairs, lo, hi - lag) * mean * mean
    )
    return np.where(var > EPS, cov / np.maximum(var, EPS), 0.0)


def _coherence(x: np.ndarray, freq_hz: float, fps: float, lo: int, hi: int) -> np.ndarray:
    """Lock-in amplitude of ``x`` at ``freq_hz`` in the window ``[i + lo, i + hi]``, relative to its SD."""
    n = x.size
    phase = 2 * np.pi * freq_hz * np.arange(n) / fps
    c, s = np.cos(phase), np.sin(phase)
    count = _window_sum(np.ones(n), lo, hi)
    mean = _window_sum(x, lo, hi) / np.maximum(count, 1)
    re = _window_sum(x * c, lo, hi) - mean * _window_sum(c, lo, hi)
    im = _window_sum(x * s, lo, hi) - mean * _window_sum(s, lo, hi)
    var = _window_sum(x * x, lo, hi) - count * mean * mean
    return np.sqrt(re**2 + im**2) / np.sqrt(np.maximum(var * count / 2.0, EPS))


def _trough(x: pd.Series, n: int, where: str) -> np.ndarray:
    """min / (max + 1) of ``x`` over ``n`` + 1 frames centred on, ending at or starting at each frame."""
    if where == "fwd":
        r = x[::-1].rolling(n + 1, min_periods=1)
        return (r.min() / (r.max() + 1.0)).to_numpy()[::-1]
    r = x.rolling(n + 1, min_periods=1, center=where == "centre")
    return (r.min() / (r.max() + 1.0)).to_numpy()


def _band_share(x: np.ndarray, second: np.ndarray, fps: float) -> pd.Series:
    """Share of the power of ``x`` over each second ±:data:`BAND_HALF_WIDTH_S` in twice the pendulum band.

    ``second`` is the bin of each value, in frame order (never decreasing).
    """
    lo, hi = 2 * PENDULUM_BAND_HZ[0], 2 * PENDULUM_BAND_HZ[1]
    bins = np.unique(second)
    starts = np.searchsorted(second, bins - BAND_HALF_WIDTH_S, side="left")
    ends = np.searchsorted(second, bins + BAND_HALF_WIDTH_S, side="right")
    out = np.zeros(bins.size)
    sizes = ends - starts
    for size in np.unique(sizes[sizes >= fps]):  # windows of one size in one transform
        rows = np.flatnonzero(sizes == size)
        v = x[starts[rows, None] + np.arange(size)]
        # Sums row by row: a 2-D sum may add in another order (last-bit differences).
        mean = np.array([row.mean() for row in v])
        power = np.abs(np.fft.rfft((v - mean[:, None]) * np.hanning(size), axis=1)) ** 2
        f = np.fft.rfftfreq(size, d=1.0 / fps)
        in_band = (f >= lo) & (f <= hi)
        total = np.array([p[1:].sum() for p in power])
        band = np.array([p[in_band].sum() for p in power])
        out[rows] = np.where(total > 0, band / np.where(total > 0, total, 1.0), 0.0)
    return pd.Series(out, index=bins)


def _animal_measures(frames: pd.DataFrame, t_s: np.ndarray, fps: float, area_px: float) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Waveform measures of one animal's frames (in frame order, each measured at ``t_s``): the
    seconds, and each measure's value in every one of them."""
    second = np.floor(t_s).astype(np.int64)
    changed = pd.Series(frames["changed_px"].to_numpy(dtype=float)).ffill().bfill().fillna(0.0)
    x = changed.to_numpy()
    hz = rhythm_hz(x, fps)
    window = max(2, int(round(PERIODICITY_WINDOW_S * fps)))
    half = window // 2
    lag = max(1, int(round(fps / (2.0 * hz))))
    per_frame = {}
    for w in TROUGH_WINDOWS_S:
        per_frame[f"trough_ratio_{w:g}s"] = _trough(changed, max(1, int(round(w * fps))), "centre")
    n_half = max(1, int(round(0.5 * fps)))
    per_frame["trough_ratio_back_0.5s"] = _trough(changed, n_half, "back")
    per_frame["trough_ratio_fwd_0.5s"] = _trough(changed, n_half, "fwd")
    for suffix, (lo, hi) in {"": (-half, half), "_back": (-window, 0), "_fwd": (0, window)}.items():
        per_frame[f"swing_autocorr{suffix}"] = _autocorrelation(x, lag, lo, hi)
        per_frame[f"swing_coherence{suffix}"] = _coherence(x, 2.0 * hz, fps, lo, hi)
    shape = frames["shape_change_px"].to_numpy(dtype=float)
    measured = np.isfinite(shape) & frames["animal_x_px"].notna().to_numpy()
    rigid = np.where(measured, 100.0 * shape / area_px < RIGID_SHAPE_PCT, np.nan)
    # One row per second (frames are in time order, so a second's frames are consecutive).
    starts, _, at, present = runs_layout(second)
    seconds = second[starts]
    out = {name: group_median(values[at], present) for name, values in per_frame.items()}
    out["rigid_share"] = group_mean(rigid[at][:, :, None], present)[:, 0]
    out["swing_band_share"] = _band_share(x, second, fps).to_numpy()
    # Time-resolved within the second: when the swing takes over from the struggle.
    sub = np.clip(np.floor((t_s - second) * SUB_BINS), 0, SUB_BINS - 1).astype(np.int64)
    timed = {"swing_autocorr_fwd": "swing_autocorr_fwd", "swing_coherence_fwd": "swing_coherence_fwd", "trough_ratio_fwd": "trough_ratio_fwd_0.5s"}
    means = pd.DataFrame({name: per_frame[col] for name, col in timed.items()}).groupby([second, sub]).mean()
    row = np.searchsorted(seconds, means.index.get_level_values(0).to_numpy())
    k_of = means.index.get_level_values(1).to_numpy()
    mean_of = {name: means[name].to_numpy() for name in timed}
    for k in range(SUB_BINS):
        here = k_of == k
        for name in timed:
            column = np.full(seconds.size, np.nan)
            column[row[here]] = mean_of[name][here]
            out[f"{name}_{k}"] = column
    out["swing_hz"] = np.full(seconds.size, hz)
    return seconds, out


def frame_measures(signals: "MotionSignals") -> pd.DataFrame:
    """Per-second measures of the per-frame motion waveform that tell a passive swing from a struggle.

    Parameters
    ----------
    signals : MotionSignals
        Output of :func:`behavscore.signals.compute_signals`.

    Returns
    -------
    pandas.DataFrame
        ``animal, second, swing_hz`` and :data:`FRAME_MEASURES` (meanings in
        :data:`FRAME_MEASURE_DOCS`), one row per animal and 1-s bin, binned as
        :func:`behavscore.per_second.per_second` bins.

    Notes
    -----
    A body swinging passively from the tail after a struggle is a damped pendulum: its
    changed-pixel count follows the speed of the swing, a rectified sine at twice the pendulum
    frequency that dies away smoothly and falls almost to nothing at each turning point, and
    the body keeps its shape. Struggling drives the same pendulum but irregularly, and the
    flailing limbs keep pixels changing at every instant. The measures are therefore the
    depth of the troughs (``trough_ratio_*``), the periodicity and coherence at the animal's own
    rhythm (``swing_autocorr*``, ``swing_coherence*``; the rhythm ``swing_hz`` is estimated per
    animal from the spectrum of its whole recording), the share of power in the pendulum band
    (``swing_band_share``) and the share of rigid silhouette changes (``rigid_share``); windows
    are in seconds, so the measures do not depend on the frame rate. Frames that repeat the one
    before (:func:`behavscore.repeats.repeated_rows`: a camera padding a slower capture) would
    put a trough in every other frame; the waveform holds the last new frame's value over them.
    Deterministic.
    """
    from .per_second import animal_area_px, animal_index
    from .repeats import repeated_rows

    fps = signals.fps
    lag = signals.params.lag_frames(fps)
    area = animal_area_px(signals)
    used = signals.frames[["frame", "changed_px", "shape_change_px", "animal_x_px"]]
    repeated = repeated_rows(signals)
    if repeated.any():
        # A frame that repeats the one before changes nothing: a trough the animal did not make.
        # Its changed pixels are unknown, so the waveform holds the last new frame's value.
        used = used.assign(changed_px=used["changed_px"].where(~repeated))
    animal = animal_index(signals.frames["animal"], [r.animal for r in signals.rois])
    columns = ["animal", "second", "swing_hz", *FRAME_MEASURES]
    if not signals.rois:
        return pd.DataFrame(columns=columns)
    parts: dict[str, list[np.ndarray]] = {c: [] for c in columns}
    for j, roi in enumerate(signals.rois):
        frames = used[animal == j]
        if not frames["frame"].is_monotonic_increasing:
            frames = frames.sort_values("frame")
        t_s = (frames["frame"].to_numpy() - lag / 2.0) / fps
        seconds, m = _animal_measures(frames, t_s, fps, area[roi.animal])
        kept = seconds >= 0
        parts["animal"].append(np.full(kept.sum(), roi.animal, dtype=object))
        parts["second"].append(seconds[kept])
        for c in columns[2:]:
            parts[c].append(m[c][kept])
    return pd.DataFrame({c: np.concatenate(v) for c, v in parts.items()})


def add_frame_measures(table: pd.DataFrame, signals: "MotionSignals") -> pd.DataFrame:
    """The per-second table with the waveform measures of :func:`frame_measures` joined on.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`behavscore.per_second.per_second` for ``signals``.
    signals : MotionSignals
        The per-frame signals the table was made from.

    Returns
    -------
    pandas.DataFrame
        A copy of ``table`` (same index and row order) with ``swing_hz`` and
        :data:`FRAME_MEASURES` added (replaced when already present).
    """
    measures = frame_measures(signals)
    keep = [c for c in table.columns if c not in measures.columns or c in ("animal", "second")]
    out = table[keep].copy()
    keys = pd.MultiIndex.from_arrays([out["animal"].astype(str).to_numpy(), out["second"].to_numpy()])
    m = measures.set_index(["animal", "second"])
    joined = m.reindex(keys)
    for c in m.columns:
        out[c] = joined[c].to_numpy()
    return out
