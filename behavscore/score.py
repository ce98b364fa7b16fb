"""Score one video: decode once, then per-second labels and per-animal summaries."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from .bouts import runs
from .compartments import several_animals_warning
from .features import add_frame_measures
from .hanging import fallen_seconds, height_above_hanging, off_hanging_warnings, tail_climb_seconds
from .per_second import n_bins, per_second
from .protocols import Protocol, get_protocol
from .repeats import animals_with_repeats, frozen_warnings, repeat_warning
from .scorers import Scorer, resolve_scorer
from .signals import FLICKER_DN, MotionSignals, Roi, SignalParams, compute_signals
from .summary import BOUT_COLUMNS, bout_table, in_window_mask, per_minute, summarise_animal
from .threshold import ThresholdScorer, default_threshold_scorer
from .video import MAX_GAP_S, VideoError, probe

#: An ROI "moves" when, in its 90th-percentile second, at least this share of it changes per frame.
MOVING_FRACTION = 0.002
#: Decoded duration may fall short of the window's end by this much before it is an error.
SHORTFALL_TOLERANCE_S = 1.0
#: Below this share of the measured frames in which the animal's outline is found, a trained
#: scorer's user is told that its outline features are mostly interpolated.
MIN_OUTLINE_SHARE = 0.5
#: A trained scorer's user is told when the animal's outline is first found later than this
#: into the video (s): the calibration waited for something to move in the ROI.
LATE_OUTLINE_S = 5.0
#: An animal outlined before whose outline is then missing for this long running (s), inside the
#: window, is reported as gone (taken out of the apparatus, or out of view): its empty
#: compartment is still scored. Measured: the longest such run of any outlined animal is 1 s
#: (28 synthetic training and evaluation videos, and the real open-field, home-cage and B-SOiD clips).
GONE_MIN_S = 5
#: A trained scorer's immobility (% of the window) that differs from the threshold scorer's by
#: more than this is reported: the shipped models and the threshold scorer agree within 2.5
#: points on the synthetic videos they were made for, so a larger gap means one of them is off.
DISAGREEMENT_PCT = 20.0
#: The smallest body (px of the image) the scorers were checked on against synthetic truth
#: (every animal within +-10 % down to bodies of 217 px; at 94-148 px, 1 animal in 12 per
#: protocol fell outside with the threshold scorer): smaller bodies are reported.
SMALLEST_CHECKED_BODY_PX = 200.0


#: The short names of the ``flags`` column of ``summary.csv``: what deserves a second look.
FLAGS: tuple[str, ...] = (
    "video length", "repeated frames", "flickering light", "frozen picture", "frame rate", "tail climbing", "fell",
    "several animals", "overlapping ROIs", "small body", "outline", "gone", "disagreement", "unlike training", "same video",
)
#: Flags only a trained model's pass can raise (they read the animal's outline, or compare its
#: seconds with the model's training): the threshold scorer never gives them.
OUTLINE_FLAGS: tuple[str, ...] = ("tail climbing", "fell", "outline", "gone", "disagreement", "unlike training")


@dataclass(frozen=True)
class ScoreResult:
    """Scores of one video.

    Attributes
    ----------
    seconds : pandas.DataFrame
        ``video, animal, second, label, motion, p_<class>...`` (the ``seconds.csv`` contract).
    summary : pandas.DataFrame
        One row per animal (the ``summary.csv`` contract).
    minutes : pandas.DataFrame
        Per-minute bins of the window.
    features : pandas.DataFrame
        The per-second table the scorer saw (motion, shape_motion, animal area and position,
        ... per animal and second; with a trained model also the waveform measures of
        :func:`behavscore.features.add_frame_measures`).
    signals : MotionSignals
        The per-frame signals, for re-scoring without decoding again.
    protocol : Protocol
        Protocol and window actually scored.
    warnings : list of str
        Things a scientist should know (truncated file, clipped window, no animal found).
    bouts : pandas.DataFrame
        Every immobile bout the summary counts (:func:`behavscore.summary.bout_table`).
    """

    seconds: pd.DataFrame
    summary: pd.DataFrame
    minutes: pd.DataFrame
    features: pd.DataFrame
    signals: MotionSignals
    protocol: Protocol
    warnings: list[str] = field(default_factory=list)
    bouts: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=BOUT_COLUMNS))


def as_rois(rois: Sequence | None) -> list[Roi] | None:
    if rois is None:
        return None
    out = []
    for r in rois:
        if isinstance(r, Roi):
            out.append(r)
            continue
        if len(r) != 5:
            raise ValueError(f"ROI {r!r} must be (animal, x, y, w, h)")
        animal, x, y, w, h = r
        out.append(Roi(str(animal), int(x), int(y), int(w), int(h)))
    return out


def check_duration(signals: MotionSignals, protocol: Protocol) -> tuple[Protocol, list[str]]:
    """Compare decoded length with the header and the window; clip or refuse.

    Returns
    -------
    protocol, warnings
        The protocol with its window clipped to the whole seconds decoded (when short by at
        most ``SHORTFALL_TOLERANCE_S``), and warnings about header/decoded mismatches.

    Raises
    ------
    VideoError
        The video is too short for the scored window.
    """
    warnings = []
    n, claimed, fps = signals.n_frames, signals.n_frames_claimed, signals.fps
    if claimed > 0 and n < claimed - max(2, 0.01 * claimed):
        warnings.append(
            f"{signals.video}: decoded {n} frames but the header claims {claimed}; the file is probably truncated"
        )
    elif claimed > 0 and n > claimed + max(2, 0.01 * claimed):
        warnings.append(f"{signals.video}: decoded {n} frames, more than the {claimed} the header claims")
    duration_s = n / fps
    whole_s = float(n_bins(n, fps))
    if duration_s + SHORTFALL_TOLERANCE_S < protocol.window_end_s:
        raise VideoError(
            f"{signals.video}: too short: {duration_s:.1f} s decoded ({n} frames at {fps:g} frames/s), "
            f"but the {protocol.name} window ends at {protocol.window_end_s:g} s"
            + (f" (header claims {claimed} frames: truncated file?)" if claimed > n + 2 else "")
            + "; to score the part it holds, give a window that ends by then (--window START:END)"
        )
    if whole_s < protocol.window_end_s:
        warnings.append(f"{signals.video}: window end clipped from {protocol.window_end_s:g} s to {whole_s:g} s (video length)")
        protocol = replace(protocol, window_end_s=whole_s)
    return protocol, warnings


def outline_warnings(signals: MotionSignals, animals: Sequence[str]) -> dict[str, str]:
    """Warnings (by animal) for the animals whose outline was found in under
    ``MIN_OUTLINE_SHARE`` of the frames where it is measured (every ``silhouette_interval_s``),
    or first found more than ``LATE_OUTLINE_S`` into the video."""
    f = signals.frames
    measured = f[f["frame_luma_dn"].notna() & f["animal"].isin(list(animals))]
    share = measured["animal_area_px"].notna().groupby(measured["animal"]).mean()
    first_s = measured["frame"][measured["animal_area_px"].notna()].groupby(measured["animal"]).min() / signals.fps
    out = {
        animal: f"{signals.video}: ROI {animal!r}: the animal's outline was found in only {s:.0%} of the frames where it "
        f"is measured; where it is not (the animal touching a wall, the ROI's edge or a background of its own "
        f"colour), the classifier's outline features (shape change, area, centroid) are interpolated"
        for animal, s in share.items() if s < MIN_OUTLINE_SHARE
    }
    out.update({
        animal: f"{signals.video}: ROI {animal!r}: the animal's outline was first found {t:.0f} s into the video (nothing in "
        f"the ROI moved like an animal before: was the mouse put in after the camera started? then give the test's "
        f"start, cohort column test_start_s); the classifier's outline features before then are filled in"
        for animal, t in first_s.items() if t > LATE_OUTLINE_S and share[animal] >= MIN_OUTLINE_SHARE
    })
    return out


def gone_warnings(signals: MotionSignals, animals: Sequence[str], window_s: tuple[float, float]) -> dict[str, str]:
    """Warnings (by animal) for animals outlined at first whose outline then goes missing for
    :data:`GONE_MIN_S` or more seconds running inside the window (the animal taken out)."""
    f = signals.frames
    measured = f[f["frame_luma_dn"].notna() & f["animal"].isin(list(animals))]
    out = {}
    for animal, g in measured.groupby("animal", sort=False):
        outlined = g["animal_area_px"].notna().groupby((g["frame"].to_numpy() / signals.fps).astype(int)).any()
        if outlined.mean() < MIN_OUTLINE_SHARE:
            continue  # mostly without an outline: the outline warning says so
        seconds, found = outlined.index.to_numpy(), outlined.to_numpy()
        first = int(np.argmax(found))
        gone = [s for a, b in runs(~found[first:]) if b - a >= GONE_MIN_S
                for s in seconds[first + a : first + b] if window_s[0] <= s < window_s[1]]
        if gone:
            out[str(animal)] = (
                f"{signals.video}: ROI {animal!r}: the animal is no longer seen for {len(gone)} s of the window, from "
                f"{gone[0]} s of the video (its outline, found before, is missing for {GONE_MIN_S} s or more running): "
                "was it taken out? An empty compartment is scored as immobility; check the video, and exclude the animal "
                "or set the window as your protocol says"
            )
    return out


def flicker_warning(signals: MotionSignals) -> str | None:
    """What to tell the user when the brightness flickered (and frames were matched in it), or None."""
    if "flicker_dn" not in signals.per_roi or signals.per_roi.empty:
        return None  # signals made by hand, without the measure
    flicker_dn = float(signals.per_roi["flicker_dn"].iloc[0])
    if not flicker_dn > FLICKER_DN:
        return None
    return (
        f"{signals.video}: the brightness of the ROIs changes from frame to frame by up to {flicker_dn:.1f} grey levels "
        f"(over {signals.params.calibration_frames} frames; flickering lamps, bands of light rolling through the picture, "
        f"or the camera's automatic exposure; steady lights give under {FLICKER_DN:g}): where it does, each frame was "
        f"matched in brightness, line by line (the rows the camera's sensor read: the picture's columns in a phone's "
        f"portrait clip), to the frame it is compared with before the difference was taken"
    )


#: Two ROIs of a video that share at least this much of the smaller one hold the same compartment.
SAME_COMPARTMENT_SHARE = 0.5


def overlap_warnings(signals: MotionSignals) -> list[tuple[str, tuple[str, str]]]:
    """Warnings, each with its two animals, for pairs of ROIs that share at least
    ``SAME_COMPARTMENT_SHARE`` of the smaller one: the same compartment given twice (a copied
    row of the cohort table), whose animals are scored from the same pixels."""
    out = []
    rois = signals.rois
    for i, a in enumerate(rois):
        for b in rois[i + 1 :]:
            w = min(a.x + a.w, b.x + b.w) - max(a.x, b.x)
            h = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
            share = max(w, 0) * max(h, 0) / min(a.w * a.h, b.w * b.h)
            if share >= SAME_COMPARTMENT_SHARE:
                text = (f"{signals.video}: the ROIs of {a.animal!r} and {b.animal!r} overlap by {share:.0%} of the smaller: "
                        f"the same compartment given twice? Their animals are scored from the same pixels; check the ROIs")
                out.append((text, (a.animal, b.animal)))
    return out


def retiming_warning(signals: MotionSignals) -> str | None:
    """What to tell the user when the file's frames were set to a constant rate, or None."""
    filled, dropped, closed = len(signals.filled_frames), signals.frames_dropped, signals.gaps_closed
    if not filled and not dropped and not closed:
        return None
    closed_up = (
        f"; {closed} gap(s) of more than {MAX_GAP_S:g} s in the file's times (a damaged time stamp, or a recording paused) "
        f"closed up: times after them are earlier than the file says" if closed else ""
    )
    return (
        f"{signals.video}: the frames are not at the header's constant {signals.fps:.4g} frames/s (a variable frame rate, as "
        f"phones record in dim light, frames lost, or a header rate that is not the file's): they were set to it by their "
        f"own times, as ffmpeg -fps_mode cfr would: {filled} frames filled in (repeating the one before; left out of the "
        f"per-second motion, as repeats are) and {dropped} left out" + closed_up
    )


def small_body_warnings(signals: MotionSignals, animals: Sequence[str]) -> dict[str, str]:
    """Warnings (by animal) for the animals whose body (where it was found) covers fewer pixels
    than ``SMALLEST_CHECKED_BODY_PX``."""
    return {
        row.animal: f"{signals.video}: ROI {row.animal!r}: the animal covers only {row.animal_area_px:.0f} px of the image; scoring "
        f"was checked against known truth down to {SMALLEST_CHECKED_BODY_PX:.0f} px, and below that small movements of a "
        f"limb change no whole pixel (immobility tends to be over-called): record closer or at a higher resolution, or "
        f"check some seconds by eye (behavscore overlay)"
        for row in signals.per_roi.itertuples()
        if row.animal in animals and row.animal_found and row.animal_area_px < SMALLEST_CHECKED_BODY_PX
    }


def disagreement_warnings(
    video: os.PathLike | str, seconds: pd.DataFrame, threshold_labels: pd.Series, protocol: Protocol
) -> dict[str, str]:
    """Warnings (by animal) for the animals whose immobility over the window, by the trained scorer
    (``seconds["label"]``) and by the protocol's threshold scorer (``threshold_labels``, same
    index), differs by more than ``DISAGREEMENT_PCT`` percentage points."""
    window = in_window_mask(seconds["second"], (protocol.window_start_s, protocol.window_end_s))
    calls = pd.DataFrame(
        {"animal": seconds["animal"], "model": seconds["label"] == "immobile", "threshold": threshold_labels == "immobile"}
    )
    share = 100.0 * calls[window].groupby("animal", sort=False)[["model", "threshold"]].mean()
    return {
        animal: f"{video}: ROI {animal!r}: the classifier calls {row['model']:.0f} % of the window immobile, the motion "
        f"index (threshold scorer) {row['threshold']:.0f} %: one of them is off for this video (the shipped models agree "
        f"with the threshold scorer within a few points on the synthetic videos they were made for; another camera angle, "
        f"lighting, species or test moves them apart). Check some seconds by eye (behavscore overlay), score with "
        f"--model threshold, or validate against hand scoring (behavscore validate)"
        for animal, row in share.iterrows() if abs(row["model"] - row["threshold"]) > DISAGREEMENT_PCT
    }


def animal_present(signals: MotionSignals, seconds: pd.DataFrame) -> dict[str, bool]:
    """An animal is present when it looks like one or when its ROI really moves."""
    out = {}
    animal, changed_px = seconds["animal"].to_numpy(dtype=object), seconds["changed_px"].to_numpy(dtype=float)
    for row in signals.per_roi.itertuples():
        changed = changed_px[animal == row.animal]
        p90 = float(np.nanpercentile(changed, 90)) if np.isfinite(changed).any() else 0.0
        out[row.animal] = bool(row.animal_found) or p90 >= MOVING_FRACTION * row.roi_w * row.roi_h
    return out


def pass_params(scorer: Scorer, params: SignalParams) -> SignalParams:
    """The settings of the decoding pass a scorer needs: the threshold scorer reads none of the
    classifier's measures, so its pass leaves them out (``SignalParams.classifier_measures``)."""
    return replace(params, classifier_measures=False) if isinstance(scorer, ThresholdScorer) else params


def score_signals(
    signals: MotionSignals,
    protocol: str | Protocol = "fst",
    model: str | Scorer = "default",
    window: tuple[float, float] | None = None,
) -> ScoreResult:
    """Label and summarise already-computed motion signals (no video decoding).

    Parameters are those of :func:`score_video`; see there.
    """
    proto = get_protocol(protocol, window)
    scorer = resolve_scorer(model, proto.name)
    if not isinstance(scorer, ThresholdScorer) and not signals.params.classifier_measures:
        raise ValueError(
            f"{signals.video}: these signals were measured for the threshold scorer, without the silhouette measures a "
            "trained model reads; compute them again with the default SignalParams, or score them with model='threshold'"
        )
    min_bout_s = scorer.min_bout_s
    warnings: list[str] = []
    flags: dict[str, list[str]] = {roi.animal: [] for roi in signals.rois}

    def note(text: str | None, flag: str, animals: Iterable[str] | None = None) -> None:
        """Keep a warning, and flag the animals it concerns (all of the video's by default)."""
        assert flag in FLAGS, flag
        if text:
            warnings.append(text)
            for animal in flags if animals is None else animals:
                flags[animal].append(flag)

    def note_each(texts: dict[str, str], flag: str) -> None:
        for animal, text in texts.items():
            note(text, flag, [animal])

    proto, length = check_duration(signals, proto)
    for text in length:
        note(text, "video length")
    repeats = repeat_warning(signals)
    if repeats:
        note(repeats, "repeated frames", animals_with_repeats(signals))
    note(flicker_warning(signals), "flickering light")
    note_each(frozen_warnings(signals, (proto.window_start_s, proto.window_end_s)), "frozen picture")
    note(retiming_warning(signals), "frame rate")
    # A TST mouse that climbs its tail or falls is seen in its outline: a trained model's pass
    # measures it, the threshold scorer's does not (and so never reports it, whatever signals it is given).
    climbed_s = None
    if proto.name == "tst" and not isinstance(scorer, ThresholdScorer):
        heights, window_s = height_above_hanging(signals), (proto.window_start_s, proto.window_end_s)
        climbed_s, fallen_s = tail_climb_seconds(heights, window_s), fallen_seconds(heights, window_s)
        climbs, falls = off_hanging_warnings(signals.video, heights, climbed_s, fallen_s)
        note_each(climbs, "tail climbing")
        note_each(falls, "fell")
    for text in several_animals_warning(signals.video, signals.places_side_by_side):
        note(text, "several animals")
    for text, pair in overlap_warnings(signals):
        note(text, "overlapping ROIs", pair)
    proto = replace(proto, labels=tuple(scorer.labels))
    table = per_second(signals)
    if not isinstance(scorer, ThresholdScorer):  # the waveform measures are the classifier's alone
        table = add_frame_measures(table, signals)
    present = animal_present(signals, table)
    predicted = scorer.predict(table)
    p_cols = [f"p_{c}" for c in scorer.labels]
    # ``motion`` is the index the threshold scorer compares, whichever scorer labelled the seconds.
    index = scorer if isinstance(scorer, ThresholdScorer) else default_threshold_scorer(proto.name)
    motion = table[[index.column]].rename(columns={index.column: "motion"})
    seconds = pd.concat([table[["video", "animal", "second"]], predicted[["label"]], motion, predicted[p_cols]], axis=1)
    absent = ~seconds["animal"].map(present)
    if absent.any():
        seconds.loc[absent, ["label"]] = None
        seconds.loc[absent, p_cols] = np.nan

    thresholds = scorer.animal_thresholds(table) if hasattr(scorer, "animal_thresholds") else {}
    rows = []
    for roi in signals.rois:
        base = {"video": signals.video.name, "animal": roi.animal}
        mine = seconds[seconds["animal"] == roi.animal]
        if present[roi.animal]:
            rows.append({**base, **summarise_animal(mine, proto, min_bout_s), "model": scorer.name, "status": "ok",
                         "threshold_pct": thresholds.get(roi.animal, np.nan)})
        else:
            empty = summarise_animal(mine.iloc[:0], proto, min_bout_s)
            empty.update({k: np.nan for k in empty if k.endswith("_s") and k not in ("window_start_s", "window_end_s")})
            empty.update(immobility_pct=np.nan, bouts=np.nan)
            empty.update({k: np.nan for k in empty if k.endswith("_counts")})
            rows.append({**base, **empty, "model": scorer.name, "status": "no_animal"})
            warnings.append(f"{signals.video}: ROI {roi.animal!r}: nothing that moves or looks like an animal; no immobility reported")
    note_each(small_body_warnings(signals, [a for a, here in present.items() if here]), "small body")
    if not isinstance(scorer, ThresholdScorer):  # the threshold scorer reads no outline measure
        note_each(outline_warnings(signals, [a for a, here in present.items() if here]), "outline")
        note_each(gone_warnings(signals, [a for a, here in present.items() if here], (proto.window_start_s, proto.window_end_s)), "gone")
        threshold_labels = index.predict(table)["label"]
        note_each(disagreement_warnings(signals.video, seconds[~absent], threshold_labels[~absent], proto), "disagreement")
        if hasattr(scorer, "unlike_training"):
            judged = ~absent.to_numpy() & in_window_mask(table["second"], (proto.window_start_s, proto.window_end_s))
            note_each(scorer.unlike_training(str(signals.video), table, judged), "unlike training")
    summary = pd.DataFrame(rows)
    if proto.name == "tst":
        summary["tail_climbing_s"] = [
            float(len(climbed_s.get(roi.animal, []))) if climbed_s is not None and present[roi.animal] else np.nan for roi in signals.rois
        ]
    summary["flags"] = ["; ".join(dict.fromkeys(flags[roi.animal])) for roi in signals.rois]
    extras = [c for c in summary.columns if c in ("longest_bout_s", "immobility_counts", "swimming_counts", "climbing_counts",
                                                  "threshold_pct", "tail_climbing_s", "flags")]
    lead = [c for c in summary.columns if c not in extras]
    summary = summary[lead + extras]
    minutes = per_minute(seconds[~absent], proto)
    bouts = bout_table(seconds[~absent], proto, min_bout_s)
    return ScoreResult(seconds=seconds, summary=summary, minutes=minutes, features=table, signals=signals, protocol=proto,
                       warnings=warnings, bouts=bouts)


def score_video(
    path: str | os.PathLike,
    protocol: str | Protocol = "fst",
    rois: Sequence | None = None,
    model: str | Scorer = "default",
    window: tuple[float, float] | None = None,
    signal_params: SignalParams = SignalParams(),
) -> ScoreResult:
    """Score immobility in one FST or TST video.

    Parameters
    ----------
    path : path-like
        Video file (anything FFmpeg decodes: mp4, avi, mov, wmv, ...).
    protocol : {"fst", "tst"} or Protocol
        FST scores 120–360 s, TST 0–360 s by default.
    rois : list of (animal, x, y, w, h), optional
        One pixel rectangle per animal; ``None`` = the whole frame, animal id = file stem.
    model : str or Scorer
        ``"default"``, ``"threshold"`` or a scorer object, e.g.
        ``ThresholdScorer(threshold_pct=20, min_bout_s=2)`` for your own threshold.
    window : (start_s, end_s), optional
        Overrides the protocol's scored window.
    signal_params : SignalParams
        Settings of the decoding pass (noise cut-off). The threshold scorer's pass leaves out
        the measures only a trained classifier reads (:func:`pass_params`).

    Returns
    -------
    ScoreResult
        ``.seconds`` and ``.summary`` in the column contracts, plus per-minute bins and the
        per-frame signals.

    Raises
    ------
    VideoError
        Missing, empty, unreadable, truncated or too-short video, or an ROI outside the frame;
        the message names the file.
    """
    info = probe(path)
    scorer = resolve_scorer(model, get_protocol(protocol, window).name)  # a bad protocol or model fails before the pass
    signals = compute_signals(info.path, as_rois(rois), pass_params(scorer, signal_params), info)
    return score_signals(signals, protocol, scorer, window)
