"""Per-animal summary arithmetic on hand-made label sequences with known answers."""

from __future__ import annotations

import statistics
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from behavscore.bouts import drop_short_runs, immobile_bouts, runs
from behavscore.protocols import Protocol, get_protocol, parse_window
from behavscore.summary import BOUT_COLUMNS, bout_table, per_minute, summarise_animal
from behavscore.threshold import ThresholdScorer, default_threshold_scorer, fit_threshold, fit_threshold_to_totals, held_out_agreement


def labelled(labels: str, start: int = 0) -> pd.DataFrame:
    """'I' = immobile, 'M' = mobile, 'S' = swimming, 'C' = climbing, one char per second."""
    names = {"I": "immobile", "M": "mobile", "S": "swimming", "C": "climbing"}
    return pd.DataFrame(
        {"video": "v.mp4", "animal": "a", "second": np.arange(start, start + len(labels)), "label": [names[c] for c in labels]}
    )


def test_runs_are_half_open():
    assert runs(np.array([0, 1, 1, 0, 1], bool)) == [(1, 3), (4, 5)]
    assert runs(np.array([], bool)) == []


def test_short_immobile_runs_become_mobile():
    mask = np.array([1, 0, 1, 1, 0, 1, 1, 1], bool)
    assert drop_short_runs(mask, 2).tolist() == [0, 0, 1, 1, 0, 1, 1, 1]
    assert drop_short_runs(mask, 1).tolist() == mask.tolist()


def test_summary_counts_only_the_window():
    proto = Protocol("x", 10, window_start_s=2, window_end_s=8)
    row = summarise_animal(labelled("IIMMIIIMMI"), proto)  # window seconds 2..7: MMIIIM
    assert row["immobility_s"] == 3
    assert row["immobility_pct"] == pytest.approx(50.0)
    assert row["bouts"] == 1
    assert row["latency_s"] == 2  # bout starts at 4 s, window at 2 s
    assert row["mean_bout_s"] == 3 and row["longest_bout_s"] == 3


def test_bout_table_lists_the_bouts_the_summary_counts_with_their_times():
    proto = Protocol("x", 12, window_start_s=2, window_end_s=11)
    two = pd.concat([labelled("IIMIIIMMIMMI"), labelled("MMMMMMMMMMMM").assign(animal="b")])
    # Window seconds 2-10 of the first animal: M III MM I M; of the second: all mobile.
    bouts = bout_table(two, proto, min_bout_s=1)
    assert list(bouts.columns) == BOUT_COLUMNS
    assert bouts[["animal", "bout", "start_s", "end_s", "duration_s"]].values.tolist() == [["a", 1, 3, 6, 3], ["a", 2, 8, 9, 1]]
    # The minimum bout drops the 1-s bout; the summary counts the same.
    assert bout_table(two, proto, min_bout_s=2)["start_s"].tolist() == [3]
    row = summarise_animal(labelled("IIMIIIMMIMMI"), proto, min_bout_s=1)
    assert (row["bouts"], row["latency_s"], row["mean_bout_s"]) == (2, 1, 2)
    assert bout_table(two.iloc[:0], proto).columns.tolist() == BOUT_COLUMNS


def test_latency_uses_minimum_bout_and_is_nan_without_one():
    proto = Protocol("x", 10, 0, 10)
    row = summarise_animal(labelled("MIMMIIIMMM"), proto, min_bout_s=2)
    assert row["latency_s"] == 4 and row["bouts"] == 1
    assert np.isnan(summarise_animal(labelled("MMMMMMMMMM"), proto)["latency_s"])


def test_three_class_summary_reports_swimming_and_climbing():
    proto = Protocol("fst", 10, 0, 10, labels=("immobile", "swimming", "climbing"))
    row = summarise_animal(labelled("IISSSCCIII"), proto)
    assert (row["immobility_s"], row["swimming_s"], row["climbing_s"]) == (5, 3, 2)


def test_time_sampling_counts_the_predominant_behaviour_of_each_whole_5_s_period():
    proto = replace(Protocol("mfst", 30, window_start_s=2, window_end_s=30), labels=("immobile", "swimming", "climbing"))
    # Window 2-30 s: periods 2-7, 7-12, 12-17, 17-22, 22-27 and a part-period 27-30 left out.
    #         window: 2    7    12   17   22   27
    row = summarise_animal(labelled("SS" + "IIISC" + "SSCCI" + "CCSSI" + "SSSSS" + "CCCCC" + "III"), proto)
    # IIISC: immobile; SSCCI: tie, climbing seen last; CCSSI: tie, swimming seen last; SSSSS: swimming.
    assert (row["immobility_counts"], row["swimming_counts"], row["climbing_counts"]) == (1, 2, 2)
    # The read-out of the 3-class modified FST; a 2-class summary reports seconds only.
    assert "immobility_counts" not in summarise_animal(labelled("IIMMM"), Protocol("x", 5, window_start_s=0, window_end_s=5))


def test_a_period_with_an_unlabelled_second_is_not_counted():
    proto = Protocol("x", 10, window_start_s=0, window_end_s=10, labels=("immobile", "swimming", "climbing"))
    seconds = labelled("IIIII" + "IIIII")
    seconds.loc[7, "label"] = None
    assert summarise_animal(seconds, proto)["immobility_counts"] == 1


def test_per_minute_bins_add_up_to_the_window_total():
    proto = get_protocol("fst")
    rng = np.random.default_rng(1)
    labels = "".join(rng.choice(["I", "M"], 360))
    seconds = labelled(labels)
    minutes = per_minute(seconds, proto)
    assert minutes["bin_start_s"].tolist() == [120, 180, 240, 300]
    assert minutes["seconds_scored"].tolist() == [60] * 4
    assert minutes["immobility_s"].sum() == summarise_animal(seconds, proto)["immobility_s"]


def test_per_minute_counts_each_label_per_animal_and_bin_and_stays_numeric_when_empty():
    proto = Protocol("fst", 150, 0, 150, labels=("immobile", "swimming", "climbing"))
    two = pd.concat([labelled("I" * 70 + "S" * 50 + "C" * 30), labelled("C" * 100 + "I" * 50).assign(animal="b")], ignore_index=True)
    minutes = per_minute(two, proto)
    assert minutes[["animal", "bin_start_s", "bin_end_s"]].values.tolist() == [
        ["a", 0, 60], ["a", 60, 120], ["a", 120, 150], ["b", 0, 60], ["b", 60, 120], ["b", 120, 150]]
    assert minutes["immobility_s"].tolist() == [60, 10, 0, 0, 20, 30]
    assert minutes["swimming_s"].tolist() == [0, 50, 0, 0, 0, 0]
    assert minutes["climbing_s"].tolist() == [0, 0, 30, 60, 40, 0]
    # No animal present (an empty arena): no bins, but count columns a spreadsheet reads as numbers.
    empty = per_minute(two.iloc[:0], proto)
    assert empty.empty and all(empty[c].dtype.kind == "f" for c in ("immobility_s", "swimming_s", "climbing_s"))


def test_threshold_scorer_labels_and_probabilities():
    table = pd.DataFrame({"animal": "a", "second": range(6), "motion": [0.1, 5, 0.2, 0.3, 9, 0.1]})
    out = ThresholdScorer(threshold_pct=1.0, min_bout_s=2).predict(table)
    assert out["label"].tolist() == ["mobile", "mobile", "immobile", "immobile", "mobile", "mobile"]
    assert (out["p_immobile"] + out["p_mobile"] == 1).all()


def test_p10_statistic_reads_the_low_percentile_column():
    # A swing-like second: the median says moving, the calm frames at its turns say not.
    table = pd.DataFrame({"animal": "a", "second": range(3), "motion": [30.0, 30.0, 30.0], "motion_p10": [30.0, 2.0, 30.0]})
    median = ThresholdScorer(threshold_pct=10, relative_threshold=None, min_bout_s=0).predict(table)
    low = ThresholdScorer(threshold_pct=10, relative_threshold=None, min_bout_s=0, statistic="p10").predict(table)
    assert median["label"].tolist() == ["mobile"] * 3
    assert low["label"].tolist() == ["mobile", "immobile", "mobile"]
    with pytest.raises(ValueError, match="statistic must be one of median, p10, calm"):
        ThresholdScorer(statistic="mean")


def test_calm_statistic_calls_a_swing_immobile_and_a_mostly_struggling_second_mobile():
    # Hand-made frames at 25 frames/s (1000-px animal; 400 px = 40 % changing, 0 = still), one
    # second at a time: struggle, struggle, a passive swing that turns (is still for a frame)
    # every 6 frames, a struggle that stops for the last 5 of its 25 frames, hanging still,
    # struggle. A human calls the swing immobile and the fourth second mobile (it is mostly
    # struggle); the median misses the swing, the 10th percentile miscalls the fourth second.
    from test_features_waveform import make_signals

    from behavscore.per_second import per_second

    j = np.arange(25)
    seconds = [np.full(25, 400.0), np.full(25, 400.0), np.where(j % 6 == 3, 0.0, 400.0), np.where(j >= 20, 0.0, 400.0),
               np.zeros(25), np.full(25, 400.0)]
    changed = np.r_[np.nan, np.concatenate(seconds)]  # frame i - 0.5 belongs to second (i - 0.5) // 25
    table = per_second(make_signals({"a": changed}))
    table = table[table["second"] < 6]
    def called_by(statistic: str) -> list[str]:
        scorer = ThresholdScorer(threshold_pct=10, relative_threshold=None, min_bout_s=0, statistic=statistic)
        return scorer.predict(table)["label"].tolist()

    called = {statistic: called_by(statistic) for statistic in ("median", "p10", "calm")}
    M, I = "mobile", "immobile"  # noqa: E741
    assert called["calm"] == [M, M, I, M, I, M]
    assert called["p10"] == [M, M, I, I, I, M]
    assert called["median"] == [M, M, M, M, I, M]


def test_tst_threshold_defaults_use_the_calm_index_and_custom_protocols_the_median():
    assert default_threshold_scorer("tst").statistic == "calm"
    assert default_threshold_scorer("fst") == ThresholdScorer()
    assert default_threshold_scorer("open-field") == ThresholdScorer()


def test_small_bodies_are_judged_with_the_small_body_share_of_their_active_motion():
    # The same motion from a body of 300, 800 and 3000 px: active seconds at 40 % (median), and
    # seconds at 24.5 %, above 0.60 x 40 = 24 % (the small body's threshold) and below the others'.
    motion = [40.0] * 30 + [24.5] * 10
    table = pd.concat(
        [pd.DataFrame({"animal": name, "second": range(40), "motion_calm": motion, "body_area_px": area})
         for name, area in (("small", 300.0), ("middle", 800.0), ("large", 3000.0))],
        ignore_index=True,
    )
    scorer = ThresholdScorer(threshold_pct=10, relative_threshold=0.65, small_body_relative_threshold=0.60, statistic="calm", min_bout_s=0)
    thresholds = scorer.animal_thresholds(table)
    assert thresholds["small"] == pytest.approx(0.60 * 40) and thresholds["large"] == pytest.approx(0.65 * 40)
    assert thresholds["small"] < thresholds["middle"] < thresholds["large"]
    called = scorer.predict(table).groupby(table["animal"])["label"].apply(lambda x: (x == "immobile").sum())
    assert called.to_dict() == {"large": 10, "middle": 10, "small": 0}
    # Without the body's area, or without a small-body share, one share for every animal.
    assert (scorer.animal_thresholds(table.drop(columns="body_area_px")) == 0.65 * 40).all()
    assert (replace(scorer, small_body_relative_threshold=None).animal_thresholds(table) == 0.65 * 40).all()


def test_a_relative_threshold_given_on_the_command_line_applies_to_every_body_size():
    from behavscore.cli import _scorer

    assert default_threshold_scorer("tst").small_body_relative_threshold == 0.60
    given = _scorer("threshold", "tst", None, 0.7, None)
    assert given.relative_threshold == 0.7 and given.small_body_relative_threshold is None


def test_fit_threshold_recovers_the_rule_that_made_the_labels():
    rng = np.random.default_rng(3)
    motion = np.exp(rng.normal(0, 1.5, 400))
    true_threshold = 1.7
    immobile = motion < true_threshold
    fitted, agreement = fit_threshold(motion, immobile, min_bout_s=1)
    assert agreement == 1.0
    below = motion[motion < true_threshold].max()
    above = motion[motion >= true_threshold].min()
    assert below < fitted <= above


def _long_runs_below(motion: np.ndarray, threshold: float, min_len: int) -> int:
    """Seconds in runs of at least ``min_len`` consecutive seconds below the threshold, counted by hand."""
    total = run = 0
    for below in list(motion < threshold) + [False]:
        if below:
            run += 1
        else:
            total += run if run >= min_len else 0
            run = 0
    return total


@pytest.mark.parametrize("min_bout_s", [1, 3])
def test_fit_threshold_to_totals_recovers_the_rule_that_made_the_stopwatch_times(min_bout_s):
    rng = np.random.default_rng(11)
    # six animals of different activity, each timed over its own 120-240 s
    motion = [np.exp(rng.normal(mu, 1.0, n)) for mu, n in zip((0.0, 0.5, 1.0, 1.5, 2.0, 0.8), (240, 120, 180, 240, 200, 150))]
    true_threshold = 3.0
    hand = np.array([_long_runs_below(m, true_threshold, min_bout_s) for m in motion], dtype=float)
    fitted, rms_s, bias_s, held_out_s = fit_threshold_to_totals(motion, hand, min_bout_s)
    assert rms_s == 0 and bias_s == 0 and held_out_s >= 0
    assert [_long_runs_below(m, fitted, min_bout_s) for m in motion] == hand.tolist()
    assert fitted == pytest.approx(true_threshold, rel=0.05)


def test_the_held_out_error_of_a_fit_to_totals_is_that_of_each_animal_fitted_without_it():
    rng = np.random.default_rng(12)
    motion = [np.exp(rng.normal(mu, 1.2, 120)) for mu in (0.3, 0.9, 1.4, 2.0)]
    # each rater's total is off by a few seconds: no threshold reproduces them all
    hand = np.array([_long_runs_below(m, 3.0, 1) for m in motion], dtype=float) + [4, -3, 5, -2]
    fit = fit_threshold_to_totals(motion, hand)
    errors = []
    for j in range(4):
        others = [i for i in range(4) if i != j]
        alone = fit_threshold_to_totals([motion[i] for i in others], hand[others])
        errors.append(_long_runs_below(motion[j], alone.threshold_pct, 1) - hand[j])
    assert fit.held_out_rms_error_s == pytest.approx(np.sqrt(np.mean(np.square(errors))))
    assert fit.held_out_rms_error_s >= fit.rms_error_s > 0


def test_fit_threshold_to_totals_needs_three_animals():
    with pytest.raises(ValueError, match="at least 3 animals"):
        fit_threshold_to_totals([np.arange(10.0), np.arange(10.0)], np.array([3.0, 4.0]))


def test_fit_threshold_keeps_each_animals_bouts_to_itself():
    # a rater with a 2-s criterion: a lone still second at the end of one animal and at the
    # start of the next are not bouts, though they touch when the tables are stacked
    motion = np.r_[[1, 1, 1] + [50] * 5 + [1], [1] + [50] * 5 + [1, 1, 1]].astype(float)
    immobile = np.r_[[True] * 3 + [False] * 6, [False] * 6 + [True] * 3]
    animal = np.repeat(["a", "b"], 9)
    assert fit_threshold(motion, immobile, min_bout_s=2, animal=animal)[1] == 1.0
    assert fit_threshold(motion, immobile, min_bout_s=2)[1] == pytest.approx(16 / 18)


def test_held_out_agreement_scores_each_animal_with_the_threshold_of_the_others():
    rng = np.random.default_rng(21)
    motion = np.exp(rng.normal(1.0, 1.3, 240))
    animal = np.repeat(["m1", "m2", "m3", "m4"], 60)
    cut = np.array([2.0, 3.5, 2.5, 5.0])[np.repeat(np.arange(4), 60)]  # each animal's rater draws the line elsewhere
    immobile = motion < cut
    agree = 0
    for a in ("m1", "m2", "m3", "m4"):
        t, _ = fit_threshold(motion[animal != a], immobile[animal != a], 1, animal[animal != a])
        agree += int(np.sum((motion[animal == a] < t) == immobile[animal == a]))
    held_out = held_out_agreement(motion, immobile, animal)
    assert held_out == pytest.approx(agree / 240)
    assert held_out < fit_threshold(motion, immobile, 1, animal)[1]


def test_fit_threshold_needs_both_classes():
    with pytest.raises(ValueError, match="both immobile and mobile"):
        fit_threshold(np.ones(20), np.ones(20, bool))


@pytest.mark.parametrize("text, expected", [("120:360", (120.0, 360.0)), ("0:60", (0.0, 60.0)), ("", None)])
def test_window_parsing(text, expected):
    assert parse_window(text) == expected


@pytest.mark.parametrize("text", ["360:120", "a:b", "120"])
def test_bad_window_is_explained(text):
    with pytest.raises(ValueError, match="window"):
        parse_window(text)


def test_protocol_defaults_follow_the_literature():
    assert (get_protocol("fst").window_start_s, get_protocol("fst").window_end_s) == (120, 360)
    assert (get_protocol("tst").window_start_s, get_protocol("tst").window_end_s) == (0, 360)
    assert get_protocol("FST", window=(0, 240)).window_end_s == 240
    with pytest.raises(ValueError, match="unknown protocol"):
        get_protocol("open-field")


def test_immobile_bouts_have_exact_times():
    b = immobile_bouts(np.array(["mobile", "immobile", "immobile", "mobile"]), np.arange(10, 14))
    assert b.to_dict("records") == [{"start_s": 11.0, "end_s": 13.0, "duration_s": 2.0}]


def test_calm_window_is_about_0_08_s_either_side_in_whole_frames():
    from behavscore.per_second import calm_half_window_frames

    assert [calm_half_window_frames(fps) for fps in (15, 24, 25, 29.97, 30, 60)] == [1, 2, 2, 2, 2, 5]


@settings(max_examples=60, deadline=None)
@given(
    labels=st.lists(st.sampled_from("ISC"), min_size=1, max_size=200),
    start=st.integers(0, 150),
    length=st.integers(1, 200),
    shuffle_seed=st.integers(0, 2**16),
)
def test_per_minute_bins_and_the_summary_count_the_same_window_in_any_row_order(labels, start, length, shuffle_seed):
    proto = Protocol("fst", 400, start, start + length, labels=("immobile", "swimming", "climbing"))
    ordered = labelled("".join(labels))
    shuffled = ordered.sample(frac=1.0, random_state=shuffle_seed)
    row = summarise_animal(shuffled, proto)
    assert row == summarise_animal(ordered, proto)
    minutes = per_minute(shuffled, proto)
    inside = [c for s, c in enumerate(labels) if start <= s < start + length]
    assert minutes["seconds_scored"].sum() == len(inside)
    for column, code in (("immobility_s", "I"), ("swimming_s", "S"), ("climbing_s", "C")):
        assert minutes[column].sum() == row[column] == inside.count(code)
    assert ((minutes["bin_start_s"] - start) % 60 == 0).all()
    assert (minutes["bin_end_s"] <= start + length).all()


@settings(max_examples=60, deadline=None)
@given(
    animals=st.lists(
        st.tuples(
            st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=40),
            st.one_of(st.just(float("nan")), st.floats(50, 5000)),
        ),
        min_size=1, max_size=4,
    ),
    shuffle_seed=st.integers(0, 2**16),
)
def test_each_animals_threshold_follows_the_documented_rule_in_any_row_order(animals, shuffle_seed):
    table = pd.concat(
        [pd.DataFrame({"animal": f"m{i}", "second": range(len(motion)), "motion": motion, "body_area_px": area})
         for i, (motion, area) in enumerate(animals)],
        ignore_index=True,
    ).sample(frac=1.0, random_state=shuffle_seed)
    scorer = ThresholdScorer(threshold_pct=15, relative_threshold=0.75, small_body_relative_threshold=0.5)
    thresholds = scorer.animal_thresholds(table)
    for i, (motion, area) in enumerate(animals):
        active = [m for m in motion if m > 15]
        expected = 15.0
        if len(active) >= 10:  # MIN_ACTIVE_S active seconds: the animal's own scale
            expected = max(15.0, scorer.relative_share(area) * statistics.median(active))
        assert thresholds[f"m{i}"] == pytest.approx(expected, rel=1e-12)
