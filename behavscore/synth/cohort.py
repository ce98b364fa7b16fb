"""A dose-response cohort of synthetic videos with its truth table and cohort table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from behavscore.synth.generate import AnimalSpec, generate_video
from behavscore.synth.nuisance import NuisanceSettings

DOSE_GROUPS = (("vehicle", 0.0), ("norclomipramine", 5.0), ("norclomipramine", 10.0), ("norclomipramine", 20.0))
MAX_VIDEOS = 1000


def assign_treatments(rng: np.random.Generator, n_animals: int) -> list[AnimalSpec]:
    """Randomised, balanced allocation of animals to the dose groups, sexes balanced too."""
    groups = [DOSE_GROUPS[k % len(DOSE_GROUPS)] for k in range(n_animals)]
    sexes = ["male" if (k + k // len(DOSE_GROUPS)) % 2 == 0 else "female" for k in range(n_animals)]
    order = rng.permutation(n_animals)
    return [AnimalSpec(treatment=groups[k][0], dose_mg_kg=groups[k][1], sex=sexes[k]) for k in order]


def video_seed(seed: int, index: int) -> int:
    """The seed of video ``index`` of a cohort made with ``seed``."""
    return int(seed) * 1000 + int(index)


def generate_cohort(
    out_dir: str | Path,
    protocol: str,
    n: int,
    seed: int,
    seconds: float = 360.0,
    animals: int = 2,
    fps: float = 25.0,
    *,
    nuisance: NuisanceSettings | None = None,
    scale: float = 1.0,
) -> pd.DataFrame:
    """Write ``n`` videos of a randomised vehicle / norclomipramine dose-response cohort.

    Parameters
    ----------
    out_dir : str or Path
        Folder for the videos, ``truth.csv`` and ``cohort.csv`` (created if missing).
    protocol : {"fst", "tst"}
    n : int
        Number of videos.
    seed : int
        Cohort seed; video ``v`` uses seed ``seed * 1000 + v``.
    seconds, animals, fps
        As in ``generate_video``.
    nuisance : NuisanceSettings, optional
        Camera nuisance strengths.
    scale : float
        Output resolution relative to the default geometry (see ``generate_video``).

    Returns
    -------
    pandas.DataFrame
        The cohort table: ``video, animal, roi_x, roi_y, roi_w, roi_h, treatment, dose_mg_kg,
        sex, coat``, one row per animal.

    Notes
    -----
    Animals are allocated to vehicle, 5, 10 and 20 mg/kg norclomipramine in balanced groups
    in random order across videos and compartments. The drug lowers immobility (Emax model)
    and, in the FST, raises the share of climbing, with animal-to-animal variability.
    """
    if not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_VIDEOS:
        raise ValueError(f"n must be an integer from 1 to {MAX_VIDEOS}, got {n!r}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(animals, (int, np.integer)) or animals < 1:
        raise ValueError(f"animals must be a positive integer, got {animals!r}")
    if protocol not in ("fst", "tst"):
        raise ValueError(f"protocol must be 'fst' or 'tst', got {protocol!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0xC0]))
    specs = assign_treatments(rng, n * animals)
    cohort_rows = []
    truths = []
    for v in range(n):
        name = f"{protocol}_s{seed}_v{v:02d}.mp4"
        ids = [f"{protocol}-s{seed}-v{v:02d}-a{j + 1}" for j in range(animals)]
        result = generate_video(
            out / name, protocol, video_seed(seed, v), seconds=seconds, animals=animals, fps=fps,
            treatment_effects=specs[v * animals : (v + 1) * animals], animal_ids=ids, nuisance=nuisance, scale=scale,
        )
        truths.append(result.truth)
        info = result.animals.set_index("animal")
        for animal, x, y, w, h in result.rois:
            cohort_rows.append({
                "video": name, "animal": animal, "roi_x": x, "roi_y": y, "roi_w": w, "roi_h": h,
                "treatment": info.loc[animal, "treatment"], "dose_mg_kg": info.loc[animal, "dose_mg_kg"],
                "sex": info.loc[animal, "sex"], "coat": info.loc[animal, "coat"],
            })
    cohort = pd.DataFrame(cohort_rows)
    pd.concat(truths, ignore_index=True).to_csv(out / "truth.csv", index=False)
    cohort.to_csv(out / "cohort.csv", index=False)
    return cohort
