"""Streaming luma reader: decode each frame once, validate what the file claims against what it holds."""

from __future__ import annotations

import math
import os
import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import cv2
import numpy as np

# The raw-plane request below makes FFmpeg's wrapper log a warning on every frame; errors still show.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
# FFmpeg's own messages ("[mov,mp4,...] moov atom not found") say in its words what the
# VideoError raised for the file says in ours, naming the file; they are left out unless the
# environment asks for them (read when the first video is opened; AV_LOG_QUIET = -8).
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

#: Below this many decodable frames a file cannot give even one frame difference.
MIN_FRAMES = 2


class VideoError(ValueError):
    """A video file that cannot be scored; the message names the file and the problem."""


@dataclass(frozen=True)
class VideoInfo:
    """What a video file is, as measured by decoding it (not only as its header claims).

    Attributes
    ----------
    path : Path
        The file.
    width_px, height_px : int
        Frame size in pixels.
    fps : float
        Frame rate used for timing (the container's claim, checked for plausibility).
    n_frames_claimed : int
        Frame count the container header claims (0 when it does not say).
    turned_deg : int
        Clockwise turn the header asks players to give the stored picture (0, 90, 180, 270; a
        phone's portrait clip: 90 or 270). Frames are decoded turned, as players show them.
    """

    path: Path
    width_px: int
    height_px: int
    fps: float
    n_frames_claimed: int
    turned_deg: int = 0

    @property
    def duration_claimed_s(self) -> float:
        """Duration implied by the header's frame count and frame rate."""
        return self.n_frames_claimed / self.fps if self.fps > 0 else 0.0


_DECODER = {"threads": 0, "background": True}


def set_decoder_threads(n: int, background: bool = True) -> None:
    """How a video is decoded in this process.

    Parameters
    ----------
    n : int
        Threads FFmpeg may use to decode one video (0 = FFmpeg's own choice).
    background : bool
        Whether a signal pass decodes in a thread of its own beside the per-frame work (a
        single video then uses more than one core), or in the pass's own thread (one core:
        what each batch worker does, so that workers on different videos do not compete).
    """
    _DECODER["threads"] = int(n)
    _DECODER["background"] = bool(background)


def decoder_settings() -> tuple[int, bool]:
    """The current ``(n, background)`` of :func:`set_decoder_threads` (``n`` = 0 when never set)."""
    return _DECODER["threads"], _DECODER["background"]


def _cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def pass_decoder_threads() -> int:
    """Decoder threads for a pass that also works on every frame in the calling thread.

    The setting of :func:`set_decoder_threads` when one was made; otherwise every core but one
    (at least one), so that decoding leaves a core to the per-frame work instead of competing
    with it (on two cores that is 25-30 % less wall time than FFmpeg's own choice).
    """
    return _DECODER["threads"] or max(1, _cores() - 1)


def _open(path: Path, threads: int | None = None) -> cv2.VideoCapture:
    if not path.exists():
        raise VideoError(f"{path}: file not found")
    if path.is_dir():
        raise VideoError(f"{path}: is a folder, not a video file")
    if os.path.getsize(path) == 0:
        raise VideoError(f"{path}: file is empty (0 bytes)")
    threads = _DECODER["threads"] if threads is None else threads
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, threads] if threads else [])
    if not cap.isOpened():
        cap.release()
        raise VideoError(f"{path}: not a readable video (the decoder could not open it; is it corrupt or not a video?)")
    return cap


def probe(path: str | os.PathLike) -> VideoInfo:
    """Read a video's header and check it is plausible.

    Parameters
    ----------
    path : path-like
        Video file.

    Returns
    -------
    VideoInfo

    Raises
    ------
    VideoError
        Missing, empty or undecodable file, or a frame rate that is absent or implausible.
    """
    path = Path(path)
    cap = _open(path)
    try:
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0)
        height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
        n_claimed = max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0), 0)
        turned = int(round(cap.get(cv2.CAP_PROP_ORIENTATION_META) or 0)) % 360 if cap.get(cv2.CAP_PROP_ORIENTATION_AUTO) else 0
    finally:
        cap.release()
    if width <= 0 or height <= 0:
        raise VideoError(f"{path}: the video reports no frame size; the file is probably corrupt")
    if not (0.5 <= fps <= 1000.0) or not np.isfinite(fps):
        raise VideoError(
            f"{path}: implausible frame rate {fps:g} frames/s in the file header; "
            "re-encode the video with its true frame rate (e.g. ffmpeg -r 25)"
        )
    return VideoInfo(path=path, width_px=width, height_px=height, fps=fps, n_frames_claimed=n_claimed, turned_deg=turned)


def _decode(info: VideoInfo, threads: int | None = None, times_ms: list[float] | None = None) -> Iterator[np.ndarray]:
    """Decode frames one by one in the calling thread (see :func:`iter_luma`)."""
    cap = _open(info.path, threads)
    # Ask for the raw decoded plane; for yuv420p this is the luma plane of shape (h, w).
    cap.set(cv2.CAP_PROP_CONVERT_RGB, 0)
    shape = (info.height_px, info.width_px)
    n = 0
    try:
        while True:
            ok, frame = cap.read()
            if not ok or frame is None:
                break
            if frame.ndim == 3:
                frame = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
            elif frame.shape != shape:
                # Not a planar 8-bit stream: fall back to decoded colour for every later frame.
                cap.release()
                yield from _iter_converted(info, skip=n, threads=threads, times_ms=times_ms)
                return
            n += 1
            if times_ms is not None:
                times_ms.append(cap.get(cv2.CAP_PROP_POS_MSEC))
            yield frame
    finally:
        cap.release()
    if n == 0:
        raise VideoError(f"{info.path}: no frame could be decoded; the file is corrupt or truncated")


_END = object()
#: Decoded frames handed from the decoding thread to the consumer at a time.
HAND_OVER_FRAMES = 4


def iter_luma(
    path: str | os.PathLike,
    info: VideoInfo | None = None,
    prefetch: int = 8,
    threads: int | None = None,
    times_ms: list[float] | None = None,
) -> Iterator[np.ndarray]:
    """Yield each frame of a video once, as a 2-D uint8 luma (grey) plane.

    Frames are streamed: about ``prefetch`` decoded frames at most wait in memory. For planar YUV
    streams (the usual H.264/MPEG-4 case) the decoder's Y plane is used directly, without
    colour conversion. With ``prefetch > 0`` decoding runs in a background thread (OpenCV
    releases the GIL while decoding), so the caller's per-frame work overlaps with decoding.

    Parameters
    ----------
    path : path-like
        Video file.
    info : VideoInfo, optional
        Result of :func:`probe` (probed here when omitted).
    prefetch : int
        Frames decoded ahead of the caller; 0 decodes in the calling thread.
    threads : int, optional
        FFmpeg decoder threads (0 = FFmpeg's own choice); default: the setting of
        :func:`set_decoder_threads`. The frames are the same whatever the number.
    times_ms : list, optional
        When given, each frame's presentation time (ms from the start of the stream, as the
        file states it) is appended to it before the frame is yielded; see
        :func:`at_constant_rate`.

    Yields
    ------
    numpy.ndarray
        ``(height_px, width_px)`` uint8 frames.

    Raises
    ------
    VideoError
        When no frame at all can be decoded.
    """
    info = info or probe(path)
    if prefetch <= 0:
        yield from _decode(info, threads, times_ms)
        return
    # Frames are handed over a few at a time: one hand-over (lock, wake-up) per few frames.
    chunk = max(1, min(HAND_OVER_FRAMES, prefetch // 2))
    frames: queue.Queue = queue.Queue(maxsize=max(1, prefetch // chunk))
    stop = threading.Event()

    def hand_over(item: object) -> bool:
        """Queue an item, waiting for room; False when the consumer has gone."""
        while not stop.is_set():
            try:
                frames.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        batch: list[np.ndarray] = []
        try:
            for frame in _decode(info, threads, times_ms):
                batch.append(frame)
                if len(batch) >= chunk:
                    if not hand_over(batch):
                        return
                    batch = []
            item: object = _END
        except BaseException as exc:  # handed to the consumer (after the frames before it), raised there
            item = exc
        if batch and not hand_over(batch):
            return
        hand_over(item)

    worker = threading.Thread(target=produce, name=f"decode {info.path.name}", daemon=True)
    worker.start()
    try:
        while True:
            item = frames.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield from item
    finally:
        stop.set()
        worker.join()


def _iter_converted(
    info: VideoInfo, skip: int, threads: int | None = None, times_ms: list[float] | None = None
) -> Iterator[np.ndarray]:
    cap = _open(info.path, threads)
    try:
        k = 0
        while True:
            ok, frame = cap.read()
            if not ok or frame is None:
                break
            if k >= skip:
                if times_ms is not None:
                    times_ms.append(cap.get(cv2.CAP_PROP_POS_MSEC))
                yield frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
            k += 1
    finally:
        cap.release()


@dataclass
class Retiming:
    """What :func:`at_constant_rate` did to hold a file's frames to a constant rate.

    Attributes
    ----------
    filled : list of int
        Slots of the constant rate (frame indices of the stream it yields) given the frame
        before once more, across gaps in the file's frame times (a camera that slowed down,
        frames lost).
    dropped : int
        Frames left out because a later frame fell in the same slot (a camera faster than the
        header's rate).
    closed_gaps : int
        Gaps in the file's times longer than ``MAX_GAP_S`` that were closed up (the frames
        after them moved earlier) rather than filled.
    """

    filled: list[int] = field(default_factory=list)
    dropped: int = 0
    closed_gaps: int = 0


#: A gap in a file's frame times longer than this (s) is closed up rather than filled: a
#: damaged time stamp, or a recording paused, is not minutes of a frozen picture.
MAX_GAP_S = 10.0


def at_constant_rate(frames: Iterable[np.ndarray], times_ms: Sequence[float], fps: float, retiming: Retiming) -> Iterator[np.ndarray]:
    """The frames of a stream at a constant rate, placed by their own presentation times.

    Slot ``k`` of the constant rate lies at ``t0 + k / fps``; each frame goes to the slot
    nearest its time, a slot no frame reaches gets the frame before once more, and of several
    frames in one slot the last is kept: what ``ffmpeg -fps_mode cfr`` makes of a file with a
    variable frame rate. A file whose frames already follow each other at ``fps`` (within half
    an interval) passes unchanged. A gap longer than ``MAX_GAP_S`` is closed up: the frame
    after it takes the next slot, and the slots of later frames count from there.

    Parameters
    ----------
    frames : iterable of numpy.ndarray
        Decoded frames in order.
    times_ms : sequence of float
        Presentation time of each frame (ms), filled at least as fast as ``frames`` yields
        (:func:`iter_luma` with ``times_ms``). A frame without a usable time (not finite, or
        not after the frame before) takes the next slot.
    fps : float
        The constant rate.
    retiming : Retiming
        Counts what was filled and dropped (updated as frames are yielded).

    Yields
    ------
    numpy.ndarray
        One frame per slot.
    """
    interval_ms = 1000.0 / fps
    held, held_slot, t0, last_ms = None, 0, math.nan, -math.inf
    n = 0
    for n, frame in enumerate(frames, start=1):
        t = float(times_ms[n - 1]) if n - 1 < len(times_ms) else math.nan
        if n == 1:
            held, t0, last_ms = frame, t, t if math.isfinite(t) else last_ms
            continue
        usable = math.isfinite(t) and math.isfinite(t0) and t > last_ms
        slot = max(held_slot, round((t - t0) / interval_ms)) if usable else held_slot + 1
        if slot - held_slot > MAX_GAP_S * fps:
            slot = held_slot + 1
            t0 = t - slot * interval_ms
            retiming.closed_gaps += 1
        if slot == held_slot:
            retiming.dropped += 1
        else:
            retiming.filled.extend(range(held_slot + 1, slot))
            for _ in range(slot - held_slot):
                yield held
        held, held_slot = frame, slot
        if usable:
            last_ms = t
    if n:
        yield held
