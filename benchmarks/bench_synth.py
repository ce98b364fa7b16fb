"""Render speed of the synthetic video generator (frames per wall and per CPU second).

Run: python benchmarks/bench_synth.py [seconds]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from behavscore.synth import generate_video


def main(seconds: float = 60.0) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for protocol in ("fst", "tst"):
            for animals, scale in ((2, 1.0), (3, 1.0), (3, 0.5)):
                start, cpu_start = time.perf_counter(), time.process_time()
                video = generate_video(Path(tmp) / "bench.mp4", protocol, seed=1, seconds=seconds, animals=animals, scale=scale)
                elapsed = time.perf_counter() - start
                cpu = time.process_time() - cpu_start
                size_kb = video.path.stat().st_size / 1024
                print(
                    f"{protocol} animals={animals} scale={scale} size={video.frame_size}: "
                    f"{video.n_frames / elapsed:6.0f} frames/s wall, {video.n_frames / cpu:6.0f} frames per CPU second, "
                    f"{size_kb / seconds:6.1f} KiB per video second"
                )


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 60.0)
