"""Read a cohort table (one row per animal) or a folder of videos (one animal per video)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

ROI_COLUMNS = ["roi_x", "roi_y", "roi_w", "roi_h"]
#: Optional cohort column: seconds into the recording at which the test began (the animal put in
#: the water or hung up); the protocol's window is counted from there.
TEST_START_COLUMN = "test_start_s"
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".wmv", ".mpg", ".mpeg", ".m4v", ".webm", ".flv", ".h264"}


class CohortError(ValueError):
    """A cohort table that cannot be used; the message names the file, line and column."""


def list_videos(folder: str | os.PathLike) -> list[Path]:
    """The video files in a folder (by suffix, ``VIDEO_SUFFIXES``), sorted by name.

    Raises
    ------
    CohortError
        The folder holds none.
    """
    folder = Path(folder)
    videos = sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
    if not videos:
        raise CohortError(f"{folder}: no video files ({', '.join(sorted(VIDEO_SUFFIXES))}) in this folder")
    return videos


def read_cohort(path: str | os.PathLike) -> pd.DataFrame:
    """Read and check a cohort table, or list a folder of videos.

    Parameters
    ----------
    path : path-like
        CSV (or TSV) with columns ``video, animal`` and optionally ``roi_x, roi_y, roi_w, roi_h``,
        ``test_start_s`` (seconds into the recording at which the test began; one value per
        video) plus any metadata columns; or a folder, in which case every video file in it is one
        animal named after the file.

    Returns
    -------
    pandas.DataFrame
        The table with an extra column ``video_path`` (absolute path resolved relative to the
        table's folder). Metadata columns are kept unchanged and in order.

    Raises
    ------
    CohortError
        Missing column, empty cell, non-integer or negative ROI value, a test start that is not
        a time >= 0 or differs between the animals of one video, or a table with no rows;
        the message names the file, the line (1-based, header = line 1) and the column.
    """
    path = Path(path)
    if path.is_dir():
        videos = list_videos(path)
        return pd.DataFrame({"video": [p.name for p in videos], "animal": [p.stem for p in videos], "video_path": [str(p.resolve()) for p in videos]})
    if not path.exists():
        raise CohortError(f"{path}: cohort table not found")
    try:
        table = pd.read_csv(path, sep=None, engine="python", dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CohortError(f"{path}: not a readable CSV table ({exc})") from None
    table.columns = [c.strip() for c in table.columns]
    for col in ("video", "animal"):
        if col not in table.columns:
            raise CohortError(f"{path}, line 1: required column {col!r} is missing (columns: {', '.join(table.columns)})")
    if table.empty:
        raise CohortError(f"{path}: the table has no rows")
    present = [c for c in ROI_COLUMNS if c in table.columns]
    if present and len(present) != 4:
        missing = [c for c in ROI_COLUMNS if c not in table.columns]
        raise CohortError(f"{path}, line 1: ROI columns must come as a set; missing {', '.join(missing)}")
    for i, row in table.iterrows():
        line = int(i) + 2
        for col in ("video", "animal"):
            if not str(row[col]).strip():
                raise CohortError(f"{path}, line {line}, column {col!r}: empty")
        if present:
            filled = [str(row[c]).strip() for c in ROI_COLUMNS]
            if any(filled) and not all(filled):
                raise CohortError(f"{path}, line {line}: give all four ROI values or none")
            for c, v in zip(ROI_COLUMNS, filled):
                if v and not _is_nonnegative_int(v):
                    raise CohortError(f"{path}, line {line}, column {c!r}: {v!r} is not a whole number of pixels >= 0")
        if TEST_START_COLUMN in table.columns and not _is_nonnegative(str(row[TEST_START_COLUMN]).strip()):
            raise CohortError(
                f"{path}, line {line}, column {TEST_START_COLUMN!r}: {row[TEST_START_COLUMN]!r} is not a time in seconds >= 0 "
                "(when the test began in the recording; 0 if it began with it)"
            )
    table["video"] = table["video"].str.strip()
    table["animal"] = table["animal"].str.strip()
    base = path.resolve().parent
    table["video_path"] = [str((base / v).resolve()) if not Path(v).is_absolute() else v for v in table["video"]]
    for c in present:
        table[c] = pd.to_numeric(table[c].replace("", np.nan)).astype("Int64")
    if TEST_START_COLUMN in table.columns:
        table[TEST_START_COLUMN] = pd.to_numeric(table[TEST_START_COLUMN])
        starts = table.groupby("video_path", sort=False)[TEST_START_COLUMN]
        for video, n in starts.nunique().items():
            if n > 1:
                lines = ", ".join(str(i + 2) for i in table.index[table["video_path"] == video])
                raise CohortError(
                    f"{path}, lines {lines}, column {TEST_START_COLUMN!r}: the animals of one video need one test start "
                    "(the video is scored in one pass); give the latest, when every animal was in"
                )
    return table


def _is_nonnegative(text: str) -> bool:
    try:
        value = float(text)
    except ValueError:
        return False
    return bool(np.isfinite(value)) and value >= 0


def _is_nonnegative_int(text: str) -> bool:
    return _is_nonnegative(text) and float(text) == int(float(text))


def test_start_of(rows: pd.DataFrame) -> float:
    """The test start (s into the recording) of one video's rows; 0 when the table gives none."""
    return float(rows[TEST_START_COLUMN].iloc[0]) if TEST_START_COLUMN in rows.columns else 0.0


def rois_of(rows: pd.DataFrame) -> list[tuple[str, int, int, int, int]] | None:
    """ROIs ``(animal, x, y, w, h)`` of one video's rows; None when the rows give none."""
    if "roi_x" not in rows.columns or rows["roi_x"].isna().all():
        return None
    return [(str(r.animal), int(r.roi_x), int(r.roi_y), int(r.roi_w), int(r.roi_h)) for r in rows.itertuples()]
