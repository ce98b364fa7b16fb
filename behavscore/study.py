"""The study table: in-vitro potencies, microdialysis and behaviour side by side, one row per dose group."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

import assay_core as ac

__all__ = [
    "KEY_COLUMNS", "BEHAVIOUR_MEASURES", "NEUROCHEMISTRY_MEASURES", "CONC_UNITS_IN_NM",
    "behaviour_table", "microdialysis_per_animal", "neurochemistry_table", "potency_table",
    "ki_table_from_fits", "fits_table", "predicted_occupancy_pct", "study_table",
    "fit_behaviour_dose_response", "plot_behaviour_vs_dose", "plot_occupancy_vs_effect",
]

#: Columns that identify one dose group of the study table.
KEY_COLUMNS = ("compound", "treatment", "dose_mg_kg")

#: Per-animal columns of a behaviour summary that are averaged per dose group (when present).
BEHAVIOUR_MEASURES = ("immobility_s", "immobility_pct", "latency_s", "swimming_s", "climbing_s",
                      "immobility_counts", "swimming_counts", "climbing_counts")

#: Per-animal microdialysis measures averaged per dose group (when present).
NEUROCHEMISTRY_MEASURES = ("peak_pct_baseline", "auc_pct_min")

#: Factors from common concentration units to nM.
CONC_UNITS_IN_NM = {"pM": 1e-3, "nM": 1.0, "uM": 1e3, "µM": 1e3, "mM": 1e6, "M": 1e9}

_SAMPLE_COLUMNS = {"time_min", "analyte", "conc", "conc_corrected", "phase", "baseline", "pct_baseline",
                   "area"}
_SINGLE_CURVE = "all"  # the curve label `behavscore assay ...` writes when no compound column was given


# ----------------------------------------------------------------------------- keys
def _frame(obj: Any, table: str) -> pd.DataFrame:
    """A DataFrame from a DataFrame, an object with ``.summary`` (CohortResult) or a list of them."""
    if isinstance(obj, pd.DataFrame):
        return obj
    if hasattr(obj, "summary") and isinstance(obj.summary, pd.DataFrame):
        return obj.summary
    if isinstance(obj, Sequence) and not isinstance(obj, (str, bytes)) and len(obj):
        return pd.concat([_frame(o, table) for o in obj], ignore_index=True)
    raise TypeError(f"{table}: expected a DataFrame (or a list of them), got {type(obj).__name__}")


def _require(df: pd.DataFrame, table: str, columns, hint: str = "") -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{table} table: column(s) {missing} not found (columns: {list(df.columns)})"
                         + (f"; {hint}" if hint else ""))


def _group_label(key: tuple) -> str:
    compound, treatment, dose = key
    text = f"{treatment} {dose:g} mg/kg"
    return text if compound == treatment else f"{text} (compound {compound})"


def _text(values) -> np.ndarray:
    """Stripped text of every cell ("" for an empty or missing cell)."""
    return np.array(["" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v).strip()
                     for v in values], dtype=object)


def _with_keys(df: pd.DataFrame, table: str, vehicle: str, compound: str | None) -> pd.DataFrame:
    """Copy of ``df`` with clean key columns: ``compound, treatment`` (text) and ``dose_mg_kg`` (float).

    Vehicle rows (``treatment == vehicle``) get dose 0 when their dose is empty and the study
    compound ``compound`` (or the vehicle label when None) when they have no compound.
    """
    _require(df, table, ["treatment", "dose_mg_kg"],
             "every table needs the dose group of each animal as 'treatment' and 'dose_mg_kg'")
    out = df.copy()
    treatment = _text(out["treatment"])
    if (treatment == "").any():
        rows = list(np.flatnonzero(treatment == ""))[:5]
        raise ValueError(f"{table} table: empty 'treatment' in row(s) {rows} (0-based)")
    is_vehicle = treatment == vehicle
    text = _text(out["dose_mg_kg"])
    given = pd.Series(np.where(text == "", None, text), dtype=object)
    dose = pd.to_numeric(given, errors="coerce").to_numpy(float, copy=True)
    bad = np.isnan(dose) & (text != "")
    if bad.any():
        raise ValueError(f"{table} table: 'dose_mg_kg' has non-numeric value(s) {sorted(set(text[bad]))[:5]}; "
                         "give doses in mg/kg as numbers")
    dose[is_vehicle & np.isnan(dose)] = 0.0
    if np.isnan(dose).any():
        raise ValueError(f"{table} table: treatment(s) {sorted(set(treatment[np.isnan(dose)]))} have rows "
                         "without a dose in 'dose_mg_kg'")
    if (dose < 0).any() or not np.isfinite(dose).all():
        raise ValueError(f"{table} table: doses must be finite numbers >= 0 mg/kg")
    comp = _text(out["compound"]) if "compound" in out.columns else np.full(len(out), "", dtype=object)
    comp = np.where(comp != "", comp, np.where(is_vehicle, "", treatment))
    comp = np.where(comp != "", comp, compound if compound is not None else vehicle)
    out["compound"] = comp.astype(str)
    out["treatment"] = treatment.astype(str)
    out["dose_mg_kg"] = np.round(dose, 9)
    return out


def _protocols(df: pd.DataFrame) -> pd.Series:
    """Lower-case protocol name of every row."""
    return pd.Series([t.lower() for t in _text(df["protocol"])], index=df.index, name="protocol")


def _compounds(df: pd.DataFrame, vehicle: str) -> set:
    """Compounds given to the animals of a raw table (the treatment, or its compound column)."""
    treatment = _text(df["treatment"])
    names = _text(df["compound"]) if "compound" in df.columns else treatment
    return {str(c) for c, t in zip(names, treatment) if t != vehicle and c}


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    """Rows ordered by compound, then dose (vehicle first), then treatment."""
    return df.sort_values(["compound", "dose_mg_kg", "treatment"], kind="stable").reset_index(drop=True)


def _sem(x: pd.Series) -> float:
    x = x.dropna()
    return float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else np.nan


def _describe(df: pd.DataFrame, measures, prefix: str) -> pd.DataFrame:
    """Mean, SEM and n of each measure per dose group, columns ``<prefix><measure>_{mean,sem,n}``."""
    out = df[list(KEY_COLUMNS)].drop_duplicates().set_index(list(KEY_COLUMNS))
    for m in measures:
        values = pd.to_numeric(df[m], errors="coerce")
        g = values.groupby([df[k] for k in KEY_COLUMNS], sort=True)
        out[f"{prefix}{m}_mean"] = g.mean()
        out[f"{prefix}{m}_sem"] = g.apply(_sem)
        out[f"{prefix}{m}_n"] = g.count().astype(int)
    return out.sort_index()


# ------------------------------------------------------------------------ behaviour
def behaviour_table(summary, *, measures: Sequence[str] = BEHAVIOUR_MEASURES, vehicle: str = "vehicle",
                    compound: str | None = None) -> pd.DataFrame:
    """Behaviour per dose group and protocol: mean, SEM and n of every per-animal measure.

    Parameters
    ----------
    summary : DataFrame, CohortResult or list of them
        Per-animal summaries as :func:`behavscore.batch.score_cohort` returns them (or
        ``summary.csv``): the cohort columns ``treatment`` and ``dose_mg_kg`` (optionally
        ``compound``), ``protocol``, ``status`` and the measures. FST and TST summaries may be
        passed together (a list, or concatenated).
    measures : sequence of str
        Per-animal columns to describe; a measure absent (or empty) for a protocol is left out
        for that protocol (TST has no ``swimming_s``).
    vehicle : str
        Treatment label of the vehicle group (dose 0 when its dose is empty).
    compound : str, optional
        Compound the vehicle group belongs to (default: the only compound in the table; with
        several compounds the vehicle row is keyed ``compound = vehicle``).

    Returns
    -------
    DataFrame
        One row per ``compound, treatment, dose_mg_kg``; per protocol ``p`` and measure ``m``
        the columns ``p_m_mean``, ``p_m_sem`` (SD/sqrt(n), NaN for n < 2), ``p_m_n`` (animals
        with a value) and ``p_n_excluded`` (animals whose ``status`` is not ``ok``: error or no
        animal in the ROI; they are left out of every mean).
    """
    df = _frame(summary, "behaviour")
    _require(df, "behaviour", ["protocol"], "pass summaries from score_cohort or summary.csv")
    if compound is None:
        found = _compounds(df, vehicle)
        compound = next(iter(found)) if len(found) == 1 else None
    parts = []
    for protocol, g in df.groupby(_protocols(df), sort=True):
        table = f"behaviour ({protocol})"
        g = _with_keys(g, table, vehicle, compound)
        ok = _text(g["status"]) == "ok" if "status" in g.columns else np.ones(len(g), bool)
        present = [m for m in measures if m in g.columns and pd.to_numeric(g[m], errors="coerce").notna().any()]
        for m in present:  # animals that were not scored count in no mean
            g[m] = pd.to_numeric(g[m], errors="coerce").where(ok)
        stats = _describe(g, present, f"{protocol}_")
        excluded = pd.Series(~ok, index=g.index).groupby([g[k] for k in KEY_COLUMNS], sort=True).sum()
        stats[f"{protocol}_n_excluded"] = excluded.astype(int)
        parts.append(stats)
    if not parts:
        raise ValueError("behaviour table: no rows")
    return _sorted(_join_outer(parts).reset_index())


# -------------------------------------------------------------------- neurochemistry
def microdialysis_per_animal(samples: pd.DataFrame, *, animal_col: str = "animal", analyte_col: str = "analyte",
                             time_col: str = "time_min", treatment_col: str = "treatment",
                             dose_time_min: float = 0.0, end_time_min: float | None = None,
                             missing: str = "skip") -> pd.DataFrame:
    """Per animal and analyte: AUC and peak of the post-dose % of baseline time course.

    Parameters
    ----------
    samples : DataFrame
        Normalised samples with ``pct_baseline``: the first table returned by
        :func:`assay_core.normalise_baseline`, or ``samples.csv`` of
        ``behavscore microdialysis normalise``. Columns that are constant within an animal
        (``treatment``, ``dose_mg_kg``, ``compound``, sex, ...) are carried to the output.
    dose_time_min, end_time_min, missing
        As for :func:`assay_core.time_course_auc` (dose time, end of the AUC window, and how a
        missing post-dose sample is handled).

    Returns
    -------
    DataFrame
        One row per animal x analyte: the carried columns, ``auc_pct_min`` (area under % baseline
        from the dose to the end, %·min), ``auc_change_pct_min`` (area under % baseline - 100,
        %·min), ``peak_pct_baseline`` (highest post-dose sample, % of baseline),
        ``time_to_peak_min`` (from the dose), ``n_samples``, ``n_missing``, ``note``.
    """
    _require(samples, "microdialysis", [animal_col, analyte_col, time_col, "pct_baseline", "baseline"],
             "normalise the samples first (assay_core.normalise_baseline or samples.csv of "
             "`behavscore microdialysis normalise`)")
    auc = ac.time_course_auc(samples, animal_col=animal_col, analyte_col=analyte_col, time_col=time_col,
                             treatment_col=treatment_col, dose_time=dose_time_min, end_time=end_time_min,
                             missing=missing)
    post = samples[pd.to_numeric(samples[time_col]) > dose_time_min]
    if end_time_min is not None:
        post = post[pd.to_numeric(post[time_col]) <= end_time_min]
    post = post.dropna(subset=["pct_baseline"])
    best = post.loc[post.groupby([animal_col, analyte_col], sort=False)["pct_baseline"].idxmax()]
    peaks = best[[animal_col, analyte_col, "pct_baseline", time_col]].rename(
        columns={"pct_baseline": "peak_pct_baseline", time_col: "time_to_peak_min"})
    peaks["time_to_peak_min"] = pd.to_numeric(peaks["time_to_peak_min"]) - dose_time_min
    candidates = [c for c in samples.columns
                  if c not in _SAMPLE_COLUMNS | {animal_col, analyte_col, time_col, treatment_col}]
    constant = [c for c in candidates
                if samples.groupby(animal_col, sort=False)[c].nunique(dropna=False).max() <= 1]
    carried = samples[[animal_col] + constant].drop_duplicates(animal_col)
    out = auc.merge(peaks, on=[animal_col, analyte_col], how="left").merge(carried, on=animal_col, how="left")
    first = [c for c in auc.columns if c in (animal_col, analyte_col, treatment_col)] + constant
    rest = ["auc_pct_min", "auc_change_pct_min", "peak_pct_baseline", "time_to_peak_min", "n_samples",
            "n_missing", "note"]
    return out[first + rest]


def neurochemistry_table(microdialysis: pd.DataFrame, *, measures: Sequence[str] = NEUROCHEMISTRY_MEASURES,
                         analyte_col: str = "analyte", vehicle: str = "vehicle",
                         compound: str | None = None) -> pd.DataFrame:
    """Microdialysis per dose group: mean, SEM and n of each analyte's peak and AUC (% baseline).

    Parameters
    ----------
    microdialysis : DataFrame
        Per animal x analyte (from :func:`microdialysis_per_animal`) with ``treatment`` and
        ``dose_mg_kg``; normalised samples (with ``pct_baseline``) are turned into that first.
        ``auc.csv`` of the command line has no dose column: use ``samples.csv`` instead.
    measures : sequence of str
        Per-animal columns to describe (those present are used).
    vehicle, compound
        As for :func:`behaviour_table`.

    Returns
    -------
    DataFrame
        One row per ``compound, treatment, dose_mg_kg``; per analyte ``a`` and measure ``m`` the
        columns ``a_m_mean``, ``a_m_sem`` and ``a_m_n`` (animals).
    """
    df = microdialysis
    if "pct_baseline" in df.columns and "time_min" in df.columns:
        df = microdialysis_per_animal(df, analyte_col=analyte_col)
    _require(df, "microdialysis", [analyte_col, "treatment"])
    if "dose_mg_kg" not in df.columns:
        raise ValueError("microdialysis table: column 'dose_mg_kg' not found (columns: "
                         f"{list(df.columns)}); auc.csv carries only the treatment: give each animal's "
                         "dose in the input and pass the normalised samples (samples.csv) or "
                         "microdialysis_per_animal(samples)")
    if compound is None:
        found = _compounds(df, vehicle)
        compound = next(iter(found)) if len(found) == 1 else None
    df = _with_keys(df, "microdialysis", vehicle, compound)
    present = [m for m in measures if m in df.columns]
    if not present:
        raise ValueError(f"microdialysis table: none of the measures {list(measures)} is a column")
    parts = [_describe(g, present, f"{analyte}_")
             for analyte, g in df.groupby(df[analyte_col].astype(str), sort=False)]
    return _sorted(_join_outer(parts).reset_index())


# --------------------------------------------------------------------------- potency
def fits_table(fits: Mapping[str, Any]) -> pd.DataFrame:
    """``fits.csv`` of the assay commands from fitted curves: one row per curve.

    Parameters
    ----------
    fits : mapping
        Curve label (compound) -> :class:`assay_core.DoseResponseFit`, or the error text of a
        curve that could not be fitted (as :func:`assay_core.fit_plate` returns them).

    Returns
    -------
    DataFrame
        ``curve, n_obs`` and the columns of :meth:`assay_core.DoseResponseFit.to_row`
        (``ed50, ed50_ci_low, ed50_ci_high``, ..., ``n_flags, flags``).
    """
    rows = []
    for label, fit in fits.items():
        if isinstance(fit, str):
            rows.append({"curve": label, "n_flags": 1, "flags": f"not fitted: {fit}"})
        else:
            rows.append({"curve": label, "n_obs": fit.n_obs, **fit.to_row()})
    return pd.DataFrame(rows)


def ki_table_from_fits(fits: Mapping[str, Any], *, radioligand_nM: float, kd_nM: float) -> pd.DataFrame:
    """``ki.csv`` of ``behavscore assay binding`` from competition-binding fits (Cheng–Prusoff).

    The same table as :func:`assay_core.ki_table`, which see.
    """
    return ac.ki_table(fits, radioligand_nM=radioligand_nM, kd_nM=kd_nM)


def _flag_text(row: pd.Series) -> str:
    for col in ("flags", "note"):
        value = row.get(col)
        if isinstance(value, str) and value.strip():
            return value.strip() if col == "flags" or value.startswith("not fitted") else f"not fitted: {value}"
    return ""


def _compound_column(df: pd.DataFrame, table: str, compound: str | None) -> pd.Series:
    col = next((c for c in ("compound", "curve") if c in df.columns), None)
    names = _text(df[col]) if col else np.full(len(df), "", dtype=object)
    unnamed = (names == "") | (names == _SINGLE_CURVE)
    if unnamed.any():
        if compound is None:
            raise ValueError(f"{table}: rows without a compound name (no 'compound' or 'curve' column, or the "
                             f"label '{_SINGLE_CURVE}'); pass compound='<name>' to say which compound they are")
        names = np.where(unnamed, compound, names)
    return pd.Series(names.astype(str), index=df.index)


def _ki_long(ki, compound: str | None) -> pd.DataFrame:
    """One row per compound x target: ``compound, target, ki_nM, ki_ci_low_nM, ki_ci_high_nM, flags``."""
    if isinstance(ki, pd.DataFrame):
        _require(ki, "ki", ["target", "ki_nM"], "a profile needs one row per target, or pass {target: ki.csv}")
        items = [(str(t), g, f"ki table (target {t})") for t, g in ki.groupby(ki["target"].astype(str), sort=False)]
    elif isinstance(ki, Mapping):
        items = [(str(t), g, f"ki table (target {t})") for t, g in ki.items()]
    else:
        raise TypeError("ki must be a DataFrame with a 'target' column or a mapping target -> ki table")
    rows = []
    for target, g, table in items:
        if not isinstance(g, pd.DataFrame):
            raise TypeError(f"{table}: expected a DataFrame, got {type(g).__name__}")
        if "ki_nM" not in g.columns and "note" not in g.columns:
            _require(g, table, ["ki_nM"])
        names = _compound_column(g, table, compound)
        dup = names[names.duplicated()]
        if not dup.empty:
            raise ValueError(f"{table}: compound(s) {sorted(set(dup))} appear more than once")
        for name, (_, r) in zip(names, g.iterrows()):
            rows.append({"compound": name, "target": target,
                         "ki_nM": pd.to_numeric(r.get("ki_nM", np.nan), errors="coerce"),
                         "ki_ci_low_nM": pd.to_numeric(r.get("ki_ci_low_nM", np.nan), errors="coerce"),
                         "ki_ci_high_nM": pd.to_numeric(r.get("ki_ci_high_nM", np.nan), errors="coerce"),
                         "flags": _flag_text(r)})
    out = pd.DataFrame(rows, columns=["compound", "target", "ki_nM", "ki_ci_low_nM", "ki_ci_high_nM", "flags"])
    bad = out["ki_nM"].notna() & (out["ki_nM"] <= 0)
    if bad.any():
        wrong = out.loc[bad, ["compound", "target", "ki_nM"]].to_dict("records")
        raise ValueError(f"ki table: Ki must be > 0 nM; got {wrong}")
    return out


def potency_table(*, ki=None, ic50: Mapping[str, pd.DataFrame] | None = None, conc_unit: str = "nM",
                  primary: str | None = None, compound: str | None = None) -> pd.DataFrame:
    """In-vitro potencies, one row per compound: Ki per target, selectivity ratios, IC50 per assay.

    Parameters
    ----------
    ki : mapping or DataFrame, optional
        Either ``{target: ki table}`` with one ``ki.csv`` of ``behavscore assay binding`` (or
        :func:`ki_table_from_fits`) per target, e.g. ``{"NET": ..., "SERT": ..., "H1": ...}``; or
        one profile with columns ``[compound,] target, ki_nM`` (``selectivity.csv`` of
        ``behavscore assay selectivity``). Ki in nM.
    ic50 : mapping, optional
        ``{assay: fits table}``, each a ``fits.csv`` of ``assay dose-response`` / ``uptake`` /
        ``plate`` (or :func:`fits_table`): ``curve`` (or ``compound``), ``ed50, ed50_ci_low,
        ed50_ci_high, flags``. The assay name becomes a column suffix, e.g. ``NET_uptake``.
    conc_unit : str
        Concentration unit of the IC50 tables (a key of :data:`CONC_UNITS_IN_NM`); the output is
        in nM.
    primary : str, optional
        Target the selectivity ratios refer to (default: the lowest-Ki target, when it is the
        same for every compound).
    compound : str, optional
        Name for rows without one (a table without a compound column, or the command line's
        single-curve label ``all``).

    Returns
    -------
    DataFrame
        ``compound``; per target ``T``: ``ki_nM_T, ki_ci_low_nM_T, ki_ci_high_nM_T, pKi_T,
        ki_flags_T``; per other target ``selectivity_ratio_T_<primary>`` = Ki(T)/Ki(primary)
        (30 = 30-fold weaker binding than at the primary target); per assay ``A``:
        ``ic50_nM_A, ic50_ci_low_nM_A, ic50_ci_high_nM_A, ic50_flags_A``. Flag columns are
        empty text for a sound fit and the fit's flags otherwise (numbers are kept: read them
        with their flags).
    """
    if ki is None and not ic50:
        raise ValueError("potency_table needs ki and/or ic50 tables")
    if conc_unit not in CONC_UNITS_IN_NM:
        raise ValueError(f"conc_unit must be one of {list(CONC_UNITS_IN_NM)}, got {conc_unit!r}")
    parts = []
    targets: list[str] = []
    if ki is not None:
        long = _ki_long(ki, compound)
        targets = list(dict.fromkeys(long["target"]))
        wide = pd.DataFrame(index=pd.Index(sorted(set(long["compound"])), name="compound"))
        for t in targets:
            g = long[long["target"] == t].set_index("compound")
            wide[f"ki_nM_{t}"] = g["ki_nM"]
            wide[f"ki_ci_low_nM_{t}"] = g["ki_ci_low_nM"]
            wide[f"ki_ci_high_nM_{t}"] = g["ki_ci_high_nM"]
            wide[f"pKi_{t}"] = -np.log10(g["ki_nM"] * 1e-9)
            wide[f"ki_flags_{t}"] = g["flags"]
        if len(targets) > 1:
            ki_wide = wide[[f"ki_nM_{t}" for t in targets]]
            if primary is None:
                lowest = ki_wide.idxmin(axis=1).dropna().str.removeprefix("ki_nM_")
                if lowest.nunique() != 1:
                    raise ValueError("the lowest-Ki target differs between compounds "
                                     f"({lowest.to_dict()}); pass primary='<target>'")
                primary = lowest.iloc[0]
            if primary not in targets:
                raise ValueError(f"primary target {primary!r} is not among the Ki targets {targets}")
            for t in targets:
                if t != primary:
                    wide[f"selectivity_ratio_{t}_{primary}"] = wide[f"ki_nM_{t}"] / wide[f"ki_nM_{primary}"]
        parts.append(wide)
    factor = CONC_UNITS_IN_NM[conc_unit]
    for assay, fits in (ic50 or {}).items():
        table = f"ic50 table ({assay})"
        if not isinstance(fits, pd.DataFrame):
            raise TypeError(f"{table}: expected a fits table (DataFrame), got {type(fits).__name__}")
        names = _compound_column(fits, table, compound)
        if names.duplicated().any():
            raise ValueError(f"{table}: compound(s) {sorted(set(names[names.duplicated()]))} appear more than once")
        g = pd.DataFrame(index=pd.Index(names.to_numpy(), name="compound"))
        for out_col, col in (("ic50_nM", "ed50"), ("ic50_ci_low_nM", "ed50_ci_low"),
                             ("ic50_ci_high_nM", "ed50_ci_high")):
            values = (pd.to_numeric(fits[col], errors="coerce") if col in fits.columns
                      else pd.Series(np.nan, index=fits.index))
            g[f"{out_col}_{assay}"] = values.to_numpy(float) * factor
        g[f"ic50_flags_{assay}"] = [_flag_text(r) for _, r in fits.iterrows()]
        parts.append(g)
    out = _join_outer(parts)
    for c in out.columns:
        if "_flags_" in c:
            out[c] = out[c].fillna("no value for this compound").astype(str)
    out = out.reset_index()
    out.attrs["targets"] = targets
    out.attrs["primary_target"] = primary
    return out


# ------------------------------------------------------------------------- occupancy
def predicted_occupancy_pct(conc_nM, ki_nM, hill: float = 1.0):
    """Predicted transporter/receptor occupancy, % = 100 C^n / (C^n + Ki^n).

    Parameters
    ----------
    conc_nM : float or array_like
        Free (unbound) concentration at the target, nM.
    ki_nM : float or array_like
        Equilibrium dissociation constant of the compound at the target, nM.
    hill : float
        Hill coefficient (1: one site, the default).

    Returns
    -------
    float or ndarray
        Occupancy in %; 0 at C = 0, 50 at C = Ki.

    Notes
    -----
    Equilibrium, one site, free drug at the target equal to ``conc_nM`` (free-drug hypothesis);
    see :func:`assay_core.fractional_occupancy`.
    """
    return 100.0 * ac.fractional_occupancy(conc_nM, ki_nM, hill)


# ----------------------------------------------------------------------------- join
def _join_outer(parts: list[pd.DataFrame]) -> pd.DataFrame:
    out = parts[0]
    for p in parts[1:]:
        out = out.join(p, how="outer")
    return out


def _check_groups(tables: dict[str, pd.DataFrame]) -> None:
    """Every table must hold the same dose groups; otherwise name what is missing where."""
    keys = {name: set(map(tuple, t[list(KEY_COLUMNS)].itertuples(index=False, name=None)))
            for name, t in tables.items()}
    union = set().union(*keys.values())
    problems = []
    for name, k in keys.items():
        missing = sorted(union - k, key=lambda x: (x[0], x[2], x[1]))
        if missing:
            where = {other for other, ko in keys.items() if ko & set(missing)}
            problems.append(f"{name} table has no rows for {', '.join(_group_label(m) for m in missing)} "
                            f"(present in {', '.join(sorted(where))})")
    if problems:
        raise ValueError("dose groups differ between tables: " + "; ".join(problems)
                         + ". Check treatment labels and doses, or pass join='outer' to keep every group "
                         "with empty cells where a table has none")


def _free_brain_conc(out: pd.DataFrame, measured: pd.DataFrame | None, per_mg_kg: float | None) -> None:
    conc = pd.Series(np.nan, index=out.index)
    source = pd.Series("", index=out.index, dtype=object)
    if per_mg_kg is not None:
        if not np.isfinite(per_mg_kg) or per_mg_kg < 0:
            raise ValueError(f"free_brain_nM_per_mg_kg must be a finite number >= 0, got {per_mg_kg!r}")
        conc[:] = out["dose_mg_kg"].to_numpy(float) * per_mg_kg
        source[:] = f"assumed: {per_mg_kg:g} nM per mg/kg"
    if measured is not None:
        _require(measured, "free brain concentration", ["dose_mg_kg", "free_brain_conc_nM"])
        on = [c for c in ("compound", "treatment") if c in measured.columns] + ["dose_mg_kg"]
        m = measured.copy()
        m["dose_mg_kg"] = np.round(pd.to_numeric(m["dose_mg_kg"], errors="raise").astype(float), 9)
        for c in on[:-1]:
            m[c] = _text(m[c]).astype(str)
        m["free_brain_conc_nM"] = pd.to_numeric(m["free_brain_conc_nM"], errors="raise")
        mean = m.groupby(on, sort=False)["free_brain_conc_nM"].mean().rename("_measured").reset_index()
        found = out[on].merge(mean, on=on, how="left")["_measured"].to_numpy()
        have = np.isfinite(found)
        conc[have] = found[have]
        source[have] = "measured"
    zero = out["dose_mg_kg"].to_numpy() == 0
    conc[zero & conc.isna().to_numpy()] = 0.0  # no drug given: no drug in the brain
    source[zero & (source == "").to_numpy()] = "vehicle"
    out["free_brain_conc_nM"] = conc.to_numpy(float)
    out["free_brain_conc_source"] = source.to_numpy()


def study_table(behaviour=None, potency: pd.DataFrame | None = None, microdialysis: pd.DataFrame | None = None, *,
                free_brain_nM_per_mg_kg: float | None = None, free_brain_conc: pd.DataFrame | None = None,
                vehicle: str = "vehicle", compound: str | None = None, join: str = "strict") -> pd.DataFrame:
    """One tidy table of the study: potencies, predicted occupancy, neurochemistry and behaviour.

    Parameters
    ----------
    behaviour : DataFrame, CohortResult or list of them, optional
        Per-animal behaviour summaries (see :func:`behaviour_table`), FST and TST together.
    potency : DataFrame, optional
        One row per compound, from :func:`potency_table`.
    microdialysis : DataFrame, optional
        Per animal x analyte (:func:`microdialysis_per_animal`) or the normalised samples.
    free_brain_nM_per_mg_kg : float, optional
        **Assumed** free (unbound) brain concentration per mg/kg of dose, nM per mg/kg (linear
        pharmacokinetics; an assumption to state with the figure, not a measurement). Needed, or
        ``free_brain_conc``, for the occupancy columns.
    free_brain_conc : DataFrame, optional
        **Measured** free brain concentrations: ``dose_mg_kg, free_brain_conc_nM`` [``compound``,
        ``treatment``]; several rows of a group are averaged. Measured values replace assumed ones.
    vehicle : str
        Treatment label of vehicle groups (dose 0, occupancy 0 %).
    compound : str, optional
        Compound the vehicle rows belong to (default: the study's only compound).
    join : {"strict", "outer"}
        ``"strict"``: every table (each behaviour protocol and the microdialysis) must hold the same
        dose groups, and every compound given to animals must have a potency row; a mismatch
        raises ``ValueError`` naming the table and the groups. ``"outer"``: keep every group,
        with empty cells where a table has none.

    Returns
    -------
    DataFrame
        One row per ``compound, treatment, dose_mg_kg`` (sorted by compound and dose). Columns, in
        this order, each block only when its input is given: the potency columns of
        :func:`potency_table`; ``free_brain_conc_nM``, ``free_brain_conc_source`` and, per Ki
        target ``T``, ``occupancy_pct_pred_T``; the neurochemistry columns of
        :func:`neurochemistry_table`; the behaviour columns of :func:`behaviour_table`.
        ``attrs["provenance"]`` records the parameters.

    Raises
    ------
    ValueError
        No input, a key column missing, non-numeric doses, dose groups that differ between tables
        or a compound without potencies (``join="strict"``).
    """
    if join not in ("strict", "outer"):
        raise ValueError(f"join must be 'strict' or 'outer', got {join!r}")
    if behaviour is None and microdialysis is None:
        if potency is None:
            raise ValueError("study_table needs at least one of behaviour, microdialysis or potency")
        raise ValueError("study_table needs dose groups: give behaviour and/or microdialysis tables")
    beh = _frame(behaviour, "behaviour") if behaviour is not None else None
    if compound is None:
        found = set()
        for raw in (beh, microdialysis):
            if raw is not None and "treatment" in raw.columns:
                found |= _compounds(raw, vehicle)
        compound = next(iter(found)) if len(found) == 1 else None
    blocks: dict[str, pd.DataFrame] = {}
    if microdialysis is not None:
        blocks["microdialysis"] = neurochemistry_table(microdialysis, vehicle=vehicle, compound=compound)
    behaviour_blocks = []
    if beh is not None:
        _require(beh, "behaviour", ["protocol"])
        for protocol, g in beh.groupby(_protocols(beh), sort=True):
            t = behaviour_table(g, vehicle=vehicle, compound=compound)
            blocks[f"behaviour ({protocol})"] = t
            behaviour_blocks.append(t)
    if join == "strict" and len(blocks) > 1:
        _check_groups(blocks)
    frames = [b.set_index(list(KEY_COLUMNS)) for b in ([blocks["microdialysis"]] if "microdialysis" in blocks else [])
              + behaviour_blocks]
    out = _sorted(_join_outer(frames).reset_index())
    head = list(KEY_COLUMNS)
    potency_cols: list[str] = []
    targets: list[str] = []
    if potency is not None:
        _require(potency, "potency", ["compound"], "build it with potency_table")
        pot = potency.copy()
        pot["compound"] = _text(pot["compound"]).astype(str)
        if pot["compound"].duplicated().any():
            twice = sorted(set(pot.loc[pot["compound"].duplicated(), "compound"]))
            raise ValueError(f"potency table: compound(s) {twice} "
                             "appear more than once")
        given = sorted(set(out.loc[out["treatment"] != vehicle, "compound"]))
        missing = [c for c in given if c not in set(pot["compound"])]
        if missing and join == "strict":
            raise ValueError(f"potency table has no row for compound(s) {missing} given to the animals "
                             f"(potency compounds: {sorted(pot['compound'])}); check the names, or pass "
                             "join='outer' to leave their potencies empty")
        potency_cols = [c for c in pot.columns if c != "compound"]
        out = out.merge(pot, on="compound", how="left")
        targets = [c.removeprefix("ki_nM_") for c in potency_cols if c.startswith("ki_nM_")]
    occupancy_cols: list[str] = []
    if free_brain_nM_per_mg_kg is not None or free_brain_conc is not None:
        _free_brain_conc(out, free_brain_conc, free_brain_nM_per_mg_kg)
        occupancy_cols = ["free_brain_conc_nM", "free_brain_conc_source"]
        for t in targets:
            col = f"occupancy_pct_pred_{t}"
            out[col] = predicted_occupancy_pct(out["free_brain_conc_nM"].to_numpy(float),
                                               out[f"ki_nM_{t}"].to_numpy(float))
            out.loc[out["free_brain_conc_nM"] == 0, col] = 0.0
            occupancy_cols.append(col)
    rest = [c for c in out.columns if c not in head + potency_cols + occupancy_cols]
    out = out[head + potency_cols + occupancy_cols + rest]
    from . import __version__
    out.attrs["provenance"] = {
        "function": "behavscore.study.study_table", "behavscore_version": __version__,
        "join": join, "vehicle": vehicle, "compound": compound,
        "free_brain_nM_per_mg_kg": free_brain_nM_per_mg_kg,
        "free_brain_conc": "measured table" if free_brain_conc is not None else None,
        "inputs": {"behaviour": [k for k in blocks if k.startswith("behaviour")],
                   "microdialysis": "microdialysis" in blocks, "potency": potency is not None},
    }
    return out


# ------------------------------------------------------------------- dose-response
def _behaviour_doses(behaviour, protocol: str, measure: str, compound: str | None, vehicle: str):
    df = _frame(behaviour, "behaviour")
    _require(df, "behaviour", ["protocol", measure])
    df = df[(_protocols(df) == protocol.lower()).to_numpy()]
    if df.empty:
        raise ValueError(f"behaviour table: no rows with protocol {protocol!r}")
    if compound is None:
        found = _compounds(df, vehicle)
        if len(found) != 1:
            raise ValueError(f"behaviour table ({protocol}): compounds {sorted(found)}; pass compound='<name>'")
        compound = found.pop()
    df = _with_keys(df, f"behaviour ({protocol})", vehicle, compound)
    if "status" in df.columns:
        df = df[_text(df["status"]) == "ok"]
    df = df[(df["compound"] == compound) & ((df["treatment"] == vehicle) | (df["dose_mg_kg"] > 0))]
    y = pd.to_numeric(df[measure], errors="coerce").to_numpy(float)
    keep = np.isfinite(y)
    return df["dose_mg_kg"].to_numpy(float)[keep], y[keep], compound


def fit_behaviour_dose_response(behaviour, *, protocol: str, measure: str = "immobility_s",
                                compound: str | None = None, vehicle: str = "vehicle", model: str = "LL.4",
                                fixed: Mapping[str, float] | None = None):
    """Dose-response curve of a behavioural measure over animals (ED50 in mg/kg).

    Parameters
    ----------
    behaviour : DataFrame, CohortResult or list of them
        Per-animal summaries with ``protocol, status, treatment, dose_mg_kg`` and ``measure``.
    protocol : str
        ``"fst"`` or ``"tst"``.
    measure : str
        Per-animal response, e.g. ``immobility_s`` or ``climbing_s``.
    compound : str, optional
        Compound whose doses are fitted (default: the only one); its vehicle animals enter the
        curve at dose 0 (the control asymptote).
    model, fixed
        As for :func:`assay_core.fit_dose_response`, e.g. ``fixed={"c": 0}``.

    Returns
    -------
    assay_core.DoseResponseFit
        ``fit.ed(50)`` is the ED50 in mg/kg; ``fit.flags`` lists the reasons not to report it
        (with one animal per dose an LL.4 curve has no residual degrees of freedom).

    Raises
    ------
    ValueError
        From :func:`assay_core.fit_dose_response`, e.g. fewer doses than free parameters.
    """
    dose, y, _ = _behaviour_doses(behaviour, protocol, measure, compound, vehicle)
    return ac.fit_dose_response(dose, y, model=model, fixed=dict(fixed) if fixed else None)


def _zero_x(doses: np.ndarray) -> float:
    pos = doses[doses > 0]
    return float(pos.min() / 10) if pos.size else 1.0


def plot_behaviour_vs_dose(behaviour, *, protocol: str, measure: str = "immobility_s", compound: str | None = None,
                           vehicle: str = "vehicle", model: str = "LL.4", fixed: Mapping[str, float] | None = None,
                           ax=None):
    """Behaviour against dose: animals, group mean ± SEM, fitted curve and ED50 (or why there is none).

    The curve is fitted with :func:`fit_behaviour_dose_response`. A sound fit gets its ED50
    with 95 % CI drawn and printed; a flagged fit is drawn dashed and its flags are printed
    instead of an ED50; a curve that cannot be fitted shows the reason. Vehicle animals are
    drawn at a tenth of the lowest dose, marked "0".

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    dose, y, compound = _behaviour_doses(behaviour, protocol, measure, compound, vehicle)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4))
    if dose.size == 0:
        raise ValueError(f"behaviour table ({protocol}): no scored animals with a value of {measure!r}")
    zero = _zero_x(dose)
    x = np.where(dose > 0, dose, zero)
    ax.plot(x, y, "o", color="C0", alpha=0.45, label="animals")
    levels = np.unique(dose)
    means = np.array([y[dose == d].mean() for d in levels])
    sems = np.array([y[dose == d].std(ddof=1) / np.sqrt((dose == d).sum()) if (dose == d).sum() > 1 else 0.0
                     for d in levels])
    ax.errorbar(np.where(levels > 0, levels, zero), means, yerr=sems, fmt="s", color="C0", mfc="white",
                capsize=3, label="mean ± SEM")
    try:
        fit = ac.fit_dose_response(dose, y, model=model, fixed=dict(fixed) if fixed else None)
        problem = fit.flags
    except ValueError as exc:
        fit, problem = None, [f"not fitted: {exc}"]
    hi = max(dose.max(), zero) * 2
    grid = np.logspace(np.log10(zero * 2), np.log10(hi), 200)
    if fit is not None:
        style = dict(color="C1", ls="-") if not problem else dict(color="0.55", ls="--")
        ax.plot(grid, fit.predict(grid), label=f"{model} fit" + (" (flagged)" if problem else ""), **style)
    if not problem:
        ed = fit.ed(50)
        ax.axvline(ed["estimate"], color="C1", ls=":", lw=1)
        if np.isfinite(ed["ci_low"]) and np.isfinite(ed["ci_high"]):
            ax.axvspan(max(ed["ci_low"], zero * 2), ed["ci_high"], color="C1", alpha=0.12, lw=0)
        text = f"ED50 {ed['estimate']:.3g} mg/kg\n95 % CI {ed['ci_low']:.3g} to {ed['ci_high']:.3g}"
    else:  # the head of each flag; the full texts are in fit.flags
        text = "ED50 not reported:\n" + "\n".join(f"- {p.split(':')[0]}" for p in problem)
    ax.text(0.98, 0.98, text, transform=ax.transAxes, ha="right", va="top", multialignment="left", fontsize=7.5,
            bbox=dict(boxstyle="round", fc="white", ec="0.7" if not problem else "C3"))
    ax.set_xscale("log")
    ax.axvspan(zero / 1.4, zero * 1.4, color="0.93", zorder=0)
    ax.annotate("0", (zero, 0), xycoords=("data", "axes fraction"), ha="center", va="bottom")
    ax.set_xlabel(f"{compound} dose (mg/kg)")
    ax.set_ylabel(measure.replace("_s", " (s)").replace("_pct", " (%)").replace("_", " "))
    ax.set_title(f"{protocol.upper()}: {measure}" + ("  [FLAGGED]" if problem else ""), fontsize=10)
    ax.legend(fontsize=7.5, loc="best")
    return ax


def plot_occupancy_vs_effect(table: pd.DataFrame, *, effect: str = "fst_immobility_s", target: str = "NET",
                             ax=None):
    """Group mean ± SEM of an effect against the predicted occupancy of one target.

    Parameters
    ----------
    table : DataFrame
        The :func:`study_table` with occupancy columns (give it ``free_brain_nM_per_mg_kg`` or
        ``free_brain_conc``).
    effect : str
        Stem of a ``<effect>_mean`` / ``<effect>_sem`` pair, e.g. ``fst_immobility_s``,
        ``tst_immobility_s``, ``fst_climbing_s`` or ``NE_auc_pct_min``.
    target : str
        Ki target, e.g. ``NET``; x = ``occupancy_pct_pred_<target>``.

    Returns
    -------
    matplotlib.axes.Axes
        Each point is labelled with its dose; the subtitle says whether the brain concentration
        was measured or assumed.
    """
    import matplotlib.pyplot as plt

    occ = f"occupancy_pct_pred_{target}"
    if occ not in table.columns:
        raise ValueError(f"study table has no column {occ!r}: give study_table Ki values for {target} and "
                         "free_brain_nM_per_mg_kg (assumed) or free_brain_conc (measured)")
    if f"{effect}_mean" not in table.columns:
        stems = sorted(c[:-5] for c in table.columns if c.endswith("_mean"))
        raise ValueError(f"study table has no column '{effect}_mean'; effects available: {stems}")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    for i, (comp, g) in enumerate(table.groupby("compound", sort=False)):
        g = g.sort_values("dose_mg_kg")
        sem = g[f"{effect}_sem"] if f"{effect}_sem" in g.columns else None
        ax.errorbar(g[occ], g[f"{effect}_mean"], yerr=sem, fmt="o-", color=f"C{i % 10}", capsize=3,
                    label=str(comp))
        for _, r in g.iterrows():
            if np.isfinite(r[occ]) and np.isfinite(r[f"{effect}_mean"]):
                ax.annotate(f"{r['dose_mg_kg']:g} mg/kg", (r[occ], r[f"{effect}_mean"]),
                            textcoords="offset points", xytext=(4, 4), fontsize=7)
    sources = sorted(set(table.get("free_brain_conc_source", pd.Series(dtype=str)).dropna()) - {"vehicle", ""})
    ax.set_xlim(-3, 103)
    ax.set_xlabel(f"predicted {target} occupancy (%)")
    ax.set_ylabel(f"{effect} (mean ± SEM)")
    ax.set_title(f"{effect} vs {target} occupancy\nbrain concentration: {'; '.join(sources) or 'n/a'}",
                 fontsize=9)
    ax.legend(fontsize=7.5)
    return ax
