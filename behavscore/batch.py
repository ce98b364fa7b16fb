"""Score every animal of a cohort; a bad video is reported and the others are still scored."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from .cache import SignalCache, cache_key
from .cohort import rois_of, test_start_of
from .executors import run_tasks
from .outputs import sha256_file
from .protocols import Protocol, get_protocol
from .score import ScoreResult, as_rois, pass_params, score_signals
from .scorers import Scorer, resolve_scorer
from .signals import Roi, SignalParams, compute_signals, whole_frame_roi
from .summary import BOUT_COLUMNS, SUMMARY_COLUMNS
from .video import VideoError, probe


@dataclass
class CohortResult:
    """Scores of a cohort.

    Attributes
    ----------
    seconds, summary, minutes, bouts : pandas.DataFrame
        Concatenated tables of all videos; ``summary`` starts with the cohort's own columns.
    failures : pandas.DataFrame
        ``video, animal, reason`` for every animal that could not be scored.
    results : dict
        ``ScoreResult`` per video file that was scored.
    outcomes : list of VideoOutcome
        Per video: content hash, size, whether it was decoded or read from the cache.
    warnings : list of str
    """

    seconds: pd.DataFrame
    summary: pd.DataFrame
    minutes: pd.DataFrame
    failures: pd.DataFrame
    results: dict[str, ScoreResult] = field(default_factory=dict)
    outcomes: list = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    bouts: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=BOUT_COLUMNS))


def _error_rows(rows: pd.DataFrame, protocol, reason: str, model: str) -> list[dict]:
    out = []
    for r in rows.itertuples():
        out.append(
            {
                "video": r.video, "animal": r.animal, "protocol": protocol.name,
                "window_start_s": protocol.window_start_s, "window_end_s": protocol.window_end_s,
                **{c: np.nan for c in SUMMARY_COLUMNS[3:]}, "model": model, "status": f"error: {reason}",
            }
        )
    return out


@dataclass(frozen=True)
class VideoTask:
    """Everything needed to score one video of a cohort (sent to worker processes)."""

    video: str
    rois: tuple[Roi, ...] | None
    protocol: Protocol
    scorer: Scorer
    signal_params: SignalParams
    cache_dir: str | None


@dataclass
class VideoOutcome:
    """What scoring one video gave: a result, or the reason there is none.

    Attributes
    ----------
    video : str
    result : ScoreResult or None
    reason : str or None
        Why the video could not be scored (None when it was).
    sha256 : str or None
        Content hash of the file (None when it could not be read).
    bytes : int or None
    decoded : bool
        True when the video was decoded, False when its signals came from the cache.
    """

    video: str
    result: ScoreResult | None = None
    reason: str | None = None
    sha256: str | None = None
    bytes: int | None = None
    decoded: bool = False

    def provenance(self) -> dict:
        """The input record of this video for ``provenance.json``."""
        signals = self.result.signals if self.result is not None else None
        return {
            "path": Path(self.video).name, "sha256": self.sha256, "bytes": self.bytes,
            "signals": ("decoded" if self.decoded else "cache") if signals is not None else None,
            "frames_decoded": signals.n_frames if signals is not None else None,
            "fps": signals.fps if signals is not None else None,
            "warnings": list(self.result.warnings) if self.result is not None else [],
        }


def same_content_warnings(outcomes: Sequence[VideoOutcome]) -> list[tuple[str, set[str]]]:
    """Warnings, each with its videos' paths, for files of a cohort with the same content (the
    same recording copied under another name): their animals are scored from the same frames."""
    by_content: dict[str, list[str]] = {}
    for outcome in outcomes:
        if outcome.sha256:
            by_content.setdefault(outcome.sha256, []).append(outcome.video)
    return [
        (f"{', '.join(paths)}: the same file content (SHA-256 {sha[:12]}...): one recording listed as {len(paths)} videos? "
         f"Their animals are scored from the same frames", set(paths))
        for sha, paths in by_content.items() if len(paths) > 1
    ]


def score_task(task: VideoTask) -> VideoOutcome:
    """Score one video, from its cached signals when the cache has them; errors become reasons."""
    path = Path(task.video)
    outcome = VideoOutcome(task.video)
    try:
        info = probe(path)
        outcome.sha256, outcome.bytes = sha256_file(path), path.stat().st_size
        rois = task.rois or (whole_frame_roi(info, path.stem),)
        cache = SignalCache(task.cache_dir) if task.cache_dir else None
        params = pass_params(task.scorer, task.signal_params)
        signals = None
        if cache:  # signals with every measure serve every scorer
            for stored in dict.fromkeys((replace(params, classifier_measures=True), params)):
                signals = cache.load(cache_key(outcome.sha256, rois, stored), path)
                if signals is not None:
                    break
        if signals is None:
            signals = compute_signals(path, rois, params, info)
            outcome.decoded = True
            if cache:
                cache.save(cache_key(outcome.sha256, rois, params), signals)
        outcome.result = score_signals(signals, task.protocol, task.scorer)
    except VideoError as exc:
        outcome.reason = str(exc).replace(f"{path}: ", "")
    return outcome


def score_cohort(
    cohort: pd.DataFrame,
    protocol: str = "fst",
    model: "str | Scorer" = "default",
    window: tuple[float, float] | None = None,
    signal_params: SignalParams = SignalParams(),
    on_video: Callable[[VideoOutcome], None] | None = None,
    jobs: int = 1,
    cache_dir: str | os.PathLike | None = None,
    scheduler: str | None = None,
) -> CohortResult:
    """Score each video of a cohort table once, all its animals in the same pass.

    Parameters
    ----------
    cohort : pandas.DataFrame
        Output of :func:`behavscore.cohort.read_cohort`.
    protocol, model, window, signal_params
        As for :func:`behavscore.score_video`.
    on_video : callable, optional
        Called with each video's :class:`VideoOutcome` as it finishes, e.g. for progress.
    jobs : int
        Videos scored at the same time, each in its own process (1 = in this process). The
        outputs are the same, in cohort order, whatever the number.
    cache_dir : path-like, optional
        Folder of cached motion signals (see :mod:`behavscore.cache`). A video whose signals
        are there (same content, ROIs and pass settings) is scored from them without being
        decoded; a decoded video's signals are added as soon as it is done, so an
        interrupted batch resumes where it stopped.
    scheduler : str, optional
        Address of a Dask distributed scheduler to send the videos to instead of local
        processes (needs the ``dask`` extra; workers must see the videos and the cache).

    Returns
    -------
    CohortResult
        A video that cannot be scored gives ``status = "error: <reason>"`` rows and a line in
        ``failures``; the others are scored normally. Where the cohort gives ``test_start_s``,
        each video's window is counted from its test start: ``seconds`` stay in seconds from
        the start of the video, the summary's window and the per-minute bins are in seconds
        of the test.
    """
    proto = get_protocol(protocol, window)
    scorer = resolve_scorer(model, proto.name)  # loaded once, shared by every video
    meta_cols = [c for c in cohort.columns if c != "video_path"]
    records: dict = {}  # cohort row index -> summary fields
    seconds, minutes, bouts, failures, warnings, results = [], [], [], [], [], {}

    def fail(rows: pd.DataFrame, reason: str) -> None:
        for idx, rec in zip(rows.index, _error_rows(rows, proto, reason, scorer.name)):
            records[idx] = rec
        failures.extend({"video": r.video, "animal": r.animal, "reason": reason} for r in rows.itertuples())

    duplicated = cohort["animal"].duplicated(keep=False)
    for animal, bad in cohort[duplicated].groupby("animal", sort=False):
        fail(bad, f"animal id {animal!r} appears on {len(bad)} rows of the cohort table")
    videos = list(cohort[~duplicated].groupby("video_path", sort=False))
    cache = str(Path(cache_dir).resolve()) if cache_dir else None
    starts = [test_start_of(rows) for _, rows in videos]
    tasks = [
        VideoTask(str(path), tuple(as_rois(rois_of(rows)) or ()) or None, proto.in_video(start), scorer, signal_params, cache)
        for (path, rows), start in zip(videos, starts)
    ]
    outcomes = run_tasks(score_task, tasks, jobs, scheduler, (lambda i, o: on_video(o)) if on_video else None)
    for (video_path, rows), task, outcome, start in zip(videos, tasks, outcomes, starts):
        if outcome.result is None:
            fail(rows, outcome.reason)
            continue
        result = outcome.result
        if start:  # windows and bins in seconds of the test, as the protocol counts them
            result.summary[["window_start_s", "window_end_s"]] -= start
            result.minutes[["bin_start_s", "bin_end_s"]] -= start
            result.bouts[["start_s", "end_s"]] -= start
        tables = (result.seconds, result.summary, result.minutes, result.bouts)
        if task.rois is None:  # whole frame: name the animal as the table does
            rename = {result.summary["animal"].iloc[0]: rows["animal"].iloc[0]}
            for t in tables:
                t["animal"] = t["animal"].replace(rename)
        for t in tables:
            t["video"] = rows["video"].iloc[0]
        by_animal = result.summary.set_index("animal", drop=False)
        for idx, animal in rows["animal"].items():
            records[idx] = by_animal.loc[animal].to_dict()
        results[str(video_path)] = result
        seconds.append(result.seconds)
        minutes.append(result.minutes)
        bouts.append(result.bouts)
        warnings += result.warnings
    for text, paths in same_content_warnings(outcomes):
        warnings.append(text)
        for idx, path in cohort["video_path"].items():
            if str(path) in paths and records[idx].get("status") == "ok":
                records[idx]["flags"] = "; ".join(f for f in (records[idx].get("flags") or "", "same video") if f)
    scored = pd.DataFrame([records[i] for i in cohort.index]).drop(columns=["video", "animal"])
    summary = pd.concat([cohort[meta_cols].reset_index(drop=True), scored.reset_index(drop=True)], axis=1)
    return CohortResult(
        seconds=pd.concat(seconds, ignore_index=True) if seconds else pd.DataFrame(),
        summary=summary,
        minutes=pd.concat(minutes, ignore_index=True) if minutes else pd.DataFrame(),
        bouts=pd.concat(bouts, ignore_index=True) if bouts else pd.DataFrame(columns=BOUT_COLUMNS),
        failures=pd.DataFrame(failures, columns=["video", "animal", "reason"]),
        results=results,
        outcomes=outcomes,
        warnings=warnings,
    )
