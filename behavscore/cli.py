"""The ``behavscore`` command line: a thin layer over the Python API."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import __version__
from .cli_assay import assay_app, microdialysis_app
from .cli_overlay import HELP as OVERLAY_HELP
from .cli_overlay import RELATIVE_HELP
from .cli_overlay import overlay
from .cli_rois import HELP as ROIS_HELP
from .cli_rois import rois
from .cli_train import train
from .cli_validate import validate
from .signals import DEFAULT_LAG_S, SignalParams

app = typer.Typer(
    help="Score immobility in forced swim (FST) and tail suspension (TST) videos, and fit in-vitro assays.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True, soft_wrap=True)
out_console = Console()

_DEBUG = {"on": False}


def _version(value: bool) -> None:
    if value:
        print(f"behavscore {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
    debug: bool = typer.Option(False, "--debug", help="Show the full traceback on errors."),
) -> None:
    """behavscore: forced swim / tail suspension scoring and assay fitting for pharmacodynamic studies."""
    _DEBUG["on"] = debug


def fail(message: str) -> None:
    """Print a short error and exit with status 2."""
    console.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(2)


def _parse_roi(text: str, index: int, stem: str) -> tuple[str, int, int, int, int]:
    name, _, coords = text.rpartition("=")
    try:
        x, y, w, h = (int(v) for v in coords.split(","))
    except ValueError:
        fail(f"--roi {text!r}: expected x,y,w,h in pixels (optionally NAME=x,y,w,h)")
    return (name or f"{stem}-{index + 1}", x, y, w, h)


SUMMARY_HEADERS = {
    "animal": "animal", "immobility_s": "immob s", "immobility_pct": "immob %", "latency_s": "latency s",
    "bouts": "bouts", "mean_bout_s": "bout s", "swimming_s": "swim s", "climbing_s": "climb s", "status": "status",
    "flags": "flags",
}


def _summary_table(summary, title: str) -> Table:
    table = Table(title=title, show_lines=False)
    flagged = "flags" in summary.columns and summary["flags"].fillna("").astype(str).str.len().gt(0).any()
    cols = [c for c in SUMMARY_HEADERS if c in summary.columns and (c != "flags" or flagged)]
    for c in cols:
        table.add_column(SUMMARY_HEADERS[c], justify="left" if c in ("animal", "status", "flags") else "right", overflow="fold")
    for row in summary.itertuples():
        table.add_row(*(_summary_cell(c, getattr(row, c)) for c in cols))
    return table


def _summary_cell(column: str, value) -> str:
    """One cell of the terminal summary: counts whole, times to 0.1 s, nothing shown where
    nothing was measured (an empty arena, a video that failed, no immobile bout for latency)."""
    if isinstance(value, float):
        if value != value:  # NaN
            return "–"
        return f"{value:.0f}" if column == "bouts" else f"{value:.1f}"
    return str(value)


def _run(fn):
    """Call ``fn`` turning expected errors into short messages (tracebacks with --debug)."""
    try:
        return fn()
    except (ValueError, FileNotFoundError, PermissionError) as exc:
        if _DEBUG["on"]:
            raise
        if isinstance(exc, OSError) and exc.filename:
            fail(f"{exc.filename}: {'file not found' if isinstance(exc, FileNotFoundError) else 'permission denied'}")
        fail(str(exc))


ScoringWindow = typer.Option("", "--window", help="Scored window START:END in seconds (default: FST 120:360, TST 0:360).")
Threshold = typer.Option(None, "--threshold", help="Absolute immobility threshold on the motion index (% of the animal's area changing per frame). Default: FST 15, TST 10.")
Relative = typer.Option(None, "--relative", help=RELATIVE_HELP)
MinBout = typer.Option(None, "--min-bout", help="Minimum immobile bout, seconds (shorter runs count as mobile). Default 1.")
Model = typer.Option("default", "--model", help="'default', 'threshold' or a path to a .skops model.")
LagS = typer.Option(DEFAULT_LAG_S, "--lag-s", help="Compare frames this many seconds apart, rounded to whole frames (0 = consecutive frames). The default, one frame at 25 frames/s, keeps the motion index the same whatever the camera's frame rate; ~0.2 follows open-field walking speed.")


def _scorer(model: str, protocol: str, threshold: Optional[float], relative: Optional[float], min_bout: Optional[float]):
    """The scorer the options describe (protocol defaults where an option is not given)."""
    from dataclasses import replace

    from .scorers import resolve_scorer

    scorer = _run(lambda: resolve_scorer(model, protocol.lower()))
    if not hasattr(scorer, "threshold_pct"):  # a trained model: only the minimum bout applies
        if threshold is not None or relative is not None:
            fail("--threshold and --relative apply to the threshold scorer; add --model threshold")
        if min_bout is not None:
            scorer.min_bout_s = min_bout  # a freshly loaded model, not shared
        return scorer
    changes = {}
    if threshold is not None:
        changes["threshold_pct"] = threshold
    if relative is not None:
        changes["relative_threshold"] = relative if relative > 0 else None
        changes["small_body_relative_threshold"] = None  # the share given applies to every body size
    if min_bout is not None:
        changes["min_bout_s"] = min_bout
    return _run(lambda: replace(scorer, **changes)) if changes else scorer


def _thresholds(result) -> dict | None:
    """Per-animal thresholds of a threshold-scored result (for the QC figure)."""
    if "threshold_pct" not in result.summary:
        return None
    return dict(zip(result.summary["animal"], result.summary["threshold_pct"]))


def _flags(result) -> dict[str, str]:
    """Per-animal flags of a result (for the QC figure)."""
    return dict(zip(result.summary["animal"], result.summary["flags"]))


def _describe(scorer) -> dict:
    """What provenance records of a scorer: its settings, or a model's name, version and sha256."""
    from dataclasses import asdict, is_dataclass

    if is_dataclass(scorer):
        return asdict(scorer)
    meta = getattr(scorer, "metadata_", {})
    return {"name": getattr(scorer, "name", str(scorer)), "min_bout_s": getattr(scorer, "min_bout_s", None), **meta}


def _write_tables(out: Path, result) -> None:
    """seconds.csv, summary.csv, minutes.csv and bouts.csv of a video's or a cohort's result."""
    from .outputs import write_csv

    out.mkdir(parents=True, exist_ok=True)
    for name in ("seconds", "summary", "minutes", "bouts"):
        write_csv(getattr(result, name), out / f"{name}.csv")


@app.command()
def score(
    video: Path = typer.Argument(..., help="Video file (mp4, avi, mov, wmv, ...)."),
    protocol: str = typer.Option("fst", "--protocol", "-p", help="fst or tst."),
    roi: Optional[List[str]] = typer.Option(None, "--roi", help="Animal compartment x,y,w,h in pixels, or NAME=x,y,w,h; repeat for several animals. Default: whole frame."),
    out: Path = typer.Option(Path("results"), "--out", "-o", help="Output folder."),
    window: str = ScoringWindow,
    threshold: Optional[float] = Threshold,
    relative: Optional[float] = Relative,
    min_bout: Optional[float] = MinBout,
    model: str = Model,
    lag_s: float = LagS,
) -> None:
    """Score one video: seconds.csv, summary.csv, minutes.csv, bouts.csv, warnings.csv, a QC figure and provenance.json."""
    from .outputs import sha256_file, warnings_table, write_csv, write_provenance
    from .protocols import parse_window
    from .qc import plot_qc
    from .score import score_video

    rois = [_parse_roi(t, i, video.stem) for i, t in enumerate(roi or [])] or None
    scorer = _scorer(model, protocol, threshold, relative, min_bout)
    result = _run(lambda: score_video(video, protocol=protocol, rois=rois, model=scorer, window=parse_window(window), signal_params=SignalParams(diff_lag_s=lag_s)))
    _write_tables(out, result)
    write_csv(warnings_table([(video, result.warnings)]), out / "warnings.csv")
    (out / "qc").mkdir(exist_ok=True)
    plot_qc(result.seconds, result.protocol, out / "qc" / f"{video.stem}.png", _thresholds(result), video.name, _flags(result))
    params = {"command": "score", "protocol": result.protocol, "scorer": _describe(scorer), "rois": rois, "signals": result.signals.params, "per_roi": result.signals.per_roi.to_dict("records")}
    write_provenance(out, params, [{"path": video.name, "sha256": sha256_file(video), "bytes": video.stat().st_size, "frames_decoded": result.signals.n_frames, "fps": result.signals.fps, "warnings": result.warnings}])
    for w in result.warnings:
        console.print(f"[yellow]warning:[/] {escape(w)}")
    out_console.print(_summary_table(result.summary, f"{video.name} — {result.protocol.name.upper()} {result.protocol.window_start_s:g}–{result.protocol.window_end_s:g} s"))
    console.print(f"written to {out}/")


@app.command()
def batch(
    cohort: Path = typer.Argument(..., help="Cohort table (CSV: video, animal, optional roi_x, roi_y, roi_w, roi_h, metadata) or a folder of videos."),
    protocol: str = typer.Option("fst", "--protocol", "-p", help="fst or tst."),
    out: Path = typer.Option(Path("results"), "--out", "-o", help="Output folder."),
    window: str = ScoringWindow,
    threshold: Optional[float] = Threshold,
    relative: Optional[float] = Relative,
    min_bout: Optional[float] = MinBout,
    model: str = Model,
    lag_s: float = LagS,
    strict: bool = typer.Option(False, "--strict", help="Exit with status 1 when any animal could not be scored."),
    jobs: int = typer.Option(0, "--jobs", "-j", help="Videos scored in parallel, one process and one core each (0 = one per CPU core)."),
    cache: bool = typer.Option(True, "--cache/--no-cache", help="Keep each video's motion signals in OUT/cache, so a rerun (after an interruption, or with another threshold, window or model) decodes only what is missing."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Address of a Dask scheduler (tcp://host:8786) to score on a cluster; workers must see the videos and OUT at the same paths. Needs: pip install 'behavscore[dask]'."),
    group: Optional[List[str]] = typer.Option(None, "--group", help="Cohort column(s) defining treatment groups; repeat for several (e.g. --group treatment --group dose_mg_kg). Default: a treatment-like column and a dose* column when present."),
    reference: Optional[str] = typer.Option(None, "--reference", help="Label of the reference group for Dunnett's test (default: the dose-0 or vehicle/saline/control group)."),
    dose_col: Optional[str] = typer.Option(None, "--dose-col", help="Numeric dose column for the dose-response fit and ED50 (default: the dose* group column)."),
    covariate: Optional[List[str]] = typer.Option(None, "--covariate", help="Cohort column(s) entered as factors in an adjusted ANOVA (e.g. sex, batch); repeatable."),
    group_stats: bool = typer.Option(True, "--group-stats/--no-group-stats", help="Write stats.csv, Prism tables and group figures after scoring."),
    exclude_flagged: Optional[List[str]] = typer.Option(None, "--exclude-flagged", help="Leave animals with this flag (e.g. 'tail climbing', 'fell') out of the group statistics, Prism tables and group figures (summary.csv keeps them); repeatable."),
) -> None:
    """Score a whole cohort: seconds.csv, summary.csv, minutes.csv, bouts.csv, failures.csv, warnings.csv, QC figures, provenance,
    and per group stats.csv (ANOVA, Dunnett vs vehicle, ED50), Prism tables and figures."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from .batch import score_cohort
    from .cohort import read_cohort
    from .outputs import warnings_table, write_csv, write_provenance
    from .protocols import parse_window
    from .qc import plot_qc
    from .score import FLAGS, OUTLINE_FLAGS, pass_params
    from .threshold import ThresholdScorer

    table = _run(lambda: read_cohort(cohort))
    win = _run(lambda: parse_window(window))
    scorer = _scorer(model, protocol, threshold, relative, min_bout)
    unknown = [c for c in [*(group or []), *(covariate or []), *([dose_col] if dose_col else [])] if c not in table.columns]
    if unknown:  # checked before hours of scoring, not after
        fail(f"{cohort}: no column {', '.join(map(repr, unknown))}; its columns are {', '.join(table.columns.drop('video_path'))}")
    unknown_flags = [f for f in exclude_flagged or [] if f not in FLAGS]
    if unknown_flags:
        fail(f"--exclude-flagged: no flag {', '.join(map(repr, unknown_flags))}; the flags are {', '.join(map(repr, FLAGS))}")
    never = [f for f in exclude_flagged or [] if f in OUTLINE_FLAGS and isinstance(scorer, ThresholdScorer)]
    if never:  # it would exclude nothing, and say nothing
        fail(f"--exclude-flagged {', '.join(map(repr, never))}: the threshold scorer neither outlines the animal nor has "
             "training data to compare it with, and never raises this flag; score with a trained model (--model default) to find such animals")
    n_videos = table["video_path"].nunique()
    (out / "qc").mkdir(parents=True, exist_ok=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("scoring videos", total=n_videos, rate="")
        started, frames = time.perf_counter(), [0]

        def on_video(outcome) -> None:
            if outcome.result is not None:
                res, name = outcome.result, Path(outcome.video)
                plot_qc(res.seconds, res.protocol, out / "qc" / f"{name.stem}.png", _thresholds(res), name.name, _flags(res))
                frames[0] += res.signals.n_frames if outcome.decoded else 0
            rate = frames[0] / max(time.perf_counter() - started, 1e-9)
            progress.update(task, advance=1, rate=f"{rate:,.0f} frames/s" if frames[0] else "")

        result = _run(lambda: score_cohort(
            table, protocol=protocol, model=scorer, window=win, signal_params=SignalParams(diff_lag_s=lag_s),
            on_video=on_video, jobs=jobs or (os.cpu_count() or 1), cache_dir=out / "cache" if cache else None, scheduler=scheduler,
        ))
    _write_tables(out, result)
    write_csv(result.failures, out / "failures.csv")
    write_csv(warnings_table([(o.video, o.result.warnings) for o in result.outcomes if o.result is not None]), out / "warnings.csv")
    params = {"command": "batch", "cohort": cohort.name, "protocol": protocol, "window": win, "scorer": _describe(scorer),
              "signals": pass_params(scorer, SignalParams(diff_lag_s=lag_s))}
    if group_stats:
        params["group_stats"] = _write_group_stats(result, out, group, reference, dose_col, covariate, exclude_flagged or [])
    write_provenance(out, params, [o.provenance() for o in result.outcomes])
    for w in result.warnings:
        console.print(f"[yellow]warning:[/] {escape(w)}")
    out_console.print(_summary_table(result.summary, f"{cohort.name} — {protocol.upper()}"))
    for f in result.failures.itertuples():
        console.print("[red]not scored:[/] " + escape(f"{f.video} / {f.animal}: {f.reason}"))
    n_cached = sum(o.result is not None and not o.decoded for o in result.outcomes)
    if n_cached:
        console.print(f"{n_cached} of {len(result.outcomes)} videos scored from cached signals (not decoded again)")
    console.print(f"{len(result.summary) - len(result.failures)} of {len(result.summary)} animals scored; written to {out}/")
    if strict and len(result.failures):
        raise typer.Exit(1)


def _write_group_stats(result, out: Path, group, reference, dose_col, covariate, exclude_flagged: list[str]) -> dict:
    """stats.csv, Prism tables and group figures of a scored cohort; returns the settings used."""
    from .cohort_figures import write_group_outputs
    from .cohort_stats import default_group_columns, exclude_flagged as set_aside

    groups = group or default_group_columns(result.summary)
    dose_col = dose_col or next((c for c in groups if c.lower().startswith("dose")), None)

    def say(message: str) -> None:
        console.print(f"[yellow]note:[/] {escape(message)}")

    summary = set_aside(result.summary, exclude_flagged)
    excluded = summary.loc[summary["status"] != result.summary["status"], "animal"].tolist()
    if exclude_flagged:
        say(f"{len(excluded)} animal(s) flagged {' or '.join(map(repr, exclude_flagged))} left out of the group statistics"
            + (f": {', '.join(map(str, excluded))}" if excluded else ""))
    written = _run(lambda: write_group_outputs(summary, result.minutes, result.seconds, out, groups if group else None, reference, dose_col, covariate or (), on_message=say))
    return {"groups": groups, "reference": reference, "dose_col": dose_col, "covariates": covariate or [],
            "excluded_flags": exclude_flagged, "excluded_animals": excluded, "files": [str(p.relative_to(out)) for p in written]}


@app.command()
def synth(
    out: Path = typer.Argument(..., help="Output folder for the videos, truth.csv and cohort.csv."),
    protocol: str = typer.Option("fst", "--protocol", "-p", help="fst or tst."),
    n: int = typer.Option(2, "--n", help="Number of videos."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same videos)."),
    seconds: float = typer.Option(360.0, "--seconds", help="Session length, seconds."),
    animals: int = typer.Option(2, "--animals", help="Animals (compartments) per video."),
    fps: float = typer.Option(25.0, "--fps", help="Frame rate."),
) -> None:
    """Generate synthetic FST/TST videos with exact per-second truth and a cohort table."""
    from .synth import generate_cohort

    table = _run(lambda: generate_cohort(out, protocol, n=n, seed=seed, seconds=seconds, animals=animals, fps=fps))
    console.print(f"{n} videos, {len(table)} animals written to {out}/ (truth.csv, cohort.csv)")


@app.command("fit-threshold")
def fit_threshold_cmd(
    seconds_csv: Path = typer.Argument(..., help="seconds.csv written by 'behavscore score' or 'batch' (has the motion column)."),
    annotations: Path = typer.Argument(
        ..., help="Hand scores: BORIS project file (.boris) or export, per-second CSV (video, animal, second, label), or per-animal stopwatch totals (video, animal, immobility_s); or a folder of such files."
    ),
    map: str = typer.Option("", "--map", help="Behaviour names to labels, e.g. 'Immobility=immobile,Struggling=mobile'."),
    min_bout: float = typer.Option(1.0, "--min-bout", help="Minimum immobile bout, seconds, applied as the scorer will."),
    window: str = typer.Option(
        "", "--window", help="Seconds the hand scores cover, start-end (e.g. 120-360) or fst / tst; needed with per-animal totals."
    ),
    columns: str = typer.Option("", "--columns", help='Column names of your sheet to ours, e.g. "Immobility time (s)=immobility_s".'),
    observations: str = typer.Option("", "--observations", help="When the annotations are a BORIS project holding several raters' observations: read those whose id matches, e.g. '*rater A*'."),
) -> None:
    """Fit the immobility threshold to hand-scored seconds (as DBscorer does with 3–4 videos) or to stopwatch totals."""
    import pandas as pd

    from .agreement import is_per_second, videos_by_animal
    from .annotations import parse_behaviour_map, parse_column_map, read_annotations
    from .cli_validate import parse_window
    from .summary import in_window_mask
    from .threshold import fit_threshold, fit_threshold_to_totals, held_out_agreement, motion_for_totals

    def go():
        span = parse_window(window)
        auto = pd.read_csv(seconds_csv)
        if "motion" not in auto.columns:
            raise ValueError(f"{seconds_csv.name}: no motion column (use the seconds.csv that 'behavscore score' or 'batch' wrote)")
        human = read_annotations(annotations, behaviour_map=parse_behaviour_map(map) if map else None, column_map=parse_column_map(columns),
                                 observations=observations or None)
        auto["video"] = auto["video"].map(lambda v: Path(str(v)).name)
        auto["animal"] = auto["animal"].astype(str)
        if not is_per_second(human):
            return _fit_to_totals(auto, human, span or human.attrs.get("window_s"), min_bout)
        if span is not None:
            auto = auto[in_window_mask(auto["second"], span)]
        both = auto.merge(human[["video", "animal", "second", "label"]], on=["video", "animal", "second"], suffixes=("", "_human"))
        if both.empty:
            raise ValueError(f"no (video, animal, second) in {annotations} matches {seconds_csv}; check video file names and animal ids")
        both = both.sort_values(["video", "animal", "second"])
        motion, immobile = both["motion"].to_numpy(), (both["label_human"] == "immobile").to_numpy()
        animal = (both["video"] + "/" + both["animal"]).to_numpy()
        thr, agreement = fit_threshold(motion, immobile, min_bout, animal)
        held_out = held_out_agreement(motion, immobile, animal, min_bout)
        left_out = f"; {100 * held_out:.1f}% on each animal's seconds with the threshold fitted to the others" if pd.notna(held_out) else ""
        return thr, f"agreement {100 * agreement:.1f}% on {len(both)} hand-scored seconds{left_out}"

    def _fit_to_totals(auto, totals, span, min_bout_s):
        if span is None:
            raise ValueError(f"{annotations.name} holds per-animal totals: give --window, the seconds they cover (e.g. 120-360 or fst)")
        if "immobility_s" not in totals.columns:
            raise ValueError(f"{annotations.name}: a threshold is fitted to immobility_s, which this table lacks")
        totals = videos_by_animal(totals, auto, (annotations.name, seconds_csv.name))
        motion, hand, left_out = motion_for_totals(auto, totals, span)
        if not motion and not left_out:
            raise ValueError(f"no animal of {annotations.name} is in {seconds_csv.name} (videos are matched by file name, animals by name)")
        for note in left_out:
            out_console.print(f"note: {note}", markup=False)
        fit = fit_threshold_to_totals(motion, hand, min_bout_s)
        return fit.threshold_pct, (
            f"immobility per animal within {fit.rms_error_s:.1f} s RMS of the hand totals, bias {fit.bias_s:+.1f} s, "
            f"on {len(hand)} animals; {fit.held_out_rms_error_s:.1f} s RMS for each animal left out of the fit"
        )

    thr, how = _run(go)
    out_console.print(f"threshold {thr:.3g} % ({how})")
    out_console.print(f"use it with: behavscore score VIDEO --threshold {thr:.3g} --relative 0")


# Commands defined in their own modules, listed after score, batch, synth and fit-threshold.
app.command("validate", help="Compare automatic scores with hand annotations (and two raters with each other).")(validate)
app.command("train", help="Train an immobility classifier on hand-scored or synthetic videos.")(train)
app.command("overlay", help=OVERLAY_HELP)(overlay)
app.command("rois", help=ROIS_HELP)(rois)
app.add_typer(assay_app, name="assay")
app.add_typer(microdialysis_app, name="microdialysis")


def run() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
