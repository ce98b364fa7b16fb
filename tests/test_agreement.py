"""Tests for agreement statistics against scikit-learn, SciPy and hand-computed examples."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import accuracy_score, cohen_kappa_score

from behavscore.agreement import (
    AgreementReport,
    agreement_figure,
    align,
    bland_altman,
    cohen_kappa,
    compare,
    confusion_matrix,
    icc_agreement,
    per_class_agreement,
    per_second_agreement,
    pearson,
)


def _table(video, animal, labels, start=0):
    return pd.DataFrame({"video": video, "animal": animal, "second": range(start, start + len(labels)), "label": labels})


# --------------------------------------------------------------------------- kappa


def test_kappa_reproduces_the_textbook_50_pair_example():
    # Two readers, 50 items: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no -> p_o 0.7, p_e 0.5, kappa 0.4
    a = ["yes"] * 20 + ["yes"] * 5 + ["no"] * 10 + ["no"] * 15
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4, abs=1e-12)
    counts = confusion_matrix(a, b, ["yes", "no"])
    assert counts.to_numpy().tolist() == [[20, 5], [10, 15]]
    assert per_second_agreement(a, b, ["yes", "no"]).iloc[0].to_dict() == pytest.approx(
        {"n_s": 50, "accuracy": 0.7, "kappa": 0.4}
    )


@pytest.mark.parametrize("classes", [("immobile", "mobile"), ("immobile", "swimming", "climbing")])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kappa_and_accuracy_match_scikit_learn(classes, seed):
    rng = np.random.default_rng(seed)
    a = rng.choice(classes, 500, p=np.linspace(1, 2, len(classes)) / np.linspace(1, 2, len(classes)).sum())
    b = np.where(rng.random(500) < 0.7, a, rng.choice(classes, 500))
    assert cohen_kappa(a, b, classes) == pytest.approx(cohen_kappa_score(a, b, labels=list(classes)), abs=1e-12)
    row = per_second_agreement(a, b, classes).iloc[0]
    assert row["accuracy"] == pytest.approx(accuracy_score(a, b))
    assert row["kappa"] == pytest.approx(cohen_kappa_score(a, b))


def test_per_class_kappa_is_the_kappa_of_class_versus_rest():
    rng = np.random.default_rng(5)
    classes = ("immobile", "swimming", "climbing")
    a = rng.choice(classes, 400)
    b = np.where(rng.random(400) < 0.6, a, rng.choice(classes, 400))
    table = per_class_agreement(a, b, classes).set_index("label")
    for lab in classes:
        assert table.loc[lab, "kappa"] == pytest.approx(cohen_kappa_score(a == lab, b == lab), abs=1e-12)
        n_a, n_b, both = (a == lab).sum(), (b == lab).sum(), ((a == lab) & (b == lab)).sum()
        assert (table.loc[lab, "n_a_s"], table.loc[lab, "n_b_s"], table.loc[lab, "n_both_s"]) == (n_a, n_b, both)
        assert table.loc[lab, "specific_agreement"] == pytest.approx(2 * both / (n_a + n_b))


def test_kappa_is_undefined_when_both_raters_use_one_class():
    assert math.isnan(cohen_kappa(["immobile"] * 5, ["immobile"] * 5, ["immobile", "mobile"]))


def test_kappa_is_zero_for_chance_level_agreement():
    a = ["x", "x", "y", "y"]
    b = ["x", "y", "x", "y"]
    assert cohen_kappa(a, b) == pytest.approx(0.0)


# --------------------------------------------------------------------------- Pearson r and Bland–Altman


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pearson_matches_scipy_statistic_p_value_and_fisher_interval(seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 240, 12)
    y = x + rng.normal(0, 25, 12)
    got = pearson(x, y).iloc[0]
    ref = stats.pearsonr(x, y)
    ci = ref.confidence_interval(0.95)
    assert got["n"] == 12
    assert got["r"] == pytest.approx(ref.statistic, abs=1e-12)
    assert got["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
    assert (got["ci95_low"], got["ci95_high"]) == pytest.approx((ci.low, ci.high), rel=1e-9)


def test_pearson_is_nan_for_too_few_or_constant_values():
    assert math.isnan(pearson([1, 2], [2, 3]).iloc[0]["r"])
    assert math.isnan(pearson([5, 5, 5, 5], [1, 2, 3, 4]).iloc[0]["r"])


def test_bland_altman_on_a_hand_computed_example():
    auto = [101, 53, 155, 207]
    human = [100, 50, 150, 200]
    # differences 1, 3, 5, 7: bias 4, SD sqrt((9 + 1 + 1 + 9) / 3) = sqrt(20/3) = 2.5820, LoA 4 ± 5.0607
    row = bland_altman(auto, human).iloc[0]
    sd = math.sqrt(20 / 3)
    assert row["n"] == 4
    assert row["bias"] == pytest.approx(4.0)
    assert row["sd_diff"] == pytest.approx(sd)
    assert row["loa_low"] == pytest.approx(4 - 1.96 * sd)
    assert row["loa_high"] == pytest.approx(4 + 1.96 * sd)
    assert row["loa_low"] == pytest.approx(-1.0607, abs=1e-4)


# --------------------------------------------------------------------------- compare


@pytest.fixture
def pair():
    auto = pd.concat([
        _table("videos/fst_01.mp4", "m1", ["mobile"] * 4 + ["immobile"] * 6),
        _table("videos/fst_01.mp4", "m2", ["immobile"] * 10),
        _table("videos/fst_02.mp4", "m3", ["mobile"] * 10),
        _table("videos/fst_02.mp4", "m4", ["immobile"] * 3 + ["mobile"] * 7),
        _table("videos/fst_03.mp4", "m9", ["mobile"] * 10),
    ], ignore_index=True).assign(motion=0.1)
    human = pd.concat([
        _table("fst_01.mp4", "m1", ["mobile"] * 3 + ["immobile"] * 7),
        _table("fst_01.mp4", "m2", ["immobile"] * 8 + ["mobile"] * 2),
        _table("fst_02.mp4", "m3", ["mobile"] * 9 + ["immobile"]),
        _table("fst_02.mp4", "m4", ["immobile"] * 5 + ["mobile"] * 5),
    ], ignore_index=True)
    return auto, human


def test_compare_aligns_on_video_file_name_and_counts_immobility_per_animal(pair):
    auto, human = pair
    rep = compare(auto, human)
    assert isinstance(rep, AgreementReport)
    pa = rep.per_animal.set_index("animal")
    assert pa.loc[["m1", "m2", "m3", "m4"], "immobility_a_s"].tolist() == [6, 10, 0, 3]
    assert pa.loc[["m1", "m2", "m3", "m4"], "immobility_b_s"].tolist() == [7, 8, 1, 5]
    assert pa["difference_s"].tolist() == [-1, 2, -1, -2]
    assert pa.loc["m1", "accuracy"] == pytest.approx(0.9)
    assert pa["n_s"].tolist() == [10] * 4
    assert rep.unmatched[["video", "animal", "only_in"]].values.tolist() == [["fst_03.mp4", "m9", "auto"]]
    ps = rep.per_second.iloc[0]
    assert ps["n_s"] == 40
    assert ps["accuracy"] == pytest.approx(34 / 40)
    assert ps["kappa"] == pytest.approx(cohen_kappa_score(rep.aligned["label_a"], rep.aligned["label_b"]))
    ba = rep.bland_altman.iloc[0]
    assert ba["bias"] == pytest.approx(-0.5)
    assert ba["sd_diff"] == pytest.approx(np.std([-1, 2, -1, -2], ddof=1))
    assert rep.correlation.iloc[0]["r"] == pytest.approx(stats.pearsonr([6, 10, 0, 3], [7, 8, 1, 5]).statistic)


def test_compare_window_keeps_seconds_from_start_up_to_but_excluding_end(pair):
    auto, human = pair
    rep = compare(auto, human, window=(2, 6))
    assert sorted(set(rep.aligned["second"])) == [2, 3, 4, 5]
    assert rep.per_animal.set_index("animal").loc["m1", ["immobility_a_s", "immobility_b_s"]].tolist() == [2, 3]
    summary = rep.summary().iloc[0]
    assert (summary["window_start_s"], summary["window_end_s"], summary["n_s"]) == (2.0, 6.0, 16)


def test_compare_report_prints_the_headline_numbers(pair):
    auto, human = pair
    text = str(compare(auto, human, names=("machine", "rater A")))
    assert "machine vs rater A" in text
    assert "accuracy = 0.850" in text
    assert "bias = -0.50 s" in text
    assert "1 not compared: in one table only" in text


def test_compare_without_common_animals_is_a_clear_error():
    a = _table("fst_01.mp4", "m1", ["immobile"] * 5)
    b = _table("fst_09.mp4", "m1", ["immobile"] * 5)
    with pytest.raises(ValueError, match=r"no common animals between auto and human: auto has m1 \(fst_01.mp4\)"):
        compare(a, b)


def test_compare_with_different_label_sets_is_a_clear_error_unless_collapsed():
    a = _table("v.mp4", "m1", ["immobile", "swimming", "climbing", "immobile"])
    b = _table("v.mp4", "m1", ["immobile", "mobile", "mobile", "mobile"])
    with pytest.raises(ValueError, match="label sets differ.*labels='immobility'"):
        compare(a, b)
    rep = compare(a, b, labels="immobility")
    assert rep.labels == ("immobile", "mobile")
    assert rep.per_second.iloc[0]["accuracy"] == pytest.approx(0.75)


def test_three_class_tables_are_compared_on_three_classes():
    a = _table("v.mp4", "m1", ["immobile", "swimming", "climbing", "swimming"])
    b = _table("v.mp4", "m1", ["immobile", "swimming", "swimming", "swimming"])
    rep = compare(a, b)
    assert rep.labels == ("immobile", "swimming", "climbing")
    assert rep.confusion.loc["climbing", "swimming"] == 1
    assert rep.per_second.iloc[0]["kappa"] == pytest.approx(cohen_kappa_score(a["label"], b["label"]))


def _three_class_pair():
    """Three animals, five seconds each: swimming and climbing seconds per animal differ by a
    known amount between the two tables."""
    auto = {"m1": "SSCCI", "m2": "SSSCI", "m3": "CCCCI"}
    human = {"m1": "SCCCI", "m2": "SSSCI", "m3": "SCCCI"}
    names = {"S": "swimming", "C": "climbing", "I": "immobile"}

    def table(labels):
        return pd.concat([_table("v.mp4", m, [names[c] for c in code]) for m, code in labels.items()], ignore_index=True)

    return table(auto), table(human)


def test_swimming_and_climbing_are_compared_animal_by_animal_in_the_three_class_fst():
    # The modified FST's drug-relevant measures: a lab checks machine against rater on climbing
    # time (noradrenergic drugs) and swimming time (serotonergic ones), not only immobility.
    rep = compare(*_three_class_pair())
    pa = rep.per_animal.set_index("animal")
    assert pa["swimming_a_s"].tolist() == [2, 3, 0] and pa["swimming_b_s"].tolist() == [1, 3, 1]
    assert pa["climbing_a_s"].tolist() == [2, 1, 4] and pa["climbing_b_s"].tolist() == [3, 1, 3]
    per = rep.per_measure.set_index("measure")
    assert list(per.index) == ["latency", "swimming", "climbing", "immobility_counts", "swimming_counts", "climbing_counts"]
    assert per.loc["swimming", "r"] == pytest.approx(stats.pearsonr([2, 3, 0], [1, 3, 1]).statistic)
    assert per.loc["climbing", "r"] == pytest.approx(stats.pearsonr([2, 1, 4], [3, 1, 3]).statistic)
    # differences (a - b): swimming 1, 0, -1; climbing -1, 0, 1: no bias, SD 1, limits +-1.96 s
    for behaviour in ("swimming", "climbing"):
        assert per.loc[behaviour, "bias"] == pytest.approx(0.0)
        assert (per.loc[behaviour, "loa_low"], per.loc[behaviour, "loa_high"]) == pytest.approx((-1.96, 1.96))
    row = rep.summary().iloc[0]
    assert row["pearson_r_climbing"] == pytest.approx(per.loc["climbing", "r"]) and row["loa_high_swimming_s"] == pytest.approx(1.96)
    assert "climbing per animal: Pearson r" in str(rep)


def test_immobile_mobile_tables_have_no_other_behaviour_to_compare(pair):
    rep = compare(*pair)
    assert rep.per_measure["measure"].tolist() == ["latency"]
    assert not {"pearson_r_swimming", "pearson_r_climbing", "pearson_r_immobility_counts"} & set(rep.summary().columns)
    collapsed = compare(*_three_class_pair(), labels="immobility")
    assert collapsed.per_measure["measure"].tolist() == ["latency"] and "swimming_a_s" not in collapsed.per_animal.columns


def test_align_rejects_duplicate_rows_and_window_outside_the_data():
    a = _table("v.mp4", "m1", ["immobile"] * 3)
    with pytest.raises(ValueError, match="several rows"):
        align(pd.concat([a, a]), a)
    with pytest.raises(ValueError, match="no common animals"):
        align(a, a, window=(100, 200))


def test_figure_is_written_as_png_with_scatter_and_bland_altman_panels(pair, tmp_path):
    auto, human = pair
    rep = compare(auto, human)
    path = tmp_path / "agreement.png"
    fig = agreement_figure([rep, compare(human, auto, names=("human", "auto"))], path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(fig.axes) == 2
    scatter = fig.axes[0]
    xs, ys = scatter.collections[0].get_offsets().T
    assert sorted(zip(xs, ys)) == sorted(zip([7, 8, 1, 5], [6, 10, 0, 3]))


# --------------------------------------------------------------------------- latency, time sampling, hand totals


def _coded(codes: dict[str, str], video="fst_01.mp4", start=0):
    names = {"S": "swimming", "C": "climbing", "I": "immobile", "M": "mobile"}
    return pd.concat([_table(video, m, [names[c] for c in code], start) for m, code in codes.items()], ignore_index=True)


def test_latency_to_immobility_is_compared_from_the_window_start_and_animals_never_immobile_left_out():
    a = _coded({"m1": "MMMIIIMMMM", "m2": "MMMMMMIIII", "m3": "MMMMMMMMMM", "m4": "MMIIMMMMMM"})
    b = _coded({"m1": "MMMMIIMMMM", "m2": "MMMMMMMIII", "m3": "MMMMMMMMIM", "m4": "MMMIMMMMMM"})
    rep = compare(a, b, window=(2, 10))
    pa = rep.per_animal.set_index("animal")
    # first immobile second minus the window's start; m3 never immobile in a: no latency
    assert pa["latency_a_s"].tolist()[:2] == [1, 4] and math.isnan(pa.loc["m3", "latency_a_s"])
    assert pa["latency_b_s"].tolist() == [2, 5, 6, 1]
    row = rep.per_measure.set_index("measure").loc["latency"]
    assert row["n"] == 3  # m1, m2, m4
    assert row["bias"] == pytest.approx(np.mean([1 - 2, 4 - 5, 0 - 1]))
    assert row["r"] == pytest.approx(stats.pearsonr([1, 4, 0], [2, 5, 1]).statistic)
    assert rep.summary().iloc[0]["n_latency"] == 3


def test_time_sampling_counts_are_compared_per_5s_period_from_the_window_start():
    # 15 s from second 100: three 5-s periods; the predominant behaviour of each is counted
    a = _coded({"m1": "IIIIS" "SSSCC" "CCCCI", "m2": "SSSSS" "IIIIC" "CCSSS", "m3": "CCCCC" "CCCCC" "IIIIS"}, start=100)
    b = _coded({"m1": "IIISS" "SSSCC" "CCCCI", "m2": "SSSSS" "IIICC" "CCSSS", "m3": "CCCCC" "CCCCC" "IIISS"}, start=100)
    rep = compare(a, b, window=(100, 115))
    pa = rep.per_animal.set_index("animal")
    assert pa["immobility_counts_a"].tolist() == [1, 1, 1] and pa["immobility_counts_b"].tolist() == [1, 1, 1]
    assert pa["swimming_counts_a"].tolist() == [1, 2, 0] and pa["climbing_counts_a"].tolist() == [1, 0, 2]
    # m2's second period: I I I C C in b, immobile still predominates; m3's last: I I I S S
    assert pa["swimming_counts_b"].tolist() == [1, 2, 0] and pa["climbing_counts_b"].tolist() == [1, 0, 2]
    per = rep.per_measure.set_index("measure")
    assert per.loc["climbing_counts", "bias"] == 0 and per.loc["climbing_counts", "unit"] == "count"
    assert "bias_climbing_counts" in rep.summary().columns  # counts carry no "_s"


def _hand_totals(per_second: pd.DataFrame, window) -> pd.DataFrame:
    """Stopwatch-style totals of a per-second table, counted here without the package's code."""
    inside = per_second[(per_second["second"] >= window[0]) & (per_second["second"] < window[1])]
    rows = []
    for (video, animal), g in inside.groupby(["video", "animal"]):
        immobile = g.loc[g["label"] == "immobile", "second"]
        rows.append({"video": video, "animal": animal, "immobility_s": float(len(immobile)),
                     "latency_s": float(immobile.min() - window[0]) if len(immobile) else math.nan})
    return pd.DataFrame(rows)


def test_per_animal_totals_give_the_per_animal_statistics_of_the_per_second_comparison():
    rng = np.random.default_rng(3)
    labels = rng.choice(["immobile", "mobile"], (6, 40), p=[0.6, 0.4])
    a = pd.concat([_table("tst_01.mp4", f"m{i}", list(row)) for i, row in enumerate(labels)], ignore_index=True)
    b = a.assign(label=np.where(rng.random(len(a)) < 0.15, "mobile", a["label"]))
    window = (5, 35)
    full = compare(a, b, window=window)
    totals = compare(a, _hand_totals(b, window), window=window)
    assert not totals.per_second_compared and totals.summary().iloc[0]["n_s"] == 0
    for col in ("n_animals", "pearson_r", "bias_s", "loa_low_s", "loa_high_s", "pearson_r_latency", "bias_latency_s"):
        assert totals.summary().iloc[0][col] == pytest.approx(full.summary().iloc[0][col]), col
    pd.testing.assert_frame_equal(
        totals.per_animal[["animal", "immobility_a_s", "immobility_b_s", "difference_s"]],
        full.per_animal[["animal", "immobility_a_s", "immobility_b_s", "difference_s"]], check_dtype=False)
    assert "per second: not compared (per-animal totals)" in str(totals)
    # both tables as totals: the same again
    both = compare(_hand_totals(a, window), _hand_totals(b, window), window=window)
    assert both.summary().iloc[0]["bias_s"] == pytest.approx(full.summary().iloc[0]["bias_s"])


def test_per_animal_totals_need_the_window_they_cover_and_a_shared_measure():
    a = _table("v.mp4", "m1", ["immobile"] * 10)
    totals = pd.DataFrame({"video": ["v.mp4"], "animal": ["m1"], "immobility_s": [8.0]})
    with pytest.raises(ValueError, match="give the window"):
        compare(a, totals)
    own = totals.copy()
    own.attrs["window_s"] = (2.0, 10.0)
    assert compare(a, own).per_animal["immobility_a_s"].tolist() == [8]  # the totals' own window
    with pytest.raises(ValueError, match="not over the window asked for"):
        compare(a, own, window=(0, 10))
    with pytest.raises(ValueError, match="no measure in common"):
        compare(totals, pd.DataFrame({"video": ["v.mp4"], "animal": ["m1"], "climbing_counts": [3.0]}))
    with pytest.raises(ValueError, match="no common animals"):
        compare(totals, totals.assign(animal="m2"))


def test_a_time_sampling_tally_is_drawn_by_its_immobility_counts(tmp_path):
    tally = pd.DataFrame({"video": "fst.mp4", "animal": ["m1", "m2", "m3"], "immobility_counts": [30, 40, 12],
                          "swimming_counts": [20, 8, 30], "climbing_counts": [10, 12, 18]})
    rep = compare(tally, tally.assign(immobility_counts=[28, 41, 15]), names=("rater A", "rater B"))
    assert rep.labels == ("immobile", "swimming", "climbing") and int(rep.correlation.iloc[0]["n"]) == 0
    assert rep.per_measure.set_index("measure").loc["immobility_counts", "bias"] == pytest.approx((2 - 1 - 3) / 3)
    fig = agreement_figure(rep, tmp_path / "tally.png")
    assert fig.axes[0].get_xlabel() == "immobility counts, rater B (count)"
    assert (tmp_path / "tally.png").stat().st_size > 0


def test_an_animal_labelled_over_part_of_the_window_is_not_compared_with_a_total_over_all_of_it():
    # m3's video ended early: 6 of the 10 s; set beside a stopwatch time over 10 s, its total would be short.
    a = pd.concat([_table("v.mp4", "m1", ["immobile"] * 10), _table("v.mp4", "m2", ["mobile"] * 5 + ["immobile"] * 5),
                   _table("v.mp4", "m3", ["immobile"] * 6), _table("v.mp4", "m4", ["mobile"] * 8 + ["immobile"] * 2)], ignore_index=True)
    totals = pd.DataFrame({"video": "v.mp4", "animal": ["m1", "m2", "m3", "m4"], "immobility_s": [9.0, 5.0, 9.0, 3.0]})
    rep = compare(a, totals, window=(0, 10))
    assert rep.per_animal["animal"].tolist() == ["m1", "m2", "m4"]
    assert rep.unmatched[["animal", "reason"]].values.tolist() == [["m3", "auto labels 6 of the window's 10 s"]]
    assert "1 not compared" in str(rep)
    with pytest.raises(ValueError, match="no common animals between auto and human that cover the whole window"):
        compare(a[a["animal"] == "m3"], totals, window=(0, 10))


def test_icc_reproduces_shrout_and_fleiss_and_its_interval_that_of_r_psych():
    # Shrout & Fleiss (1979), 6 targets x 4 judges: ICC(2,1) = 0.29. R psych::ICC on the same
    # table: ICC2 0.29, 95% CI 0.019 to 0.76.
    ratings = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]])
    row = icc_agreement(ratings).iloc[0]
    assert row["n"] == 6 and round(row["icc"], 2) == 0.29
    assert (round(row["ci95_low"], 3), round(row["ci95_high"], 2)) == (0.019, 0.76)


def test_icc_falls_with_a_systematic_offset_that_leaves_pearson_r_at_one():
    rng = np.random.default_rng(8)
    human = rng.uniform(20, 200, 12)
    same = icc_agreement(np.c_[human, human + rng.normal(0, 3, 12)]).iloc[0]["icc"]
    offset = icc_agreement(np.c_[human, human + 40]).iloc[0]["icc"]
    assert same > 0.99 and offset < 0.9
    assert pearson(human, human + 40).iloc[0]["r"] == pytest.approx(1.0)
    assert icc_agreement(np.c_[human, human]).iloc[0][["icc", "ci95_low", "ci95_high"]].tolist() == [1.0, 1.0, 1.0]
    assert np.isnan(icc_agreement(np.ones((5, 2))).iloc[0]["icc"]) and np.isnan(icc_agreement(np.ones((2, 2))).iloc[0]["icc"])


def test_icc_of_animals_that_do_not_differ_scored_with_an_offset_is_zero_without_an_interval():
    # Every animal's latency 0 s by one rater and 1 s by the other: no between-animal variance.
    out = icc_agreement(np.array([[0.0, 1.0]] * 3)).iloc[0]
    assert out["icc"] == 0.0 and np.isnan(out["ci95_low"]) and np.isnan(out["ci95_high"])


def test_the_report_gives_the_icc_of_immobility_and_of_every_other_measure():
    a = _coded({"m1": "IIIIISSSCC", "m2": "IISSSSSCCC", "m3": "IIIIIIIISC", "m4": "SSSSSCCCCC"})
    b = _coded({"m1": "IIIISSSSCC", "m2": "IIISSSSCCC", "m3": "IIIIIIISSC", "m4": "SSSSSSCCCC"})
    rep = compare(a, b)
    row = rep.summary().iloc[0]
    # immobility 5, 2, 8, 0 s against 4, 3, 7, 0 s
    assert row["icc"] == pytest.approx(icc_agreement(np.array([[5, 4], [2, 3], [8, 7], [0, 0]])).iloc[0]["icc"])
    assert row["icc_swimming"] == pytest.approx(icc_agreement(np.array([[3, 4], [5, 4], [1, 2], [5, 6]])).iloc[0]["icc"])
    assert "ICC(A,1)" in str(rep)


def test_a_sheet_without_videos_is_matched_by_animal_id_where_ids_are_unique():
    a = pd.concat([_table("v1.mp4", "m1", ["immobile"] * 6 + ["mobile"] * 4), _table("v2.mp4", "m2", ["immobile"] * 3 + ["mobile"] * 7),
                   _table("v2.mp4", "m3", ["mobile"] * 10)], ignore_index=True)
    sheet = pd.DataFrame({"video": "", "animal": ["m1", "m2", "m3"], "immobility_s": [5.0, 3.0, 1.0]})
    rep = compare(a, sheet, window=(0, 10))
    assert rep.per_animal[["video", "animal", "immobility_a_s", "immobility_b_s"]].values.tolist() == [
        ["v1.mp4", "m1", 6, 5.0], ["v2.mp4", "m2", 3, 3.0], ["v2.mp4", "m3", 0, 1.0]]
    twice = pd.concat([a, _table("v3.mp4", "m1", ["mobile"] * 10)], ignore_index=True)
    with pytest.raises(ValueError, match=r"human names no video.*animal 'm1' in several videos \(v1.mp4, v3.mp4\)"):
        compare(twice, sheet, window=(0, 10))


def test_an_animal_without_any_value_in_a_summary_is_listed_not_compared():
    summary = pd.DataFrame({"video": "v.mp4", "animal": ["m1", "m2", "m3", "m4"], "immobility_s": [100.0, np.nan, 80.0, 60.0]})
    sheet = summary.assign(immobility_s=[98.0, 120.0, 83.0, 61.0])
    rep = compare(summary, sheet, window=(120, 360))
    assert rep.per_animal["animal"].tolist() == ["m1", "m3", "m4"] and int(rep.correlation.iloc[0]["n"]) == 3
    assert rep.unmatched[["animal", "reason"]].values.tolist() == [["m2", "auto has no value for it"]]
