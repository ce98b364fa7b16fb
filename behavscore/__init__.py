"""Score forced swim and tail suspension videos and join them with in-vitro pharmacology."""

__version__ = "0.1.0"

from .protocols import PROTOCOLS, Protocol  # noqa: E402
from .score import ScoreResult, score_signals, score_video  # noqa: E402
from .signals import Roi, compute_signals  # noqa: E402
from .video import VideoError  # noqa: E402

__all__ = ["PROTOCOLS", "Protocol", "Roi", "ScoreResult", "VideoError", "__version__", "compute_signals", "score_signals", "score_video"]
