"""Group comparisons against a reference group, returned as tidy tables (pingouin style)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["compare_to_reference", "describe_groups", "hedges_g"]


def hedges_g(x, y):
    """Hedges' g of ``x`` against ``y``: standardised mean difference with small-sample correction.

    Parameters
    ----------
    x, y : array_like
        Values of the two groups (NaN ignored); ``y`` is the reference.

    Returns
    -------
    float
        g = J (mean(x) - mean(y)) / s_pooled, with s_pooled the pooled SD
        (n - 1 weights) and J = 1 - 3 / (4 (n_x + n_y) - 9) (Hedges 1981; the
        formula pingouin and Lakens 2013 use). NaN with fewer than 2 values in
        either group or a pooled SD of 0.
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    nx, ny = x.size, y.size
    if nx < 2 or ny < 2:
        return np.nan
    pooled = np.sqrt(((nx - 1) * x.var(ddof=1) + (ny - 1) * y.var(ddof=1)) / (nx + ny - 2))
    if pooled == 0:
        return np.nan
    return float((1 - 3 / (4 * (nx + ny) - 9)) * (x.mean() - y.mean()) / pooled)


#: Seeds tried in turn when scipy's Dunnett confidence interval does not converge.
DUNNETT_ATTEMPTS = 5


def _dunnett(samples, control, rng):
    """scipy's Dunnett test with a fixed random stream when ``rng`` is given (reproducible p).

    scipy's "precision loss" warning for a group whose values are (nearly) all equal is
    silenced: such a group's variance is zero, which is what the pooled variance then uses.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Precision loss occurred in moment calculation", category=RuntimeWarning)
        if rng is None:
            return stats.dunnett(*samples, control=control)
        try:
            return stats.dunnett(*samples, control=control, rng=rng)
        except TypeError:  # scipy < 1.15 names it random_state
            return stats.dunnett(*samples, control=control, random_state=rng)


def _dunnett_with_ci(samples, control, rng, level):
    """Dunnett's test and its simultaneous CI, or a CI of None when it cannot be computed.

    scipy finds the CI's critical value by quasi-Monte Carlo root finding, which for some
    random streams stops at a very different confidence level (with only a warning). Such a
    CI is never returned: the test is repeated with the next seeds, and after
    ``DUNNETT_ATTEMPTS`` failures the CI is left out.
    """
    seeds = [rng] if rng is None or not isinstance(rng, (int, np.integer)) else [int(rng) + k for k in range(DUNNETT_ATTEMPTS)]
    for seed in seeds:
        dun = _dunnett(samples, control, seed)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ci = dun.confidence_interval(confidence_level=level)
        if not any("did not converge" in str(w.message) for w in caught):
            return dun, ci
    return dun, None


def describe_groups(df, value_col, group_col, by=None):
    """n, mean, SD and SEM of ``value_col`` per group (missing values excluded and counted)."""
    keys = ([*by] if by else []) + [group_col]
    g = df.groupby(keys, sort=False, dropna=False)[value_col]
    out = g.agg(n="count", mean="mean", sd="std").reset_index()
    out["sem"] = out["sd"] / np.sqrt(out["n"])
    out["n_missing"] = g.size().to_numpy() - out["n"].to_numpy()
    return out


def compare_to_reference(df, value_col, group_col, reference, by=None, method="dunnett",
                         level=0.95, rng=0):
    """Each group against the reference group (e.g. every treatment vs vehicle).

    Parameters
    ----------
    df : DataFrame
        One row per subject (animal, well, cell).
    value_col, group_col : str
        Outcome and group columns.
    reference : str
        Label of the reference group.
    by : list of str, optional
        Separate comparisons within each stratum (e.g. per analyte).
    method : {"dunnett", "welch"}
        Dunnett's many-to-one test (family-wise error controlled, scipy's
        ``dunnett``; CI from the same test) or unadjusted Welch t tests.
    rng : int, numpy.random.Generator or None
        Seed of the quasi-Monte Carlo integration behind Dunnett's p-values and CI; a fixed
        seed (default 0) gives the same numbers on every run (None: scipy draws a fresh one).
        When the CI's integration does not converge for that seed, the next seeds are tried.

    Returns
    -------
    DataFrame
        One row per non-reference group: ``group, reference, n, mean, n_reference,
        mean_reference, difference, ci_low, ci_high, statistic, p_value, method``.
        Strata or groups with fewer than 2 values get NaN statistics and a ``note``.
    """
    if method not in ("dunnett", "welch"):
        raise ValueError("method must be 'dunnett' or 'welch'")
    for col in [value_col, group_col, *(by or [])]:
        if col not in df:
            raise ValueError(f"column '{col}' not found; columns are {list(df.columns)}")
    strata = [((), df)] if not by else df.groupby(list(by), sort=False, dropna=False)
    rows = []
    for key, part in strata:
        base = dict(zip(by, key if isinstance(key, tuple) else (key,))) if by else {}
        vals = {g: pd.to_numeric(s, errors="coerce").dropna().to_numpy(float)
                for g, s in part.groupby(group_col, sort=False)[value_col]}
        if reference not in vals:
            raise ValueError(f"reference group '{reference}' not found in column '{group_col}'"
                             + (f" for {base}" if base else ""))
        ref = vals[reference]
        others = [g for g in vals if g != reference]
        usable = [g for g in others if vals[g].size >= 2]
        dun = None
        if method == "dunnett" and ref.size >= 2 and usable:
            dun, ci = _dunnett_with_ci([vals[g] for g in usable], ref, rng, level)
        for g in others:
            x = vals[g]
            row = {**base, "group": g, "reference": reference, "n": x.size, "mean": x.mean() if x.size else np.nan,
                   "n_reference": ref.size, "mean_reference": ref.mean() if ref.size else np.nan}
            row["difference"] = row["mean"] - row["mean_reference"]
            row.update(ci_low=np.nan, ci_high=np.nan, statistic=np.nan, p_value=np.nan,
                       method=method, note="")
            if x.size < 2 or ref.size < 2:
                row["note"] = "fewer than 2 values in a group: no test"
            elif dun is not None:
                i = usable.index(g)
                row.update(statistic=dun.statistic[i], p_value=dun.pvalue[i])
                if ci is None:
                    row["note"] = "the simultaneous CI could not be computed (numerical integration did not converge)"
                else:
                    row.update(ci_low=ci.low[i], ci_high=ci.high[i])
            else:
                t = stats.ttest_ind(x, ref, equal_var=False)
                ci_w = t.confidence_interval(confidence_level=level)
                row.update(ci_low=ci_w.low, ci_high=ci_w.high, statistic=t.statistic, p_value=t.pvalue)
            rows.append(row)
    return pd.DataFrame(rows)
