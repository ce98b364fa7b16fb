"""Group statistics of a scored cohort: describe, ANOVA, Dunnett vs reference, covariates, ED50."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from assay_core import fit_dose_response
from assay_core.group_stats import compare_to_reference, hedges_g

__all__ = [
    "STATS_COLUMNS", "DEFAULT_OUTCOMES", "GroupDesign", "assign_groups", "default_group_columns", "exclude_flagged",
    "column_unit", "outcome_unit", "stars", "one_way_anova", "adjusted_anova",
    "group_statistics", "prism_wide", "DoseFit", "dose_response_fits",
]

#: Columns of the table :func:`group_statistics` returns (documented in docs/statistics.md).
STATS_COLUMNS = [
    "outcome", "unit", "analysis", "term", "group", "reference", "level",
    "n", "n_excluded", "n_missing", "mean", "sd", "sem", "difference", "ci_low", "ci_high",
    "statistic", "df_num", "df_den", "p_value", "stars", "effect_size", "effect_size_name",
    "estimate", "se", "method", "flags", "note",
]

#: Outcomes analysed when none are named (those present in the summary).
DEFAULT_OUTCOMES = ("immobility_s", "immobility_pct", "latency_s", "bouts", "swimming_s", "climbing_s",
                    "immobility_counts", "swimming_counts", "climbing_counts")

#: Column-name suffix -> unit (longest suffix wins).
_SUFFIX_UNITS = {
    "_mg_kg": "mg/kg", "_ug_kg": "µg/kg", "_g_kg": "g/kg", "_mmol_kg": "mmol/kg",
    "_umol_kg": "µmol/kg", "_ml_kg": "mL/kg", "_mg": "mg", "_ug": "µg",
    "_pM": "pM", "_nM": "nM", "_uM": "µM", "_mM": "mM",
    "_pct": "%", "_s": "s", "_min": "min", "_h": "h",
}
_COUNT_OUTCOMES = {"bouts": "count", "immobility_counts": "count", "swimming_counts": "count", "climbing_counts": "count"}
_REFERENCE_NAMES = re.compile(r"\b(vehicle|veh|saline|control|ctrl)\b", re.IGNORECASE)
_GROUP_CANDIDATES = ("treatment", "drug", "compound", "group", "condition")
_DUNNETT_SEED = 20240  # fixed quasi-Monte Carlo stream: the same p-values on every run
_DOSE_MIN_POSITIVE_LEVELS = 3
_DOSE_MIN_RESIDUAL_DF = 2


def column_unit(name: str) -> str:
    """Unit named by a column's suffix (``dose_mg_kg`` -> ``mg/kg``, ``latency_s`` -> ``s``); '' if none."""
    for suffix in sorted(_SUFFIX_UNITS, key=len, reverse=True):
        if name.endswith(suffix) and len(name) > len(suffix):
            return _SUFFIX_UNITS[suffix]
    return ""


def outcome_unit(name: str) -> str:
    """Unit of a summary outcome (``bouts`` -> ``count``, otherwise from the suffix)."""
    return _COUNT_OUTCOMES.get(name, column_unit(name))


def stars(p: float) -> str:
    """Prism's summary of a p-value: ``****`` p < 0.0001, ``***`` < 0.001, ``**`` < 0.01, ``*`` < 0.05, else ``ns``.

    NaN gives ''.
    """
    if p is None or not np.isfinite(p):
        return ""
    for cut, mark in ((1e-4, "****"), (1e-3, "***"), (1e-2, "**"), (0.05, "*")):
        if p < cut:
            return mark
    return "ns"


def default_group_columns(summary: pd.DataFrame) -> list[str]:
    """Group columns guessed from a summary: a treatment-like column and a ``dose*`` column.

    Returns
    -------
    list of str
        The first of ``treatment, drug, compound, group, condition`` present, then the first
        numeric column whose name starts with ``dose``; empty when there is neither.
    """
    cols = [c for c in _GROUP_CANDIDATES if c in summary.columns][:1]
    doses = [c for c in summary.columns if str(c).lower().startswith("dose") and is_numeric_column(summary[c])]
    return cols + doses[:1]


# ----------------------------------------------------------------------------- groups
@dataclass(frozen=True)
class GroupDesign:
    """Which animal belongs to which group, the groups' order and the reference group.

    Attributes
    ----------
    columns : tuple of str
        Columns that define the groups.
    labels : tuple of str
        Group labels in display order: reference first, then by the non-dose columns, then dose.
    reference : str
        Label of the reference group.
    row_group : pandas.Series
        Group label of each summary row (same index; NaN where a group value is missing).
    values : dict
        Label -> tuple of the defining columns' values.
    dose_col : str or None
        Column holding the dose (given, or a numeric group column named ``dose*``).
    parts : dict
        Label -> the label's pieces (one per shown column), e.g. for two-line axis labels.
    """

    columns: tuple
    labels: tuple
    reference: str
    row_group: pd.Series
    values: dict
    dose_col: str | None
    parts: dict

    def dose_of(self, label: str) -> float:
        """Dose of a group (NaN when the dose column is not a group column)."""
        if self.dose_col is None or self.dose_col not in self.columns:
            return np.nan
        return float(self.values[label][self.columns.index(self.dose_col)])


def _format_value(value, column: str) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        text = f"{float(value):g}"
    elif isinstance(value, (int, float, np.integer, np.floating)):
        text = f"{value:g}"
    else:
        text = str(value)
    unit = column_unit(column)
    return f"{text} {unit}" if unit else text


def _label_parts(keys: list[tuple], columns: list[str], dose_col: str | None) -> dict:
    """Pieces of a readable label per key; a zero dose is left out beside another column, when
    the labels stay unique."""

    def parts(key, drop_zero):
        return [_format_value(v, c) for c, v in zip(columns, key)
                if not (drop_zero and c == dose_col and len(columns) > 1 and _is_zero(v))]

    short = {k: parts(k, True) for k in keys}
    if len({" ".join(p) for p in short.values()}) < len(short):
        return {k: parts(k, False) for k in keys}
    return short


def _is_zero(v) -> bool:
    try:
        return float(v) == 0.0
    except (TypeError, ValueError):
        return False


def is_numeric_column(values: pd.Series) -> bool:
    """True when every non-empty value is a number, whether stored as numbers or as text
    (cohort tables are read as text so that metadata reach the outputs unchanged)."""
    if pd.api.types.is_numeric_dtype(values):
        return True
    filled = values[values.notna() & (values.astype(str).str.strip() != "")]
    return bool(len(filled)) and pd.to_numeric(filled, errors="coerce").notna().all()


def _dose_like(summary: pd.DataFrame, columns: list[str], dose_col: str | None) -> str | None:
    if dose_col is not None:
        return dose_col
    for c in columns:
        if str(c).lower().startswith("dose") and is_numeric_column(summary[c]):
            return c
    return None


def _sort_key(key: tuple, columns: list[str], dose_col: str | None, text_rank: dict):
    others, dose = [], ()
    for col, v in zip(columns, key):
        if col == dose_col:
            dose = (float(v),)
        elif isinstance(v, (int, float, np.integer, np.floating)):
            others.append((0, float(v), ""))
        else:
            others.append((1, 0.0, text_rank[col].get(v, str(v))))
    return (*others, *dose)


def _find_reference(labels: dict, columns: list[str], dose_col: str | None, reference) -> str:
    names = list(labels.values())
    if reference is not None:
        ref = str(reference)
        if ref in names:
            return ref
        folded = [n for n in names if n.casefold() == ref.casefold()]
        if len(folded) == 1:
            return folded[0]
        by_value = [labels[k] for k in labels if any(str(v).casefold() == ref.casefold() for v in k)]
        if len(by_value) == 1:
            return by_value[0]
        raise ValueError(f"reference group {ref!r} not found among the groups of {columns}: "
                         f"{names}; give one of these labels")
    candidates = list(labels)
    if dose_col is not None and dose_col in columns:
        i = columns.index(dose_col)
        zero = [k for k in labels if _is_zero(k[i])]
        if len(zero) == 1:
            return labels[zero[0]]
        if zero:
            candidates = zero
    named = [k for k in candidates if any(isinstance(v, str) and _REFERENCE_NAMES.search(v) for v in k)]
    if len(named) == 1:
        return labels[named[0]]
    where = (f"no single group has dose 0 in column '{dose_col}' and " if dose_col in columns else "")
    raise ValueError(
        f"cannot tell which group is the reference: {where}"
        f"{'several groups are' if len(named) > 1 else 'no group is'} named vehicle/saline/control/veh "
        f"in columns {columns}; groups are {names}. Name the reference group explicitly "
        "(reference=<label>)")


def assign_groups(summary: pd.DataFrame, groups: Sequence[str] | str, reference: str | None = None,
                  dose_col: str | None = None) -> GroupDesign:
    """Define groups from one or more columns, order them and find the reference group.

    Parameters
    ----------
    summary : pandas.DataFrame
        One row per animal (``summary.csv``).
    groups : str or sequence of str
        Column(s) whose value combination defines a group, e.g. ``["treatment", "dose_mg_kg"]``.
    reference : str, optional
        Label of the reference group (case-insensitive), or a value that names exactly one
        group. Default: the group whose dose is 0, else the one named vehicle, veh, saline,
        control or ctrl (case-insensitive).
    dose_col : str, optional
        Dose column; default a numeric group column whose name starts with ``dose``.

    Returns
    -------
    GroupDesign

    Raises
    ------
    ValueError
        A missing column, no groups, or a reference group that is not found or ambiguous.

    Notes
    -----
    Labels join the values with spaces, a unit taken from the column-name suffix
    (``dose_mg_kg`` -> "5 mg/kg"); beside another column a zero dose is left out
    ("vehicle" rather than "vehicle 0 mg/kg") unless that makes two labels equal.
    """
    columns = [groups] if isinstance(groups, str) else list(groups)
    if not columns:
        raise ValueError("no group columns given")
    missing = [c for c in columns if c not in summary.columns]
    if missing:
        raise ValueError(f"group column(s) {missing} not in the summary; columns are {list(summary.columns)}")
    dose = _dose_like(summary, columns, dose_col)
    if dose is not None and dose not in summary.columns:
        raise ValueError(f"dose column '{dose}' not in the summary; columns are {list(summary.columns)}")
    frame = summary[columns].replace(r"^\s*$", np.nan, regex=True)  # blank cells are missing values
    if dose is not None and dose in columns:
        numeric = pd.to_numeric(frame[dose], errors="coerce")
        filled = frame[dose].notna() & (frame[dose].astype(str).str.strip() != "")
        bad = filled & numeric.isna()
        if bad.any():
            raise ValueError(f"dose column '{dose}' has non-numeric values {sorted(map(str, frame[dose][bad].unique()))}")
        frame[dose] = numeric.astype(float)
    complete = frame.notna().all(axis=1)
    keys = [tuple(r) for r in frame[complete].itertuples(index=False, name=None)]
    unique = list(dict.fromkeys(keys))
    if not unique:
        raise ValueError(f"no animal has values in all group columns {columns}")
    pieces = _label_parts(unique, columns, dose)
    labels = {k: " ".join(p) for k, p in pieces.items()}
    ref = _find_reference(labels, columns, dose, reference)
    text_rank = {c: {v: str(v).casefold() for v in frame[c].dropna().unique()} for c in columns}
    ordered = sorted(unique, key=lambda k: (labels[k] != ref, _sort_key(k, columns, dose, text_rank)))
    row_group = pd.Series(np.nan, index=summary.index, dtype=object)
    row_group[complete] = [labels[k] for k in keys]
    return GroupDesign(columns=tuple(columns), labels=tuple(labels[k] for k in ordered), reference=ref,
                       row_group=row_group, values={labels[k]: k for k in ordered}, dose_col=dose,
                       parts={labels[k]: tuple(pieces[k]) for k in ordered})


# ----------------------------------------------------------------------------- tests
def one_way_anova(values: dict[str, np.ndarray]) -> dict:
    """One-way ANOVA over groups (scipy ``f_oneway``) with eta squared.

    Parameters
    ----------
    values : dict
        Group -> values; groups without values are left out.

    Returns
    -------
    dict
        ``statistic`` (F), ``df_num`` (k - 1), ``df_den`` (N - k), ``p_value``,
        ``eta_squared`` (SS_between / SS_total), ``n`` and ``note`` (why no test, or '').
    """
    arrays = [np.asarray(v, float) for v in values.values()]
    arrays = [a[np.isfinite(a)] for a in arrays]
    arrays = [a for a in arrays if a.size]
    n = int(sum(a.size for a in arrays))
    k = len(arrays)
    out = {"statistic": np.nan, "df_num": np.nan, "df_den": np.nan, "p_value": np.nan,
           "eta_squared": np.nan, "n": n, "note": ""}
    if k < 2:
        out["note"] = "fewer than 2 groups with values: no ANOVA"
        return out
    if n - k < 1:
        out["note"] = "no replicate animals within groups: no ANOVA"
        return out
    allv = np.concatenate(arrays)
    ss_total = float(np.sum((allv - allv.mean()) ** 2))
    ss_between = float(sum(a.size * (a.mean() - allv.mean()) ** 2 for a in arrays))
    out.update(df_num=k - 1, df_den=n - k)
    if ss_total == 0:
        out["note"] = "every animal has the same value: no ANOVA"
        return out
    res = stats.f_oneway(*arrays)
    out.update(statistic=float(res.statistic), p_value=float(res.pvalue), eta_squared=ss_between / ss_total)
    return out


def _dummies(codes: pd.Series) -> np.ndarray:
    levels = list(dict.fromkeys(codes))
    return np.column_stack([(codes == lv).to_numpy(float) for lv in levels[1:]]) if len(levels) > 1 \
        else np.empty((len(codes), 0))


def _rss_rank(X: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    return float(resid @ resid), int(np.linalg.matrix_rank(X))


def adjusted_anova(y: np.ndarray, group: Sequence, covariates: pd.DataFrame) -> dict:
    """Group effect adjusted for categorical covariates: type-II F test by ordinary least squares.

    Parameters
    ----------
    y : array_like
        Outcome per animal.
    group : sequence
        Group label per animal.
    covariates : pandas.DataFrame
        One column per covariate (each treated as a factor), one row per animal.

    Returns
    -------
    dict
        ``statistic`` (F), ``df_num``, ``df_den``, ``p_value``, ``partial_eta_squared``,
        ``n`` and ``note``.

    Notes
    -----
    Full model: intercept + group + covariates (additive dummy coding); reduced model:
    intercept + covariates. F = ((RSS_reduced - RSS_full) / (rank_full - rank_reduced)) /
    (RSS_full / (n - rank_full)); partial eta squared = (RSS_reduced - RSS_full) / RSS_reduced.
    With one covariate level this is the one-way ANOVA.
    """
    y = np.asarray(y, float)
    n = y.size
    out = {"statistic": np.nan, "df_num": np.nan, "df_den": np.nan, "p_value": np.nan,
           "partial_eta_squared": np.nan, "n": n, "note": ""}
    cov = [_dummies(covariates[c].astype(str).reset_index(drop=True)) for c in covariates.columns]
    X_red = np.column_stack([np.ones(n), *cov])
    X_full = np.column_stack([X_red, _dummies(pd.Series(list(group), dtype=object))])
    rss_red, rank_red = _rss_rank(X_red, y)
    rss_full, rank_full = _rss_rank(X_full, y)
    df_num, df_den = rank_full - rank_red, n - rank_full
    out.update(df_num=df_num, df_den=df_den)
    if df_num < 1:
        out["note"] = "group effect not estimable: the groups are confounded with the covariates"
        return out
    if df_den < 1:
        out["note"] = "no residual degrees of freedom left after the covariates: no test"
        return out
    if rss_full <= 1e-12 * max(rss_red, 1e-300):
        out["note"] = "the model fits every animal exactly: no test"
        return out
    F = ((rss_red - rss_full) / df_num) / (rss_full / df_den)
    out.update(statistic=float(F), p_value=float(stats.f.sf(F, df_num, df_den)),
               partial_eta_squared=float((rss_red - rss_full) / rss_red) if rss_red > 0 else np.nan)
    return out


# ----------------------------------------------------------------------------- dose-response
def _dose_series(design: GroupDesign, ok: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """(label, rows) per dose-response series: each combination of the non-dose group columns
    with its own doses, plus the reference group's animals as dose 0 when the reference is dose 0."""
    dose = design.dose_col
    others = [c for c in design.columns if c != dose]
    ref_rows = ok[ok["_group"] == design.reference]
    ref_is_zero = len(ref_rows) and (pd.to_numeric(ref_rows[dose], errors="coerce") == 0).all()
    if not others:
        return [("all doses", ok)]
    out = []
    for key, rows in ok.groupby(others, sort=False, dropna=True):
        key = key if isinstance(key, tuple) else (key,)
        if not (pd.to_numeric(rows[dose], errors="coerce") > 0).any():
            continue
        label = " ".join(_format_value(v, c) for c, v in zip(others, key))
        if ref_is_zero:
            rows = pd.concat([ref_rows, rows[rows["_group"] != design.reference]])
        out.append((label, rows))
    return out


@dataclass
class DoseFit:
    """One dose-response series: its fit (None when not fitted), how it was fitted, or why not."""

    label: str
    outcome: str
    fit: object | None
    method: str
    note: str
    n: int


def _fit_series(outcome: str, label: str, rows: pd.DataFrame, dose_col: str, model: str,
                fixed: dict | None) -> DoseFit:
    x = pd.to_numeric(rows[dose_col], errors="coerce").to_numpy(float)
    y = pd.to_numeric(rows[outcome], errors="coerce").to_numpy(float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    positive = np.unique(x[x > 0])
    n_zero = int(np.sum(x == 0))

    def not_fitted(text, how=""):
        return DoseFit(label, outcome, None, how, f"dose-response not fitted: {text}", int(x.size))

    if positive.size < _DOSE_MIN_POSITIVE_LEVELS or n_zero == 0:
        return not_fitted(f"needs vehicle (dose 0) animals and at least {_DOSE_MIN_POSITIVE_LEVELS} "
                          f"distinct positive doses; found {n_zero} dose-0 animal(s) and {positive.size} "
                          f"positive dose(s) {[float(d) for d in positive]}")
    vehicle_mean = float(y[x == 0].mean())
    fix = dict(fixed or {})
    if model == "auto":
        model_name, how = "LL.4", "LL.4"
        if positive.size < 4 and "d" not in fix:
            fix["d"] = vehicle_mean
            how = (f"LL.4 with Top (d, response at dose 0) fixed at the vehicle mean ({vehicle_mean:.4g} "
                   f"{outcome_unit(outcome)}): {positive.size} positive doses cannot determine 4 parameters")
    else:
        model_name, how = model, model
    if fix and model != "auto":
        how += " [" + ", ".join(f"{k}={v:.4g}" for k, v in fix.items()) + "]"
    n_params = 5 if model_name == "LL.5" else 4
    implied = {"c"} if model_name == "LL.3" else set()
    n_free = n_params - len(set(fix) | implied)
    if x.size - n_free < _DOSE_MIN_RESIDUAL_DF:
        return not_fitted(f"{x.size} animals for {n_free} free parameters ({how}); needs at least "
                          f"{n_free + _DOSE_MIN_RESIDUAL_DF}", how)
    bounds = {"b": (0, None)} if "d" in fix and model_name in ("LL.4", "LL.3", "LL.5") else None
    try:
        fit = fit_dose_response(x, y, model=model_name, fixed=fix or None, bounds=bounds)
    except (ValueError, np.linalg.LinAlgError) as exc:
        return not_fitted(str(exc), how)
    return DoseFit(label, outcome, fit, how, "", int(x.size))


def dose_response_fits(summary: pd.DataFrame, groups: Sequence[str] | str, dose_col: str,
                       outcome: str = "immobility_s", reference: str | None = None,
                       dose_model: str = "auto", dose_fixed: dict | None = None) -> list[DoseFit]:
    """Dose-response fits of one outcome, one per series (each treatment with the vehicle animals).

    Parameters
    ----------
    summary : pandas.DataFrame
        One row per animal; only ``status == "ok"`` animals with a value are fitted.
    groups, reference : see :func:`assign_groups`.
    dose_col : str
        Dose column (0 = vehicle).
    outcome : str
        Response column.
    dose_model, dose_fixed : see :func:`group_statistics`.

    Returns
    -------
    list of DoseFit
        ``fit`` is an :class:`assay_core.DoseResponseFit` (check its ``.flags``), or None with
        the reason in ``note``.
    """
    design = assign_groups(summary, groups, reference, dose_col)
    y = pd.to_numeric(summary[outcome], errors="coerce")
    keep = _ok_mask(summary) & design.row_group.notna() & y.notna()
    have = summary[keep].assign(_group=design.row_group[keep])
    return [_fit_series(outcome, label, rows, design.dose_col, dose_model, dose_fixed)
            for label, rows in _dose_series(design, have)]


def _dose_rows(df: DoseFit, design: GroupDesign) -> list[dict]:
    dose_unit = column_unit(design.dose_col)
    unit = outcome_unit(df.outcome)
    base = {"outcome": df.outcome, "analysis": "dose_response", "group": df.label,
            "reference": design.reference, "n": df.n, "method": df.method}
    if df.fit is None:
        return [{**base, "unit": dose_unit, "term": "ED50", "note": df.note}]
    fit = df.fit
    flags = " | ".join(fit.flags)
    prism = fit.prism
    ed_name = next(n for n in prism.index if n in ("IC50", "EC50"))
    out = []
    for term, name, term_unit in (("ED50", ed_name, dose_unit), ("Top", "Top", unit),
                                  ("Bottom", "Bottom", unit), ("HillSlope", "HillSlope", "")):
        r = prism.loc[name]
        note = ""
        if term == "ED50":
            note = (f"{ed_name}: dose giving half of the fitted span; CI back-transformed from "
                    f"Log{ed_name} (Prism)")
            if flags:
                note = "FLAGGED, do not report without its flags: " + note
        elif term in _PRISM_TO_DRC and _PRISM_TO_DRC[term] in (fit.fixed or {}):
            note = "fixed, not estimated"
        elif not np.isfinite(r["se"]):
            note = "no standard error: the data do not determine it (see flags)"
        out.append({**base, "unit": term_unit, "term": term, "estimate": float(r["estimate"]),
                    "se": float(r["se"]), "ci_low": float(r["ci_low"]), "ci_high": float(r["ci_high"]),
                    "df_den": float(fit.df_resid), "flags": flags, "note": note})
    return out


#: Prism's names of the LL.4 parameters that can be fixed, and drc's.
_PRISM_TO_DRC = {"Top": "d", "Bottom": "c", "HillSlope": "b"}


# ----------------------------------------------------------------------------- main table
def _ok_mask(summary: pd.DataFrame) -> pd.Series:
    if "status" not in summary.columns:
        return pd.Series(True, index=summary.index)
    return summary["status"].astype(str).str.strip().eq("ok")


def exclude_flagged(summary: pd.DataFrame, flags: Sequence[str]) -> pd.DataFrame:
    """The summary with every animal that carries one of ``flags`` set aside from the groups.

    Parameters
    ----------
    summary : pandas.DataFrame
        ``summary.csv`` of ``behavscore batch`` (with its ``flags`` column).
    flags : sequence of str
        Short names of flags (e.g. ``"tail climbing"``, ``"fell"``) for which the lab's
        protocol excludes an animal.

    Returns
    -------
    pandas.DataFrame
        A copy in which those animals' ``status`` (``ok``) reads ``excluded: <their flags>``:
        group statistics, Prism tables and group figures leave them out and count them in
        ``n_excluded``.
    """
    out = summary.copy()
    if not flags or "flags" not in out.columns:
        return out
    if "status" not in out.columns:  # a hand-made summary: every animal counts as scored
        out["status"] = "ok"
    wanted = set(flags)
    have = out["flags"].fillna("").astype(str).map(lambda text: [f for f in text.split("; ") if f in wanted])
    hit = have.map(bool) & _ok_mask(out)
    out.loc[hit, "status"] = "excluded: " + have[hit].map("; ".join)
    return out


def group_statistics(summary: pd.DataFrame, groups: Sequence[str] | str, reference: str | None = None,
                     dose_col: str | None = None, outcomes: Sequence[str] | None = None,
                     covariates: Sequence[str] = (), *, dose_outcomes: Sequence[str] | None = None,
                     dose_model: str = "auto", dose_fixed: dict | None = None,
                     level: float = 0.95) -> pd.DataFrame:
    """Group statistics of a scored cohort as one tidy table (``stats.csv``).

    Parameters
    ----------
    summary : pandas.DataFrame
        ``summary.csv`` of ``behavscore batch``: one row per animal. Only rows with
        ``status == "ok"`` enter the statistics; the others are counted in ``n_excluded``.
    groups : str or sequence of str
        Column(s) defining the groups, e.g. ``["treatment", "dose_mg_kg"]``.
    reference : str, optional
        Reference group label; default detected (see :func:`assign_groups`).
    dose_col : str, optional
        Dose column: enables the dose-response fits (ED50).
    outcomes : sequence of str, optional
        Summary columns to analyse; default those of ``DEFAULT_OUTCOMES`` present.
    covariates : sequence of str
        Columns (e.g. ``sex``, ``batch``) treated as factors in an ANOVA of the group effect
        adjusted for them (``anova_adjusted``); their levels and n are listed.
    dose_outcomes : sequence of str, optional
        Outcomes fitted against dose; default ``outcomes`` when given, else ``immobility_s``.
    dose_model : {"auto", "LL.4", "LL.3", "LL.5"}
        ``auto``: LL.4 with 4 or more positive doses; with 3, LL.4 with Top (response at
        dose 0) fixed at the vehicle mean. Fewer than 3 positive doses, no vehicle animals or
        fewer than (free parameters + 2) animals give a note instead of a fit.
    dose_fixed : dict, optional
        Parameters held constant (drc names, e.g. ``{"c": 0}``), added to the model's own.
    level : float
        Confidence level of the Dunnett intervals.

    Returns
    -------
    pandas.DataFrame
        Columns ``STATS_COLUMNS``, one row per (outcome, analysis, term, group, level);
        ``analysis`` is ``describe``, ``covariate_levels``, ``anova``, ``anova_adjusted``,
        ``dunnett`` or ``dose_response``. Every column and its unit is described in
        docs/statistics.md.

    Raises
    ------
    ValueError
        A missing column, a reference group that cannot be found, or a covariate that is
        also a group column.
    """
    design = assign_groups(summary, groups, reference, dose_col)
    outcomes_given = outcomes is not None
    outcomes = [o for o in DEFAULT_OUTCOMES if o in summary.columns] if outcomes is None else list(outcomes)
    missing = [o for o in [*outcomes, *covariates] if o not in summary.columns]
    if missing:
        raise ValueError(f"column(s) {missing} not in the summary; columns are {list(summary.columns)}")
    clash = [c for c in covariates if c in design.columns]
    if clash:
        raise ValueError(f"covariate(s) {clash} are also group columns; a covariate must be another column")
    if dose_outcomes is None:
        dose_outcomes = outcomes if outcomes_given else [o for o in ("immobility_s",) if o in summary.columns]
    frame = summary.assign(_group=design.row_group, _ok=_ok_mask(summary))
    no_group = int(frame["_group"].isna().sum())
    frame = frame[frame["_group"].notna()]
    excluded = frame[~frame["_ok"]].groupby("_group").size()
    ok = frame[frame["_ok"]]
    group_note = (f"{no_group} animal(s) without a value in {list(design.columns)} left out" if no_group else "")
    rows: list[dict] = []
    for outcome in outcomes:
        unit = outcome_unit(outcome)
        y = pd.to_numeric(ok[outcome], errors="coerce")
        have = ok[y.notna()].assign(_y=y[y.notna()])
        vals = {g: have.loc[have["_group"] == g, "_y"].to_numpy(float) for g in design.labels}
        n_missing = {g: int(((ok["_group"] == g) & y.isna()).sum()) for g in design.labels}
        ref_vals = vals[design.reference]
        for g in design.labels:
            v = vals[g]
            sd = float(v.std(ddof=1)) if v.size > 1 else np.nan
            rows.append({"outcome": outcome, "unit": unit, "analysis": "describe", "group": g,
                         "n": v.size, "n_excluded": int(excluded.get(g, 0)), "n_missing": n_missing[g],
                         "mean": float(v.mean()) if v.size else np.nan, "sd": sd,
                         "sem": sd / np.sqrt(v.size) if v.size > 1 else np.nan,
                         "note": "reference group" if g == design.reference else ""})
        for cov in covariates:
            cv = have[cov]
            for lv in sorted(cv.dropna().unique(), key=str):
                for g in ("all", *design.labels):
                    sel = (cv == lv) if g == "all" else (cv == lv) & (have["_group"] == g)
                    rows.append({"outcome": outcome, "unit": "", "analysis": "covariate_levels",
                                 "term": cov, "group": g, "level": str(lv), "n": int(sel.sum())})
        a = one_way_anova(vals)
        rows.append({"outcome": outcome, "unit": unit, "analysis": "anova", "term": "group",
                     "n": a["n"], "n_excluded": int(excluded.sum()), "n_missing": sum(n_missing.values()),
                     "statistic": a["statistic"], "df_num": a["df_num"], "df_den": a["df_den"],
                     "p_value": a["p_value"], "stars": stars(a["p_value"]), "effect_size": a["eta_squared"],
                     "effect_size_name": "eta_squared", "method": "one-way ANOVA (scipy f_oneway)",
                     "note": "; ".join(t for t in (a["note"], group_note) if t)})
        if covariates:
            cov_ok = have[list(covariates)].notna().all(axis=1)
            sub = have[cov_ok]
            adj = adjusted_anova(sub["_y"].to_numpy(float), sub["_group"].tolist(), sub[list(covariates)])
            dropped = int((~cov_ok).sum())
            note = "; ".join(t for t in (adj["note"], f"{dropped} animal(s) without covariate values left out"
                                         if dropped else "") if t)
            rows.append({"outcome": outcome, "unit": unit, "analysis": "anova_adjusted",
                         "term": "group adjusted for " + ", ".join(covariates), "n": adj["n"],
                         "n_excluded": int(excluded.sum()), "statistic": adj["statistic"],
                         "df_num": adj["df_num"], "df_den": adj["df_den"], "p_value": adj["p_value"],
                         "stars": stars(adj["p_value"]), "effect_size": adj["partial_eta_squared"],
                         "effect_size_name": "partial_eta_squared",
                         "method": "OLS type-II F: group + " + " + ".join(covariates) + " vs "
                                   + " + ".join(covariates) + " (covariates as factors)",
                         "note": note})
        rows.extend(_dunnett_rows(outcome, unit, design, have, vals, excluded, level))
        if dose_col is not None and outcome in dose_outcomes:
            for label, series in _dose_series(design, have):
                fitted = _fit_series(outcome, label, series, design.dose_col, dose_model, dose_fixed)
                rows.extend(_dose_rows(fitted, design))
    table = pd.DataFrame(rows, columns=STATS_COLUMNS)
    for col in ("n", "n_excluded", "n_missing", "df_num", "df_den"):
        table[col] = pd.to_numeric(table[col]).round().astype("Int64")
    for col in ("term", "group", "reference", "level", "stars", "effect_size_name", "method", "flags", "note", "unit"):
        table[col] = table[col].astype(object).fillna("")
    return table


def _dunnett_rows(outcome, unit, design, have, vals, excluded, level) -> list[dict]:
    ref = design.reference
    others = [g for g in design.labels if g != ref]
    if not others:
        return []
    part = have[["_group", "_y"]]
    usable = [g for g in design.labels if vals[g].size >= 2]
    ss_within = sum(float(np.sum((vals[g] - vals[g].mean()) ** 2)) for g in usable)
    flat = ss_within == 0 and len(usable) > 1
    cmp = compare_to_reference(part, "_y", "_group", ref, level=level, rng=_DUNNETT_SEED) \
        if vals[ref].size and not flat else pd.DataFrame()
    by_group = {r["group"]: r for r in cmp.to_dict("records")} if len(cmp) else {}
    df_den = sum(vals[g].size for g in usable) - len(usable) if ref in usable else np.nan
    rows = []
    for g in others:
        v = vals[g]
        r = by_group.get(g)
        note = r["note"] if r is not None else (
            "no variation within groups: no test" if flat else
            "no animals in this group" if v.size == 0 else "no animals in the reference group")
        if r is not None and not r["note"] and not np.isfinite(r["p_value"]):
            note = "no test"
        p = r["p_value"] if r is not None else np.nan
        rows.append({"outcome": outcome, "unit": unit, "analysis": "dunnett", "group": g, "reference": ref,
                     "n": v.size, "n_excluded": int(excluded.get(g, 0)),
                     "mean": float(v.mean()) if v.size else np.nan,
                     "difference": float(v.mean() - vals[ref].mean()) if v.size and vals[ref].size else np.nan,
                     "ci_low": r["ci_low"] if r is not None else np.nan,
                     "ci_high": r["ci_high"] if r is not None else np.nan,
                     "statistic": r["statistic"] if r is not None else np.nan,
                     "df_den": df_den if np.isfinite(p) else np.nan, "p_value": p, "stars": stars(p),
                     "effect_size": hedges_g(v, vals[ref]), "effect_size_name": "hedges_g",
                     "method": f"Dunnett vs {ref} (scipy dunnett, two-sided, {100 * level:g} % simultaneous CI)",
                     "note": note})
    return rows


# ----------------------------------------------------------------------------- Prism
def prism_wide(summary: pd.DataFrame, groups: Sequence[str] | str, outcome: str = "immobility_s",
               reference: str | None = None, dose_col: str | None = None) -> pd.DataFrame:
    """One column per group, one row per animal: the layout of a GraphPad Prism Column table.

    Parameters
    ----------
    summary : pandas.DataFrame
        One row per animal; only ``status == "ok"`` rows with a value are listed.
    groups, reference, dose_col
        As for :func:`assign_groups` (they set the column headers and their order).
    outcome : str
        Summary column whose values fill the table.

    Returns
    -------
    pandas.DataFrame
        Headers are the group labels (reference first); animals in summary order; shorter
        columns padded with NaN (blank cells when written as CSV).
    """
    if outcome not in summary.columns:
        raise ValueError(f"outcome column '{outcome}' not in the summary; columns are {list(summary.columns)}")
    design = assign_groups(summary, groups, reference, dose_col)
    y = pd.to_numeric(summary[outcome], errors="coerce")
    keep = _ok_mask(summary) & y.notna() & design.row_group.notna()
    cols = {g: y[keep & (design.row_group == g)].reset_index(drop=True) for g in design.labels}
    return pd.DataFrame(cols, columns=list(design.labels)).astype(float)
