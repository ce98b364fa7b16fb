"""The ``validate`` command: agreement of automatic scores with hand annotations (and between raters)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Annotated, Optional

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from .agreement import AgreementReport, agreement_figure, compare
from .cohort_stats import default_group_columns
from .group_agreement import conclusion_lines, group_conclusions
from .agreement_in_time import disagreement_runs, minute_agreement, minute_line
from .annotations import AnnotationError, is_annotation_file, parse_behaviour_map, parse_column_map, parse_pairs, read_annotations
from .outputs import sha256_file
from .protocols import PROTOCOLS

PROTOCOL_WINDOWS_S = {name: (p.window_start_s, p.window_end_s) for name, p in PROTOCOLS.items()}


def parse_window(text: str) -> Optional[tuple[float, float]]:
    """Parse ``"120-360"`` (also ``120:360``, ``120,360``) or ``fst`` / ``tst`` into (start_s, end_s).

    Parameters
    ----------
    text : str
        Window text; empty means all common seconds.

    Returns
    -------
    (float, float) or None
    """
    s = (text or "").strip().casefold()
    if not s:
        return None
    if s in PROTOCOL_WINDOWS_S:
        return PROTOCOL_WINDOWS_S[s]
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(?:-|:|,|\.\.)\s*(\d+(?:\.\d+)?)", s)
    if not m:
        raise ValueError(f"--window {text!r}: expected start-end in seconds (e.g. 120-360), fst or tst")
    start_s, end_s = float(m.group(1)), float(m.group(2))
    if end_s <= start_s:
        raise ValueError(f"--window {text!r}: end must be after start")
    return start_s, end_s


def _sha256(path: Path) -> "str | dict[str, str]":
    """SHA-256 of a file, or of each annotation file of a folder (by name)."""
    if path.is_dir():
        return {p.name: sha256_file(p) for p in sorted(path.iterdir()) if is_annotation_file(p)}
    return sha256_file(path)


def _package_version() -> str:
    from . import __version__

    return str(__version__)


def _num(value: float, digits: int = 3) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _results_table(reports: list[AgreementReport]) -> Table:
    table = Table(title="Agreement (per second and per animal)", show_lines=False)
    table.add_column("measure")
    for rep in reports:
        table.add_column(rep.comparison, justify="right")
    summaries = [rep.summary().iloc[0] for rep in reports]
    rows: list[tuple[str, list[str]]] = [("animals compared", [str(int(s["n_animals"])) for s in summaries])]
    if any(rep.per_second_compared for rep in reports):
        rows += [
            ("seconds compared", [str(int(s["n_s"])) if s["n_s"] else "– (totals)" for s in summaries]),
            ("accuracy (per second)", [_num(s["accuracy"]) for s in summaries]),
            ("Cohen's kappa", [_num(s["kappa"]) for s in summaries]),
        ]
        for label in reports[0].labels:
            rows.append((f"  kappa, {label}", [_num(s.get(f"kappa_{label}", math.nan)) for s in summaries]))
    rows += [
        ("Pearson r, immobility", [_num(s["pearson_r"]) for s in summaries]),
        ("  95% CI", [f"{_num(s['pearson_r_ci95_low'])} to {_num(s['pearson_r_ci95_high'])}" for s in summaries]),
        ("  p", [_num(s["pearson_p"], 4) for s in summaries]),
        ("Bland–Altman bias (s)", [_num(s["bias_s"], 2) for s in summaries]),
        ("  95% limits of agreement (s)", [f"{_num(s['loa_low_s'], 1)} to {_num(s['loa_high_s'], 1)}" for s in summaries]),
        ("ICC(A,1), immobility", [_num(s["icc"]) for s in summaries]),
        ("  95% CI", [f"{_num(s['icc_ci95_low'])} to {_num(s['icc_ci95_high'])}" for s in summaries]),
    ]
    measures = dict.fromkeys(m for rep in reports for m in rep.per_measure[["measure", "unit"]].itertuples(index=False, name=None))
    for measure, unit in measures:
        suffix = "_s" if unit == "s" else ""
        rows += [
            (f"Pearson r, {measure.replace('_', ' ')}", [_num(s.get(f"pearson_r_{measure}", math.nan)) for s in summaries]),
            (f"  Bland–Altman bias ({unit})", [_num(s.get(f"bias_{measure}{suffix}", math.nan), 2) for s in summaries]),
            (f"  95% limits of agreement ({unit})",
             [f"{_num(s.get(f'loa_low_{measure}{suffix}', math.nan), 1)} to {_num(s.get(f'loa_high_{measure}{suffix}', math.nan), 1)}"
              for s in summaries]),
            ("  ICC(A,1)", [_num(s.get(f"icc_{measure}", math.nan)) for s in summaries]),
        ]
    for name, cells in rows:
        table.add_row(name, *cells)
    return table


#: Headline measures set beside the raters' agreement: (name, whether larger is better, its
#: value from an agreement.csv row).
_HEADLINES = (
    ("kappa", True, lambda r: r["kappa"]),
    ("immobility r", True, lambda r: r["pearson_r"]),
    ("immobility ICC(A,1)", True, lambda r: r.get("icc", math.nan)),
    ("limits of agreement, width (s)", False, lambda r: r["loa_high_s"] - r["loa_low_s"]),
)


def machine_next_to_raters(summary: pd.DataFrame) -> list[str]:
    """Whether the machine agrees with each rater as well as the raters agree with each other.

    Parameters
    ----------
    summary : DataFrame
        ``agreement.csv`` rows with the comparisons ``auto vs human``, ``auto vs human2`` and
        ``human vs human2``; anything else gives no lines.

    Returns
    -------
    list of str
        One line per headline measure both sides have (kappa, r, ICC, width of the limits of
        agreement): the machine's value with each rater, the raters' with each other, and
        whether the machine does as well with both raters, with one, or with neither.
    """
    rows = summary.set_index("comparison")
    wanted = ("auto vs human", "auto vs human2", "human vs human2")
    if not all(w in rows.index for w in wanted):
        return []
    lines = []
    for name, larger_is_better, value in _HEADLINES:
        machine = [float(value(rows.loc[w])) for w in wanted[:2]]
        raters = float(value(rows.loc[wanted[2]]))
        if not all(math.isfinite(v) for v in (*machine, raters)):
            continue
        as_good = sum((m >= raters) if larger_is_better else (m <= raters) for m in machine)
        verdict = {2: "as well as the raters or better", 1: "as well with one rater only", 0: "less well than the raters"}[as_good]
        lines.append(f"{name}: machine {machine[0]:.3g} and {machine[1]:.3g} (with each rater), raters {raters:.3g}: {verdict}")
    return lines


def _scorer_values(reports: list[AgreementReport]) -> dict[str, pd.DataFrame]:
    """Immobility per animal of every scorer (``auto``, ``human``, ``human2``) as its comparisons with auto gave it."""
    values: dict[str, pd.DataFrame] = {}
    for rep in reports:
        for side, name in (("a", rep.name_a), ("b", rep.name_b)):
            if name not in values:
                values[name] = rep.per_animal[["video", "animal", f"immobility_{side}_s"]].rename(columns={f"immobility_{side}_s": "immobility_s"})
    return values


def _in_time(reports: list[AgreementReport], table) -> pd.DataFrame:
    """``table(report)`` of every comparison of per-second tables, one table led by the comparison."""
    tables = [table(r).assign(comparison=r.comparison, a=r.name_a, b=r.name_b) for r in reports if r.per_second_compared]
    if not tables:
        return pd.DataFrame()
    out = pd.concat(tables, ignore_index=True)
    first = ["comparison", "a", "b"]
    return out[first + [c for c in out.columns if c not in first]]


def disagreement_lines(runs: pd.DataFrame, n: int = 3) -> list[str]:
    """The longest stretches each comparison parts over, to watch."""
    lines = []
    for comparison, part in runs.groupby("comparison", sort=False):
        if part.empty:
            continue
        shown = "; ".join(
            f"{r.video} {r.animal} {r.start_s:g}-{r.end_s:g} s ({r.a} {r.label_a}, {r.b} {r.label_b})" for r in part.head(n).itertuples()
        )
        lines.append(f"{comparison}, longest stretches apart: {shown}; all {len(part)} in disagreements.csv "
                     "(watch them: behavscore overlay VIDEO --results ... --human FILE --start-s ...)")
    return lines


def _cohort_groups(path: Path, groups: str) -> tuple[pd.DataFrame, list[str]]:
    """The cohort table and its group columns (given, or found as ``behavscore batch`` finds them)."""
    if not path.is_file():
        raise ValueError(f"{path.name}: file not found (--cohort)")
    table = pd.read_csv(path, sep=None, engine="python", dtype={"animal": str})
    columns = [c.strip() for c in groups.split(",") if c.strip()] or default_group_columns(table)
    missing = [c for c in ("video", "animal", *columns) if c not in table.columns]
    if missing or not columns:
        raise ValueError(f"{path.name}: needs columns video, animal and the group column(s) "
                         f"({', '.join(missing) or 'give them with --groups'} missing); found {', '.join(table.columns)}")
    return table, columns


def _groups_table(conclusions: pd.DataFrame) -> Table:
    sources = list(dict.fromkeys(conclusions["source"]))
    table = Table(title="Immobility by group (s): mean ± SEM, and the difference from the reference (Dunnett p)")
    table.add_column("group")
    for s in sources:
        table.add_column(f"{s}: mean", justify="right")
        table.add_column(f"{s}: difference", justify="right")
    for group, rows in conclusions.groupby("group", sort=False):
        cells = []
        for s in sources:
            r = rows[rows["source"] == s].iloc[0]
            cells.append(f"{_num(r['mean'], 1)} ± {_num(r['sem'], 1)}")
            if r["group"] == r["reference"]:
                cells.append("reference")
            else:
                p_text = f"p {r['p_value']:.2g}" if pd.notna(r["p_value"]) else f"no p, n {int(r['n'])}"
                cells.append(f"{_num(r['difference'], 1)} ({p_text})")
        table.add_row(str(group), *cells)
    return table


def validate(
    auto: Annotated[Path, typer.Argument(help="Automatic per-second labels (seconds.csv), per-animal totals (summary.csv) or any supported table.")],
    human: Annotated[Path, typer.Argument(help="Hand annotations: BORIS project file (.boris), BORIS tabular or aggregated export, per-second CSV, or per-animal totals (stopwatch seconds, time-sampling counts); or a folder of such files (BORIS writes one per observation).")],
    human2: Annotated[
        Optional[Path], typer.Option("--human2", help="A second rater's annotations, for inter-rater agreement.")
    ] = None,
    map: Annotated[
        str, typer.Option("--map", help='Lab behaviour names to labels, e.g. "Immobility=immobile,Struggling=mobile".')
    ] = "",
    window: Annotated[
        str, typer.Option("--window", help="Seconds compared, start-end (e.g. 120-360), or fst (120-360) / tst (0-360).")
    ] = "",
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("validation"),
    labels: Annotated[
        str, typer.Option("--labels", help="'immobility' compares immobile vs mobile only (swimming, climbing -> mobile).")
    ] = "",
    default_label: Annotated[
        str, typer.Option("--default-label", help="Label of time not covered by any annotated state.")
    ] = "mobile",
    subject_map: Annotated[
        str, typer.Option("--subject-map", help='BORIS subject names to animal ids, e.g. "Mouse 1=m01,Mouse 2=m02".')
    ] = "",
    columns: Annotated[
        str, typer.Option("--columns", help='Column names of your files to ours, e.g. "Immobility time (s)=immobility_s,Animal ID=animal".')
    ] = "",
    cohort: Annotated[
        Optional[Path], typer.Option("--cohort", help="Cohort table with each animal's group (video, animal, treatment ...): compares group conclusions.")
    ] = None,
    groups: Annotated[
        str, typer.Option("--groups", help="Group column(s) of the cohort table, comma-separated (default: treatment and dose columns).")
    ] = "",
    reference: Annotated[str, typer.Option("--reference", help="Reference group (default: vehicle, saline, control or dose 0).")] = "",
    observations: Annotated[
        str, typer.Option("--observations", help="When HUMAN is a BORIS project holding several raters' observations: read those whose id matches, e.g. '*rater A*'.")
    ] = "",
    observations2: Annotated[
        str, typer.Option("--observations2", help="The same for --human2 (which may be the same project file).")
    ] = "",
) -> None:
    """Compare automatic scores with hand annotations (and a second rater) second by second and per animal.

    Hand totals per animal (a stopwatch's immobility seconds and latency, a time-sampling
    tally's counts) are compared animal by animal over --window.
    """
    console = Console()
    err = Console(stderr=True)
    try:
        behaviour_map = parse_behaviour_map(map) if map else {}
        win = parse_window(window)
        animal_map = parse_pairs(subject_map, "--subject-map entry", "name=id")
        column_map = parse_column_map(columns)
        inputs = {"auto": auto, "human": human}
        if human2 is not None:
            inputs["human2"] = human2
        chosen = {"human": observations or None, "human2": observations2 or None}
        if observations2 and human2 is None:
            raise AnnotationError("--observations2 chooses observations of --human2, which is not given")
        tables: dict[str, pd.DataFrame] = {}
        for name, path in inputs.items():
            if not path.exists():
                raise AnnotationError(f"{path.name}: file not found ({name})")
            tables[name] = read_annotations(
                path, behaviour_map=behaviour_map, default_label=default_label, animal_map=animal_map, column_map=column_map,
                observations=chosen.get(name),
            )
        grouping = _cohort_groups(cohort, groups) if cohort is not None else None
        pairs = [("auto", "human")]
        if "human2" in tables:
            pairs += [("auto", "human2"), ("human", "human2")]
        reports = []
        for a, b in pairs:
            try:
                reports.append(
                    compare(tables[a], tables[b], window=win, labels=labels or None, names=(a, b))
                )
            except ValueError as exc:
                raise ValueError(f"comparing {inputs[a].name} ({a}) with {inputs[b].name} ({b}): {exc}") from None
        conclusions = group_conclusions(_scorer_values(reports), *grouping, reference or None) if grouping is not None else None
        out.mkdir(parents=True, exist_ok=True)
        pd.concat([r.summary() for r in reports], ignore_index=True).to_csv(out / "agreement.csv", index=False)
        per_animal = pd.concat(
            [r.per_animal.assign(comparison=r.comparison, a=r.name_a, b=r.name_b) for r in reports], ignore_index=True
        )
        first = ["comparison", "a", "b"]
        per_animal[first + [c for c in per_animal.columns if c not in first]].to_csv(out / "per_animal.csv", index=False)
        minutes = _in_time(reports, lambda r: minute_agreement(r.aligned, r.compared_window))
        runs = _in_time(reports, lambda r: disagreement_runs(r.aligned))
        if not minutes.empty:
            minutes.to_csv(out / "minutes_agreement.csv", index=False)
            runs.to_csv(out / "disagreements.csv", index=False)
        agreement_figure(reports, out / "agreement.png")
        if conclusions is not None:
            conclusions.to_csv(out / "groups.csv", index=False)
        params = {
            "command": "validate",
            "behavscore_version": _package_version(),
            "inputs": {k: {"file": p.name, "sha256": _sha256(p), "format": tables[k].attrs.get("format")} for k, p in inputs.items()},
            "map": behaviour_map,
            "subject_map": animal_map,
            "columns": column_map,
            "observations": {k: v for k, v in chosen.items() if v},
            "window_s": list(win) if win else None,
            "labels": labels or None,
            "default_label": default_label,
            "cohort": None if cohort is None else {"file": cohort.name, "sha256": sha256_file(cohort), "groups": groups or None,
                                                   "reference": reference or None},
        }
        (out / "validate_params.json").write_text(json.dumps(params, indent=2) + "\n")
    except (AnnotationError, ValueError, OSError) as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None

    console.print(_results_table(reports))
    for line in machine_next_to_raters(pd.concat([r.summary() for r in reports], ignore_index=True)):
        console.print(line, markup=False)
    if not minutes.empty:
        for comparison, part in minutes.groupby("comparison", sort=False):
            console.print(minute_line(comparison, part), markup=False)
        for line in disagreement_lines(runs):
            console.print(line, markup=False)
    if conclusions is not None:
        console.print(_groups_table(conclusions))
        for line in conclusion_lines(conclusions):
            console.print(line, markup=False)
    for name, df in tables.items():
        n_unlabelled = int(df.attrs.get("unlabelled_seconds", 0) or 0)
        if n_unlabelled:
            console.print(f"note: {inputs[name].name}: {n_unlabelled} second(s) without a label (no animal seen) left out", markup=False)
        n_points = int(df.attrs.get("ignored_point_events", 0) or 0)
        if n_points:
            console.print(f"note: {inputs[name].name}: {n_points} POINT event(s) ignored (not mapped)", markup=False)
    for rep in reports:
        if not rep.per_second_compared:
            console.print(f"note: {rep.comparison}: per-animal totals only, so no per-second accuracy or kappa", markup=False)
        for rec in rep.unmatched.itertuples(index=False):
            console.print(
                f"note: {rep.comparison}: animal '{rec.animal}' of video '{rec.video}' not compared: {rec.reason}",
                markup=False,
            )
    written = ("agreement.csv, per_animal.csv, " + ("minutes_agreement.csv, disagreements.csv, " if not minutes.empty else "") + "agreement.png, "
               + ("groups.csv, " if conclusions is not None else ""))
    console.print(f"wrote {written}validate_params.json to {out}", markup=False)
