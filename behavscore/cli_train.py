"""The ``train`` command: fit a per-second classifier on synthetic videos or a lab's hand scores."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

console = Console(stderr=True)
out_console = Console()


def _fail(message: str) -> None:
    console.print("[bold red]error:[/] " + escape(message))
    raise typer.Exit(2)


def train(
    out: Annotated[Path, typer.Option("--out", help="Model file to write (NAME.skops; NAME.skops.sha256 is written beside it).")],
    protocol: Annotated[str, typer.Option("--protocol", help="fst or tst.")] = "fst",
    classes: Annotated[int, typer.Option("--classes", help="2 (immobile/mobile) or 3 (FST: immobile/swimming/climbing).")] = 2,
    synthetic: Annotated[Optional[int], typer.Option("--synthetic", help="Train on N synthetic videos with exact truth.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the synthetic cohort (201-299 are training seeds; 206-209 are filmed at 15 frames/s, the others at 25).")] = 201,
    animals: Annotated[int, typer.Option("--animals", help="Animals per synthetic video.")] = 3,
    seconds: Annotated[float, typer.Option("--seconds", help="Length of each synthetic video, s.")] = 360.0,
    cohort: Annotated[Optional[Path], typer.Option("--cohort", help="Cohort table of the hand-scored videos.")] = None,
    annotations: Annotated[Optional[Path], typer.Option("--annotations", help="BORIS project (.boris) or export, or per-second label table, or a folder of them (one BORIS file per observation).")] = None,
    behaviour_map: Annotated[str, typer.Option("--map", help='Behaviour names to labels, e.g. "Immobility=immobile,Struggle=mobile".')] = "",
    min_bout_s: Annotated[float, typer.Option("--min-bout", help="Immobile runs shorter than this (s) are relabelled.")] = 1.0,
    observations: Annotated[str, typer.Option("--observations", help="When the annotations are a BORIS project holding several raters' observations: read those whose id matches, e.g. '*rater A*'.")] = "",
    model_card: Annotated[Optional[Path], typer.Option("--model-card", help="Markdown model card to write this model's section into (default: MODEL_CARD.md beside --out).")] = None,
) -> None:
    """Train a classifier, cross-validate it by animal (5 folds) and write it as a verified .skops file."""
    from .annotations import parse_behaviour_map
    from .train import held_out_immobility_line, train_from_annotations, train_from_synthetic

    protocol = protocol.strip().lower()
    if protocol not in ("fst", "tst"):
        _fail(f"--protocol must be fst or tst, got {protocol!r}")
    if classes not in (2, 3):
        _fail(f"--classes must be 2 or 3, got {classes}")
    if classes == 3 and protocol != "fst":
        _fail("--classes 3 (immobile/swimming/climbing) exists only for --protocol fst")
    if out.suffix != ".skops":
        _fail(f"--out must end in .skops, got {out.name}")
    if (synthetic is None) == (cohort is None and annotations is None):
        _fail("give either --synthetic N (with --seed) or --cohort COHORT.csv --annotations FILE")
    if synthetic is None and (cohort is None or annotations is None):
        _fail("training on hand scores needs both --cohort and --annotations")
    card = model_card or out.with_name("MODEL_CARD.md")
    try:
        if synthetic is not None:
            if synthetic < 1:
                _fail(f"--synthetic must be at least 1 video, got {synthetic}")
            if synthetic * animals < 2:
                _fail("cross-validation needs at least 2 animals: raise --synthetic or --animals")
            _, info = train_from_synthetic(out, protocol, classes, (seed,), synthetic, seconds, animals, model_card=card, min_bout_s=min_bout_s)
        else:
            for p in (cohort, annotations):
                if not p.exists():
                    _fail(f"{p} does not exist")
            mapping = parse_behaviour_map(behaviour_map) if behaviour_map else None
            _, info = train_from_annotations(out, cohort, annotations, protocol, classes, mapping, model_card=card,
                                             observations=observations or None, min_bout_s=min_bout_s)
    except typer.Exit:
        raise
    except (ValueError, OSError) as exc:
        _fail(str(exc))
    cv = info["cross_validation"]
    out_console.print(
        f"wrote {out} ({info['file_bytes'] / 1024:.0f} KiB, sha256 {info['sha256'][:12]}...): {info['n_animals']} animals, "
        f"{info['n_seconds']} labelled seconds; {cv['folds']}-fold CV by animal: accuracy {cv['accuracy']:.3f}, "
        f"kappa {cv['kappa']:.3f}, macro-F1 {cv['macro_f1']:.3f}; model card {card}"
    )
    out_console.print(f"per animal, {held_out_immobility_line(cv)}")
