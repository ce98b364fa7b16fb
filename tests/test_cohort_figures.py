"""Group figures and the group output folder: what is drawn matches the animals' data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from behavscore.cohort_figures import (draw_behaviour_stack, draw_ethogram, draw_group_bars,
                                       draw_time_course, write_group_outputs)
from behavscore.cohort_stats import STATS_COLUMNS
from behavscore.protocols import Protocol
from behavscore.summary import per_minute, summarise_animal

FST3 = Protocol("fst", 360.0, 120.0, 360.0, labels=("immobile", "swimming", "climbing"))
GROUPS = ["treatment", "dose_mg_kg"]
DOSE_IMMOBILE = {0.0: 0.75, 5.0: 0.55, 10.0: 0.4, 20.0: 0.2}  # share of immobile seconds


def label_runs(rng, seconds: int, p_immobile: float) -> np.ndarray:
    """Alternating runs of 3-20 s; each run immobile with p_immobile, else swimming or climbing."""
    out = []
    while len(out) < seconds:
        r = rng.random()
        label = "immobile" if r < p_immobile else ("swimming" if r < p_immobile + (1 - p_immobile) * 0.6 else "climbing")
        out += [label] * int(rng.integers(3, 21))
    return np.array(out[:seconds], dtype=object)


@pytest.fixture(scope="module")
def tables():
    """A 3-class FST cohort of 4 groups x 4 animals plus one animal with no animal found."""
    rng = np.random.default_rng(12)
    summary_rows, seconds_parts = [], []
    for dose, p in DOSE_IMMOBILE.items():
        for i in range(4):
            animal = f"d{dose:g}-{i}"
            video = f"v{dose:g}_{i // 2}.mp4"
            labels = label_runs(rng, 360, p)
            sec = pd.DataFrame({"video": video, "animal": animal, "second": np.arange(360), "label": labels,
                                "motion": 1.0})
            seconds_parts.append(sec)
            summary_rows.append({"video": video, "animal": animal,
                                 "treatment": "vehicle" if dose == 0 else "norclomipramine",
                                 "dose_mg_kg": dose, "sex": "male" if i % 2 else "female",
                                 **summarise_animal(sec, FST3), "model": "test", "status": "ok"})
    summary_rows.append({"video": "v10_9.mp4", "animal": "d10-empty", "treatment": "norclomipramine",
                         "dose_mg_kg": 10.0, "sex": "male", "protocol": "fst", "window_start_s": 120.0,
                         "window_end_s": 360.0, "immobility_s": np.nan, "model": "test", "status": "no_animal"})
    seconds_parts.append(pd.DataFrame({"video": "v10_9.mp4", "animal": "d10-empty", "second": np.arange(360),
                                       "label": None, "motion": np.nan}))
    seconds = pd.concat(seconds_parts, ignore_index=True)
    minutes = pd.concat([per_minute(g, FST3) for _, g in seconds[seconds["label"].notna()].groupby("animal", sort=False)],
                        ignore_index=True)
    return pd.DataFrame(summary_rows), minutes, seconds


def group_of(summary: pd.DataFrame, dose: float) -> pd.DataFrame:
    return summary[(summary["dose_mg_kg"] == dose) & (summary["status"] == "ok")]


def test_bars_are_group_means_and_every_scored_animal_is_a_dot(tables):
    summary, _, _ = tables
    fig = draw_group_bars(summary, GROUPS, "immobility_s")
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches]
    expected = [group_of(summary, d)["immobility_s"].mean() for d in (0.0, 5.0, 10.0, 20.0)]
    assert heights == pytest.approx(expected)
    dots = {c.get_gid(): c.get_offsets() for c in ax.collections if str(c.get_gid()).startswith("dots:")}
    assert len(dots["dots:norclomipramine 10 mg/kg"]) == 4  # the no-animal row is not drawn
    assert sorted(dots["dots:vehicle"][:, 1]) == pytest.approx(sorted(group_of(summary, 0.0)["immobility_s"]))
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks[0].startswith("vehicle") and "n=4 (1 excl.)" in ticks[2]
    assert ax.get_ylabel() == "immobility (s)"


def test_stars_over_bars_are_the_dunnett_result(tables):
    summary, _, _ = tables
    fig = draw_group_bars(summary, GROUPS, "immobility_s")
    marks = {t.get_gid(): t.get_text() for t in fig.axes[0].texts if str(t.get_gid()).startswith("stars:")}
    assert "stars:vehicle" not in marks
    # 75 % vs 20 % immobile: a difference of ~130 s between groups of 4 must be significant
    assert marks["stars:norclomipramine 20 mg/kg"].startswith("**")
    assert set(marks) == {"stars:norclomipramine 5 mg/kg", "stars:norclomipramine 10 mg/kg",
                          "stars:norclomipramine 20 mg/kg"}


def test_time_course_points_are_mean_immobile_seconds_per_minute(tables):
    summary, minutes, seconds = tables
    fig = draw_time_course(summary, minutes, GROUPS)
    ax = fig.axes[0]
    lines = {c.get_label(): c.lines[0] for c in ax.containers}  # one error-bar container per group
    assert set(lines) == {"vehicle (n=4)", "norclomipramine 5 mg/kg (n=4)", "norclomipramine 10 mg/kg (n=4)",
                          "norclomipramine 20 mg/kg (n=4)"}
    veh = seconds[seconds["animal"].isin(group_of(summary, 0.0)["animal"])]
    win = veh[(veh["second"] >= 120) & (veh["second"] < 360)]
    per_animal = win.assign(minute=win["second"] // 60).groupby(["animal", "minute"])["label"].apply(
        lambda s: (s == "immobile").sum())
    truth = per_animal.groupby("minute").mean().to_numpy(float)
    x, y = lines["vehicle (n=4)"].get_data()
    assert np.asarray(x) == pytest.approx([2.5, 3.5, 4.5, 5.5])
    assert np.asarray(y, float) == pytest.approx(truth)


def test_ethogram_draws_each_animals_immobile_seconds(tables):
    summary, _, seconds = tables
    fig = draw_ethogram(summary, seconds, GROUPS)
    ax = fig.axes[0]
    bars = {c.get_gid(): c for c in ax.collections if c.get_gid()}
    animal = "d5-2"
    drawn = sum(float(np.ptp(p.vertices[:, 0])) for p in bars[f"immobile:{animal}"].get_paths())  # widths, s
    truth = int((seconds.loc[seconds["animal"] == animal, "label"] == "immobile").sum())
    assert drawn == pytest.approx(truth)
    assert f"swimming:{animal}" in bars and f"climbing:{animal}" in bars
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert len(ticks) == 16 and "d10-empty" not in ticks
    assert ticks[:4] == list(group_of(summary, 0.0)["animal"])  # reference group first


def test_ethogram_puts_each_animal_on_its_tests_clock(tables):
    # One animal's recording began 30 s before its test: its seconds are 30 s later in the
    # video, and the ethogram draws them where the others' are.
    summary, _, seconds = tables
    animal = "d5-2"
    late = seconds.assign(second=seconds["second"] + np.where(seconds["animal"] == animal, 30, 0))
    starts = summary.assign(test_start_s=np.where(summary["animal"] == animal, 30.0, 0.0))

    def first_bar_s(fig) -> float:
        bars = {c.get_gid(): c for c in fig.axes[0].collections if c.get_gid()}
        return min(float(p.vertices[:, 0].min()) for p in bars[f"immobile:{animal}"].get_paths())

    assert first_bar_s(draw_ethogram(starts, late, GROUPS)) == first_bar_s(draw_ethogram(summary, seconds, GROUPS))
    assert "test's start" in draw_ethogram(starts, late, GROUPS).axes[0].get_xlabel()


def test_stacked_bars_are_mean_seconds_of_each_behaviour(tables):
    summary, _, _ = tables
    ax = draw_behaviour_stack(summary, GROUPS).axes[0]
    assert len(ax.containers) == 3
    for container, col in zip(ax.containers, ("immobility_s", "swimming_s", "climbing_s")):
        expected = [group_of(summary, d)[col].mean() for d in (0.0, 5.0, 10.0, 20.0)]
        assert [b.get_height() for b in container] == pytest.approx(expected)
    tops = [b.get_y() + b.get_height() for b in ax.containers[2]]
    assert tops == pytest.approx([240.0] * 4)  # the three behaviours fill the 240-s window


def test_group_outputs_are_written(tables, tmp_path):
    summary, minutes, seconds = tables
    paths = write_group_outputs(summary, minutes, seconds, tmp_path, GROUPS, dose_col="dose_mg_kg",
                                covariates=["sex"], on_message=lambda m: None)
    names = {p.relative_to(tmp_path).as_posix() for p in paths}
    assert {"stats.csv", "prism_immobility_s.csv", "figures/groups_immobility_s.png",
            "figures/time_course_immobility.png", "figures/ethogram.png",
            "figures/behaviours_fst3.png", "figures/dose_response_immobility_s_norclomipramine.png"} <= names
    for p in paths:
        assert p.is_file()
        if p.suffix == ".png":
            assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    stats = pd.read_csv(tmp_path / "stats.csv", keep_default_na=False)
    assert list(stats.columns) == STATS_COLUMNS
    assert {"describe", "anova", "anova_adjusted", "dunnett", "covariate_levels", "dose_response"} <= set(stats["analysis"])
    prism = pd.read_csv(tmp_path / "prism_immobility_s.csv")
    assert list(prism.columns)[0] == "vehicle"
    assert prism["vehicle"].to_numpy() == pytest.approx(group_of(summary, 0.0)["immobility_s"].to_numpy())
    assert not list(tmp_path.rglob("*.part"))


def test_no_group_columns_writes_nothing_and_says_so(tables, tmp_path):
    summary, minutes, seconds = tables
    said = []
    bare = summary.drop(columns=["treatment", "dose_mg_kg"])
    assert write_group_outputs(bare, minutes, seconds, tmp_path, None, on_message=said.append) == []
    assert said and "no group columns" in said[0]
    assert list(tmp_path.iterdir()) == []
    assert write_group_outputs(bare, minutes, seconds, tmp_path, [], on_message=said.append) == []


def test_group_columns_are_found_when_not_given(tables, tmp_path):
    summary, minutes, seconds = tables
    paths = write_group_outputs(summary, minutes, seconds, tmp_path, None, outcomes=["immobility_s"],
                                on_message=lambda m: None)
    stats = pd.read_csv(tmp_path / "stats.csv", keep_default_na=False)
    assert paths and "norclomipramine 20 mg/kg" in set(stats["group"])
