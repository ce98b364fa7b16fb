"""The threshold scorer against exact synthetic truth: committed samples and fresh seeds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from behavscore.batch import score_cohort
from behavscore.cohort import read_cohort
from behavscore.protocols import get_protocol

SAMPLES = Path(__file__).resolve().parents[1] / "videos_sample"
#: Seeds of fresh videos for the slow check; never used to fit the defaults.
FRESH_SEEDS = {"fst": 9101, "tst": 9102}


def immobility_tolerance_s(truth_s: float) -> float:
    """The bar: within 10% of truth, or 6 s where truth is under 60 s."""
    return 6.0 if truth_s < 60 else 0.10 * truth_s


def compare_with_truth(folder: Path, protocol: str) -> tuple[pd.DataFrame, float]:
    result = score_cohort(read_cohort(folder / "cohort.csv"), protocol=protocol)
    assert result.failures.empty, result.failures
    truth = pd.read_csv(folder / "truth.csv")
    proto = get_protocol(protocol)
    truth = truth[(truth["second"] >= proto.window_start_s) & (truth["second"] < proto.window_end_s)]
    merged = truth.merge(result.seconds, on=["video", "animal", "second"], suffixes=("_truth", ""), how="left")
    assert merged["label"].notna().all(), "every truth second must be scored"
    merged["truth_immobile"] = merged["label_truth"] == "immobile"
    merged["auto_immobile"] = merged["label"] == "immobile"
    per_animal = merged.groupby("animal").agg(truth_s=("truth_immobile", "sum"), auto_s=("auto_immobile", "sum"))
    summary = result.summary.set_index("animal")
    assert (per_animal["auto_s"] == summary.loc[per_animal.index, "immobility_s"]).all()
    agreement = float((merged["truth_immobile"] == merged["auto_immobile"]).mean())
    return per_animal, agreement


def assert_bars(per_animal: pd.DataFrame, agreement: float) -> None:
    error = (per_animal["auto_s"] - per_animal["truth_s"]).abs()
    tolerance = per_animal["truth_s"].map(immobility_tolerance_s)
    assert (error <= tolerance).all(), per_animal.assign(error_s=error, tolerance_s=tolerance)
    assert agreement >= 0.85, agreement


@pytest.mark.parametrize("protocol", ["fst", "tst"])
def test_sample_videos_meet_the_accuracy_bars(protocol):
    per_animal, agreement = compare_with_truth(SAMPLES / protocol, protocol)
    assert len(per_animal) >= 4
    assert_bars(per_animal, agreement)


@pytest.mark.slow
@pytest.mark.parametrize("protocol", ["fst", "tst"])
def test_fresh_full_length_videos_meet_the_accuracy_bars(protocol, tmp_path):
    from behavscore.synth import generate_cohort

    generate_cohort(tmp_path, protocol, n=2, seed=FRESH_SEEDS[protocol], seconds=360, animals=3)
    per_animal, agreement = compare_with_truth(tmp_path, protocol)
    assert len(per_animal) == 6
    assert_bars(per_animal, agreement)
