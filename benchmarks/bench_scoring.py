"""Scoring speed relative to pure luma decoding, and peak memory for 1-min and 6-min videos.

Run:  python benchmarks/bench_scoring.py [VIDEO ...] [--repeats N]

Without arguments it generates synthetic FST videos (1 and 6 min, 3 animals) in a temporary
folder. For each file it prints pure decode frames/s (every frame decoded to a luma plane and
nothing else; also with only the decoder threads the scoring pass uses), scoring frames/s (``score_video``: decode + all motion signals + labels +
summary, with the threshold scorer and with the default classifier, loaded once beforehand as a
batch does) and their ratio, best of ``--repeats`` (3) alternating runs, with the median and range
of the ratio run by run (on a shared machine single runs vary by a third); then the peak resident
memory of a fresh process that scores the file (default model), which must not grow with video
length. Wall-clock ratios need an otherwise idle machine: other processes on the cores change
them more than most code changes do.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPEATS = 3


def decode_only(path: Path, threads: int | None = None) -> tuple[int, float]:
    """Frames and seconds to decode every luma plane (FFmpeg's own thread count by default)."""
    from behavscore.video import iter_luma

    t0 = time.perf_counter()
    n = sum(1 for _ in iter_luma(path, threads=threads))
    return n, time.perf_counter() - t0


def score_only(path: Path, rois, model) -> float:
    from behavscore import score_video

    t0 = time.perf_counter()
    score_video(path, protocol="tst", window=(0, 1), rois=rois, model=model)
    return time.perf_counter() - t0


PEAK_SNIPPET = """
import resource, sys
from behavscore import score_video
import json
rois = json.loads(sys.argv[2]) or None
score_video(sys.argv[1], protocol="tst", window=(0, 1), rois=rois)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_rss_mib(path: Path, rois) -> float:
    import json

    out = subprocess.run([sys.executable, "-c", PEAK_SNIPPET, str(path), json.dumps(rois)], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024.0


def main(paths: list[str], repeats: int = REPEATS) -> None:
    tmp = None
    jobs: list[tuple[Path, list | None]] = []
    if paths:
        jobs = [(Path(p), None) for p in paths]
    else:
        from behavscore.synth import generate_video

        tmp = tempfile.TemporaryDirectory()
        for seconds in (60, 360):
            v = generate_video(Path(tmp.name) / f"fst_{seconds}s.mp4", "fst", seed=4242, seconds=seconds, animals=3)
            jobs.append((v.path, [list(r) for r in v.rois]))
    from behavscore.scorers import resolve_scorer

    t0 = time.perf_counter()
    classifier = resolve_scorer("default", "tst")
    print(f"loading and verifying the default TST model (once per batch): {time.perf_counter() - t0:.2f} s")
    from behavscore.video import pass_decoder_threads

    threads = pass_decoder_threads()
    print(f"ratio = scoring time / pure decode time; 'pass dec' = pure decoding with the {threads} decoder thread(s) "
          "the scoring pass gives FFmpeg (the other cores do the per-frame work)")
    print("'median' and 'range': the ratio of each run's scoring time to the decode time measured just before it")
    print(f"{'file':24s} {'frames':>7s} {'decode f/s':>11s} {'pass dec':>9s} {'scorer':>10s} {'score f/s':>10s} {'ratio':>6s} "
          f"{'median':>7s} {'range':>11s} {'peak MiB':>9s}")
    for path, rois in jobs:
        for label, model in (("threshold", "threshold"), ("classifier", classifier)):
            decode_s, pass_decode_s, score_s, n = [], [], [], 0
            for _ in range(repeats):
                n, t = decode_only(path)
                decode_s.append(t)
                pass_decode_s.append(decode_only(path, threads)[1])
                score_s.append(score_only(path, rois, model))
            d, s = min(decode_s), min(score_s)
            per_run = sorted(t / u for t, u in zip(score_s, decode_s))
            print(f"{path.name:24s} {n:7d} {n / d:11.0f} {n / min(pass_decode_s):9.0f} {label:>10s} {n / s:10.0f} {s / d:6.2f} "
                  f"{statistics.median(per_run):7.2f} {per_run[0]:5.2f}-{per_run[-1]:<5.2f} {peak_rss_mib(path, rois):9.1f}")
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("videos", nargs="*", help="video files (default: synthetic 1- and 6-min FST videos, 3 animals)")
    ap.add_argument("--repeats", type=int, default=REPEATS, help="alternating runs; the best of each is reported")
    args = ap.parse_args()
    main(args.videos, args.repeats)
