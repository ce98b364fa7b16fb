"""The ``overlay`` command: an annotated copy of a video (boxes, labels, running immobility) for spot checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, List, Optional

import pandas as pd
import typer

from .cohort import TEST_START_COLUMN
from .overlay import legible_scale, write_overlay
from .signals import DEFAULT_LAG_S
from .threshold import SMALL_BODY_AREA_PX
from .video import probe

HELP = "Write an annotated copy of a video (ROI boxes, per-second labels, running immobility) for spot checks."
#: ``--relative`` of ``score``, ``batch`` and ``overlay``.
RELATIVE_HELP = ("Per-animal threshold as this share of the animal's typical active motion, for every animal (default: FST 0.75; "
                 f"TST 0.65, down to 0.60 for bodies of {SMALL_BODY_AREA_PX:g} px or fewer); 0 = absolute threshold only.")


def _same_file(a: str | Path, b: Path) -> bool:
    try:
        return Path(a).resolve() == b.resolve()
    except OSError:
        return False


def _cohort_rois(cohort: Path, video: Path, width_px: int, height_px: int) -> list[tuple[str, int, int, int, int]]:
    """ROIs of the cohort rows of this video (the whole frame, named as the table does, when it gives none)."""
    from .cohort import read_cohort, rois_of

    table = read_cohort(cohort)
    rows = table[[_same_file(p, video) for p in table["video_path"]]]
    if rows.empty:
        rows = table[[Path(v).name == video.name for v in table["video"]]]
    if rows.empty:
        raise ValueError(f"{cohort}: no row for video {video.name}")
    return rois_of(rows) or [(str(rows["animal"].iloc[0]), 0, 0, width_px, height_px)]


def _seconds_csv(results: Path) -> Path:
    path = results / "seconds.csv" if results.is_dir() else results
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found; --results takes the output folder of 'behavscore score' or 'batch'")
    return path


def _rows_of_video(table: pd.DataFrame, video: Path, source: Path) -> pd.DataFrame:
    if "video" not in table.columns:
        raise ValueError(f"{source}: no 'video' column; is this a seconds.csv written by behavscore?")
    rows = table[[Path(str(v)).name == video.name for v in table["video"]]]
    if rows.empty:
        names = ", ".join(sorted({Path(str(v)).name for v in table["video"]})[:5])
        raise ValueError(f"{source}: no rows for video {video.name} (it holds {names or 'no video'})")
    return rows


def _recorded_window(results_dir: Path, video: Path) -> tuple[float, float] | None:
    """Scored window of this video, in seconds of the video, as summary.csv beside seconds.csv
    records it (in seconds of the test where the cohort gave a test start)."""
    path = results_dir / "summary.csv"
    if not path.is_file():
        return None
    summary = pd.read_csv(path)
    if not {"video", "window_start_s", "window_end_s"} <= set(summary.columns):
        return None
    rows = summary[[Path(str(v)).name == video.name for v in summary["video"]]].dropna(subset=["window_start_s", "window_end_s"])
    if rows.empty:
        return None
    start = float(rows[TEST_START_COLUMN].iloc[0]) if TEST_START_COLUMN in rows.columns else 0.0
    return float(rows["window_start_s"].iloc[0]) + start, float(rows["window_end_s"].iloc[0]) + start


def _recorded_rois(results_dir: Path, video: Path) -> list[tuple] | None:
    """ROIs that 'behavscore score' recorded in provenance.json for this video."""
    path = results_dir / "provenance.json"
    try:
        record = json.loads(path.read_text())
        params, inputs = record["parameters"], record["inputs"]
        if params.get("command") != "score" or not params.get("rois") or inputs[0]["path"] != video.name:
            return None
        return [tuple(r) for r in params["rois"]]
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None


def _rater_seconds(path: Path, video: Path, behaviour_map: str, subject_map: str, observations: str = "") -> pd.DataFrame:
    """A rater's per-second labels of this video (refused: per-animal totals, or no row of it)."""
    from .annotations import parse_behaviour_map, parse_pairs, read_annotations

    if not path.exists():
        raise FileNotFoundError(f"{path}: file not found (--human)")
    table = read_annotations(path, behaviour_map=parse_behaviour_map(behaviour_map) if behaviour_map else None,
                             animal_map=parse_pairs(subject_map, "--subject-map entry", "name=id"), observations=observations or None)
    if "second" not in table.columns:
        raise ValueError(f"{path.name}: per-animal totals have no seconds to draw; give the rater's per-second annotations")
    return _rows_of_video(table, video, path)


def overlay(
    video: Annotated[Path, typer.Argument(help="Video file to annotate (mp4, avi, mov, wmv, ...).")],
    protocol: Annotated[str, typer.Option("--protocol", "-p", help="fst or tst.")] = "fst",
    roi: Annotated[
        Optional[List[str]],
        typer.Option("--roi", help="Animal compartment NAME=x,y,w,h in pixels; repeat for several animals. Default: from --cohort or the results, else the whole frame."),
    ] = None,
    cohort: Annotated[
        Optional[Path], typer.Option("--cohort", help="Cohort table: the ROIs of this video's rows are drawn.")
    ] = None,
    results: Annotated[
        Optional[Path],
        typer.Option("--results", "-r", help="Output folder of 'behavscore score' or 'batch': draw its seconds.csv instead of scoring again."),
    ] = None,
    out: Annotated[
        Optional[Path], typer.Option("--out", "-o", help="Output .mp4 (default: VIDEO-STEM_overlay.mp4 in the current folder).")
    ] = None,
    window: Annotated[
        str, typer.Option("--window", help="Scored window START:END in seconds (default: as recorded in --results, else FST 120:360, TST 0:360).")
    ] = "",
    start_s: Annotated[Optional[float], typer.Option("--start-s", help="Export from this time on, seconds (default: the start).")] = None,
    end_s: Annotated[Optional[float], typer.Option("--end-s", help="Export up to this time, seconds (default: the end).")] = None,
    scale: Annotated[int, typer.Option("--scale", help="Enlarge frames N times (0 = enough for legible labels: small videos are enlarged to at least 240 px tall).")] = 0,
    threshold: Annotated[
        Optional[float], typer.Option("--threshold", help="Absolute immobility threshold on the motion index (% of the animal's area changing per frame). Default: FST 15, TST 10.")
    ] = None,
    relative: Annotated[
        Optional[float], typer.Option("--relative", help=RELATIVE_HELP)
    ] = None,
    min_bout: Annotated[
        Optional[float], typer.Option("--min-bout", help="Minimum immobile bout, seconds (shorter runs count as mobile). Default 1.")
    ] = None,
    model: Annotated[str, typer.Option("--model", help="'default', 'threshold' or a path to a .skops model.")] = "default",
    lag_s: Annotated[
        float, typer.Option("--lag-s", help="Compare frames this many seconds apart, rounded to whole frames (0 = consecutive frames).")
    ] = DEFAULT_LAG_S,
    human: Annotated[
        Optional[Path],
        typer.Option("--human", help="A rater's annotations of this video (BORIS project or export, per-second table): drawn beside the scorer's labels, the seconds they differ marked."),
    ] = None,
    behaviour_map: Annotated[str, typer.Option("--map", help='The rater\'s behaviour names to labels, e.g. "Immobility=immobile".')] = "",
    subject_map: Annotated[str, typer.Option("--subject-map", help='The rater\'s subject names to animal ids, e.g. "Mouse 1=m01".')] = "",
    observations: Annotated[str, typer.Option("--observations", help="When the annotations are a BORIS project holding several raters' observations: read those whose id matches, e.g. '*rater A*'.")] = "",
) -> None:
    """Annotated copy of a video: ROI boxes coloured by each second's label, running immobility, time and window."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from .cli import _parse_roi, _run, _scorer, console, fail
    from .protocols import get_protocol, parse_window
    from .video import probe

    info = _run(lambda: probe(video))
    if roi and cohort is not None:
        fail("give either --roi or --cohort, not both")
    rois = [_parse_roi(t, i, video.stem) for i, t in enumerate(roi or [])] or None
    if cohort is not None:
        rois = _run(lambda: _cohort_rois(cohort, video, info.width_px, info.height_px))
    win = _run(lambda: parse_window(window))
    out = out if out is not None else Path(f"{video.stem}_overlay.mp4")

    if results is not None:
        if model != "default" or threshold is not None or relative is not None or min_bout is not None or lag_s != DEFAULT_LAG_S:
            console.print("[yellow]warning:[/] scoring options are ignored with --results (the labels come from seconds.csv)")
        source = _run(lambda: _seconds_csv(results))
        seconds = _run(lambda: _rows_of_video(pd.read_csv(source), video, source))
        if rois is None:
            rois = _recorded_rois(source.parent, video)
        if rois is not None:
            animals = set(seconds["animal"].astype(str))
            missing = [str(r[0]) for r in rois if str(r[0]) not in animals]
            if missing:
                fail(f"{source}: animal(s) {', '.join(missing)} of video {video.name} not found (it has {', '.join(sorted(animals))})")
        elif seconds["animal"].nunique() > 1:
            fail(f"{source}: {seconds['animal'].nunique()} animals for video {video.name}; give their ROIs with --roi or --cohort")
        window_s = win or _recorded_window(source.parent, video)
        if window_s is None:
            proto = _run(lambda: get_protocol(protocol))
            window_s = (proto.window_start_s, proto.window_end_s)
    else:
        from .score import score_video
        from .signals import SignalParams

        scorer = _scorer(model, protocol, threshold, relative, min_bout)
        console.print(f"scoring {video.name} ...")
        result = _run(lambda: score_video(video, protocol=protocol, rois=rois, model=scorer, window=win, signal_params=SignalParams(diff_lag_s=lag_s)))
        for w in result.warnings:
            console.print(f"[yellow]warning:[/] {w}")
        seconds = result.seconds
        window_s = (result.protocol.window_start_s, result.protocol.window_end_s)
        if rois is None:
            rois = [(str(seconds["animal"].iloc[0]), 0, 0, info.width_px, info.height_px)]

    rater = None
    if human is not None:
        rater = ("rater", _run(lambda: _rater_seconds(human, video, behaviour_map, subject_map, observations)))
    first_s = start_s or 0.0
    last_s = end_s if end_s is not None else (info.duration_claimed_s or None)
    total = max(int(round(((last_s or first_s) - first_s) * info.fps)), 0) or None
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console, transient=True) as progress:
        task = progress.add_task(f"writing {out.name}", total=total)
        written = _run(lambda: write_overlay(video, seconds, rois, out, window_s, start_s, end_s, on_frame=lambda i: progress.advance(task), scale=scale or legible_scale(probe(video).height_px), rater=rater))
    segment = "" if start_s is None and end_s is None else f", {first_s:g}-{end_s if end_s is not None else 'end'} s"
    console.print(f"written {written} (window {window_s[0]:g}-{window_s[1]:g} s{segment})")
