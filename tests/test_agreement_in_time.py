"""Minute-by-minute agreement of two scorers, against counts made by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from behavscore.agreement_in_time import disagreement_runs, minute_agreement, minute_line


def _aligned(onsets_a: dict[str, int], onsets_b: dict[str, int], seconds: range) -> pd.DataFrame:
    """Each animal mobile until its onset, immobile from it on, by each scorer."""
    return pd.DataFrame(
        [("v.mp4", animal, s, "immobile" if s >= onsets_a[animal] else "mobile", "immobile" if s >= onsets_b[animal] else "mobile")
         for animal in onsets_a for s in seconds],
        columns=["video", "animal", "second", "label_a", "label_b"],
    )


def test_bins_start_at_the_window_and_count_each_animals_immobile_seconds():
    # FST window 120-360 s. Scorer a: m1 immobile from 150 s, m2 from 250 s; scorer b: 160, 240 s.
    aligned = _aligned({"m1": 150, "m2": 250}, {"m1": 160, "m2": 240}, range(120, 360))
    minutes = minute_agreement(aligned, (120, 360))
    assert minutes["bin_start_s"].tolist() == [120, 180, 240, 300]
    assert minutes["bin_end_s"].tolist() == [180, 240, 300, 360]
    assert (minutes["n_animals"] == 2).all()
    # 120-180: m1 a 30, b 20; m2 0, 0.  180-240: m1 60, 60; m2 0, 0.  240-300: m1 60, 60; m2 a 50, b 60.
    first, third = minutes.iloc[0], minutes.iloc[2]
    assert (first["mean_a_s"], first["mean_b_s"], first["bias_s"]) == (15.0, 10.0, 5.0)
    assert first["accuracy"] == pytest.approx(1 - 10 / 120)
    assert (third["mean_a_s"], third["mean_b_s"], third["bias_s"]) == (55.0, 60.0, -5.0)
    assert minutes.iloc[1]["bias_s"] == 0 and minutes.iloc[3]["accuracy"] == 1.0
    line = minute_line("auto vs human", minutes)
    assert "15 30 55 60 s vs 10 30 60 60 s" in line and "largest bias +5.0 s (120-180 s)" in line


def test_a_window_that_is_not_whole_minutes_ends_with_a_short_bin():
    aligned = _aligned({"m1": 50}, {"m1": 50}, range(0, 90))
    minutes = minute_agreement(aligned, (0, 90))
    assert minutes[["bin_start_s", "bin_end_s"]].values.tolist() == [[0, 60], [60, 90]]
    assert minutes["mean_a_s"].tolist() == [10.0, 30.0]


def _pairs(animal: str, a: str, b: str, first_s: int = 0) -> list[tuple]:
    code = {"I": "immobile", "M": "mobile", "S": "swimming"}
    return [("v.mp4", animal, first_s + i, code[x], code[y]) for i, (x, y) in enumerate(zip(a, b))]


def test_disagreements_are_runs_of_the_same_pair_of_labels_longest_first():
    rows = (_pairs("m1", "MMIIIIIMMM", "MMMMIIIIMM")  # a says immobile first (2-3 s), b stays immobile longer (7 s)
            + _pairs("m2", "IIII", "MSSM")  # 0: I/M, 1-2: I/S, 3: I/M: a change of pair starts a new run
            + _pairs("m3", "II", "MM", first_s=10) + _pairs("m3", "I", "M", first_s=13))  # a gap in the seconds too
    aligned = pd.DataFrame(rows, columns=["video", "animal", "second", "label_a", "label_b"])
    runs = disagreement_runs(aligned)
    got = [(r.animal, r.start_s, r.end_s, r.label_a, r.label_b) for r in runs.itertuples()]
    assert got == [
        ("m1", 2, 4, "immobile", "mobile"), ("m2", 1, 3, "immobile", "swimming"), ("m3", 10, 12, "immobile", "mobile"),
        ("m1", 7, 8, "mobile", "immobile"), ("m2", 0, 1, "immobile", "mobile"), ("m2", 3, 4, "immobile", "mobile"),
        ("m3", 13, 14, "immobile", "mobile"),
    ]
    assert (runs["duration_s"] == runs["end_s"] - runs["start_s"]).all()
    assert disagreement_runs(aligned.assign(label_b=aligned["label_a"])).empty
