"""Benchmark: LL.4 curves fitted per second on one core, and the time for a 384-well plate.

Run from the project root:

    .venv/bin/python benchmarks/bench_assay_fit.py            # 10,000 curves
    .venv/bin/python benchmarks/bench_assay_fit.py --curves 2000 --single 200

Two paths are timed: ``fit_many`` (all curves of one dose layout fitted together,
vectorised) and ``fit_dose_response`` (one full result object per curve, with
flags and both naming tables; timed on a sample and extrapolated unless
``--single`` equals ``--curves``). The plate timing runs the whole
``behavscore assay plate`` chain in-process: read export and layout, join,
normalise to controls, fit every compound, flag.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"  # one core: set before numpy loads its BLAS

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assay_core import (fit_dose_response, fit_many, fit_plate, join_layout,  # noqa: E402
                        normalise_to_controls, read_layout, read_plate_values)
from assay_core.simulate import simulate_curves, simulate_plate  # noqa: E402


def _pin_one_core():
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity); BLAS limited to 1 thread"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--curves", type=int, default=10_000)
    ap.add_argument("--single", type=int, default=500, help="curves timed through fit_dose_response")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    print(f"single core: {_pin_one_core()}")

    dose = np.repeat(np.r_[0, 10 ** np.linspace(-3, 2, 10)], 2)  # vehicle + 10 doses, duplicates
    Y, truth = simulate_curves(args.curves, dose, seed=args.seed, log10_e=(-2, 1), noise_sd=3.0)

    t0 = time.perf_counter()
    table = fit_many(dose, Y, "LL.4")
    t_many = time.perf_counter() - t0
    err = np.abs(np.log10(table["ed50"] / truth["e"]))
    print(f"\nfit_many (vectorised): {args.curves} LL.4 curves x {dose.size} wells in {t_many:.2f} s "
          f"-> {args.curves / t_many:,.0f} curves/s")
    print(f"  flagged {int((table['n_flags'] > 0).sum())}, refitted one by one "
          f"{int((table['method'] == 'single').sum())}, median |log10(ED50/true)| {np.nanmedian(err):.3f}")

    n = min(args.single, args.curves)
    t0 = time.perf_counter()
    for i in range(n):
        fit = fit_dose_response(dose, Y[i], "LL.4")
        fit.flags, fit.params  # noqa: B018  (the full result, as the CLI builds it)
    t_one = (time.perf_counter() - t0) / n
    extra = "" if n == args.curves else f" (timed on {n}, {args.curves} would take {t_one * args.curves:.1f} s)"
    print(f"fit_dose_response (one result object each): {1 / t_one:,.0f} curves/s, "
          f"{t_one * 1e3:.2f} ms per curve{extra}")

    values, layout, plate_truth = simulate_plate(384, n_conc=11, seed=args.seed, noise_sd=3.0)
    t0 = time.perf_counter()
    wells = join_layout(read_plate_values(values, plate=384), read_layout(layout, plate=384))
    wells, controls = normalise_to_controls(wells)
    results, _ = fit_plate(wells)
    t_plate = time.perf_counter() - t0
    print(f"\n384-well plate ({len(plate_truth)} compounds x 11 concentrations in duplicate, "
          f"{int((wells['role'] != 'sample').sum())} control/empty wells): {t_plate * 1e3:.0f} ms end to end "
          f"(Z' {controls['z_prime'].iloc[0]:.2f}, {int((results['n_flags'] > 0).sum())} flagged)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
