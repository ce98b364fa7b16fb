"""Reasons not to trust a dose-response fit, phrased the way Prism warns about ambiguous fits."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["CurveFacts", "curve_flags", "fit_flags", "shape_flags", "FLAG_LIMITS"]

#: Thresholds behind each flag (documented in docs/assay.md).
FLAG_LIMITS = {
    "flat_alpha": 0.05,        # F test vs a horizontal line: p above this = no dose-response
    "plateau_fraction": 0.80,  # share of the span the curve must cover at the extreme dose
    "dependency": 0.999,       # Prism's parameter dependency above this = over-parameterised
    "ci_fold": 100.0,          # ED50 CI wider than this ratio (or reaching 0) = ambiguous
}


@dataclass
class CurveFacts:
    """What the flag rules need to know about one fitted curve (computed by the caller)."""

    name50: str = "EC50"
    converged: bool = True
    message: str = ""
    df: int = 1
    se_defined: bool = True
    nonfinite: bool = False
    constant_response: bool = False
    p_flat: float = 0.0
    ed50: float = np.nan
    ed50_ci: tuple = (np.nan, np.nan)
    dose_min: float = np.nan       # lowest positive dose
    dose_max: float = np.nan
    high_param: str = ""           # asymptote approached at high dose ("c"/"d"), "" if fixed
    high_name: str = ""            # its Prism name (Bottom/Top)
    frac_at_max: float = 1.0       # share of the span covered at the highest dose
    low_param: str = ""            # asymptote at dose 0, "" if fixed or defined by vehicle wells
    low_name: str = ""
    frac_at_min: float = 0.0       # share of the span covered at the lowest positive dose
    doses_on_slope: int = 2        # distinct tested doses between 10 % and 90 % of the span
    slope_free: bool = True
    max_dependency: float = 0.0
    dependency_param: str = ""
    at_bounds: list = field(default_factory=list)


_CONSTANT = ("no dose-response: the response is the same at every dose, so no curve "
             "parameters can be estimated")


def curve_flags(f: CurveFacts, limits=None) -> list:
    """Flag texts for one curve; an empty list means the fit looks sound."""
    if f.constant_response:
        return [_CONSTANT]
    return fit_flags(f, limits) + shape_flags(f, limits)


def fit_flags(f: CurveFacts, limits=None) -> list:
    """Flags about the fit as a whole: convergence, identifiability, dependency."""
    lim = {**FLAG_LIMITS, **(limits or {})}
    out = []
    if f.nonfinite:
        out.append("non-finite estimate: the optimiser ran off to infinity")
    if not f.converged:
        out.append(f"not converged: {f.message}")
    if f.df <= 0:
        out.append("no residual degrees of freedom: standard errors and confidence intervals "
                   "are undefined (as many free parameters as observations)")
    elif not f.se_defined:
        out.append("standard errors undefined: the Hessian is singular, so the data cannot "
                   "determine every parameter")
    if np.isfinite(f.max_dependency) and f.max_dependency > lim["dependency"]:
        out.append(f"parameter dependency {f.max_dependency:.5f} for {f.dependency_param}: the "
                   "parameters are nearly redundant (model too complex for these data)")
    return out


def shape_flags(f: CurveFacts, limits=None) -> list:
    """Flags about one curve's shape against its doses (Prism's 'ambiguous' cases)."""
    lim = {**FLAG_LIMITS, **(limits or {})}
    out = []
    if f.constant_response:
        return [_CONSTANT]
    if np.isfinite(f.p_flat) and f.p_flat > lim["flat_alpha"]:
        out.append(f"no significant dose-response: the curve fits no better than a horizontal "
                   f"line (F test p = {f.p_flat:.3g})")
    if not np.isfinite(f.ed50):
        out.append(f"{f.name50} undefined: the fitted curve never reaches half of its span")
    elif f.ed50 < f.dose_min or f.ed50 > f.dose_max:
        side = "below the lowest" if f.ed50 < f.dose_min else "above the highest"
        ref = f.dose_min if f.ed50 < f.dose_min else f.dose_max
        out.append(f"{f.name50} outside the tested range: {f.ed50:.4g} is {side} positive dose "
                   f"({ref:.4g}), so it is extrapolated")
    if f.high_param and f.frac_at_max < lim["plateau_fraction"]:
        out.append(f"no {f.high_name.lower()} plateau: at the highest dose the curve has covered "
                   f"only {100 * f.frac_at_max:.0f} % of its span, so {f.high_name} "
                   f"({f.high_param}) is extrapolated; fix it (e.g. to the full-block control) "
                   "or test higher doses")
    if f.low_param and f.frac_at_min > 1 - lim["plateau_fraction"]:
        out.append(f"no {f.low_name.lower()} plateau: at the lowest dose the curve has already "
                   f"covered {100 * f.frac_at_min:.0f} % of its span and there are no vehicle "
                   f"(dose 0) wells, so {f.low_name} ({f.low_param}) is extrapolated")
    if f.slope_free and f.doses_on_slope == 0 and np.isfinite(f.ed50):
        out.append("no doses on the slope: the whole transition (10-90 % of the span) falls "
                   "between two tested doses, so the Hill slope and "
                   f"{f.name50} are not determined by the data")
    lo, hi = f.ed50_ci
    if np.isfinite(f.ed50) and f.se_defined and f.df > 0:
        if not (np.isfinite(lo) and np.isfinite(hi)) or lo <= 0 or hi / lo > lim["ci_fold"]:
            out.append(f"ambiguous {f.name50}: its confidence interval [{lo:.3g}, {hi:.3g}] "
                       f"reaches zero or spans more than {lim['ci_fold']:.0f}-fold")
    for p in f.at_bounds:
        out.append(f"parameter {p} stopped at a bound: its estimate and SE are not reliable")
    return out


def curve_facts(model, P, free, dose, y, w, fitted, ed50, ed50_ci, n_free):
    """Shape facts for N curves at once (vectorised; one curve is N = 1).

    Parameters
    ----------
    model : DoseResponseModel
    P : ndarray (N, n_params)
        Fitted parameters (fixed ones included).
    free : set of str
        Names of the parameters that were estimated.
    dose : ndarray (n,)
        Doses of the columns (shared by all curves).
    y, w, fitted : ndarray (N, n)
        Responses, weights (0 = missing well) and fitted values.
    ed50 : ndarray (N,)
    ed50_ci : tuple of ndarray (N,)
    n_free : int
        Free parameters per curve (for the F test against a horizontal line).

    Returns
    -------
    list of CurveFacts
        Only the shape-related fields are filled; the caller adds fit-level ones.
    """
    from scipy import stats

    N = P.shape[0]
    b, c, d = P[:, 0], P[:, 1], P[:, 2]
    g0 = model.zero_dose_fraction(b)
    a0 = c + (d - c) * g0
    a_inf = c + (d - c) * (1 - g0)
    decreasing = a_inf < a0
    sw = np.sum(w, axis=1)
    ybar = np.sum(w * y, axis=1) / np.where(sw > 0, sw, 1)
    rss_flat = np.sum(w * (y - ybar[:, None]) ** 2, axis=1)
    constant = rss_flat <= 1e-24 * np.maximum(np.sum(w * y * y, axis=1), 1e-300)
    rss = np.sum(w * (y - fitted) ** 2, axis=1)
    n_obs = np.count_nonzero(w > 0, axis=1)
    df1, df2 = n_free - 1, n_obs - n_free
    with np.errstate(all="ignore"):
        fstat = np.maximum(rss_flat - rss, 0) / df1 / (rss / df2)
        p_flat = np.where((df1 > 0) & (df2 > 0) & np.isfinite(rss),
                          np.where(rss > 0, stats.f.sf(fstat, df1, np.maximum(df2, 1)),
                                   np.where(rss_flat > 0, 0.0, np.nan)), np.nan)
    levels, inv = np.unique(dose, return_inverse=True)
    present = ((w > 0).astype(float) @ np.eye(levels.size)[inv]) > 0  # (N, U)
    present &= levels[None, :] > 0
    finite = np.all(np.isfinite(P), axis=1)
    with np.errstate(all="ignore"):
        extra = [P[:, 4]] if model.kind == "ll5" else []
        gl = model.predict(levels[None, :], b[:, None], 0.0, 1.0, P[:, 3][:, None],
                           *[x[:, None] for x in extra])
        frac = np.abs(gl - g0[:, None])
    frac = np.where(finite[:, None], frac, np.nan)
    on_slope = np.count_nonzero(present & (frac > 0.1) & (frac < 0.9), axis=1)
    has_pos = present.any(axis=1)
    i_min = np.argmax(present, axis=1)
    i_max = levels.size - 1 - np.argmax(present[:, ::-1], axis=1)
    has_zero = np.any((w > 0) & (dose[None, :] == 0), axis=1)
    rows = np.arange(N)
    out = []
    for i in range(N):
        high = "c" if g0[i] == 1 else "d"
        low = "d" if g0[i] == 1 else "c"
        out.append(CurveFacts(
            name50="IC50" if decreasing[i] else "EC50",
            constant_response=bool(constant[i]), p_flat=float(p_flat[i]),
            ed50=float(ed50[i]), ed50_ci=(float(ed50_ci[0][i]), float(ed50_ci[1][i])),
            dose_min=float(levels[i_min[i]]) if has_pos[i] else np.nan,
            dose_max=float(levels[i_max[i]]) if has_pos[i] else np.nan,
            high_param=high if high in free else "", high_name=_PRISM[high],
            frac_at_max=float(frac[rows[i], i_max[i]]),
            low_param=low if (low in free and not has_zero[i]) else "", low_name=_PRISM[low],
            frac_at_min=float(frac[rows[i], i_min[i]]), doses_on_slope=int(on_slope[i]),
            slope_free="b" in free,
        ))
    return out


_PRISM = {"c": "Bottom", "d": "Top"}
