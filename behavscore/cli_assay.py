"""Command-line front end for assay_core: `behavscore assay ...` and `behavscore microdialysis ...`."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import List, Optional

import numpy as np
import pandas as pd
import typer

import assay_core as ac

from .outputs import sha256_file, write_provenance

assay_app = typer.Typer(
    help="In-vitro assays: dose-response (drc/Prism), binding, uptake, calcium, qPCR, plates.",
    no_args_is_help=True, add_completion=False)
microdialysis_app = typer.Typer(
    help="Microdialysis: % of baseline, AUC of the time course, comparison with vehicle.",
    no_args_is_help=True, add_completion=False)

OUT_HELP = "Output folder (created if needed)."


@microdialysis_app.callback()
def _microdialysis():
    """Microdialysis: % of baseline, AUC of the time course, comparison with vehicle."""


# ------------------------------------------------------------------ helpers
class _UserError(Exception):
    """A problem with the user's input: reported in one line, exit code 2."""


def _clean_errors(func):
    """Turn input problems into a short message and exit code 2 (no traceback)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (_UserError, ValueError, KeyError) as exc:
            msg = str(exc.args[0] if exc.args else exc)
            source = kwargs.get("input") or kwargs.get("values")
            if source is not None and not isinstance(exc, _UserError) and str(source) not in msg:
                msg = f"{source}: {msg}"  # say which file the problem came from
            typer.echo(f"error: {msg}", err=True)
            raise typer.Exit(code=2) from None
    return wrapper


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise _UserError(f"{path}: file not found")
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise _UserError(f"{path}: cannot be read as CSV ({str(exc).splitlines()[0]})") from None
    if df.empty:
        raise _UserError(f"{path}: no data rows")
    return df


def _need(df: pd.DataFrame, path: Path, *cols):
    for col in cols:
        if col is not None and col not in df.columns:
            raise _UserError(f"{path}: column '{col}' not found (columns: {', '.join(map(str, df.columns))})")


def _numeric(df: pd.DataFrame, path: Path, col: str) -> np.ndarray:
    values = pd.to_numeric(df[col], errors="coerce")
    bad = values.isna() & df[col].notna()
    if bad.any():
        raise _UserError(f"{path}: column '{col}' has non-numeric values, e.g. {df.loc[bad, col].iloc[0]!r} "
                         f"(row {int(np.flatnonzero(bad)[0]) + 2})")
    return values.to_numpy(float)


def _parse_fixed(items: Optional[List[str]]):
    fixed = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise _UserError(f"--fix expects NAME=VALUE (e.g. c=0), got '{item}'")
        try:
            fixed[name.strip()] = float(value)
        except ValueError:
            raise _UserError(f"--fix {item}: '{value}' is not a number") from None
    return fixed or None


def _split(text: Optional[str]):
    return [t.strip() for t in text.split(",") if t.strip()] if text else []



def _prepare_out(out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    return out


def _provenance(out: Path, command: str, inputs: dict, params: dict):
    """Record what made this folder: command, parameters, input checksums, versions."""
    parameters = {"command": f"behavscore {command}", **{k: (str(v) if isinstance(v, Path) else v) for k, v in params.items()}}
    write_provenance(out, parameters, {name: {"path": str(p), "sha256": sha256_file(p)} for name, p in inputs.items() if p})


def _save_figure(ax, path: Path):
    ax.figure.tight_layout()
    ax.figure.savefig(path, dpi=120)
    import matplotlib.pyplot as plt
    plt.close(ax.figure)


def _agg():
    import matplotlib
    matplotlib.use("Agg")


def _fit_tables(fits: dict, levels):
    """params.csv / ed.csv / fits.csv / flags.csv tables from {label: fit or error text}."""
    params, eds, rows, flags = [], [], [], []
    for label, fit in fits.items():
        if isinstance(fit, str):
            rows.append({"curve": label, "n_flags": 1, "flags": f"not fitted: {fit}"})
            flags.append({"curve": label, "flag": f"not fitted: {fit}"})
            continue
        p = fit.to_frame()
        p.insert(0, "curve", label)
        params.append(p)
        e = fit.ed_table(levels).reset_index()
        e.insert(0, "curve", label)
        eds.append(e)
        rows.append({"curve": label, "n_obs": fit.n_obs, **fit.to_row()})
        flags += [{"curve": label, "flag": f} for f in fit.flags]
    cat = (lambda xs: pd.concat(xs, ignore_index=True) if xs else pd.DataFrame())
    return cat(params), cat(eds), pd.DataFrame(rows), pd.DataFrame(flags, columns=["curve", "flag"])


def _fit_each(dose, resp, curves, model, fixed, weights, log_dose):
    """Separate fit per curve label; failures are kept as their error text."""
    fits = {}
    labels = pd.unique(curves) if curves is not None else [None]
    for label in labels:
        sel = np.ones(dose.size, bool) if label is None else (curves == label)
        try:
            fits[label if label is not None else "all"] = ac.fit_dose_response(
                dose[sel], resp[sel], model=model, fixed=fixed,
                weights=None if weights is None else weights[sel], log_dose=log_dose)
        except ValueError as exc:
            fits[label if label is not None else "all"] = str(exc)
    return fits


def _write_fits(out: Path, fits: dict, levels, dose_label, response_label, figure=True):
    params, eds, rows, flags = _fit_tables(fits, levels)
    params.to_csv(out / "params.csv", index=False)
    eds.to_csv(out / "ed.csv", index=False)
    rows.to_csv(out / "fits.csv", index=False)
    flags.to_csv(out / "flags.csv", index=False)
    text = []
    for label, fit in fits.items():
        text.append(f"=== {label} ===")
        text.append(fit if isinstance(fit, str) else fit.summary())
        text.append("")
    (out / "summary.txt").write_text("\n".join(text))
    if figure:
        _agg()
        fig_dir = out / "figures"
        fig_dir.mkdir(exist_ok=True)
        for label, fit in fits.items():
            if not isinstance(fit, str):
                ax = fit.plot(dose_label=dose_label, response_label=response_label,
                              title=f"{label}: {fit.model.name}")
                _save_figure(ax, fig_dir / f"{_safe_name(label)}.png")
    return rows


def _safe_name(label) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(label)) or "curve"


def _report(rows: pd.DataFrame, out: Path):
    n_flag = int((rows.get("n_flags", pd.Series(dtype=int)) > 0).sum()) if not rows.empty else 0
    typer.echo(f"{len(rows)} curve(s) fitted, {n_flag} flagged; results in {out}")


# --------------------------------------------------------- dose-response
@assay_app.command("dose-response")
@_clean_errors
def dose_response_cmd(
    input: Path = typer.Argument(..., help="CSV with one row per well/observation."),
    dose_col: str = typer.Option("dose", help="Column of doses/concentrations (0 = vehicle)."),
    response_col: str = typer.Option("response", help="Column of responses."),
    curve_col: Optional[str] = typer.Option(None, help="Column naming the curve (compound, condition)."),
    model: str = typer.Option("LL.4", help="LL.4, LL.3, LL.5, W1.4 or W2.4 (drc's names)."),
    fix: Optional[List[str]] = typer.Option(None, help="Fix a parameter, NAME=VALUE (repeatable), e.g. c=0."),
    shared: Optional[str] = typer.Option(None, help="Also fit all curves jointly with these parameters "
                                         "shared, e.g. b,c,d (parallel curves); adds an F test and potency ratios."),
    reference: Optional[str] = typer.Option(None, help="Reference curve for potency ratios (default: first)."),
    weights_col: Optional[str] = typer.Option(None, help="Column of inverse-variance weights."),
    log_dose: bool = typer.Option(False, help="Doses are log10 concentrations (Prism's X)."),
    ed: str = typer.Option("10,50,90", help="Effect levels (%) for the ED table."),
    out: Path = typer.Option(Path("results/dose_response"), help=OUT_HELP),
):
    """Fit dose-response curves (drc parameterisation, Prism names side by side)."""
    df = _read_csv(input)
    _need(df, input, dose_col, response_col, curve_col, weights_col)
    dose = _numeric(df, input, dose_col)
    resp = _numeric(df, input, response_col)
    weights = _numeric(df, input, weights_col) if weights_col else None
    curves = df[curve_col].astype(str).to_numpy() if curve_col else None
    fixed = _parse_fixed(fix)
    try:
        levels = [float(x) for x in _split(ed)]
    except ValueError:
        raise _UserError(f"--ed expects numbers separated by commas, got '{ed}'") from None
    out = _prepare_out(out)
    fits = _fit_each(dose, resp, curves, model, fixed, weights, log_dose)
    rows = _write_fits(out, fits, levels, dose_col, response_col)
    if shared is not None:
        if curves is None:
            raise _UserError("--shared needs --curve-col (several curves to share parameters between)")
        _shared_fit(out, dose, resp, curves, model, fixed, weights, _split(shared), reference,
                    dose_col, response_col, log_dose)
    _provenance(out, "assay dose-response", {"input": input},
                dict(dose_col=dose_col, response_col=response_col, curve_col=curve_col, model=model,
                     fixed=fixed, shared=shared, reference=reference, weights_col=weights_col,
                     log_dose=log_dose, ed=levels))
    _report(rows, out)


def _shared_fit(out, dose, resp, curves, model, fixed, weights, shared, reference, dose_label,
                response_label, log_dose):
    if log_dose:
        dose = 10.0 ** dose
    joint = ac.fit_dose_response_curves(dose, resp, curves, model=model, shared=shared, fixed=fixed,
                                        weights=weights)
    separate = ac.fit_dose_response_curves(dose, resp, curves, model=model, fixed=fixed,
                                           weights=weights)
    joint.params.reset_index().to_csv(out / "shared_params.csv", index=False)
    ac.compare_models(joint, separate).to_csv(out / "shared_vs_separate_ftest.csv", index=False)
    ref = reference if reference is not None else joint.curves[0]
    joint.potency_table(ref).to_csv(out / "potency_ratios.csv", index=False)
    pd.DataFrame({"flag": joint.flags}).to_csv(out / "shared_flags.csv", index=False)
    (out / "shared_summary.txt").write_text(joint.summary() + "\n")
    _agg()
    from assay_core.plotting import plot_curves
    _save_figure(plot_curves(joint, dose_label=dose_label, response_label=response_label),
                 out / "figures" / "shared_fit.png")


# ------------------------------------------------------------------ binding
@assay_app.command("binding")
@_clean_errors
def binding_cmd(
    input: Path = typer.Argument(..., help="CSV, one row per well: competitor concentration, counts, role."),
    conc_col: str = typer.Option("conc_nM", help="Competitor concentration column (nM)."),
    counts_col: str = typer.Option("cpm", help="Bound radioactivity column (cpm/dpm)."),
    role_col: str = typer.Option("role", help="Well role column: sample, total, nsb."),
    compound_col: Optional[str] = typer.Option(None, help="Competitor name column (several curves)."),
    radioligand_nm: float = typer.Option(..., help="Free radioligand concentration [L] (nM)."),
    kd_nm: float = typer.Option(..., help="Radioligand Kd (nM)."),
    total_role: str = typer.Option("total", help="Role label of total-binding wells (no competitor)."),
    nsb_role: str = typer.Option("nsb", help="Role label of nonspecific-binding wells."),
    model: str = typer.Option("LL.4", help="Curve model."),
    constrain: bool = typer.Option(True, help="Fix bottom 0 % and top 100 % (Prism's 'one site - Fit Ki')."),
    out: Path = typer.Option(Path("results/binding"), help=OUT_HELP),
):
    """Competition binding: % specific binding, IC50, Ki by Cheng-Prusoff."""
    df = _read_csv(input)
    _need(df, input, conc_col, counts_col, role_col, compound_col)
    counts = _numeric(df, input, counts_col)
    roles = df[role_col].astype(str).str.strip().str.lower()
    total, nsb = counts[roles == total_role.lower()], counts[roles == nsb_role.lower()]
    if total.size == 0 or nsb.size == 0:
        raise _UserError(f"{input}: need wells with role '{total_role}' and '{nsb_role}' in column '{role_col}'")
    wells = df.copy()
    wells["specific"] = ac.specific_binding(counts, np.nanmean(nsb))
    wells["specific_pct"] = ac.percent_specific_binding(counts, np.nanmean(total), np.nanmean(nsb))
    out = _prepare_out(out)
    wells.to_csv(out / "wells.csv", index=False)
    samples = wells[roles == "sample"]
    if samples.empty:
        raise _UserError(f"{input}: no wells with role 'sample' in column '{role_col}'")
    conc = _numeric(samples, input, conc_col)
    curves = samples[compound_col].astype(str).to_numpy() if compound_col else None
    tot_pct = wells.loc[roles == total_role.lower(), "specific_pct"].to_numpy()
    if curves is None:
        dose, resp, curves_all = np.concatenate([conc, np.zeros(tot_pct.size)]), \
            np.concatenate([samples["specific_pct"].to_numpy(), tot_pct]), None
    else:  # total-binding wells are every competitor's zero concentration
        parts = [(conc[curves == c], samples["specific_pct"].to_numpy()[curves == c], c) for c in pd.unique(curves)]
        dose = np.concatenate([np.concatenate([d, np.zeros(tot_pct.size)]) for d, _, _ in parts])
        resp = np.concatenate([np.concatenate([r, tot_pct]) for _, r, _ in parts])
        curves_all = np.concatenate([[c] * (d.size + tot_pct.size) for d, _, c in parts])
    fixed = {"c": 0.0, "d": 100.0} if constrain else None
    fits = _fit_each(dose, resp, curves_all, model, fixed, None, False)
    rows = _write_fits(out, fits, [50], "competitor (nM)", "specific binding (%)")
    ac.ki_table(fits, radioligand_nM=radioligand_nm, kd_nM=kd_nm).to_csv(out / "ki.csv", index=False)
    _provenance(out, "assay binding", {"input": input},
                dict(conc_col=conc_col, counts_col=counts_col, role_col=role_col,
                     compound_col=compound_col, radioligand_nm=radioligand_nm, kd_nm=kd_nm,
                     total_role=total_role, nsb_role=nsb_role, model=model, constrain=constrain))
    _report(rows, out)


@assay_app.command("selectivity")
@_clean_errors
def selectivity_cmd(
    input: Path = typer.Argument(..., help="Binding profile CSV: target, Ki (nM)."),
    target_col: str = typer.Option("target"),
    ki_col: str = typer.Option("ki_nM", help="Ki column (nM)."),
    compound_col: Optional[str] = typer.Option(None),
    primary: Optional[str] = typer.Option(None, help="Target the ratios refer to (default: lowest Ki)."),
    free_conc_nm: Optional[List[float]] = typer.Option(None, help="Free concentration(s) for occupancy (nM)."),
    out: Path = typer.Option(Path("results/selectivity"), help=OUT_HELP),
):
    """Selectivity ratios and fractional occupancy from a (target, Ki) profile."""
    df = _read_csv(input)
    _need(df, input, target_col, ki_col, compound_col)
    table = ac.selectivity_table(df, target_col, ki_col, compound_col, primary)
    for c in free_conc_nm or []:
        if c < 0:
            raise _UserError("--free-conc-nm must be >= 0")
        table[f"occupancy_pct_at_{c:g}nM"] = 100 * ac.fractional_occupancy(c, table["ki_nM"])
    out = _prepare_out(out)
    table.to_csv(out / "selectivity.csv", index=False)
    _provenance(out, "assay selectivity", {"input": input},
                dict(target_col=target_col, ki_col=ki_col, compound_col=compound_col, primary=primary,
                     free_conc_nm=free_conc_nm))
    typer.echo(f"{len(table)} target row(s); results in {out}")


# ------------------------------------------------------------------- uptake
@assay_app.command("uptake")
@_clean_errors
def uptake_cmd(
    input: Path = typer.Argument(..., help="Kinetic read CSV, one row per well and read."),
    well_col: str = typer.Option("well"),
    time_col: str = typer.Option("time_min", help="Read time column (e.g. minutes)."),
    signal_col: str = typer.Option("signal", help="Fluorescence column (RFU)."),
    layout: Optional[Path] = typer.Option(None, help="Layout CSV: well, compound, conc, role "
                                          "(vehicle / full_block / sample) to get % inhibition and IC50s."),
    conc_col: str = typer.Option("conc", help="Concentration column of the layout."),
    min_points: int = typer.Option(5, help="Shortest linear window (reads)."),
    r2_min: float = typer.Option(0.98, help="R^2 a window needs to count as linear."),
    window: Optional[str] = typer.Option(None, help="Fix the rate window for every well, START:END "
                                         "(time units), instead of finding it."),
    model: str = typer.Option("LL.4"),
    fix: Optional[List[str]] = typer.Option(None, help="Fix a curve parameter, NAME=VALUE."),
    out: Path = typer.Option(Path("results/uptake"), help=OUT_HELP),
):
    """Transporter uptake: rate per well from the linear part, then % inhibition and IC50."""
    df = _read_csv(input)
    _need(df, input, well_col, time_col, signal_col)
    _numeric(df, input, time_col)
    _numeric(df, input, signal_col)
    fixed_window = None
    if window is not None:
        try:
            fixed_window = tuple(float(v) for v in window.split(":"))
            assert len(fixed_window) == 2 and fixed_window[0] < fixed_window[1]
        except (ValueError, AssertionError):
            raise _UserError(f"--window expects START:END with START < END, got '{window}'") from None
    rates = ac.uptake_rates(df, well_col, time_col, signal_col, min_points=min_points, r2_min=r2_min,
                            window=fixed_window)
    rates = rates.rename(columns={well_col: "well"})
    out = _prepare_out(out)
    rows = pd.DataFrame()
    if layout is not None:
        lay = ac.read_layout(_read_csv(layout))
        _need(lay, layout, conc_col, "compound")
        table = rates.merge(lay, on="well", how="left")
        if table["role"].isna().any():
            missing = table.loc[table["role"].isna(), "well"].iloc[0]
            raise _UserError(f"{layout}: well {missing} has a rate but no layout entry")
        table, controls = ac.normalise_to_controls(table, value_col="rate")
        controls.to_csv(out / "controls.csv", index=False)
        table.to_csv(out / "rates.csv", index=False)
        table[conc_col] = pd.to_numeric(table[conc_col], errors="coerce")
        res, fits = ac.fit_plate(table, conc_col=conc_col, model=model, fixed=_parse_fixed(fix))
        rows = _write_fits(out, {k: v for k, v in fits.items()}, [50], "concentration",
                           "uptake inhibition (%)")
    else:
        rates.to_csv(out / "rates.csv", index=False)
    _provenance(out, "assay uptake", {"input": input, "layout": layout},
                dict(well_col=well_col, time_col=time_col, signal_col=signal_col, conc_col=conc_col,
                     min_points=min_points, r2_min=r2_min, window=window, model=model, fix=fix))
    n_lin = int(rates["linear"].sum())
    typer.echo(f"{len(rates)} well rate(s), {len(rates) - n_lin} without a linear window; "
               + (f"{len(rows)} curve(s) fitted; " if layout is not None else "") + f"results in {out}")


# ------------------------------------------------------------------ calcium
@assay_app.command("calcium")
@_clean_errors
def calcium_cmd(
    input: Path = typer.Argument(..., help="Long CSV of Fura-2 traces: trace, time, F340, F380 (or [Ca2+])."),
    stim_time: float = typer.Option(..., help="Time of agonist application (s)."),
    trace_col: str = typer.Option("trace"),
    time_col: str = typer.Option("time_s"),
    ca_col: Optional[str] = typer.Option(None, help="Column already in nM (skips the ratio conversion)."),
    f340_col: str = typer.Option("f340"),
    f380_col: str = typer.Option("f380"),
    rmin: Optional[float] = typer.Option(None, help="Calibration Rmin."),
    rmax: Optional[float] = typer.Option(None, help="Calibration Rmax."),
    beta: Optional[float] = typer.Option(None, help="Sf2/Sb2 (F380 free / bound)."),
    kd_nm: float = typer.Option(224.0, help="Fura-2 Kd (nM)."),
    baseline_start: Optional[float] = typer.Option(None, help="Start of the baseline window (s)."),
    response_end: Optional[float] = typer.Option(None, help="End of the response window (s)."),
    condition_col: Optional[str] = typer.Option(None, help="Condition column (e.g. buffer)."),
    reference: Optional[str] = typer.Option(None, help="Reference condition (e.g. standard)."),
    conc_col: Optional[str] = typer.Option(None, help="Agonist concentration column: fit EC50s."),
    metric: str = typer.Option("amplitude_nM", help="Metric compared and fitted."),
    out: Path = typer.Option(Path("results/calcium"), help=OUT_HELP),
):
    """Fura-2 calcium: ratio -> nM (Grynkiewicz), baseline, peak, AUC, EC50, condition comparison."""
    df = _read_csv(input)
    _need(df, input, trace_col, time_col, ca_col, condition_col, conc_col)
    metrics, samples = ac.calcium_metrics(
        df, stim_time, trace_col=trace_col, time_col=time_col, ca_col=ca_col, f340_col=f340_col,
        f380_col=f380_col, rmin=rmin, rmax=rmax, beta=beta, kd_nM=kd_nm,
        baseline_start=baseline_start, response_end=response_end)
    if ca_col is not None and metric.endswith("_nM") and metric not in metrics:
        metric = metric[:-3]
    out = _prepare_out(out)
    samples.to_csv(out / "samples.csv", index=False)
    metrics.to_csv(out / "traces.csv", index=False)
    if metric not in metrics:
        raise _UserError(f"metric '{metric}' not computed; available: "
                         + ", ".join(c for c in metrics.columns if c not in (trace_col, "note")))
    n_fits = 0
    if condition_col and reference is not None and conc_col is None:
        method = "welch" if metrics[condition_col].nunique() == 2 else "dunnett"
        ac.compare_to_reference(metrics, metric, condition_col, reference, method=method).to_csv(
            out / "conditions.csv", index=False)
    if conc_col:
        dose = pd.to_numeric(metrics[conc_col], errors="coerce").to_numpy(float)
        curves = metrics[condition_col].astype(str).to_numpy() if condition_col else None
        fits = _fit_each(dose, metrics[metric].to_numpy(float), curves, "LL.4", None, None, False)
        rows = _write_fits(out, fits, [50], conc_col, metric)
        n_fits = len(rows)
        if condition_col and reference is not None and len(fits) > 1:
            joint = ac.fit_dose_response_curves(dose, metrics[metric].to_numpy(float), curves)
            joint.potency_table(reference).to_csv(out / "conditions.csv", index=False)
    _provenance(out, "assay calcium", {"input": input},
                dict(stim_time=stim_time, trace_col=trace_col, time_col=time_col, ca_col=ca_col,
                     f340_col=f340_col, f380_col=f380_col, rmin=rmin, rmax=rmax, beta=beta,
                     kd_nm=kd_nm, baseline_start=baseline_start, response_end=response_end,
                     condition_col=condition_col, reference=reference, conc_col=conc_col, metric=metric))
    typer.echo(f"{len(metrics)} trace(s) measured" + (f", {n_fits} EC50 curve(s)" if conc_col else "")
               + f"; results in {out}")


# --------------------------------------------------------------------- qPCR
@assay_app.command("qpcr")
@_clean_errors
def qpcr_cmd(
    input: Path = typer.Argument(..., help="Ct CSV: wide (one Ct column per gene) or long (gene, ct)."),
    group_col: str = typer.Option(..., help="Sample group column (tissue, treatment)."),
    target: str = typer.Option(..., help="Target gene (a column in wide form, a gene label in long form)."),
    reference: str = typer.Option(..., help="Reference (housekeeping) gene."),
    calibrator: str = typer.Option(..., help="Calibrator group (fold change 1)."),
    gene_col: Optional[str] = typer.Option(None, help="Long form: gene column."),
    ct_col: Optional[str] = typer.Option(None, help="Long form: Ct column."),
    paired: bool = typer.Option(False, help="Target and reference in the same well."),
    error: str = typer.Option("sd", help="Propagate 'sd' (ABI bulletin) or 'sem'."),
    efficiency_target: Optional[float] = typer.Option(None, help="Amplification factor of the target "
                                                       "(2.0 = 100 %); adds the Pfaffl ratio."),
    efficiency_reference: Optional[float] = typer.Option(None, help="Amplification factor of the reference."),
    out: Path = typer.Option(Path("results/qpcr"), help=OUT_HELP),
):
    """Relative expression: Livak 2^-ddCt with error propagation; Pfaffl with efficiencies."""
    df = _read_csv(input)
    _need(df, input, group_col, gene_col, ct_col)
    if gene_col is None:
        _need(df, input, target, reference)
    if (gene_col is None) != (ct_col is None):
        raise _UserError("long-form input needs both --gene-col and --ct-col")
    out = _prepare_out(out)
    liv = ac.livak(df, group_col=group_col, target=target, reference=reference, calibrator=calibrator,
                   gene_col=gene_col, ct_col=ct_col, paired=paired, error=error)
    liv.to_csv(out / "livak.csv", index=False)
    if efficiency_target is not None or efficiency_reference is not None:
        ac.pfaffl(df, group_col=group_col, target=target, reference=reference, calibrator=calibrator,
                  efficiency_target=efficiency_target or 2.0,
                  efficiency_reference=efficiency_reference or 2.0, gene_col=gene_col, ct_col=ct_col,
                  error=error).to_csv(out / "pfaffl.csv", index=False)
    _provenance(out, "assay qpcr", {"input": input},
                dict(group_col=group_col, target=target, reference=reference, calibrator=calibrator,
                     gene_col=gene_col, ct_col=ct_col, paired=paired, error=error,
                     efficiency_target=efficiency_target, efficiency_reference=efficiency_reference))
    for _, r in liv.iterrows():
        typer.echo(f"{r['group']}: ddCt {r['delta_delta_ct']:.2f} +/- {r['delta_delta_ct_error']:.2f}, "
                   f"fold change {r['fold_change']:.2f} ({r['fold_change_low']:.2f}-{r['fold_change_high']:.2f})")
    typer.echo(f"results in {out}")


@assay_app.command("qpcr-efficiency")
@_clean_errors
def qpcr_efficiency_cmd(
    input: Path = typer.Argument(..., help="Dilution series CSV: template quantity and Ct."),
    quantity_col: str = typer.Option("quantity", help="Relative template amount (> 0)."),
    ct_col: str = typer.Option("ct"),
    gene_col: Optional[str] = typer.Option(None, help="One series per gene."),
    out: Path = typer.Option(Path("results/qpcr_efficiency"), help=OUT_HELP),
):
    """Amplification efficiency from a dilution series (slope of Ct vs log10 quantity)."""
    df = _read_csv(input)
    _need(df, input, quantity_col, ct_col, gene_col)
    groups = df.groupby(gene_col, sort=False) if gene_col else [("all", df)]
    rows = []
    for gene, g in groups:
        res = ac.efficiency_from_dilution(_numeric(g, input, quantity_col), _numeric(g, input, ct_col))
        rows.append({"gene": gene, **{k: float(v) for k, v in res.items()}})
    out = _prepare_out(out)
    pd.DataFrame(rows).to_csv(out / "efficiency.csv", index=False)
    _provenance(out, "assay qpcr-efficiency", {"input": input},
                dict(quantity_col=quantity_col, ct_col=ct_col, gene_col=gene_col))
    for r in rows:
        typer.echo(f"{r['gene']}: E = {r['amplification_factor']:.3f} ({r['efficiency_pct']:.1f} %), "
                   f"R^2 {r['r2']:.4f}")


# -------------------------------------------------------------------- plate
@assay_app.command("plate")
@_clean_errors
def plate_cmd(
    values: Path = typer.Argument(..., help="Plate-reader export: long (well, value) or grid (A-P x 1-24)."),
    layout: Path = typer.Option(..., help="Layout CSV: well, compound, conc, role."),
    plate: Optional[int] = typer.Option(None, help="96 or 384 (checked; inferred if omitted)."),
    value_col: str = typer.Option("value", help="Value column of a long export."),
    conc_col: str = typer.Option("conc", help="Concentration column of the layout."),
    vehicle_role: str = typer.Option("vehicle", help="Role of 0 % inhibition wells."),
    block_role: str = typer.Option("full_block", help="Role of 100 % inhibition wells."),
    model: str = typer.Option("LL.4"),
    fix: Optional[List[str]] = typer.Option(None, help="Fix a curve parameter, NAME=VALUE."),
    out: Path = typer.Option(Path("results/plate"), help=OUT_HELP),
):
    """A 96/384-well plate: join with the layout, normalise to controls, fit one curve per compound."""
    if plate not in (None, 96, 384):
        raise _UserError("--plate must be 96 or 384")
    vals = ac.read_plate_values(_read_csv(values), value_col=value_col, plate=plate)
    lay = ac.read_layout(_read_csv(layout), plate=plate)
    _need(lay, layout, conc_col, "compound")
    table = ac.join_layout(vals, lay)
    table, controls = ac.normalise_to_controls(table, vehicle=vehicle_role, full_block=block_role)
    out = _prepare_out(out)
    table.to_csv(out / "wells.csv", index=False)
    controls.to_csv(out / "controls.csv", index=False)
    table[conc_col] = pd.to_numeric(table[conc_col], errors="coerce")
    _, fits = ac.fit_plate(table, conc_col=conc_col, model=model, fixed=_parse_fixed(fix),
                           vehicle_role=vehicle_role)
    rows = _write_fits(out, fits, [50], "concentration", "inhibition (%)")
    _provenance(out, "assay plate", {"values": values, "layout": layout},
                dict(plate=vals.attrs.get("plate"), value_col=value_col, conc_col=conc_col,
                     vehicle_role=vehicle_role, block_role=block_role, model=model, fix=fix))
    z = controls["z_prime"].iloc[0]
    typer.echo(f"{vals.attrs.get('plate')}-well plate, Z' = {z:.2f}; " + f"{len(rows)} compound(s) fitted, "
               f"{int((rows['n_flags'] > 0).sum()) if not rows.empty else 0} flagged; results in {out}")


# ------------------------------------------------------------ microdialysis
@microdialysis_app.command("normalise")
@_clean_errors
def microdialysis_normalise_cmd(
    input: Path = typer.Argument(..., help="Long CSV: animal, treatment, time, analyte, concentration or peak area."),
    animal_col: str = typer.Option("animal"),
    treatment_col: str = typer.Option("treatment"),
    time_col: str = typer.Option("time_min", help="Sample time relative to dosing (min)."),
    analyte_col: str = typer.Option("analyte"),
    conc_col: str = typer.Option("conc", help="Dialysate concentration column (e.g. nM)."),
    area_col: Optional[str] = typer.Option(None, help="HPLC-ED peak area column (needs --standards)."),
    standards: Optional[Path] = typer.Option(None, help="Standard-curve CSV: analyte, conc, area."),
    dose_time: float = typer.Option(0.0, help="Dosing time (samples before it are pre-dose)."),
    n_baseline: int = typer.Option(3, help="Last N pre-dose samples forming the baseline."),
    stability_pct: float = typer.Option(20.0, help="Flag baselines with a sample deviating more than this %."),
    recovery: Optional[float] = typer.Option(None, help="In-vitro probe recovery (fraction, all analytes)."),
    reference: str = typer.Option("vehicle", help="Reference treatment for the group comparison."),
    end_time: Optional[float] = typer.Option(None, help="End of the AUC window (min)."),
    missing: str = typer.Option("skip", help="Missing post-dose samples in the AUC: 'skip' (bridge) or 'nan'."),
    out: Path = typer.Option(Path("results/microdialysis"), help=OUT_HELP),
):
    """% of baseline per sample, baseline stability, AUC, comparison with vehicle (Dunnett)."""
    df = _read_csv(input)
    _need(df, input, animal_col, treatment_col, time_col, analyte_col)
    value_col = conc_col
    curves = {}
    if area_col is not None:
        _need(df, input, area_col)
        if standards is None:
            raise _UserError("--area-col needs --standards (analyte, conc, area) to convert peak areas")
        std = _read_csv(standards)
        _need(std, standards, "analyte", "conc", "area")
        df = df.copy()
        df[conc_col] = np.nan
        for analyte, g in std.groupby("analyte", sort=False):
            curve = ac.standard_curve(_numeric(g, standards, "conc"), _numeric(g, standards, "area"))
            curves[analyte] = curve
            sel = df[analyte_col] == analyte
            df.loc[sel, conc_col] = ac.peak_area_to_conc(_numeric(df[sel], input, area_col), curve)
        unknown = set(df[analyte_col]) - set(curves)
        if unknown:
            raise _UserError(f"{standards}: no standards for analyte(s) {sorted(unknown)}")
    else:
        _need(df, input, conc_col)
        _numeric(df, input, conc_col)
    samples, baselines = ac.normalise_baseline(
        df, animal_col=animal_col, analyte_col=analyte_col, time_col=time_col, value_col=value_col,
        treatment_col=treatment_col, dose_time=dose_time, n_baseline=n_baseline,
        stability_pct=stability_pct, recovery=recovery)
    auc = ac.time_course_auc(samples, animal_col=animal_col, analyte_col=analyte_col, time_col=time_col,
                             treatment_col=treatment_col, dose_time=dose_time, end_time=end_time,
                             missing=missing)
    course = ac.summarise_time_course(samples, treatment_col=treatment_col, analyte_col=analyte_col,
                                      time_col=time_col)
    out = _prepare_out(out)
    samples.to_csv(out / "samples.csv", index=False)
    baselines.to_csv(out / "baselines.csv", index=False)
    auc.to_csv(out / "auc.csv", index=False)
    course.to_csv(out / "time_course.csv", index=False)
    if curves:
        pd.DataFrame([{"analyte": a, **c} for a, c in curves.items()]).to_csv(out / "standard_curves.csv", index=False)
    if reference in set(auc[treatment_col]):
        ac.compare_auc(auc, reference=reference, treatment_col=treatment_col, analyte_col=analyte_col).to_csv(
            out / "comparison.csv", index=False)
    else:
        typer.echo(f"note: reference treatment '{reference}' not found; no group comparison written", err=True)
    _agg()
    from assay_core.plotting import plot_time_course
    fig_dir = out / "figures"
    fig_dir.mkdir(exist_ok=True)
    for analyte in course[analyte_col].unique():
        ax = plot_time_course(course, analyte, treatment_col=treatment_col, time_col=time_col,
                              analyte_col=analyte_col)
        _save_figure(ax, fig_dir / f"time_course_{_safe_name(analyte)}.png")
    _provenance(out, "microdialysis normalise", {"input": input, "standards": standards},
                dict(animal_col=animal_col, treatment_col=treatment_col, time_col=time_col,
                     analyte_col=analyte_col, conc_col=conc_col, area_col=area_col, dose_time=dose_time,
                     n_baseline=n_baseline, stability_pct=stability_pct, recovery=recovery,
                     reference=reference, end_time=end_time, missing=missing))
    n_unstable = int((~baselines["baseline_stable"]).sum())
    typer.echo(f"{len(baselines)} animal x analyte baseline(s), {n_unstable} flagged unstable; results in {out}")
