"""Annotated copy of a video for spot checks: ROI boxes, per-second labels and running immobility."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import cv2
import numpy as np
import pandas as pd

from .summary import in_window_mask
from .video import Retiming, VideoError, at_constant_rate, probe

#: Box and text colour (BGR) of each per-second label.
LABEL_COLOURS_BGR: dict[str, tuple[int, int, int]] = {
    "immobile": (0, 0, 255),  # red
    "mobile": (0, 200, 0),  # green
    "swimming": (255, 140, 0),  # blue
    "climbing": (220, 0, 220),  # magenta
}
#: Colour (BGR) of a second without a label (no animal, outside the scored seconds) or an unknown label.
NO_LABEL_COLOUR_BGR: tuple[int, int, int] = (160, 160, 160)
#: Colour (BGR) of the plain text (animal name, times).
TEXT_COLOUR_BGR: tuple[int, int, int] = (255, 255, 255)
#: Colour (BGR) of the panels behind text.
PANEL_COLOUR_BGR: tuple[int, int, int] = (0, 0, 0)
#: Colour (BGR) of the mark of a second the rater labels differently.
DIFFERS_COLOUR_BGR: tuple[int, int, int] = (0, 230, 255)  # yellow
FOURCC = "mp4v"


@dataclass(frozen=True)
class AnimalState:
    """What is drawn for one animal on one frame.

    Attributes
    ----------
    animal : str
        Animal id.
    roi : tuple of int
        ``(x, y, w, h)`` pixel rectangle of the animal's compartment.
    label : str or None
        Label of the current second (None when the second has no label).
    immobile_s : float
        Immobile seconds inside the scored window, up to and including the current second.
    rater_label : str or None
        A rater's label of the current second, drawn beside the scorer's (None: no rater
        drawn, or the rater labelled nothing).
    """

    animal: str
    roi: tuple[int, int, int, int]
    label: str | None
    immobile_s: float
    rater_label: str | None = None


def labels_differ(label: str | None, rater_label: str | None) -> bool:
    """Whether a rater's label of a second differs from the scorer's. A 2-class label set beside
    a 3-class one (``mobile`` beside ``swimming``/``climbing``) is compared as immobile or not."""
    if label is None or rater_label is None:
        return False
    if "mobile" in (label, rater_label):
        return (label == "immobile") != (rater_label == "immobile")
    return label != rater_label


def label_colour_bgr(label: str | None) -> tuple[int, int, int]:
    """BGR colour of a label; grey for no label or a label without a colour of its own."""
    if label is None or (isinstance(label, float) and math.isnan(label)):
        return NO_LABEL_COLOUR_BGR
    return LABEL_COLOURS_BGR.get(str(label), NO_LABEL_COLOUR_BGR)


def running_immobility_s(seconds: pd.DataFrame, window_s: tuple[float, float]) -> pd.DataFrame:
    """Cumulative immobile seconds inside the scored window, per animal and second.

    Parameters
    ----------
    seconds : pandas.DataFrame
        Per-second labels with at least ``animal, second, label`` (the ``seconds.csv`` contract);
        a missing label (no animal) is not immobile.
    window_s : (float, float)
        Scored window ``(start_s, end_s)``.

    Returns
    -------
    pandas.DataFrame
        ``animal, second, label, in_window, immobile_s``, sorted by animal (in order of first
        appearance) and second. ``immobile_s`` counts the immobile seconds ``s'`` with
        ``s' <= second`` whose bin lies inside the window: 0 before the window, the animal's
        ``immobility_s`` of ``summary.csv`` from the window's last second on.

    Notes
    -----
    The current second is included, so the count on the last frame of the window equals the
    summary's ``immobility_s``.
    """
    missing = [c for c in ("animal", "second", "label") if c not in seconds.columns]
    if missing:
        raise ValueError(f"per-second table lacks column(s) {', '.join(missing)}")
    order = {a: i for i, a in enumerate(pd.unique(seconds["animal"].astype(str)))}
    out = seconds[["animal", "second", "label"]].copy()
    out["animal"] = out["animal"].astype(str)
    out["second"] = out["second"].astype(np.int64)
    out["label"] = [None if pd.isna(v) else str(v) for v in out["label"]]
    out = out.sort_values(["animal", "second"], key=lambda c: c.map(order) if c.name == "animal" else c, kind="stable")
    out["in_window"] = in_window_mask(out["second"], window_s)
    immobile = (out["label"] == "immobile") & out["in_window"]
    out["immobile_s"] = immobile.astype(float).groupby(out["animal"], sort=False).cumsum()
    return out.reset_index(drop=True)


class _AnimalTimeline:
    """Label and running count of one animal at any second (carried forward over gaps)."""

    def __init__(self, rows: pd.DataFrame) -> None:
        self.seconds = rows["second"].to_numpy(np.int64)
        self.labels = [None if pd.isna(v) else str(v) for v in rows["label"]]
        self.immobile_s = rows["immobile_s"].to_numpy(float)

    def at(self, second: int) -> tuple[str | None, float]:
        i = int(np.searchsorted(self.seconds, second, side="right")) - 1
        if i < 0:
            return None, 0.0
        label = self.labels[i] if self.seconds[i] == second else None
        return label, float(self.immobile_s[i])


def _timelines(running: pd.DataFrame) -> dict[str, _AnimalTimeline]:
    return {str(a): _AnimalTimeline(rows) for a, rows in running.groupby("animal", sort=False)}


def states_at(running: pd.DataFrame, rois: Sequence[tuple], second: int) -> list[AnimalState]:
    """Each animal's state in one second.

    Parameters
    ----------
    running : pandas.DataFrame
        Output of :func:`running_immobility_s`.
    rois : sequence of (animal, x, y, w, h)
        Animals to draw.
    second : int
        0-based second of the video.

    Returns
    -------
    list of AnimalState
        One per ROI, in the order given. A second missing from the table has no label and keeps
        the running count of the last second before it.
    """
    lines = _timelines(running)
    return _states(lines, rois, second)


def _states(lines: dict[str, _AnimalTimeline], rois: Sequence[tuple], second: int,
            rater: dict[str, _AnimalTimeline] | None = None) -> list[AnimalState]:
    states = []
    for animal, x, y, w, h in rois:
        line = lines.get(str(animal))
        label, immobile_s = line.at(second) if line is not None else (None, 0.0)
        rater_line = (rater or {}).get(str(animal))
        rater_label = rater_line.at(second)[0] if rater_line is not None else None
        states.append(AnimalState(str(animal), (int(x), int(y), int(w), int(h)), label, immobile_s, rater_label))
    return states


def border_px(height_px: int) -> int:
    """Thickness of the ROI box, in pixels, for a frame of this height."""
    return max(4, round(height_px / 120))


def _font_scale(text: str, max_width_px: int, height_px: int) -> float:
    scale = max(0.35, height_px / 600)
    while scale > 0.3:
        (w, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        if w <= max_width_px:
            break
        scale -= 0.05
    return scale


def _text_block(frame: np.ndarray, lines: Sequence[tuple[str, tuple[int, int, int]]], x: int, y: int, max_width_px: int, bottom: bool = False) -> None:
    """Lines of text on a dark panel with its top-left corner at (x, y) (bottom-left with ``bottom``)."""
    height_px = frame.shape[0]
    scale = min(_font_scale(t, max_width_px - 4, height_px) for t, _ in lines)
    thickness = 1 if scale < 0.8 else 2
    sizes = [cv2.getTextSize(t, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness) for t, _ in lines]
    line_h = max(h + b for (_, h), b in sizes) + 3
    width = min(max(w for (w, _), _ in sizes) + 4, max_width_px)
    total_h = line_h * len(lines) + 2
    top = y - total_h if bottom else y
    cv2.rectangle(frame, (x, top), (x + width, top + total_h), PANEL_COLOUR_BGR, thickness=-1)
    for k, ((text, colour), ((_, h), b)) in enumerate(zip(lines, sizes)):
        cv2.putText(frame, text, (x + 2, top + (k + 1) * line_h - b), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thickness, cv2.LINE_AA)


def draw_frame(frame_bgr: np.ndarray, t_s: float, states: Sequence[AnimalState], window_s: tuple[float, float],
               rater: str | None = None) -> np.ndarray:
    """Draw ROI boxes, labels, running immobility, time and window status on a copy of a frame.

    Parameters
    ----------
    frame_bgr : numpy.ndarray
        ``(height_px, width_px, 3)`` uint8 BGR frame (left unchanged).
    t_s : float
        Time of the frame from the start of the video, seconds.
    states : sequence of AnimalState
        What to draw for each animal (see :func:`states_at`).
    window_s : (float, float)
        Scored window ``(start_s, end_s)``.
    rater : str, optional
        Name of the rater whose labels (``AnimalState.rater_label``) are drawn too.

    Returns
    -------
    numpy.ndarray
        The annotated frame. Each ROI gets a box, inside its rectangle, in its label's colour
        (:data:`LABEL_COLOURS_BGR`), and a panel at its top-left corner with the animal, the
        label and the running immobility; with a rater, a line with the rater's label in its
        colour, marked ``DIFFERS`` in yellow on a second the two label differently
        (:func:`labels_differ`). The frame's
        bottom-left corner shows the time and whether the current second is scored.
    """
    if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3:
        raise ValueError(f"expected a (height, width, 3) BGR frame, got shape {frame_bgr.shape}")
    frame = frame_bgr.copy()
    height_px, width_px = frame.shape[:2]
    t = border_px(height_px)
    for s in states:
        x, y, w, h = s.roi
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, width_px), min(y + h, height_px)
        if x1 <= x0 or y1 <= y0:
            continue
        colour = label_colour_bgr(s.label)
        frame[y0 : min(y0 + t, y1), x0:x1] = colour
        frame[max(y1 - t, y0) : y1, x0:x1] = colour
        frame[y0:y1, x0 : min(x0 + t, x1)] = colour
        frame[y0:y1, max(x1 - t, x0) : x1] = colour
        label = s.label if s.label is not None else "none"
        lines = [(f"{s.animal}: {label}", colour), (f"immobile {s.immobile_s:g} s", TEXT_COLOUR_BGR)]
        if rater is not None:
            lines.append((f"{rater}: {s.rater_label if s.rater_label is not None else 'none'}", label_colour_bgr(s.rater_label)))
            if labels_differ(s.label, s.rater_label):
                lines.append(("DIFFERS", DIFFERS_COLOUR_BGR))
        _text_block(frame, lines, x0 + t, y0 + t, max(x1 - x0 - 2 * t, 8))
    second = int(math.floor(t_s + 1e-9))
    scored = bool(in_window_mask(np.array([second]), window_s)[0])
    status = "scored" if scored else "not scored"
    text = f"t {t_s:6.1f} s | {status} (window {window_s[0]:g}-{window_s[1]:g} s)"
    _text_block(frame, [(text, TEXT_COLOUR_BGR)], 0, height_px, width_px, bottom=True)
    return frame


def frame_span(fps: float, start_s: float | None = None, end_s: float | None = None) -> tuple[int, int | None]:
    """First frame and stop frame (exclusive; None = to the end) of the frames with ``start_s <= t < end_s``."""
    start_s = 0.0 if start_s is None else float(start_s)
    if start_s < 0:
        raise ValueError(f"segment start {start_s:g} s is negative")
    if end_s is not None and end_s <= start_s:
        raise ValueError(f"segment {start_s:g}-{end_s:g} s is empty; the end must be after the start")
    first = math.ceil(start_s * fps - 1e-6)
    stop = None if end_s is None else math.ceil(float(end_s) * fps - 1e-6)
    return first, stop


def legible_scale(height_px: int, min_height_px: int = 240) -> int:
    """Smallest whole enlargement that makes a frame at least ``min_height_px`` tall (1 for most videos)."""
    return max(1, math.ceil(min_height_px / max(height_px, 1)))


def _colour_frames(cap: cv2.VideoCapture, times_ms: list[float], first: int, fps: float) -> Iterator[np.ndarray | None]:
    """Each frame of an open video and its time (appended to ``times_ms``); the frames that
    come before slot ``first - 1`` of the constant rate ``fps`` by their own times (by their
    count where the file gives no times) are only demuxed and decoded, not converted, and
    yielded as None."""
    skip_ms = (first - 1) * 1000.0 / fps
    t0, n = math.nan, 0
    while cap.grab():
        t = cap.get(cv2.CAP_PROP_POS_MSEC)
        times_ms.append(t)
        t0 = t if n == 0 else t0
        early = t - t0 < skip_ms if math.isfinite(t) and math.isfinite(t0) else n < first - 1
        n += 1
        if early:
            yield None
            continue
        ok, frame = cap.retrieve()
        if not ok or frame is None:
            return
        yield frame


def write_overlay(
    video_path: str | os.PathLike,
    seconds: pd.DataFrame,
    rois: Sequence[tuple] | None,
    out_path: str | os.PathLike,
    window_s: tuple[float, float],
    start_s: float | None = None,
    end_s: float | None = None,
    on_frame: Callable[[int], None] | None = None,
    scale: int = 1,
    rater: tuple[str, pd.DataFrame] | None = None,
) -> Path:
    """Write an annotated copy of a video (or of a segment of it) as an mp4.

    Frames are decoded and written one at a time; the video is never held in memory.

    Parameters
    ----------
    video_path : path-like
        The scored video.
    seconds : pandas.DataFrame
        This video's per-second labels (``animal, second, label``, the ``seconds.csv`` contract).
    rois : sequence of (animal, x, y, w, h), or None
        Boxes to draw; None = the whole frame for the single animal of ``seconds``.
    out_path : path-like
        Output ``.mp4`` file (parent folders are created; written under a temporary name and
        renamed when complete).
    window_s : (float, float)
        Scored window ``(start_s, end_s)``: immobility is counted inside it only.
    start_s, end_s : float, optional
        Export only the frames with ``start_s <= t < end_s`` (default: the whole video).
    on_frame : callable, optional
        Called with the index of each frame read (for progress bars).
    scale : int
        Enlarge frames this many times (pixels repeated, nothing smoothed), so the labels of a
        small video stay legible; see :func:`legible_scale`.
    rater : (str, pandas.DataFrame), optional
        A rater's name and per-second labels of this video (``animal, second, label``), drawn
        beside the scorer's so the seconds the two part over can be watched.

    Returns
    -------
    Path
        The written file: same frame rate as the input, frame size times ``scale``, BGR colour,
        ``mp4v``.

    Raises
    ------
    VideoError
        Unreadable video, ROI outside the frame, or no frame in the requested segment.
    ValueError
        ROI animals missing from ``seconds``, or ``seconds`` with several animals but no ROIs.
    """
    info = probe(video_path)
    out_path = Path(out_path)
    if out_path.resolve() == info.path.resolve():
        raise ValueError(f"{out_path}: the output would overwrite the input video; choose another --out")
    animals = list(pd.unique(seconds["animal"].astype(str)))
    if rois is None:
        if len(animals) != 1:
            raise ValueError(f"{info.path.name}: {len(animals)} animals in the per-second table; give each one's ROI")
        rois = [(animals[0], 0, 0, info.width_px, info.height_px)]
    rois = [(str(a), int(x), int(y), int(w), int(h)) for a, x, y, w, h in rois]
    for a, x, y, w, h in rois:
        if w <= 1 or h <= 1 or x < 0 or y < 0 or x + w > info.width_px or y + h > info.height_px:
            raise VideoError(f"{info.path}: ROI of {a!r} (x={x}, y={y}, w={w}, h={h}) lies outside the {info.width_px}x{info.height_px} frame")
    unknown = [a for a, *_ in rois if a not in animals]
    if unknown:
        raise ValueError(f"{info.path.name}: animal(s) {', '.join(map(repr, unknown))} not in the per-second labels (animals: {', '.join(animals) or 'none'})")
    first, stop = frame_span(info.fps, start_s, end_s)
    lines = _timelines(running_immobility_s(seconds, window_s))
    rater_lines = _timelines(running_immobility_s(rater[1], window_s)) if rater is not None else None

    out_path.parent.mkdir(parents=True, exist_ok=True)
    partial = out_path.with_name(f".{out_path.stem}.partial{out_path.suffix or '.mp4'}")
    scale = max(1, int(scale))
    size = (info.width_px * scale, info.height_px * scale)
    drawn_rois = [(a, x * scale, y * scale, w * scale, h * scale) for a, x, y, w, h in rois]
    writer = cv2.VideoWriter(str(partial), cv2.VideoWriter_fourcc(*FOURCC), info.fps, size)
    if not writer.isOpened():
        raise ValueError(f"{out_path}: cannot write an {FOURCC} video here (is the folder writable and the name an .mp4?)")
    cap = cv2.VideoCapture(str(info.path), cv2.CAP_FFMPEG)
    n_written, i = 0, 0
    times_ms: list[float] = []
    # The frames as the scorer saw them: at the header's constant rate, by their own times.
    frames = at_constant_rate(_colour_frames(cap, times_ms, first, info.fps), times_ms, info.fps, Retiming())
    try:
        for i, frame in enumerate(frames):
            if stop is not None and i >= stop:
                break
            if i < first or frame is None:
                continue
            if frame.ndim == 2:
                frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
            if scale > 1:
                frame = cv2.resize(frame, size, interpolation=cv2.INTER_NEAREST)
            t_s = i / info.fps
            states = _states(lines, drawn_rois, int(math.floor(t_s + 1e-9)), rater_lines)
            writer.write(draw_frame(frame, t_s, states, window_s, rater[0] if rater is not None else None))
            n_written += 1
            if on_frame is not None:
                on_frame(i)
    except BaseException:
        writer.release()
        partial.unlink(missing_ok=True)
        raise
    finally:
        cap.release()
    writer.release()
    if n_written == 0:
        partial.unlink(missing_ok=True)
        where = f"from {first / info.fps:g} s on" if stop is None else f"between {first / info.fps:g} and {stop / info.fps:g} s"
        raise VideoError(f"{info.path}: no frame {where} ({i} frames decoded); check --start-s/--end-s")
    os.replace(partial, out_path)
    return out_path
