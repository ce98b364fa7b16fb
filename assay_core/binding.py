"""Radioligand binding: specific binding, Cheng-Prusoff Ki, selectivity ratios and fractional occupancy."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["specific_binding", "percent_specific_binding", "cheng_prusoff", "ki_from_fit", "ki_table",
           "selectivity_table", "fractional_occupancy", "occupancy_table"]


def specific_binding(total, nonspecific):
    """Specific binding = total - nonspecific (same units, e.g. cpm or fmol/mg)."""
    return np.asarray(total, float) - np.asarray(nonspecific, float)


def percent_specific_binding(counts, total_mean, nsb_mean):
    """Percent of specific binding left: 100 (counts - NSB) / (total - NSB).

    ``total_mean`` is the mean of the wells without competitor (total binding),
    ``nsb_mean`` the mean of the wells with an excess of unlabelled ligand
    (nonspecific binding).
    """
    window = total_mean - nsb_mean
    if not np.isfinite(window) or window <= 0:
        raise ValueError("total binding must exceed nonspecific binding "
                         f"(total {total_mean:g}, nonspecific {nsb_mean:g})")
    return 100.0 * (np.asarray(counts, float) - nsb_mean) / window


def cheng_prusoff(ic50, radioligand_conc, kd):
    """Ki = IC50 / (1 + [L] / Kd) (Cheng & Prusoff 1973; competitive, one site).

    Parameters
    ----------
    ic50 : float or array_like
        Concentration of competitor that halves specific binding.
    radioligand_conc : float
        Free radioligand concentration [L] in the assay, same unit as ``kd``.
    kd : float
        Radioligand dissociation constant.

    Returns
    -------
    float or ndarray
        Ki in the unit of ``ic50``.
    """
    if kd <= 0 or radioligand_conc < 0:
        raise ValueError("Kd must be > 0 and the radioligand concentration >= 0")
    return np.asarray(ic50, float) / (1.0 + radioligand_conc / kd)


def ki_from_fit(fit, radioligand_conc, kd, level=None):
    """Ki (with SE and CI) from a competition-binding dose-response fit.

    The Cheng-Prusoff factor is a constant, so the IC50's estimate, delta-method SE
    and confidence limits are all divided by 1 + [L]/Kd. ``pKi`` = -log10(Ki in M)
    is added when the concentrations are in nM.

    Returns
    -------
    dict
        ``ic50, ic50_se, ki, ki_se, ki_ci_low, ki_ci_high, factor``.
    """
    ed = fit.ed(50, level=level)
    factor = 1.0 + radioligand_conc / kd
    return {"ic50": ed["estimate"], "ic50_se": ed["se"], "ki": ed["estimate"] / factor,
            "ki_se": ed["se"] / factor, "ki_ci_low": ed["ci_low"] / factor,
            "ki_ci_high": ed["ci_high"] / factor, "factor": factor}


def ki_table(fits, *, radioligand_nM, kd_nM):
    """Cheng-Prusoff Ki of each competitor from its competition-binding fit (``ki.csv``).

    Parameters
    ----------
    fits : mapping
        Competitor -> fit of % specific binding against the competitor concentration in nM
        (a :class:`~assay_core.DoseResponseFit`), or the text saying why it was not fitted.
    radioligand_nM, kd_nM : float
        Free radioligand concentration [L] and its Kd; Ki = IC50 / (1 + [L]/Kd).

    Returns
    -------
    DataFrame
        ``compound, ic50_nM, ic50_se_nM, ki_nM, ki_se_nM, ki_ci_low_nM, ki_ci_high_nM, pKi,
        cheng_prusoff_factor, n_flags, flags`` (``note`` for curves that were not fitted).
    """
    rows = []
    for label, fit in fits.items():
        if isinstance(fit, str):
            rows.append({"compound": label, "note": fit})
            continue
        k = ki_from_fit(fit, radioligand_nM, kd_nM)
        rows.append({"compound": label, "ic50_nM": k["ic50"], "ic50_se_nM": k["ic50_se"], "ki_nM": k["ki"],
                     "ki_se_nM": k["ki_se"], "ki_ci_low_nM": k["ki_ci_low"], "ki_ci_high_nM": k["ki_ci_high"],
                     "pKi": -np.log10(k["ki"] * 1e-9), "cheng_prusoff_factor": k["factor"],
                     "n_flags": len(fit.flags), "flags": " | ".join(fit.flags)})
    return pd.DataFrame(rows)


def selectivity_table(profile, target_col="target", ki_col="ki_nM", compound_col=None,
                      primary=None):
    """Selectivity ratios from a binding profile (target, Ki).

    Parameters
    ----------
    profile : DataFrame
        One row per (compound,) target with its Ki.
    target_col, ki_col : str
        Column names (Ki in nM by default).
    compound_col : str, optional
        Several compounds in one table.
    primary : str, optional
        Target the ratios are relative to; default: the compound's highest-affinity
        (lowest Ki) target.

    Returns
    -------
    DataFrame
        ``[compound,] target, ki_nM, pKi, primary_target, selectivity_ratio``
        (Ki(target) / Ki(primary): 30 means 30-fold weaker binding than at the
        primary target), sorted by Ki.
    """
    for col in [target_col, ki_col] + ([compound_col] if compound_col else []):
        if col not in profile:
            raise ValueError(f"column '{col}' not found; columns are {list(profile.columns)}")
    parts = profile.groupby(compound_col, sort=False) if compound_col else [(None, profile)]
    out = []
    for comp, g in parts:
        g = g.copy()
        g[ki_col] = pd.to_numeric(g[ki_col], errors="coerce")
        if g[ki_col].isna().any() or (g[ki_col] <= 0).any():
            raise ValueError(f"Ki values must be positive numbers (column '{ki_col}')")
        ref = primary if primary is not None else g.loc[g[ki_col].idxmin(), target_col]
        if ref not in set(g[target_col]):
            raise ValueError(f"primary target '{ref}' not in the profile"
                             + (f" of {comp}" if comp is not None else ""))
        ki_ref = g.loc[g[target_col] == ref, ki_col].iloc[0]
        res = pd.DataFrame({target_col: g[target_col].to_numpy(), "ki_nM": g[ki_col].to_numpy()})
        res["pKi"] = -np.log10(res["ki_nM"] * 1e-9)
        res["primary_target"] = ref
        res["selectivity_ratio"] = res["ki_nM"] / ki_ref
        if compound_col:
            res.insert(0, compound_col, comp)
        out.append(res.sort_values("ki_nM", kind="stable"))
    return pd.concat(out, ignore_index=True)


def fractional_occupancy(conc, ki, hill=1.0):
    """Fraction of receptors occupied at free concentration ``conc``: C^n / (C^n + Ki^n).

    Assumes equilibrium, a single site and that Ki is the competitor's equilibrium
    dissociation constant; ``conc`` and ``ki`` in the same unit.
    """
    c = np.asarray(conc, float) ** hill
    return c / (c + np.asarray(ki, float) ** hill)


def occupancy_table(profile, free_conc_nM, target_col="target", ki_col="ki_nM", compound_col=None):
    """Selectivity table plus percent occupancy of every target at given free concentrations.

    ``free_conc_nM`` may be one value or several (e.g. unbound brain concentrations
    at different doses); one column ``occupancy_pct_at_<C>nM`` per value.
    """
    table = selectivity_table(profile, target_col, ki_col, compound_col)
    for c in np.atleast_1d(free_conc_nM):
        if not np.isfinite(c) or c < 0:
            raise ValueError("free concentrations must be finite and >= 0")
        table[f"occupancy_pct_at_{c:g}nM"] = 100 * fractional_occupancy(c, table["ki_nM"])
    return table
