"""Where a scorer plugs in: resolve ``model=`` to an object that labels per-second rows."""

from __future__ import annotations

from typing import Protocol as TypingProtocol

import pandas as pd

from .threshold import DEFAULT_THRESHOLD_PCT, ThresholdScorer


class Scorer(TypingProtocol):
    """Anything that turns a per-second feature table into labels and class probabilities."""

    name: str

    @property
    def labels(self) -> tuple[str, ...]: ...

    def predict(self, seconds: pd.DataFrame) -> pd.DataFrame:
        """Return ``label`` and one ``p_<label>`` column per class, on the same index."""
        ...


def resolve_scorer(
    model: str | Scorer = "default",
    protocol_name: str = "fst",
    threshold_pct: float = DEFAULT_THRESHOLD_PCT,
    min_bout_s: float = 1.0,
) -> Scorer:
    """Turn the ``model`` argument of the API/CLI into a scorer.

    Parameters
    ----------
    model : str or Scorer
        ``"threshold"``, ``"default"`` or an object with ``predict``. ``"default"`` is the
        threshold scorer until a trained model is shipped for the protocol.
    protocol_name : str
        Protocol, to pick the default model.
    threshold_pct, min_bout_s : float
        Settings of the threshold scorer.
    """
    if not isinstance(model, str):
        return model
    if model in ("threshold", "default"):
        return ThresholdScorer(threshold_pct=threshold_pct, min_bout_s=min_bout_s)
    raise ValueError(
        f"model {model!r} is not available: use 'threshold' or 'default' (trained classifier files are not supported yet)"
    )
