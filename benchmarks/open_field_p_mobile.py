"""How a classifier's p(mobile) ranks a walking mouse's seconds by its independently tracked speed.

Run:  python benchmarks/open_field_p_mobile.py [REFERENCE_VIDEO_FOLDER]

The folder holds ``tracktor_open_field.mp4`` and the tracker's ``tracktor_open_field.tracked.csv``
(default: ``shared/reference/video`` beside the project). The clip is decoded once (the default
pass) and every shipped 2-class model labels it. Printed, per model: Spearman's rho of p(mobile)
with the tracker's mean speed per second; the share of seconds the model is sure of (p(mobile)
over 0.99 or under 0.01); its log-odds by tenth of speed (median and range), which shows where
the ranks are lost. Printed once: the rho of the motion index; the most a call that takes two
values can reach on these speeds (every second above a speed called mobile, the rest immobile,
at the best split: sqrt(3)/2 at an even split, whatever the data). A p(mobile) can pass 0.93 only
if it is graded, and graded in the right order, over a band of seconds around the boundary: sure of
the slowest and fastest 40 % and perfectly ordered over the fifth between, rho is 0.934.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from behavscore.features import add_frame_measures, second_features
from behavscore.model_io import load_model
from behavscore.per_second import per_second
from behavscore.scorers import MODELS_DIR
from behavscore.signals import compute_signals

PROJECT = Path(__file__).resolve().parents[1]
DEFAULT_FOLDER = PROJECT.parent / "shared" / "reference" / "video"
SURE = 0.99


def tracked_speed_px(tracked_csv: Path, fps: float) -> pd.Series:
    """The tracker's mean centroid speed in each second, px/frame, indexed by second."""
    tracked = pd.read_csv(tracked_csv)
    xy = tracked[["pos_x", "pos_y"]].to_numpy()
    speed = np.r_[np.nan, np.hypot(*np.diff(xy, axis=0).T)]
    return pd.Series(speed).groupby((tracked["frame"].to_numpy() // fps).astype(int)).mean()


def rho(values: np.ndarray, speed: np.ndarray) -> float:
    return float(spearmanr(values, speed, nan_policy="omit").statistic)


def two_valued_ceiling(speed: np.ndarray) -> tuple[float, float]:
    """The best rho of a call that is 1 above a speed and 0 below it, and the share called 1."""
    shares = np.linspace(0.05, 0.95, 91)
    rhos = [rho((speed > np.quantile(speed, 1 - s)).astype(float), speed) for s in shares]
    best = int(np.argmax(rhos))
    return rhos[best], float(shares[best])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER)
    args = parser.parse_args()
    video, tracked_csv = args.folder / "tracktor_open_field.mp4", args.folder / "tracktor_open_field.tracked.csv"
    if not (video.exists() and tracked_csv.exists()):
        raise SystemExit(f"{args.folder}: needs tracktor_open_field.mp4 and tracktor_open_field.tracked.csv (the reference clips)")
    signals = compute_signals(video)
    table = add_frame_measures(per_second(signals), signals)
    speed_all = tracked_speed_px(tracked_csv, signals.fps).reindex(table["second"].to_numpy()).to_numpy()
    known = np.isfinite(speed_all)
    table, speed = table[known].reset_index(drop=True), speed_all[known]
    features = second_features(table).to_numpy()
    tenth = pd.qcut(speed, 10, labels=False)
    print(f"{video.name}: {len(speed)} seconds with a tracked speed (median {np.median(speed):.2f} px/frame)")
    print(f"motion index: rho {rho(table['motion'].to_numpy(), speed):.3f}")
    ceiling, share = two_valued_ceiling(speed)
    print(f"best two-valued call (fastest {share:.0%} mobile): rho {ceiling:.3f}")
    for stem in ("tst2", "fst2"):
        model = load_model(MODELS_DIR / f"{stem}.skops")
        p = model.predict_proba(table)["p_mobile"].to_numpy()
        log_odds = model.pipeline_.decision_function(features)
        print(f"\n{stem}: p(mobile) rho {rho(p, speed):.3f} ({rho(p, speed) / ceiling:.0%} of the two-valued ceiling); "
              f"p over {SURE} in {np.mean(p > SURE):.0%} of seconds, under {1 - SURE:.2f} in {np.mean(p < 1 - SURE):.0%}")
        by_tenth = pd.Series(log_odds).groupby(tenth).agg(["median", "min", "max"]).round(1)
        by_tenth.index = [f"tenth {i + 1}" for i in by_tenth.index]
        print("log-odds of mobile by tenth of tracked speed (slowest first):")
        print(by_tenth.T.to_string())


if __name__ == "__main__":
    main()
