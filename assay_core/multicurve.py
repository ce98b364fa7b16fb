"""Several dose-response curves fitted together with shared parameters; potency ratios between them."""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats

from ._design import Design, check_identifiable, clean_dose_response, parse_fixed
from ._report import format_flags, format_table
from .curves import get_model
from .dose_response import _CurveFitBase, _gradient, delta_method, fit_dose_response
from .flags import CurveFacts, fit_flags, shape_flags
from .starting_values import grid_candidates

__all__ = ["fit_dose_response_curves", "MultiCurveFit"]

SHARED = "(shared)"


class MultiCurveFit(_CurveFitBase):
    """Curves of one model fitted jointly (returned by :func:`fit_dose_response_curves`).

    Attributes
    ----------
    params : DataFrame
        Free parameters indexed by (``parameter``, ``curve``); a shared parameter
        has curve ``"(shared)"``. Columns ``estimate, se, ci_low, ci_high``
        (observed-Hessian SE, t CI on the residual df).
    coef : DataFrame
        One row per curve, one column per model parameter (fixed ones included).
    curves : list
        Curve labels in order of first appearance.
    shared : tuple
        Names of the parameters common to all curves.
    flags : list of str
        Reasons not to trust the fit, per curve prefixed with its label.
    """

    def __init__(self, *args, shared=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.shared = tuple(shared)

    @property
    def curves(self):
        return list(self.design.curve_labels)

    @property
    def fixed(self):
        names = self.model.param_names
        return {n: float(self.design.values[0, j]) for j, n in enumerate(names)
                if np.all(self.design.index[:, j] < 0)}

    def _k(self, curve):
        try:
            return self.curves.index(curve)
        except ValueError:
            raise ValueError(f"unknown curve {curve!r}; curves are {self.curves}") from None

    @cached_property
    def coef(self):
        return pd.DataFrame(self.design.matrix(self.theta), index=pd.Index(self.curves, name="curve"),
                            columns=list(self.model.param_names))

    @cached_property
    def params(self):
        se = np.sqrt(np.diag(self.cov_hessian))
        q = self._t()
        idx = pd.MultiIndex.from_tuples(
            [(p, SHARED if c is None else c) for p, c in self.design.free_labels],
            names=["parameter", "curve"])
        return pd.DataFrame({"estimate": self.theta, "se": se, "ci_low": self.theta - q * se,
                             "ci_high": self.theta + q * se}, index=idx)

    def ed(self, p, curve, type="relative", level=None):
        """ED``p`` of one curve: dict ``estimate, se, ci_low, ci_high`` (delta method, t CI)."""
        return self._ed(p, type=type, level=level, k=self._k(curve))

    def ed_table(self, levels=(50,), type="relative", level=None):
        """Tidy table of effective doses: one row per (curve, level)."""
        rows = []
        for c in self.curves:
            for p in levels:
                rows.append({"curve": c, "ed": f"ED{p:g}", **self.ed(p, c, type=type, level=level)})
        return pd.DataFrame(rows)

    def potency_ratio(self, numerator, denominator, p=50, type="relative", level=None,
                      interval="delta"):
        """Ratio of effective doses ED_p(numerator) / ED_p(denominator) (drc's ``EDcomp``).

        A ratio above 1 means ``numerator`` needs more drug for the same effect (it is
        less potent). With shared slope and asymptotes (a parallel-line assay) this is
        the classical relative potency.

        Parameters
        ----------
        interval : {"delta", "fieller"}
            Delta-method CI (estimate +/- t se, drc's default) or Fieller's interval,
            which is asymmetric and better when the denominator is imprecise.

        Returns
        -------
        dict
            ``estimate, se, ci_low, ci_high`` and ``p_value`` for the test ratio = 1.
        """
        ka, kb = self._k(numerator), self._k(denominator)
        fa, fb = self._ed_fun(p, type, ka), self._ed_fun(p, type, kb)

        def ratio(theta):
            return fa(theta) / fb(theta)

        est, se = delta_method(ratio, self.theta, self.cov_hessian)
        q = self._t(level)
        out = {"estimate": float(est), "se": float(se), "ci_low": float(est - q * se),
               "ci_high": float(est + q * se)}
        if interval == "fieller":
            out["ci_low"], out["ci_high"] = map(float, self._fieller(fa, fb, q))
        elif interval != "delta":
            raise ValueError("interval must be 'delta' or 'fieller'")
        t = (est - 1) / se if se > 0 else np.nan
        out["p_value"] = float(2 * stats.t.sf(abs(t), self.df_resid)) if np.isfinite(t) else np.nan
        return out

    def _fieller(self, fa, fb, q):
        """Fieller's interval for a / b from the delta-method (co)variances of a and b."""
        a, b = fa(self.theta), fb(self.theta)
        ga, gb = _gradient(fa, self.theta), _gradient(fb, self.theta)
        C = self.cov_hessian
        vaa, vbb, vab = ga @ C @ ga, gb @ C @ gb, ga @ C @ gb
        q2 = q * q
        denom = b * b - q2 * vbb
        if denom <= 0:  # denominator not significantly different from 0: unbounded interval
            return -np.inf, np.inf
        mid = a * b - q2 * vab
        disc = mid * mid - denom * (a * a - q2 * vaa)
        root = np.sqrt(max(disc, 0.0))
        return (mid - root) / denom, (mid + root) / denom

    def potency_table(self, reference, p=50, type="relative", level=None, interval="delta"):
        """Every other curve against ``reference``: tidy rows of ED ratios (curve / reference)."""
        rows = []
        for c in self.curves:
            if c == reference:
                continue
            r = self.potency_ratio(c, reference, p=p, type=type, level=level, interval=interval)
            rows.append({"curve": c, "reference": reference, "ed": f"ED{p:g}", **r})
        return pd.DataFrame(rows)

    @cached_property
    def flags(self):
        out = fit_flags(CurveFacts(**self._global_facts()))
        for k, label in enumerate(self.curves):
            facts = self._facts(k)
            out += [f"curve {label}: {msg}" for msg in shape_flags(facts)]
        return out

    def summary(self):
        d = self.design
        lines = [
            f"Dose-response fit of {len(self.curves)} curves: {self.model.name}   {self.model.description}",
            f"  shared parameters: {', '.join(self.shared) or 'none'}   fixed: "
            + (", ".join(f"{k} = {v:g}" for k, v in self.fixed.items()) or "none"),
            f"  {self.n_obs} observations, {d.n_free} free parameters, residual df {self.df_resid}",
            f"  residual SE: {self.residual_se:.6g}   RSS: {self.rss:.6g}   AIC: {self.aic:.4f}   "
            f"{'converged' if self.converged else 'NOT CONVERGED'}",
            "",
            f"Parameters (observed-Hessian SE, {self.level:.0%} t CI):",
            format_table(self.params),
            "",
            "ED50 per curve (delta method):",
            format_table(self.ed_table().set_index(["curve", "ed"])),
            "",
        ]
        lines += format_flags(self.flags)
        return "\n".join(lines)

    def __str__(self):
        return self.summary()

    def __repr__(self):
        return (f"<MultiCurveFit {self.model.name}: {len(self.curves)} curves, shared "
                f"{list(self.shared)}; flags={len(self.flags)}>")


def fit_dose_response_curves(dose, response, curve, model="LL.4", shared=(), fixed=None,
                             weights=None, *, level=0.95):
    """Fit several curves of one model at once, some parameters common to all.

    Parameters
    ----------
    dose, response : array_like
        Long-format data (replicates as separate rows; NaN rows dropped).
    curve : array_like
        Curve label per row (compound, condition, ...). Each curve needs its own
        vehicle (dose 0) rows if it has any.
    model : str
        Any model of :func:`fit_dose_response`.
    shared : sequence of str
        Parameters estimated once for all curves, e.g. ``("b", "c", "d")`` for a
        parallel-line assay where only ``e`` (the potency) differs.
    fixed : dict, optional
        Parameters held constant for every curve.
    weights : array_like, optional
        Inverse-variance weights multiplying the squared residuals.

    Returns
    -------
    MultiCurveFit
        With ``.params``, ``.coef``, ``.ed(p, curve)``, ``.potency_ratio(a, b)``;
        compare with the separate fit using :func:`compare_models` (F test, e.g.
        for parallelism).
    """
    m = get_model(model)
    dose, response, w, labels, n_dropped = clean_dose_response(dose, response, weights,
                                                               extra=np.asarray(curve))
    if labels is None or labels.size != dose.size:
        raise ValueError("curve must give one label per row")
    fixed = parse_fixed(m, fixed)
    shared = tuple(shared)
    bad = [p for p in shared if p not in m.param_names]
    if bad:
        raise ValueError(f"cannot share {bad}: {m.name} has parameters {', '.join(m.param_names)}")
    codes, uniq = pd.factorize(pd.Series(labels), sort=False)
    K = len(uniq)
    if K == 0:
        raise ValueError("no data left after dropping missing values")
    names = m.param_names
    index = -np.ones((K, len(names)), dtype=int)
    values = np.full((K, len(names)), np.nan)
    free_labels = []
    for j, n in enumerate(names):
        if n in fixed:
            values[:, j] = fixed[n]
        elif n in shared or K == 1:
            index[:, j] = len(free_labels)
            free_labels.append((n, None))
        else:
            for k in range(K):
                index[k, j] = len(free_labels)
                free_labels.append((n, uniq[k]))
    design = Design(m, dose, response, w, codes, list(uniq), index, values, free_labels)
    for k, label in enumerate(uniq):
        sel = codes == k
        own = int(np.count_nonzero(index[k] >= 0) - sum(1 for n in shared if n not in fixed))
        if own > 0:
            check_identifiable(m, dose[sel], own, what=f"curve {label!r}")
    if dose.size < design.n_free:
        raise ValueError(f"{dose.size} usable points cannot determine {design.n_free} free parameters")
    starts = _starts(m, design, fixed, codes, K)
    theta, sol = design.fit(starts, explore=1)
    theta = design.canonical(theta)
    cov_h, cov_gn, rss, df = design.statistics(theta)
    return MultiCurveFit(design, theta, sol, cov_h, cov_gn, rss, df, level, n_dropped, None,
                         shared=shared)


def _starts(m, design, fixed, codes, K):
    """Separate fits per curve (shared parameters averaged), then a pooled grid start."""
    P = np.empty((K, len(m.param_names)))
    for k in range(K):
        sel = codes == k
        try:
            fit = fit_dose_response(design.dose[sel], design.response[sel], m,
                                    fixed={n: v for n, v in fixed.items() if n not in m.implied_fixed},
                                    weights=design.weights[sel])
            P[k] = [fit.coef[n] for n in m.param_names]
        except ValueError:
            cand, _ = grid_candidates(m, design.dose, design.response, design.weights, fixed, top=1)
            P[k] = cand[0]
    pooled, _ = grid_candidates(m, design.dose, design.response, design.weights, fixed, top=1)
    return [P, np.repeat(pooled[0][None, :], K, axis=0)]
