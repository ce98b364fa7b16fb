"""Trained classifier files: skops format, sha256 sidecar, explicit allow-list of types; never pickle."""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import skops.io as sio

from .classifier import ClassifierScorer
from .outputs import sha256_file

#: Identifies the content of a behavscore model file.
FORMAT = "behavscore.classifier"
#: Layout version of the stored dictionary.
FORMAT_VERSION = 1
#: Suffix of the checksum file written beside a model (``NAME.skops.sha256``).
SHA256_SUFFIX = ".sha256"

#: Every type a behavscore model file may contain, and nothing else. A file naming any other
#: type is refused before anything in it is constructed.
ALLOWED_TYPES: tuple[str, ...] = (
    "builtins.NoneType",
    "builtins.bool",
    "builtins.dict",
    "builtins.float",
    "builtins.int",
    "builtins.list",
    "builtins.str",
    "builtins.tuple",
    "numpy.dtype",
    "numpy.float64",
    "numpy.int64",
    "numpy.ndarray",
    "numpy.random._generator.Generator",
    "numpy.uint64",
    "sklearn._loss._loss.CyHalfBinomialLoss",
    "sklearn._loss._loss.CyHalfMultinomialLoss",
    "sklearn._loss.link.Interval",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.MultinomialLogit",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss.loss.HalfMultinomialLoss",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.preprocessing._label.LabelEncoder",
)


def sidecar_path(path: str | os.PathLike) -> Path:
    """``NAME.skops`` → ``NAME.skops.sha256``."""
    p = Path(path)
    return p.with_name(p.name + SHA256_SUFFIX)


def _json_safe(value: Any) -> Any:
    """Plain Python copy of metadata (numpy scalars → float/int, tuples → lists), or TypeError."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if hasattr(value, "item"):
        return _json_safe(value.item())
    raise TypeError(f"metadata value {value!r} of type {type(value).__name__} cannot be stored in a model file")


def file_types(data: bytes) -> set[str]:
    """Every ``module.Class`` named in a skops file's schema (read as JSON; nothing is constructed)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            schema = json.loads(z.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a skops file ({exc})") from exc
    found: set[str] = set()
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "__class__" in node and "__module__" in node:
                found.add(f"{node['__module__']}.{node['__class__']}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def save_model(scorer: ClassifierScorer, path: str | os.PathLike, metadata: dict[str, Any] | None = None) -> Path:
    """Write a fitted classifier to ``path`` (``.skops``) and its ``.sha256`` sidecar.

    Parameters
    ----------
    scorer : ClassifierScorer
        A fitted scorer.
    path : str or PathLike
        Destination, ending in ``.skops``.
    metadata : dict, optional
        Extra information stored with the model (protocol, version, training data, CV scores,
        ...); plain values only. Merged over the scorer's own ``metadata_``.

    Returns
    -------
    pathlib.Path
        The model file written.

    Notes
    -----
    The file is a skops archive of a dictionary ``{"format", "format_version", "pipeline",
    "metadata"}``; metadata holds the name, labels, feature names and constructor settings so
    that :func:`load_model` rebuilds the same scorer. The sidecar holds
    ``<sha256>  <file name>`` (the ``sha256sum`` format).
    """
    path = Path(path)
    if path.suffix != ".skops":
        raise ValueError(f"model file name must end in .skops, got {path.name}")
    if not hasattr(scorer, "pipeline_"):
        raise ValueError("cannot save a classifier that is not fitted")
    meta = {**getattr(scorer, "metadata_", {}), **(metadata or {})}
    meta.update(
        name=scorer.name,
        labels=list(scorer.labels),
        feature_names=list(scorer.feature_names_),
        params=scorer.get_params(),
    )
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, "pipeline": scorer.pipeline_, "metadata": _json_safe(meta)}
    data = sio.dumps(payload)
    bad = sorted(file_types(data) - set(ALLOWED_TYPES))
    if bad:
        raise ValueError(f"model holds types outside behavscore's allow-list and could not be loaded again: {bad}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    sidecar_path(path).write_text(f"{hashlib.sha256(data).hexdigest()}  {path.name}\n")
    return path


def verify_model_file(path: str | os.PathLike) -> bytes:
    """Bytes of a model file whose sha256 matches its sidecar and whose types are all allowed.

    Raises
    ------
    ValueError
        Naming the file: missing file or sidecar, checksum mismatch, not a skops file, or a
        type outside :data:`ALLOWED_TYPES`.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"model file {path} does not exist")
    side = sidecar_path(path)
    if not side.is_file():
        raise ValueError(f"model file {path} has no checksum file {side.name} beside it; refusing to load an unverified model")
    expected = side.read_text().split()[0].strip().lower() if side.read_text().strip() else ""
    data = path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ValueError(
            f"model file {path} does not match its checksum in {side.name} (sha256 {actual[:12]}..., expected {expected[:12]}...): "
            "the file was changed or damaged; reinstall or retrain it"
        )
    try:
        types = file_types(data)
        untrusted = set(sio.get_untrusted_types(data=data))
    except Exception as exc:  # noqa: BLE001 - any parse failure means the file is unusable
        raise ValueError(f"model file {path} is not a readable skops file: {exc}") from exc
    bad = sorted((types | untrusted) - set(ALLOWED_TYPES))
    if bad:
        raise ValueError(f"model file {path} contains type(s) outside behavscore's allow-list: {', '.join(bad)}; refusing to load it")
    return data


def read_model_file(path: str | os.PathLike) -> tuple[Any, dict[str, Any]]:
    """Verified ``(pipeline, metadata)`` of a model file (see :func:`verify_model_file`)."""
    data = verify_model_file(path)
    payload = sio.loads(data, trusted=list(ALLOWED_TYPES))
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"model file {path} is a skops file but not a behavscore classifier")
    if payload.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"model file {path} has layout version {payload.get('format_version')}; this behavscore reads {FORMAT_VERSION}")
    return payload["pipeline"], dict(payload.get("metadata", {}))


def load_model(path: str | os.PathLike) -> ClassifierScorer:
    """Load a verified classifier file as a ready-to-use scorer.

    Parameters
    ----------
    path : str or PathLike
        A ``.skops`` file written by :func:`save_model`, with its ``.sha256`` sidecar.

    Returns
    -------
    ClassifierScorer
        Fitted; ``metadata_`` holds what was stored with it, plus ``sha256`` and ``path``.

    Raises
    ------
    ValueError
        When the checksum does not match, the file holds a type outside
        :data:`ALLOWED_TYPES`, or it is not a behavscore model.
    """
    pipeline, metadata = read_model_file(path)
    try:
        scorer = ClassifierScorer.from_fitted(pipeline, metadata)
    except ValueError as exc:
        raise ValueError(f"model file {path}: {exc}") from exc
    scorer.metadata_["sha256"] = sha256_file(path)
    scorer.metadata_["path"] = Path(path).name
    return scorer
