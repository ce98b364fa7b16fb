"""Microdialysis: concentrations from HPLC-ED peak areas, % of baseline per animal, AUC, group tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .group_stats import compare_to_reference

__all__ = ["standard_curve", "peak_area_to_conc", "normalise_baseline", "time_course_auc",
           "summarise_time_course", "compare_auc"]


def standard_curve(conc, area):
    """Linear HPLC-ED standard curve, area = slope * conc + intercept (least squares).

    Returns
    -------
    dict
        ``slope, intercept, r2, n, conc_min, conc_max`` (the calibrated range).
    """
    c = np.asarray(conc, float)
    a = np.asarray(area, float)
    ok = np.isfinite(c) & np.isfinite(a)
    c, a = c[ok], a[ok]
    if np.unique(c).size < 2:
        raise ValueError("a standard curve needs at least 2 different standard concentrations")
    res = stats.linregress(c, a)
    if res.slope <= 0:
        raise ValueError("the standard curve's slope is not positive; check the standards")
    return {"slope": res.slope, "intercept": res.intercept, "r2": res.rvalue ** 2, "n": c.size,
            "conc_min": float(c.min()), "conc_max": float(c.max())}


def peak_area_to_conc(area, curve):
    """Concentration from peak area through a :func:`standard_curve` result (missing stays missing)."""
    return (np.asarray(area, float) - curve["intercept"]) / curve["slope"]


def normalise_baseline(df, *, animal_col="animal", analyte_col="analyte", time_col="time_min",
                       value_col="conc", treatment_col="treatment", dose_time=0.0, n_baseline=3,
                       stability_pct=20.0, recovery=None):
    """Percent of baseline for every sample, baseline = mean of the last N pre-dose samples.

    Parameters
    ----------
    df : DataFrame
        Long table, one row per (animal, analyte, sample time); ``value_col`` is the
        dialysate concentration (NaN = missing sample: kept, never filled).
    dose_time : float
        Samples with ``time < dose_time`` are pre-dose.
    n_baseline : int
        Number of pre-dose samples (the last ones before dosing) forming the baseline.
    stability_pct : float
        A baseline is unstable when any of its samples deviates from the baseline
        mean by more than this percentage.
    recovery : float or dict, optional
        In-vitro probe recovery (fraction 0-1) overall or per analyte; dialysate
        values are divided by it (``conc_corrected``). % of baseline is unaffected.

    Returns
    -------
    (DataFrame, DataFrame)
        Samples with ``conc_corrected, baseline, pct_baseline, phase`` (pre/post) and
        the baseline table: one row per animal x analyte with ``baseline, baseline_n``
        (samples present among the last N), ``baseline_variation_pct`` (largest
        deviation from the mean, %), ``baseline_stable`` and ``baseline_note``.
    """
    need = [animal_col, analyte_col, time_col, value_col]
    for col in need:
        if col not in df:
            raise ValueError(f"column '{col}' not found; columns are {list(df.columns)}")
    if n_baseline < 1:
        raise ValueError("n_baseline must be at least 1")
    out = df.copy()
    out[time_col] = pd.to_numeric(out[time_col], errors="coerce")
    if out[time_col].isna().any():
        raise ValueError(f"column '{time_col}' has missing or non-numeric sample times")
    values = pd.to_numeric(out[value_col], errors="coerce")
    if np.isinf(values).any():
        raise ValueError(f"column '{value_col}' contains infinite values")
    if (values < 0).any():
        raise ValueError(f"column '{value_col}' contains negative concentrations")
    if out.duplicated([animal_col, analyte_col, time_col]).any():
        raise ValueError("some animal x analyte x time combinations appear twice")
    factor = pd.Series(1.0, index=out.index)
    if recovery is not None:
        rec = recovery if isinstance(recovery, dict) else None
        for analyte in out[analyte_col].unique():
            r = rec.get(analyte) if rec is not None else recovery
            if r is None:
                raise ValueError(f"no probe recovery given for analyte '{analyte}'")
            if not 0 < r <= 1:
                raise ValueError(f"probe recovery must be a fraction in (0, 1], got {r} for {analyte}")
            factor[out[analyte_col] == analyte] = 1.0 / r
    out["conc_corrected"] = values * factor
    out["phase"] = np.where(out[time_col] < dose_time, "pre", "post")
    rows = []
    for (animal, analyte), g in out.groupby([animal_col, analyte_col], sort=False):
        pre = g[g[time_col] < dose_time].sort_values(time_col)
        last = pre.tail(n_baseline)
        vals = last["conc_corrected"].dropna()
        note = []
        if pre.shape[0] < n_baseline:
            note.append(f"only {pre.shape[0]} pre-dose samples")
        if vals.size < last.shape[0]:
            note.append(f"{last.shape[0] - vals.size} of the last {last.shape[0]} pre-dose samples missing")
        base = vals.mean() if vals.size else np.nan
        if vals.size and base > 0:
            variation = float(np.max(np.abs(vals - base)) / base * 100)
        else:
            variation = np.nan
            if vals.size:
                note.append("baseline is zero")
        stable = bool(vals.size >= 2 and np.isfinite(variation) and variation <= stability_pct)
        if vals.size < 2:
            note.append("too few samples to judge stability")
        elif not stable:
            note.append(f"unstable: a baseline sample deviates {variation:.0f} % from the mean "
                        f"(limit {stability_pct:g} %)")
        rows.append({animal_col: animal, analyte_col: analyte, "baseline": base, "baseline_n": vals.size,
                     "baseline_variation_pct": variation, "baseline_stable": stable,
                     "baseline_note": "; ".join(note)})
    baselines = pd.DataFrame(rows)
    out = out.merge(baselines[[animal_col, analyte_col, "baseline"]], on=[animal_col, analyte_col],
                    how="left")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["pct_baseline"] = np.where(out["baseline"] > 0, 100 * out["conc_corrected"] / out["baseline"],
                                       np.nan)
    return out, baselines


def time_course_auc(samples, *, animal_col="animal", analyte_col="analyte", time_col="time_min",
                    treatment_col="treatment", dose_time=0.0, end_time=None, missing="skip"):
    """Area under the post-dose % of baseline time course, per animal and analyte (trapezoids).

    Two areas are reported: ``auc_pct_min`` (under the % baseline curve) and
    ``auc_change_pct_min`` (under % baseline - 100, i.e. the change from baseline;
    0 when nothing happens). The time course starts at the dose (100 % assumed at
    ``dose_time``) and runs to ``end_time`` (default: the last sample).

    Parameters
    ----------
    missing : {"skip", "nan"}
        A missing post-dose sample is bridged by the trapezoid between its
        neighbours (``"skip"``; the count is reported in ``n_missing``) or makes
        the AUC NaN (``"nan"``). Missing values are never filled in the samples.

    Returns
    -------
    DataFrame
        One row per animal x analyte: ``[treatment,] auc_pct_min,
        auc_change_pct_min, n_samples, n_missing, start_min, end_min, note``.
    """
    if missing not in ("skip", "nan"):
        raise ValueError("missing must be 'skip' or 'nan'")
    rows = []
    for (animal, analyte), g in samples.groupby([animal_col, analyte_col], sort=False):
        post = g[g[time_col] >= dose_time].sort_values(time_col)
        if end_time is not None:
            post = post[post[time_col] <= end_time]
        row = {animal_col: animal, analyte_col: analyte}
        if treatment_col in g:
            row[treatment_col] = g[treatment_col].iloc[0]
        n_missing = int(post["pct_baseline"].isna().sum())
        ok = post.dropna(subset=["pct_baseline"])
        t = np.concatenate([[dose_time], ok[time_col].to_numpy(float)])
        y = np.concatenate([[100.0], ok["pct_baseline"].to_numpy(float)])
        if ok.shape[0] and ok[time_col].iloc[0] == dose_time:
            t, y = t[1:], y[1:]
        note = ""
        if not np.isfinite(g["baseline"].iloc[0]):
            auc = np.nan
            note = "no baseline"
        elif ok.shape[0] == 0:
            auc = np.nan
            note = "no post-dose samples"
        elif n_missing and missing == "nan":
            auc = np.nan
            note = f"{n_missing} post-dose sample(s) missing"
        else:
            auc = float(np.sum((y[1:] + y[:-1]) * np.diff(t)) / 2)
            if n_missing:
                note = f"{n_missing} missing post-dose sample(s) bridged by the trapezoid rule"
        span = float(t[-1] - t[0]) if t.size else np.nan
        row.update(auc_pct_min=auc, auc_change_pct_min=auc - 100 * span if np.isfinite(auc) else np.nan,
                   n_samples=int(ok.shape[0]), n_missing=n_missing, start_min=float(dose_time),
                   end_min=float(t[-1]) if t.size else np.nan, note=note)
        rows.append(row)
    return pd.DataFrame(rows)


def summarise_time_course(samples, *, treatment_col="treatment", analyte_col="analyte",
                          time_col="time_min", value_col="pct_baseline"):
    """Mean, SD, SEM and n of % baseline per treatment x analyte x time (missing samples not counted)."""
    g = samples.groupby([analyte_col, treatment_col, time_col], sort=True)[value_col]
    out = g.agg(n="count", mean="mean", sd="std").reset_index()
    out["sem"] = out["sd"] / np.sqrt(out["n"])
    out["n_missing"] = g.size().to_numpy() - out["n"].to_numpy()
    return out


def compare_auc(auc, *, reference="vehicle", treatment_col="treatment", analyte_col="analyte",
                value_col="auc_change_pct_min", method="dunnett"):
    """Each treatment's AUC against the reference (vehicle) group, per analyte.

    Dunnett's many-to-one test by default (see :func:`assay_core.group_stats.compare_to_reference`).
    """
    return compare_to_reference(auc, value_col, treatment_col, reference, by=[analyte_col],
                                method=method)
