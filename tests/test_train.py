"""Training on a lab's hand-scored videos: the model, its card, and what it tells of new animals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from behavscore.cli import app
from behavscore.train import held_out_immobility

LAB_NAMES = {"immobile": "Immobility", "swimming": "Swim", "climbing": "Climb"}


def test_held_out_immobility_compares_each_animals_immobile_seconds():
    # Immobile seconds (labelled, predicted): a 10 -> 12, b 5 -> 5, c 15 -> 13; unlabelled rows
    # count for neither.
    rows = []
    for animal, labelled, predicted in (("a", 10, 12), ("b", 5, 5), ("c", 15, 13)):
        for i in range(20):
            rows.append((animal, "immobile" if i < labelled else "mobile", "immobile" if i < predicted else "mobile"))
        rows.append((animal, None, "immobile"))
    animal, y, predicted = (list(c) for c in zip(*rows))
    out = held_out_immobility(pd.Series(y), np.array(predicted, dtype=object), pd.Series(animal))
    auto, hand = np.array([12, 5, 13.0]), np.array([10, 5, 15.0])
    assert out["immobility_n"] == 3
    assert out["immobility_r"] == pytest.approx(np.corrcoef(auto, hand)[0, 1])
    assert out["immobility_bias_s"] == pytest.approx(0.0)
    sd = np.std(auto - hand, ddof=1)  # 2 s
    assert (out["immobility_loa_low_s"], out["immobility_loa_high_s"]) == pytest.approx((-1.96 * sd, 1.96 * sd))
    assert out["immobility_max_error_s"] == 2.0


@pytest.fixture(scope="module")
def lab_cohort(tmp_path_factory):
    """A lab's 2 hand-scored FST videos (3 animals, 60 s): the truth written with the lab's own names."""
    from behavscore.synth import generate_cohort

    folder = tmp_path_factory.mktemp("lab")
    generate_cohort(folder, "fst", n=2, seed=231, seconds=60, animals=3)
    truth = pd.read_csv(folder / "truth.csv")
    truth.assign(label=truth["label"].map(LAB_NAMES))[["video", "animal", "second", "label"]].to_csv(folder / "scored.csv", index=False)
    return folder


def test_train_on_hand_scores_writes_a_checked_model_that_scores_new_animals(lab_cohort, tmp_path, short_fst):
    from behavscore import score_video
    from behavscore.model_io import load_model

    out = tmp_path / "lab_fst.skops"
    r = CliRunner().invoke(app, [
        "train", "--protocol", "fst", "--cohort", str(lab_cohort / "cohort.csv"), "--annotations", str(lab_cohort / "scored.csv"),
        "--map", "Immobility=immobile,Swim=mobile,Climb=mobile", "--out", str(out),
    ])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "lab_fst.skops.sha256").is_file()
    card = (tmp_path / "MODEL_CARD.md").read_text()
    assert "Animals: 6; labelled seconds: 360" in card
    assert "immobile seconds of each of 6 animals predicted while it was held out" in card
    assert "each of 6 animals" in r.output
    model = load_model(out)
    assert model.metadata_["cross_validation"]["immobility_n"] == 6
    # An animal of another video, never seen: the lab's model against that video's truth.
    result = score_video(short_fst.path, "fst", rois=short_fst.rois, window=(0, 40), model=str(out))
    merged = short_fst.truth.merge(result.seconds, on=["video", "animal", "second"], suffixes=("_truth", ""))
    agree = ((merged["label_truth"] == "immobile") == (merged["label"] == "immobile")).mean()
    assert agree >= 0.85, agree


def test_train_refuses_a_lab_name_it_was_not_told(lab_cohort, tmp_path):
    r = CliRunner().invoke(app, [
        "train", "--protocol", "fst", "--cohort", str(lab_cohort / "cohort.csv"), "--annotations", str(lab_cohort / "scored.csv"),
        "--map", "Immobility=immobile,Swim=mobile", "--out", str(tmp_path / "m.skops"),
    ])
    assert r.exit_code != 0 and "unknown label 'Climb'" in r.output and "scored.csv" in r.output
    assert not (tmp_path / "m.skops").exists()


def _project_of(truth: pd.DataFrame, raters: tuple[str, ...]) -> dict:
    """A BORIS project in which each rater coded every video as an observation of their own."""
    events = {}
    for (video, animal), rows in truth.sort_values("second").groupby(["video", "animal"]):
        immobile = (rows["label"] == "immobile").to_numpy()
        edges = np.flatnonzero(np.diff(np.r_[0, immobile.astype(int), 0]))
        events.setdefault(video, []).extend([float(rows["second"].iloc[0] + e), animal, "Immobility", "", ""] for e in edges)
    observations = {
        f"{video} {rater}": {"file": {"1": [f"/lab/{video}"]}, "type": "MEDIA", "time offset": 0.0, "events": sorted(ev, key=lambda e: e[0]),
                             "media_info": {"length": {f"/lab/{video}": 60.0}}}
        for video, ev in events.items() for rater in raters
    }
    return {"project_name": "lab", "behaviors_conf": {"0": {"type": "State event", "code": "Immobility"}}, "subjects_conf": {},
            "observations": observations}


def test_train_reads_one_raters_observations_of_a_boris_project(lab_cohort, tmp_path):
    import json

    truth = pd.read_csv(lab_cohort / "truth.csv")
    project = tmp_path / "lab.boris"
    project.write_text(json.dumps(_project_of(truth, ("rater A", "rater B"))))
    args = ["train", "--protocol", "fst", "--cohort", str(lab_cohort / "cohort.csv"), "--annotations", str(project),
            "--map", "Immobility=immobile", "--out", str(tmp_path / "m.skops")]
    r = CliRunner().invoke(app, args)
    assert r.exit_code != 0 and "--observations" in " ".join(r.output.split()) and not (tmp_path / "m.skops").exists()
    r = CliRunner().invoke(app, args + ["--observations", "*rater B"])
    assert r.exit_code == 0, r.output
    assert "Animals: 6; labelled seconds: 360" in (tmp_path / "MODEL_CARD.md").read_text()


def test_synthetic_training_cohorts_are_rendered_at_their_own_frame_rate(tmp_path):
    from behavscore.train import DEFAULT_SEEDS, seed_fps, synthetic_table
    from behavscore.video import probe

    # The shipped models learn from cohorts filmed at 15 frames/s besides those at 25.
    assert all(sorted({seed_fps(seed) for seed in seeds}) == [15.0, 25.0] for seeds in DEFAULT_SEEDS.values())
    table = synthetic_table(tmp_path, "fst", [206], n_videos=1, seconds=6, animals=1)
    assert probe(tmp_path / "fst_206" / table["video"].iloc[0]).fps == pytest.approx(15.0)
    assert table["n_frames"].median() == 15
    assert table["label"].notna().all()
