"""The trained per-second classifier: features → scikit-learn pipeline → labels, minimum bout applied."""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from .bouts import runs
from .domain import feature_ranges, unlike_training_warnings
from .features import FEATURE_NAMES, FRAME_MEASURES, second_features

#: Class sets the classifier knows: 2-class (TST, FST) and 3-class FST.
LABEL_SETS: dict[int, tuple[str, ...]] = {
    2: ("immobile", "mobile"),
    3: ("immobile", "swimming", "climbing"),
}


def make_pipeline(
    max_iter: int = 150,
    max_leaf_nodes: int = 15,
    learning_rate: float = 0.1,
    l2_regularization: float = 1.0,
    random_state: int = 0,
) -> Pipeline:
    """An unfitted ``StandardScaler`` + ``HistGradientBoostingClassifier`` pipeline.

    Parameters
    ----------
    max_iter, max_leaf_nodes, learning_rate, l2_regularization
        Passed to :class:`sklearn.ensemble.HistGradientBoostingClassifier` (boosting
        iterations, leaves per tree, shrinkage, L2 penalty on leaf values).
    random_state : int
        Seed of the estimator (used only if early stopping subsamples; fixed for reproducibility).
    """
    return Pipeline(
        [
            ("scale", StandardScaler()),
            (
                "boost",
                HistGradientBoostingClassifier(
                    max_iter=max_iter,
                    max_leaf_nodes=max_leaf_nodes,
                    learning_rate=learning_rate,
                    l2_regularization=l2_regularization,
                    early_stopping=False,
                    random_state=random_state,
                ),
            ),
        ]
    )


def _has_frame_measures(table: pd.DataFrame) -> bool:
    """Whether a per-second table holds the waveform measures of ``add_frame_measures``."""
    return all(m in table.columns for m in FRAME_MEASURES)


def smooth_short_immobile(proba: np.ndarray, labels: Sequence[str], min_bout_s: float) -> np.ndarray:
    """Per-second class indices with immobile runs shorter than the minimum bout relabelled.

    Parameters
    ----------
    proba : numpy.ndarray
        ``(n_seconds, n_classes)`` class probabilities of one animal's consecutive seconds.
    labels : sequence of str
        Class names in the column order of ``proba``; must contain ``"immobile"``.
    min_bout_s : float
        Shortest immobile bout kept, s (1-s bins: runs shorter than ``ceil(min_bout_s)`` go).

    Returns
    -------
    numpy.ndarray of int
        Index into ``labels`` per second: the most probable class, except that seconds of a
        too-short immobile run take the most probable *other* class.
    """
    proba = np.asarray(proba, dtype=float)
    labels = list(labels)
    k = labels.index("immobile")
    call = np.argmax(proba, axis=1) if len(proba) else np.zeros(0, dtype=int)
    min_len = int(np.ceil(min_bout_s))
    if min_len <= 1 or len(labels) < 2:
        return call
    others = proba.copy()
    others[:, k] = -np.inf
    fallback = np.argmax(others, axis=1)
    for a, b in runs(call == k):
        if b - a < min_len:
            call[a:b] = fallback[a:b]
    return call


class ClassifierScorer:
    """Per-second immobility classifier trained on labelled seconds (a :class:`~behavscore.scorers.Scorer`).

    Parameters
    ----------
    labels : sequence of str
        Classes, ``("immobile", "mobile")`` or ``("immobile", "swimming", "climbing")``.
    name : str
        Model name and version as reported in summaries, e.g. ``"fst3-v3"``.
    min_bout_s : float
        Immobile runs shorter than this (s) become the most probable other class.
    smooth_half_width_s : int
        Class probabilities are averaged over the second ±this many seconds (within an animal)
        before the call; 0 = no smoothing.
    max_iter, max_leaf_nodes, learning_rate, l2_regularization, random_state
        Settings of the gradient-boosting pipeline (see :func:`make_pipeline`).

    Attributes
    ----------
    pipeline_ : sklearn.pipeline.Pipeline
        The fitted pipeline (set by :meth:`fit` or :meth:`from_fitted`).
    feature_names_ : tuple of str
        Feature columns the pipeline was fitted on.
    metadata_ : dict
        Training information (data, class balance, cross-validation scores, versions, and the
        range of each feature over the training seconds, ``feature_ranges``).

    Notes
    -----
    The features (:func:`behavscore.features.second_features`) are computed inside
    :meth:`predict` from the per-second table, so the scorer drops into
    ``score_signals`` exactly where the threshold scorer does. Pass the table with the
    waveform measures of :func:`behavscore.features.add_frame_measures` joined on (as
    ``score_signals`` and the training functions do): a model fitted with them warns when a
    table lacks them, since it then tells a passive swing from a struggle less well.
    """

    def __init__(
        self,
        labels: Sequence[str] = LABEL_SETS[2],
        name: str = "classifier",
        min_bout_s: float = 1.0,
        smooth_half_width_s: int = 0,
        max_iter: int = 150,
        max_leaf_nodes: int = 15,
        learning_rate: float = 0.1,
        l2_regularization: float = 1.0,
        random_state: int = 0,
    ) -> None:
        self._labels = tuple(str(c) for c in labels)
        if "immobile" not in self._labels or len(set(self._labels)) != len(self._labels) or len(self._labels) < 2:
            raise ValueError(f"labels must be distinct, at least two, and include 'immobile'; got {self._labels}")
        if min_bout_s < 0:
            raise ValueError(f"minimum bout must be >= 0 s, got {min_bout_s}")
        if smooth_half_width_s < 0:
            raise ValueError(f"smoothing half-width must be >= 0 s, got {smooth_half_width_s}")
        self.name = name
        self.min_bout_s = float(min_bout_s)
        self.smooth_half_width_s = int(smooth_half_width_s)
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.learning_rate = learning_rate
        self.l2_regularization = l2_regularization
        self.random_state = random_state

    @property
    def labels(self) -> tuple[str, ...]:
        return self._labels

    def get_params(self) -> dict[str, Any]:
        """Constructor settings (to record in model metadata or clone the scorer)."""
        return {
            "labels": list(self._labels),
            "name": self.name,
            "min_bout_s": self.min_bout_s,
            "smooth_half_width_s": self.smooth_half_width_s,
            "max_iter": self.max_iter,
            "max_leaf_nodes": self.max_leaf_nodes,
            "learning_rate": self.learning_rate,
            "l2_regularization": self.l2_regularization,
            "random_state": self.random_state,
        }

    def __repr__(self) -> str:
        fitted = "fitted" if hasattr(self, "pipeline_") else "not fitted"
        return f"ClassifierScorer(name={self.name!r}, labels={self._labels}, min_bout_s={self.min_bout_s:g}, {fitted})"

    def fit(self, table: pd.DataFrame, y: Sequence[str], sample_weight: np.ndarray | None = None) -> "ClassifierScorer":
        """Learn the pipeline from a per-second table and one label per row.

        Parameters
        ----------
        table : pandas.DataFrame
            Per-second table(s) (``per_second`` output; several videos/animals concatenated,
            told apart by ``video`` and ``animal``).
        y : sequence of str
            Label of each row, each one of :attr:`labels`; missing (None/NaN) = unlabelled:
            the row still feeds its neighbours' features but is not trained on.
        sample_weight : numpy.ndarray, optional
            Per-row weights.

        Returns
        -------
        ClassifierScorer
            ``self``, fitted.
        """
        y = pd.Series(np.asarray(y, dtype=object)).astype("string")
        if len(y) != len(table):
            raise ValueError(f"{len(y)} labels for {len(table)} per-second rows")
        labelled = y.notna().to_numpy()
        known = y[labelled].astype(str).to_numpy()
        unknown = sorted(set(known) - set(self._labels))
        if unknown:
            raise ValueError(f"labels {unknown} are not among the classifier's classes {self._labels}")
        absent = [c for c in self._labels if c not in set(known)]
        if absent:
            raise ValueError(f"no training seconds labelled {absent}: every class needs examples")
        X = second_features(table)
        pipe = make_pipeline(self.max_iter, self.max_leaf_nodes, self.learning_rate, self.l2_regularization, self.random_state)
        fit_params = {"boost__sample_weight": np.asarray(sample_weight, dtype=float)[labelled]} if sample_weight is not None else {}
        pipe.fit(X.to_numpy()[labelled], known, **fit_params)
        self.pipeline_ = pipe
        self.feature_names_ = tuple(X.columns)
        self.metadata_: dict[str, Any] = {
            "frame_measures": _has_frame_measures(table),
            "feature_ranges": feature_ranges(X[labelled]),
        }
        return self

    @classmethod
    def from_fitted(cls, pipeline: Pipeline, metadata: dict[str, Any]) -> "ClassifierScorer":
        """Rebuild a fitted scorer from a fitted pipeline and its metadata (as :mod:`behavscore.model_io` stores them)."""
        params = dict(metadata.get("params", {}))
        params.setdefault("labels", metadata.get("labels", LABEL_SETS[2]))
        params.setdefault("name", metadata.get("name", "classifier"))
        known = cls(**params).get_params().keys()
        self = cls(**{k: v for k, v in params.items() if k in known})
        classes = [str(c) for c in getattr(pipeline, "classes_", [])]
        if sorted(classes) != sorted(self._labels):
            raise ValueError(f"model classes {classes} do not match its labels {list(self._labels)}")
        names = tuple(metadata.get("feature_names", ()))
        if names != FEATURE_NAMES:
            raise ValueError(
                "model was trained on a different feature set than this version of behavscore computes; retrain it with `behavscore train`"
            )
        self.pipeline_ = pipeline
        self.feature_names_ = names
        self.metadata_ = dict(metadata)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "pipeline_"):
            raise RuntimeError(f"{self!r} is not fitted: call fit() or load a model file with behavscore.model_io.load_model")

    def unlike_training(self, video: str, table: pd.DataFrame, judged: np.ndarray) -> dict[str, str]:
        """Warnings for the animals whose seconds lie far outside the training range of a feature.

        Parameters
        ----------
        video : str
            Video name, for the messages.
        table : pandas.DataFrame
            The per-second table given to :meth:`predict` (features are relative to each
            animal's own seconds, so they are computed over all of them).
        judged : numpy.ndarray
            Boolean per row: the seconds to judge (the analysed window of animals present).

        Returns
        -------
        dict
            ``{animal: message}`` (:func:`behavscore.domain.unlike_training_warnings`); empty
            for a model saved without training ranges.
        """
        ranges = self.metadata_.get("feature_ranges") or {}
        if not ranges or not judged.any():
            return {}
        features = second_features(table)[judged]
        return unlike_training_warnings(video, features, table.loc[judged, "animal"].astype(str), ranges, self.name)

    def predict_proba(self, table: pd.DataFrame) -> pd.DataFrame:
        """Class probabilities per second (``p_<label>`` columns, same index), before any smoothing."""
        self._check_fitted()
        if self.metadata_.get("frame_measures") and len(table) and not _has_frame_measures(table):
            warnings.warn(
                f"{self.name} was trained with the per-frame waveform measures but this per-second table lacks them; "
                "passive swing will be told from struggling less well: pass "
                "behavscore.features.add_frame_measures(per_second(signals), signals)",
                UserWarning,
                stacklevel=3,
            )
        X = second_features(table)
        if len(X) == 0:
            return pd.DataFrame({f"p_{c}": np.zeros(0) for c in self._labels}, index=table.index)
        proba = self.pipeline_.predict_proba(X.to_numpy())
        classes = [str(c) for c in self.pipeline_.classes_]
        cols = {f"p_{c}": proba[:, classes.index(c)] for c in self._labels}
        return pd.DataFrame(cols, index=table.index)

    def predict(self, table: pd.DataFrame) -> pd.DataFrame:
        """Label each second of each animal.

        Parameters
        ----------
        table : pandas.DataFrame
            Per-second table (``per_second`` output).

        Returns
        -------
        pandas.DataFrame
            Same index: ``label`` and one ``p_<label>`` column per class. Probabilities are
            the model's (averaged over ±``smooth_half_width_s`` when set); labels are the most
            probable class with immobile runs shorter than ``min_bout_s`` given to the most
            probable other class.
        """
        p = self.predict_proba(table)
        proba = p.to_numpy(dtype=float, copy=True)
        call = np.zeros(len(table), dtype=int)
        keys = ["video", "animal"] if "video" in table.columns else ["animal"]
        seconds = table["second"].to_numpy()
        for _, idx in table.groupby(keys, sort=False, observed=True).indices.items():
            idx = np.asarray(idx)
            order = idx[np.argsort(seconds[idx], kind="stable")]
            pa = proba[order]
            if self.smooth_half_width_s > 0:
                w = 2 * self.smooth_half_width_s + 1
                pa = pd.DataFrame(pa).rolling(w, center=True, min_periods=1).mean().to_numpy()
                proba[order] = pa
            call[order] = smooth_short_immobile(pa, self._labels, self.min_bout_s)
        out = pd.DataFrame(proba, index=table.index, columns=p.columns)
        out.insert(0, "label", np.asarray(self._labels, dtype=object)[call])
        return out
