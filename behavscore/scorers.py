"""Where a scorer plugs in: resolve ``model=`` to an object that labels per-second rows."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Protocol as TypingProtocol

import pandas as pd

from .threshold import default_threshold_scorer


class Scorer(TypingProtocol):
    """Anything that turns a per-second feature table into labels and class probabilities."""

    name: str
    min_bout_s: float

    @property
    def labels(self) -> tuple[str, ...]: ...

    def predict(self, seconds: pd.DataFrame) -> pd.DataFrame:
        """Return ``label`` and one ``p_<label>`` column per class, on the same index."""
        ...


#: Shipped trained models (``python -m behavscore.train --all`` rebuilds them; see
#: ``behavscore/models/MODEL_CARD.md``). Protocols without one score with the threshold scorer.
MODELS_DIR = Path(__file__).resolve().parent / "models"
DEFAULT_MODEL_FILES: dict[str, str] = {"fst": "fst3.skops", "tst": "tst2.skops"}


@functools.lru_cache(maxsize=None)
def _shipped_model(name: str) -> "Scorer":
    """Load (verify, allow-list) a shipped model once per process."""
    from .model_io import load_model

    return load_model(MODELS_DIR / name)


def resolve_scorer(model: "str | Scorer" = "default", protocol_name: str = "fst") -> "Scorer":
    """Turn the ``model`` argument of the API/CLI into a scorer.

    Parameters
    ----------
    model : str or Scorer
        ``"default"`` (the shipped classifier of the protocol: FST 3-class immobile/swimming/
        climbing, TST 2-class; the threshold scorer for custom protocols), ``"threshold"`` (the
        transparent threshold scorer with the protocol's settings, see
        :func:`behavscore.threshold.default_threshold_scorer`), a path to a ``.skops`` model file (checked against its
        sha256 sidecar and loaded through a fixed allow-list of types), or a scorer object
        (e.g. ``behavscore.threshold.ThresholdScorer(threshold_pct=20)``).
    protocol_name : str
        Protocol, to pick the default model.

    Raises
    ------
    ValueError
        Unknown name, a model file that is missing, tampered with or holds a type outside
        the allow-list, or a model trained for the other of the FST and the TST
        (:func:`check_protocol`).
    """
    if not isinstance(model, str):
        return check_protocol(model, protocol_name)
    if model == "threshold":
        return default_threshold_scorer(protocol_name)
    if model == "default":
        name = DEFAULT_MODEL_FILES.get(protocol_name)
        if name is None:
            return default_threshold_scorer(protocol_name)
        return copy.deepcopy(_shipped_model(name))  # a private copy: callers may set min_bout_s
    if model.endswith(".skops"):
        from .model_io import load_model

        return check_protocol(load_model(model), protocol_name, model)
    raise ValueError(f"model {model!r}: use 'default', 'threshold' or the path of a .skops model file")


#: Protocols a model is trained for; a model of one is refused for the other.
TRAINED_PROTOCOLS: tuple[str, ...] = ("fst", "tst")


def check_protocol(scorer: "Scorer", protocol_name: str, source: str | None = None) -> "Scorer":
    """The scorer, unless it is a model trained for the other of the FST and the TST.

    A TST model reads a forced-swim mouse's paddling as a struggle or a swing; an FST model
    never learned the pendulum swing after a struggle. Custom protocols (an open field...) take
    any model: no model was trained for them.

    Raises
    ------
    ValueError
        Naming the model, the protocol it was trained for and the one asked for.
    """
    trained_for = str(getattr(scorer, "metadata_", {}).get("protocol", "")).lower()
    if trained_for in TRAINED_PROTOCOLS and protocol_name in TRAINED_PROTOCOLS and trained_for != protocol_name:
        raise ValueError(
            f"model {source or getattr(scorer, 'name', 'given')} was trained for the {trained_for.upper()}, not the "
            f"{protocol_name.upper()}: score {protocol_name.upper()} videos with --model default, --model threshold or a "
            f"{protocol_name.upper()} model (behavscore train --protocol {protocol_name})"
        )
    return scorer
