"""Normalisation of assay signals to on-plate controls (vehicle = 0 %, full block = 100 % inhibition)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["percent_inhibition", "normalise_to_controls", "control_summary"]


def percent_inhibition(values, vehicle_mean, block_mean):
    """Percent inhibition: 100 (vehicle - value) / (vehicle - full block).

    Parameters
    ----------
    values : array_like
        Signals (rates, counts, fluorescence).
    vehicle_mean : float
        Mean signal of vehicle wells (0 % inhibition).
    block_mean : float
        Mean signal of full-block wells, e.g. 10 uM nisoxetine or desipramine for
        the norepinephrine transporter (100 % inhibition).

    Returns
    -------
    ndarray
        Percent inhibition (values beyond the controls fall outside 0-100).
    """
    span = np.asarray(vehicle_mean, float) - np.asarray(block_mean, float)
    if not np.all(np.isfinite(span)) or np.any(span == 0):
        raise ValueError("vehicle and full-block controls have the same mean signal; "
                         "the assay window is zero, so nothing can be normalised")
    return 100.0 * (vehicle_mean - np.asarray(values, float)) / span


def control_summary(df, value_col="value", role_col="role", vehicle="vehicle",
                    full_block="full_block", by=None):
    """Control statistics per group: means, SDs, signal window and Z'-factor.

    Z' = 1 - 3 (SD_vehicle + SD_block) / |mean_vehicle - mean_block| (Zhang et al. 1999);
    above 0.5 is an excellent assay window.

    Returns
    -------
    DataFrame
        One row per group: ``vehicle_mean, vehicle_sd, vehicle_n, block_mean,
        block_sd, block_n, window, z_prime``.
    """
    groups = [((), df)] if not by else df.groupby(list(by), sort=False, dropna=False)
    rows = []
    for key, g in groups:
        v = pd.to_numeric(g.loc[g[role_col] == vehicle, value_col], errors="coerce").dropna()
        b = pd.to_numeric(g.loc[g[role_col] == full_block, value_col], errors="coerce").dropna()
        if v.empty or b.empty:
            missing = vehicle if v.empty else full_block
            where = f" in group {key}" if by else ""
            raise ValueError(f"no '{missing}' control wells (column '{role_col}'){where}; "
                             "both vehicle and full-block controls are needed to normalise")
        row = dict(zip(by, key if isinstance(key, tuple) else (key,))) if by else {}
        window = v.mean() - b.mean()
        row.update(vehicle_mean=v.mean(), vehicle_sd=v.std(ddof=1), vehicle_n=v.size,
                   block_mean=b.mean(), block_sd=b.std(ddof=1), block_n=b.size, window=window,
                   z_prime=1 - 3 * (np.nan_to_num(v.std(ddof=1)) + np.nan_to_num(b.std(ddof=1)))
                   / abs(window) if window else np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def normalise_to_controls(df, value_col="value", role_col="role", vehicle="vehicle",
                          full_block="full_block", by=None, out_col="inhibition_pct"):
    """Add percent inhibition relative to the vehicle and full-block wells of each group.

    Parameters
    ----------
    df : DataFrame
        One row per well, with a signal column and a role column.
    value_col, role_col : str
        Column names.
    vehicle, full_block : str
        Role labels of the 0 % and 100 % inhibition controls.
    by : list of str, optional
        Normalise within each group (e.g. ``["plate"]``); default: the whole table.
    out_col : str
        Name of the new column (percent).

    Returns
    -------
    (DataFrame, DataFrame)
        The table with ``out_col`` added (and ``activity_pct`` = 100 - inhibition),
        and the control summary from :func:`control_summary`.
    """
    if value_col not in df or role_col not in df:
        missing = value_col if value_col not in df else role_col
        raise ValueError(f"column '{missing}' not found; columns are {list(df.columns)}")
    summary = control_summary(df, value_col, role_col, vehicle, full_block, by)
    out = df.copy()
    values = pd.to_numeric(out[value_col], errors="coerce")
    if not by:
        s = summary.iloc[0]
        out[out_col] = percent_inhibition(values, s.vehicle_mean, s.block_mean)
    else:
        merged = out[list(by)].merge(summary, on=list(by), how="left")
        out[out_col] = percent_inhibition(values.to_numpy(), merged["vehicle_mean"].to_numpy(),
                                          merged["block_mean"].to_numpy())
    out["activity_pct"] = 100.0 - out[out_col]
    return out, summary
