"""Cohort throughput: --jobs 1 vs --jobs 2, and re-scoring from cached signals vs first scoring.

Run:  python benchmarks/bench_batch.py [COHORT.csv] [--protocol tst] [--window 0:360] [--seconds 360]
                                       [--videos 6] [--scale 2.3]

Without a cohort it generates ``--videos`` synthetic TST sessions (``--seconds`` long, 2 animals,
at ``--scale`` times the generator's 280x200 frame: 2.3 gives 644x460, a usual lab camera) in a
temporary folder (generating takes longer than scoring). It prints, all measured in this one run:

- videos per minute of ``score_cohort`` with ``jobs=1`` and ``jobs=2`` (no cache), best of two
  alternating rounds, and their ratio;
- first scoring that fills the signal cache vs re-scoring the same cohort from the cache with
  another threshold (no decoding), and their ratio;
- the same two through the command line (``behavscore batch``, wall time of the whole command,
  including start-up, QC figures and writing the tables).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cohort", nargs="?", type=Path)
    ap.add_argument("--protocol", default="tst")
    ap.add_argument("--window", default="")
    ap.add_argument("--seconds", type=float, default=360.0)
    ap.add_argument("--videos", type=int, default=6)
    ap.add_argument("--scale", type=float, default=2.3)
    args = ap.parse_args()

    from behavscore.batch import score_cohort
    from behavscore.cohort import read_cohort
    from behavscore.protocols import parse_window
    from behavscore.scorers import resolve_scorer
    from behavscore.synth import generate_cohort
    from behavscore.threshold import ThresholdScorer
    from behavscore.video import probe

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cohort_csv = args.cohort
        if cohort_csv is None:
            generate_cohort(tmp / "videos", "tst", n=args.videos, seed=4242, seconds=args.seconds, animals=2, scale=args.scale)
            cohort_csv = tmp / "videos" / "cohort.csv"
        table = read_cohort(cohort_csv)
        n_videos = table["video_path"].nunique()
        window = parse_window(args.window) or (0.0, min(args.seconds, 360.0))
        args.window = f"{window[0]:g}:{window[1]:g}"
        scorer = resolve_scorer("default", args.protocol)  # loaded once, as batch does
        info = probe(table["video_path"].iloc[0])
        print(f"cohort: {n_videos} videos, {len(table)} animals ({cohort_csv.name}), {info.width_px}x{info.height_px} px, {info.duration_claimed_s:.0f} s at {info.fps:g} fps")

        best = {1: float("inf"), 2: float("inf")}
        for _ in range(2):
            for jobs in (1, 2):
                best[jobs] = min(best[jobs], timed(lambda: score_cohort(table, args.protocol, scorer, window, jobs=jobs)))
        for jobs in (1, 2):
            print(f"--jobs {jobs}: {best[jobs]:.1f} s, {60 * n_videos / best[jobs]:.1f} videos/min")
        print(f"speed-up --jobs 2 / --jobs 1: {best[1] / best[2]:.2f}x")

        cache = tmp / "cache"
        first = timed(lambda: score_cohort(table, args.protocol, scorer, window, jobs=1, cache_dir=cache))
        other = ThresholdScorer(threshold_pct=25.0, relative_threshold=None)
        again = min(timed(lambda: score_cohort(table, args.protocol, other, window, jobs=1, cache_dir=cache)) for _ in range(3))
        print(f"first scoring (fills the cache): {first:.2f} s; re-scoring from cache with another threshold: {again:.2f} s; ratio {first / again:.1f}x")

        cli = [sys.executable, "-m", "behavscore.cli", "batch", str(cohort_csv), "--protocol", args.protocol, "--window", args.window, "--jobs", "1", "--out", str(tmp / "out")]
        run = lambda *extra: subprocess.run(cli + list(extra), check=True, capture_output=True)  # noqa: E731
        first_cli = timed(run)
        again_cli = timed(lambda: run("--model", "threshold", "--threshold", "25", "--relative", "0"))
        print(f"command line: first {first_cli:.1f} s; re-scoring from cache {again_cli:.1f} s; ratio {first_cli / again_cli:.1f}x")


if __name__ == "__main__":
    main()
