"""Synthetic assay data in the documented input formats (for examples, tests and benchmarks)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .curves import get_model
from .plate import PLATE_FORMATS, well_name

__all__ = ["simulate_curves", "simulate_plate", "simulate_uptake_kinetics", "simulate_microdialysis",
           "simulate_calcium"]


def simulate_curves(n_curves, dose, model="LL.4", noise_sd=3.0, seed=0, slope=(0.7, 2.5),
                    log10_e=(-2.0, 1.0), bottom=0.0, top=100.0):
    """Random dose-response curves on one dose layout.

    Returns ``(responses (n_curves, n_doses), truth DataFrame with b, c, d, e)``.
    Slopes are positive (inhibition curves falling from ``top`` to ``bottom``).
    """
    rng = np.random.default_rng(seed)
    m = get_model(model)
    dose = np.asarray(dose, float)
    b = rng.uniform(*slope, n_curves)
    e = 10 ** rng.uniform(*log10_e, n_curves)
    c = np.full(n_curves, float(bottom))
    d = np.full(n_curves, float(top))
    extra = [np.ones((n_curves, 1))] if m.kind == "ll5" else []
    y = m.predict(dose[None, :], b[:, None], c[:, None], d[:, None], e[:, None], *extra)
    y = y + rng.normal(0, noise_sd, y.shape)
    return y, pd.DataFrame({"b": b, "c": c, "d": d, "e": e})


def simulate_plate(plate=384, n_compounds=None, conc_nM=None, n_conc=None, seed=0, noise_sd=4.0,
                   vehicle_signal=1000.0, block_signal=100.0):
    """A plate-reader export and its layout: compounds in duplicate dilution series.

    The first and last columns hold vehicle (0 % inhibition) and full-block
    (100 %) controls, alternating by row. Each pair of rows holds one or more
    compounds, each a series of ``n_conc`` half-log concentrations (default: the
    whole row) in duplicate. Returns ``(values, layout, truth)``: ``values``
    (well, value), ``layout`` (well, compound, conc, role) and the true IC50 (nM)
    and Hill slope per compound.
    """
    rng = np.random.default_rng(seed)
    n_rows, n_cols = PLATE_FORMATS[plate]
    inner = n_cols - 2
    n_conc = inner if n_conc is None else int(n_conc)
    if conc_nM is None:
        conc = 10 ** np.linspace(-0.5, 3.5, n_conc)
    else:
        conc = np.asarray(conc_nM, float)
        n_conc = conc.size
    per_pair = max(inner // n_conc, 1)
    max_compounds = (n_rows // 2) * per_pair
    n_compounds = max_compounds if n_compounds is None else min(n_compounds, max_compounds)
    ic50 = 10 ** rng.uniform(0.3, 2.7, n_compounds)
    hill = rng.uniform(0.8, 1.6, n_compounds)
    rows = []
    for r in range(n_rows):
        for col in range(n_cols):
            well = well_name(r, col)
            if col in (0, n_cols - 1):
                role = "vehicle" if (r + (col > 0)) % 2 == 0 else "full_block"
                signal = vehicle_signal if role == "vehicle" else block_signal
                rows.append((well, "", np.nan, role, signal))
                continue
            block, pos = divmod(col - 1, n_conc)
            k = (r // 2) * per_pair + block
            if k >= n_compounds or block >= per_pair:
                rows.append((well, "", np.nan, "empty", np.nan))
                continue
            x = conc[pos]
            inhib = 100 / (1 + (ic50[k] / x) ** hill[k])
            signal = vehicle_signal - (vehicle_signal - block_signal) * inhib / 100
            rows.append((well, f"cmpd{k + 1:02d}", x, "sample", signal))
    df = pd.DataFrame(rows, columns=["well", "compound", "conc", "role", "signal"])
    span = vehicle_signal - block_signal
    df["value"] = df["signal"] + rng.normal(0, noise_sd / 100 * span, len(df))
    values = df[["well", "value"]]
    layout = df[["well", "compound", "conc", "role"]].replace({"compound": {"": np.nan}})
    truth = pd.DataFrame({"compound": [f"cmpd{k + 1:02d}" for k in range(n_compounds)],
                          "ic50_nM": ic50, "hill": hill})
    return values, layout, truth


def simulate_uptake_kinetics(wells, rates, times=None, lag_min=2.0, plateau_min=25.0, noise_sd=5.0,
                             start=200.0, seed=0):
    """Kinetic uptake reads: flat lag, linear rise at ``rate`` RFU/min, then a plateau.

    Returns a long table ``well, time_min, signal``.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(0, 40.5, 1.0) if times is None else np.asarray(times, float)
    rows = []
    for well, rate in zip(wells, rates):
        active = np.clip(t, lag_min, plateau_min) - lag_min
        y = start + rate * active + rng.normal(0, noise_sd, t.size)
        rows.append(pd.DataFrame({"well": well, "time_min": t, "signal": y}))
    return pd.concat(rows, ignore_index=True)


def simulate_microdialysis(n_per_group=6, treatments=("vehicle", "low", "high"),
                           effects=(0.0, 80.0, 200.0), analytes=("NE", "DA", "5-HT"),
                           baseline_nM=(1.0, 0.5, 0.3), times=None, seed=0, noise_cv=0.08):
    """Long microdialysis table ``animal, treatment, time_min, analyte, conc`` (nM).

    Pre-dose samples scatter around each animal's baseline; after dosing the
    level rises by ``effect`` % of baseline at the peak (first analyte only; the
    others by a third of it) and decays.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(-60, 181, 20.0) if times is None else np.asarray(times, float)
    rows = []
    for ti, (treat, effect) in enumerate(zip(treatments, effects)):
        for i in range(n_per_group):
            animal = f"{treat[:3]}{i + 1:02d}"
            for ai, (analyte, base) in enumerate(zip(analytes, baseline_nM)):
                own = base * rng.lognormal(0, 0.2)
                size = effect if ai == 0 else effect / 3
                shape = np.where(t > 0, (t / 40) * np.exp(1 - t / 40), 0.0)
                level = own * (1 + size / 100 * shape)
                conc = level * (1 + rng.normal(0, noise_cv, t.size))
                for tt, cc in zip(t, conc):
                    rows.append((animal, treat, tt, analyte, cc))
    return pd.DataFrame(rows, columns=["animal", "treatment", "time_min", "analyte", "conc"])


def simulate_calcium(concs_uM=(0.01, 0.1, 0.3, 1, 3, 10, 30), conditions=("standard", "ca_free"),
                     cells_per_conc=3, ec50_uM=(0.5, 2.0), max_nM=(600.0, 250.0), rmin=0.3, rmax=8.0,
                     beta=6.0, kd_nM=224.0, seed=0):
    """Fura-2 traces ``trace, condition, conc_uM, time_s, f340, f380`` (stimulus at 30 s).

    [Ca2+] rests at 100 nM, rises after 30 s to a peak set by a Hill curve of the
    agonist concentration, then decays; F340/F380 are generated through the
    inverse Grynkiewicz equation with the given calibration.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(0, 120.5, 1.0)
    rows = []
    n = 0
    for ci, cond in enumerate(conditions):
        for conc in concs_uM:
            amp = max_nM[ci] * conc / (conc + ec50_uM[ci])
            for _ in range(cells_per_conc):
                n += 1
                ca = 100 + amp * np.where(t >= 30, (1 - np.exp(-(t - 30) / 3)) * np.exp(-(t - 30) / 40), 0)
                ca = ca * (1 + rng.normal(0, 0.02, t.size))
                x = ca / (kd_nM * beta)
                ratio = (rmin + x * rmax) / (1 + x)
                f380 = 1000 * (1 + rng.normal(0, 0.005, t.size))
                rows.append(pd.DataFrame({"trace": f"cell{n:03d}", "condition": cond, "conc_uM": conc,
                                          "time_s": t, "f340": ratio * f380, "f380": f380}))
    return pd.concat(rows, ignore_index=True)
