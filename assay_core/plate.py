"""96- and 384-well plates: well names, plate-reader exports (long or grid) joined with a layout table."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["PLATE_FORMATS", "parse_well", "well_name", "read_plate_values", "read_layout",
           "join_layout", "fit_plate"]

#: Rows x columns of the supported plate formats.
PLATE_FORMATS = {96: (8, 12), 384: (16, 24)}
_WELL = re.compile(r"^\s*([A-Za-z]{1,2})\s*0*(\d{1,2})\s*$")


def parse_well(well, plate=None):
    """``"B07"`` -> (1, 6): zero-based row and column; validated against ``plate`` (96/384)."""
    m = _WELL.match(str(well))
    if not m:
        raise ValueError(f"'{well}' is not a well name like A1 or P24")
    letters, number = m.group(1).upper(), int(m.group(2))
    row = 0
    for ch in letters:
        row = row * 26 + (ord(ch) - 64)
    row, col = row - 1, number - 1
    if plate is not None:
        if plate not in PLATE_FORMATS:
            raise ValueError(f"plate must be one of {sorted(PLATE_FORMATS)}, not {plate}")
        nr, nc = PLATE_FORMATS[plate]
        if not (0 <= row < nr and 0 <= col < nc):
            raise ValueError(f"well '{well}' does not exist on a {plate}-well plate "
                             f"(A-{chr(64 + nr)}, 1-{nc})")
    return row, col


def well_name(row, col):
    """(1, 6) -> ``"B7"``."""
    return f"{chr(65 + int(row))}{int(col) + 1}"


def _normalise_wells(wells, plate):
    parsed = [parse_well(w, plate) for w in wells]
    return [well_name(r, c) for r, c in parsed], parsed


def _infer_plate(parsed):
    rows = max(r for r, _ in parsed) + 1
    cols = max(c for _, c in parsed) + 1
    return 96 if rows <= 8 and cols <= 12 else 384


def read_plate_values(source, value_col="value", well_col="well", plate=None):
    """A plate-reader export as a tidy table ``well, row, col, value``.

    Accepts the long form (a ``well`` column and a value column) or the grid form a
    reader prints: first column row letters (A-H or A-P), header 1..12 or 1..24.

    Parameters
    ----------
    source : str, path or DataFrame
    plate : {96, 384}, optional
        Checked when given; otherwise inferred from the wells present.
    """
    df = pd.read_csv(source) if not isinstance(source, pd.DataFrame) else source.copy()
    if well_col in df.columns:
        if value_col not in df.columns:
            raise ValueError(f"column '{value_col}' not found; columns are {list(df.columns)}")
        out = df[[well_col, value_col]].rename(columns={well_col: "well", value_col: "value"})
    else:
        first = df.columns[0]
        labels = df[first].astype(str).str.strip()
        numeric_cols = [c for c in df.columns[1:] if str(c).strip().isdigit()]
        if not numeric_cols or not labels.str.fullmatch(r"[A-Pa-p]").all():
            raise ValueError(f"no '{well_col}' column and not a plate grid (first column of row "
                             "letters A-P, header of column numbers)")
        out = df.melt(id_vars=[first], value_vars=numeric_cols, var_name="col_label",
                      value_name="value")
        out["well"] = out[first].astype(str).str.strip().str.upper() + out["col_label"].astype(str).str.strip()
        out = out[["well", "value"]]
    out["value"] = pd.to_numeric(out["value"], errors="coerce")
    names, parsed = _normalise_wells(out["well"], plate)
    plate = plate or _infer_plate(parsed)
    out["well"] = names
    out["row"] = [r for r, _ in parsed]
    out["col"] = [c for _, c in parsed]
    if out["well"].duplicated().any():
        dup = out.loc[out["well"].duplicated(), "well"].iloc[0]
        raise ValueError(f"well {dup} appears more than once in the plate values")
    out.attrs["plate"] = plate
    return out.reset_index(drop=True)


def read_layout(source, well_col="well", plate=None):
    """Layout table: ``well`` plus any of ``compound, conc, role`` (and more columns).

    ``role`` is e.g. ``sample``, ``vehicle``, ``full_block``, ``blank`` or ``empty``;
    wells without a role are samples when they have a compound, else ``empty``.
    """
    df = pd.read_csv(source) if not isinstance(source, pd.DataFrame) else source.copy()
    if well_col not in df.columns:
        raise ValueError(f"layout has no '{well_col}' column; columns are {list(df.columns)}")
    df = df.rename(columns={well_col: "well"})
    names, _ = _normalise_wells(df["well"], plate)
    df["well"] = names
    if df["well"].duplicated().any():
        dup = df.loc[df["well"].duplicated(), "well"].iloc[0]
        raise ValueError(f"well {dup} appears more than once in the layout")
    if "role" not in df.columns:
        has_compound = df["compound"].notna() if "compound" in df.columns else False
        df["role"] = np.where(has_compound, "sample", "empty")
    df["role"] = df["role"].fillna("sample").astype(str).str.strip().str.lower()
    return df


def join_layout(values, layout):
    """Plate values joined to the layout by well; wells missing from the layout are an error."""
    missing = sorted(set(values["well"]) - set(layout["well"]))
    if missing:
        raise ValueError(f"wells {missing[:5]} have values but no layout entry")
    out = values.merge(layout, on="well", how="left", suffixes=("", "_layout"))
    return out.sort_values(["row", "col"], kind="stable").reset_index(drop=True)


def fit_plate(table, *, conc_col="conc", compound_col="compound", response_col="inhibition_pct",
              model="LL.4", fixed=None, role_col="role", sample_role="sample", vehicle_role="vehicle",
              include_vehicle=True, level=0.95):
    """One dose-response fit per compound on a normalised plate table.

    Sample wells of each compound are fitted against their concentration; when
    ``include_vehicle`` the vehicle wells enter every curve at concentration 0 (the
    0 % asymptote). Returns ``(results, fits)``: a tidy table (one row per compound
    with drc and Prism parameters, IC50 and CI, flags) and the fit objects (or the
    error text for compounds that could not be fitted).
    """
    from .dose_response import fit_dose_response

    for col in (conc_col, compound_col, response_col, role_col):
        if col not in table:
            raise ValueError(f"column '{col}' not found; columns are {list(table.columns)}")
    samples = table[table[role_col] == sample_role]
    vehicle = table[table[role_col] == vehicle_role]
    rows, fits = [], {}
    for compound, g in samples.groupby(compound_col, sort=False):
        dose = pd.to_numeric(g[conc_col], errors="coerce").to_numpy(float)
        resp = pd.to_numeric(g[response_col], errors="coerce").to_numpy(float)
        if include_vehicle and not vehicle.empty:
            dose = np.concatenate([dose, np.zeros(len(vehicle))])
            resp = np.concatenate([resp, pd.to_numeric(vehicle[response_col], errors="coerce")])
        row = {compound_col: compound, "n_wells": int(np.isfinite(resp).sum())}
        try:
            fit = fit_dose_response(dose, resp, model=model, fixed=fixed, level=level)
        except ValueError as exc:
            fits[compound] = str(exc)
            rows.append({**row, "flags": f"not fitted: {exc}", "n_flags": 1})
            continue
        fits[compound] = fit
        row.update(fit.to_row())
        rows.append(row)
    return pd.DataFrame(rows), fits
