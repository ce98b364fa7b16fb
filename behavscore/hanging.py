"""Where a TST mouse's body is against where it hangs: tail climbing and falls."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from .bouts import runs
from .signals import MotionSignals

#: A second counts as climbed when the middle of the animal's outline sits at least this many
#: body sizes (square roots of its area) above where it hangs, and as fallen when it sits as far
#: below. Measured: hanging, struggling and swinging synthetic mice rise by at most 0.59 in any
#: second, 0.35 over 3 s running, and drop by at most 0.07 (54 six-minute animals); a mouse
#: clinging under the bar rises 1.6-1.9, one on the floor drops 3.3.
OFF_HANGING_BODY = 1.0
#: ... for at least this many seconds running.
OFF_HANGING_MIN_S = 2
#: Where the animal hangs: this percentile of the per-second height of its outline's middle
#: (image rows grow downwards, so the low end of where it spends its time), over the seconds
#: in which its body hangs upright (long axis within :data:`UPRIGHT_DEG` of vertical). An
#: animal seen upright in fewer than :data:`MIN_UPRIGHT_S` seconds is never seen hanging (a
#: camera from above, a mouse up its tail from the start): it is not measured.
HANG_PERCENTILE = 90
UPRIGHT_DEG = 45.0
MIN_UPRIGHT_S = 3


def height_above_hanging(signals: MotionSignals) -> pd.DataFrame:
    """How far each animal's body sits above (or below) where it hangs, second by second.

    Parameters
    ----------
    signals : MotionSignals
        Signals with the animal's outline measured (the pass for a trained model; the
        threshold scorer's pass measures no outline and gives an empty table).

    Returns
    -------
    pandas.DataFrame
        ``animal, second, centroid_y_px, rise_px, rise_body``: the median height of the
        outline's centroid in the second (ROI pixels, y down), and its rise above the animal's
        hanging height (:data:`HANG_PERCENTILE`; negative below it), in pixels and in body
        sizes (square root of the animal's median outline area). Seconds without an outline
        are left out, and so are animals never seen hanging upright.
    """
    f = signals.frames[["animal", "frame", "animal_y_px", "animal_area_px", "animal_angle_deg"]].dropna()
    columns = ["animal", "second", "centroid_y_px", "rise_px", "rise_body"]
    if f.empty:
        return pd.DataFrame(columns=columns)
    parts = []
    for animal, g in f.groupby("animal", sort=False):
        per_s = g.groupby((g["frame"].to_numpy() / signals.fps).astype(int))
        y_px = per_s["animal_y_px"].median()
        upright = (per_s["animal_angle_deg"].median().abs() >= 90.0 - UPRIGHT_DEG).to_numpy()
        if upright.sum() < MIN_UPRIGHT_S:
            continue
        hanging_px = np.percentile(y_px[upright], HANG_PERCENTILE)
        body_px = float(np.sqrt(g["animal_area_px"].median()))
        rise_px = hanging_px - y_px.to_numpy()
        parts.append(pd.DataFrame({
            "animal": animal, "second": y_px.index.astype(int), "centroid_y_px": y_px.to_numpy(),
            "rise_px": rise_px, "rise_body": rise_px / body_px,
        }))
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def _seconds_off(heights: pd.DataFrame, window_s: tuple[float, float], direction: int) -> dict[str, list[int]]:
    """Per animal, the window's seconds in runs of :data:`OFF_HANGING_MIN_S` or more that sit
    :data:`OFF_HANGING_BODY` body sizes above (``direction`` +1) or below (-1) where it hangs."""
    start_s, end_s = window_s
    out: dict[str, list[int]] = {}
    for animal, g in heights.groupby("animal", sort=False):
        # Seconds without an outline (a mouse on the floor beside its shaded edge may lose it)
        # neither end a run nor start one: a run spans its first to its last outlined second.
        second = g["second"].to_numpy()
        off = direction * g["rise_body"].to_numpy() >= OFF_HANGING_BODY
        spans = [(second[a], second[b - 1] + 1) for a, b in runs(off)]
        seconds = [s for a, b in spans if b - a >= OFF_HANGING_MIN_S for s in range(a, b) if start_s <= s < end_s]
        if seconds:
            out[str(animal)] = seconds
    return out


def tail_climb_seconds(heights: pd.DataFrame, window_s: tuple[float, float]) -> dict[str, list[int]]:
    """The seconds of the window in which each animal had climbed its tail.

    Parameters
    ----------
    heights : pandas.DataFrame
        Output of :func:`height_above_hanging`.
    window_s : (float, float)
        Scored window, s from the start of the video.

    Returns
    -------
    dict
        Animal → its seconds (of the video) inside the window whose body sits
        :data:`OFF_HANGING_BODY` body sizes or more above where it hangs, in runs of at least
        :data:`OFF_HANGING_MIN_S` s (seconds without an outline inside a run count with it).
        Only animals with such seconds.
    """
    return _seconds_off(heights, window_s, +1)


def fallen_seconds(heights: pd.DataFrame, window_s: tuple[float, float]) -> dict[str, list[int]]:
    """The seconds of the window in which each animal sat as far below where it hangs (on the
    floor: its tape gave way); as :func:`tail_climb_seconds` otherwise."""
    return _seconds_off(heights, window_s, -1)


def off_hanging_warnings(video: str | os.PathLike, heights: pd.DataFrame, climbed_s: dict[str, list[int]], fallen_s: dict[str, list[int]]) -> tuple[dict[str, str], dict[str, str]]:
    """Per animal, warnings naming the seconds it spent up its tail, and those it spent fallen.

    Parameters
    ----------
    video : path-like
        The video, as named in the warnings.
    heights : pandas.DataFrame
        Output of :func:`height_above_hanging`.
    climbed_s, fallen_s : dict
        Animal → seconds, from :func:`tail_climb_seconds` and :func:`fallen_seconds`.

    Returns
    -------
    (dict, dict)
        Animal → warning text, for climbing and for falls; only animals concerned.
    """
    rise = heights.set_index(["animal", "second"])["rise_px"]

    def off_px(animal: str, seconds: list[int]) -> float:
        mine = rise.loc[animal]
        return float(mine[mine.index.isin(seconds)].abs().median())

    climbs = {
        animal: (
            f"{video}: ROI {animal!r}: the animal's body was {off_px(animal, s):.0f} px above where it hangs for {len(s)} s "
            f"of the window, from {s[0]} s of the video: it seems to have climbed its tail. Those seconds are scored as if "
            "it hung (a mouse clinging to the bar is still: immobile); check the video, and exclude the animal or those "
            "seconds as your protocol says"
        )
        for animal, s in climbed_s.items()
    }
    falls = {
        animal: (
            f"{video}: ROI {animal!r}: the animal's body was {off_px(animal, s):.0f} px below where it hangs for {len(s)} s "
            f"of the window, from {s[0]} s of the video: it seems to have fallen (its tape gave way). Those seconds are "
            "scored as if it hung (a mouse walking about the floor: mobile); check the video, and exclude the animal as "
            "your protocol says"
        )
        for animal, s in fallen_s.items()
    }
    return climbs, falls
