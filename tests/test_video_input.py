"""Bad and unusual video files give clear errors that name the file, or are measured correctly."""

from __future__ import annotations

import numpy as np
import pytest

from behavscore import score_video
from behavscore.signals import Roi, compute_signals
from behavscore.video import Retiming, VideoError, at_constant_rate, iter_luma, probe

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


def retimed(times_ms, fps):
    """Which input frame each constant-rate slot shows, and what was filled and dropped."""
    retiming = Retiming()
    return list(at_constant_rate(range(len(times_ms)), times_ms, fps, retiming)), retiming


def test_frames_are_placed_at_a_constant_rate_by_their_own_times(tmp_path):
    fps, n = 25.0, 500
    exact = 1000.0 * np.arange(n) / fps
    jitter = np.random.default_rng(0).uniform(-8, 8, n)  # camera jitter: first and any frame under half a frame apart
    for times in (exact, exact + 120.0, exact + jitter):  # on time, starting late, jittery
        assert retimed(times, fps) == (list(range(n)), Retiming())
    # A pause of 3 frame intervals after frame 4: the slots of the pause repeat frame 4.
    shown, retiming = retimed(np.r_[exact[:5], exact[5:] + 120.0], fps)
    assert shown[:9] == [0, 1, 2, 3, 4, 4, 4, 4, 5] and retiming == Retiming(filled=[5, 6, 7], dropped=0)
    # Two frames lost after the first at 60 frames/s (a real camera's file): filled at the start.
    shown, retiming = retimed(np.r_[0.0, 1000.0 * np.arange(3, 602) / 60.0], 60.0)
    assert shown[:5] == [0, 0, 0, 1, 2] and len(shown) == 602 and retiming.filled == [1, 2]
    # A file really at 30 frames/s under a header of 25: one frame in six left out.
    shown, retiming = retimed(1000.0 * np.arange(60) / 30.0, fps)
    assert len(shown) == 50 and retiming.dropped == 10 and not retiming.filled
    # A time stamp jumping an hour ahead (damaged, or the recording paused): closed up, not
    # an hour of repeated frames.
    shown, retiming = retimed(np.r_[exact[:5], exact[5:] + 3_600_000.0], fps)
    assert shown == list(range(n)) and retiming == Retiming(filled=[], dropped=0, closed_gaps=1)
    # No usable times (all the same, or none): every frame in its own slot.
    assert retimed(np.zeros(10), fps)[0] == list(range(10))
    assert retimed(np.full(10, np.nan), fps)[0] == list(range(10))
    # A constant-rate file's own times.
    path = write_video(tmp_path / "v.mp4", moving_square_frames(60), fps=30)
    times = []
    sum(1 for _ in iter_luma(path, times_ms=times))
    assert retimed(times, probe(path).fps) == (list(range(60)), Retiming())


def test_a_variable_frame_rate_file_is_scored_on_its_own_clock(tmp_path):
    # 100 frames: the first 50 at 25 frames/s, then 50 at 12.5 frames/s, as from a camera that
    # drops to half rate in dim light; the header gives the mean rate, 16.7 frames/s.
    cfr = write_video(tmp_path / "cfr.mp4", moving_square_frames(100), fps=25)
    tick = timescale(cfr) // 25
    vfr = set_frame_durations(cfr, tmp_path / "vfr.mp4", [tick] * 50 + [2 * tick] * 50)
    times = []
    assert sum(1 for _ in iter_luma(vfr, times_ms=times)) == 100
    assert times[49] - times[0] == pytest.approx(49 * 40) and times[99] - times[50] == pytest.approx(49 * 80)
    result = score_video(vfr, protocol="tst", window=(0, 5))
    signals = result.signals
    assert signals.fps == pytest.approx(100 / 6)
    # 6 s at 16.7 frames/s: the fast half loses a third of its frames, the slow half's gaps are filled.
    assert signals.n_frames == 100 and signals.frames_dropped == 17 and len(signals.filled_frames) == 17
    assert any("vfr.mp4: the frames are not at the header's constant 16.67 frames/s" in w and "17 frames filled in" in w for w in result.warnings)
    assert not any("of frames repeat the frame before" in w for w in result.warnings)  # said once, as timing
    from dataclasses import replace

    from behavscore.score import retiming_warning

    assert "1 gap(s) of more than 10 s in the file's times" in retiming_warning(replace(signals, gaps_closed=1))
    # The spot-check copy shows the frames as they were scored: one per slot of the constant rate.
    from behavscore.overlay import write_overlay

    out = write_overlay(vfr, result.seconds, None, tmp_path / "check.mp4", window_s=(0, 5))
    assert sum(1 for _ in iter_luma(out)) == signals.n_frames


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
