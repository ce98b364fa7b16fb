"""Write result tables atomically and record how they were made (provenance)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import tempfile
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from . import __version__


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write a file so that a killed process never leaves a half-written file behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write a UTF-8 text file atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def write_png(figure, path: str | os.PathLike, dpi: int = 110) -> Path:
    """Write a matplotlib figure as PNG atomically (never a half-written image)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    atomic_write_bytes(path, buffer.getvalue())
    return Path(path)


def write_csv(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write a DataFrame as CSV atomically (no index, full float precision)."""
    atomic_write_text(path, table.to_csv(index=False, lineterminator="\n"))


def warnings_table(videos: Sequence[tuple[str | os.PathLike, Sequence[str]]]) -> pd.DataFrame:
    """The ``warnings.csv`` table: one row ``video, warning`` per warning of each video.

    Parameters
    ----------
    videos : sequence of (path, warnings)
        Each video file and the warnings its scoring gave; a leading ``"<path>: "`` is left out
        of the text (the ``video`` column names the file).
    """
    rows = [
        {"video": Path(path).name, "warning": w[len(f"{path}: "):] if w.startswith(f"{path}: ") else w}
        for path, warnings in videos
        for w in warnings
    ]
    return pd.DataFrame(rows, columns=["video", "warning"])


def sha256_file(path: str | os.PathLike, chunk_bytes: int = 1 << 20) -> str:
    """SHA-256 of a file's content, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk_bytes), b""):
            h.update(block)
    return h.hexdigest()


def software_versions() -> dict[str, str]:
    """Versions of the package and of the libraries that shape its numbers."""
    import cv2
    import numpy
    import scipy
    import sklearn

    import assay_core

    return {
        "behavscore": __version__,
        "assay_core": assay_core.__version__,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "pandas": pd.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "opencv": cv2.__version__,
    }


def write_provenance(out_dir: str | os.PathLike, parameters: dict[str, Any], inputs: list | dict) -> Path:
    """Write ``provenance.json``: parameters, model, software versions and input file hashes.

    Parameters
    ----------
    out_dir : path-like
        Output folder.
    parameters : dict
        Every setting that shaped the numbers (protocol, window, model, thresholds, ...).
    inputs : list or dict
        One entry per input file (``path``, ``sha256``, ``bytes``, ...), as a list or keyed by
        the input's role.
    """
    path = Path(out_dir) / "provenance.json"
    record = {"software": software_versions(), "parameters": parameters, "inputs": inputs}
    atomic_write_text(path, json.dumps(record, indent=2, default=str) + "\n")
    return path
