"""Tail climbing in the TST: seconds in which a hanging mouse has pulled itself up its tail."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .bouts import runs
from .signals import MotionSignals

#: A second counts as climbed when the middle of the animal's outline sits at least this many
#: body sizes (square roots of its area) above where it hangs. Measured: hanging, struggling
#: and swinging synthetic mice rise by at most 0.58 in any second, 0.35 over 3 s running
#: (54 six-minute animals); a mouse clinging under the bar, 1.6-1.9.
CLIMB_RISE_BODY = 1.0
#: ... for at least this many seconds running.
CLIMB_MIN_S = 2
#: Where the animal hangs: this percentile of the per-second height of its outline's middle
#: (image rows grow downwards, so the low end of where it spends its time). A mouse that
#: climbs for less than this share of the video is measured against its hanging position.
HANG_PERCENTILE = 90


def rise_above_hanging(signals: MotionSignals) -> pd.DataFrame:
    """How far each animal's body sits above where it hangs, second by second.

    Parameters
    ----------
    signals : MotionSignals
        Signals with the animal's outline measured (the default pass; the threshold scorer's
        pass measures no outline and gives an empty table).

    Returns
    -------
    pandas.DataFrame
        ``animal, second, centroid_y_px, rise_px, rise_body``: the median height of the
        outline's centroid in the second (ROI pixels, y down), its rise above the animal's
        hanging height (:data:`HANG_PERCENTILE`), in pixels and in body sizes (square root of
        the animal's median outline area). Seconds without an outline are left out.
    """
    f = signals.frames[["animal", "frame", "animal_y_px", "animal_area_px"]].dropna()
    columns = ["animal", "second", "centroid_y_px", "rise_px", "rise_body"]
    if f.empty:
        return pd.DataFrame(columns=columns)
    parts = []
    for animal, g in f.groupby("animal", sort=False):
        y_px = g.groupby((g["frame"].to_numpy() / signals.fps).astype(int))["animal_y_px"].median()
        body_px = float(np.sqrt(g["animal_area_px"].median()))
        rise_px = np.percentile(y_px, HANG_PERCENTILE) - y_px
        parts.append(pd.DataFrame({
            "animal": animal, "second": y_px.index.astype(int), "centroid_y_px": y_px.to_numpy(),
            "rise_px": rise_px.to_numpy(), "rise_body": rise_px.to_numpy() / body_px,
        }))
    return pd.concat(parts, ignore_index=True)[columns]


def tail_climb_seconds(signals: MotionSignals, window_s: tuple[float, float]) -> dict[str, list[int]]:
    """The seconds of the window in which each animal has climbed its tail.

    Parameters
    ----------
    signals : MotionSignals
        Signals with the animal's outline measured.
    window_s : (float, float)
        Scored window, s from the start of the video.

    Returns
    -------
    dict
        Animal → its climbed seconds inside the window: runs of at least :data:`CLIMB_MIN_S`
        seconds whose body sits :data:`CLIMB_RISE_BODY` body sizes or more above where it
        hangs (a second without an outline ends a run). Only animals with such seconds.
    """
    start_s, end_s = window_s
    out: dict[str, list[int]] = {}
    for animal, g in rise_above_hanging(signals).groupby("animal", sort=False):
        second = g["second"].to_numpy()
        # a missing second (no outline) breaks the run: look at consecutive seconds only
        full = np.zeros(int(second.max()) + 1, dtype=bool)
        full[second] = g["rise_body"].to_numpy() >= CLIMB_RISE_BODY
        climbed = [s for a, b in runs(full) if b - a >= CLIMB_MIN_S for s in range(a, b) if start_s <= s < end_s]
        if climbed:
            out[str(animal)] = climbed
    return out


def tail_climb_warnings(signals: MotionSignals, climbed_s: dict[str, list[int]]) -> dict[str, str]:
    """Per animal, a warning naming the seconds of the window it spent up its tail.

    Parameters
    ----------
    signals : MotionSignals
        Signals with the animal's outline measured.
    climbed_s : dict
        Animal → climbed seconds, as :func:`tail_climb_seconds` returns them.

    Returns
    -------
    dict
        Animal → warning text; only animals that climbed.
    """
    rise = rise_above_hanging(signals).set_index(["animal", "second"])["rise_px"]
    texts = {}
    for animal, climbed in climbed_s.items():
        top_px = float(rise.loc[animal].loc[climbed].median())
        texts[animal] = (
            f"{signals.video}: ROI {animal!r}: the animal's body was {top_px:.0f} px above where it hangs for "
            f"{len(climbed)} s of the window, from {climbed[0]} s of the video: it seems to have climbed its tail. Those seconds "
            "are scored as if it hung (a mouse clinging to the bar is still: immobile); check the video, and "
            "exclude the animal or those seconds as your protocol says"
        )
    return texts
