"""Fura-2 calcium imaging: F340/F380 ratio, Grynkiewicz conversion to nM, response metrics per trace."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["fura2_ratio", "grynkiewicz", "trace_metrics", "calcium_metrics", "FURA2_KD_NM"]

#: Fura-2 dissociation constant for Ca2+ at 37 C (Grynkiewicz et al. 1985), nM.
FURA2_KD_NM = 224.0


def fura2_ratio(f340, f380, background_340=0.0, background_380=0.0):
    """Background-subtracted ratio R = (F340 - B340) / (F380 - B380); NaN where F380 <= B380."""
    num = np.asarray(f340, float) - background_340
    den = np.asarray(f380, float) - background_380
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, np.nan)


def grynkiewicz(ratio, rmin, rmax, beta, kd_nM=FURA2_KD_NM):
    """Free [Ca2+] in nM: Kd * beta * (R - Rmin) / (Rmax - R) (Grynkiewicz et al. 1985).

    Parameters
    ----------
    ratio : array_like
        F340/F380 ratios.
    rmin, rmax : float
        Ratios of Ca2+-free and Ca2+-saturated dye (from the calibration).
    beta : float
        F380(Ca2+-free) / F380(Ca2+-saturated), Sf2/Sb2.
    kd_nM : float
        Dye Kd (default 224 nM).

    Returns
    -------
    ndarray
        [Ca2+] in nM; NaN where the ratio lies outside (Rmin, Rmax), where the
        equation has no physical solution.
    """
    if not (0 < rmin < rmax) or beta <= 0 or kd_nM <= 0:
        raise ValueError("need 0 < Rmin < Rmax, beta > 0 and Kd > 0")
    r = np.asarray(ratio, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ca = kd_nM * beta * (r - rmin) / (rmax - r)
    return np.where((r > rmin) & (r < rmax), ca, np.nan)


def trace_metrics(time, value, stim_time, *, baseline_start=None, response_end=None):
    """Baseline, peak, amplitude, time to peak and area of one trace.

    Parameters
    ----------
    time, value : array_like
        Sample times (s) and [Ca2+] (nM) or ratio; NaN samples are ignored.
    stim_time : float
        Time of agonist application (s).
    baseline_start : float, optional
        Start of the baseline window (default: first sample); the baseline ends at
        ``stim_time``.
    response_end : float, optional
        End of the response window (default: last sample).

    Returns
    -------
    dict
        ``baseline`` (mean before the stimulus), ``baseline_sd``, ``peak`` (maximum
        in the response window), ``amplitude`` (peak - baseline), ``time_to_peak_s``,
        ``auc`` (trapezoid area of value - baseline over the response window, value
        units x s), ``n_baseline``, ``n_response``.
    """
    t = np.asarray(time, float)
    v = np.asarray(value, float)
    ok = np.isfinite(t) & np.isfinite(v)
    t, v = t[ok], v[ok]
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    if t.size == 0:
        raise ValueError("no valid samples in this trace")
    b0 = t[0] if baseline_start is None else baseline_start
    r1 = t[-1] if response_end is None else response_end
    base = (t >= b0) & (t < stim_time)
    resp = (t >= stim_time) & (t <= r1)
    if not base.any():
        raise ValueError(f"no samples before the stimulus at {stim_time:g} s for a baseline")
    if resp.sum() < 2:
        raise ValueError(f"fewer than 2 samples after the stimulus at {stim_time:g} s")
    baseline = float(v[base].mean())
    k = int(np.argmax(v[resp]))
    peak = float(v[resp][k])
    tr, vr = t[resp], v[resp] - baseline
    auc = float(np.sum((vr[1:] + vr[:-1]) * np.diff(tr)) / 2)
    return {"baseline": baseline, "baseline_sd": float(v[base].std(ddof=1)) if base.sum() > 1 else np.nan,
            "peak": peak, "amplitude": peak - baseline, "time_to_peak_s": float(tr[k] - stim_time),
            "auc": auc, "n_baseline": int(base.sum()), "n_response": int(resp.sum())}


def calcium_metrics(df, stim_time, *, trace_col="trace", time_col="time_s", ca_col=None,
                    f340_col="f340", f380_col="f380", rmin=None, rmax=None, beta=None,
                    kd_nM=FURA2_KD_NM, background_340=0.0, background_380=0.0,
                    baseline_start=None, response_end=None):
    """Per-trace response metrics from a long table of Fura-2 recordings.

    Give either ``ca_col`` (already in nM) or the two wavelengths plus the
    calibration (``rmin``, ``rmax``, ``beta``). Columns that are constant within a
    trace (condition, concentration, cell, ...) are carried into the output.

    Returns
    -------
    (DataFrame, DataFrame)
        Per-trace metrics (columns of :func:`trace_metrics` with ``_nM`` units when
        calibrated: ``baseline_nM, peak_nM, amplitude_nM, auc_nM_s``; ``n_out_of_range``
        counts samples outside (Rmin, Rmax); ``note`` says why a trace has no
        metrics) and the sample table with ``ratio`` and ``ca_nM`` added.
    """
    for col in (trace_col, time_col):
        if col not in df:
            raise ValueError(f"column '{col}' not found; columns are {list(df.columns)}")
    samples = df.copy()
    if ca_col is None:
        for col in (f340_col, f380_col):
            if col not in df:
                raise ValueError(f"column '{col}' not found; give the F340/F380 columns or ca_col")
        if None in (rmin, rmax, beta):
            raise ValueError("converting ratios to nM needs rmin, rmax and beta (Grynkiewicz)")
        samples["ratio"] = fura2_ratio(pd.to_numeric(samples[f340_col], errors="coerce"),
                                       pd.to_numeric(samples[f380_col], errors="coerce"),
                                       background_340, background_380)
        samples["ca_nM"] = grynkiewicz(samples["ratio"], rmin, rmax, beta, kd_nM)
        value = "ca_nM"
    else:
        if ca_col not in df:
            raise ValueError(f"column '{ca_col}' not found; columns are {list(df.columns)}")
        value = ca_col
    rows = []
    for trace, g in samples.groupby(trace_col, sort=False):
        row = {trace_col: trace}
        for col in g.columns:
            if col not in (trace_col, time_col, value, f340_col, f380_col, "ratio") and g[col].nunique(dropna=False) == 1:
                row[col] = g[col].iloc[0]
        vals = pd.to_numeric(g[value], errors="coerce")
        row["n_out_of_range"] = int(vals.isna().sum())
        try:
            m = trace_metrics(pd.to_numeric(g[time_col], errors="coerce"), vals, stim_time,
                              baseline_start=baseline_start, response_end=response_end)
            note = ""
        except ValueError as exc:
            m, note = {}, str(exc)
        for k, v in m.items():
            key = k if k.startswith(("n_", "time_")) else (
                f"{k}_nM" if k != "auc" else "auc_nM_s") if value == "ca_nM" else k
            row[key] = v
        row["note"] = note
        rows.append(row)
    return pd.DataFrame(rows), samples
