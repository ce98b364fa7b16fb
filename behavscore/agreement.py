"""Agreement between two per-second label tables: accuracy, Cohen's kappa, immobility r, Bland–Altman."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import pandas as pd
from scipy import stats

IMMOBILE = "immobile"
TWO_CLASS: tuple[str, ...] = ("immobile", "mobile")
THREE_CLASS: tuple[str, ...] = ("immobile", "swimming", "climbing")
KEYS: tuple[str, ...] = ("video", "animal", "second")

Window = Optional[tuple[float, float]]
LabelsArg = Union[None, str, Sequence[str]]


# --------------------------------------------------------------------------- label handling


def collapse_to_immobility(labels: pd.Series) -> pd.Series:
    """Map 3-class FST labels to 2 classes (swimming, climbing -> mobile).

    Parameters
    ----------
    labels : Series of str

    Returns
    -------
    Series of str
        ``immobile`` stays, every other label becomes ``mobile``.
    """
    return labels.where(labels == IMMOBILE, "mobile")


def _scheme(labels: set[str]) -> str:
    if labels & {"swimming", "climbing"}:
        return "3-class (immobile/swimming/climbing)"
    if "mobile" in labels:
        return "2-class (immobile/mobile)"
    return "any"


def _resolve_classes(la: set[str], lb: set[str], labels: LabelsArg, names: tuple[str, str]) -> tuple[tuple[str, ...], bool]:
    """Classes to compare and whether to collapse to immobile/mobile first."""
    if isinstance(labels, str):
        if labels.strip().casefold() != "immobility":
            raise ValueError(f"labels={labels!r}: use None, 'immobility' or a list of labels")
        return TWO_CLASS, True
    if labels is not None:
        classes = tuple(str(x) for x in labels)
        for name, observed in zip(names, (la, lb)):
            extra = sorted(observed - set(classes))
            if extra:
                raise ValueError(f"{name} uses label(s) {', '.join(extra)} not in labels={list(classes)}")
        return classes, False
    union = la | lb
    unknown = sorted(union - set(TWO_CLASS) - set(THREE_CLASS))
    if unknown:
        raise ValueError(f"unknown label(s) {', '.join(unknown)}; expected {', '.join(TWO_CLASS + THREE_CLASS[1:])}")
    sa, sb = _scheme(la), _scheme(lb)
    if "any" not in (sa, sb) and sa != sb:
        raise ValueError(
            f"label sets differ: {names[0]} is {sa} ({', '.join(sorted(la))}), {names[1]} is {sb} "
            f"({', '.join(sorted(lb))}); compare immobility only with labels='immobility' "
            "(command line: --labels immobility; swimming and climbing then count as mobile)"
        )
    return (THREE_CLASS if "3-class" in sa + sb else TWO_CLASS), False


def _basename(video: str) -> str:
    return re.split(r"[\\/]", str(video))[-1]


def _keyed(table: pd.DataFrame, name: str) -> pd.DataFrame:
    missing = [c for c in (*KEYS, "label") if c not in table.columns]
    if missing:
        raise ValueError(f"{name} table lacks column(s) {', '.join(missing)}")
    out = pd.DataFrame(
        {
            "video": table["video"].astype(str).map(_basename),
            "animal": table["animal"].astype(str),
            "second": pd.to_numeric(table["second"]).astype("int64"),
            "label": table["label"].astype(str).str.strip().str.casefold(),
        }
    )
    dup = out.duplicated(list(KEYS), keep=False)
    if dup.any():
        first = out[dup].iloc[0]
        raise ValueError(
            f"{name} table has several rows for video '{first.video}', animal '{first.animal}', "
            f"second {first.second} (videos are matched by file name)"
        )
    return out


def align(
    a: pd.DataFrame,
    b: pd.DataFrame,
    window: Window = None,
    labels: LabelsArg = None,
    names: tuple[str, str] = ("auto", "human"),
) -> pd.DataFrame:
    """Pair two per-second label tables on (video, animal, second).

    Parameters
    ----------
    a, b : DataFrame
        Per-second tables with ``video, animal, second, label`` (other columns ignored). Videos
        are matched by file name (directories dropped).
    window : (start_s, end_s), optional
        Keep seconds ``start_s <= second < end_s``. Default: all common seconds.
    labels : None, "immobility" or sequence of str
        None: both tables must use the same label scheme (2-class or 3-class); "immobility":
        collapse swimming/climbing to mobile in both; a sequence: the classes to compare.
    names : (str, str)
        Names of the two tables, used in messages.

    Returns
    -------
    DataFrame
        ``video, animal, second, label_a, label_b`` sorted by the keys; ``attrs["labels"]`` holds
        the compared classes and ``attrs["unmatched"]`` a table of animals present in only one
        input.
    """
    ka, kb = _keyed(a, names[0]), _keyed(b, names[1])
    if window is not None:
        start_s, end_s = float(window[0]), float(window[1])
        if not end_s > start_s:
            raise ValueError(f"window {window}: end must be after start")
        ka = ka[(ka["second"] >= start_s) & (ka["second"] < end_s)]
        kb = kb[(kb["second"] >= start_s) & (kb["second"] < end_s)]
    classes, collapse = _resolve_classes(set(ka["label"]), set(kb["label"]), labels, names)
    if collapse:
        ka = ka.assign(label=collapse_to_immobility(ka["label"]))
        kb = kb.assign(label=collapse_to_immobility(kb["label"]))
    animals_a = set(zip(ka["video"], ka["animal"]))
    animals_b = set(zip(kb["video"], kb["animal"]))
    common = animals_a & animals_b
    if not common:
        raise ValueError(
            f"no common animals between {names[0]} and {names[1]}"
            f"{' in the window' if window is not None else ''}: {names[0]} has {_list_animals(animals_a)}; "
            f"{names[1]} has {_list_animals(animals_b)} (videos are matched by file name, animals by name)"
        )
    merged = ka.merge(kb, on=list(KEYS), suffixes=("_a", "_b"), how="inner")
    if merged.empty:
        raise ValueError(f"{names[0]} and {names[1]} share animals but no seconds{' in the window' if window else ''}")
    merged = merged.sort_values(list(KEYS), kind="stable").reset_index(drop=True)
    unmatched = pd.DataFrame(
        [(v, an, names[0]) for v, an in sorted(animals_a - common)] + [(v, an, names[1]) for v, an in sorted(animals_b - common)],
        columns=["video", "animal", "only_in"],
    )
    merged.attrs.update(labels=classes, unmatched=unmatched)
    return merged


def _list_animals(animals: set[tuple[str, str]], limit: int = 6) -> str:
    items = [f"{an} ({v})" for v, an in sorted(animals)]
    if not items:
        return "none"
    more = f", ... ({len(items)} in all)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


# --------------------------------------------------------------------------- per-second statistics


def confusion_matrix(y_a: Sequence[str], y_b: Sequence[str], labels: Sequence[str], names: tuple[str, str] = ("a", "b")) -> pd.DataFrame:
    """Count table of paired labels.

    Parameters
    ----------
    y_a, y_b : sequence of str
        Paired labels (same length).
    labels : sequence of str
        Class order.
    names : (str, str)
        Index name (rows, ``y_a``) and columns name (``y_b``).

    Returns
    -------
    DataFrame
        ``labels`` x ``labels`` counts; rows are ``y_a``, columns ``y_b``.
    """
    ya, yb = np.asarray(y_a, dtype=object).ravel(), np.asarray(y_b, dtype=object).ravel()
    if ya.shape != yb.shape:
        raise ValueError(f"paired labels differ in length: {ya.size} and {yb.size}")
    k = len(labels)
    codes = []
    for y in (ya, yb):
        code = pd.Categorical(y, categories=list(labels)).codes.astype(np.int64)
        if (code < 0).any():
            raise ValueError(f"label {y[code < 0][0]!r} not in labels {list(labels)}")
        codes.append(code)
    counts = np.bincount(codes[0] * k + codes[1], minlength=k * k).reshape(k, k)
    return pd.DataFrame(
        counts, index=pd.Index(list(labels), name=names[0]), columns=pd.Index(list(labels), name=names[1])
    )


def _kappa_from_counts(counts: np.ndarray) -> float:
    n = counts.sum()
    if n == 0:
        return math.nan
    p_observed = np.trace(counts) / n
    p_expected = float((counts.sum(axis=1) * counts.sum(axis=0)).sum()) / (n * n)
    if math.isclose(p_expected, 1.0):
        return math.nan
    return float((p_observed - p_expected) / (1.0 - p_expected))


def cohen_kappa(y_a: Sequence[str], y_b: Sequence[str], labels: Optional[Sequence[str]] = None) -> float:
    """Cohen's kappa of two raters' paired labels.

    Parameters
    ----------
    y_a, y_b : sequence of str
        Paired labels.
    labels : sequence of str, optional
        Class order (default: the labels present).

    Returns
    -------
    float
        ``(p_o - p_e) / (1 - p_e)``; NaN when ``p_e = 1`` (both raters use one and the same class).

    Notes
    -----
    ``p_o`` is the observed proportion of agreement and ``p_e`` the agreement expected from the two
    raters' marginal proportions (Cohen 1960).
    """
    if labels is None:
        labels = sorted(set(y_a) | set(y_b))
    return _kappa_from_counts(confusion_matrix(y_a, y_b, labels).to_numpy())


def per_second_agreement(y_a: Sequence[str], y_b: Sequence[str], labels: Sequence[str]) -> pd.DataFrame:
    """Overall per-second agreement.

    Parameters
    ----------
    y_a, y_b : sequence of str
        Paired per-second labels.
    labels : sequence of str
        Classes compared.

    Returns
    -------
    DataFrame
        One row: ``n_s`` (seconds compared), ``accuracy`` (fraction of seconds with the same
        label), ``kappa`` (Cohen's kappa).
    """
    counts = confusion_matrix(y_a, y_b, labels).to_numpy()
    n = int(counts.sum())
    accuracy = float(np.trace(counts) / n) if n else math.nan
    return pd.DataFrame({"n_s": [n], "accuracy": [accuracy], "kappa": [_kappa_from_counts(counts)]})


def per_class_agreement(y_a: Sequence[str], y_b: Sequence[str], labels: Sequence[str]) -> pd.DataFrame:
    """Agreement on each class, one class against the rest.

    Parameters
    ----------
    y_a, y_b : sequence of str
        Paired per-second labels.
    labels : sequence of str
        Classes.

    Returns
    -------
    DataFrame
        One row per class: ``label``, ``n_a_s`` / ``n_b_s`` (seconds given that label by each),
        ``n_both_s`` (by both), ``kappa`` (Cohen's kappa of the binary class-vs-rest labels) and
        ``specific_agreement`` (``2 n_both / (n_a + n_b)``, the proportion of specific agreement).
    """
    counts = confusion_matrix(y_a, y_b, labels).to_numpy()
    n = counts.sum()
    rows = []
    for i, lab in enumerate(labels):
        both = counts[i, i]
        n_a, n_b = counts[i, :].sum(), counts[:, i].sum()
        binary = np.array([[both, n_a - both], [n_b - both, n - n_a - n_b + both]])
        rows.append(
            {
                "label": lab,
                "n_a_s": int(n_a),
                "n_b_s": int(n_b),
                "n_both_s": int(both),
                "kappa": _kappa_from_counts(binary),
                "specific_agreement": float(2 * both / (n_a + n_b)) if (n_a + n_b) else math.nan,
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- per-animal statistics


def immobility_per_animal(aligned: pd.DataFrame) -> pd.DataFrame:
    """Immobility seconds of each animal according to both tables.

    Parameters
    ----------
    aligned : DataFrame
        Output of :func:`align`.

    Returns
    -------
    DataFrame
        ``video, animal, n_s`` (seconds compared), ``immobility_a_s``, ``immobility_b_s``,
        ``difference_s`` (a - b) and ``accuracy`` (fraction of that animal's seconds with the same
        label).
    """
    df = aligned.assign(
        imm_a=(aligned["label_a"] == IMMOBILE).astype("int64"),
        imm_b=(aligned["label_b"] == IMMOBILE).astype("int64"),
        same=(aligned["label_a"] == aligned["label_b"]).astype("int64"),
    )
    g = df.groupby(["video", "animal"], sort=True)
    out = pd.DataFrame(
        {
            "n_s": g["second"].size(),
            "immobility_a_s": g["imm_a"].sum(),
            "immobility_b_s": g["imm_b"].sum(),
        }
    )
    out["difference_s"] = out["immobility_a_s"] - out["immobility_b_s"]
    out["accuracy"] = g["same"].sum() / out["n_s"]
    return out.reset_index()


def active_behaviours(classes: Sequence[str]) -> list[str]:
    """The active behaviours of a label set compared animal by animal besides immobility:
    ``swimming`` and ``climbing`` of the 3-class FST; none for immobile/mobile."""
    return [c for c in classes if c not in (IMMOBILE, "mobile")]


def behaviour_per_animal(aligned: pd.DataFrame, behaviours: Sequence[str]) -> pd.DataFrame:
    """Seconds of each behaviour per animal according to both tables.

    Parameters
    ----------
    aligned : DataFrame
        Output of :func:`align`.
    behaviours : sequence of str
        Labels counted, e.g. ``("swimming", "climbing")``.

    Returns
    -------
    DataFrame
        ``video, animal`` and, per behaviour ``x``, ``x_a_s`` and ``x_b_s``: that animal's
        seconds labelled ``x`` in each table (0 where none).
    """
    keys = [aligned["video"], aligned["animal"]]
    columns = {f"{x}_{side}_s": (aligned[f"label_{side}"] == x).astype("int64") for x in behaviours for side in ("a", "b")}
    return pd.DataFrame(columns).groupby(keys, sort=True).sum().reset_index()


def per_behaviour_agreement(per_animal: pd.DataFrame, behaviours: Sequence[str]) -> pd.DataFrame:
    """Pearson r and Bland–Altman statistics of each behaviour's seconds per animal.

    Parameters
    ----------
    per_animal : DataFrame
        With ``x_a_s`` and ``x_b_s`` for every behaviour ``x`` (:func:`behaviour_per_animal`).
    behaviours : sequence of str
        Behaviours compared.

    Returns
    -------
    DataFrame
        One row per behaviour: ``behaviour``, then the columns of :func:`pearson` and of
        :func:`bland_altman` (the latter's ``n`` left out), ``a - b`` in seconds.
    """
    rows = []
    for x in behaviours:
        a, b = per_animal[f"{x}_a_s"], per_animal[f"{x}_b_s"]
        rows.append(pd.concat([pd.DataFrame({"behaviour": [x]}), pearson(a, b), bland_altman(a, b).drop(columns="n")], axis=1))
    columns = ["behaviour", "n", "r", "ci95_low", "ci95_high", "p_value", "bias", "sd_diff", "loa_low", "loa_high"]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=columns)


def pearson(x: Sequence[float], y: Sequence[float]) -> pd.DataFrame:
    """Pearson correlation with its p-value and 95% confidence interval.

    Parameters
    ----------
    x, y : sequence of float
        Paired values (e.g. immobility seconds per animal).

    Returns
    -------
    DataFrame
        One row: ``n``, ``r``, ``ci95_low``, ``ci95_high``, ``p_value``.

    Notes
    -----
    The two-sided p-value uses ``t = r sqrt((n - 2) / (1 - r^2))`` with ``n - 2`` degrees of
    freedom; the interval uses Fisher's z (``atanh(r) ± 1.96 / sqrt(n - 3)``, needs n > 3). With
    fewer than 3 pairs, or a constant input, everything but ``n`` is NaN.
    """
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xa.shape != ya.shape:
        raise ValueError(f"paired values differ in length: {xa.size} and {ya.size}")
    n = int(xa.size)
    r = p = lo = hi = math.nan
    if n >= 3:
        dx, dy = xa - xa.mean(), ya - ya.mean()
        denom = math.sqrt(float((dx * dx).sum()) * float((dy * dy).sum()))
        if denom > 0:
            r = float(np.clip((dx * dy).sum() / denom, -1.0, 1.0))
            if abs(r) < 1.0:
                t = r * math.sqrt((n - 2) / (1.0 - r * r))
                p = float(2.0 * stats.t.sf(abs(t), n - 2))
            else:
                p = 0.0
            if n > 3:
                z = math.atanh(min(max(r, -1 + 1e-15), 1 - 1e-15))
                half = stats.norm.ppf(0.975) / math.sqrt(n - 3)
                lo, hi = math.tanh(z - half), math.tanh(z + half)
    return pd.DataFrame({"n": [n], "r": [r], "ci95_low": [lo], "ci95_high": [hi], "p_value": [p]})


def bland_altman(x: Sequence[float], y: Sequence[float]) -> pd.DataFrame:
    """Bland–Altman bias and 95% limits of agreement of ``x`` against ``y``.

    Parameters
    ----------
    x, y : sequence of float
        Paired measurements (e.g. automatic and human immobility seconds per animal).

    Returns
    -------
    DataFrame
        One row: ``n``, ``bias`` (mean of ``x - y``), ``sd_diff`` (sample SD of the differences,
        ddof = 1), ``loa_low`` and ``loa_high`` (``bias ∓ 1.96 sd_diff``), in the units of the
        inputs.
    """
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xa.shape != ya.shape:
        raise ValueError(f"paired values differ in length: {xa.size} and {ya.size}")
    diff = xa - ya
    n = int(diff.size)
    bias = float(diff.mean()) if n else math.nan
    sd = float(diff.std(ddof=1)) if n >= 2 else math.nan
    return pd.DataFrame({"n": [n], "bias": [bias], "sd_diff": [sd], "loa_low": [bias - 1.96 * sd], "loa_high": [bias + 1.96 * sd]})


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class AgreementReport:
    """Agreement of table ``a`` with table ``b``; every statistic as a tidy DataFrame."""

    name_a: str
    name_b: str
    window: Window
    labels: tuple[str, ...]
    aligned: pd.DataFrame = field(repr=False)
    per_second: pd.DataFrame = field(repr=False)
    per_class: pd.DataFrame = field(repr=False)
    confusion: pd.DataFrame = field(repr=False)
    per_animal: pd.DataFrame = field(repr=False)
    correlation: pd.DataFrame = field(repr=False)
    bland_altman: pd.DataFrame = field(repr=False)
    unmatched: pd.DataFrame = field(repr=False)
    #: Per-animal agreement on each active behaviour (swimming, climbing of the 3-class FST):
    #: :func:`per_behaviour_agreement`; empty for immobile/mobile.
    per_behaviour: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    @property
    def comparison(self) -> str:
        return f"{self.name_a} vs {self.name_b}"

    def summary(self) -> pd.DataFrame:
        """One row with the headline numbers (the row written to ``agreement.csv``)."""
        ps, co, ba = self.per_second.iloc[0], self.correlation.iloc[0], self.bland_altman.iloc[0]
        row = {
            "comparison": self.comparison,
            "a": self.name_a,
            "b": self.name_b,
            "window_start_s": self.window[0] if self.window else float(self.aligned["second"].min()),
            "window_end_s": self.window[1] if self.window else float(self.aligned["second"].max() + 1),
            "labels": "/".join(self.labels),
            "n_animals": int(len(self.per_animal)),
            "n_s": int(ps["n_s"]),
            "accuracy": ps["accuracy"],
            "kappa": ps["kappa"],
        }
        for rec in self.per_class.itertuples(index=False):
            row[f"kappa_{rec.label}"] = rec.kappa
        row.update(
            {
                "pearson_r": co["r"],
                "pearson_r_ci95_low": co["ci95_low"],
                "pearson_r_ci95_high": co["ci95_high"],
                "pearson_p": co["p_value"],
                "bias_s": ba["bias"],
                "sd_diff_s": ba["sd_diff"],
                "loa_low_s": ba["loa_low"],
                "loa_high_s": ba["loa_high"],
            }
        )
        for rec in self.per_behaviour.itertuples(index=False):
            row.update({
                f"pearson_r_{rec.behaviour}": rec.r,
                f"bias_{rec.behaviour}_s": rec.bias,
                f"loa_low_{rec.behaviour}_s": rec.loa_low,
                f"loa_high_{rec.behaviour}_s": rec.loa_high,
            })
        return pd.DataFrame([row])

    def __str__(self) -> str:
        ps, co, ba = self.per_second.iloc[0], self.correlation.iloc[0], self.bland_altman.iloc[0]
        window = f"{_fmt(self.window[0])}–{_fmt(self.window[1])} s" if self.window else "all common seconds"
        lines = [
            f"Agreement: {self.comparison} (window {window}; labels {', '.join(self.labels)})",
            f"  animals compared: {len(self.per_animal)}"
            + (f" ({len(self.unmatched)} in only one table, not compared)" if len(self.unmatched) else ""),
            f"  per second: n = {int(ps['n_s'])} s, accuracy = {ps['accuracy']:.3f}, Cohen's kappa = {ps['kappa']:.3f}",
        ]
        for rec in self.per_class.itertuples(index=False):
            lines.append(
                f"    {rec.label}: kappa = {rec.kappa:.3f}, specific agreement = {rec.specific_agreement:.3f} "
                f"({rec.n_a_s} s {self.name_a}, {rec.n_b_s} s {self.name_b}, {rec.n_both_s} s both)"
            )
        lines.append(
            f"  immobility per animal: Pearson r = {co['r']:.3f} (95% CI {co['ci95_low']:.3f} to {co['ci95_high']:.3f}, "
            f"p = {co['p_value']:.3g}, n = {int(co['n'])})"
        )
        lines.append(
            f"  Bland–Altman ({self.name_a} − {self.name_b}): bias = {ba['bias']:.2f} s, "
            f"95% limits of agreement {ba['loa_low']:.2f} to {ba['loa_high']:.2f} s (SD {ba['sd_diff']:.2f} s)"
        )
        for rec in self.per_behaviour.itertuples(index=False):
            lines.append(
                f"  {rec.behaviour} per animal: Pearson r = {rec.r:.3f}; Bland–Altman bias = {rec.bias:.2f} s, "
                f"95% limits of agreement {rec.loa_low:.2f} to {rec.loa_high:.2f} s"
            )
        lines.append(f"  confusion matrix (rows {self.name_a}, columns {self.name_b}, seconds):")
        lines.extend("    " + ln for ln in self.confusion.to_string().splitlines())
        return "\n".join(lines)


def _fmt(value: float) -> str:
    return f"{value:g}"


def compare(
    a: pd.DataFrame,
    b: pd.DataFrame,
    window: Window = None,
    labels: LabelsArg = None,
    names: tuple[str, str] = ("auto", "human"),
) -> AgreementReport:
    """Compare two per-second label tables (machine vs human, or rater vs rater).

    Parameters
    ----------
    a, b : DataFrame
        Per-second tables (``video, animal, second, label``).
    window : (start_s, end_s), optional
        Seconds ``start_s <= second < end_s`` compared (FST usually 120–360, TST 0–360).
    labels : None, "immobility" or sequence of str
        See :func:`align`.
    names : (str, str)
        Names of ``a`` and ``b`` in the report.

    Returns
    -------
    AgreementReport
        Per-second accuracy and kappa (overall and per class), confusion matrix, per-animal
        immobility seconds, Pearson r and Bland–Altman statistics of immobility seconds
        (``a - b``), and with 3-class labels the same per-animal statistics of swimming and
        climbing seconds (``per_behaviour``); ``str(report)`` is a readable summary.

    Notes
    -----
    Consecutive seconds are not independent, so no p-value is attached to kappa; the per-animal
    statistics treat animals as the independent units.
    """
    aligned = align(a, b, window=window, labels=labels, names=names)
    classes = aligned.attrs["labels"]
    ya, yb = aligned["label_a"].to_numpy(), aligned["label_b"].to_numpy()
    behaviours = active_behaviours(classes)
    per_animal = immobility_per_animal(aligned)
    if behaviours:
        per_animal = per_animal.merge(behaviour_per_animal(aligned, behaviours), on=["video", "animal"])
    return AgreementReport(
        name_a=names[0],
        name_b=names[1],
        window=None if window is None else (float(window[0]), float(window[1])),
        labels=tuple(classes),
        aligned=aligned,
        per_second=per_second_agreement(ya, yb, classes),
        per_class=per_class_agreement(ya, yb, classes),
        confusion=confusion_matrix(ya, yb, classes, names=names),
        per_animal=per_animal,
        correlation=pearson(per_animal["immobility_a_s"], per_animal["immobility_b_s"]),
        bland_altman=bland_altman(per_animal["immobility_a_s"], per_animal["immobility_b_s"]),
        unmatched=aligned.attrs["unmatched"],
        per_behaviour=per_behaviour_agreement(per_animal, behaviours),
    )


# --------------------------------------------------------------------------- figure


def agreement_figure(reports: Union[AgreementReport, Sequence[AgreementReport]], path: Optional[Union[str, Path]] = None):
    """Per-animal immobility scatter (with identity line) and Bland–Altman plot.

    Parameters
    ----------
    reports : AgreementReport or sequence of them
        Each report is drawn as one series (e.g. auto vs human and human vs human 2).
    path : str or Path, optional
        When given, the figure is saved there (PNG, 150 dpi).

    Returns
    -------
    matplotlib.figure.Figure
        Rendered with the Agg canvas; pyplot and the global backend are not touched.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if isinstance(reports, AgreementReport):
        reports = [reports]
    fig = Figure(figsize=(11, 4.8), layout="constrained")
    FigureCanvasAgg(fig)
    ax_scatter, ax_ba = fig.subplots(1, 2)
    markers = ["o", "s", "^", "D"]
    top = 1.0
    for i, rep in enumerate(reports):
        pa = rep.per_animal
        xa, xb = pa["immobility_a_s"].to_numpy(float), pa["immobility_b_s"].to_numpy(float)
        co, ba = rep.correlation.iloc[0], rep.bland_altman.iloc[0]
        colour = f"C{i}"
        ax_scatter.scatter(xb, xa, marker=markers[i % len(markers)], color=colour, alpha=0.8,
                           label=f"{rep.comparison} (r = {co['r']:.2f}, n = {int(co['n'])})")
        top = max(top, float(np.nanmax(np.r_[xa, xb])) if len(pa) else 1.0)
        mean, diff = (xa + xb) / 2.0, xa - xb
        ax_ba.scatter(mean, diff, marker=markers[i % len(markers)], color=colour, alpha=0.8,
                      label=f"{rep.comparison}: bias {ba['bias']:.1f} s, LoA {ba['loa_low']:.1f} to {ba['loa_high']:.1f} s")
        ax_ba.axhline(ba["bias"], color=colour, lw=1.2)
        for lim in (ba["loa_low"], ba["loa_high"]):
            if np.isfinite(lim):
                ax_ba.axhline(lim, color=colour, lw=1.0, ls="--")
    ax_scatter.plot([0, top * 1.05], [0, top * 1.05], color="0.5", lw=1, ls=":", label="identity")
    ax_scatter.set_xlim(0, top * 1.05)
    ax_scatter.set_ylim(0, top * 1.05)
    ax_scatter.set_aspect("equal")
    first = reports[0] if reports else None
    if len(reports) == 1 and first is not None:
        ax_scatter.set_xlabel(f"immobility, {first.name_b} (s)")
        ax_scatter.set_ylabel(f"immobility, {first.name_a} (s)")
        ax_ba.set_ylabel(f"{first.name_a} − {first.name_b} (s)")
    else:
        ax_scatter.set_xlabel("immobility, second of the pair (s)")
        ax_scatter.set_ylabel("immobility, first of the pair (s)")
        ax_ba.set_ylabel("first − second (s)")
    ax_ba.set_xlabel("mean immobility of the pair (s)")
    ax_ba.axhline(0, color="0.7", lw=0.8)
    ax_scatter.set_title("Immobility per animal")
    ax_ba.set_title("Bland–Altman (solid: bias, dashed: 95% limits)")
    ax_scatter.legend(fontsize=7, loc="upper left")
    ax_ba.legend(fontsize=7, loc="best")
    if path is not None:
        fig.savefig(path, dpi=150)
    return fig
