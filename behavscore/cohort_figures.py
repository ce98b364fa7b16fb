"""Group figures and tables of a scored cohort: dot/bar plots, time course, ethogram, stats.csv."""

from __future__ import annotations

import os
import textwrap
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .bouts import runs
from .cohort import TEST_START_COLUMN
from .cohort_stats import (GroupDesign, _ok_mask, assign_groups, column_unit, default_group_columns,
                           group_statistics, outcome_unit, prism_wide)
from .outputs import write_csv, write_png
from .qc import LABEL_COLOURS

__all__ = [
    "draw_group_bars", "plot_group_bars", "draw_time_course", "plot_time_course",
    "draw_ethogram", "plot_ethogram", "draw_behaviour_stack", "plot_behaviour_stack",
    "write_group_outputs",
]

_OUTCOME_NAMES = {
    "immobility_s": "immobility", "immobility_pct": "immobility", "latency_s": "latency to immobility",
    "bouts": "immobile bouts", "mean_bout_s": "mean immobile bout", "longest_bout_s": "longest immobile bout",
    "swimming_s": "swimming", "climbing_s": "climbing",
    "immobility_counts": "immobility", "swimming_counts": "swimming", "climbing_counts": "climbing",
}
_STACK = ("immobility_s", "swimming_s", "climbing_s")
_STACK_LABELS = {"immobility_s": "immobile", "swimming_s": "swimming", "climbing_s": "climbing"}


def _figure(width: float, height: float):
    """A figure drawn by the Agg canvas (no pyplot, no global backend state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def axis_label(outcome: str) -> str:
    """Axis label with unit, e.g. ``immobility (s)``."""
    name = _OUTCOME_NAMES.get(outcome, outcome.replace("_", " "))
    unit = outcome_unit(outcome)
    if outcome == "immobility_pct":
        return "immobility (% of scored window)"
    if outcome.endswith("_counts"):
        return f"{name} (5-s periods, count)"
    return f"{name} ({unit})" if unit else name


def _window_text(summary: pd.DataFrame) -> str:
    if not {"protocol", "window_start_s", "window_end_s"} <= set(summary.columns) or summary.empty:
        return ""
    r = summary.iloc[0]
    return f"{str(r['protocol']).upper()}, scored {r['window_start_s']:g}–{r['window_end_s']:g} s"


def _tick_labels(design: GroupDesign, summary: pd.DataFrame, outcome: str | None = None) -> list[str]:
    ok = _ok_mask(summary)
    has = pd.to_numeric(summary[outcome], errors="coerce").notna() if outcome else True
    out = []
    for g in design.labels:
        in_g = design.row_group == g
        n = int((in_g & ok & has).sum())
        n_out = int((in_g & ~ok).sum())
        out.append("\n".join(design.parts[g]) + f"\nn={n}" + (f" ({n_out} excl.)" if n_out else ""))
    return out


def _wrap_ticks(ax, labels: list[str]) -> None:
    long = max((len(line) for t in labels for line in t.splitlines()), default=0)
    tilt = long > 17 and len(labels) > 3  # one line of a label wider than a group's slot
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, fontsize=8, rotation=30 if tilt else 0, ha="right" if tilt else "center")


# ----------------------------------------------------------------------------- dot/bar plot
def draw_group_bars(summary: pd.DataFrame, groups: Sequence[str] | str, outcome: str = "immobility_s",
                    reference: str | None = None, dose_col: str | None = None,
                    stats: pd.DataFrame | None = None, seed: int = 0):
    """Bar = group mean, error bar = SEM, one dot per animal, Dunnett stars vs the reference.

    Parameters
    ----------
    summary : pandas.DataFrame
        One row per animal; only ``status == "ok"`` animals are drawn (excluded ones counted
        under the group label).
    groups, reference, dose_col
        As for :func:`behavscore.cohort_stats.assign_groups`.
    outcome : str
        Summary column on the y axis.
    stats : pandas.DataFrame, optional
        Output of :func:`~behavscore.cohort_stats.group_statistics` (computed when absent);
        its ``dunnett`` rows give the stars and its ``anova`` row the title.
    seed : int
        Seed of the horizontal jitter of the dots (same figure on every run).

    Returns
    -------
    matplotlib.figure.Figure
        Bars are ``ax.patches`` in group order; the dots of group ``g`` are the collection
        with gid ``"dots:g"``; the stars of ``g`` the text with gid ``"stars:g"``.
    """
    design = assign_groups(summary, groups, reference, dose_col)
    if stats is None:
        stats = group_statistics(summary, groups, design.reference, dose_col, outcomes=[outcome])
    st = stats[stats["outcome"] == outcome]
    y = pd.to_numeric(summary[outcome], errors="coerce")
    keep = _ok_mask(summary) & y.notna()
    rng = np.random.default_rng(seed)
    fig = _figure(max(3.2, 1.2 * len(design.labels) + 1.4), 4.2)
    ax = fig.add_subplot()
    top = 0.0
    for i, g in enumerate(design.labels):
        v = y[keep & (design.row_group == g)].to_numpy(float)
        mean = v.mean() if v.size else np.nan
        sem = v.std(ddof=1) / np.sqrt(v.size) if v.size > 1 else np.nan
        colour = "0.75" if g == design.reference else f"C{i % 10}"
        ax.bar(i, mean if v.size else 0.0, width=0.65, color=colour, alpha=0.55, edgecolor="k", lw=0.8,
               yerr=sem if np.isfinite(sem) else None, capsize=4, error_kw={"lw": 1.0}, zorder=1)
        ax.scatter(i + rng.uniform(-0.18, 0.18, v.size), v, s=16, color="k", zorder=3, gid=f"dots:{g}")
        top = np.nanmax([top, *(v if v.size else [0.0]), mean + (sem if np.isfinite(sem) else 0.0)])
    span = top if top > 0 else 1.0
    dun = st[st["analysis"] == "dunnett"].set_index("group")
    for i, g in enumerate(design.labels):
        if g not in dun.index or not dun.loc[g, "stars"]:
            continue
        v = y[keep & (design.row_group == g)].to_numpy(float)
        high = np.nanmax(v) if v.size else 0.0
        ax.text(i, high + 0.06 * span, dun.loc[g, "stars"], ha="center", va="bottom", fontsize=10,
                gid=f"stars:{g}")
    ax.set_ylim(bottom=min(0.0, float(np.nanmin(y[keep])) if keep.any() else 0.0), top=top + 0.2 * span)
    _wrap_ticks(ax, _tick_labels(design, summary, outcome))
    ax.set_ylabel(axis_label(outcome))
    ax.spines[["top", "right"]].set_visible(False)
    anova = st[st["analysis"] == "anova"]
    title = _window_text(summary)
    if len(anova) and np.isfinite(anova["p_value"].iloc[0]):
        r = anova.iloc[0]
        title += (("\n" if title else "") + f"one-way ANOVA F({r['df_num']:g}, {r['df_den']:g}) = "
                  f"{r['statistic']:.3g}, p = {r['p_value']:.2g}; stars: Dunnett vs {design.reference}")
    ax.set_title(title, fontsize=8)
    fig.tight_layout()
    return fig


def plot_group_bars(summary: pd.DataFrame, groups: Sequence[str] | str, path: str | os.PathLike,
                    outcome: str = "immobility_s", reference: str | None = None, dose_col: str | None = None,
                    stats: pd.DataFrame | None = None) -> Path:
    """Write :func:`draw_group_bars` as a PNG; returns the path."""
    return write_png(draw_group_bars(summary, groups, outcome, reference, dose_col, stats), path)


# ----------------------------------------------------------------------------- time course
def _with_groups(table: pd.DataFrame, summary: pd.DataFrame, design: GroupDesign) -> pd.DataFrame:
    """Rows of ``table`` (per-minute or per-second) of ``ok`` animals, with their group label."""
    keys = [k for k in ("video", "animal") if k in table.columns and k in summary.columns]
    if not keys:
        raise ValueError("the table needs an 'animal' column (and 'video') to join it to the summary")
    who = summary.loc[_ok_mask(summary) & design.row_group.notna(), keys].assign(
        _group=design.row_group[_ok_mask(summary) & design.row_group.notna()])
    return table.merge(who.drop_duplicates(keys), on=keys, how="inner")


def draw_time_course(summary: pd.DataFrame, minutes: pd.DataFrame, groups: Sequence[str] | str,
                     outcome: str = "immobility_s", reference: str | None = None, dose_col: str | None = None):
    """Mean ± SEM of an outcome per time bin (``minutes`` table) and group.

    Parameters
    ----------
    summary : pandas.DataFrame
        Gives each animal's group and status (only ``ok`` animals are drawn).
    minutes : pandas.DataFrame
        ``video, animal, bin_start_s, bin_end_s, ...`` (:func:`behavscore.summary.per_minute`).
    outcome : str
        Column of ``minutes`` (seconds of that behaviour per bin).

    Returns
    -------
    matplotlib.figure.Figure
        One error-bar line per group, its label ``"<group> (n=<animals>)"``; x = bin centre in
        minutes from the start of the video.
    """
    design = assign_groups(summary, groups, reference, dose_col)
    m = _with_groups(minutes, summary, design)
    m = m.assign(_x=(m["bin_start_s"] + m["bin_end_s"]) / 2 / 60.0)
    fig = _figure(8.0, 4.0)
    ax = fig.add_subplot()
    for i, g in enumerate(design.labels):
        part = m[m["_group"] == g]
        if part.empty:
            continue
        agg = part.groupby("_x")[outcome].agg(["mean", "std", "count"]).sort_index()
        sem = agg["std"] / np.sqrt(agg["count"])
        n = part["animal"].nunique()
        ax.errorbar(agg.index, agg["mean"], yerr=sem.where(agg["count"] > 1), marker="o", ms=4, capsize=2,
                    color="0.3" if g == design.reference else f"C{i % 10}", label=f"{g} (n={n})")
    width = float((minutes["bin_end_s"] - minutes["bin_start_s"]).max()) if len(minutes) else 60.0
    ax.set_xlabel("time in test (min; bin centre)")
    ax.set_ylabel(f"{axis_label(outcome).split(' (')[0]} (s per {width:g}-s bin)")
    ax.set_ylim(bottom=0)
    if ax.containers:
        ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(_window_text(summary) + " — mean ± SEM", fontsize=8)
    fig.tight_layout()
    return fig


def plot_time_course(summary: pd.DataFrame, minutes: pd.DataFrame, groups: Sequence[str] | str,
                     path: str | os.PathLike, outcome: str = "immobility_s", reference: str | None = None,
                     dose_col: str | None = None) -> Path:
    """Write :func:`draw_time_course` as a PNG; returns the path."""
    return write_png(draw_time_course(summary, minutes, groups, outcome, reference, dose_col), path)


# ----------------------------------------------------------------------------- ethogram
def draw_ethogram(summary: pd.DataFrame, seconds: pd.DataFrame, groups: Sequence[str] | str,
                  reference: str | None = None, dose_col: str | None = None):
    """Raster of per-second labels: one line per animal, grouped by group, scored window marked.

    Parameters
    ----------
    summary : pandas.DataFrame
        Gives each animal's group, status and the scored window (``window_start_s``,
        ``window_end_s``); only ``ok`` animals are drawn.
    seconds : pandas.DataFrame
        ``video, animal, second, label`` (``seconds.csv``).

    Returns
    -------
    matplotlib.figure.Figure
        Immobile seconds (and swimming, climbing for 3-class FST) as bars; the bars of one
        animal and label are the collection with gid ``"<label>:<animal>"``. Animals are in
        group order (reference at the top), then in summary order.
    """
    design = assign_groups(summary, groups, reference, dose_col)
    s = _with_groups(seconds, summary, design)
    ok = summary[_ok_mask(summary) & design.row_group.notna()]
    order = []
    for g in design.labels:
        order += [(g, a) for a in ok.loc[design.row_group[ok.index] == g, "animal"]]
    labels_present = [l for l in ("immobile", "swimming", "climbing") if l in set(s["label"].dropna())]
    # Seconds count from the start of the video; with test starts (the summary's windows count
    # from them) each animal's seconds are moved onto its test's clock.
    start_of = ok.set_index("animal")[TEST_START_COLUMN].to_dict() if TEST_START_COLUMN in ok.columns else {}
    s = s.assign(second=s["second"] - s["animal"].map(start_of).fillna(0.0)) if start_of else s
    fig = _figure(9.0, 0.9 + 0.22 * max(len(order), 1) + 0.4)
    ax = fig.add_subplot()
    for row, (g, animal) in enumerate(order):
        a = s[s["animal"] == animal].sort_values("second")
        t = a["second"].to_numpy(float)
        lab = a["label"].to_numpy(object)
        for label in labels_present:
            spans = [(t[i], t[j - 1] + 1 - t[i]) for i, j in runs(lab == label)]
            if spans:
                ax.broken_barh(spans, (row - 0.4, 0.8), color=LABEL_COLOURS[label], lw=0,
                               gid=f"{label}:{animal}")
    # group separators and labels
    start = 0
    for g in design.labels:
        k = sum(1 for gg, _ in order if gg == g)
        if k == 0:
            continue
        if start:
            ax.axhline(start - 0.5, color="k", lw=0.8)
        ax.text(1.01, (start + start + k - 1) / 2, f"{g}\n(n={k})", transform=ax.get_yaxis_transform(),
                va="center", ha="left", fontsize=7)
        start += k
    if {"window_start_s", "window_end_s"} <= set(summary.columns) and len(ok):
        w0, w1 = float(ok["window_start_s"].iloc[0]), float(ok["window_end_s"].iloc[0])
        end = float(s["second"].max()) + 1 if len(s) else w1
        for a, b in ((float(s["second"].min()) if len(s) else 0.0, w0), (w1, max(end, w1))):
            if b > a:
                ax.axvspan(a, b, color="white", alpha=0.6, zorder=3, lw=0)  # fade the unscored part
        for w in (w0, w1):
            ax.axvline(w, color="k", lw=1.0, ls="--", zorder=4)
    ax.set_yticks(range(len(order)))
    ax.set_yticklabels([a for _, a in order], fontsize=6)
    ax.set_ylim(max(len(order), 1) - 0.5, -0.5)
    ax.set_xlim(min(0.0, float(s["second"].min())) if len(s) else 0, float(s["second"].max()) + 1 if len(s) else 1)
    clock = "s from the test's start" if start_of else "s from video start"
    ax.set_xlabel(f"time ({clock}; faded = outside the scored window, dashed = its limits)")
    if labels_present:
        from matplotlib.patches import Patch
        ax.legend([Patch(color=LABEL_COLOURS[l]) for l in labels_present], labels_present, fontsize=7,
                  ncol=len(labels_present), loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False)
    n_out = int((~_ok_mask(summary)).sum())
    ax.set_title("ethogram" + (f" ({n_out} excluded animal(s) not shown)" if n_out else ""), fontsize=8,
                 loc="left")
    fig.tight_layout()
    return fig


def plot_ethogram(summary: pd.DataFrame, seconds: pd.DataFrame, groups: Sequence[str] | str,
                  path: str | os.PathLike, reference: str | None = None, dose_col: str | None = None) -> Path:
    """Write :func:`draw_ethogram` as a PNG; returns the path."""
    return write_png(draw_ethogram(summary, seconds, groups, reference, dose_col), path)


# ----------------------------------------------------------------------------- 3-class stack
def draw_behaviour_stack(summary: pd.DataFrame, groups: Sequence[str] | str, reference: str | None = None,
                         dose_col: str | None = None):
    """Stacked bars of mean immobile, swimming and climbing seconds per group (3-class FST).

    Returns
    -------
    matplotlib.figure.Figure
        ``ax.containers`` holds three bar containers (immobile, swimming, climbing), each with
        one bar per group in group order; heights are the group means over ``ok`` animals.
    """
    missing = [c for c in _STACK if c not in summary.columns]
    if missing:
        raise ValueError(f"stacked behaviour bars need {list(_STACK)}; missing {missing} (3-class FST only)")
    design = assign_groups(summary, groups, reference, dose_col)
    ok = _ok_mask(summary)
    fig = _figure(max(3.2, 1.2 * len(design.labels) + 2.2), 4.2)
    ax = fig.add_subplot()
    bottom = np.zeros(len(design.labels))
    for col in _STACK:
        y = pd.to_numeric(summary[col], errors="coerce")
        means = np.array([y[ok & (design.row_group == g)].mean() for g in design.labels], float)
        means = np.nan_to_num(means)
        ax.bar(range(len(design.labels)), means, bottom=bottom, width=0.65, label=_STACK_LABELS[col],
               color=LABEL_COLOURS[_STACK_LABELS[col]], edgecolor="k", lw=0.5)
        bottom += means
    _wrap_ticks(ax, _tick_labels(design, summary, "immobility_s"))
    ax.set_ylabel("time in scored window (s, group mean)")
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(_window_text(summary), fontsize=8)
    fig.tight_layout()
    return fig


def plot_behaviour_stack(summary: pd.DataFrame, groups: Sequence[str] | str, path: str | os.PathLike,
                         reference: str | None = None, dose_col: str | None = None) -> Path:
    """Write :func:`draw_behaviour_stack` as a PNG; returns the path."""
    return write_png(draw_behaviour_stack(summary, groups, reference, dose_col), path)


# ----------------------------------------------------------------------------- dose-response
def _plot_dose_fits(summary, design, stats, out: Path, dose_model) -> list[Path]:
    """One figure per fitted dose-response series; a flagged fit says so on the figure."""
    from assay_core.plotting import plot_dose_response

    from .cohort_stats import dose_response_fits

    paths = []
    fitted = stats[(stats["analysis"] == "dose_response") & stats["estimate"].notna()]
    for outcome in dict.fromkeys(fitted["outcome"]):
        for df in dose_response_fits(summary, list(design.columns), design.dose_col, outcome,
                                     design.reference, dose_model):
            if df.fit is None:
                continue
            ed = df.fit.ed(50)["estimate"]
            flags = df.fit.flags
            fig = _figure(5.6, 4.2 + (1.2 if flags else 0.0))
            grid = fig.add_gridspec(2 if flags else 1, 1, height_ratios=[4.2, 1.2] if flags else [1])
            ax = fig.add_subplot(grid[0])
            plot_dose_response(df.fit, ax=ax, dose_label=f"{design.dose_col} (vehicle drawn at '0')",
                               response_label=axis_label(outcome),
                               title=f"{df.label}: ED50 {ed:.3g} {column_unit(design.dose_col)} ({_model_text(df.fit)})")
            if flags:
                note = fig.add_subplot(grid[1])
                note.axis("off")
                text = "\n".join(textwrap.fill("FLAGGED: " + f, 110) for f in flags[:4])
                note.text(0, 1, text, va="top", ha="left", fontsize=5.5, color="firebrick", transform=note.transAxes)
            fig.tight_layout()
            paths.append(write_png(fig, out / f"dose_response_{outcome}_{_slug(df.label)}.png"))
    return paths


def _model_text(fit) -> str:
    fixed = {k: v for k, v in fit.fixed.items() if k not in fit.model.implied_fixed}
    names = {"c": "Bottom", "d": "Top"}
    return fit.model.name + "".join(f", {names.get(k, k)} fixed {v:.3g}" for k, v in fixed.items())


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-." else "_" for ch in str(text)).strip("_") or "all"


# ----------------------------------------------------------------------------- all outputs
def write_group_outputs(summary: pd.DataFrame, minutes: pd.DataFrame | None, seconds: pd.DataFrame | None,
                        out_dir: str | os.PathLike, groups: Sequence[str] | str | None = None,
                        reference: str | None = None, dose_col: str | None = None,
                        covariates: Sequence[str] = (), *, outcomes: Sequence[str] | None = None,
                        dose_model: str = "auto", on_message: Callable[[str], None] | None = None) -> list[Path]:
    """Write ``stats.csv``, ``prism_<outcome>.csv`` and ``figures/*.png`` of a scored cohort.

    Parameters
    ----------
    summary, minutes, seconds : pandas.DataFrame
        The batch tables (``summary.csv``, ``minutes.csv``, ``seconds.csv``); ``minutes`` or
        ``seconds`` may be None or empty (their figure is then skipped).
    out_dir : path-like
        Output folder (created).
    groups : str or sequence of str, optional
        Group columns; None = :func:`~behavscore.cohort_stats.default_group_columns`.
    reference, dose_col, covariates, outcomes, dose_model
        As for :func:`~behavscore.cohort_stats.group_statistics`.
    on_message : callable, optional
        Receives one line for each thing skipped (default: :func:`warnings.warn`).

    Returns
    -------
    list of Path
        Files written. Empty when there are no group columns, or a named group column is not in
        the summary: nothing is written then, and ``on_message`` says why.

    Raises
    ------
    ValueError
        When ``groups`` are given explicitly and the reference group cannot be determined, or a
        named dose, covariate or outcome column is missing. With ``groups=None`` such problems
        are reported through ``on_message`` and nothing is written.
    """
    say = on_message or (lambda m: warnings.warn(m, stacklevel=3))
    auto = groups is None
    columns = default_group_columns(summary) if auto else ([groups] if isinstance(groups, str) else list(groups))
    columns = [c for c in columns if c]
    if not columns:
        say("no group columns (e.g. treatment, dose_mg_kg) in the cohort table: group statistics and "
            "figures not written")
        return []
    missing = [c for c in columns if c not in summary.columns]
    if missing:
        say(f"group column(s) {missing} not in the summary: group statistics and figures not written")
        return []
    try:
        design = assign_groups(summary, columns, reference, dose_col)
        stats = group_statistics(summary, columns, design.reference, dose_col, outcomes, covariates,
                                 dose_model=dose_model)
    except ValueError as exc:
        if not auto:
            raise
        say(f"group statistics not written: {exc}")
        return []
    out = Path(out_dir)
    figs = out / "figures"
    written: list[Path] = []
    path = out / "stats.csv"
    write_csv(stats, path)
    written.append(path)
    analysed = list(dict.fromkeys(stats["outcome"]))
    for outcome in analysed:
        path = out / f"prism_{outcome}.csv"
        write_csv(prism_wide(summary, columns, outcome, design.reference, dose_col), path)
        written.append(path)
    if not (_ok_mask(summary) & design.row_group.notna()).any():
        say("no animal was scored (status ok): figures not drawn")
        return written
    for outcome in analysed:
        written.append(plot_group_bars(summary, columns, figs / f"groups_{outcome}.png", outcome,
                                       design.reference, dose_col, stats))
    if minutes is not None and len(minutes) and "immobility_s" in minutes.columns:
        written.append(plot_time_course(summary, minutes, columns, figs / "time_course_immobility.png",
                                        "immobility_s", design.reference, dose_col))
    else:
        say("no per-minute table: time-course figure not drawn")
    if seconds is not None and len(seconds) and "label" in seconds.columns:
        written.append(plot_ethogram(summary, seconds, columns, figs / "ethogram.png", design.reference, dose_col))
    else:
        say("no per-second table: ethogram not drawn")
    if all(c in summary.columns for c in _STACK) and _ok_mask(summary).any():
        written.append(plot_behaviour_stack(summary, columns, figs / "behaviours_fst3.png", design.reference,
                                            dose_col))
    if dose_col is not None:
        written += _plot_dose_fits(summary, design, stats, figs, dose_model)
    for r in stats[(stats["analysis"] == "dose_response") & stats["estimate"].isna()].itertuples():
        say(f"{r.outcome}, {r.group}: {r.note}")
    return written

