"""Dose-response model functions in R drc's parameterisation, with analytic derivatives."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit

__all__ = ["DoseResponseModel", "MODELS", "get_model"]


def _shape(kind, t, f=None):
    """Shape g(t) in (0, 1) and its derivatives for f(x) = c + (d - c) g(t).

    Returns ``g, dg/dt, dg/df`` (the last is None unless ``kind == "ll5"``).
    Infinite ``t`` (zero dose) gives the exact limits with zero derivatives.
    """
    if kind == "ll":
        g = expit(-t)
        return g, -g * (1.0 - g), None
    if kind == "ll5":
        sp = np.logaddexp(0.0, t)  # log(1 + exp(t)), stable
        g = np.exp(-f * sp)
        g_t = -f * g * expit(t)
        with np.errstate(invalid="ignore"):
            g_f = -sp * g  # inf * 0 at t = +inf
        g_f = np.where(np.isnan(g_f), 0.0, g_f)
        return g, np.where(np.isnan(g_t), 0.0, g_t), g_f
    u = np.exp(np.minimum(t, 700.0))  # u = 0 at t = -inf, finite at +inf: no inf * 0
    if kind == "w1":
        g = np.exp(-u)
        return g, -u * g, None
    if kind == "w2":
        return -np.expm1(-u), u * np.exp(-u), None
    raise ValueError(f"unknown shape {kind!r}")  # pragma: no cover


@dataclass(frozen=True)
class DoseResponseModel:
    """One dose-response model family, f(x) = c + (d - c) g(b (ln x - ln e)).

    Parameters
    ----------
    name : str
        drc's name (``"LL.4"``, ``"LL.3"``, ``"LL.5"``, ``"W1.4"``, ``"W2.4"``).
    kind : str
        Shape function: ``"ll"`` log-logistic 1/(1 + exp(t)), ``"ll5"`` its
        asymmetric power (1 + exp(t))^-f, ``"w1"`` exp(-exp(t)), ``"w2"`` 1 - exp(-exp(t)).
    param_names : tuple of str
        All parameters of the family in drc's order (b, c, d, e[, f]).
    implied_fixed : dict
        Parameters the named model fixes (LL.3 fixes c = 0).
    description : str
        The formula in words, printed in reports.

    Notes
    -----
    ``b`` is drc's slope (Prism's HillSlope is ``-b``), ``c`` the asymptote reached
    as x -> infinity when b > 0 (Prism's Bottom), ``d`` the asymptote at x -> 0 when
    b > 0 (Prism's Top), ``e`` the inflection dose (EC50/IC50 for LL.4), ``f`` the
    LL.5 asymmetry. A dose of 0 evaluates to the exact asymptote (vehicle wells).
    """

    name: str
    kind: str
    param_names: tuple
    implied_fixed: dict = field(default_factory=dict)
    description: str = ""

    # ------------------------------------------------------------------ values
    def _split(self, params):
        params = [np.asarray(p, dtype=float) for p in params]
        b, c, d, e = params[:4]
        f = params[4] if self.kind == "ll5" else None
        return b, c, d, e, f

    def core(self, lx, lxf, b, c, d, le, f=None, jac=False):
        """Fast evaluation on precomputed log doses (the engine's hot path).

        Parameters
        ----------
        lx : ndarray
            ln(dose), with -inf for dose 0.
        lxf : ndarray
            ln(dose) with 0 for dose 0 (finite, for derivatives).
        b, c, d, le, f : float or ndarray
            Parameters, with ``le = ln(e)``; broadcast against ``lx``.
        jac : bool
            Also return derivatives w.r.t. ``(b, c, d, ln e[, f])`` stacked on the last axis.
        """
        t = b * (lx - le)
        if (np.asarray(b) == 0).any():  # 0 * -inf at dose 0: the curve is flat at g(0)
            t = np.where(b == 0, 0.0, t)
        g, g_t, g_f = _shape(self.kind, t, f)
        span = d - c
        val = c + span * g
        if not jac:
            return val
        shape = np.broadcast(lx, b, c, d, le).shape
        J = np.empty(shape + (5 if self.kind == "ll5" else 4,))
        sg = span * g_t  # exactly 0 at dose 0, where t is infinite
        J[..., 0] = sg * (lxf - le)
        J[..., 1] = 1.0 - g
        J[..., 2] = g
        J[..., 3] = -sg * b
        if self.kind == "ll5":
            J[..., 4] = span * g_f
        return val, J

    @staticmethod
    def log_doses(x):
        """``(lx, lxf)`` for :meth:`core`: ln(dose) with -inf, respectively 0, at dose 0."""
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore"):
            lx = np.log(x)
        return lx, np.where(x > 0, lx, 0.0)

    def predict(self, x, *params):
        """Model response at dose(s) ``x`` for parameters ``(b, c, d, e[, f])``.

        Parameters broadcast against ``x``, so a column of parameter vectors
        evaluates many curves at once. Dose 0 gives the exact asymptote.
        """
        b, c, d, e, f = self._split(params)
        lx, lxf = self.log_doses(x)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return self.core(lx, lxf, b, c, d, np.log(e), f)

    def jacobian(self, x, *params):
        """Partial derivatives of ``predict`` w.r.t. ``(b, c, d, e[, f])``, stacked on the last axis."""
        b, c, d, e, f = self._split(params)
        lx, lxf = self.log_doses(x)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            _, J = self.core(lx, lxf, b, c, d, np.log(e), f, jac=True)
            J[..., 3] = J[..., 3] / e
        return J

    # ------------------------------------------------------- effective doses
    def zero_dose_fraction(self, b):
        """g at x -> 0: 1 if the x -> 0 asymptote is d, 0 if it is c."""
        b = np.asarray(b, dtype=float)
        decreasing_g = self.kind in ("ll", "ll5", "w1")
        return np.where((b > 0) == decreasing_g, 1.0, 0.0)

    def dose_at_fraction(self, gstar, *params):
        """Dose at which the shape g reaches ``gstar`` (closed form inverse)."""
        b, c, d, e, f = self._split(params)
        gstar = np.asarray(gstar, dtype=float)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            if self.kind == "ll":
                t = np.log(1.0 / gstar - 1.0)
            elif self.kind == "ll5":
                t = np.log(np.power(gstar, -1.0 / f) - 1.0)
            elif self.kind == "w1":
                t = np.log(-np.log(gstar))
            else:
                t = np.log(-np.log1p(-gstar))
            return e * np.exp(t / b)

    def effective_dose(self, p, *params, kind="relative"):
        """ED/IC at level ``p``.

        ``kind="relative"``: the dose where the response has moved ``p`` % of the
        way from the zero-dose (control) asymptote to the high-dose asymptote
        (drc's default, ``reference = "control"``). ``kind="absolute"``: the dose
        where the fitted response equals ``p`` (in response units). NaN where the
        level is never reached.
        """
        b, c, d, e, f = self._split(params)
        if kind == "relative":
            q = np.asarray(p, dtype=float) / 100.0
            g0 = self.zero_dose_fraction(b)
            gstar = g0 + q * (1.0 - 2.0 * g0)
        elif kind == "absolute":
            with np.errstate(invalid="ignore", divide="ignore"):
                gstar = (np.asarray(p, dtype=float) - c) / (d - c)
        else:
            raise ValueError(f"kind must be 'relative' or 'absolute', not {kind!r}")
        inside = (gstar > 0) & (gstar < 1)
        x = self.dose_at_fraction(np.where(inside, gstar, 0.5), *params)
        return np.where(inside & (b != 0), x, np.nan)

    def fraction_of_span(self, x, *params):
        """How far along its span (0 at the control asymptote, 1 at the other) the curve is at ``x``."""
        b, c, d, e, f = self._split(params)
        g = self.predict(x, b, 0.0, 1.0, e, *([] if f is None else [f]))
        g0 = self.zero_dose_fraction(b)
        return np.abs(g - g0)

    def __str__(self):
        return f"{self.name}: {self.description}"


MODELS = {
    "LL.4": DoseResponseModel(
        "LL.4", "ll", ("b", "c", "d", "e"),
        description="f(x) = c + (d - c) / (1 + exp(b (ln x - ln e)))"),
    "LL.3": DoseResponseModel(
        "LL.3", "ll", ("b", "c", "d", "e"), {"c": 0.0},
        description="f(x) = d / (1 + exp(b (ln x - ln e)))  (LL.4 with c = 0)"),
    "LL.5": DoseResponseModel(
        "LL.5", "ll5", ("b", "c", "d", "e", "f"),
        description="f(x) = c + (d - c) / (1 + exp(b (ln x - ln e)))^f"),
    "W1.4": DoseResponseModel(
        "W1.4", "w1", ("b", "c", "d", "e"),
        description="f(x) = c + (d - c) exp(-exp(b (ln x - ln e)))"),
    "W2.4": DoseResponseModel(
        "W2.4", "w2", ("b", "c", "d", "e"),
        description="f(x) = c + (d - c) (1 - exp(-exp(b (ln x - ln e))))"),
}


def get_model(model):
    """Return the :class:`DoseResponseModel` for a name such as ``"LL.4"`` (case-insensitive)."""
    if isinstance(model, DoseResponseModel):
        return model
    key = str(model).strip().upper()
    for name, m in MODELS.items():
        if name.upper() == key:
            return m
    raise ValueError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
