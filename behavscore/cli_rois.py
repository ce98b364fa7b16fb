"""The ``rois`` command: propose one ROI per animal and write a cohort table and figures to check."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .cohort import CohortError, list_videos

HELP = "Propose one ROI per animal (compartments side by side) from where things move; write a cohort table and figures to check."

console = Console(stderr=True, soft_wrap=True)  # messages
out_console = Console()  # the table and the --roi options to copy


def _as_listed(video: Path, out: Path | None) -> str:
    """The video as the cohort table names it: relative to the table's folder when inside it."""
    if out is None:
        return video.as_posix()
    try:
        return video.resolve().relative_to(out.resolve().parent).as_posix()
    except ValueError:
        return video.resolve().as_posix()


def rois(
    path: Annotated[Path, typer.Argument(help="A video, or a folder of videos recorded with the same rig.")],
    animals: Annotated[int, typer.Option("--animals", "-n", min=1, help="Animals side by side in each video.")],
    out: Annotated[Optional[Path], typer.Option("--out", help="Cohort table to write (CSV: video, animal, roi_x, roi_y, roi_w, roi_h); a figure per video goes beside it.")] = None,
    seconds: Annotated[float, typer.Option("--seconds", help="Seconds from the start in which movement is looked for.")] = 60.0,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing cohort table.")] = False,
) -> None:
    """Propose one ROI per animal for videos of compartments side by side.

    Each animal's compartment is found from where things move in the first seconds; dividers
    at its edges are left out. Check the figures, add your treatment columns to the table,
    then run 'behavscore batch' on it.
    """
    from .compartments import CompartmentError, plot_proposal, propose_video_rois
    from .outputs import write_csv
    from .video import VideoError

    if out is not None and out.exists() and not force:
        console.print(f"[bold red]error:[/] {escape(str(out))} exists (it may hold hand-entered columns); give another --out or --force")
        raise typer.Exit(2)
    try:
        videos = list_videos(path) if path.is_dir() else [path]
    except CohortError as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
    rows, failures = [], []
    table = Table(title=f"Proposed ROIs ({animals} animal{'s' if animals > 1 else ''} per video)")
    for col in ("animal", "roi_x", "roi_y", "roi_w", "roi_h", "found by"):
        table.add_column(col, justify="left" if col in ("animal", "found by") else "right", overflow="fold")
    for video in videos:
        try:
            proposal = propose_video_rois(video, animals, sample_s=seconds)
        except (VideoError, CompartmentError) as exc:
            failures.append(str(exc))
            continue
        for name, x, y, w, h in proposal.rois:
            rows.append({"video": _as_listed(video, out), "animal": name, "roi_x": x, "roi_y": y, "roi_w": w, "roi_h": h})
            table.add_row(name, str(x), str(y), str(w), str(h), proposal.method)
        if out is not None:
            plot_proposal(proposal, out.parent / f"{video.stem}_rois.png", title=video.name)
        else:
            out_console.print(escape(f"{video.name}: " + " ".join(f"--roi {n}={x},{y},{w},{h}" for n, x, y, w, h in proposal.rois)))
    if rows:
        out_console.print(table)
    for message in failures:
        console.print(f"[bold red]not proposed:[/] {escape(message)}")
    if out is not None and rows:
        write_csv(pd.DataFrame(rows), out)
        console.print(escape(f"{out} written with {len(rows)} animals; figures {out.parent}/<video>_rois.png. Check them, "
                             "add treatment/dose columns, then: behavscore batch " + str(out)))
    if failures:
        raise typer.Exit(1)
