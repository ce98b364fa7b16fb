"""Agreement between two per-second label tables (accuracy, Cohen's kappa) and of per-animal measures
(immobility and the other read-outs: Pearson r, ICC, Bland–Altman), also from per-animal hand totals."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import pandas as pd
from scipy import stats

from .annotations import PER_ANIMAL_MEASURES
from .protocols import Protocol
from .summary import summarise_animal

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


def video_file_name(video: str) -> str:
    """A video's file name without its folder (Windows or POSIX), as tables are matched."""
    return re.split(r"[\\/]", str(video))[-1]


def _keyed(table: pd.DataFrame, name: str) -> pd.DataFrame:
    missing = [c for c in (*KEYS, "label") if c not in table.columns]
    if missing:
        raise ValueError(f"{name} table lacks column(s) {', '.join(missing)}")
    out = pd.DataFrame(
        {
            "video": table["video"].astype(str).map(video_file_name),
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
    unmatched = _unmatched_animals(ka, kb, names, " in the window" if window is not None else "")
    merged = ka.merge(kb, on=list(KEYS), suffixes=("_a", "_b"), how="inner")
    if merged.empty:
        raise ValueError(f"{names[0]} and {names[1]} share animals but no seconds{' in the window' if window else ''}")
    merged = merged.sort_values(list(KEYS), kind="stable").reset_index(drop=True)
    merged.attrs.update(labels=classes, unmatched=unmatched)
    return merged


def _unmatched_animals(a: pd.DataFrame, b: pd.DataFrame, names: tuple[str, str], where: str = "") -> pd.DataFrame:
    """The animals (``video, animal``) of only one table, with ``only_in`` (that table's name) and
    ``reason``; an error when no animal is in both."""
    animals_a, animals_b = set(zip(a["video"], a["animal"])), set(zip(b["video"], b["animal"]))
    common = animals_a & animals_b
    if not common:
        raise ValueError(
            f"no common animals between {names[0]} and {names[1]}{where}: {names[0]} has {_list_animals(animals_a)}; "
            f"{names[1]} has {_list_animals(animals_b)} (videos are matched by file name, animals by name)"
        )
    return pd.DataFrame(
        [(v, an, name, f"only in {name}") for name, only in zip(names, (animals_a - common, animals_b - common)) for v, an in sorted(only)],
        columns=["video", "animal", "only_in", "reason"],
    )


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


#: Per-animal measures compared besides immobility seconds, as (name, unit): the latency to the
#: first immobile bout, and with 3-class labels the modified FST's swimming and climbing seconds
#: and 5-s time-sampling counts. ``summary.csv`` and tables of hand totals name them
#: :func:`totals_column`.
OTHER_MEASURES: tuple[tuple[str, str], ...] = (
    ("latency", "s"), ("swimming", "s"), ("climbing", "s"),
    ("immobility_counts", "count"), ("swimming_counts", "count"), ("climbing_counts", "count"),
)
#: Measures needing 3-class labels.
_THREE_CLASS_ONLY = {"swimming", "climbing", "immobility_counts", "swimming_counts", "climbing_counts"}
#: Shortest immobile bout that starts the latency, s (as ``summary.csv``'s default ``--min-bout``).
LATENCY_MIN_BOUT_S = 1.0


def totals_column(name: str, unit: str) -> str:
    """Column of a per-animal totals table holding a measure: ``latency_s``, ``immobility_counts``."""
    return f"{name}_s" if unit == "s" else name


def paired_column(name: str, unit: str, side: str) -> str:
    """Column of ``per_animal`` holding a measure of table ``side`` (``a``/``b``): ``latency_a_s``."""
    return f"{name}_{side}_s" if unit == "s" else f"{name}_{side}"


def other_measures(classes: Sequence[str]) -> list[tuple[str, str]]:
    """The measures of :data:`OTHER_MEASURES` that a label set gives."""
    three = "swimming" in classes
    return [(n, u) for n, u in OTHER_MEASURES if three or n not in _THREE_CLASS_ONLY]


def animal_totals(table: pd.DataFrame, window: tuple[float, float], classes: Sequence[str]) -> pd.DataFrame:
    """Per-animal totals of a per-second label table over a window, as ``summary.csv`` gives them.

    Parameters
    ----------
    table : DataFrame
        ``video, animal, second, label``.
    window : (start_s, end_s)
        Seconds counted; latency and the 5-s time-sampling periods run from ``start_s``.
    classes : sequence of str
        The label set (3-class labels add swimming, climbing and the counts).

    Returns
    -------
    DataFrame
        ``video, animal, immobility_s`` and the :func:`totals_column` of each of
        :func:`other_measures` (latency NaN where no immobile bout of
        :data:`LATENCY_MIN_BOUT_S` starts in the window).
    """
    start_s, end_s = float(window[0]), float(window[1])
    protocol = Protocol("validate", session_s=end_s, window_start_s=start_s, window_end_s=end_s, labels=tuple(classes))
    columns = ["immobility_s"] + [totals_column(*m) for m in other_measures(classes)]
    rows = []
    for (video, animal), one in table.groupby(["video", "animal"], sort=True):
        s = summarise_animal(one, protocol, LATENCY_MIN_BOUT_S)
        rows.append({"video": video, "animal": animal, **{c: s[c] for c in columns}})
    return pd.DataFrame(rows, columns=["video", "animal", *columns])


def pair_totals(a: pd.DataFrame, b: pd.DataFrame, measures: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """Two per-animal totals tables side by side: ``video, animal`` and, per measure,
    :func:`paired_column` ``a`` and ``b`` (animals of both tables only)."""
    cols = [totals_column(*m) for m in measures]
    side = {
        k: t[["video", "animal", *cols]].rename(columns={totals_column(*m): paired_column(*m, k) for m in measures})
        for k, t in (("a", a), ("b", b))
    }
    out = side["a"].merge(side["b"], on=["video", "animal"], how="inner")
    order = [paired_column(*m, k) for m in measures for k in ("a", "b")]
    return out[["video", "animal", *order]].sort_values(["video", "animal"], kind="stable").reset_index(drop=True)


def measure_agreement(per_animal: pd.DataFrame, measures: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """Pearson r and Bland–Altman statistics of each per-animal measure.

    Parameters
    ----------
    per_animal : DataFrame
        With the :func:`paired_column` ``a`` and ``b`` of every measure.
    measures : sequence of (name, unit)
        Measures compared (e.g. ``("latency", "s")``).

    Returns
    -------
    DataFrame
        One row per measure: ``measure``, ``unit``, then the columns of :func:`pearson`, of
        :func:`bland_altman` (its ``n`` left out; ``a - b`` in the measure's unit) and
        ``icc``, ``icc_ci95_low``, ``icc_ci95_high`` (:func:`icc_agreement`). Animals
        without the measure in either table (a latency where no bout began) are left out of
        its row, ``n`` counts the rest.
    """
    rows = []
    for name, unit in measures:
        pair = per_animal[[paired_column(name, unit, "a"), paired_column(name, unit, "b")]].astype(float).dropna()
        a, b = pair.iloc[:, 0], pair.iloc[:, 1]
        icc = icc_agreement(pair.to_numpy()).drop(columns="n").add_prefix("icc_").rename(columns={"icc_icc": "icc"})
        rows.append(pd.concat([pd.DataFrame({"measure": [name], "unit": [unit]}), pearson(a, b), bland_altman(a, b).drop(columns="n"), icc], axis=1))
    columns = ["measure", "unit", "n", "r", "ci95_low", "ci95_high", "p_value", "bias", "sd_diff", "loa_low", "loa_high",
               "icc", "icc_ci95_low", "icc_ci95_high"]
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


def icc_agreement(ratings: np.ndarray, level: float = 0.95) -> pd.DataFrame:
    """Intraclass correlation for absolute agreement of single ratings, ICC(A,1), with its CI.

    Parameters
    ----------
    ratings : numpy.ndarray
        ``(n, k)``: n animals (rows) each measured by the same k raters or scorers (columns).
    level : float
        Confidence level of the interval.

    Returns
    -------
    DataFrame
        One row: ``n``, ``icc``, ``ci95_low``, ``ci95_high`` (NaN with fewer than 3 animals or
        ratings that do not vary).

    Notes
    -----
    Two-way random effects, absolute agreement, single rater (Shrout & Fleiss's ICC(2,1),
    McGraw & Wong's ICC(A,1)): ``(MSR - MSE) / (MSR + (k - 1) MSE + k (MSC - MSE) / n)`` from
    the two-way ANOVA of animals (R) by raters (C). Unlike Pearson's r it falls when one rater
    scores systematically more than the other. The interval is McGraw & Wong's (1996), with
    Satterthwaite's degrees of freedom.
    """
    y = np.asarray(ratings, dtype=float)
    n, k = y.shape if y.ndim == 2 else (0, 0)
    out = {"n": [n], "icc": [math.nan], "ci95_low": [math.nan], "ci95_high": [math.nan]}
    if n < 3 or k < 2:
        return pd.DataFrame(out)
    grand = y.mean()
    ss_rows = k * float(((y.mean(axis=1) - grand) ** 2).sum())
    ss_cols = n * float(((y.mean(axis=0) - grand) ** 2).sum())
    ss_err = float(((y - grand) ** 2).sum()) - ss_rows - ss_cols
    msr, msc, mse = ss_rows / (n - 1), ss_cols / (k - 1), max(ss_err, 0.0) / ((n - 1) * (k - 1))
    denominator = msr + (k - 1) * mse + k * (msc - mse) / n
    if not denominator > 0:
        return pd.DataFrame(out)
    icc = (msr - mse) / denominator
    out["icc"] = [icc]
    if icc >= 1.0:
        out["ci95_low"], out["ci95_high"] = [1.0], [1.0]
        return pd.DataFrame(out)
    a, b = k * icc / (n * (1 - icc)), 1 + k * icc * (n - 1) / (n * (1 - icc))
    spread_df = (a * msc) ** 2 / (k - 1) + (b * mse) ** 2 / ((n - 1) * (k - 1))
    if not spread_df > 0:  # animals that do not differ at all, scored with a constant offset: no interval
        return pd.DataFrame(out)
    df_v = (a * msc + b * mse) ** 2 / spread_df
    q = 1 - (1 - level) / 2
    f_low, f_high = stats.f.ppf(q, n - 1, df_v), stats.f.ppf(q, df_v, n - 1)
    spread = k * msc + (k * n - k - n) * mse
    out["ci95_low"] = [n * (msr - f_low * mse) / (f_low * spread + n * msr)]
    out["ci95_high"] = [n * (f_high * msr - mse) / (spread + n * f_high * msr)]
    return pd.DataFrame(out)


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
    """Agreement of table ``a`` with table ``b``; every statistic as a tidy DataFrame.

    When either table holds per-animal totals only, the per-second parts (``aligned``,
    ``per_class``, ``confusion``) are empty and ``per_second`` has ``n_s`` 0.
    """

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
    #: Per-animal agreement on each measure besides immobility seconds (latency; swimming,
    #: climbing and the time-sampling counts of the 3-class FST): :func:`measure_agreement`.
    per_measure: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    #: ICC(A,1) of immobility seconds per animal with its CI (:func:`icc_agreement`).
    icc: pd.DataFrame = field(default_factory=lambda: icc_agreement(np.zeros((0, 2))), repr=False)

    @property
    def comparison(self) -> str:
        return f"{self.name_a} vs {self.name_b}"

    @property
    def per_second_compared(self) -> bool:
        """Whether both tables gave per-second labels (else only per-animal totals were compared)."""
        return len(self.aligned) > 0

    @property
    def compared_window(self) -> tuple[float, float]:
        """The window given, or else the span of the seconds compared (NaN for totals without one)."""
        if self.window:
            return self.window
        return float(self.aligned["second"].min()), float(self.aligned["second"].max() + 1)

    def summary(self) -> pd.DataFrame:
        """One row with the headline numbers (the row written to ``agreement.csv``)."""
        ps, co, ba = self.per_second.iloc[0], self.correlation.iloc[0], self.bland_altman.iloc[0]
        start, end = self.compared_window
        row = {
            "comparison": self.comparison,
            "a": self.name_a,
            "b": self.name_b,
            "window_start_s": start,
            "window_end_s": end,
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
                "icc": self.icc.iloc[0]["icc"],
                "icc_ci95_low": self.icc.iloc[0]["ci95_low"],
                "icc_ci95_high": self.icc.iloc[0]["ci95_high"],
            }
        )
        for rec in self.per_measure.itertuples(index=False):
            unit = "_s" if rec.unit == "s" else ""
            row.update({
                f"n_{rec.measure}": rec.n,
                f"pearson_r_{rec.measure}": rec.r,
                f"bias_{rec.measure}{unit}": rec.bias,
                f"loa_low_{rec.measure}{unit}": rec.loa_low,
                f"loa_high_{rec.measure}{unit}": rec.loa_high,
                f"icc_{rec.measure}": rec.icc,
            })
        return pd.DataFrame([row])

    def __str__(self) -> str:
        ps, co, ba = self.per_second.iloc[0], self.correlation.iloc[0], self.bland_altman.iloc[0]
        window = f"{_fmt(self.window[0])}–{_fmt(self.window[1])} s" if self.window else (
            "all common seconds" if self.per_second_compared else "not given")
        lines = [
            f"Agreement: {self.comparison} (window {window}; labels {', '.join(self.labels)})",
            f"  animals compared: {len(self.per_animal)}"
            + (f" ({len(self.unmatched)} not compared: in one table only, or not labelled over the whole window)" if len(self.unmatched) else ""),
        ]
        if self.per_second_compared:
            lines.append(f"  per second: n = {int(ps['n_s'])} s, accuracy = {ps['accuracy']:.3f}, Cohen's kappa = {ps['kappa']:.3f}")
        else:
            lines.append("  per second: not compared (per-animal totals)")
        for rec in self.per_class.itertuples(index=False):
            lines.append(
                f"    {rec.label}: kappa = {rec.kappa:.3f}, specific agreement = {rec.specific_agreement:.3f} "
                f"({rec.n_a_s} s {self.name_a}, {rec.n_b_s} s {self.name_b}, {rec.n_both_s} s both)"
            )
        if int(co["n"]):
            lines.append(
                f"  immobility per animal: Pearson r = {co['r']:.3f} (95% CI {co['ci95_low']:.3f} to {co['ci95_high']:.3f}, "
                f"p = {co['p_value']:.3g}, n = {int(co['n'])})"
            )
            lines.append(
                f"  Bland–Altman ({self.name_a} − {self.name_b}): bias = {ba['bias']:.2f} s, "
                f"95% limits of agreement {ba['loa_low']:.2f} to {ba['loa_high']:.2f} s (SD {ba['sd_diff']:.2f} s)"
            )
            icc = self.icc.iloc[0]
            lines.append(f"  ICC(A,1) = {icc['icc']:.3f} (95% CI {icc['ci95_low']:.3f} to {icc['ci95_high']:.3f})")
        for rec in self.per_measure.itertuples(index=False):
            lines.append(
                f"  {rec.measure.replace('_', ' ')} per animal: Pearson r = {rec.r:.3f} (n = {rec.n}); Bland–Altman bias = "
                f"{rec.bias:.2f} {rec.unit}, 95% limits of agreement {rec.loa_low:.2f} to {rec.loa_high:.2f} {rec.unit}; "
                f"ICC(A,1) = {rec.icc:.3f}"
            )
        if self.per_second_compared:
            lines.append(f"  confusion matrix (rows {self.name_a}, columns {self.name_b}, seconds):")
            lines.extend("    " + ln for ln in self.confusion.to_string().splitlines())
        return "\n".join(lines)


def _fmt(value: float) -> str:
    return f"{value:g}"


def is_per_second(table: pd.DataFrame) -> bool:
    """Whether a table holds per-second labels (else per-animal totals: :func:`compare`)."""
    return {"second", "label"} <= set(table.columns)


def compare(
    a: pd.DataFrame,
    b: pd.DataFrame,
    window: Window = None,
    labels: LabelsArg = None,
    names: tuple[str, str] = ("auto", "human"),
) -> AgreementReport:
    """Compare two tables of scores (machine vs human, or rater vs rater).

    Parameters
    ----------
    a, b : DataFrame
        Per-second tables (``video, animal, second, label``), or per-animal totals (``video,
        animal`` and columns of :data:`behavscore.annotations.PER_ANIMAL_MEASURES`, as a
        stopwatch gives them or ``summary.csv`` holds them). When either is per-animal, the
        other is totalled over ``window`` (:func:`animal_totals`) and the animals are compared
        on the measures both tables hold.
    window : (start_s, end_s), optional
        Seconds ``start_s <= second < end_s`` compared (FST usually 120–360, TST 0–360).
        Needed to total a per-second table for a per-animal one.
    labels : None, "immobility" or sequence of str
        See :func:`align`; with per-animal totals, "immobility" compares immobility seconds and
        latency only.
    names : (str, str)
        Names of ``a`` and ``b`` in the report.

    Returns
    -------
    AgreementReport
        Per-second accuracy and kappa (overall and per class), confusion matrix, per-animal
        immobility seconds, Pearson r and Bland–Altman statistics of immobility seconds
        (``a - b``), and the same per-animal statistics of the latency to immobility and, with
        3-class labels, of swimming and climbing seconds and time-sampling counts
        (``per_measure``); ``str(report)`` is a readable summary.

    Notes
    -----
    Consecutive seconds are not independent, so no p-value is attached to kappa; the per-animal
    statistics treat animals as the independent units.
    """
    if not (is_per_second(a) and is_per_second(b)):
        return _compare_totals(a, b, window, labels, names)
    aligned = align(a, b, window=window, labels=labels, names=names)
    classes = aligned.attrs["labels"]
    ya, yb = aligned["label_a"].to_numpy(), aligned["label_b"].to_numpy()
    measures = other_measures(classes)
    span = window or (float(aligned["second"].min()), float(aligned["second"].max() + 1))
    totals = [animal_totals(aligned.rename(columns={f"label_{k}": "label"}), span, classes) for k in ("a", "b")]
    per_animal = immobility_per_animal(aligned).merge(pair_totals(*totals, measures), on=["video", "animal"])
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
        icc=icc_agreement(per_animal[["immobility_a_s", "immobility_b_s"]].to_numpy(dtype=float)),
        unmatched=aligned.attrs["unmatched"],
        per_measure=measure_agreement(per_animal, measures),
    )


def _as_totals(table: pd.DataFrame, window: Window, labels: LabelsArg, name: str) -> pd.DataFrame:
    """A table as per-animal totals: per-second labels totalled over the window."""
    if not is_per_second(table):
        own = table.attrs.get("window_s")
        if window is not None and own is not None and tuple(map(float, own)) != tuple(map(float, window)):
            raise ValueError(f"{name} holds totals over {own[0]:g}-{own[1]:g} s, not over the window asked for ({window[0]:g}-{window[1]:g} s)")
        return table.assign(video=table["video"].astype(str).map(video_file_name), animal=table["animal"].astype(str))
    if window is None:
        raise ValueError(
            f"{name} is per second and the other table per animal: give the window the totals cover "
            "(the seconds the rater timed, e.g. 120-360; command line: --window 120-360 or --window fst)"
        )
    keyed = _keyed(table, name)
    keyed = keyed[(keyed["second"] >= window[0]) & (keyed["second"] + 1 <= window[1])]
    classes, collapse = _resolve_classes(set(keyed["label"]), set(keyed["label"]), labels, (name, name))
    if collapse:
        keyed = keyed.assign(label=collapse_to_immobility(keyed["label"]))
    totals = animal_totals(keyed, window, classes)
    # A total over part of the window is not comparable with one timed over all of it.
    n_window = int(math.floor(window[1]) - math.ceil(window[0]))
    covered = keyed.groupby(["video", "animal"], sort=True).size()
    totals.attrs["partial"] = [
        (video, animal, name, f"{name} labels {n} of the window's {n_window} s") for (video, animal), n in covered.items() if n < n_window
    ]
    return totals


def videos_by_animal(totals: pd.DataFrame, other: pd.DataFrame, names: tuple[str, str]) -> pd.DataFrame:
    """Totals whose sheet names no video (``video`` "") given the video of the same animal id in ``other``.

    Parameters
    ----------
    totals : DataFrame
        Per-animal totals (``video, animal, ...``).
    other : DataFrame
        The table they are compared with (``video, animal``, per second or per animal).
    names : (str, str)
        Names of ``totals`` and ``other`` in messages.

    Returns
    -------
    DataFrame
        ``totals`` unchanged when it names videos; else with each animal's video from ``other``
        ("" for an animal ``other`` lacks). An id found in several videos of ``other`` is an error.
    """
    if (totals["video"].astype(str) != "").any() or other.empty:
        return totals
    where = other[["video", "animal"]].astype(str).assign(video=lambda d: d["video"].map(video_file_name)).drop_duplicates()
    repeated = where[where["animal"].duplicated(keep=False)]
    if len(repeated):
        animal = repeated["animal"].iloc[0]
        videos = ", ".join(sorted(repeated.loc[repeated["animal"] == animal, "video"]))
        raise ValueError(
            f"{names[0]} names no video, so animals are matched by id, but {names[1]} has animal '{animal}' in several videos "
            f"({videos}); add a video column to {names[0]}"
        )
    return totals.assign(video=totals["animal"].astype(str).map(where.set_index("animal")["video"]).fillna(""))


def _compare_totals(a: pd.DataFrame, b: pd.DataFrame, window: Window, labels: LabelsArg, names: tuple[str, str]) -> AgreementReport:
    """:func:`compare` where either table holds per-animal totals."""
    window = window or next((t.attrs["window_s"] for t in (a, b) if t.attrs.get("window_s") is not None), None)
    ta, tb = (_as_totals(t, window, labels, n) for t, n in ((a, names[0]), (b, names[1])))
    ta, tb = videos_by_animal(ta, tb, names), videos_by_animal(tb, ta, names[::-1])
    wanted = [("immobility", "s"), *OTHER_MEASURES]
    if isinstance(labels, str):
        wanted = wanted[:2]  # immobility seconds and latency: what a 2-class comparison has
    measures = [m for m in wanted if totals_column(*m) in ta.columns and totals_column(*m) in tb.columns]
    if not measures:
        raise ValueError(
            f"{names[0]} ({', '.join(c for c in ta.columns if c in PER_ANIMAL_MEASURES) or 'no measure'}) and "
            f"{names[1]} ({', '.join(c for c in tb.columns if c in PER_ANIMAL_MEASURES) or 'no measure'}) have no measure in common"
        )
    unmatched = _unmatched_animals(ta, tb, names)
    cols = [totals_column(*m) for m in measures]
    # An animal without any value (a summary row of a video that failed) is not compared.
    empty = [(v, an, n, f"{n} has no value for it") for t, n in ((ta, names[0]), (tb, names[1]))
             for v, an in t.loc[t[cols].isna().all(axis=1), ["video", "animal"]].itertuples(index=False)]
    partial = pd.DataFrame(ta.attrs.get("partial", []) + tb.attrs.get("partial", []) + empty, columns=unmatched.columns)
    if len(partial):
        listed = pd.MultiIndex.from_frame(partial[["video", "animal"]])
        ta, tb = (t[~pd.MultiIndex.from_frame(t[["video", "animal"]]).isin(listed)] for t in (ta, tb))
        unmatched = pd.concat([unmatched, partial], ignore_index=True)
        _unmatched_animals(ta, tb, names, " that cover the whole window")
    per_animal = pair_totals(ta, tb, measures)
    has_immobility = measures[0][0] == "immobility"
    if has_immobility:
        per_animal.insert(4, "difference_s", per_animal["immobility_a_s"] - per_animal["immobility_b_s"])
    immobility = per_animal[["immobility_a_s", "immobility_b_s"]].dropna() if has_immobility else pd.DataFrame({"a": [], "b": []})
    three = any(m[0] in _THREE_CLASS_ONLY for m in measures)
    return AgreementReport(
        name_a=names[0],
        name_b=names[1],
        window=None if window is None else (float(window[0]), float(window[1])),
        labels=THREE_CLASS if three else TWO_CLASS,
        aligned=pd.DataFrame(columns=[*KEYS, "label_a", "label_b"]),
        per_second=pd.DataFrame({"n_s": [0], "accuracy": [math.nan], "kappa": [math.nan]}),
        per_class=pd.DataFrame(columns=["label", "kappa", "specific_agreement", "n_a_s", "n_b_s", "n_both_s"]),
        confusion=pd.DataFrame(),
        per_animal=per_animal,
        correlation=pearson(immobility.iloc[:, 0], immobility.iloc[:, 1]),
        bland_altman=bland_altman(immobility.iloc[:, 0], immobility.iloc[:, 1]),
        icc=icc_agreement(immobility.to_numpy(dtype=float)),
        unmatched=unmatched,
        per_measure=measure_agreement(per_animal, measures[1:] if has_immobility else measures),
    )


# --------------------------------------------------------------------------- figure


def _drawn_measure(reports: Sequence[AgreementReport]) -> tuple[str, str]:
    """The measure the figure draws: immobility seconds, else (a comparison of time-sampling
    tallies) the first measure every report compared."""
    if all(int(r.correlation.iloc[0]["n"]) for r in reports):
        return "immobility", "s"
    shared = [tuple(m) for m in reports[0].per_measure[["measure", "unit"]].itertuples(index=False)] if reports else []
    for name, unit in shared:
        if all(((r.per_measure["measure"] == name) & (r.per_measure["n"] > 0)).any() for r in reports):
            return name, unit
    return "immobility", "s"


def _drawn_pairs(rep: AgreementReport, name: str, unit: str) -> tuple[np.ndarray, np.ndarray, pd.Series, pd.Series]:
    """A report's per-animal values of a measure (a, b; animals with both) and its r and Bland–Altman rows."""
    cols = [paired_column(name, unit, k) for k in ("a", "b")]
    pairs = rep.per_animal[cols].astype(float).dropna() if set(cols) <= set(rep.per_animal.columns) else pd.DataFrame(columns=cols)
    if name == "immobility":
        co, ba = rep.correlation.iloc[0], rep.bland_altman.iloc[0]
    else:
        row = rep.per_measure.set_index("measure").loc[name]
        co, ba = row, row
    return pairs[cols[0]].to_numpy(float), pairs[cols[1]].to_numpy(float), co, ba


def agreement_figure(reports: Union[AgreementReport, Sequence[AgreementReport]], path: Optional[Union[str, Path]] = None):
    """Per-animal immobility scatter (with identity line) and Bland–Altman plot.

    Comparisons of time-sampling tallies without immobility seconds draw the first measure
    they share (immobility counts) instead.

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
    name, unit = _drawn_measure(reports)
    for i, rep in enumerate(reports):
        xa, xb, co, ba = _drawn_pairs(rep, name, unit)
        colour = f"C{i}"
        ax_scatter.scatter(xb, xa, marker=markers[i % len(markers)], color=colour, alpha=0.8,
                           label=f"{rep.comparison} (r = {co['r']:.2f}, n = {int(co['n'])})")
        top = max(top, float(np.max(np.r_[xa, xb])) if len(xa) else 1.0)
        mean, diff = (xa + xb) / 2.0, xa - xb
        ax_ba.scatter(mean, diff, marker=markers[i % len(markers)], color=colour, alpha=0.8,
                      label=f"{rep.comparison}: bias {ba['bias']:.1f} {unit}, LoA {ba['loa_low']:.1f} to {ba['loa_high']:.1f} {unit}")
        ax_ba.axhline(ba["bias"], color=colour, lw=1.2)
        for lim in (ba["loa_low"], ba["loa_high"]):
            if np.isfinite(lim):
                ax_ba.axhline(lim, color=colour, lw=1.0, ls="--")
    ax_scatter.plot([0, top * 1.05], [0, top * 1.05], color="0.5", lw=1, ls=":", label="identity")
    ax_scatter.set_xlim(0, top * 1.05)
    ax_scatter.set_ylim(0, top * 1.05)
    ax_scatter.set_aspect("equal")
    what = name.replace("_", " ")
    first = reports[0] if reports else None
    if len(reports) == 1 and first is not None:
        ax_scatter.set_xlabel(f"{what}, {first.name_b} ({unit})")
        ax_scatter.set_ylabel(f"{what}, {first.name_a} ({unit})")
        ax_ba.set_ylabel(f"{first.name_a} − {first.name_b} ({unit})")
    else:
        ax_scatter.set_xlabel(f"{what}, second of the pair ({unit})")
        ax_scatter.set_ylabel(f"{what}, first of the pair ({unit})")
        ax_ba.set_ylabel(f"first − second ({unit})")
    ax_ba.set_xlabel(f"mean {what} of the pair ({unit})")
    ax_ba.axhline(0, color="0.7", lw=0.8)
    ax_scatter.set_title(f"{what[0].upper()}{what[1:]} per animal")
    ax_ba.set_title("Bland–Altman (solid: bias, dashed: 95% limits)")
    ax_scatter.legend(fontsize=7, loc="upper left")
    ax_ba.legend(fontsize=7, loc="best")
    if path is not None:
        fig.savefig(path, dpi=150)
    return fig
