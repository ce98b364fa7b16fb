"""Shared fixtures: short synthetic videos with known truth, and the real reference clips."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

PROJECT = Path(__file__).resolve().parents[1]
REFERENCE = PROJECT.parent / "shared" / "reference"


@pytest.fixture(scope="session")
def reference_video() -> Path:
    """Folder of real rodent clips; skip when the shared reference data is not beside the project."""
    folder = REFERENCE / "video"
    if not folder.is_dir():
        pytest.skip(f"reference videos not available ({folder} is absent; it sits beside the project only in the lab's checkout)")
    return folder


@pytest.fixture(scope="session")
def short_fst(tmp_path_factory):
    """A 40-s, 2-animal synthetic FST video with its truth."""
    from behavscore.synth import generate_video

    out = tmp_path_factory.mktemp("fst") / "fst_short.mp4"
    return generate_video(out, "fst", seed=11, seconds=40, animals=2)


@pytest.fixture(scope="session")
def short_tst(tmp_path_factory):
    """A 40-s, 2-animal synthetic TST video with its truth."""
    from behavscore.synth import generate_video

    out = tmp_path_factory.mktemp("tst") / "tst_short.mp4"
    return generate_video(out, "tst", seed=12, seconds=40, animals=2)


def write_video(path: Path, frames, fps: float = 25.0, fourcc: str = "mp4v") -> Path:
    """Write grey frames to a video file (for hand-made edge cases)."""
    frames = list(frames)
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    assert writer.isOpened(), f"cannot write {path}"
    for f in frames:
        writer.write(cv2.cvtColor(f, cv2.COLOR_GRAY2BGR) if f.ndim == 2 else f)
    writer.release()
    return path


def moving_square_frames(n: int, size=(120, 160), still_from: int | None = None, seed: int = 0):
    """A dark square on a noisy light background, moving until ``still_from`` (then still)."""
    rng = np.random.default_rng(seed)
    h, w = size
    for i in range(n):
        f = np.full((h, w), 200, np.uint8)
        t = i if still_from is None or i < still_from else still_from
        x = int(20 + 40 * (1 + np.sin(t / 3.0)))
        f[40:80, x : x + 30] = 40
        noise = rng.normal(0, 2, f.shape)
        yield np.clip(f + noise, 0, 255).astype(np.uint8)
