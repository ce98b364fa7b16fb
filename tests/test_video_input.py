"""Bad and unusual video files give clear errors that name the file, or are measured correctly."""

from __future__ import annotations

import numpy as np
import pytest

from behavscore import score_video
from behavscore.signals import Roi, compute_signals
from behavscore.video import VideoError, constant_rate_problem, iter_luma, probe

from conftest import moving_square_frames, write_video
from mp4_times import set_display_matrix, set_frame_durations, timescale


def test_missing_file_is_named(tmp_path):
    path = tmp_path / "nope.mp4"
    with pytest.raises(VideoError, match="nope.mp4: file not found"):
        score_video(path)


def test_zero_byte_file_is_reported_empty(tmp_path):
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    with pytest.raises(VideoError, match=r"empty.mp4: file is empty \(0 bytes\)"):
        score_video(path)


def test_corrupt_file_is_reported_unreadable(tmp_path):
    path = tmp_path / "corrupt.mp4"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    with pytest.raises(VideoError, match="corrupt.mp4: not a readable video"):
        score_video(path)


def test_only_our_message_reaches_the_terminal_for_a_cut_off_file(tmp_path):
    # FFmpeg says "moov atom not found" for an MP4 whose index was never written (a recording
    # stopped by a crash); behavscore's own error already says what is wrong, and with which file.
    import subprocess
    import sys

    whole = write_video(tmp_path / "whole.mp4", moving_square_frames(30))
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    code = "import sys\nfrom behavscore.video import probe\ntry:\n    probe(sys.argv[1])\nexcept ValueError as e:\n    print(e, file=sys.stderr)"
    run = subprocess.run([sys.executable, "-c", code, str(cut)], capture_output=True, text=True, timeout=120)
    assert "cut.mp4: not a readable video" in run.stderr, run.stderr
    assert "moov atom" not in run.stderr and "@ 0x" not in run.stderr, run.stderr


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(VideoError, match="is a folder"):
        probe(tmp_path)


def test_too_short_for_the_window_names_durations(tmp_path):
    path = write_video(tmp_path / "short.mp4", moving_square_frames(50), fps=25)
    with pytest.raises(VideoError, match=r"short.mp4: too short: 2.0 s decoded .* window ends at 360 s; .*--window START:END"):
        score_video(path, protocol="fst")
    # the way out the message names works
    assert score_video(path, protocol="fst", window=(0, 2)).summary["window_end_s"].iloc[0] == 2


def test_single_frame_video_is_refused(tmp_path):
    path = write_video(tmp_path / "one.avi", moving_square_frames(1), fps=25, fourcc="MJPG")
    with pytest.raises(VideoError, match="one.avi"):
        score_video(path, protocol="tst", window=(0, 1))


def test_truncated_file_is_detected(tmp_path):
    full = write_video(tmp_path / "full.avi", moving_square_frames(250), fps=25, fourcc="MJPG")
    data = full.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    info = probe(full)
    decoded = sum(1 for _ in iter_luma(cut))
    assert decoded < info.n_frames_claimed
    # Scoring the whole claimed length must fail and say why.
    with pytest.raises(VideoError, match=r"cut.avi: (too short|not a readable video)"):
        score_video(cut, protocol="tst", window=(0, 10))


def test_truncated_file_scored_within_what_it_holds_warns(tmp_path):
    full = write_video(tmp_path / "full.avi", moving_square_frames(250), fps=25, fourcc="MJPG")
    cut = tmp_path / "cut.avi"
    cut.write_bytes(full.read_bytes()[: int(len(full.read_bytes()) * 0.6)])
    if probe(cut).n_frames_claimed == 0:
        pytest.skip("this FFmpeg build does not report a frame count for a cut AVI")
    result = score_video(cut, protocol="tst", window=(0, 3))
    assert any("truncated" in w for w in result.warnings)


def test_roi_outside_frame_is_refused(tmp_path):
    path = write_video(tmp_path / "v.mp4", moving_square_frames(30), fps=25)
    with pytest.raises(VideoError, match=r"v.mp4: ROI of 'a' .* lies outside the 160x120 frame"):
        score_video(path, protocol="tst", window=(0, 1), rois=[("a", 100, 0, 100, 100)])


def test_duplicate_roi_names_are_refused(tmp_path):
    path = write_video(tmp_path / "v.mp4", moving_square_frames(30), fps=25)
    with pytest.raises(VideoError, match="given twice"):
        score_video(path, protocol="tst", window=(0, 1), rois=[("a", 0, 0, 80, 120), ("a", 80, 0, 80, 120)])


def test_frame_count_and_rate_come_from_decoding(tmp_path):
    path = write_video(tmp_path / "v.mp4", moving_square_frames(75), fps=25)
    s = compute_signals(path, [Roi("a", 0, 0, 160, 120)])
    assert s.n_frames == 75
    assert s.fps == pytest.approx(25.0)
    assert s.duration_s == pytest.approx(3.0)


def test_luma_frames_are_greyscale_planes(tmp_path):
    path = write_video(tmp_path / "v.mp4", moving_square_frames(10), fps=25)
    frames = list(iter_luma(path))
    assert len(frames) == 10
    assert all(f.shape == (120, 160) and f.dtype == np.uint8 for f in frames)
    # The dark square is dark and the background light, as drawn.
    assert frames[0][60, 5] > 150 and frames[0][60, 60] < 100


def test_variable_frame_rate_file_is_refused_with_how_to_re_encode(tmp_path):
    # 100 frames: the first 50 at 25 frames/s, then 50 at 12.5 frames/s, as from a camera
    # that drops to half rate; the header's rate fits neither half.
    cfr = write_video(tmp_path / "cfr.mp4", moving_square_frames(100), fps=25)
    tick = timescale(cfr) // 25
    vfr = set_frame_durations(cfr, tmp_path / "vfr.mp4", [tick] * 50 + [2 * tick] * 50)
    times = []
    assert sum(1 for _ in iter_luma(vfr, times_ms=times)) == 100
    assert times[49] - times[0] == pytest.approx(49 * 40) and times[99] - times[50] == pytest.approx(49 * 80)
    with pytest.raises(VideoError, match=r"vfr.mp4: variable frame rate .* Re-encode .* -fps_mode cfr -r 25 "):
        score_video(vfr, protocol="tst", window=(0, 3))


def test_constant_rate_file_passes_the_frame_time_check(tmp_path):
    path = write_video(tmp_path / "v.mp4", moving_square_frames(60), fps=30)
    times = []
    sum(1 for _ in iter_luma(path, times_ms=times))
    assert len(times) == 60 and constant_rate_problem(times, probe(path).fps) is None


def test_frame_times_off_by_more_than_a_frame_or_50_ms_are_a_problem():
    fps, n = 25.0, 500
    exact = 1000.0 * np.arange(n) / fps
    jitter = np.random.default_rng(0).uniform(-15, 15, n)  # camera jitter, < 1 frame (40 ms)
    assert constant_rate_problem(exact, fps) is None
    assert constant_rate_problem(exact + 120.0, fps) is None  # stream starting late
    assert constant_rate_problem(exact + jitter, fps) is None
    # Two frames dropped after the first at 60 frames/s: 33 ms late from then on, within 50 ms.
    assert constant_rate_problem(np.r_[0.0, 1000.0 * np.arange(3, 602) / 60.0], 60.0) is None
    # Wrong header rate: the file is really 30 frames/s; frame 8 is the first > 50 ms off.
    problem = constant_rate_problem(1000.0 * np.arange(n) / 30.0, fps)
    assert problem.startswith("frame 8 is at 0.267 s, not at 0.320 s") and "30 frames/s" in problem
    # Variable rate: a pause of 3 frame intervals in the middle.
    paused = exact + np.where(np.arange(n) >= 250, 120.0, 0.0)
    assert constant_rate_problem(paused, fps).startswith("frame 250 ")
    # No usable times: nothing to check.
    assert constant_rate_problem(np.zeros(n), fps) is None
    assert constant_rate_problem([0.0], fps) is None


def test_a_phone_clip_stored_sideways_is_measured_as_players_show_it(tmp_path):
    # Phones record portrait clips as landscape frames plus a turn in the track header. A lab
    # draws ROIs on the clip as a player shows it (upright), so frames and sizes must be upright.
    frames = list(moving_square_frames(40, size=(120, 160)))
    for f in frames:
        f[5:15, 5:25] = 255  # a white mark in the stored frame's top-left corner
    stored = write_video(tmp_path / "stored.mp4", frames)
    upright = set_display_matrix(stored, tmp_path / "phone.mp4")
    info = probe(upright)
    assert (info.width_px, info.height_px) == (120, 160)
    assert (info.turned_deg, probe(stored).turned_deg) == (90, 0)
    first = next(iter_luma(upright, info))
    assert first.shape == (160, 120)
    # Turned clockwise, the stored top-left corner is the upright top-right one.
    ys, xs = np.nonzero(first > 222)  # the mark (video-range luma tops out near 235)
    assert ys.max() < 30 and xs.min() > 90, (ys.min(), ys.max(), xs.min(), xs.max())
    # The moving square (stored x 20-110, y 40-80) lies at upright x 40-80, y 20-110.
    signals = compute_signals(upright, [Roi("mouse", 30, 10, 60, 110)])
    assert np.nanmedian(signals.frames["changed_px"]) > 100
    with pytest.raises(VideoError, match="lies outside the 120x160 frame"):
        compute_signals(upright, [Roi("mouse", 0, 0, 160, 120)])
