"""Streaming luma reader: decode each frame once, validate what the file claims against what it holds."""

from __future__ import annotations

import os
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

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
        :func:`check_constant_rate`.

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


#: How far (s) a frame's time may be from where the constant header rate places it, at least:
#: 5 % of a 1-s bin (one frame interval when that is longer).
FRAME_TIME_TOLERANCE_S = 0.05


def constant_rate_problem(times_ms: Sequence[float], fps: float) -> str | None:
    """How frame times depart from a constant frame rate, or None when they do not.

    Parameters
    ----------
    times_ms : sequence of float
        Presentation time of each decoded frame, in ms.
    fps : float
        Frame rate used for timing (the file header's).

    Returns
    -------
    str or None
        None when every frame lies within one frame interval or ``FRAME_TIME_TOLERANCE_S``,
        whichever is longer, of ``t0 + i / fps`` (or when the file gives no usable times:
        fewer than two, not finite, or all equal); otherwise a description of the first frame
        that does not, with the mean rate of the frames given.

    Notes
    -----
    Binning by frame index (``i / fps``) is then never more than that far off. Jitter of a few
    ms and a few frames dropped at the start, common in camera files, pass; a variable frame
    rate or a header rate that is not the real one does not.
    """
    t = np.asarray(times_ms, dtype=np.float64)
    if t.size < 2 or not np.isfinite(t).all() or (t == t[0]).all():
        return None
    interval_ms = 1000.0 / fps
    tolerance_ms = max(interval_ms, 1000.0 * FRAME_TIME_TOLERANCE_S) * (1 + 1e-9)
    expected = t[0] + np.arange(t.size) * interval_ms
    off = np.flatnonzero(np.abs(t - expected) > tolerance_ms)
    if off.size == 0:
        return None
    i = int(off[0])
    span_ms = t[-1] - t[0]
    mean = f"{1000.0 * (t.size - 1) / span_ms:.4g} frames/s" if span_ms > 0 else "not measurable"
    return (
        f"frame {i} is at {(t[i] - t[0]) / 1000:.3f} s, not at {i / fps:.3f} s as {fps:g} frames/s would place it "
        f"(mean rate of the {t.size} frames decoded: {mean})"
    )


def typical_rate(times_ms: Sequence[float]) -> float | None:
    """Frame rate at which most frames follow each other: 1000 / median interval (None if unknown)."""
    steps = np.diff(np.asarray(times_ms, dtype=np.float64))
    steps = steps[np.isfinite(steps) & (steps > 0)]
    return 1000.0 / float(np.median(steps)) if steps.size else None


def check_constant_rate(path: str | os.PathLike, times_ms: Sequence[float], fps: float) -> None:
    """Raise VideoError naming the file when its frame times are not at a constant ``fps``.

    See :func:`constant_rate_problem`. The 1-s bins count frames at the header's frame rate,
    so a file with a variable frame rate (or a wrong rate in its header) would put movement
    in the wrong seconds; it is refused with the command that re-encodes it.
    """
    problem = constant_rate_problem(times_ms, fps)
    if problem is not None:
        rate = typical_rate(times_ms) or fps
        raise VideoError(
            f"{path}: variable frame rate or wrong frame rate in the header: {problem}. "
            f"Re-encode it to a constant frame rate first, e.g. "
            f"ffmpeg -i {Path(path).name} -fps_mode cfr -r {rate:.4g} {Path(path).stem}_cfr.mp4 "
            f"(-r: the rate most frames were recorded at, here {rate:.4g} frames/s; "
            "ffmpeg before 5.1: -vsync cfr instead of -fps_mode cfr)"
        )
