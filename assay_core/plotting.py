"""Figures for fitted curves and time courses (matplotlib, imported only when a figure is drawn)."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_dose_response", "plot_curves", "plot_time_course"]


def _plt():
    import matplotlib.pyplot as plt  # lazy: assay_core itself needs only numpy/scipy/pandas
    return plt


def _zero_position(doses):
    pos = doses[doses > 0]
    return pos.min() / 10 if pos.size else 1.0


def _draw(ax, model, coef, dose, resp, label, color, lo_x, hi_x, zero_x):
    x = np.where(dose > 0, dose, zero_x)
    ax.plot(x, resp, "o", color=color, alpha=0.7, label=label)
    grid = np.logspace(np.log10(lo_x), np.log10(hi_x), 200)
    ax.plot(grid, model.predict(grid, *coef), "-", color=color)


def plot_dose_response(fit, ax=None, dose_label="dose", response_label="response", title=None):
    """Data (vehicle wells drawn at a tenth of the lowest dose, marked '0'), fitted curve, ED50.

    Returns the matplotlib Axes. The title carries a warning when the fit is flagged.
    """
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    d = fit.design
    zero_x = _zero_position(d.dose)
    pos = d.dose[d.dose > 0]
    lo, hi = zero_x, pos.max() * 3
    coef = fit._coef_row(fit.theta)
    _draw(ax, fit.model, coef, d.dose, d.response, "data", "C0", lo * 1.5, hi, zero_x)
    ed = fit.ed(50)
    if np.isfinite(ed["estimate"]):
        ax.axvline(ed["estimate"], color="0.5", ls=":", lw=1)
    ax.set_xscale("log")
    if np.any(d.dose == 0):
        ax.axvspan(zero_x / 2, zero_x * 2, color="0.93", zorder=0)
        ax.annotate("0", (zero_x, 0), xycoords=("data", "axes fraction"), ha="center", va="bottom")
    ax.set_xlabel(dose_label)
    ax.set_ylabel(response_label)
    text = title or f"{fit.model.name}: ED50 {ed['estimate']:.3g}"
    if fit.flags:
        text += "  [FLAGGED]"
    ax.set_title(text, fontsize=10)
    return ax


def plot_curves(fit, ax=None, dose_label="dose", response_label="response"):
    """All curves of a :class:`~assay_core.multicurve.MultiCurveFit` on one log axis."""
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4))
    d = fit.design
    zero_x = _zero_position(d.dose)
    hi = d.dose.max() * 3
    P = d.matrix(fit.theta)
    for k, label in enumerate(fit.curves):
        sel = d.curve == k
        _draw(ax, fit.model, P[k], d.dose[sel], d.response[sel], str(label), f"C{k % 10}",
              zero_x * 1.5, hi, zero_x)
    ax.set_xscale("log")
    ax.set_xlabel(dose_label)
    ax.set_ylabel(response_label)
    ax.legend(fontsize=8)
    ax.set_title(f"{fit.model.name}" + ("  [FLAGGED]" if fit.flags else ""), fontsize=10)
    return ax


def plot_time_course(summary, analyte, ax=None, treatment_col="treatment", time_col="time_min",
                     analyte_col="analyte"):
    """Mean +/- SEM % of baseline over time per treatment for one analyte."""
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    part = summary[summary[analyte_col] == analyte]
    for i, (treat, g) in enumerate(part.groupby(treatment_col, sort=False)):
        ax.errorbar(g[time_col], g["mean"], yerr=g["sem"], marker="o", ms=4, capsize=2,
                    color=f"C{i % 10}", label=str(treat))
    ax.axhline(100, color="0.6", lw=0.8, ls="--")
    ax.axvline(0, color="0.6", lw=0.8, ls=":")
    ax.set_xlabel("time from dose (min)")
    ax.set_ylabel(f"{analyte} (% of baseline)")
    ax.legend(fontsize=8)
    return ax
