"""Train, cross-validate and save the per-second classifier, from synthetic videos or hand annotations."""

from __future__ import annotations

import argparse
import os
import platform
import re
import tempfile
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import sklearn
from sklearn.metrics import accuracy_score, cohen_kappa_score, f1_score
from sklearn.model_selection import GroupKFold

from .classifier import LABEL_SETS, ClassifierScorer
from .model_io import save_model
from .outputs import sha256_file

#: Model layout/training recipe version, part of every model name (``fst3-v3``).
MODEL_VERSION = 3
#: Seeds reserved elsewhere (threshold tuning, evaluation, sample videos): never trained on.
RESERVED_SEEDS = frozenset({101, 102, 103, 104, 105, 106, 9101, 9102, 9201, 9202, 9301, 9302, 9701, 9702, 9803, 9804, 9815, 9816, 2024, 2025})
#: Seeds of the shipped default models' training cohorts. The TST model learns where a struggle
#: ends and the passive swing begins within a second, which needs more examples than one cohort
#: holds: three cohorts per frame rate (seed 203 was kept out as a development check).
DEFAULT_SEEDS = {"fst": (201, 206), "tst": (202, 204, 205, 207, 208, 209)}
#: Frame rate of the synthetic cohorts, frames/s: 25 unless named here. Cameras record at 15 to
#: 30 frames/s, and a movement's per-frame waveform, which the classifier reads, is coarser at 15.
SEED_FPS = {206: 15.0, 207: 15.0, 208: 15.0, 209: 15.0}
#: Shipped default models: file stem → (protocol, number of classes).
DEFAULT_MODELS = {"fst2": ("fst", 2), "fst3": ("fst", 3), "tst2": ("tst", 2)}
#: Training weight of TST passive-swing seconds (labelled immobile, rare and easily confused
#: with struggling); chosen by cross-validation on the training cohort.
SWING_WEIGHT = 3.0
#: Folder of the shipped models.
MODELS_DIR = Path(__file__).resolve().parent / "models"


def model_name(protocol: str, classes: int) -> str:
    """``fst3-v3``-style model name."""
    return f"{protocol}{classes}-v{MODEL_VERSION}"


def target_labels(labels: pd.Series, classes: int) -> pd.Series:
    """Truth or hand labels mapped onto the classifier's classes (2-class: all movement → ``mobile``)."""
    labels = labels.astype("string")
    if classes == 2:
        return labels.where(labels.isna() | (labels == "immobile"), "mobile")
    if classes == 3:
        return labels
    raise ValueError(f"classes must be 2 or 3, got {classes}")


def _package_version() -> str:
    try:
        from importlib.metadata import version

        return version("behavscore")
    except Exception:  # noqa: BLE001 - an uninstalled checkout has no version
        return "unknown"


def cross_validate(
    table: pd.DataFrame,
    y: pd.Series,
    groups: pd.Series,
    make_scorer: "callable[[], ClassifierScorer]",
    n_splits: int = 5,
    sample_weight: np.ndarray | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Grouped k-fold cross-validation: every animal's seconds are held out together.

    Parameters
    ----------
    table : pandas.DataFrame
        Per-second table of all animals (features are computed within each animal).
    y : pandas.Series
        Label per row; rows with a missing label are neither trained on nor scored.
    groups : pandas.Series
        Animal identity per row (``video/animal``).
    make_scorer : callable
        Returns a fresh, unfitted :class:`ClassifierScorer`.
    n_splits : int
        Folds (at most the number of animals).
    sample_weight : numpy.ndarray, optional
        Training weight per row.

    Returns
    -------
    folds : pandas.DataFrame
        One row per fold: ``fold, n_animals, n_seconds, accuracy, kappa, macro_f1``.
    predicted : numpy.ndarray
        Held-out label per row (None where unlabelled).
    """
    n_groups = groups.nunique()
    k = min(n_splits, n_groups)
    if k < 2:
        raise ValueError(f"cross-validation needs at least 2 animals, got {n_groups}")
    predicted = np.full(len(table), None, dtype=object)
    rows = []
    for fold, (tr, te) in enumerate(GroupKFold(n_splits=k).split(table, groups=groups)):
        scorer = make_scorer()
        w = None if sample_weight is None else sample_weight[tr]
        scorer.fit(table.iloc[tr], y.iloc[tr], sample_weight=w)
        pred = scorer.predict(table.iloc[te])["label"].to_numpy()
        predicted[te] = pred
        labelled = y.iloc[te].notna().to_numpy()
        yt, yp = y.iloc[te].to_numpy()[labelled].astype(str), pred[labelled].astype(str)
        rows.append(
            {
                "fold": fold,
                "n_animals": int(groups.iloc[te].nunique()),
                "n_seconds": int(labelled.sum()),
                "accuracy": accuracy_score(yt, yp),
                "kappa": cohen_kappa_score(yt, yp, labels=list(scorer.labels)),
                "macro_f1": f1_score(yt, yp, labels=list(scorer.labels), average="macro", zero_division=0),
            }
        )
    return pd.DataFrame(rows), predicted


def fit_and_save(
    table: pd.DataFrame,
    labels: pd.Series,
    out_path: str | os.PathLike,
    protocol: str,
    classes: int,
    training_data: str,
    sample_weight: np.ndarray | None = None,
    name: str | None = None,
    model_card: str | os.PathLike | None = None,
    n_splits: int = 5,
    **scorer_kwargs: Any,
) -> tuple[ClassifierScorer, dict[str, Any]]:
    """Cross-validate, fit on everything, save the model and (optionally) its model-card section.

    Parameters
    ----------
    table : pandas.DataFrame
        Per-second table(s) of all training animals (``video, animal, second, motion, ...``).
    labels : pandas.Series
        Label per row in the training vocabulary (``immobile``, ``mobile`` or ``immobile``,
        ``swimming``, ``climbing``); missing = unlabelled (still used for neighbour features).
    out_path : str or PathLike
        Model file to write (``.skops``; a ``.sha256`` sidecar is written beside it).
    protocol : {"fst", "tst"}
    classes : {2, 3}
    training_data : str
        One line describing the data (for the metadata and the model card).
    sample_weight : numpy.ndarray, optional
        Training weight per row.
    name : str, optional
        Model name (default ``<protocol><classes>-v<MODEL_VERSION>``).
    model_card : str or PathLike, optional
        Markdown file in which this model's section is written (replaced when present).
    n_splits : int
        Cross-validation folds, grouped by animal.
    **scorer_kwargs
        Passed to :class:`ClassifierScorer`.

    Returns
    -------
    scorer, info
        The fitted scorer and the training information stored with it.
    """
    t0 = time.perf_counter()
    protocol = protocol.lower()
    if protocol not in ("fst", "tst"):
        raise ValueError(f"protocol must be fst or tst, got {protocol!r}")
    if classes == 3 and protocol != "fst":
        raise ValueError("3 classes (immobile/swimming/climbing) exist only for the FST")
    y = target_labels(labels, classes).reset_index(drop=True)
    table = table.reset_index(drop=True)
    name = name or model_name(protocol, classes)
    classes_ = LABEL_SETS[classes]
    bad = sorted(set(y.dropna()) - set(classes_))
    if bad:
        raise ValueError(f"labels {bad} are not {'/'.join(classes_)}: map them with a behaviour map")
    video = table["video"].astype(str) if "video" in table.columns else pd.Series("video", index=table.index)
    groups = video + "/" + table["animal"].astype(str)

    def make() -> ClassifierScorer:
        return ClassifierScorer(classes_, name=name, **scorer_kwargs)

    folds, predicted = cross_validate(table, y, groups, make, n_splits, sample_weight)
    labelled = y.notna().to_numpy()
    yt, yp = y.to_numpy()[labelled].astype(str), predicted[labelled].astype(str)
    cv = {
        "folds": int(len(folds)),
        "accuracy": float(accuracy_score(yt, yp)),
        "kappa": float(cohen_kappa_score(yt, yp, labels=list(classes_))),
        "macro_f1": float(f1_score(yt, yp, labels=list(classes_), average="macro", zero_division=0)),
        "fold_kappa_min": float(folds["kappa"].min()),
        **held_out_immobility(y, predicted, groups),
    }
    if "detail" in table.columns and (table["detail"] == "swing").any():
        swing = (table["detail"] == "swing").to_numpy() & labelled
        cv["swing_s"] = int(swing.sum())
        cv["swing_immobile"] = float((predicted[swing] == "immobile").mean())
    scorer = make().fit(table, y, sample_weight=sample_weight)
    train_s = time.perf_counter() - t0
    balance = {c: int((y == c).sum()) for c in classes_}
    info = {
        "protocol": protocol,
        "classes": classes,
        "version": MODEL_VERSION,
        "training_data": training_data,
        "n_animals": int(groups.nunique()),
        "n_seconds": int(labelled.sum()),
        "class_balance_s": balance,
        "cross_validation": cv,
        "behavscore_version": _package_version(),
        "sklearn_version": sklearn.__version__,
        "python_version": platform.python_version(),
        "fit_and_cv_time_s": round(train_s, 1),
    }
    scorer.metadata_ = {**scorer.metadata_, **info}
    out_path = save_model(scorer, out_path, info)
    info["file_bytes"] = out_path.stat().st_size
    info["sha256"] = sha256_file(out_path)
    if model_card is not None:
        write_model_card_section(model_card, name, out_path.name, info, scorer_kwargs)
    return scorer, info


def held_out_immobility(y: pd.Series, predicted: np.ndarray, groups: pd.Series) -> dict[str, float]:
    """Each animal's immobility as its held-out predictions give it, against its labels.

    Parameters
    ----------
    y : pandas.Series
        Label per row (missing = unlabelled).
    predicted : numpy.ndarray
        Held-out label per row (:func:`cross_validate`), minimum bout applied.
    groups : pandas.Series
        Animal per row.

    Returns
    -------
    dict
        Immobile seconds among each animal's labelled seconds, predicted against labelled:
        ``immobility_n`` (animals), ``immobility_r``, ``immobility_icc`` (ICC(A,1)),
        ``immobility_bias_s``, ``immobility_loa_low_s``, ``immobility_loa_high_s`` (Bland-Altman
        95 % limits) and ``immobility_max_error_s`` (the worst animal). The per-animal read-out
        a lab reports, for animals the model has not seen.
    """
    from .agreement import bland_altman, icc_agreement, pearson

    labelled = y.notna().to_numpy()
    per = pd.DataFrame({
        "animal": groups.to_numpy()[labelled],
        "labelled": (y[labelled] == "immobile").to_numpy(),
        "predicted": predicted[labelled] == "immobile",
    }).groupby("animal").sum()
    auto, hand = per["predicted"].to_numpy(dtype=float), per["labelled"].to_numpy(dtype=float)
    ba = bland_altman(auto, hand).iloc[0]
    return {
        "immobility_n": int(len(per)),
        "immobility_r": float(pearson(auto, hand)["r"].iloc[0]),
        "immobility_icc": float(icc_agreement(np.column_stack([auto, hand]))["icc"].iloc[0]),
        "immobility_bias_s": float(ba["bias"]),
        "immobility_loa_low_s": float(ba["loa_low"]),
        "immobility_loa_high_s": float(ba["loa_high"]),
        "immobility_max_error_s": float(np.abs(auto - hand).max()) if len(per) else float("nan"),
    }


def held_out_immobility_line(cv: Mapping[str, Any]) -> str:
    """One sentence on the held-out per-animal immobility (:func:`held_out_immobility`)."""
    return (
        f"immobile seconds of each of {cv['immobility_n']} animals predicted while it was held out, against its labels: "
        f"r {cv['immobility_r']:.3f}, ICC {cv['immobility_icc']:.3f}, bias {cv['immobility_bias_s']:+.1f} s, "
        f"limits of agreement {cv['immobility_loa_low_s']:.1f} to {cv['immobility_loa_high_s']:.1f} s, "
        f"worst animal {cv['immobility_max_error_s']:.0f} s off"
    )


def model_card_section(name: str, file_name: str, info: Mapping[str, Any], settings: Mapping[str, Any]) -> str:
    """Markdown section describing one trained model."""
    from .features import FEATURE_DOCS

    cv = info["cross_validation"]
    balance = ", ".join(f"{k} {v} s ({100 * v / max(info['n_seconds'], 1):.1f}%)" for k, v in info["class_balance_s"].items())
    lines = [
        f"## {name} (`{file_name}`)",
        "",
        f"- Protocol: {info['protocol'].upper()}, {info['classes']} classes.",
        f"- Training data: {info['training_data']}.",
        f"- Animals: {info['n_animals']}; labelled seconds: {info['n_seconds']}; class balance: {balance}.",
        f"- Estimator: StandardScaler + HistGradientBoostingClassifier; settings {dict(settings) or 'defaults'}.",
        f"- Features: {len(FEATURE_DOCS)} per-second features from `behavscore.features.second_features`.",
        f"- {cv['folds']}-fold cross-validation grouped by animal (all seconds of the video): "
        f"accuracy {cv['accuracy']:.3f}, Cohen's kappa {cv['kappa']:.3f} (worst fold {cv['fold_kappa_min']:.3f}), "
        f"macro-F1 {cv['macro_f1']:.3f}.",
    ]
    if "immobility_n" in cv:
        lines.append(f"- Per animal, {held_out_immobility_line(cv)}.")
    if "swing_immobile" in cv:
        lines.append(f"- Passive-swing seconds called immobile in cross-validation: {100 * cv['swing_immobile']:.1f}% of {cv['swing_s']} s.")
    lines += [
        f"- Versions: behavscore {info['behavscore_version']}, scikit-learn {info['sklearn_version']}, Python {info['python_version']}.",
        f"- Cross-validation + fit time: {info['fit_and_cv_time_s']:.0f} s; file {info['file_bytes'] / 1024:.0f} KiB, sha256 `{info['sha256']}`.",
        "",
    ]
    return "\n".join(lines)


def features_section() -> str:
    """Markdown list of the features every model is trained on, with their units and meanings."""
    from .features import FEATURE_DOCS, FRAME_MEASURE_DOCS

    lines = [
        f"## Features ({len(FEATURE_DOCS)}, `behavscore.features.second_features`)",
        "",
        "Computed per animal from its per-second table; the last "
        f"{len(FRAME_MEASURE_DOCS)} are per-second measures of the per-frame motion waveform "
        "(`behavscore.features.frame_measures`, added to the table by `add_frame_measures`): the trough depth, "
        "periodicity and coherence at the animal's own swing rhythm, pendulum-band power and rigid-silhouette share "
        "that tell a passive pendulum swing from a struggle.",
        "",
    ]
    lines += [f"- `{name}`: {text}" for name, text in FEATURE_DOCS.items()]
    return "\n".join(lines) + "\n\n"


def write_model_card_section(path: str | os.PathLike, name: str, file_name: str, info: Mapping[str, Any], settings: Mapping[str, Any]) -> Path:
    """Write (or replace) the ``## <name>`` section of a model card, keeping the other sections."""
    path = Path(path)
    text = path.read_text() if path.is_file() else "# Model card: behavscore per-second classifiers\n\n"
    section = model_card_section(name, file_name, info, settings)
    pattern = re.compile(rf"^## {re.escape(name)} .*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    path.write_text(text)
    return path


def seed_fps(seed: int) -> float:
    """Frame rate of a synthetic training cohort (:data:`SEED_FPS`, else 25 frames/s)."""
    return SEED_FPS.get(seed, 25.0)


def synthetic_table(folder: str | os.PathLike, protocol: str, seeds: Sequence[int], n_videos: int, seconds: float, animals: int) -> pd.DataFrame:
    """Generate synthetic cohorts (one per seed), decode them once, join the truth.

    Returns
    -------
    pandas.DataFrame
        Per-second table of every animal with ``label`` and ``detail`` from ``truth.csv``.
    """
    from .features import add_frame_measures
    from .per_second import per_second
    from .signals import Roi, compute_signals
    from .synth import generate_cohort

    used = sorted(set(seeds) & RESERVED_SEEDS)
    if used:
        raise ValueError(f"seeds {used} are reserved for threshold tuning, evaluation or the sample videos; train on others (e.g. 201-299)")
    tables = []
    for seed in seeds:
        sub = Path(folder) / f"{protocol}_{seed}"
        cohort = generate_cohort(sub, protocol, n=n_videos, seed=seed, seconds=seconds, animals=animals, fps=seed_fps(seed))
        truth = pd.read_csv(sub / "truth.csv")
        for video, rows in cohort.groupby("video", sort=True):
            rois = [Roi(r.animal, int(r.roi_x), int(r.roi_y), int(r.roi_w), int(r.roi_h)) for r in rows.itertuples()]
            signals = compute_signals(sub / video, rois)
            table = add_frame_measures(per_second(signals), signals)
            tables.append(table.merge(truth, on=["video", "animal", "second"], how="left"))
    return pd.concat(tables, ignore_index=True)


def synthetic_weights(table: pd.DataFrame, protocol: str, swing_weight: float = SWING_WEIGHT) -> np.ndarray | None:
    """Training weights: TST passive-swing seconds count ``swing_weight`` times, others once."""
    if protocol != "tst" or "detail" not in table.columns or swing_weight == 1.0:
        return None
    return np.where(table["detail"].to_numpy() == "swing", swing_weight, 1.0)


def train_from_synthetic(
    out_path: str | os.PathLike,
    protocol: str = "fst",
    classes: int = 2,
    seeds: Sequence[int] | None = None,
    n_videos: int = 4,
    seconds: float = 360.0,
    animals: int = 3,
    work_dir: str | os.PathLike | None = None,
    model_card: str | os.PathLike | None = None,
    table: pd.DataFrame | None = None,
    **scorer_kwargs: Any,
) -> tuple[ClassifierScorer, dict[str, Any]]:
    """Train a classifier on synthetic videos with exact truth.

    Parameters
    ----------
    out_path : str or PathLike
        Model file to write (``.skops``).
    protocol : {"fst", "tst"}
    classes : {2, 3}
    seeds : sequence of int, optional
        Cohort seeds (default :data:`DEFAULT_SEEDS`); reserved seeds are refused.
    n_videos, seconds, animals
        Videos per seed, their length (s) and animals per video.
    work_dir : str or PathLike, optional
        Where the videos are written (default: a temporary folder, removed afterwards).
    model_card : str or PathLike, optional
        Model card to write this model's section into.
    table : pandas.DataFrame, optional
        Already decoded per-second table with truth (from :func:`synthetic_table` with the
        same arguments), to train several models on one cohort without decoding twice.
    **scorer_kwargs
        Passed to :class:`ClassifierScorer`.

    Returns
    -------
    scorer, info
    """
    seeds = tuple(seeds) if seeds is not None else DEFAULT_SEEDS[protocol]
    if table is None:
        with tempfile.TemporaryDirectory() as tmp:
            table = synthetic_table(work_dir or tmp, protocol, seeds, n_videos, seconds, animals)
    desc = (
        f"synthetic {protocol.upper()} videos from behavscore.synth, seeds {list(seeds)} "
        f"({', '.join(f'{seed_fps(seed):g}' for seed in seeds)} frames/s), {n_videos} video(s) per seed x "
        f"{animals} animals x {seconds:g} s, exact per-second truth"
    )
    if protocol == "tst":
        desc += f"; passive-swing seconds weighted x{SWING_WEIGHT:g}"
    return fit_and_save(
        table, table["label"], out_path, protocol, classes, desc, sample_weight=synthetic_weights(table, protocol), model_card=model_card, **scorer_kwargs
    )


def annotated_table(cohort_path: str | os.PathLike, annotations: pd.DataFrame) -> pd.DataFrame:
    """Decode a cohort's videos once and attach hand labels (``label``; NaN where unannotated)."""
    from .cohort import read_cohort, rois_of
    from .features import add_frame_measures
    from .per_second import per_second
    from .signals import Roi, compute_signals

    cohort = read_cohort(cohort_path)
    tables = []
    for video, rows in cohort.groupby("video", sort=False):
        rois = rois_of(rows)
        rois = [Roi(*r) for r in rois] if rois is not None else None
        signals = compute_signals(rows["video_path"].iloc[0], rois)
        t = add_frame_measures(per_second(signals), signals)
        t["video"] = str(video)
        tables.append(t)
    table = pd.concat(tables, ignore_index=True)
    ann = annotations[["video", "animal", "second", "label"]].copy()
    ann["video"] = ann["video"].astype(str).map(lambda v: Path(v).name)
    ann["animal"] = ann["animal"].astype(str)
    table["_video_name"] = table["video"].map(lambda v: Path(v).name)
    merged = table.merge(ann.rename(columns={"video": "_video_name"}), on=["_video_name", "animal", "second"], how="left")
    return merged.drop(columns="_video_name")


def train_from_annotations(
    out_path: str | os.PathLike,
    cohort: str | os.PathLike,
    annotations: str | os.PathLike,
    protocol: str = "fst",
    classes: int = 2,
    behaviour_map: Mapping[str, str] | None = None,
    model_card: str | os.PathLike | None = None,
    observations: str | None = None,
    **scorer_kwargs: Any,
) -> tuple[ClassifierScorer, dict[str, Any]]:
    """Train a classifier on a lab's own hand-scored videos.

    Parameters
    ----------
    out_path : str or PathLike
        Model file to write (``.skops``).
    cohort : str or PathLike
        Cohort table (``video, animal`` and optional ROI columns).
    annotations : str or PathLike
        BORIS project or export, or per-second table, or a folder of them (read by
        :func:`behavscore.annotations.read_annotations`).
    protocol : {"fst", "tst"}
    classes : {2, 3}
    behaviour_map : mapping, optional
        Annotation behaviour → label (``immobile``, ``mobile``, ``swimming``, ``climbing``).
    model_card : str or PathLike, optional
        Model card to write this model's section into.
    observations : str, optional
        Pattern of the observation ids read from a BORIS project (one rater's, of several).

    Returns
    -------
    scorer, info
    """
    from .annotations import read_annotations

    ann = read_annotations(annotations, behaviour_map=behaviour_map, observations=observations)
    if "second" not in ann.columns:
        raise ValueError(
            f"{Path(annotations).name} holds per-animal totals: a classifier learns from labelled seconds "
            "(a BORIS export or a per-second table); totals can fit a threshold (behavscore fit-threshold)"
        )
    table = annotated_table(cohort, ann)
    n = int(table["label"].notna().sum())
    if n == 0:
        raise ValueError(f"no annotated second of {annotations} matches a video/animal of {cohort}: check file and animal names")
    desc = f"hand annotations {Path(annotations).name} on the videos of {Path(cohort).name} ({n} annotated seconds)"
    return fit_and_save(table, table["label"], out_path, protocol, classes, desc, model_card=model_card, **scorer_kwargs)


def train_default_models(models_dir: str | os.PathLike = MODELS_DIR, n_videos: int = 4, seconds: float = 360.0, animals: int = 3) -> pd.DataFrame:
    """Train the shipped models (``fst2``, ``fst3``, ``tst2``) and rewrite their model card.

    Returns
    -------
    pandas.DataFrame
        One row per model: file, CV accuracy/kappa/macro-F1, size, time.
    """
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    card = models_dir / "MODEL_CARD.md"
    card.write_text(
        "# Model card: behavscore per-second classifiers\n\n"
        "Shipped defaults, trained by `python -m behavscore.train --all` on synthetic videos rendered by "
        "`behavscore.synth` with exact per-second truth. Training seeds 201 and 206 (FST) and 202, 204, 205, 207, 208, 209 (TST) only, "
        "206-209 filmed at 15 frames/s and the others at 25; seeds 101-106 (threshold tuning), 9101/9102, 9201/9202, 9301/9302, 9701/9702, 9803/9804, "
        "9815/9816 (evaluation) and 2024/2025 (sample videos) are never trained on. "
        "Labels: immobile vs mobile (2 classes), or immobile/swimming/climbing (FST, 3 classes); the TST passive "
        "swing after a struggle is immobile, as human scorers call it. These models have not been validated on real "
        "video: check them against a few hand-scored videos (`behavscore validate`) or train your own "
        "(`behavscore train --cohort ... --annotations ...`). Each file keeps the range of every feature over its training "
        "seconds (`feature_ranges` in its metadata); scoring reports an animal whose seconds lie far outside it (flag "
        "`unlike training`, `behavscore.domain`).\n\n"
        + features_section()
    )
    rows = []
    total0 = time.perf_counter()
    tables: dict[str, pd.DataFrame] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for stem, (protocol, classes) in DEFAULT_MODELS.items():
            t0 = time.perf_counter()
            if protocol not in tables:
                tables[protocol] = synthetic_table(tmp, protocol, DEFAULT_SEEDS[protocol], n_videos, seconds, animals)
            _, info = train_from_synthetic(
                models_dir / f"{stem}.skops", protocol, classes, DEFAULT_SEEDS[protocol], n_videos, seconds, animals,
                model_card=card, table=tables[protocol],
            )
            cv = info["cross_validation"]
            rows.append({"model": stem, "accuracy": cv["accuracy"], "kappa": cv["kappa"], "macro_f1": cv["macro_f1"], "kib": info["file_bytes"] / 1024, "time_s": time.perf_counter() - t0})
    total = time.perf_counter() - total0
    with card.open("a") as fh:
        fh.write(f"Total wall time of `python -m behavscore.train --all` (rendering, decoding, cross-validation, fitting): {total / 60:.1f} min on {os.cpu_count()} CPU core(s).\n")
    return pd.DataFrame(rows)


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m behavscore.train --all``: retrain the shipped models."""
    ap = argparse.ArgumentParser(description="Train behavscore's shipped classifiers on synthetic videos.")
    ap.add_argument("--all", action="store_true", help="train fst2, fst3 and tst2 into behavscore/models")
    ap.add_argument("--out-dir", default=str(MODELS_DIR))
    ap.add_argument("--videos", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=360.0)
    ap.add_argument("--animals", type=int, default=3)
    args = ap.parse_args(argv)
    if not args.all:
        ap.error("nothing to do: pass --all")
    print(train_default_models(args.out_dir, args.videos, args.seconds, args.animals).to_string(index=False, float_format="%.3f"))


if __name__ == "__main__":
    main()
