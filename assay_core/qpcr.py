"""qPCR relative quantification: Livak 2^-ddCt with error propagation, Pfaffl ratio, efficiency."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["livak", "pfaffl", "efficiency_from_dilution"]


def _gene_table(df, group_col, target, reference, gene_col, ct_col):
    """(group, Ct target array, Ct reference array) from a wide or long table."""
    if group_col not in df:
        raise ValueError(f"column '{group_col}' not found; columns are {list(df.columns)}")
    out = []
    for grp, g in df.groupby(group_col, sort=False):
        if gene_col is not None:
            for col in (gene_col, ct_col):
                if col not in df:
                    raise ValueError(f"column '{col}' not found; columns are {list(df.columns)}")
            t = pd.to_numeric(g.loc[g[gene_col] == target, ct_col], errors="coerce")
            r = pd.to_numeric(g.loc[g[gene_col] == reference, ct_col], errors="coerce")
        else:
            for col in (target, reference):
                if col not in df:
                    raise ValueError(f"column '{col}' not found; name the Ct columns of the target "
                                     "and reference genes, or give gene_col and ct_col")
            t = pd.to_numeric(g[target], errors="coerce")
            r = pd.to_numeric(g[reference], errors="coerce")
        out.append((grp, t.to_numpy(float), r.to_numpy(float)))
    return out


def _err(x, error):
    x = x[np.isfinite(x)]
    if x.size < 2:
        return np.nan
    sd = x.std(ddof=1)
    return sd if error == "sd" else sd / np.sqrt(x.size)


def _delta_ct(t, r, paired, error):
    """Mean dCt = Ct(target) - Ct(reference) and its error (SD or SEM)."""
    if paired:
        if t.size != r.size:
            raise ValueError("paired (same-well) Ct values need as many target as reference values")
        d = t - r
        d = d[np.isfinite(d)]
        return d.mean(), _err(d, error), d.size, d.size
    tt, rr = t[np.isfinite(t)], r[np.isfinite(r)]
    if tt.size == 0 or rr.size == 0:
        return np.nan, np.nan, tt.size, rr.size
    # separate tubes: s = sqrt(s_target^2 + s_reference^2) (ABI User Bulletin #2)
    return tt.mean() - rr.mean(), np.hypot(_err(tt, error), _err(rr, error)), tt.size, rr.size


def livak(df, *, group_col, target, reference, calibrator, gene_col=None, ct_col=None,
          paired=False, error="sd"):
    """Relative expression by the 2^-ddCt method (Livak & Schmittgen 2001), errors propagated.

    Parameters
    ----------
    df : DataFrame
        Wide (one Ct column per gene: ``target`` and ``reference`` are column
        names) or long (``gene_col`` names the gene, ``ct_col`` holds Ct).
    group_col : str
        Sample group (tissue, treatment).
    target, reference : str
        Gene of interest and normaliser (e.g. ``"c_myc"``, ``"GAPDH"``).
    calibrator : str
        Group the others are expressed relative to (fold change 1).
    paired : bool
        Target and reference measured in the same well (multiplex): dCt per well,
        then its mean and SD. Default: separate tubes, s = sqrt(s_t^2 + s_r^2).
    error : {"sd", "sem"}
        Propagate standard deviations (ABI User Bulletin #2, default) or standard
        errors of the mean.

    Returns
    -------
    DataFrame
        One row per group: ``group, n_target, ct_target_mean, n_reference,
        ct_reference_mean, delta_ct, delta_ct_error, delta_delta_ct,
        delta_delta_ct_error, fold_change, fold_change_low, fold_change_high, error``.
        As in the bulletin, ddCt's error is the group's dCt error (the calibrator's dCt
        is a constant) and the range is 2^-(ddCt +/- error).
    """
    if error not in ("sd", "sem"):
        raise ValueError("error must be 'sd' or 'sem'")
    rows = []
    for grp, t, r in _gene_table(df, group_col, target, reference, gene_col, ct_col):
        dct, err, nt, nr = _delta_ct(t, r, paired, error)
        rows.append({"group": grp, "n_target": nt, "ct_target_mean": np.nanmean(t) if nt else np.nan,
                     "n_reference": nr, "ct_reference_mean": np.nanmean(r) if nr else np.nan,
                     "delta_ct": dct, "delta_ct_error": err})
    out = pd.DataFrame(rows)
    if calibrator not in set(out["group"]):
        raise ValueError(f"calibrator '{calibrator}' not found in column '{group_col}'")
    cal = out.loc[out["group"] == calibrator, "delta_ct"].iloc[0]
    out["delta_delta_ct"] = out["delta_ct"] - cal
    out["delta_delta_ct_error"] = out["delta_ct_error"]
    out["fold_change"] = 2.0 ** -out["delta_delta_ct"]
    out["fold_change_low"] = 2.0 ** -(out["delta_delta_ct"] + out["delta_delta_ct_error"])
    out["fold_change_high"] = 2.0 ** -(out["delta_delta_ct"] - out["delta_delta_ct_error"])
    out["error"] = error
    return out


def _check_efficiency(e, name):
    if not (1.0 < e <= 3.0):
        raise ValueError(f"{name} must be an amplification factor between 1 and 3 "
                         f"(2.0 = 100 % efficiency), got {e}")


def pfaffl(df, *, group_col, target, reference, calibrator, efficiency_target=2.0,
           efficiency_reference=2.0, gene_col=None, ct_col=None, error="sd"):
    """Efficiency-corrected expression ratio (Pfaffl 2001).

    ratio = E_t^(Ct_t(calibrator) - Ct_t(sample)) / E_r^(Ct_r(calibrator) - Ct_r(sample)),
    with E the amplification factor per cycle (2.0 = 100 %). The error of
    log2(ratio) is sqrt((log2 E_t s_t)^2 + (log2 E_r s_r)^2) from the sample's Ct
    errors (calibrator means as constants, as in :func:`livak`, which this equals
    when both efficiencies are 2).

    Returns
    -------
    DataFrame
        ``group, efficiency_target, efficiency_reference, delta_ct_target,
        delta_ct_reference, log2_ratio, log2_ratio_error, ratio, ratio_low,
        ratio_high, error``.
    """
    _check_efficiency(efficiency_target, "efficiency_target")
    _check_efficiency(efficiency_reference, "efficiency_reference")
    if error not in ("sd", "sem"):
        raise ValueError("error must be 'sd' or 'sem'")
    tab = {g: (t[np.isfinite(t)], r[np.isfinite(r)])
           for g, t, r in _gene_table(df, group_col, target, reference, gene_col, ct_col)}
    if calibrator not in tab:
        raise ValueError(f"calibrator '{calibrator}' not found in column '{group_col}'")
    ct0, cr0 = tab[calibrator][0].mean(), tab[calibrator][1].mean()
    lt, lr = np.log2(efficiency_target), np.log2(efficiency_reference)
    rows = []
    for g, (t, r) in tab.items():
        d_t, d_r = ct0 - t.mean(), cr0 - r.mean()
        log2_ratio = d_t * lt - d_r * lr
        err = np.hypot(lt * _err(t, error), lr * _err(r, error))
        rows.append({"group": g, "efficiency_target": efficiency_target,
                     "efficiency_reference": efficiency_reference, "delta_ct_target": d_t,
                     "delta_ct_reference": d_r, "log2_ratio": log2_ratio, "log2_ratio_error": err,
                     "ratio": 2.0 ** log2_ratio, "ratio_low": 2.0 ** (log2_ratio - err),
                     "ratio_high": 2.0 ** (log2_ratio + err), "error": error})
    return pd.DataFrame(rows)


def efficiency_from_dilution(quantity, ct, level=0.95):
    """Amplification efficiency from a dilution series: Ct = intercept + slope log10(quantity).

    Parameters
    ----------
    quantity : array_like
        Relative template amounts (e.g. 1, 0.1, 0.01 or dilution 1/10 ...), > 0.
    ct : array_like
        Ct of each reaction (replicates as separate rows).

    Returns
    -------
    dict
        ``slope, slope_se, intercept, r2, n, amplification_factor`` (E = 10^(-1/slope);
        2.0 for perfect doubling), ``amplification_ci_low/high`` (from the slope's t CI),
        ``efficiency_pct`` (100 (E - 1)).
    """
    q = np.asarray(quantity, float)
    y = np.asarray(ct, float)
    if q.shape != y.shape:
        raise ValueError("quantity and ct must have the same length")
    ok = np.isfinite(q) & np.isfinite(y)
    q, y = q[ok], y[ok]
    if np.any(q <= 0):
        raise ValueError("template quantities must be > 0")
    x = np.log10(q)
    if np.unique(x).size < 3:
        raise ValueError("a dilution series needs at least 3 different quantities")
    res = stats.linregress(x, y)
    n = x.size
    tq = stats.t.ppf(0.5 + level / 2, n - 2)
    e = 10 ** (-1 / res.slope)
    lo_s, hi_s = res.slope - tq * res.stderr, res.slope + tq * res.stderr
    ends = 10 ** (-1 / np.array([lo_s, hi_s]))
    return {"slope": res.slope, "slope_se": res.stderr, "intercept": res.intercept,
            "r2": res.rvalue ** 2, "n": n, "amplification_factor": e,
            "amplification_ci_low": float(ends.min()), "amplification_ci_high": float(ends.max()),
            "efficiency_pct": 100 * (e - 1)}
