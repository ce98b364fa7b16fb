"""Score every animal of a cohort; a bad video is reported and the others are still scored."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from .cohort import rois_of
from .protocols import get_protocol
from .score import ScoreResult, score_video
from .scorers import Scorer, resolve_scorer
from .signals import SignalParams
from .summary import SUMMARY_COLUMNS
from .video import VideoError


@dataclass
class CohortResult:
    """Scores of a cohort.

    Attributes
    ----------
    seconds, summary, minutes : pandas.DataFrame
        Concatenated tables of all videos; ``summary`` starts with the cohort's own columns.
    failures : pandas.DataFrame
        ``video, animal, reason`` for every animal that could not be scored.
    results : dict
        ``ScoreResult`` per video file that was scored.
    warnings : list of str
    """

    seconds: pd.DataFrame
    summary: pd.DataFrame
    minutes: pd.DataFrame
    failures: pd.DataFrame
    results: dict[str, ScoreResult] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


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


def _score_one(task: tuple) -> ScoreResult | str:
    """Score one video of a cohort; a video that cannot be scored gives the reason instead."""
    video_path, rois, protocol, scorer, signal_params = task
    try:
        return score_video(video_path, protocol=protocol, rois=rois, model=scorer, signal_params=signal_params)
    except VideoError as exc:
        return str(exc).replace(f"{video_path}: ", "")


def _run_all(tasks: list[tuple], jobs: int, on_video) -> list:
    """Outcomes of :func:`_score_one` for every task, in task order, ``jobs`` at a time."""
    outcomes: list = [None] * len(tasks)

    def done(i: int, outcome) -> None:
        outcomes[i] = outcome
        if on_video:
            on_video(tasks[i][0], None if isinstance(outcome, str) else outcome)

    if jobs <= 1 or len(tasks) <= 1:
        for i, task in enumerate(tasks):
            done(i, _score_one(task))
        return outcomes
    context = multiprocessing.get_context("spawn")  # decoding threads and fork do not mix
    with concurrent.futures.ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=context) as pool:
        futures = {pool.submit(_score_one, task): i for i, task in enumerate(tasks)}
        for future in concurrent.futures.as_completed(futures):
            done(futures[future], future.result())
    return outcomes


def score_cohort(
    cohort: pd.DataFrame,
    protocol: str = "fst",
    model: "str | Scorer" = "default",
    window: tuple[float, float] | None = None,
    signal_params: SignalParams = SignalParams(),
    on_video: Callable[[str, ScoreResult | None], None] | None = None,
    jobs: int = 1,
) -> CohortResult:
    """Score each video of a cohort table once, all its animals in the same pass.

    Parameters
    ----------
    cohort : pandas.DataFrame
        Output of :func:`behavscore.cohort.read_cohort`.
    protocol, model, window, signal_params
        As for :func:`behavscore.score_video`.
    on_video : callable, optional
        Called after each video with its name and result (None on failure), e.g. for progress.
    jobs : int
        Videos scored at the same time, each in its own process (1 = in this process). The
        outputs are the same, in cohort order, whatever the number.

    Returns
    -------
    CohortResult
        A video that cannot be scored gives ``status = "error: <reason>"`` rows and a line in
        ``failures``; the others are scored normally.
    """
    proto = get_protocol(protocol, window)
    scorer = resolve_scorer(model, proto.name)  # loaded once, shared by every video
    meta_cols = [c for c in cohort.columns if c != "video_path"]
    records: dict = {}  # cohort row index -> summary fields
    seconds, minutes, failures, warnings, results = [], [], [], [], {}

    def fail(rows: pd.DataFrame, reason: str) -> None:
        for idx, rec in zip(rows.index, _error_rows(rows, proto, reason, scorer.name)):
            records[idx] = rec
        failures.extend({"video": r.video, "animal": r.animal, "reason": reason} for r in rows.itertuples())

    duplicated = cohort["animal"].duplicated(keep=False)
    for animal, bad in cohort[duplicated].groupby("animal", sort=False):
        fail(bad, f"animal id {animal!r} appears on {len(bad)} rows of the cohort table")
    videos = list(cohort[~duplicated].groupby("video_path", sort=False))
    tasks = [(str(path), rois_of(rows), proto, scorer, signal_params) for path, rows in videos]
    for (video_path, rows), (_, rois, *_rest), outcome in zip(videos, tasks, _run_all(tasks, jobs, on_video)):
        if isinstance(outcome, str):
            fail(rows, outcome)
            continue
        result = outcome
        if rois is None:  # whole frame: name the animal as the table does
            rename = {result.summary["animal"].iloc[0]: rows["animal"].iloc[0]}
            for t in (result.seconds, result.summary, result.minutes):
                t["animal"] = t["animal"].replace(rename)
        for t in (result.seconds, result.summary, result.minutes):
            t["video"] = rows["video"].iloc[0]
        by_animal = result.summary.set_index("animal", drop=False)
        for idx, animal in rows["animal"].items():
            records[idx] = by_animal.loc[animal].to_dict()
        results[str(video_path)] = result
        seconds.append(result.seconds)
        minutes.append(result.minutes)
        warnings += result.warnings
    scored = pd.DataFrame([records[i] for i in cohort.index]).drop(columns=["video", "animal"])
    summary = pd.concat([cohort[meta_cols].reset_index(drop=True), scored.reset_index(drop=True)], axis=1)
    return CohortResult(
        seconds=pd.concat(seconds, ignore_index=True) if seconds else pd.DataFrame(),
        summary=summary,
        minutes=pd.concat(minutes, ignore_index=True) if minutes else pd.DataFrame(),
        failures=pd.DataFrame(failures, columns=["video", "animal", "reason"]),
        results=results,
        warnings=warnings,
    )
