"""Per-video motion signals kept on disk, keyed by the video's content and the pass's settings."""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .outputs import atomic_write_bytes
from .signals import SIGNAL_NAMES, SIGNALS_VERSION, MotionSignals, Roi, SignalParams, frames_table

#: Layout of a cache file; a file of another layout is ignored (and replaced).
CACHE_FORMAT = 1


def cache_key(video_sha256: str, rois: tuple[Roi, ...] | None, params: SignalParams) -> str:
    """File name stem of a video's cached signals.

    The key changes whenever anything that shapes the signals changes: the video's bytes,
    the ROIs (names and rectangles), the pass's settings and the signal code's version. The
    file name, folder and modification time of the video play no part, so a moved or renamed
    file is still found.
    """
    recipe = {
        "format": CACHE_FORMAT,
        "signals_version": SIGNALS_VERSION,
        "behavscore": __version__,
        "rois": [asdict(r) for r in rois] if rois else None,
        "params": asdict(params),
    }
    digest = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()
    return f"{video_sha256[:32]}-{digest[:16]}"


class SignalCache:
    """A folder of cached :class:`~behavscore.signals.MotionSignals`, one ``.npz`` per video.

    Files are NumPy archives read without pickle (plain arrays plus a JSON header) and
    written atomically, so a run killed while writing leaves either a complete file or none.

    Parameters
    ----------
    folder : path-like
        Where the files live (created on first write).
    """

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.npz"

    def load(self, key: str, video: str | os.PathLike) -> MotionSignals | None:
        """The cached signals under ``key`` (attributed to ``video``), or None when absent or unreadable."""
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as archive:
                header = json.loads(str(archive["header"]))
                data = archive["frames"]
            if header.get("format") != CACHE_FORMAT or header.get("signal_names") != SIGNAL_NAMES:
                return None
            return _from_arrays(header, data, Path(video))
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return None  # damaged or foreign file: decode again and overwrite it

    def save(self, key: str, signals: MotionSignals) -> Path:
        """Store ``signals`` under ``key`` atomically; returns the file written."""
        header, data = _to_arrays(signals)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, header=np.array(json.dumps(header)), frames=data)
        path = self.path(key)
        atomic_write_bytes(path, buffer.getvalue())
        return path


def _to_arrays(signals: MotionSignals) -> tuple[dict, np.ndarray]:
    """A JSON-able header and a (frames, ROIs, signals) float array holding ``signals`` exactly."""
    k, n = len(signals.rois), signals.n_frames
    frames = signals.frames
    data = np.empty((n, k, len(SIGNAL_NAMES)), dtype=np.float64)
    for j, roi in enumerate(signals.rois):
        mine = frames[frames["animal"] == roi.animal]
        data[:, j, :] = mine[SIGNAL_NAMES].to_numpy(np.float64)
    per_roi = [{c: (v.item() if isinstance(v, np.generic) else v) for c, v in row.items()} for row in signals.per_roi.to_dict("records")]
    header = {
        "format": CACHE_FORMAT,
        "signal_names": SIGNAL_NAMES,
        "fps": signals.fps,
        "n_frames": n,
        "n_frames_claimed": signals.n_frames_claimed,
        "rois": [asdict(r) for r in signals.rois],
        "per_roi": per_roi,
        "per_roi_columns": list(signals.per_roi.columns),
        "params": asdict(signals.params),
        "places_side_by_side": signals.places_side_by_side,
        "filled_frames": list(signals.filled_frames),
        "frames_dropped": signals.frames_dropped,
        "gaps_closed": signals.gaps_closed,
    }
    return header, data


def _from_arrays(header: dict, data: np.ndarray, video: Path) -> MotionSignals:
    rois = tuple(Roi(**r) for r in header["rois"])
    n = int(header["n_frames"])
    if data.shape != (n, len(rois), len(SIGNAL_NAMES)):
        raise ValueError("cached array has the wrong shape")
    frames = frames_table(rois, data)
    per_roi = pd.DataFrame(header["per_roi"], columns=header["per_roi_columns"])
    return MotionSignals(
        video=video, fps=float(header["fps"]), n_frames=n, n_frames_claimed=int(header["n_frames_claimed"]),
        rois=rois, frames=frames, per_roi=per_roi, params=SignalParams(**header["params"]),
        places_side_by_side=header.get("places_side_by_side"),
        filled_frames=tuple(int(i) for i in header.get("filled_frames", ())), frames_dropped=int(header.get("frames_dropped", 0)),
        gaps_closed=int(header.get("gaps_closed", 0)),
    )
