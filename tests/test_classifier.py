"""The trained per-second classifier: features, contract columns, minimum bout, accuracy on fresh videos."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from behavscore.classifier import ClassifierScorer, smooth_short_immobile
from behavscore.features import FEATURE_DOCS, FEATURE_NAMES, second_features
from test_model_io import toy_table


def test_features_are_finite_documented_and_on_the_same_index():
    table, _ = toy_table()
    table = table.sample(frac=1.0, random_state=0)  # order must not matter
    table.loc[table.index[:20], "shape_motion"] = np.nan
    f = second_features(table)
    assert list(f.columns) == list(FEATURE_NAMES) and set(FEATURE_NAMES) == set(FEATURE_DOCS)
    assert f.index.equals(table.index)
    assert np.isfinite(f.to_numpy()).all()
    pd.testing.assert_frame_equal(f, second_features(table))


def test_features_of_one_animal_ignore_the_others():
    table, _ = toy_table()
    other = table.copy()
    b = (other["animal"] == "B").to_numpy()
    other.loc[b, "motion"] *= 7.0
    a = ~b
    pd.testing.assert_frame_equal(second_features(table)[a], second_features(other)[a])


def test_features_do_not_change_when_motion_is_scaled_by_lighting():
    table, _ = toy_table()
    brighter = table.assign(motion=table["motion"] * 1.5, shape_motion=table["shape_motion"] * 1.5, silhouette_motion=table["silhouette_motion"] * 1.5)
    cols = ["motion_rank", "motion_rel_p90", "motion_rel_mean_pm2s", "shape_share"]
    np.testing.assert_allclose(second_features(table)[cols].to_numpy(), second_features(brighter)[cols].to_numpy(), rtol=1e-4)


def test_missing_motion_column_is_a_clear_error():
    with pytest.raises(ValueError, match="lacks column"):
        second_features(pd.DataFrame({"animal": ["A"], "second": [0]}))


def test_classifier_predicts_the_scorer_contract_columns():
    table, y = toy_table()
    scorer = ClassifierScorer(name="toy-v1", max_iter=20).fit(table, y)
    test, y_test = toy_table(seed=3)
    test.index = test.index + 1000
    out = scorer.predict(test)
    assert list(out.columns) == ["label", "p_immobile", "p_mobile"]
    assert out.index.equals(test.index)
    np.testing.assert_allclose(out[["p_immobile", "p_mobile"]].sum(axis=1), 1.0)
    assert (out["label"].to_numpy() == y_test).mean() > 0.95


def test_three_class_classifier_names_its_classes():
    table, y = toy_table()
    y = np.where(y == "mobile", np.where(table["second"].to_numpy() % 20 < 15, "swimming", "climbing"), y)
    scorer = ClassifierScorer(("immobile", "swimming", "climbing"), max_iter=10).fit(table, y)
    out = scorer.predict(table)
    assert list(out.columns) == ["label", "p_immobile", "p_swimming", "p_climbing"]
    assert set(out["label"]) <= {"immobile", "swimming", "climbing"}


def test_nothing_is_learned_before_fit():
    scorer = ClassifierScorer(max_iter=10)
    assert not hasattr(scorer, "pipeline_")
    with pytest.raises(RuntimeError, match="not fitted"):
        scorer.predict(toy_table()[0])


def test_fit_refuses_labels_outside_the_classes():
    table, y = toy_table()
    with pytest.raises(ValueError, match="not among"):
        ClassifierScorer().fit(table, np.where(y == "mobile", "swimming", y))


def test_short_immobile_runs_become_the_most_probable_other_class():
    labels = ("immobile", "swimming", "climbing")
    proba = np.array([
        [0.1, 0.8, 0.1],  # swimming
        [0.6, 0.1, 0.3],  # 1-s immobile run: climbing is the more probable other class
        [0.1, 0.8, 0.1],
        [0.7, 0.2, 0.1],  # 3-s immobile run: kept
        [0.8, 0.1, 0.1],
        [0.9, 0.05, 0.05],
    ])
    assert smooth_short_immobile(proba, labels, 1.0).tolist() == [1, 0, 1, 0, 0, 0]
    assert smooth_short_immobile(proba, labels, 2.0).tolist() == [1, 2, 1, 0, 0, 0]
    assert smooth_short_immobile(proba, labels, 4.0).tolist() == [1, 2, 1, 1, 1, 1]


def test_min_bout_is_applied_per_animal_by_predict():
    table, y = toy_table()
    scorer = ClassifierScorer(max_iter=20, min_bout_s=15).fit(table, y)
    out = scorer.predict(table)
    # the 10-s immobile blocks are shorter than the 15-s minimum bout: nothing stays immobile
    assert (out["label"] == "mobile").all()
    assert (out["p_immobile"] > 0.5).any()


# --- accuracy on fresh synthetic videos (never trained or tuned on) ---------------------------

FRESH = {"fst": (9101, (120, 360)), "tst": (9102, (0, 360))}


def _fresh_table(folder, protocol):
    from behavscore.features import add_frame_measures
    from behavscore.per_second import per_second
    from behavscore.signals import Roi, compute_signals
    from behavscore.synth import generate_cohort

    seed = FRESH[protocol][0]
    cohort = generate_cohort(folder, protocol, n=2, seed=seed, seconds=360, animals=3)
    truth = pd.read_csv(folder / "truth.csv")
    tables = []
    for video, rows in cohort.groupby("video", sort=True):
        rois = [Roi(r.animal, int(r.roi_x), int(r.roi_y), int(r.roi_w), int(r.roi_h)) for r in rows.itertuples()]
        signals = compute_signals(folder / video, rois)
        table = add_frame_measures(per_second(signals), signals)
        tables.append(table.merge(truth, on=["video", "animal", "second"], how="left"))
    return pd.concat(tables, ignore_index=True)


def evaluate(table: pd.DataFrame, called: pd.Series, protocol: str) -> dict:
    """Per-second kappa (immobile vs not), per-animal immobility r, over the protocol window."""
    from sklearn.metrics import cohen_kappa_score

    start, end = FRESH[protocol][1]
    w = ((table["second"] >= start) & (table["second"] < end)).to_numpy()
    truth_imm = (table["label"] == "immobile").to_numpy()[w]
    auto_imm = (called == "immobile").to_numpy()[w]
    animal = (table["video"] + "/" + table["animal"]).to_numpy()[w]
    per = pd.DataFrame({"animal": animal, "truth": truth_imm, "auto": auto_imm}).groupby("animal").sum()
    return {
        "kappa": cohen_kappa_score(truth_imm, auto_imm),
        "r": float(np.corrcoef(per["truth"], per["auto"])[0, 1]),
        "max_error_s": float((per["truth"] - per["auto"]).abs().max()),
    }


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> dict:
    return {p: _fresh_table(tmp_path_factory.mktemp(p), p) for p in FRESH}


def _shipped(stem):
    from behavscore.model_io import load_model
    from behavscore.train import MODELS_DIR

    return load_model(MODELS_DIR / f"{stem}.skops")


@pytest.mark.slow
@pytest.mark.parametrize("protocol,stem", [("fst", "fst2"), ("fst", "fst3"), ("tst", "tst2")])
def test_shipped_classifier_agrees_with_truth_on_fresh_videos_and_beats_threshold(fresh, protocol, stem):
    from behavscore.threshold import default_threshold_scorer

    table = fresh[protocol]
    ours = evaluate(table, _shipped(stem).predict(table)["label"], protocol)
    base = evaluate(table, default_threshold_scorer(protocol).predict(table)["label"], protocol)
    assert ours["kappa"] >= 0.80, ours
    assert ours["r"] >= 0.95, ours
    assert ours["kappa"] > base["kappa"], (ours, base)
    assert ours["max_error_s"] <= base["max_error_s"], (ours, base)


@pytest.mark.slow
def test_three_class_fst_macro_f1_on_fresh_videos(fresh):
    from sklearn.metrics import f1_score

    table = fresh["fst"]
    w = (table["second"] >= 120) & (table["second"] < 360)
    called = _shipped("fst3").predict(table)["label"][w]
    assert f1_score(table["label"][w], called, average="macro") >= 0.80


def _time_sampling_errors(table: pd.DataFrame, called: pd.Series) -> pd.DataFrame:
    """Per animal and class, scored minus true time-sampling counts (5-s periods) in the FST window."""
    from dataclasses import replace

    from behavscore.protocols import get_protocol
    from behavscore.summary import summarise_animal

    proto = replace(get_protocol("fst"), labels=("immobile", "swimming", "climbing"))
    rows = {}
    for key, idx in table.groupby(["video", "animal"]).groups.items():
        truth = summarise_animal(table.loc[idx, ["second", "label"]], proto)
        auto = summarise_animal(table.loc[idx, ["second"]].assign(label=called.loc[idx]), proto)
        rows[key] = {c: auto[c] - truth[c] for c in ("immobility_counts", "swimming_counts", "climbing_counts")}
    return pd.DataFrame(rows).T


@pytest.mark.slow
def test_three_class_fst_time_sampling_counts_on_fresh_videos(fresh):
    # The modified FST's read-out: the behaviour that predominates in each of the 48 5-s
    # periods of the 120-360 s window. Measured: within 2 counts of truth for every animal.
    table = fresh["fst"]
    errors = _time_sampling_errors(table, _shipped("fst3").predict(table)["label"])
    assert len(errors) >= 6 and (errors.abs() <= 2).all().all(), errors


# Swing runs are 1-2 s long and most swing seconds still hold the end of the struggle, so the
# call rests on the waveform measures (trough depth, periodicity and coherence at the animal's
# own swing rhythm, time-resolved within the second). Measured on the fresh videos: 92% of
# swing seconds immobile (159 of 172; threshold scorer 70%; the model before those measures 81%).
@pytest.mark.slow
def test_tst_passive_swing_is_called_immobile(fresh):
    table = fresh["tst"]
    swing = (table["detail"] == "swing").to_numpy()
    called = _shipped("tst2").predict(table)["label"].to_numpy()
    assert swing.sum() >= 20
    assert (called[swing] == "immobile").mean() >= 0.90


# The check that tells a lab its video is unlike the model's training videos must stay quiet on
# the videos the models were made for: fresh synthetic animals of the same protocol.
@pytest.mark.slow
@pytest.mark.parametrize("protocol,stem", [("fst", "fst2"), ("fst", "fst3"), ("tst", "tst2")])
def test_shipped_classifier_finds_fresh_animals_like_its_training_animals(fresh, protocol, stem):
    table = fresh[protocol]
    start, end = FRESH[protocol][1]
    judged = ((table["second"] >= start) & (table["second"] < end)).to_numpy()
    for video, rows in table.groupby("video"):
        assert _shipped(stem).unlike_training(video, rows, judged[rows.index]) == {}


def test_shipped_models_keep_the_training_range_of_every_feature():
    from behavscore.features import FEATURE_NAMES

    for stem in ("fst2", "fst3", "tst2"):
        ranges = _shipped(stem).metadata_["feature_ranges"]
        assert list(ranges) == list(FEATURE_NAMES)
        assert all(np.isfinite(lo) and np.isfinite(hi) and lo <= hi for lo, hi in ranges.values())


def test_shipped_model_scores_a_sample_video_through_the_scorer_interface():
    from behavscore import score_video
    from behavscore.cohort import read_cohort, rois_of
    from behavscore.train import MODELS_DIR

    if not (MODELS_DIR / "fst3.skops").is_file():
        pytest.skip("fst3.skops not built (python -m behavscore.train --all)")
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "videos_sample" / "fst"
    cohort = read_cohort(folder / "cohort.csv")
    rows = cohort[cohort["video"] == cohort["video"].iloc[0]]
    result = score_video(rows["video_path"].iloc[0], "fst", rois=rois_of(rows), model=_shipped("fst3"))
    assert {"label", "motion", "p_immobile", "p_swimming", "p_climbing"} <= set(result.seconds.columns)
    assert set(result.seconds["label"]) <= {"immobile", "swimming", "climbing"}
    assert (result.summary["model"] == "fst3-v3").all()
    assert {"swimming_s", "climbing_s"} <= set(result.summary.columns)
    # The agouti mouse of this video hardly moves in a quarter of its seconds: its still seconds
    # are not judged against the training range, and nothing else sets it apart.
    assert not result.summary["flags"].str.contains("unlike training").any(), result.summary["flags"]
    truth = pd.read_csv(folder / "truth.csv")
    merged = truth.merge(result.seconds, on=["video", "animal", "second"], suffixes=("_truth", ""))
    w = merged["second"] >= 120
    assert ((merged["label_truth"] == "immobile") == (merged["label"] == "immobile"))[w].mean() >= 0.9
    truth_table = merged[["video", "animal", "second", "label_truth"]].rename(columns={"label_truth": "label"})
    counts = _time_sampling_errors(truth_table, merged["label"])
    assert (counts.abs() <= 2).all().all(), counts


def test_unlabelled_seconds_feed_features_but_are_not_trained_on():
    table, y = toy_table()
    partial = pd.Series(y, dtype=object)
    partial[::3] = None
    scorer = ClassifierScorer(max_iter=10).fit(table, partial)
    assert scorer.pipeline_[-1].n_features_in_ == len(FEATURE_NAMES)
    assert (scorer.predict(table)["label"].to_numpy() == y).mean() > 0.95
