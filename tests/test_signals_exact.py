"""The fast decoding pass and per-second table give exactly the numbers of a plain reference.

The reference below is the pass written for clarity, not speed: whole-frame differences, one
OpenCV call per measurement, ``numpy.median``, every reservoir frame down-scaled as it comes,
and pandas ``groupby`` for the 1-s bins. Any speed-up must leave every number bit for bit the
same (``check_exact``); a change that alters numbers must raise ``SIGNALS_VERSION`` instead.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from behavscore.appearance import (
    MAX_AREA_FRACTION, MIN_AREA_FRACTION, MIN_CONTRAST_DN, MIN_MOVING_AREA_FRACTION, MOVED_DN, MOVED_SHARE, Silhouette, median_u8,
)
from behavscore.per_second import animal_area_px, calm_half_window_frames, n_bins, per_second
from behavscore.lights import brightness_step_dn
from behavscore.repeats import repeated_rows
from behavscore.shape import nonrigid_change_px, silhouette_moments
from behavscore.signals import (
    FLICKER_DN, HALF_RES_MIN_SIDE_PX, N_SIGNALS, SIGNAL_NAMES, SILHOUETTE_HALF_RES_MIN_SIDE_PX, MotionSignals, Roi, SignalParams, _Reservoir, _scaled,
    compute_signals, frames_table, whole_frame_roi,
)
from behavscore.executors import _one_core
from behavscore.video import decoder_settings, iter_luma, probe

from conftest import write_video
from mp4_times import set_display_matrix

SAMPLES = Path(__file__).resolve().parents[1] / "videos_sample"


# --- the reference pass -------------------------------------------------------------------------


def ref_components(crop):
    """Label image and areas of the compact contrasting regions of a crop."""
    h, w = crop.shape
    k = max(3, (min(h, w) // 2) | 1)
    contrast = cv2.absdiff(crop, cv2.medianBlur(crop, min(k, 255)))
    spread = 1.4826 * float(np.median(contrast))
    mask = (contrast > max(MIN_CONTRAST_DN, 4.0 * spread)).astype(np.uint8)
    size = max(3, min(h, w) // 25)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return labels, [int(stats[i, cv2.CC_STAT_AREA]) for i in range(n)]


def ref_animal_masks(crops):
    """The largest animal-sized region, unless it never moves; then the largest that moves now."""
    median = np.median(np.stack(crops).astype(np.float64), axis=0)
    moved = [np.abs(c - median) > MOVED_DN for c in crops]
    ever = np.any(moved, axis=0)
    out = []
    for crop, now in zip(crops, moved):
        labels, areas = ref_components(crop)
        n_px = crop.size
        pick = None
        if len(areas) > 1:
            best = 1 + int(np.argmax(areas[1:]))
            if MIN_AREA_FRACTION <= areas[best] / n_px <= MAX_AREA_FRACTION:
                pick = best
        if pick is None or ever[labels == pick].mean() < MOVED_SHARE:
            moving = [
                i for i in range(1, len(areas))
                if MIN_MOVING_AREA_FRACTION <= areas[i] / n_px <= MAX_AREA_FRACTION and now[labels == i].mean() >= MOVED_SHARE
            ]
            if moving:
                pick = max(moving, key=lambda i: (areas[i], -i))
        out.append(labels == pick if pick is not None else None)
    return out


def ref_calibrate_silhouette(crops):
    inside, around, areas, near, regions = [], [], [], np.zeros(crops[0].shape, bool), []
    for crop, blob in zip(crops, ref_animal_masks(crops)):
        if blob is None or abs(float(np.median(crop[blob])) - float(np.median(crop))) < MIN_CONTRAST_DN:
            continue  # a region as light as most of the ROI is its background
        regions.append(blob)
        size = max(3, min(crop.shape) // 12) | 1
        grown = cv2.dilate(blob.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))).astype(bool)
        near |= grown
        ring = grown & ~blob
        if ring.any():
            inside.append(float(np.median(crop[blob])))
            around.append(float(np.median(crop[ring])))
            areas.append(float(blob.sum()))
    if len(inside) < max(1, len(crops) // 2):
        return None
    # The animal moved: in some pair of consecutive crops its regions differ by 15 % of its area.
    if len(regions) >= 2 and max((x ^ y).sum() / x.sum() for x, y in zip(regions, regions[1:])) < 0.15:
        return None
    a, b = float(np.median(inside)), float(np.median(around))
    if abs(a - b) < MIN_CONTRAST_DN:
        return None
    threshold, dark = (a + b) / 2.0, a < b
    # Still scenery: within half the way from the threshold to the surroundings' luma in every
    # crop, away from the animal in all of them.
    near_threshold = threshold + 0.5 * (b - a) / 2.0
    coloured = np.ones(crops[0].shape, bool)
    for crop in crops:
        coloured &= (crop <= near_threshold) if dark else (crop > near_threshold)
    scenery = coloured & ~near if len(crops) >= 3 else np.zeros_like(coloured)
    keep = (~scenery).astype(np.uint8) if scenery.any() else None
    return Silhouette(threshold_dn=threshold, dark=dark, area_px=float(np.median(areas)), keep=keep)


def ref_find_animal(frames, roi, scale):
    x0, y0 = int(round(roi.x * scale)), int(round(roi.y * scale))
    x1, y1 = int(round((roi.x + roi.w) * scale)), int(round((roi.y + roi.h) * scale))
    if not (y1 - y0 > 4 and x1 - x0 > 4) or not frames:
        return False, float("nan")
    areas = np.array([float(m.sum()) if m is not None else 0.0 for m in ref_animal_masks([f[y0:y1, x0:x1] for f in frames])])
    present = areas > 0
    if present.mean() < 0.5:
        return False, float("nan")
    return True, float(np.median(areas[present])) / scale**2


def ref_frames_table(rois, data):
    n = data.shape[0]
    return pd.concat(
        [pd.DataFrame({"animal": r.animal, "frame": np.arange(n), **{c: data[:, j, i] for i, c in enumerate(SIGNAL_NAMES)}})
         for j, r in enumerate(rois)],
        ignore_index=True,
    )


def ref_signals(path, rois=None, params=SignalParams()):
    """The decoding pass, plainly: every frame in memory, every measurement its own call."""
    info = probe(path)
    rois = tuple(rois) if rois else (whole_frame_roi(info, info.path.stem),)
    frames = list(iter_luma(path, info))
    half = min(min(r.w, r.h) for r in rois) >= 2 * HALF_RES_MIN_SIDE_PX
    f = 0.5 if half else 1.0
    size = (info.width_px // 2, info.height_px // 2)
    if half:
        frames = [cv2.resize(x, size, interpolation=cv2.INTER_AREA) for x in frames]
    sr = [_scaled(r, f, size) for r in rois]
    cal = frames[: params.calibration_frames]
    crop = lambda img, r: img[r.y : r.y + r.h, r.x : r.x + r.w]  # noqa: E731
    # Flickering lights: the median change of the mean luma of the lines (rows; columns where
    # the header turns the picture by a quarter) of the box around the ROIs, root mean square
    # over the last len(cal) frames (over all calibration frames for those and the noise), is
    # over FLICKER_DN; each line of the earlier frame of each pair is then scaled to the later
    # frame's mean luma of that line.
    union = (slice(min(r.y for r in sr), max(r.y + r.h for r in sr)), slice(min(r.x for r in sr), max(r.x + r.w for r in sr)))
    along_rows = info.turned_deg not in (90, 270)
    across = 1 if along_rows else 0  # the axis summed over
    means_dn = [x[union].sum(axis=across, dtype=np.int64) / float(x[union].shape[across]) for x in frames]
    steps = np.array([0.0] + [float(np.median(np.abs(means_dn[i] - means_dn[i - 1]))) for i in range(1, len(frames))])
    rms = lambda x: float(np.sqrt(np.mean(np.square(x)))) if len(x) else 0.0  # noqa: E731
    level = [rms(steps[1 : len(cal)])] * len(cal) + [rms(steps[i - len(cal) + 2 : i + 1]) for i in range(len(cal), len(frames))]
    flicker_dn = max(level)

    def earlier(i, k):
        """Frame i - k as it is compared with frame i."""
        x = frames[i - k]
        if level[i] <= FLICKER_DN:
            return x
        x = x.copy()
        ratio = np.where(means_dn[i - k] > 0, means_dn[i] / np.where(means_dn[i - k] > 0, means_dn[i - k], 1.0), 1.0)
        x[union] = np.clip(np.rint(x[union] * (ratio[:, None] if along_rows else ratio[None, :])), 0, 255).astype(np.uint8)
        return x

    noise_sd = []
    for r in sr:
        per_pair = [1.4826 * float(np.median(cv2.absdiff(crop(cal[i], r), crop(earlier(i, 1), r)))) for i in range(1, len(cal))]
        noise_sd.append(float(np.median(per_pair)) if per_pair else 0.0)
    cutoffs = [max(params.min_cutoff_dn, params.noise_k * sd) for sd in noise_sd]
    # Silhouettes of large ROIs at half the pass's resolution: 2x2 blocks averaged.
    g = [0.5 if min(r.w, r.h) >= 2 * SILHOUETTE_HALF_RES_MIN_SIDE_PX else 1.0 for r in sr]

    def sil_crop(img, j):
        c = crop(img, sr[j])
        if g[j] == 1.0:
            return c
        h, w = c.shape[0] // 2, c.shape[1] // 2
        return cv2.resize(c[: 2 * h, : 2 * w], (w, h), interpolation=cv2.INTER_AREA)

    step = max(1, len(cal) // 5)
    silhouettes = [ref_calibrate_silhouette([sil_crop(c, j) for c in cal[::step]]) for j in range(len(sr))]
    cal_luma = [float(np.mean([cv2.mean(c)[0] for c in cal[::step]]))] * len(sr)
    measured_from = [0] * len(sr)
    # An ROI not calibrated on the first frames: from the first frame after them in which 2 % of
    # it changes, on each next run of as many frames, the same distance apart, until one
    # calibrates; measured from its last frame on.
    n_sampled = len(cal[::step])
    for j, r in enumerate(sr):
        lag_n = params.lag_frames(info.fps)
        moving = [i for i in range(max(len(cal), lag_n), len(frames))
                  if cv2.countNonZero(cv2.threshold(crop(cv2.absdiff(frames[i], earlier(i, lag_n)), r), cutoffs[j], 1, cv2.THRESH_BINARY)[1]) >= 0.02 * r.w * r.h]
        start = len(cal) + -(-(moving[0] - len(cal)) // step) * step if moving and silhouettes[j] is None else len(frames)
        while silhouettes[j] is None and start + (n_sampled - 1) * step < len(frames):
            at = range(start, start + n_sampled * step, step)
            silhouettes[j] = ref_calibrate_silhouette([sil_crop(frames[i], j) for i in at])
            cal_luma[j] = float(np.mean([cv2.mean(frames[i])[0] for i in at]))
            measured_from[j] = at[-1]
            start += n_sampled * step
    px = 1.0 / (f * f)
    lag, every, n = params.lag_frames(info.fps), params.silhouette_frames(info.fps), len(frames)
    rows = np.full((n, len(rois), N_SIGNALS), np.nan)
    last = [None] * len(rois)
    for i, frame in enumerate(frames):
        sampled = i % every == 0
        if sampled:
            rows[i, :, 6] = cv2.mean(frame)[0]
        if i >= lag:
            diff = cv2.absdiff(frame, earlier(i, lag))
            for j, r in enumerate(sr):
                d = crop(diff, r)
                mask = cv2.threshold(d, cutoffs[j], 1, cv2.THRESH_BINARY)[1]
                changed = cv2.countNonZero(mask)
                rows[i, j, 0] = changed * px
                rows[i, j, 1] = cv2.sumElems(d)[0] / (r.w * r.h)
                if changed and sampled:
                    xs, ys = np.arange(r.w, dtype=np.float64) / f, np.arange(r.h, dtype=np.float64) / f
                    cx = cv2.reduce(mask, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
                    cy = cv2.reduce(mask, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
                    mx, my = xs @ cx / changed, ys @ cy / changed
                    sx = np.sqrt(max((xs**2) @ cx / changed - mx * mx, 0.0))
                    sy = np.sqrt(max((ys**2) @ cy / changed - my * my, 0.0))
                    rows[i, j, 2:6] = mx, my, sx, sy
        if sampled:
            for j, r in enumerate(sr):
                if i < measured_from[j]:
                    continue
                found = silhouettes[j].cut(sil_crop(frame, j), rows[i, j, 6] / cal_luma[j]) if silhouettes[j] is not None else None
                mom = silhouette_moments(found[1]) if found else None
                if mom is None:
                    if silhouettes[j] is not None:
                        last[j] = None
                    continue
                out, fs = rows[i, j], f * g[j]
                out[7:11] = mom.area_px / fs**2, mom.x_px / fs, mom.y_px / fs, np.degrees(mom.angle_rad)
                if last[j] is not None:
                    out[11] = nonrigid_change_px(last[j][0], last[j][1], found[0], mom) / fs**2
                    out[12] = cv2.countNonZero(cv2.bitwise_xor(last[j][0], found[0])) / fs**2
                last[j] = found[0], mom
    # Reservoir: the frames whose index is a multiple of the final stride, down-scaled.
    scale = min(1.0, 320.0 / (f * max(info.width_px, info.height_px)))
    stride = _Reservoir.final_stride(n, params.reservoir_frames)
    small = [x if scale == 1 else cv2.resize(x, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) for x in frames[::stride]]
    per_roi = []
    for j, r in enumerate(rois):
        found, area = ref_find_animal(small, sr[j], scale)
        per_roi.append({"animal": r.animal, "roi_x": r.x, "roi_y": r.y, "roi_w": r.w, "roi_h": r.h,
                        "noise_sd_dn": noise_sd[j], "cutoff_dn": cutoffs[j], "flicker_dn": flicker_dn, "animal_area_px": area * px, "animal_found": found})
    return ref_frames_table(rois, rows), pd.DataFrame(per_roi)


def ref_per_second(signals):
    """1-s bins with pandas groupby; frames repeated by the camera left out, unless a bin has only those."""
    f = signals.frames
    lag = signals.params.lag_frames(signals.fps)
    second = np.floor((f["frame"].to_numpy() - lag / 2.0) / signals.fps).astype(np.int64)
    n_frames = f.groupby([f["animal"].to_numpy(), second], sort=False).size()
    new = pd.Series(~repeated_rows(signals), index=f.index)
    use = (new | ~new.groupby([f["animal"].to_numpy(), second]).transform("any")).to_numpy()
    f, second = f[use], second[use]
    cols = list(SIGNAL_NAMES)
    grouped = f[cols].assign(animal=f["animal"].to_numpy(), second=second).groupby(["animal", "second"], sort=False)
    out = grouped.mean()
    out["changed_median_px"] = grouped["changed_px"].median()
    out["changed_p10_px"] = grouped["changed_px"].quantile(0.10)
    out["n_frames"] = n_frames.rename_axis(["animal", "second"]).reindex(out.index)
    t_s = (f["frame"].to_numpy() - lag / 2.0) / signals.fps
    late = (t_s - second) >= 0.5
    halves = f[["changed_px"]].assign(animal=f["animal"].to_numpy(), second=second, late=late)
    halves = halves.groupby(["animal", "second", "late"], sort=False)["changed_px"].median().unstack("late")
    out["changed_early_px"] = halves.get(False)
    out["changed_late_px"] = halves.get(True)
    # Each used frame's fewest changed pixels within the calm window (used frames of the kept
    # bins only), then the median over the second.
    kept = (second >= 0) & (second < n_bins(signals.n_frames, signals.fps))
    window = 2 * calm_half_window_frames(signals.fps) + 1
    calm = pd.Series(np.nan, index=f.index)
    for _, rows in f[kept].groupby("animal", sort=False):
        by_frame = rows.set_index("frame")["changed_px"].reindex(range(signals.n_frames))
        calm[rows.index] = by_frame.rolling(window, center=True, min_periods=1).min().loc[rows["frame"]].to_numpy()
    out["changed_calm_px"] = calm.groupby([f["animal"].to_numpy(), second], sort=False).median().rename_axis(["animal", "second"])
    out = out.reset_index()
    out = out[(out["second"] >= 0) & (out["second"] < n_bins(signals.n_frames, signals.fps))].copy()
    area = out["animal"].map(animal_area_px(signals))
    out["motion"] = 100.0 * out["changed_median_px"] / area
    out["motion_early"] = 100.0 * out["changed_early_px"] / area
    out["motion_late"] = 100.0 * out["changed_late_px"] / area
    out["motion_p10"] = 100.0 * out.pop("changed_p10_px") / area
    out["motion_calm"] = 100.0 * out.pop("changed_calm_px") / area
    out["shape_motion"] = 100.0 * out["shape_change_px"] / area
    out["silhouette_motion"] = 100.0 * out["silhouette_change_px"] / area
    out["body_area_px"] = area.astype(np.float64)
    out.insert(0, "video", signals.video.name)
    order = ["video", "animal", "second", "motion", "motion_early", "motion_late", "motion_p10", "motion_calm", "shape_motion",
             "silhouette_motion"]
    order += cols + ["changed_median_px", "changed_early_px", "changed_late_px", "n_frames", "body_area_px"]
    out["animal"] = pd.Categorical(out["animal"], categories=[r.animal for r in signals.rois], ordered=True)
    out = out.sort_values(["animal", "second"]).reset_index(drop=True)
    out["animal"] = out["animal"].astype(str)
    return out[order]


def assert_same_pass(path, rois=None, params=SignalParams()):
    fast = compute_signals(path, rois, params)
    frames, per_roi = ref_signals(path, rois, params)
    pd.testing.assert_frame_equal(fast.frames, frames, check_exact=True)
    # The pass keeps running sums of the brightness steps, the reference takes their SD afresh.
    np.testing.assert_allclose(fast.per_roi["flicker_dn"], per_roi["flicker_dn"], rtol=1e-9)
    pd.testing.assert_frame_equal(fast.per_roi.drop(columns="flicker_dn"), per_roi.drop(columns="flicker_dn"), check_exact=True)
    pd.testing.assert_frame_equal(per_second(fast), ref_per_second(fast), check_exact=True)
    return fast


# --- videos -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def three_animals(tmp_path_factory):
    """8-s, 3-animal synthetic FST and TST videos."""
    from behavscore.synth import generate_video

    out = tmp_path_factory.mktemp("exact")
    return {p: generate_video(out / f"{p}.mp4", p, seed=5, seconds=8, animals=3) for p in ("fst", "tst")}


def rois_of(video):
    return [Roi(*r) for r in video.rois]


@pytest.mark.parametrize("protocol", ["fst", "tst"])
def test_pass_gives_the_reference_numbers(three_animals, protocol):
    s = assert_same_pass(three_animals[protocol].path, rois_of(three_animals[protocol]))
    assert s.frames["silhouette_change_px"].notna().any() and s.per_roi["animal_found"].all()


def test_pass_gives_the_reference_numbers_for_the_whole_frame(three_animals):
    assert_same_pass(three_animals["fst"].path)


def test_pass_gives_the_reference_numbers_with_lag_and_own_cutoffs(three_animals):
    # A low floor for the cut-off: ROIs get their own, measured from their noise.
    params = SignalParams(diff_lag_s=0.2, min_cutoff_dn=2.0, silhouette_interval_s=0.12)
    s = assert_same_pass(three_animals["fst"].path, rois_of(three_animals["fst"]), params)
    assert s.per_roi["cutoff_dn"].nunique() > 1


def test_pass_gives_the_reference_numbers_under_flickering_lights(tmp_path):
    from behavscore.synth import generate_video
    from behavscore.synth.nuisance import NuisanceSettings

    video = generate_video(tmp_path / "flicker.mp4", "tst", seed=5, seconds=8, animals=3, nuisance=NuisanceSettings(flicker_fraction=0.03))
    s = assert_same_pass(video.path, rois_of(video))
    assert (s.per_roi["flicker_dn"] > FLICKER_DN).all()
    steady_video = generate_video(tmp_path / "steady.mp4", "tst", seed=5, seconds=8, animals=3)
    steady = compute_signals(rois=rois_of(video), path=steady_video.path)
    assert (steady.per_roi["flicker_dn"] < FLICKER_DN).all()
    # A phone's portrait clip: stored sideways, the sensor's rows crossed by rolling bands of
    # light, and a quarter turn in the header; measured upright, the bands run along columns.
    stored = [np.ascontiguousarray(np.rot90(f)) for f in iter_luma(steady_video.path)]
    rows = np.arange(stored[0].shape[0])[:, None] / stored[0].shape[0]
    banded = [np.clip(f * (1.0 + 0.06 * np.sin(2 * np.pi * (2 * rows + 0.36 * i))), 0, 255).astype(np.uint8) for i, f in enumerate(stored)]
    phone = set_display_matrix(write_video(tmp_path / "stored.mp4", banded, fps=steady_video.fps), tmp_path / "phone.mp4")
    assert probe(phone).turned_deg == 90
    s = assert_same_pass(phone, rois_of(video))
    assert (s.per_roi["flicker_dn"] > FLICKER_DN).all()


def test_pass_gives_the_reference_numbers_when_the_mice_are_put_in_late(tmp_path, monkeypatch):
    import behavscore.synth.generate as generate

    drawn = {"calls": 0}
    draw_mouse = generate.draw_mouse

    def put_in_late(frame, pose, coat):  # no mouse in the first 3 s
        drawn["calls"] += 1
        if drawn["calls"] > 3 * 25 * 3:
            draw_mouse(frame, pose, coat)

    monkeypatch.setattr(generate, "draw_mouse", put_in_late)
    video = generate.generate_video(tmp_path / "late.mp4", "tst", seed=4404, seconds=10, animals=3)
    s = assert_same_pass(video.path, rois_of(video))
    first = s.frames[s.frames["frame_luma_dn"].notna() & (s.frames["frame"] < 50)]
    assert first["animal_area_px"].isna().any() and s.frames["animal_area_px"].notna().any()


def test_pass_gives_the_reference_numbers_for_overlapping_rois(three_animals):
    rois = [Roi("a", 0, 0, 300, 200), Roi("b", 100, 0, 200, 200), Roi("c", 200, 50, 50, 50), Roi("d", 10, 50, 300, 50)]
    assert_same_pass(three_animals["tst"].path, rois)


def test_pass_gives_the_reference_numbers_at_half_resolution(three_animals, tmp_path):
    # Twice the size: the ROIs are measured at half resolution.
    frames = [cv2.resize(f, None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR) for f in iter_luma(three_animals["fst"].path)]
    path = write_video(tmp_path / "large.mp4", frames[:100], fps=25)
    rois = [Roi(r.animal, 2 * r.x, 2 * r.y, 2 * r.w, 2 * r.h) for r in rois_of(three_animals["fst"])]
    assert min(min(r.w, r.h) for r in rois) >= 2 * HALF_RES_MIN_SIDE_PX
    assert_same_pass(path, rois)


@pytest.mark.slow
@pytest.mark.parametrize("protocol", ["fst", "tst"])
def test_pass_gives_the_reference_numbers_on_the_samples(protocol):
    cohort = pd.read_csv(SAMPLES / protocol / "cohort.csv")
    for video, rows in cohort.groupby("video"):
        rois = [Roi(str(r.animal), r.roi_x, r.roi_y, r.roi_w, r.roi_h) for r in rows.itertuples()]
        assert_same_pass(SAMPLES / protocol / video, rois)


def test_pass_on_one_core_gives_the_reference_numbers(three_animals):
    # What every batch worker runs: one decoder thread, decoding in the pass's own thread.
    before = decoder_settings(), cv2.getNumThreads()
    with _one_core():
        assert decoder_settings() == (1, False) and cv2.getNumThreads() == 1
        assert_same_pass(three_animals["tst"].path, rois_of(three_animals["tst"]))
    assert (decoder_settings(), cv2.getNumThreads()) == before  # this process's settings are back


# --- pieces -------------------------------------------------------------------------------------


def test_decoded_frames_do_not_depend_on_decoder_threads(three_animals):
    path = three_animals["tst"].path
    one = list(iter_luma(path, threads=1, prefetch=0))
    many = list(iter_luma(path, threads=3, prefetch=5))
    assert len(one) == len(many) == 200
    assert all(np.array_equal(a, b) for a, b in zip(one, many))


def test_frames_table_is_one_block_of_rows_per_roi():
    rng = np.random.default_rng(4)
    rois = [Roi(f"a{j}", 0, 0, 5, 5) for j in range(3)]
    for n, k in ((50, 3), (50, 1), (0, 3)):
        data = rng.normal(size=(n, k, N_SIGNALS))
        pd.testing.assert_frame_equal(frames_table(rois[:k], data), ref_frames_table(rois[:k], data), check_exact=True)


def test_reservoir_keeps_the_multiples_of_its_final_stride():
    for size in (1, 2, 3, 16):
        for n in range(0, 700, 7):
            r = _Reservoir(size, 1.0)
            for i in range(n):
                r.offer(i, np.zeros((2, 2), np.uint8))
            stride = _Reservoir.final_stride(n, size)
            assert r.stride == stride and r.index == list(range(0, n, stride))


def test_reservoir_down_scales_the_same_whether_lazy_or_not():
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (30, 40), dtype=np.uint8) for _ in range(50)]
    kept = []
    for lazy in (True, False):
        r = _Reservoir(4, 0.6)
        for i, f in enumerate(frames):
            if i == 0:
                r.lazy = lazy
            r.offer(i, f)
        kept.append([r.as_small(k) for k in r.kept])
    assert [k.shape for k in kept[0]] == [(18, 24)] * len(kept[0])
    assert all(np.array_equal(a, b) for a, b in zip(*kept))


def test_median_u8_is_numpy_median():
    rng = np.random.default_rng(1)
    for trial in range(2000):
        h, w = rng.integers(1, 40, 2)
        if trial % 3 == 0:  # any levels: from the histogram
            x = rng.integers(0, rng.integers(1, 256), (h, w), dtype=np.uint8)
        elif trial % 3 == 1:  # mostly 0-2, as frame-difference noise: from counts
            x = np.minimum(rng.geometric(rng.uniform(0.2, 0.95), (h, w)) - 1, 255).astype(np.uint8)
        else:
            x = rng.choice(np.array([0, 1, 2, 3, 200], np.uint8), (h, w), p=rng.dirichlet(np.ones(5)))
        x = x[::2, ::3] if rng.random() < 0.3 else x
        assert median_u8(x) == float(np.median(x))


def test_brightness_step_is_the_numpy_median_of_the_changes_of_the_lines():
    rng = np.random.default_rng(5)
    for n in [*range(1, 40), 200, 201]:
        for _ in range(20):
            now, before = rng.integers(0, 256, (2, n)) / rng.choice([1.0, 7.0, 460.0])
            assert brightness_step_dn(now, before) == float(np.median(np.abs(now - before)))


def random_signals(rng, n, k, fps, lag_s, shuffle=False):
    rois = tuple(Roi(f"a{j}", 0, 0, 50, 50) for j in range(k))
    data = rng.normal(0, 1, (n, k, N_SIGNALS)) * 10.0 ** rng.integers(-3, 8, (1, 1, N_SIGNALS))
    data[rng.random(data.shape) < rng.random()] = np.nan
    data[:, :, 0] = np.round(np.abs(data[:, :, 0])) if rng.random() < 0.5 else data[:, :, 0]
    frames = frames_table(rois, data)
    if shuffle:
        frames = frames.sample(frac=1.0, random_state=int(rng.integers(1 << 30))).reset_index(drop=True)
    per_roi = pd.DataFrame({"animal": [r.animal for r in rois], "roi_x": 0, "roi_y": 0, "roi_w": 50, "roi_h": 50,
                            "noise_sd_dn": 1.0, "cutoff_dn": 10.0, "animal_area_px": rng.choice([np.nan, 0.0, 37.5, 1e3], k),
                            "animal_found": True})
    return MotionSignals(video=Path("v.mp4"), fps=fps, n_frames=n, n_frames_claimed=n, rois=rois, frames=frames,
                         per_roi=per_roi, params=SignalParams(diff_lag_s=lag_s))


def test_per_second_is_pandas_groupby_to_the_last_bit():
    # Means are Kahan sums in frame order, medians of even counts the mean of the middle two.
    rng = np.random.default_rng(2)
    for trial in range(120):
        fps = float(rng.choice([25.0, 29.97, 30.0, 7.5, 59.94]))
        s = random_signals(rng, int(rng.integers(30, 300)), int(rng.integers(1, 4)), fps,
                           float(rng.choice([0.0, 0.1, 0.5])), shuffle=trial % 5 == 0)
        expected = ref_per_second(s)
        assert len(expected) > 0
        pd.testing.assert_frame_equal(per_second(s), expected, check_exact=True)


def test_per_second_of_a_video_shorter_than_half_a_second_is_empty():
    s = random_signals(np.random.default_rng(3), 6, 2, 30.0, 0.0)
    table = per_second(s)
    assert table.empty and list(table.columns) == list(ref_per_second(s).columns)
