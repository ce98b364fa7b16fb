"""Per-ROI motion signals for every frame, computed in one decoding pass."""

from __future__ import annotations

import collections
import concurrent.futures
import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import cv2
import numpy as np
import pandas as pd

from .appearance import Blobs, Silhouette, animal_appearance, animal_boxes, calibrate_silhouette, find_blobs, median_u8
from .compartments import StretchSample, places_side_by_side
from .lights import FLICKER_DN, BrightnessSteps, brightness_step_dn, line_means, match_brightness, sensor_rows_axis
from .shape import nonrigid_change_px, silhouette_moments
from .video import MIN_FRAMES, Retiming, VideoError, VideoInfo, at_constant_rate, decoder_settings, iter_luma, pass_decoder_threads, probe


#: Per-frame signals, in this order in the pass's array.
SIGNAL_NAMES = [
    "changed_px", "diff_mean_dn", "motion_x_px", "motion_y_px", "motion_sd_x_px", "motion_sd_y_px", "frame_luma_dn",
    "animal_area_px", "animal_x_px", "animal_y_px", "animal_angle_deg", "shape_change_px", "silhouette_change_px",
]
N_SIGNALS = len(SIGNAL_NAMES)
#: Version of the signal computation; raise it whenever a change alters the numbers, so that
#: signals cached by an earlier version are computed again.
SIGNALS_VERSION = 9
#: ROIs whose short side is at least twice this are measured at half resolution.
HALF_RES_MIN_SIDE_PX = 120
#: The animal's silhouette is measured at half the resolution of the pass in ROIs whose short
#: side (at the pass's resolution) is at least twice this (the animal is then still tens of
#: pixels long), for a quarter of the work.
SILHOUETTE_HALF_RES_MIN_SIDE_PX = 60


@dataclass(frozen=True)
class Roi:
    """One animal's compartment: a pixel rectangle ``(x, y, w, h)`` in the frame."""

    animal: str
    x: int
    y: int
    w: int
    h: int

    @property
    def area_px(self) -> int:
        return self.w * self.h


#: Default time between the frames differenced: one frame at 25 frames/s (see ``SignalParams``).
DEFAULT_LAG_S = 0.04


@dataclass(frozen=True)
class SignalParams:
    """Settings of the decoding pass.

    Attributes
    ----------
    noise_k : float
        A pixel counts as changed when its frame-to-frame luma difference exceeds
        ``noise_k`` robust standard deviations of the difference noise measured in the video.
    min_cutoff_dn : float
        Lower bound of that cut-off in luma levels (digital numbers); compressed video often
        has no measurable noise in static areas.
    calibration_frames : int
        Frames at the start of the video used to measure the noise.
    reservoir_frames : int
        How many down-scaled frames are kept (evenly spread over the video, whatever its
        length) to estimate each animal's appearance and size.
    diff_lag_s : float
        Time between the two frames compared, rounded to whole frames, at least one (0 means
        consecutive frames, as DBscorer and ezTrack do). The default, 0.04 s, is one frame at
        25 frames/s, the rate the scorers' defaults were fitted at: consecutive frames up to
        37 frames/s, every other frame at 50 or 60, so the motion index, and with it the
        threshold and the classifier, mean the same movement whatever the camera's rate (a
        60-frames/s camera compared frame to frame sees 2.4 times less movement per
        difference, and the scorers then over-call immobility). Short lags separate active
        movement from slow settling, drift and water ripples best (FST/TST); for locomotion in
        an open field a lag of ~0.2 s tracks speed more closely and spans the duplicated
        frames some cameras insert.
    silhouette_interval_s : float
        How often the animal's silhouette (area, centroid, orientation, shape change) is
        measured.
    classifier_measures : bool
        Whether the measures only a trained classifier reads are taken: the silhouette and
        the centroid and spread of the changed pixels (``motion_x_px`` ... ``motion_sd_y_px``
        and the silhouette columns stay NaN otherwise). The threshold scorer reads neither,
        and scoring with it leaves them out: two thirds of the per-frame work.
    """

    noise_k: float = 4.0
    min_cutoff_dn: float = 10.0
    calibration_frames: int = 50
    reservoir_frames: int = 16
    diff_lag_s: float = DEFAULT_LAG_S
    silhouette_interval_s: float = 0.2
    classifier_measures: bool = True

    def lag_frames(self, fps: float) -> int:
        """Frames between the two frames that are differenced (at least 1)."""
        return max(1, int(round(self.diff_lag_s * fps)))

    def silhouette_frames(self, fps: float) -> int:
        """Frames between two silhouette measurements (at least 1)."""
        return max(1, int(round(self.silhouette_interval_s * fps)))


@dataclass(frozen=True)
class MotionSignals:
    """The result of the decoding pass over one video.

    Attributes
    ----------
    video : Path
        The video file.
    fps : float
        Frame rate used for timing.
    n_frames : int
        Frames actually decoded (at the constant rate: see ``filled_frames``).
    n_frames_claimed : int
        Frames the file header claims (0 if unknown).
    rois : tuple of Roi
    frames : pandas.DataFrame
        One row per frame and ROI: ``animal, frame, changed_px, diff_mean_dn, motion_x_px,
        motion_y_px, motion_sd_x_px, motion_sd_y_px, frame_luma_dn, animal_area_px, animal_x_px,
        animal_y_px, animal_angle_deg, shape_change_px, silhouette_change_px``. Frame ``i`` is
        compared with frame ``i - lag`` (``params.diff_lag_s``); the first ``lag`` frames hold
        NaN. Changed pixels and mean difference are measured on every frame; the position and
        spread of the change, the brightness and the animal's silhouette (area, centroid,
        orientation) every ``silhouette_interval_s`` (NaN between),
        and ``shape_change_px`` is how much it changed since the previous measurement beyond
        rigid drift or swing (see :func:`behavscore.shape.nonrigid_change_px`).
        Positions are relative to the ROI's top-left corner.
    per_roi : pandas.DataFrame
        One row per ROI: ``animal, roi_x, roi_y, roi_w, roi_h, noise_sd_dn, cutoff_dn,
        flicker_dn, animal_area_px, animal_found`` (appearance of an animal-like blob).
        ``flicker_dn`` is the same in every row: the largest brightness step of the lights
        between frames (:data:`FLICKER_DN`) over ``calibration_frames`` consecutive frames
        (where it is above :data:`FLICKER_DN`, frames were matched in brightness, line by line,
        to the frame they are compared with; see :mod:`behavscore.lights`).
    params : SignalParams
    places_side_by_side : int or None
        When the whole frame was measured as one animal: in how many separate places side by side
        things moved in the first minute, as :func:`behavscore.compartments.places_side_by_side`
        counts them (2 or more: the frame seems to hold several animals). None when ROIs were
        given, or for signals cached before this was measured.
    filled_frames : tuple of int
        Frames that repeat the one before because the file's own frame times left a gap there
        at the constant rate (:func:`behavscore.video.at_constant_rate`); empty for most files.
    frames_dropped : int
        Frames of the file left out to hold the constant rate (0 for most files).
    gaps_closed : int
        Gaps in the file's frame times longer than :data:`behavscore.video.MAX_GAP_S` closed
        up rather than filled (0 for most files).
    """

    video: Path
    fps: float
    n_frames: int
    n_frames_claimed: int
    rois: tuple[Roi, ...]
    frames: pd.DataFrame
    per_roi: pd.DataFrame
    params: SignalParams = field(default_factory=SignalParams)
    places_side_by_side: int | None = None
    filled_frames: tuple[int, ...] = ()
    frames_dropped: int = 0
    gaps_closed: int = 0

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.fps


def whole_frame_roi(info: VideoInfo, animal: str) -> Roi:
    """The ROI covering the whole frame."""
    return Roi(animal, 0, 0, info.width_px, info.height_px)


def check_rois(rois: Sequence[Roi], info: VideoInfo) -> None:
    """Raise VideoError when an ROI is empty or not inside the frame."""
    seen: set[str] = set()
    for r in rois:
        if r.animal in seen:
            raise VideoError(f"{info.path}: animal id {r.animal!r} is given twice; each ROI needs its own id")
        seen.add(r.animal)
        if r.w <= 1 or r.h <= 1:
            raise VideoError(f"{info.path}: ROI of {r.animal!r} is empty ({r.w}x{r.h} px)")
        if r.x < 0 or r.y < 0 or r.x + r.w > info.width_px or r.y + r.h > info.height_px:
            raise VideoError(
                f"{info.path}: ROI of {r.animal!r} (x={r.x}, y={r.y}, w={r.w}, h={r.h}) lies outside "
                f"the {info.width_px}x{info.height_px} frame"
            )


def _scaled(r: Roi, f: float, size: tuple[int, int]) -> Roi:
    """The ROI in a frame scaled by ``f`` to ``size`` (width, height), clipped to that frame."""
    if f == 1.0:
        return r
    x0, y0 = int(np.floor(r.x * f)), int(np.floor(r.y * f))
    x1, y1 = min(int(np.ceil((r.x + r.w) * f)), size[0]), min(int(np.ceil((r.y + r.h) * f)), size[1])
    return Roi(r.animal, x0, y0, x1 - x0, y1 - y0)


class _Axis:
    """Pixel positions (full-resolution px) along one side of an ROI, and their squares."""

    def __init__(self, n: int, f: float):
        self.pos = np.arange(n, dtype=np.float64) / f
        self.pos2 = self.pos**2


def _spread(mask: np.ndarray, changed: int, xs: _Axis, ys: _Axis) -> tuple[float, float, float, float]:
    """Centroid and SD (x, y) of the changed pixels of a 0/1 mask, from its projections."""
    cx = cv2.reduce(mask, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
    cy = cv2.reduce(mask, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
    mx, my = xs.pos @ cx / changed, ys.pos @ cy / changed
    sx = np.sqrt(max(xs.pos2 @ cx / changed - mx * mx, 0.0))
    sy = np.sqrt(max(ys.pos2 @ cy / changed - my * my, 0.0))
    return mx, my, sx, sy


def halve(img: np.ndarray) -> np.ndarray:
    """An image at half resolution (2x2 pixel blocks averaged; an odd last row or column dropped)."""
    h, w = img.shape[0] // 2, img.shape[1] // 2
    return cv2.resize(img[: 2 * h, : 2 * w], (w, h), interpolation=cv2.INTER_AREA)


def silhouette_scale(roi: Roi) -> float:
    """Resolution of the silhouette relative to the pass's, for an ROI at the pass's resolution."""
    return 0.5 if min(roi.w, roi.h) >= 2 * SILHOUETTE_HALF_RES_MIN_SIDE_PX else 1.0


def _calibrate_late(
    frame: np.ndarray, waiting: dict[int, list[tuple[np.ndarray, float]]], started: set[int], n_crops: int,
    crops: list[tuple[slice, slice]], g: list[float], f: float, measured: list[tuple],
) -> None:
    """Add this frame's crop to the sample of each uncalibrated ROI in which something has moved
    (``started``); calibrate a full sample, and on success move the ROI from ``waiting`` to
    ``measured`` (else start a new sample)."""
    luma_dn = cv2.mean(frame)[0]
    for j in [j for j in waiting if j in started]:
        crop = frame[crops[j]]
        sample = waiting[j]
        sample.append((halve(crop) if g[j] < 1 else crop.copy(), luma_dn))
        if len(sample) < n_crops:
            continue
        sil = calibrate_silhouette([c for c, _ in sample])
        if sil is None:
            sample.clear()
            continue
        measured.append((j, crops[j], sil, g[j] < 1, f * g[j], float(np.mean([luma for _, luma in sample]))))
        del waiting[j]


def _silhouette_step(crop: np.ndarray, sil: Silhouette, last: tuple | None, out: np.ndarray, f: float, gain: float) -> tuple | None:
    """Measure the animal's silhouette in one ROI crop into ``out`` (columns 7-12).

    Returns the ``(mask, moments)`` to compare the next measurement with (None when no
    animal-coloured region is seen). Areas are in full-resolution pixels (``f`` = scale);
    ``gain`` is the brightness of the frame relative to the calibration frames.
    """
    found = sil.cut(crop, gain)
    mom = silhouette_moments(found[1]) if found else None
    if mom is None:
        return None
    mask, px_per_px = found[0], 1.0 / (f * f)
    out[7:11] = mom.area_px * px_per_px, mom.x_px / f, mom.y_px / f, np.degrees(mom.angle_rad)
    if last is not None:  # compared with the silhouette one interval earlier
        out[11] = nonrigid_change_px(last[0], last[1], mask, mom) * px_per_px
        out[12] = cv2.countNonZero(cv2.bitwise_xor(last[0], mask)) * px_per_px
    return mask, mom


#: Decoded frames that may wait for the pass, in bytes: enough for the decoder to keep going
#: while the pass calibrates on the first frames.
PREFETCH_BYTES = 16 * 2**20


def prefetch_frames(info: VideoInfo) -> int:
    """Frames decoded ahead of the pass (``PREFETCH_BYTES`` of luma planes, 8 to 256 frames)."""
    return int(np.clip(PREFETCH_BYTES // max(1, info.width_px * info.height_px), 8, 256))


def n_hint(info: VideoInfo) -> int:
    """Rows to pre-allocate: the header's frame count (grown if the file holds more)."""
    return max(info.n_frames_claimed, 16) + 1


#: An ROI whose silhouette the first frames could not calibrate (no animal, or nothing that
#: moved) is calibrated again from the first frame in which this share of it changes: the
#: mouse being put in, where the recording began with the apparatus empty (synthetic: the
#: ripples of an empty cylinder change up to 0.6 % of the ROI per frame, a mouse put in 4-7 %).
LATE_CALIBRATION_MOTION_SHARE = 0.02


def _noise_sd(diffs: Iterable[np.ndarray]) -> float:
    """Robust SD of frame-difference noise: 1.4826 x median |difference|, median over frames."""
    values = [1.4826 * median_u8(d) for d in diffs]
    return float(np.median(values)) if values else 0.0


#: Largest total size of the frames a reservoir keeps at full size before down-scaling them.
RESERVOIR_FULL_SIZE_BYTES = 32 * 2**20


class _Reservoir:
    """Down-scaled frames evenly spread over a stream of unknown length, in bounded memory.

    Frame ``i`` is kept when ``i`` is a multiple of the stride, which doubles (dropping every
    other kept frame) whenever ``2 * size`` frames are kept: at the end the reservoir holds
    the multiples of its final stride. Most frames offered are dropped again before the end;
    when they are small enough (``RESERVOIR_FULL_SIZE_BYTES`` for all kept at once) they are
    kept as given and down-scaled only if still kept at the end, the same pixels for less work.
    """

    def __init__(self, size: int, scale: float):
        self.size, self.scale = size, scale
        self.stride, self.kept, self.index = 1, [], []
        self.lazy: bool | None = None

    def small(self, frame: np.ndarray) -> np.ndarray:
        """A frame down-scaled by ``scale``."""
        return frame if self.scale == 1 else cv2.resize(frame, None, fx=self.scale, fy=self.scale, interpolation=cv2.INTER_AREA)

    def as_small(self, kept: np.ndarray) -> np.ndarray:
        """A kept frame, down-scaled by ``scale``."""
        return self.small(kept) if self.lazy else kept

    def offer(self, i: int, frame: np.ndarray) -> bool:
        """Offer frame ``i`` (frames are offered in order); True when it is kept."""
        if i % self.stride:
            return False
        if self.lazy is None:
            self.lazy = 2 * self.size * frame.nbytes <= RESERVOIR_FULL_SIZE_BYTES
        self.kept.append(frame if self.lazy else self.small(frame))
        self.index.append(i)
        if len(self.kept) >= 2 * self.size:
            self.kept, self.index, self.stride = self.kept[::2], self.index[::2], self.stride * 2
        return True

    @staticmethod
    def final_stride(n_frames: int, size: int) -> int:
        """The stride of a reservoir of ``size`` once ``n_frames`` frames were offered."""
        stride, kept, i = 1, 0, 0
        while i < n_frames:
            kept += 1
            if kept >= 2 * size:
                kept, stride = size, stride * 2
            i = (i // stride + 1) * stride
        return stride


def frames_table(rois: Sequence[Roi], data: np.ndarray) -> pd.DataFrame:
    """The per-frame signal table of :class:`MotionSignals` from a (frames, ROIs, signals) array."""
    n, k = data.shape[0], len(rois)
    table = pd.DataFrame(data.transpose(1, 0, 2).reshape(k * n, data.shape[2]), columns=list(SIGNAL_NAMES))
    table.insert(0, "frame", np.tile(np.arange(n), k))
    table.insert(0, "animal", pd.array(np.repeat(np.array([r.animal for r in rois], dtype=object), n), dtype="str"))
    return table


def compute_signals(
    path: str | os.PathLike,
    rois: Sequence[Roi] | None = None,
    params: SignalParams = SignalParams(),
    info: VideoInfo | None = None,
) -> MotionSignals:
    """Decode a video once and compute every per-frame motion signal for each ROI.

    Parameters
    ----------
    path : path-like
        Video file.
    rois : sequence of Roi, optional
        Compartments to measure; ``None`` = the whole frame, animal id = the file stem.
    params : SignalParams
        Settings of the pass.
    info : VideoInfo, optional
        Result of :func:`behavscore.video.probe`.

    Returns
    -------
    MotionSignals

    Notes
    -----
    Changed pixels are those whose absolute luma difference to the frame ``diff_lag_s`` earlier exceeds a
    cut-off calibrated from the first ``calibration_frames`` frames of the video itself
    (``max(min_cutoff_dn, noise_k * noise_sd)``), so no empty-arena recording is needed.
    Where the lights flicker (the mean luma of the rows of the ROIs, or of their columns in a
    clip the header turns by a quarter, changes from frame to frame by more than
    :data:`FLICKER_DN` over the last ``calibration_frames`` frames; over all of them for the
    calibration frames and the noise), each row (column) of the earlier frame of a pair is first
    scaled to its mean luma in the later one, so that a brightness step, or the bands a rolling
    shutter sees under lamps on the mains, does not light up the background; steady stretches
    are differenced as they are (see :mod:`behavscore.lights`).
    Only the calibration frames and a fixed-size reservoir of down-scaled frames are held in
    memory, whatever the video's length.

    Timing is by frame index at the header's frame rate. A file whose frame times are not at
    that rate (a variable frame rate, as phones record in dim light; frames lost; a header rate
    that is not the file's) is first set to it by the frames' own times, as ``ffmpeg
    -fps_mode cfr`` would (:func:`behavscore.video.at_constant_rate`): ``filled_frames`` and
    ``frames_dropped`` say what was filled in and left out.
    """
    info = info or probe(path)
    rois = tuple(rois) if rois else (whole_frame_roi(info, info.path.stem),)
    check_rois(rois, info)
    times_ms: list[float] = []  # each frame's time as the file states it
    _, background = decoder_settings()
    prefetch = prefetch_frames(info) if background else 0  # 0: decode in this thread
    stream = iter_luma(info.path, info, prefetch=prefetch, threads=pass_decoder_threads(), times_ms=times_ms)

    retiming = Retiming()
    try:
        return _pass(info, rois, params, at_constant_rate(stream, times_ms, info.fps, retiming), retiming)
    finally:
        stream.close()  # stops the decoding thread at once if the pass ends early


def _pass(
    info: VideoInfo, rois: tuple[Roi, ...], params: SignalParams, stream: Iterator[np.ndarray], retiming: Retiming
) -> MotionSignals:
    """The body of :func:`compute_signals`: calibrate on the first frames, then measure every frame."""
    calibration: list[np.ndarray] = []
    for frame in stream:
        calibration.append(frame)
        if len(calibration) >= params.calibration_frames:
            break
    if len(calibration) < MIN_FRAMES:
        raise VideoError(f"{info.path}: only {len(calibration)} frame could be decoded; at least {MIN_FRAMES} are needed")

    # Large frames are measured at half resolution: 4x less work, same motion (counts are
    # reported in full-resolution pixels).
    half = min(min(r.w, r.h) for r in rois) >= 2 * HALF_RES_MIN_SIDE_PX
    f = 0.5 if half else 1.0
    half_size = (info.width_px // 2, info.height_px // 2)
    sr = [_scaled(r, f, half_size) for r in rois]
    cal = [cv2.resize(c, half_size, interpolation=cv2.INTER_AREA) for c in calibration] if half else calibration
    # Only the rectangle that holds every ROI is kept of past frames; each ROI is a view into
    # it (``inner``) and into the frame (``crops``).
    ux, uy = min(r.x for r in sr), min(r.y for r in sr)
    union = (slice(uy, max(r.y + r.h for r in sr)), slice(ux, max(r.x + r.w for r in sr)))
    inner = [(slice(r.y - uy, r.y - uy + r.h), slice(r.x - ux, r.x - ux + r.w)) for r in sr]
    crops = [(slice(r.y, r.y + r.h), slice(r.x, r.x + r.w)) for r in sr]
    # Brightness steps between consecutive frames along the lines a rolling shutter reads, the
    # last calibration_frames - 1 of them.
    axis = sensor_rows_axis(info.turned_deg)
    cal_lines = [line_means(c[union], axis) for c in cal]
    steps = BrightnessSteps([brightness_step_dn(b, a) for a, b in zip(cal_lines[:-1], cal_lines[1:])], len(cal) - 1)
    flicker_dn = steps.rms()
    cal_flickers = flicker_dn > FLICKER_DN
    pairs = [
        (match_brightness(a[union], la, lb, axis) if cal_flickers else a[union], b[union])
        for a, b, la, lb in zip(cal[:-1], cal[1:], cal_lines[:-1], cal_lines[1:])
    ]
    noise_sd = [_noise_sd(cv2.absdiff(b[box], a[box]) for a, b in pairs) for box in inner]
    del pairs
    cutoffs = [max(params.min_cutoff_dn, params.noise_k * sd) for sd in noise_sd]
    g = [silhouette_scale(r) for r in sr]
    cal_step = max(1, len(cal) // 5)
    sampled_cal = cal[::cal_step]
    silhouettes = [
        calibrate_silhouette([(halve if g[j] < 1 else np.asarray)(c[r.y : r.y + r.h, r.x : r.x + r.w]) for c in sampled_cal])
        if params.classifier_measures else None
        for j, r in enumerate(sr)
    ]
    # The silhouette threshold follows the lights: the frame's mean luma relative to these frames'.
    cal_luma_dn = float(np.mean([cv2.mean(c)[0] for c in sampled_cal]))
    del cal
    px_per_px = 1.0 / (f * f)
    reservoir = _Reservoir(params.reservoir_frames, min(1.0, 320.0 / (f * max(info.width_px, info.height_px))))
    boxes = animal_boxes(sr, reservoir.scale)
    k = len(rois)
    rows = np.full((n_hint(info), k, N_SIGNALS), np.nan)
    xs = [_Axis(r.w, f) for r in sr]
    ys = [_Axis(r.h, f) for r in sr]
    lag = params.lag_frames(info.fps)
    every = params.silhouette_frames(info.fps)
    history: collections.deque[np.ndarray] = collections.deque(maxlen=lag)
    history_lines: collections.deque[np.ndarray] = collections.deque(maxlen=lag)
    n_cal = len(cal_lines)
    last_shape: list[tuple[np.ndarray, object] | None] = [None] * k
    measured = [(j, crops[j], sil, g[j] < 1, f * g[j], cal_luma_dn) for j, sil in enumerate(silhouettes) if sil is not None]
    # An ROI whose animal the first frames do not show moving (the camera started before the
    # mouse was put in) is calibrated on frames sampled the same way once something moves in it.
    uncalibrated: dict[int, list[tuple[np.ndarray, float]]] = {j: [] for j, sil in enumerate(silhouettes) if sil is None and params.classifier_measures}
    started: set[int] = set()
    n_px = [r.w * r.h for r in sr]
    per_roi_cut = [(j, inner[j], cutoffs[j], n_px[j], xs[j], ys[j]) for j in range(k)]
    absdiff, threshold, binary, count, total = cv2.absdiff, cv2.threshold, cv2.THRESH_BINARY, cv2.countNonZero, cv2.sumElems
    # The frames the reservoir will still hold at the end (if the header's frame count is
    # right) are searched for the animals as they come, by threads beside the pass.
    early_stride = _Reservoir.final_stride(info.n_frames_claimed, params.reservoir_frames) if info.n_frames_claimed else 0
    early: dict[int, concurrent.futures.Future] = {}

    def search(small: np.ndarray) -> list[tuple[np.ndarray, Blobs] | None]:
        """Each ROI's crop of a down-scaled kept frame and its animal candidates."""
        return [(small[box], find_blobs(small[box])) if box is not None else None for box in boxes]

    # A whole frame measured as one animal may hold several side by side: the first minute is
    # sampled to count the places where things move, counted beside the pass once sampled.
    stretch = StretchSample(info.n_frames_claimed, info.fps) if rois == (whole_frame_roi(info, rois[0].animal),) else None
    placing: concurrent.futures.Future | None = None

    # As many threads as OpenCV may use (cv2.setNumThreads; one in batch workers).
    pool = concurrent.futures.ThreadPoolExecutor(max(1, cv2.getNumThreads()), thread_name_prefix="animal search")
    try:
        n = 0
        for frame in itertools.chain(calibration, stream):
            if half:
                frame = cv2.resize(frame, half_size, interpolation=cv2.INTER_AREA)
            if placing is None and stretch is not None and stretch.offer(n, frame):
                placing = pool.submit(places_side_by_side, stretch.frames)
            if reservoir.offer(n, frame) and early_stride and n % early_stride == 0:
                early[n] = pool.submit(lambda fr: search(reservoir.small(fr)), frame)
            if n >= rows.shape[0]:
                rows = np.concatenate([rows, np.full_like(rows, np.nan)])
            out = rows[n]
            # Positions, silhouettes and brightness every silhouette_interval_s; change every frame.
            sampled = n % every == 0
            spread = sampled and params.classifier_measures
            if sampled:
                out[:, 6] = cv2.mean(frame)[0]
            part = frame[union]
            part_lines = line_means(part, axis)
            flickers = cal_flickers
            if n >= n_cal:  # past the calibration frames: the steps of the last ones decide
                steps.add(brightness_step_dn(part_lines, history_lines[-1]))
                level_dn = steps.rms()
                flicker_dn, flickers = max(flicker_dn, level_dn), level_dn > FLICKER_DN
            if len(history) == lag:
                before = match_brightness(history[0], history_lines[0], part_lines, axis) if flickers else history[0]
                # Each ROI is differenced on its own: OpenCV is fastest on contiguous arrays.
                for j, box, cutoff, area, x_axis, y_axis in per_roi_cut:
                    d = absdiff(part[box], before[box])
                    mask = threshold(d, cutoff, 1, binary)[1]
                    changed = count(mask)
                    row = out[j]
                    row[0] = changed * px_per_px
                    row[1] = total(d)[0] / area
                    if changed and spread:
                        row[2:6] = _spread(mask, changed, x_axis, y_axis)
            if uncalibrated and n >= n_cal:
                started.update(j for j in uncalibrated if out[j, 0] >= LATE_CALIBRATION_MOTION_SHARE * n_px[j] * px_per_px)
                if started and (n - n_cal) % cal_step == 0:
                    _calibrate_late(frame, uncalibrated, started, len(sampled_cal), crops, g, f, measured)
            if sampled:
                for j, box, sil, small, scale, luma_dn in measured:
                    gain = out[0, 6] / luma_dn if luma_dn > 0 else 1.0
                    last_shape[j] = _silhouette_step(halve(frame[box]) if small else frame[box], sil, last_shape[j], out[j], scale, gain)
            history.append(part)
            history_lines.append(part_lines)
            n += 1
            if n == len(calibration):
                calibration.clear()  # release the buffered frames once they are processed
        # The decoder has finished: the kept frames not searched yet are searched on all threads.
        pending = [
            early[i] if i in early else pool.submit(lambda fr: search(reservoir.as_small(fr)), kept)
            for i, kept in zip(reservoir.index, reservoir.kept)
        ]
        if stretch is not None and placing is None:  # a video shorter than its header says
            placing = pool.submit(places_side_by_side, stretch.frames)
        searched = [job.result() for job in pending]
        places = placing.result() if placing is not None else None
        found = [
            animal_appearance([s[j][0] for s in searched], [s[j][1] for s in searched], reservoir.scale)
            if boxes[j] is not None else animal_appearance([], [], reservoir.scale)
            for j in range(k)
        ]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)

    per_roi = [
        {
            "animal": r.animal, "roi_x": r.x, "roi_y": r.y, "roi_w": r.w, "roi_h": r.h,
            "noise_sd_dn": noise_sd[j], "cutoff_dn": cutoffs[j], "flicker_dn": flicker_dn,
            "animal_area_px": found[j].area_px * px_per_px, "animal_found": found[j].found,
        }
        for j, r in enumerate(rois)
    ]
    return MotionSignals(
        video=info.path, fps=info.fps, n_frames=n, n_frames_claimed=info.n_frames_claimed,
        rois=rois, frames=frames_table(rois, rows[:n]), per_roi=pd.DataFrame(per_roi), params=params,
        places_side_by_side=places, filled_frames=tuple(retiming.filled), frames_dropped=retiming.dropped,
        gaps_closed=retiming.closed_gaps,
    )
