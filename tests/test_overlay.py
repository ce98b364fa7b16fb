"""Annotated overlay videos: running immobility, box colours per second, frame count, the command end to end."""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from behavscore.cli_overlay import HELP, overlay
from behavscore.overlay import (
    DIFFERS_COLOUR_BGR,
    LABEL_COLOURS_BGR,
    NO_LABEL_COLOUR_BGR,
    AnimalState,
    border_px,
    draw_frame,
    running_immobility_s,
    states_at,
    write_overlay,
)

FPS = 10.0
SIZE = (240, 320)  # height, width
ROI_A = ("A", 16, 16, 128, 192)
ROI_B = ("B", 176, 16, 128, 192)

runner = CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Test app."""

    app.command("overlay", help=HELP)(overlay)
    return app


def _write_grey_video(path, n_frames: int, fps: float = FPS, size=SIZE):
    h, w = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    assert writer.isOpened()
    for i in range(n_frames):
        frame = np.full((h, w, 3), 128, np.uint8)
        frame[100:140, 40 + 2 * i : 70 + 2 * i] = 60  # something that moves
        writer.write(frame)
    writer.release()
    return path


def _read_frames(path):
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    fps = cap.get(cv2.CAP_PROP_FPS)
    cap.release()
    return frames, fps


def _bottom_border_bgr(frame, roi) -> np.ndarray:
    """Mean colour of the middle of an ROI's bottom box edge (away from the text panel)."""
    _, x, y, w, h = roi
    t = border_px(frame.shape[0])
    band = frame[y + h - t + 1 : y + h - 1, x + 16 : x + w - 16]
    return band.reshape(-1, 3).mean(axis=0)


def _nearest_label(bgr) -> str:
    palette = {**LABEL_COLOURS_BGR, "none": NO_LABEL_COLOUR_BGR, "background": (128, 128, 128)}
    return min(palette, key=lambda k: np.linalg.norm(np.asarray(palette[k], float) - bgr))


def _seconds_table(video_name: str, labels_a, labels_b) -> pd.DataFrame:
    rows = []
    for animal, labels in (("A", labels_a), ("B", labels_b)):
        for s, label in enumerate(labels):
            rows.append({"video": video_name, "animal": animal, "second": s, "label": label, "motion": 1.0, "p_immobile": 0.5, "p_mobile": 0.5})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def grey_video(tmp_path_factory):
    """A 4-s, 10 frames/s, 320x240 video."""
    return _write_grey_video(tmp_path_factory.mktemp("overlay") / "clip.mp4", n_frames=40)


# --- running immobility -------------------------------------------------------------------------


def test_running_immobility_is_cumulative_sum_of_immobile_seconds_inside_window():
    labels = ["immobile", "immobile", "mobile", "immobile", "immobile", "mobile", "immobile", "immobile"]
    seconds = pd.DataFrame({"animal": "A", "second": range(8), "label": labels})
    running = running_immobility_s(seconds, window_s=(2, 7))
    # seconds 2..6 are scored: mobile, immobile, immobile, mobile, immobile -> 0,1,2,2,3; 0 before, 3 after
    assert running["immobile_s"].tolist() == [0, 0, 0, 1, 2, 2, 3, 3]
    assert running["in_window"].tolist() == [False, False, True, True, True, True, True, False]


def test_running_immobility_counts_each_animal_separately_and_ignores_missing_labels():
    seconds = pd.DataFrame(
        {
            "animal": ["B", "B", "B", "A", "A", "A"],
            "second": [2, 0, 1, 0, 1, 2],
            "label": ["immobile", "immobile", None, "immobile", "swimming", "immobile"],
        }
    )
    running = running_immobility_s(seconds, window_s=(0, 3))
    assert running["animal"].tolist() == ["B", "B", "B", "A", "A", "A"]  # order of first appearance
    assert running["second"].tolist() == [0, 1, 2, 0, 1, 2]
    assert running["immobile_s"].tolist() == [1, 1, 2, 1, 1, 2]


def test_running_immobility_ends_at_the_summary_immobility():
    rng = np.random.default_rng(0)
    labels = rng.choice(["immobile", "mobile"], size=60)
    seconds = pd.DataFrame({"animal": "A", "second": range(60), "label": labels})
    running = running_immobility_s(seconds, window_s=(12, 48))
    assert running["immobile_s"].iloc[-1] == np.sum(labels[12:48] == "immobile")


def test_states_carry_the_count_over_missing_seconds():
    seconds = pd.DataFrame({"animal": "A", "second": [0, 1, 3], "label": ["immobile", "immobile", "mobile"]})
    running = running_immobility_s(seconds, window_s=(0, 10))
    (state,) = states_at(running, [ROI_A], second=2)
    assert state.label is None and state.immobile_s == 2
    (state,) = states_at(running, [ROI_A], second=1)
    assert state.label == "immobile" and state.immobile_s == 2


# --- drawing -------------------------------------------------------------------------------------


def test_draw_frame_colours_each_box_by_its_label_and_leaves_input_alone():
    frame = np.full((*SIZE, 3), 128, np.uint8)
    states = [AnimalState("A", ROI_A[1:], "immobile", 3.0), AnimalState("B", ROI_B[1:], "mobile", 0.0)]
    drawn = draw_frame(frame, 1.5, states, window_s=(0, 4))
    assert (frame == 128).all()
    _, x, y, w, h = ROI_A
    assert tuple(drawn[y + h - 1, x + w // 2]) == LABEL_COLOURS_BGR["immobile"]
    assert tuple(drawn[y + h // 2, x]) == LABEL_COLOURS_BGR["immobile"]
    _, x, y, w, h = ROI_B
    assert tuple(drawn[y + h - 1, x + w // 2]) == LABEL_COLOURS_BGR["mobile"]
    assert tuple(drawn[y + h // 2, x + w - 1]) == LABEL_COLOURS_BGR["mobile"]
    assert tuple(drawn[y + h // 2, x + w // 2]) == (128, 128, 128)  # inside the box: untouched


def test_draw_frame_draws_unlabelled_seconds_grey():
    frame = np.full((*SIZE, 3), 50, np.uint8)
    drawn = draw_frame(frame, 0.0, [AnimalState("A", ROI_A[1:], None, 0.0)], window_s=(120, 360))
    _, x, y, w, h = ROI_A
    assert tuple(drawn[y + h - 1, x + w // 2]) == NO_LABEL_COLOUR_BGR


def _differs_marked(frame, roi, exact: bool = True) -> bool:
    """Whether the yellow DIFFERS mark is drawn in an ROI (exactly, or near it after video coding)."""
    _, x, y, w, h = roi
    panel = frame[y : y + h // 2, x : x + w].reshape(-1, 3).astype(int)
    if exact:
        return bool((panel == DIFFERS_COLOUR_BGR).all(axis=1).any())
    b, g, r = panel.T
    return bool(((b < 90) & (g > 170) & (r > 200)).sum() >= 5)


def test_draw_frame_marks_a_second_the_rater_labels_differently():
    frame = np.full((*SIZE, 3), 128, np.uint8)
    states = [AnimalState("A", ROI_A[1:], "immobile", 3.0, rater_label="mobile"), AnimalState("B", ROI_B[1:], "mobile", 0.0, rater_label="mobile")]
    drawn = draw_frame(frame, 1.5, states, window_s=(0, 4), rater="rater")
    assert _differs_marked(drawn, ROI_A) and not _differs_marked(drawn, ROI_B)
    assert not _differs_marked(draw_frame(frame, 1.5, states, window_s=(0, 4)), ROI_A)  # no rater, no mark
    # A 3-class scorer beside a 2-class rater: swimming is mobile.
    three = [AnimalState("A", ROI_A[1:], "swimming", 0.0, rater_label="mobile"), AnimalState("B", ROI_B[1:], "climbing", 0.0, rater_label="immobile")]
    drawn = draw_frame(frame, 1.5, three, window_s=(0, 4), rater="rater")
    assert not _differs_marked(drawn, ROI_A) and _differs_marked(drawn, ROI_B)


# --- writing videos ------------------------------------------------------------------------------


def test_overlay_keeps_frame_count_fps_and_size(grey_video, tmp_path):
    seconds = _seconds_table("clip.mp4", ["mobile"] * 4, ["mobile"] * 4)
    out = write_overlay(grey_video, seconds, [ROI_A, ROI_B], tmp_path / "o.mp4", window_s=(0, 4))
    frames, fps = _read_frames(out)
    source, source_fps = _read_frames(grey_video)
    assert len(frames) == len(source) == 40
    assert fps == pytest.approx(source_fps)
    assert frames[0].shape == source[0].shape == (*SIZE, 3)


def test_overlay_box_colour_follows_each_seconds_label(grey_video, tmp_path):
    seconds = _seconds_table("clip.mp4", ["mobile", "immobile", "mobile", None], ["immobile", "mobile", "immobile", "mobile"])
    out = write_overlay(grey_video, seconds, [ROI_A, ROI_B], tmp_path / "o.mp4", window_s=(0, 4))
    frames, _ = _read_frames(out)
    mid = [int((s + 0.5) * FPS) for s in range(4)]  # a frame in the middle of each second
    assert [_nearest_label(_bottom_border_bgr(frames[i], ROI_A)) for i in mid] == ["mobile", "immobile", "mobile", "none"]
    assert [_nearest_label(_bottom_border_bgr(frames[i], ROI_B)) for i in mid] == ["immobile", "mobile", "immobile", "mobile"]


def test_overlay_segment_has_the_segments_frames(grey_video, tmp_path):
    seconds = _seconds_table("clip.mp4", ["mobile", "mobile", "immobile", "immobile"], ["mobile"] * 4)
    out = write_overlay(grey_video, seconds, [ROI_A, ROI_B], tmp_path / "seg.mp4", window_s=(0, 4), start_s=1.5, end_s=3.0)
    frames, _ = _read_frames(out)
    assert len(frames) == 15
    # the segment starts in second 1 (mobile) and its last frames are in second 2 (immobile)
    assert _nearest_label(_bottom_border_bgr(frames[2], ROI_A)) == "mobile"
    assert _nearest_label(_bottom_border_bgr(frames[-3], ROI_A)) == "immobile"


def test_overlay_refuses_animal_missing_from_labels(grey_video, tmp_path):
    seconds = _seconds_table("clip.mp4", ["mobile"] * 4, ["mobile"] * 4)
    with pytest.raises(ValueError, match="'C'"):
        write_overlay(grey_video, seconds, [("C", 0, 0, 50, 50)], tmp_path / "o.mp4", window_s=(0, 4))
    assert not (tmp_path / "o.mp4").exists()


def test_overlay_refuses_segment_past_the_end(grey_video, tmp_path):
    seconds = _seconds_table("clip.mp4", ["mobile"] * 4, ["mobile"] * 4)
    with pytest.raises(ValueError, match="no frame"):
        write_overlay(grey_video, seconds, [ROI_A, ROI_B], tmp_path / "o.mp4", window_s=(0, 4), start_s=10)
    assert not list(tmp_path.iterdir())


# --- the command ---------------------------------------------------------------------------------


def _roi_args(*rois):
    return sum((["--roi", f"{a}={x},{y},{w},{h}"] for a, x, y, w, h in rois), [])


@pytest.fixture()
def results_dir(tmp_path, grey_video):
    folder = tmp_path / "results"
    folder.mkdir()
    _seconds_table(grey_video.name, ["mobile", "immobile", "immobile", "mobile"], ["mobile"] * 4).to_csv(folder / "seconds.csv", index=False)
    return folder


def test_command_draws_labels_from_results(grey_video, results_dir, tmp_path):
    out = tmp_path / "with_results.mp4"
    args = ["overlay", str(grey_video), "--results", str(results_dir), "--window", "0:4", "--out", str(out)]
    r = runner.invoke(_app(), args + _roi_args(ROI_A, ROI_B))
    assert r.exit_code == 0, r.output
    frames, _ = _read_frames(out)
    assert len(frames) == 40
    assert _nearest_label(_bottom_border_bgr(frames[15], ROI_A)) == "immobile"
    assert _nearest_label(_bottom_border_bgr(frames[35], ROI_A)) == "mobile"


def test_command_takes_rois_from_the_cohort_and_writes_to_the_current_folder(grey_video, results_dir, tmp_path, monkeypatch):
    cohort = grey_video.parent / "cohort.csv"  # beside the video: its 'video' column is relative to the table
    pd.DataFrame(
        [{"video": grey_video.name, "animal": a, "roi_x": x, "roi_y": y, "roi_w": w, "roi_h": h} for a, x, y, w, h in (ROI_A, ROI_B)]
    ).to_csv(cohort, index=False)
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(_app(), ["overlay", str(grey_video), "--results", str(results_dir), "--cohort", str(cohort)])
    assert r.exit_code == 0, r.output
    frames, _ = _read_frames(tmp_path / "clip_overlay.mp4")
    assert len(frames) == 40
    # no --window: FST's 120-360 s, so nothing is counted, but the labels are still drawn
    assert _nearest_label(_bottom_border_bgr(frames[15], ROI_A)) == "immobile"


def test_command_scores_the_video_when_no_results_are_given(tmp_path):
    from behavscore.synth import generate_video

    video = generate_video(tmp_path / "tst.mp4", "tst", seed=3, seconds=4, animals=2, fps=10, scale=0.5)
    out = tmp_path / "scored.mp4"
    r = runner.invoke(_app(), ["overlay", str(video.path), "--protocol", "tst", "--window", "0:4", "--out", str(out)] + _roi_args(*video.rois))
    assert r.exit_code == 0, r.output
    frames, _ = _read_frames(out)
    source, _ = _read_frames(video.path)
    assert len(frames) == len(source) == video.n_frames
    h, w = source[0].shape[:2]
    assert h < 120 and frames[0].shape == (3 * h, 3 * w, 3)  # a small video is enlarged for legible labels


def test_enlarged_overlay_keeps_boxes_on_their_animals(grey_video, tmp_path):
    seconds = _seconds_table("clip.mp4", ["mobile", "immobile", "mobile", None], ["immobile", "mobile", "immobile", "mobile"])
    out = write_overlay(grey_video, seconds, [ROI_A, ROI_B], tmp_path / "o.mp4", window_s=(0, 4), scale=2)
    frames, _ = _read_frames(out)
    assert frames[0].shape == (2 * SIZE[0], 2 * SIZE[1], 3)
    double = [(a, 2 * x, 2 * y, 2 * w, 2 * h) for a, x, y, w, h in (ROI_A, ROI_B)]
    mid = [int((s + 0.5) * FPS) for s in range(4)]
    assert [_nearest_label(_bottom_border_bgr(frames[i], double[0])) for i in mid] == ["mobile", "immobile", "mobile", "none"]
    assert [_nearest_label(_bottom_border_bgr(frames[i], double[1])) for i in mid] == ["immobile", "mobile", "immobile", "mobile"]


def test_command_without_results_or_roi_scores_the_whole_frame(grey_video, tmp_path):
    out = tmp_path / "whole.mp4"
    r = runner.invoke(_app(), ["overlay", str(grey_video), "--model", "threshold", "--window", "0:4", "--out", str(out), "--start-s", "1", "--end-s", "2"])
    assert r.exit_code == 0, r.output
    frames, _ = _read_frames(out)
    assert len(frames) == 10


def test_command_names_the_missing_video(tmp_path):
    r = runner.invoke(_app(), ["overlay", str(tmp_path / "absent.mp4"), "--out", str(tmp_path / "o.mp4")])
    assert r.exit_code == 2
    assert "absent.mp4" in r.output and "not found" in r.output


def test_command_names_seconds_csv_without_the_video(grey_video, tmp_path):
    folder = tmp_path / "other"
    folder.mkdir()
    _seconds_table("other.mp4", ["mobile"] * 4, ["mobile"] * 4).to_csv(folder / "seconds.csv", index=False)
    r = runner.invoke(_app(), ["overlay", str(grey_video), "--results", str(folder), "--out", str(tmp_path / "o.mp4")] + _roi_args(ROI_A))
    assert r.exit_code == 2
    assert "seconds.csv" in r.output and "clip.mp4" in r.output and "no rows" in r.output
    assert not (tmp_path / "o.mp4").exists()


def test_command_names_the_animal_missing_from_seconds_csv(grey_video, results_dir, tmp_path):
    args = ["overlay", str(grey_video), "--results", str(results_dir), "--out", str(tmp_path / "o.mp4")]
    r = runner.invoke(_app(), args + _roi_args(("Z", 0, 0, 50, 50)))
    assert r.exit_code == 2
    assert "seconds.csv" in r.output and "Z" in r.output and "not found" in r.output


def test_command_asks_for_rois_when_results_hold_several_animals(grey_video, results_dir, tmp_path):
    r = runner.invoke(_app(), ["overlay", str(grey_video), "--results", str(results_dir), "--out", str(tmp_path / "o.mp4")])
    assert r.exit_code == 2
    assert "--roi" in r.output


def test_command_takes_rois_and_window_that_score_recorded(grey_video, results_dir, tmp_path):
    import json

    pd.DataFrame(
        [{"video": grey_video.name, "animal": a, "protocol": "fst", "window_start_s": 1.0, "window_end_s": 3.0} for a in ("A", "B")]
    ).to_csv(results_dir / "summary.csv", index=False)
    record = {"parameters": {"command": "score", "rois": [list(ROI_A), list(ROI_B)]}, "inputs": [{"path": grey_video.name}]}
    (results_dir / "provenance.json").write_text(json.dumps(record))
    out = tmp_path / "recorded.mp4"
    r = runner.invoke(_app(), ["overlay", str(grey_video), "--results", str(results_dir), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "window 1-3 s" in r.output
    frames, _ = _read_frames(out)
    assert _nearest_label(_bottom_border_bgr(frames[15], ROI_A)) == "immobile"
    assert _nearest_label(_bottom_border_bgr(frames[15], ROI_B)) == "mobile"


def test_recorded_window_of_a_late_test_is_moved_onto_the_video(grey_video, results_dir, tmp_path):
    # A batch whose cohort gave test_start_s records the window in seconds of the test.
    pd.DataFrame(
        [{"video": grey_video.name, "animal": a, "test_start_s": 1.0, "protocol": "fst", "window_start_s": 0.0, "window_end_s": 2.0}
         for a in ("A", "B")]
    ).to_csv(results_dir / "summary.csv", index=False)
    args = ["overlay", str(grey_video), "--results", str(results_dir), "--out", str(tmp_path / "late.mp4")]
    r = runner.invoke(_app(), args + _roi_args(ROI_A) + _roi_args(ROI_B))
    assert r.exit_code == 0, r.output
    assert "window 1-3 s" in r.output


def test_command_draws_a_raters_labels_and_marks_where_they_differ(grey_video, results_dir, tmp_path):
    # The scorer (results_dir): A mobile, immobile, immobile, mobile. The rater: A immobile from 2 s.
    human = tmp_path / "rater.csv"
    _seconds_table(grey_video.name, ["mobile", "mobile", "immobile", "immobile"], ["mobile"] * 4).to_csv(human, index=False)
    out = tmp_path / "rated.mp4"
    args = ["overlay", str(grey_video), "--results", str(results_dir), "--window", "0:4", "--out", str(out), "--human", str(human)]
    r = runner.invoke(_app(), args + _roi_args(ROI_A, ROI_B))
    assert r.exit_code == 0, r.output
    frames, _ = _read_frames(out)
    marked = [_differs_marked(frames[int((s + 0.5) * FPS)], ROI_A, exact=False) for s in range(4)]
    assert marked == [False, True, False, True]
    assert not any(_differs_marked(f, ROI_B, exact=False) for f in frames)
    totals = tmp_path / "stopwatch.csv"
    totals.write_text("video,animal,immobility_s\nclip.mp4,A,2\n")
    r = runner.invoke(_app(), args[:-1] + [str(totals)] + _roi_args(ROI_A, ROI_B))
    assert r.exit_code != 0 and "per-animal totals have no seconds" in r.output
