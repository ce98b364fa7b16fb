"""Fit the threshold scorer's default settings per protocol on synthetic videos with known truth.

Run:  python benchmarks/fit_default_thresholds.py [--videos 3] [--seconds 360]

Generates tuning cohorts from fixed seeds (never used for evaluation), decodes each video once,
then searches the motion threshold and the passive-motion (shape-change) threshold that
maximise per-second agreement with truth over the protocol window, with the default minimum
bout. Prints the fitted values to put in ``behavscore/scorers.py`` and the agreement reached.
The same procedure is what ``behavscore fit-threshold`` does for a lab's own hand scoring.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from behavscore.bouts import drop_short_runs
from behavscore.per_second import per_second
from behavscore.protocols import get_protocol
from behavscore.signals import Roi, compute_signals
from behavscore.synth import generate_cohort

#: Seeds reserved for tuning; evaluation uses other seeds.
TUNING_SEEDS = {"fst": 101, "tst": 102}


def tuning_table(protocol: str, n_videos: int, seconds: float, animals: int, folder: Path) -> pd.DataFrame:
    cohort = generate_cohort(folder / protocol, protocol, n=n_videos, seed=TUNING_SEEDS[protocol], seconds=seconds, animals=animals)
    truth = pd.read_csv(folder / protocol / "truth.csv")
    tables = []
    for video, rows in cohort.groupby("video"):
        rois = [Roi(r.animal, r.roi_x, r.roi_y, r.roi_w, r.roi_h) for r in rows.itertuples()]
        tables.append(per_second(compute_signals(folder / protocol / video, rois)))
    table = pd.concat(tables).merge(truth, on=["video", "animal", "second"])
    proto = get_protocol(protocol)
    return table[(table["second"] >= proto.window_start_s) & (table["second"] < proto.window_end_s)]


def agreement(table: pd.DataFrame, motion_pct: float, shape_pct: float | None, min_bout_s: float = 1.0) -> float:
    raw = table["motion"].to_numpy() < motion_pct
    if shape_pct is not None:
        raw |= table["shape_motion"].to_numpy() < shape_pct
    called = np.zeros(len(table), bool)
    for _, idx in table.groupby(["video", "animal"], sort=False).indices.items():
        called[idx] = drop_short_runs(raw[idx], int(np.ceil(min_bout_s)))
    return float(np.mean(called == (table["label"].to_numpy() == "immobile")))


def fit(table: pd.DataFrame) -> tuple[float, float | None, float]:
    best = (0.0, 0.0, None)
    motion_grid = np.geomspace(1, 300, 48)
    for m in motion_grid:
        a = agreement(table, m, None)
        best = max(best, (a, m, None), key=lambda t: t[0])
    for s in np.geomspace(1, 100, 32):
        for m in motion_grid:
            a = agreement(table, m, s)
            best = max(best, (a, m, s), key=lambda t: t[0])
    return best[1], best[2], best[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=360.0)
    ap.add_argument("--animals", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for protocol in ("fst", "tst"):
            table = tuning_table(protocol, args.videos, args.seconds, args.animals, Path(tmp))
            motion_pct, shape_pct, a = fit(table)
            plain_m, _, plain_a = fit(table.assign(shape_motion=np.inf))
            print(
                f"{protocol}: threshold_pct={motion_pct:.3g} passive_threshold_pct={shape_pct if shape_pct is None else round(shape_pct, 3)} "
                f"agreement={a:.3f}  (plain threshold only: {plain_m:.3g} -> {plain_a:.3f}; {len(table)} animal-seconds)"
            )


if __name__ == "__main__":
    main()
