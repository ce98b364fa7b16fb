"""Model files: round trip, checksum sidecar, explicit allow-list of types."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from behavscore.classifier import ClassifierScorer
from behavscore.model_io import ALLOWED_TYPES, FORMAT, FORMAT_VERSION, load_model, save_model, sidecar_path


def toy_table(seed: int = 0, n_s: int = 80) -> tuple[pd.DataFrame, np.ndarray]:
    """Two videos x two animals of alternating 10-s immobile / mobile blocks."""
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    for video in ("v1.mp4", "v2.mp4"):
        for animal in ("A", "B"):
            immobile = (np.arange(n_s) // 10) % 2 == 0
            motion = np.where(immobile, rng.uniform(0, 5, n_s), rng.uniform(30, 60, n_s))
            rows.append(pd.DataFrame({
                "video": video, "animal": animal, "second": np.arange(n_s), "motion": motion,
                "shape_motion": motion * 0.5, "silhouette_motion": motion * 0.8,
                "animal_area_px": 900.0, "animal_x_px": 50 + rng.normal(0, 1, n_s), "animal_y_px": 40 + rng.normal(0, 1, n_s),
            }))
            labels.append(np.where(immobile, "immobile", "mobile"))
    return pd.concat(rows, ignore_index=True), np.concatenate(labels)


@pytest.fixture(scope="module")
def fitted() -> ClassifierScorer:
    table, y = toy_table()
    return ClassifierScorer(name="toy-v1", max_iter=10).fit(table, y)


def test_saved_model_loads_and_predicts_the_same(fitted, tmp_path):
    path = save_model(fitted, tmp_path / "toy.skops", {"protocol": "tst"})
    assert sidecar_path(path).read_text().split()[1] == "toy.skops"
    loaded = load_model(path)
    table, _ = toy_table(seed=1)
    pd.testing.assert_frame_equal(loaded.predict(table), fitted.predict(table))
    assert loaded.name == "toy-v1" and loaded.labels == ("immobile", "mobile")
    assert loaded.metadata_["protocol"] == "tst" and len(loaded.metadata_["sha256"]) == 64


def test_tampered_model_file_is_refused(fitted, tmp_path):
    path = save_model(fitted, tmp_path / "toy.skops")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"toy\.skops.*does not match its checksum"):
        load_model(path)


def test_model_without_checksum_file_is_refused(fitted, tmp_path):
    path = save_model(fitted, tmp_path / "toy.skops")
    sidecar_path(path).unlink()
    with pytest.raises(ValueError, match="no checksum file"):
        load_model(path)


def _write_with_sidecar(obj, path):
    import hashlib

    data = sio.dumps(obj)
    path.write_bytes(data)
    sidecar_path(path).write_text(f"{hashlib.sha256(data).hexdigest()}  {path.name}\n")
    return path


def test_model_holding_an_estimator_outside_the_allow_list_is_refused(tmp_path):
    # SVC is trusted by skops itself, but behavscore never ships one: the explicit list refuses it.
    X = np.random.default_rng(0).normal(size=(40, 3))
    pipe = Pipeline([("scale", StandardScaler()), ("svc", SVC())]).fit(X, X[:, 0] > 0)
    path = _write_with_sidecar({"format": FORMAT, "format_version": FORMAT_VERSION, "pipeline": pipe, "metadata": {}}, tmp_path / "svc.skops")
    assert "sklearn.svm._classes.SVC" not in ALLOWED_TYPES
    with pytest.raises(ValueError, match=r"svc\.skops contains type\(s\) outside .*sklearn\.svm\._classes\.SVC"):
        load_model(path)


class Payload:
    """A custom class standing in for arbitrary code in a model file."""

    def __init__(self) -> None:
        self.command = "echo hello"


def test_model_holding_a_custom_class_is_refused(tmp_path):
    path = _write_with_sidecar({"format": FORMAT, "format_version": FORMAT_VERSION, "pipeline": Payload(), "metadata": {}}, tmp_path / "custom.skops")
    with pytest.raises(ValueError, match=r"custom\.skops contains type\(s\).*Payload"):
        load_model(path)


def test_non_skops_file_is_refused(tmp_path):
    path = _write_with_sidecar([1, 2], tmp_path / "x.skops")
    path.write_bytes(b"not a zip")
    sidecar_path(path).write_text(__import__("hashlib").sha256(b"not a zip").hexdigest() + "  x.skops\n")
    with pytest.raises(ValueError, match=r"x\.skops is not a readable skops file"):
        load_model(path)


def test_unfitted_classifier_cannot_be_saved(tmp_path):
    with pytest.raises(ValueError, match="not fitted"):
        save_model(ClassifierScorer(), tmp_path / "m.skops")


@pytest.mark.parametrize("stem", ["fst2", "fst3", "tst2"])
def test_shipped_models_load_and_are_small(stem):
    from behavscore.train import MODEL_VERSION, MODELS_DIR

    path = MODELS_DIR / f"{stem}.skops"
    if not path.is_file():
        pytest.skip(f"{path.name} not built (python -m behavscore.train --all)")
    scorer = load_model(path)
    assert scorer.name == f"{stem}-v{MODEL_VERSION}"
    assert len(scorer.labels) == int(stem[-1])
    assert path.stat().st_size < 5 * 1024 * 1024


def test_a_model_of_the_other_test_is_refused_before_any_decoding(short_fst, tmp_path):
    # A TST model reads a swimming mouse's paddling as struggle or swing: the numbers come out
    # plausible (133 s for a 123-s truth on a sample mouse) and wrong, so the pairing is refused.
    from typer.testing import CliRunner

    from behavscore import score_video
    from behavscore.cli import app
    from behavscore.scorers import MODELS_DIR

    tst_model = str(MODELS_DIR / "tst2.skops")
    with pytest.raises(ValueError, match=r"tst2\.skops was trained for the TST, not the FST"):
        score_video(short_fst.path, "fst", rois=short_fst.rois, model=tst_model)
    with pytest.raises(ValueError, match="trained for the FST, not the TST"):
        score_video(short_fst.path, "tst", rois=short_fst.rois, model=load_model(MODELS_DIR / "fst3.skops"))
    cohort = tmp_path / "cohort.csv"
    cohort.write_text(f"video,animal\n{short_fst.path},a1\n")
    r = CliRunner().invoke(app, ["batch", str(cohort), "--protocol", "fst", "--model", tst_model, "--out", str(tmp_path / "out")])
    assert r.exit_code == 2 and "trained for the TST" in " ".join(r.output.split())
    assert not (tmp_path / "out" / "summary.csv").exists()
