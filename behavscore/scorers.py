"""Where a scorer plugs in: resolve ``model=`` to an object that labels per-second rows."""

from __future__ import annotations

from typing import Protocol as TypingProtocol

import pandas as pd

from .threshold import ThresholdScorer


class Scorer(TypingProtocol):
    """Anything that turns a per-second feature table into labels and class probabilities."""

    name: str
    min_bout_s: float

    @property
    def labels(self) -> tuple[str, ...]: ...

    def predict(self, seconds: pd.DataFrame) -> pd.DataFrame:
        """Return ``label`` and one ``p_<label>`` column per class, on the same index."""
        ...


#: The threshold scorer's settings per protocol, fitted to synthetic videos with known truth
#: (``benchmarks/fit_default_thresholds.py``); fit your own with ``behavscore fit-threshold``.
DEFAULT_THRESHOLDS: dict[str, ThresholdScorer] = {
    "fst": ThresholdScorer(),
    "tst": ThresholdScorer(),
}


def resolve_scorer(model: "str | Scorer" = "default", protocol_name: str = "fst") -> "Scorer":
    """Turn the ``model`` argument of the API/CLI into a scorer.

    Parameters
    ----------
    model : str or Scorer
        ``"threshold"``, ``"default"`` or a scorer object (e.g. ``ThresholdScorer(threshold_pct=20)``).
        ``"default"`` is the threshold scorer until a trained model is shipped for the protocol.
    protocol_name : str
        Protocol, to pick the default settings.
    """
    if not isinstance(model, str):
        return model
    if model in ("threshold", "default"):
        return DEFAULT_THRESHOLDS.get(protocol_name, ThresholdScorer())
    raise ValueError(
        f"model {model!r} is not available: use 'threshold' or 'default' (trained classifier files are not supported yet)"
    )
