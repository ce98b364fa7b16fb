"""Propose one ROI per animal for videos of compartments side by side, from where things move."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from .appearance import MIN_CONTRAST_DN, MOVED_DN, median_u8
from .bouts import runs
from .video import VideoError, iter_luma, probe

#: Seconds from the start of the video in which movement is looked for (animals struggle and
#: swim most in the first minutes of an FST or TST).
DEFAULT_SAMPLE_S = 60.0
#: Frames taken, evenly spread, from that stretch.
SAMPLE_FRAMES = 120
#: Frames are searched with their long side at most this many pixels (coordinates are scaled back).
SEARCH_LONG_SIDE_PX = 480
#: A pixel is active when it differs from its median over the sampled frames by more than
#: ``MOVED_DN`` in at least this share of them.
ACTIVE_SHARE = 0.02
#: A column belongs to an animal's range when its count of active pixels is at least this share
#: of the busiest column's.
PROFILE_SHARE = 0.05
#: A movement range may reach this share of the frame's width past an equal compartment's edge
#: and still count as inside it.
SLOT_TOLERANCE = 0.02
#: A column at a compartment's edge is a divider or wall (left out of the ROI) when it contrasts
#: by more than ``MIN_CONTRAST_DN`` with the compartment's background over this share of its
#: height and nothing moved in it.
WALL_HEIGHT_SHARE = 0.8
#: At most this share of a compartment's width is left out at each edge as wall.
MAX_WALL_SHARE = 0.2
#: A range of active columns counts as an animal's when its active pixels are at least this share
#: of the frame (smaller ones are specks: compression noise, a fly, a reflection).
MIN_MOVING_SHARE = 0.001


class CompartmentError(ValueError):
    """No ROI can be proposed for a video; the message names the file and what was seen."""


@dataclass(frozen=True)
class Proposal:
    """ROIs proposed for one video, left to right.

    Attributes
    ----------
    rois : list of tuple
        ``(animal, x, y, w, h)`` in pixels of the video.
    method : str
        ``equal compartments`` (each animal's movement lies inside one of equal-width
        compartments, which are proposed) or ``cut between movement ranges`` (cuts halfway
        across the gaps between the animals' movement ranges).
    frame : numpy.ndarray
        A full-resolution luma frame from the searched stretch (for a figure).
    """

    rois: list[tuple[str, int, int, int, int]]
    method: str
    frame: np.ndarray


def activity_map(frames: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The median frame, and the share of frames in which each pixel differs from it by more than ``MOVED_DN``.

    Parameters
    ----------
    frames : sequence of numpy.ndarray
        uint8 luma frames of one video, all the same size.

    Returns
    -------
    median : numpy.ndarray
        float32 median over the frames (the still scenery; the upper middle value for an even
        number of frames).
    active_share : numpy.ndarray
        float32, values 0-1.

    Notes
    -----
    Each frame's overall brightness is first matched to the median frame's (flicker and slow
    illumination drift would otherwise light up the whole frame).
    """
    stack = np.stack(frames)
    middle = np.partition(stack, len(frames) // 2, axis=0)[len(frames) // 2]
    offset_dn = np.array([median_u8(f) for f in frames]) - median_u8(middle)
    lit = stack.astype(np.int16) - np.round(offset_dn).astype(np.int16)[:, None, None]
    moved = np.abs(lit - middle.astype(np.int16)) > MOVED_DN
    return middle.astype(np.float32), moved.mean(axis=0, dtype=np.float32)


def moving_ranges(profile: np.ndarray, min_px: float) -> list[tuple[int, int]]:
    """Half-open column ranges where animals moved: columns with at least ``PROFILE_SHARE`` of the
    busiest column's active pixels, in ranges holding at least ``min_px`` active pixels."""
    if profile.max() <= 0:
        return []
    return [(a, b) for a, b in runs(profile >= PROFILE_SHARE * profile.max()) if profile[a:b].sum() >= min_px]


def split_columns(profile: np.ndarray, n_animals: int, min_px: float) -> tuple[list[int], str] | None:
    """Column boundaries of ``n_animals`` side-by-side compartments from a column activity profile.

    Parameters
    ----------
    profile : numpy.ndarray
        Active pixels per column.
    n_animals : int
        Compartments wanted.
    min_px : float
        Fewest active pixels in a range of columns where an animal moved (see :func:`moving_ranges`).

    Returns
    -------
    tuple or None
        ``(bounds, method)``: ``n_animals + 1`` increasing column indices from 0 to the width,
        and how they were found (see :class:`Proposal`); None when the movement falls into fewer
        separate ranges than ``n_animals``.
    """
    width = profile.size
    moved = moving_ranges(profile, min_px)
    slot = width / n_animals
    tol = SLOT_TOLERANCE * width
    slots_of = [(int((a + b) / 2 // slot), a, b) for a, b in moved]
    inside = all(k * slot - tol <= a and b <= (k + 1) * slot + tol for k, a, b in slots_of)
    if moved and inside and {k for k, _, _ in slots_of} == set(range(n_animals)):
        return [int(round(k * slot)) for k in range(n_animals + 1)], "equal compartments"
    if len(moved) < n_animals:
        return None
    gaps = sorted(range(len(moved) - 1), key=lambda i: moved[i + 1][0] - moved[i][1], reverse=True)[: n_animals - 1]
    cuts = [(moved[i][1] + moved[i + 1][0]) // 2 for i in sorted(gaps)]
    return [0, *cuts, width], "cut between movement ranges"


def inner_columns(median: np.ndarray, active: np.ndarray, x0: int, x1: int) -> tuple[int, int]:
    """A compartment's columns ``[x0, x1)`` without the dividers or walls at its edges.

    Columns are left out from each edge inwards while they are still (nothing active in them)
    and contrast with the compartment's background (its median luma) by more than
    ``MIN_CONTRAST_DN`` over at least ``WALL_HEIGHT_SHARE`` of the height, up to
    ``MAX_WALL_SHARE`` of the width on each side. A dark divider would otherwise be cut out
    as a dark animal's silhouette.
    """
    block = median[:, x0:x1]
    wall = ((np.abs(block - np.median(block)) > MIN_CONTRAST_DN).mean(axis=0) >= WALL_HEIGHT_SHARE) & ~active[:, x0:x1].any(axis=0)
    limit = int(MAX_WALL_SHARE * (x1 - x0))
    return x0 + _leading(wall[:limit]), x1 - _leading(wall[::-1][:limit])


def _leading(flags: np.ndarray) -> int:
    """How many values at the start of a boolean vector are True."""
    return int(flags.size if flags.all() else np.argmin(flags))


def _activity(frames: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The median frame and the boolean map of active pixels (see :func:`activity_map`)."""
    median, share = activity_map(frames)
    return median, share >= ACTIVE_SHARE


def moving_places(frames: Sequence[np.ndarray]) -> int:
    """How many separate ranges of columns hold movement, counted as :func:`propose_rois` does
    (animals side by side; 0 = nothing moves)."""
    active = _activity(frames)[1]
    return len(moving_ranges(active.sum(axis=0), MIN_MOVING_SHARE * active.size))


def places_side_by_side(frames: Sequence[np.ndarray]) -> int:
    """How many animals the frames seem to show side by side: :func:`moving_places` of all the
    frames when each half of them (earlier, later) shows movement in two places or more, else 1
    (or 0 when nothing moves). A single animal walking about an arena moves in different places
    at different times; animals in compartments keep moving in theirs."""
    half = len(frames) // 2
    n = moving_places(frames)
    if n >= 2 and half and min(moving_places(frames[:half]), moving_places(frames[half:])) >= 2:
        return n
    return min(n, 1)


def propose_rois(frames: Sequence[np.ndarray], n_animals: int, names: Sequence[str]) -> tuple[list[tuple[str, int, int, int, int]], str]:
    """One ROI per animal from frames of a video whose compartments stand side by side.

    Parameters
    ----------
    frames : sequence of numpy.ndarray
        uint8 luma frames (at any one resolution).
    n_animals : int
        Animals (compartments) in the video, left to right.
    names : sequence of str
        Their ids, left to right.

    Returns
    -------
    tuple
        ``(rois, method)`` in the frames' pixels (see :class:`Proposal`).

    Raises
    ------
    CompartmentError
        Movement is seen in fewer separate column ranges than there are animals.

    Notes
    -----
    Active pixels (:func:`activity_map`) are counted per column. When each range of active
    columns lies inside one of ``n_animals`` equal-width compartments and every compartment holds
    one, those compartments are proposed (rigs are built that way; the edges then fall on the
    dividers rather than on where the animals happened to move). Otherwise the frame is cut
    halfway across the ``n_animals - 1`` widest gaps between active ranges. Dividers and walls
    at a compartment's edges are left out (:func:`inner_columns`). Each ROI spans the
    frame's height: cutting it shorter risks cutting off a part of the animal that did not move
    while the frames were taken, and still background adds no motion.
    """
    if n_animals < 1 or len(names) != n_animals:
        raise ValueError(f"need one name per animal: {n_animals} animals, {len(names)} names")
    median, active = _activity(frames)
    profile, min_px = active.sum(axis=0), MIN_MOVING_SHARE * active.size
    found = split_columns(profile, n_animals, min_px)
    if found is None:
        seen = len(moving_ranges(profile, min_px))
        where = "no movement seen" if seen == 0 else f"movement seen in {seen} separate place{'s' if seen > 1 else ''} across the frame"
        raise CompartmentError(f"{where}, but {n_animals} animal{'s' if n_animals > 1 else ''} side by side expected")
    bounds, method = found
    rois = []
    for name, x0, x1 in zip(names, bounds[:-1], bounds[1:]):
        left, right = inner_columns(median, active, x0, x1)
        rois.append((name, left, 0, right - left, active.shape[0]))
    return rois, method


class StretchSample:
    """Up to ``SAMPLE_FRAMES`` frames evenly spread over a video's first ``sample_s`` seconds,
    taken from its frames as they are offered in order, down-scaled so that their long side is at
    most ``SEARCH_LONG_SIDE_PX``.

    Parameters
    ----------
    n_frames_claimed : int
        Frames the file's header claims (0 if unknown).
    fps : float
        Frame rate.
    sample_s : float
        Seconds from the start to sample.
    """

    def __init__(self, n_frames_claimed: int, fps: float, sample_s: float = DEFAULT_SAMPLE_S):
        self.n_frames = max(1, int(min(n_frames_claimed or np.inf, sample_s * fps)))
        self.stride = max(1, self.n_frames // SAMPLE_FRAMES)
        self.frames: list[np.ndarray] = []

    def offer(self, i: int, frame: np.ndarray) -> bool:
        """Take frame ``i`` if it belongs to the sample; True when it is the stretch's last frame."""
        if i < self.n_frames and i % self.stride == 0:
            scale = min(1.0, SEARCH_LONG_SIDE_PX / max(frame.shape))
            self.frames.append(frame if scale == 1 else cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))
        return i == self.n_frames - 1


def sample_frames(path: str | os.PathLike, sample_s: float = DEFAULT_SAMPLE_S) -> tuple[list[np.ndarray], np.ndarray]:
    """The :class:`StretchSample` of a video's first ``sample_s`` seconds, and its first frame at
    full resolution."""
    info = probe(path)
    sample, first = StretchSample(info.n_frames_claimed, info.fps, sample_s), None
    for i, frame in enumerate(iter_luma(path, info)):
        first = frame if first is None else first
        if sample.offer(i, frame):
            break
    return sample.frames, first


def several_animals_warning(video: str | os.PathLike, places: int | None) -> list[str]:
    """The warning for a video scored as one animal (the whole frame) in which movement was seen
    in ``places`` separate places side by side (:func:`places_side_by_side`); none below 2."""
    if places is None or places < 2:
        return []
    return [f"{video}: scored as one animal (the whole frame), but in the first {DEFAULT_SAMPLE_S:g} s movement was seen in {places} "
            f"separate places side by side; if the video holds {places} animals, give one ROI each (behavscore rois {video} --animals {places})"]


def propose_video_rois(path: str | os.PathLike, n_animals: int, sample_s: float = DEFAULT_SAMPLE_S, names: Sequence[str] | None = None) -> Proposal:
    """Propose one ROI per animal for a video of ``n_animals`` compartments side by side.

    Parameters
    ----------
    path : path-like
        Video file.
    n_animals : int
        Animals in the video.
    sample_s : float
        Seconds from the start in which movement is looked for.
    names : sequence of str, optional
        Animal ids left to right; default ``<file stem>-a1``, ``-a2``, ...

    Returns
    -------
    Proposal

    Raises
    ------
    VideoError
        The file cannot be read.
    CompartmentError
        Movement is seen in fewer separate places than there are animals (an animal that does
        not move in the searched stretch, or animals not side by side); the message names the
        file and says how many.
    """
    path = Path(path)
    if n_animals < 1:
        raise ValueError(f"the number of animals must be 1 or more, got {n_animals}")
    names = list(names) if names is not None else [f"{path.stem}-a{i + 1}" for i in range(n_animals)]
    frames, first = sample_frames(path, sample_s)
    if len(frames) < 2:
        raise VideoError(f"{path}: too few frames in the first {sample_s:g} s to see movement")
    try:
        rois, method = propose_rois(frames, n_animals, names)
    except CompartmentError as exc:
        raise CompartmentError(
            f"{path}: in the first {sample_s:g} s, {exc}; check the number of animals, search longer, "
            "or give the ROIs by hand (--roi, or roi_x, roi_y, roi_w, roi_h in the cohort table)"
        ) from None
    height, width = first.shape
    scale = frames[0].shape[1] / width
    return Proposal(rois=[_to_full(r, scale, width, height) for r in rois], method=method, frame=first)


def _to_full(roi: tuple[str, int, int, int, int], scale: float, width: int, height: int) -> tuple[str, int, int, int, int]:
    """An ROI found in down-scaled frames, in the video's pixels (inside the frame)."""
    name, x, y, w, h = roi
    x0, y0 = int(round(x / scale)), int(round(y / scale))
    x1, y1 = min(width, int(round((x + w) / scale))), min(height, int(round((y + h) / scale)))
    return name, x0, y0, x1 - x0, y1 - y0


def plot_proposal(proposal: Proposal, path: str | os.PathLike, title: str = "") -> Path:
    """Write a PNG of a video's first frame with the proposed ROIs, axes in pixels.

    Parameters
    ----------
    proposal : Proposal
        From :func:`propose_video_rois`.
    path : path-like
        Output PNG.
    title : str
        Figure title (e.g. the video name).

    Returns
    -------
    Path
        The PNG written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .outputs import write_png

    height, width = proposal.frame.shape
    fig_w = 8.0
    fig, ax = plt.subplots(figsize=(fig_w, max(2.5, fig_w * height / width + 0.9)))
    ax.imshow(proposal.frame, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    for name, x, y, w, h in proposal.rois:
        ax.add_patch(plt.Rectangle((x - 0.5, y - 0.5), w, h, fill=False, edgecolor="#ff3030", lw=1.5))
        ax.text(x + 2, y + 2, f"{name}\n{x},{y},{w},{h}", color="white", fontsize=7, va="top",
                bbox={"facecolor": "#c00000", "alpha": 0.7, "pad": 1, "lw": 0})
    ax.set_xlabel("x, px")
    ax.set_ylabel("y, px")
    ax.set_title(f"{title}\nproposed ROIs x,y,w,h ({proposal.method}): check before scoring", fontsize=8)
    fig.tight_layout()
    out = write_png(fig, path)
    plt.close(fig)
    return out
