"""Regenerate the committed sample set: python videos_sample/make_samples.py [OUT_DIR]

Two 6-min FST videos and two 6-min TST videos, two animals each (one animal per dose group:
vehicle, 5, 10 and 20 mg/kg norclomipramine), at 0.45 of the default resolution and with 1 DN of
sensor noise so the folder stays small. Each protocol folder gets its videos, truth.csv and
cohort.csv.
"""

from __future__ import annotations

import sys
from pathlib import Path

from behavscore.synth import NuisanceSettings, generate_cohort

SEEDS = {"fst": 2024, "tst": 2025}
N_VIDEOS = 2
ANIMALS = 2
SECONDS = 360.0
FPS = 25.0
SCALE = 0.45
NOISE_DN = 1.0


def main(out_dir: Path) -> None:
    for protocol, seed in SEEDS.items():
        cohort = generate_cohort(
            out_dir / protocol, protocol, n=N_VIDEOS, seed=seed, seconds=SECONDS, animals=ANIMALS, fps=FPS,
            nuisance=NuisanceSettings(noise_dn=NOISE_DN), scale=SCALE,
        )
        print(f"{protocol}: {len(cohort)} animals in {cohort['video'].nunique()} videos -> {out_dir / protocol}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent)
