"""Per-second feature matrix for the trained classifier, computed from the per-second table alone."""

from __future__ import annotations

import numpy as np
import pandas as pd

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

#: Per-second columns the features are computed from (``per_second`` output).
REQUIRED_COLUMNS = ("animal", "second", "motion")

#: Every feature, in matrix column order, with its unit and meaning.
FEATURE_DOCS: dict[str, str] = {}


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
        _doc("flow_x_bl", "|mean horizontal motion of changed pixels| (motion_x_px), body lengths"),
        _doc("flow_y_bl", "mean vertical motion of changed pixels (motion_y_px, signed), body lengths"),
        _doc("area_rel", "animal area / the animal's median area, ratio (rearing/climbing stretches the silhouette)"),
        _doc("angle_change_deg", "|change of body angle| from the previous second, degrees (wrapped to 0-90)"),
        _doc("diff_rel", "mean absolute frame difference / the animal's median, ratio"),
        _doc("decay_ratio", "motion_pct / mean motion_pct of the previous 3 s, ratio (passive swing decays)"),
        _doc("decay_drop_rel", "(max of previous 3 s - current) motion, in units of the animal's active motion"),
        _doc("prev3_max_rel", "max motion_rel_active over the previous 3 s, ratio"),
        _doc("since_active_s", "seconds since the last second with motion_rel_active >= 1, capped at 30 s"),
        _doc("shape_decay_ratio", "shape_pct / mean shape_pct of the previous 3 s, ratio"),
    ]
    return names


#: Feature names, in matrix column order.
FEATURE_NAMES: tuple[str, ...] = tuple(_register())


def _col(table: pd.DataFrame, name: str) -> np.ndarray:
    if name in table.columns:
        return pd.to_numeric(table[name], errors="coerce").to_numpy(dtype=float)
    return np.full(len(table), np.nan)


def _fill(x: np.ndarray, value: float = 0.0) -> np.ndarray:
    """Interpolate interior NaN along one animal's seconds, then fill the rest with ``value``."""
    s = pd.Series(x)
    if s.notna().sum() >= 2:
        s = s.interpolate(limit_area="inside")
    return s.fillna(value).to_numpy(dtype=float)


def _centred(x: np.ndarray, half: int, stat: str) -> np.ndarray:
    r = pd.Series(x).rolling(2 * half + 1, center=True, min_periods=1)
    return getattr(r, stat)().to_numpy(dtype=float)


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


def _one_animal(t: pd.DataFrame) -> dict[str, np.ndarray]:
    """Features of one animal's consecutive seconds (sorted by second)."""
    motion = _fill(_col(t, "motion"))
    f: dict[str, np.ndarray] = {"motion_pct": motion, "motion_log": np.log1p(np.clip(motion, 0, None))}
    f["motion_rank"] = pd.Series(motion).rank(pct=True).to_numpy(dtype=float)
    scale = _active_scale(motion, motion)
    rel = motion / scale
    f["motion_rel_active"] = rel
    f["motion_rel_p90"] = motion / max(float(np.percentile(motion, 90)) if motion.size else 1.0, EPS)
    for w in NEIGHBOUR_HALF_WIDTHS_S:
        for stat in ("mean", "max", "min"):
            f[f"motion_rel_{stat}_pm{w}s"] = _centred(rel, w, stat)
    for w in NEIGHBOUR_HALF_WIDTHS_S[:2]:
        f[f"motion_rank_mean_pm{w}s"] = _centred(f["motion_rank"], w, "mean")
    early = _fill(_col(t, "motion_early"), np.nan)
    late = _fill(_col(t, "motion_late"), np.nan)
    early, late = np.where(np.isfinite(early), early, motion), np.where(np.isfinite(late), late, motion)
    f["late_rel_active"] = late / scale
    f["late_over_early"] = np.log((np.clip(late, 0, None) + 1.0) / (np.clip(early, 0, None) + 1.0))
    f["motion_rel_prev1s"] = np.concatenate([rel[:1], rel[:-1]])
    f["motion_rel_next1s"] = np.concatenate([rel[1:], rel[-1:]])

    raw_motion = _col(t, "motion")
    shape = _fill(_col(t, "shape_motion"))
    sil = _fill(_col(t, "silhouette_motion"))
    f["shape_pct"] = shape
    f["shape_rel"] = shape / _active_scale(shape, raw_motion)
    f["silhouette_pct"] = sil
    f["silhouette_rel"] = sil / _active_scale(sil, raw_motion)
    f["shape_share"] = np.clip(shape / (sil + EPS), 0, 10) * (sil > EPS)
    f["shape_per_motion"] = shape / (motion + 1.0)
    for w in NEIGHBOUR_HALF_WIDTHS_S[:2]:
        for stat in ("mean", "max"):
            f[f"shape_rel_{stat}_pm{w}s"] = _centred(f["shape_rel"], w, stat)
            f[f"silhouette_rel_{stat}_pm{w}s"] = _centred(f["silhouette_rel"], w, stat)
        f[f"shape_share_mean_pm{w}s"] = _centred(f["shape_share"], w, "mean")

    area = _col(t, "animal_area_px")
    med_area = float(np.nanmedian(area)) if np.isfinite(area).any() else np.nan
    body_px = np.sqrt(med_area) if np.isfinite(med_area) and med_area > 0 else 1.0
    x = _fill(_col(t, "animal_x_px"), np.nan)
    y = _fill(_col(t, "animal_y_px"), np.nan)
    dx = np.nan_to_num(np.diff(x, prepend=x[:1] if x.size else x) / body_px)
    dy = np.nan_to_num(np.diff(y, prepend=y[:1] if y.size else y) / body_px)
    f["centroid_step_bl"] = np.hypot(dx, dy)
    f["centroid_dx_bl"] = np.abs(dx)
    f["centroid_dy_bl"] = dy
    f["centroid_step_mean_pm2s"] = _centred(f["centroid_step_bl"], 2, "mean")
    f["centroid_dy_mean_pm2s"] = _centred(np.abs(dy), 2, "mean")
    sdx = _fill(_col(t, "motion_sd_x_px"))
    sdy = _fill(_col(t, "motion_sd_y_px"))
    f["flow_sd_x_bl"] = sdx / body_px
    f["flow_sd_y_bl"] = sdy / body_px
    f["flow_y_over_x"] = np.log((np.abs(sdy) + EPS) / (np.abs(sdx) + EPS)) * ((sdx > EPS) | (sdy > EPS))
    f["flow_y_over_x_mean_pm2s"] = _centred(f["flow_y_over_x"], 2, "mean")
    f["flow_x_bl"] = np.abs(_fill(_col(t, "motion_x_px"))) / body_px
    f["flow_y_bl"] = _fill(_col(t, "motion_y_px")) / body_px
    f["area_rel"] = _fill(area / med_area, 1.0) if np.isfinite(med_area) and med_area > 0 else np.ones(len(t))
    angle = _fill(_col(t, "animal_angle_deg"), np.nan)
    d_angle = np.abs(np.diff(angle, prepend=angle[:1] if angle.size else angle)) % 180.0
    f["angle_change_deg"] = np.nan_to_num(np.minimum(d_angle, 180.0 - d_angle))
    diff = _fill(_col(t, "diff_mean_dn"))
    med_diff = float(np.median(diff)) if diff.size else 1.0
    f["diff_rel"] = diff / max(med_diff, EPS)

    prev_mean = _previous(motion, DECAY_LOOKBACK_S, "mean")
    prev_max = _previous(rel, DECAY_LOOKBACK_S, "max")
    f["decay_ratio"] = np.clip(motion / (prev_mean + 1.0), 0, 20)
    f["decay_drop_rel"] = prev_max - rel
    f["prev3_max_rel"] = prev_max
    f["since_active_s"] = _since(rel >= 1.0, SINCE_ACTIVE_CAP_S)
    f["shape_decay_ratio"] = np.clip(shape / (_previous(shape, DECAY_LOOKBACK_S, "mean") + 1.0), 0, 20)
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
        ``animal_x_px``, ``animal_y_px`` and ``animal_angle_deg``.

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
    for _, idx in table.groupby(keys, sort=False, observed=True).indices.items():
        idx = np.asarray(idx)
        order = idx[np.argsort(table["second"].to_numpy()[idx], kind="stable")]
        f = _one_animal(table.iloc[order])
        out[positions[order]] = np.column_stack([f[n] for n in FEATURE_NAMES])
    out = np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)
    return pd.DataFrame(out, index=table.index, columns=list(FEATURE_NAMES))
