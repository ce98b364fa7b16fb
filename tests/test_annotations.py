"""Tests for reading BORIS exports and per-second tables into per-second labels."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from behavscore.annotations import (
    AnnotationError,
    intervals_to_seconds,
    n_complete_seconds,
    parse_behaviour_map,
    parse_column_map,
    read_annotations,
    read_boris_aggregated,
    read_boris_events,
    read_per_animal,
    read_per_second,
)

# --------------------------------------------------------------------------- truth and BORIS writers

VIDEOS = {  # media path as BORIS stores it -> (duration_s, subjects)
    "/lab/videos/fst_01.mp4": (60.0, ["m1", "m2"]),
    "C:\\lab\\videos\\fst_02.mp4": (45.7, ["m3"]),
}
N_BINS = {60.0: 60, 45.7: 46}  # 45.7 s: the last bin [45, 46) is 0.7 s inside the video, so it counts
BOUNDARY_SHIFTS_S = (-0.4, -0.2, 0.0, 0.3, 0.5)  # 0.5: exact half-second tie, decided by the bin centre
TWO_CLASS_NAMES = {"immobile": "Immobility"}
THREE_CLASS_NAMES = {"immobile": "Immobility", "swimming": "Swimming", "climbing": "Climbing"}


def _basename(media: str) -> str:
    return re.split(r"[\\/]", media)[-1]


def make_truth(seed: int, three_class: bool):
    """Known per-second labels and the shifted state intervals that must reproduce them.

    Runs are at least 2 s long and every boundary moves by one of BOUNDARY_SHIFTS_S, so each
    bin touched by a boundary keeps its label under the majority rule (ties: bin centre).
    """
    rng = np.random.default_rng(seed)
    labels = ("immobile", "swimming", "climbing") if three_class else ("immobile", "mobile")
    rows, intervals = [], []
    for media, (duration_s, subjects) in VIDEOS.items():
        n_bins = N_BINS[duration_s]
        for subject in subjects:
            bounds = [0]
            while bounds[-1] < n_bins:
                bounds.append(bounds[-1] + int(rng.integers(2, 9)))
            if bounds[-1] > n_bins:
                bounds[-1] = n_bins
            if bounds[-1] - bounds[-2] < 2:
                bounds.pop(-2)
            run_labels = [labels[int(rng.integers(len(labels)))]]
            for _ in range(len(bounds) - 2):
                run_labels.append(rng.choice([lab for lab in labels if lab != run_labels[-1]]))
            times = [0.0] + [b + float(rng.choice(BOUNDARY_SHIFTS_S)) for b in bounds[1:-1]] + [duration_s]
            for (b0, b1), lab, t0, t1 in zip(zip(bounds[:-1], bounds[1:]), run_labels, times[:-1], times[1:]):
                rows += [(_basename(media), subject, s, lab) for s in range(b0, b1)]
                intervals.append((media, subject, lab, t0, t1))
    truth = pd.DataFrame(rows, columns=["video", "animal", "second", "label"])
    truth = truth.sort_values(["video", "animal", "second"]).reset_index(drop=True)
    return truth, intervals


def _state_events(intervals, names):
    """(time, order, media, subject, behaviour, START/STOP) sorted as BORIS lists them."""
    events = []
    for media, subject, lab, t0, t1 in intervals:
        if lab not in names:  # the default label is not coded
            continue
        events.append((round(t0, 3), 1, media, subject, names[lab], "START"))
        events.append((round(t1, 3), 0, media, subject, names[lab], "STOP"))
    return sorted(events, key=lambda e: (e[2], e[0], e[1], e[3]))


def write_rows(path: Path, rows, delimiter: str) -> None:
    with open(path, "w", newline="") as fh:
        csv.writer(fh, delimiter=delimiter).writerows(rows)


CURRENT_HEADER = [
    "Observation id", "Observation date", "Description", "Observation duration", "Observation type",
    "Source", "Time offset (s)", "Media duration (s)", "FPS", "Subject", "Behavior",
    "Behavioral category", "Behavior type", "Time", "Media file name", "Image index",
    "Image file path", "Comment",
]


def boris_current_rows(intervals, names, points=()):
    rows = [CURRENT_HEADER]
    events = _state_events(intervals, names) + [(t, 2, m, s, b, "POINT") for t, m, s, b in points]
    events.sort(key=lambda e: (e[2], e[0], e[1], e[3]))
    for t, _, media, subject, behaviour, kind in events:
        duration_s = VIDEOS[media][0]
        rows.append([
            f"obs_{_basename(media)}", "2024-05-02 10:00:00", "FST day 2", f"{duration_s:.3f}", "Media file(s)",
            f"player #1:{media}", "0.0", f"{duration_s:.3f}", "30.000", subject, behaviour, "",
            kind, f"{t:.3f}", media, str(int(t * 30)), "NA", "",
        ])
    return rows


def boris_old_rows(intervals, names, media, pad: bool, offset_s: float = 0.0):
    header = ["Time", "Media file path", "Total length", "FPS", "Subject", "Behavior",
              "Behavioral category", "Comment", "Status"]
    width = len(header) if pad else 0
    meta = [
        ["Observation id", f"obs_{_basename(media)}"], [""], ["Media file(s)"], ["Player #1", media], [""],
        ["Observation date", "2019-03-01 10:00:00"], [""], ["Description", "old export"], [""],
        ["Time offset (s)", f"{offset_s:.3f}"], [""], [""],
    ]
    rows = [r + [""] * (width - len(r)) for r in meta] + [header]
    for t, _, m, subject, behaviour, kind in _state_events(intervals, names):
        if m != media:
            continue
        rows.append([f"{t + offset_s:.3f}", m, f"{VIDEOS[m][0]:.3f}", "30", subject, behaviour, "", "", kind])
    return rows


def boris_aggregated_rows(intervals, names, layout: str, points=()):
    """Aggregated export; layout "newer" (Media file name), "source" (Source only) or "media_file"."""
    newer = layout == "newer"
    if newer:
        header = ["Observation id", "Observation date", "Description", "Observation type", "Source",
                  "Time offset (s)", "Coding duration", "Media duration (s)", "FPS", "Subject",
                  "Observation duration by subject by observation", "Behavior", "Behavioral category",
                  "Behavior type", "Start (s)", "Stop (s)", "Duration (s)", "Media file name",
                  "Image index start", "Image index stop", "Image file path start", "Image file path stop",
                  "Comment start", "Comment stop"]
    else:
        header = ["Observation id", "Observation date", "Description", "Observation type", "Source",
                  "Total length", "FPS", "Subject", "Observation duration by subject by observation",
                  "Behavior", "Behavioral category", "Modifiers", "Behavior type", "Start (s)", "Stop (s)",
                  "Duration (s)", "Image index start", "Image index stop", "Image file path start",
                  "Image file path stop", "Comment start", "Comment stop"]
    if layout == "media_file":
        header = ["Media file" if h == "Source" else h for h in header]
    rows = [header]
    items = [(m, s, names[lab], "STATE", t0, t1) for m, s, lab, t0, t1 in intervals if lab in names]
    items += [(m, s, b, "POINT", t, t) for t, m, s, b in points]
    for media, subject, behaviour, kind, t0, t1 in sorted(items, key=lambda r: (r[0], r[1], r[4])):
        duration_s = VIDEOS[media][0]
        dur = f"{t1 - t0:.3f}" if kind == "STATE" else "NA"
        common = [f"obs_{_basename(media)}", "2024-05-02 10:00:00", "", "Media file", f"player #1:{media}"]
        if newer:
            rows.append(common + ["0.0", f"{duration_s:.3f}", f"{duration_s:.3f}", "30.000", subject, "",
                                  behaviour, "", kind, f"{t0:.3f}", f"{t1:.3f}", dur, media,
                                  "NA", "NA", "NA", "NA", "", ""])
        else:
            rows.append(common + [f"{duration_s:.3f}", "30.000", subject, "", behaviour, "", "", kind,
                                  f"{t0:.3f}", f"{t1:.3f}", dur, "NA", "NA", "NA", "NA", "", ""])
    return rows


def _four(df: pd.DataFrame) -> pd.DataFrame:
    out = df[["video", "animal", "second", "label"]].sort_values(["video", "animal", "second"])
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("delimiter,suffix", [(",", ".csv"), ("\t", ".tsv")])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_boris_current_tabular_export_round_trips_to_the_same_seconds(tmp_path, delimiter, suffix, seed):
    truth, intervals = make_truth(seed, three_class=False)
    points = [(12.0, "/lab/videos/fst_01.mp4", "m1", "Observer note"), (3.0, "C:\\lab\\videos\\fst_02.mp4", "m3", "Observer note")]
    path = tmp_path / f"events{suffix}"
    write_rows(path, boris_current_rows(intervals, TWO_CLASS_NAMES, points), delimiter)
    got = read_annotations(path, behaviour_map={"Immobility": "immobile"})
    pd.testing.assert_frame_equal(_four(got), truth, check_dtype=False)
    assert got.attrs["format"] == "boris_events"
    assert got.attrs["ignored_point_events"] == 2
    assert got["second"].dtype == np.int64


@pytest.mark.parametrize("delimiter,suffix", [(",", ".csv"), ("\t", ".tsv")])
def test_boris_three_class_export_round_trips_with_a_lab_mapping(tmp_path, delimiter, suffix):
    truth, intervals = make_truth(7, three_class=True)
    path = tmp_path / f"events{suffix}"
    write_rows(path, boris_current_rows(intervals, THREE_CLASS_NAMES), delimiter)
    got = read_boris_events(path, behaviour_map=parse_behaviour_map("immobility=immobile,SWIMMING=swimming,Climbing=climbing"))
    pd.testing.assert_frame_equal(_four(got), truth, check_dtype=False)


@pytest.mark.parametrize("delimiter,suffix", [(",", ".csv"), ("\t", ".tsv")])
@pytest.mark.parametrize("pad", [True, False])
def test_boris_old_layout_with_metadata_lines_round_trips(tmp_path, delimiter, suffix, pad):
    truth, intervals = make_truth(4, three_class=False)
    parts = []
    for i, media in enumerate(VIDEOS):
        path = tmp_path / f"old_{i}{suffix}"
        write_rows(path, boris_old_rows(intervals, TWO_CLASS_NAMES, media, pad=pad), delimiter)
        parts.append(read_annotations(path, behaviour_map={"Immobility": "immobile"}))
    got = pd.concat(parts, ignore_index=True)
    pd.testing.assert_frame_equal(_four(got), truth, check_dtype=False)
    assert parts[0].attrs["format"] == "boris_events"


def test_boris_time_offset_is_subtracted_from_event_times(tmp_path):
    truth, intervals = make_truth(5, three_class=False)
    media = "/lab/videos/fst_01.mp4"
    path = tmp_path / "offset.csv"
    write_rows(path, boris_old_rows(intervals, TWO_CLASS_NAMES, media, pad=True, offset_s=5.0), ",")
    got = read_boris_events(path, behaviour_map={"Immobility": "immobile"})
    pd.testing.assert_frame_equal(_four(got), truth[truth["video"] == "fst_01.mp4"].reset_index(drop=True), check_dtype=False)


@pytest.mark.parametrize("layout", ["newer", "source", "media_file"])
@pytest.mark.parametrize("delimiter,suffix", [(",", ".csv"), ("\t", ".tsv")])
def test_boris_aggregated_export_round_trips(tmp_path, layout, delimiter, suffix):
    truth, intervals = make_truth(11, three_class=True)
    points = [(20.2, "/lab/videos/fst_01.mp4", "m2", "Head shake")]
    path = tmp_path / f"aggregated{suffix}"
    write_rows(path, boris_aggregated_rows(intervals, THREE_CLASS_NAMES, layout, points), delimiter)
    mapping = {"Immobility": "immobile", "Swimming": "swimming", "Climbing": "climbing"}
    got = read_annotations(path, behaviour_map=mapping)
    assert got.attrs["format"] == "boris_aggregated"
    pd.testing.assert_frame_equal(got, read_boris_aggregated(path, behaviour_map=mapping))
    assert got.attrs["ignored_point_events"] == 1
    pd.testing.assert_frame_equal(_four(got), truth, check_dtype=False)


def test_per_second_table_round_trips_and_passes_other_columns_through(tmp_path):
    truth, _ = make_truth(3, three_class=False)
    table = truth.assign(motion=np.linspace(0, 1, len(truth)), p_immobile=0.5)
    path = tmp_path / "seconds.csv"
    table.sample(frac=1.0, random_state=0).to_csv(path, index=False)
    got = read_annotations(path)
    assert got.attrs["format"] == "per_second"
    pd.testing.assert_frame_equal(_four(got), truth, check_dtype=False)
    assert np.allclose(got["motion"], table["motion"])
    assert set(got.columns) == {"video", "animal", "second", "label", "motion", "p_immobile"}


def test_semicolon_separated_per_second_table_is_detected(tmp_path):
    path = tmp_path / "hand.csv"
    path.write_text("video;animal;second;label\nv.mp4;m1;0;Immobile\nv.mp4;m1;1;mobile\n")
    got = read_per_second(path)
    assert got["label"].tolist() == ["immobile", "mobile"]


# --------------------------------------------------------------------------- conversion rules


def _iv(*rows):
    return pd.DataFrame(rows, columns=["video", "animal", "label", "start_s", "stop_s"])


def test_majority_rule_and_exact_half_second_ties_go_to_the_bin_centre():
    got = intervals_to_seconds(_iv(("v", "a", "immobile", 10.5, 20.5), ("v", "a", "immobile", 23.4, 25.6),
                                   ("v", "a", "immobile", 27.6, 28.4)), duration_s=30)
    immobile = got.loc[got["label"] == "immobile", "second"].tolist()
    # 10: tie, centre 10.5 inside; 20: tie, centre 20.5 outside; 23 and 25: 0.6 s; 27, 28: 0.4 s
    assert immobile == list(range(10, 20)) + [23, 24, 25]
    assert len(got) == 30 and set(got["label"]) == {"immobile", "mobile"}


def test_three_way_split_bin_takes_the_largest_share():
    got = intervals_to_seconds(
        _iv(("v", "a", "swimming", 0.0, 5.3), ("v", "a", "immobile", 5.3, 5.55), ("v", "a", "climbing", 5.55, 10.0)),
        default_label="mobile", duration_s=10,
    )
    # bin 5: swimming 0.30 s, immobile 0.25 s, climbing 0.45 s
    assert got.loc[got["second"] == 5, "label"].item() == "climbing"


def test_uncovered_time_gets_the_default_label():
    got = intervals_to_seconds(_iv(("v", "a", "immobile", 2, 4)), default_label="swimming", duration_s=6)
    assert got["label"].tolist() == ["swimming", "swimming", "immobile", "immobile", "swimming", "swimming"]


def test_number_of_bins_keeps_a_last_bin_at_least_half_inside_the_video():
    assert n_complete_seconds(360.0) == 360
    assert n_complete_seconds(359.87) == 360
    assert n_complete_seconds(359.5) == 360
    assert n_complete_seconds(359.49) == 359
    assert n_complete_seconds(0.4) == 0


def test_animals_without_states_get_the_default_label_for_the_whole_video():
    got = intervals_to_seconds(_iv(("v", "a", "immobile", 0, 2)), duration_s={"v": 3}, animals=[("v", "b")])
    assert got.loc[got["animal"] == "b", "label"].tolist() == ["mobile"] * 3


def test_overlapping_states_with_the_same_label_are_merged():
    got = intervals_to_seconds(_iv(("v", "a", "immobile", 1, 3), ("v", "a", "immobile", 2, 4)), duration_s=5)
    assert got["label"].tolist() == ["mobile", "immobile", "immobile", "immobile", "mobile"]


def test_behaviour_map_parsing_accepts_commas_semicolons_and_colons():
    assert parse_behaviour_map("Immobility=immobile; Struggling : mobile,Grooming=IGNORE") == {
        "Immobility": "immobile", "Struggling": "mobile", "Grooming": "ignore",
    }
    with pytest.raises(ValueError, match="Floating"):
        parse_behaviour_map("Floating=still")


def test_ignored_behaviours_and_mapped_points(tmp_path):
    path = tmp_path / "events.csv"
    write_rows(path, [
        ["Subject", "Behavior", "Behavior type", "Time", "Media file name", "Media duration (s)"],
        ["m1", "Grooming", "START", "0.0", "v.mp4", "10"],
        ["m1", "Grooming", "STOP", "4.0", "v.mp4", "10"],
        ["m1", "Freeze", "POINT", "6.7", "v.mp4", "10"],
        ["m1", "Sniff", "POINT", "7.0", "v.mp4", "10"],
    ], ",")
    got = read_boris_events(path, behaviour_map={"grooming": "ignore", "freeze": "immobile"})
    assert got["label"].tolist() == ["mobile"] * 6 + ["immobile"] + ["mobile"] * 3
    assert got.attrs["ignored_point_events"] == 1


def test_missing_subject_uses_default_animal_or_media_stem(tmp_path):
    path = tmp_path / "events.tsv"
    write_rows(path, [
        ["Subject", "Behavior", "Behavior type", "Time", "Media file name", "Media duration (s)"],
        ["", "Immobility", "START", "1.0", "D:\\tst\\tst_07.avi", "4"],
        ["No focal subject", "Immobility", "STOP", "3.0", "D:\\tst\\tst_07.avi", "4"],
    ], "\t")
    stem = read_boris_events(path, behaviour_map={"Immobility": "immobile"})
    assert set(stem["animal"]) == {"tst_07"} and set(stem["video"]) == {"tst_07.avi"}
    named = read_boris_events(path, behaviour_map={"Immobility": "immobile"}, default_animal="rat9")
    assert set(named["animal"]) == {"rat9"}
    assert named["label"].tolist() == ["mobile", "immobile", "immobile", "mobile"]


def test_subject_names_can_be_mapped_to_animal_ids(tmp_path):
    path = tmp_path / "events.csv"
    write_rows(path, [
        ["Subject", "Behavior", "Behavior type", "Time", "Media file name", "Media duration (s)"],
        ["Mouse 1", "Immobility", "START", "0.0", "v.mp4", "2"],
        ["Mouse 1", "Immobility", "STOP", "1.0", "v.mp4", "2"],
    ], ",")
    got = read_boris_events(path, behaviour_map={"Immobility": "immobile"}, animal_map={"mouse 1": "m01"})
    assert set(got["animal"]) == {"m01"}


def test_explicit_duration_overrides_and_extends_the_table(tmp_path):
    path = tmp_path / "events.csv"
    write_rows(path, [
        ["Subject", "Behavior", "Behavior type", "Time", "Media file name"],
        ["m1", "Immobility", "START", "1.0", "v.mp4"],
        ["m1", "Immobility", "STOP", "2.0", "v.mp4"],
    ], ",")
    assert len(read_boris_events(path, behaviour_map={"Immobility": "immobile"})) == 2  # last event time
    got = read_boris_events(path, behaviour_map={"Immobility": "immobile"}, duration_s={"v.mp4": 5})
    assert got["label"].tolist() == ["mobile", "immobile", "mobile", "mobile", "mobile"]


# --------------------------------------------------------------------------- errors name file and line

HEADER = ["Subject", "Behavior", "Behavior type", "Time", "Media file name", "Media duration (s)"]


def _events_file(tmp_path, rows, name="annotations.tsv"):
    path = tmp_path / name
    write_rows(path, [HEADER] + rows, "\t")
    return path


def _error(path, **kwargs) -> str:
    with pytest.raises(AnnotationError) as info:
        read_annotations(path, **kwargs)
    return str(info.value)


MAP = {"Immobility": "immobile", "Swimming": "swimming"}


def test_unpaired_stop_names_file_line_behaviour_and_subject(tmp_path):
    path = _events_file(tmp_path, [
        ["m3", "Immobility", "START", "1", "v.mp4", "60"],
        ["m3", "Immobility", "STOP", "2", "v.mp4", "60"],
        ["m3", "Immobility", "STOP", "5", "v.mp4", "60"],
    ])
    msg = _error(path, behaviour_map=MAP)
    assert msg.startswith("annotations.tsv, line 4: STOP of 'Immobility' for subject 'm3' has no matching START")


def test_unpaired_start_at_end_of_file_names_its_line(tmp_path):
    path = _events_file(tmp_path, [
        ["m1", "Immobility", "START", "1", "v.mp4", "60"],
        ["m2", "Immobility", "START", "2", "v.mp4", "60"],
        ["m1", "Immobility", "STOP", "3", "v.mp4", "60"],
    ])
    msg = _error(path, behaviour_map=MAP)
    assert msg.startswith("annotations.tsv, line 3: START of 'Immobility' for subject 'm2' has no matching STOP")


def test_second_start_before_stop_is_an_unpaired_start(tmp_path):
    path = _events_file(tmp_path, [
        ["m1", "Immobility", "START", "1", "v.mp4", "60"],
        ["m1", "Immobility", "START", "2", "v.mp4", "60"],
    ])
    msg = _error(path, behaviour_map=MAP)
    assert "annotations.tsv, line 3" in msg and "line 2 has no matching STOP" in msg


def test_unknown_behaviour_names_file_line_and_known_names(tmp_path):
    path = _events_file(tmp_path, [
        ["m1", "Immobility", "START", "1", "v.mp4", "60"],
        ["m1", "Immobility", "STOP", "2", "v.mp4", "60"],
        ["m1", "Struggling", "START", "3", "v.mp4", "60"],
    ])
    msg = _error(path, behaviour_map=MAP)
    assert msg.startswith("annotations.tsv, line 4: unknown behaviour 'Struggling'")
    assert "immobility" in msg and "swimming" in msg and "--map" in msg


def test_time_past_the_media_duration_names_file_and_line(tmp_path):
    path = _events_file(tmp_path, [
        ["m1", "Immobility", "START", "50", "v.mp4", "60.000"],
        ["m1", "Immobility", "STOP", "61.5", "v.mp4", "60.000"],
    ])
    msg = _error(path, behaviour_map=MAP)
    assert msg.startswith("annotations.tsv, line 3: time 61.5 s is past the end of video 'v.mp4'")


def test_time_past_an_explicit_duration_names_file_and_line(tmp_path):
    path = tmp_path / "agg.csv"
    write_rows(path, [
        ["Subject", "Behavior", "Behavior type", "Start (s)", "Stop (s)", "Duration (s)", "Media file name"],
        ["m1", "Immobility", "STATE", "10", "20", "10", "v.mp4"],
        ["m1", "Immobility", "STATE", "30", "45", "15", "v.mp4"],
    ], ",")
    msg = _error(path, behaviour_map=MAP, duration_s=40.0)
    assert msg.startswith("agg.csv, line 3: stop 45 s is past the end of video 'v.mp4'")


def test_per_second_row_past_the_video_end_names_file_and_line(tmp_path):
    path = tmp_path / "hand.csv"
    path.write_text("video,animal,second,label\nv.mp4,m1,0,immobile\nv.mp4,m1,9,immobile\n")
    msg = _error(path, duration_s={"v.mp4": 5})
    assert msg.startswith("hand.csv, line 3: second 9 is past the end of video 'v.mp4'")


def test_overlapping_states_name_file_and_both_lines(tmp_path):
    path = _events_file(tmp_path, [
        ["m1", "Immobility", "START", "10", "v.mp4", "60"],
        ["m1", "Swimming", "START", "15", "v.mp4", "60"],
        ["m1", "Immobility", "STOP", "20", "v.mp4", "60"],
        ["m1", "Swimming", "STOP", "25", "v.mp4", "60"],
    ])
    msg = _error(path, behaviour_map=MAP)
    assert msg.startswith("annotations.tsv, lines 2-4 and 3-5: overlapping states")
    assert "'m1'" in msg and "v.mp4" in msg


def test_missing_required_column_names_file_and_header_line(tmp_path):
    path = tmp_path / "old.csv"
    rows = [["Observation id", "o1"], [""], ["Time offset (s)", "0"], [""],
            ["Time", "Media file path", "Total length", "FPS", "Subject", "Behavior", "Comment"],
            ["1.0", "v.mp4", "60", "30", "m1", "Immobility", ""]]
    write_rows(path, rows, ",")
    msg = _error(path, behaviour_map=MAP)
    assert msg.startswith("old.csv, line 5: missing required column(s) 'Behavior type' or 'Status'")
    assert "'Time', 'Media file path'" in msg  # the columns found are listed


def test_aggregated_export_without_stop_column_names_file_and_line(tmp_path):
    path = tmp_path / "agg.tsv"
    write_rows(path, [["Subject", "Behavior", "Behavior type", "Start (s)", "Media file name"],
                      ["m1", "Immobility", "STATE", "1.0", "v.mp4"]], "\t")
    assert _error(path, behaviour_map=MAP).startswith("agg.tsv, line 1: missing required column(s) 'Stop (s)'")


def test_per_second_table_without_label_column_names_file_and_line(tmp_path):
    path = tmp_path / "hand.csv"
    path.write_text("video,animal,second,state\nv.mp4,m1,0,immobile\n")
    assert _error(path).startswith("hand.csv, line 1: missing required column(s) 'label'")


def test_empty_file_names_file_and_line(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("\n  \n")
    assert _error(path) == "empty.csv, line 1: file is empty"


def test_header_without_rows_names_file_and_line(tmp_path):
    path = _events_file(tmp_path, [], name="noevents.tsv")
    assert _error(path).startswith("noevents.tsv, line 1: no rows after the header")


def test_unrecognised_file_names_file_and_line(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("this is not\nan annotation file\n")
    assert _error(path).startswith("notes.txt, line 1: no header row found")


def test_per_second_unknown_label_and_duplicate_second_name_the_line(tmp_path):
    path = tmp_path / "hand.csv"
    path.write_text("video,animal,second,label\nv.mp4,m1,0,immobile\nv.mp4,m1,1,floating\n")
    assert _error(path).startswith("hand.csv, line 3: unknown label 'floating'")
    path.write_text("video,animal,second,label\nv.mp4,m1,0,immobile\nv.mp4,m1,1,mobile\nv.mp4,m1,0,mobile\n")
    assert _error(path).startswith("hand.csv, line 4: second 0 of animal 'm1' in video 'v.mp4' already given at line 2")


def test_bad_time_value_names_file_and_line(tmp_path):
    path = _events_file(tmp_path, [["m1", "Immobility", "START", "soon", "v.mp4", "60"]])
    assert _error(path, behaviour_map=MAP).startswith("annotations.tsv, line 2: time 'soon' is not a number of seconds")


def test_playlist_observation_is_refused_with_file_and_line(tmp_path):
    path = tmp_path / "events.csv"
    write_rows(path, [
        ["Source", "Subject", "Behavior", "Behavior type", "Time", "Media file name"],
        ["player #1:/v/a.mp4;/v/b.mp4", "m1", "Immobility", "START", "1", "/v/a.mp4"],
    ], ",")
    assert _error(path, behaviour_map=MAP).startswith("events.csv, line 2: the observation plays several media files")


# --------------------------------------------------------------------------- per-animal hand totals


def test_a_stopwatch_sheet_is_read_as_per_animal_totals(tmp_path):
    # A lab's sheet: semicolon-separated with decimal commas, m:ss times, an extra column, a
    # latency left empty for a mouse that never stopped, the video given with its folder.
    path = tmp_path / "stopwatch.csv"
    path.write_text(
        "video;animal;treatment;immobility_s;latency_s\n"
        "C:\\lab\\fst_01.mp4;m2;drug;2:35;1:02\n"
        "C:\\lab\\fst_01.mp4;m1;vehicle;171,5;48\n"
        "fst_02.mp4;m3;drug;0;\n"
    )
    table = read_annotations(path)
    assert table.attrs["format"] == "per_animal" and table.attrs["window_s"] is None
    assert table["animal"].tolist() == ["m1", "m2", "m3"] and set(table["video"]) == {"fst_01.mp4", "fst_02.mp4"}
    assert table["immobility_s"].tolist() == [171.5, 155.0, 0.0]
    assert table["latency_s"].tolist()[:2] == [48.0, 62.0] and np.isnan(table["latency_s"].iloc[2])
    assert "treatment" not in table.columns


def test_a_summary_csv_is_read_as_totals_over_its_window(tmp_path):
    path = tmp_path / "summary.csv"
    path.write_text(
        "video,animal,protocol,window_start_s,window_end_s,immobility_s,immobility_pct,latency_s,immobility_counts,status\n"
        "fst_01.mp4,m1,fst,120,360,150,62.5,3,30,ok\n"
        "fst_01.mp4,m2,fst,120,360,90,37.5,,18,ok\n"
    )
    table = read_per_animal(path)
    assert table.attrs["window_s"] == (120.0, 360.0)
    assert table.columns.tolist() == ["video", "animal", "immobility_s", "latency_s", "immobility_counts"]


@pytest.mark.parametrize(
    "rows, message",
    [
        ("v.mp4,m1,-3\n", "line 2: immobility_s '-3' is negative"),
        ("v.mp4,m1,lots\n", "line 2: immobility_s 'lots' is not a number of seconds"),
        ("v.mp4,m1,10\nv.mp4,m1,12\n", "line 3: animal 'm1' of video 'v.mp4' is already on line 2"),
        ("v.mp4,,10\n", "line 2: missing video or animal"),
    ],
)
def test_bad_per_animal_totals_name_the_file_and_line(tmp_path, rows, message):
    path = tmp_path / "totals.csv"
    path.write_text("video,animal,immobility_s\n" + rows)
    with pytest.raises(AnnotationError, match=re.escape(f"totals.csv, {message}")):
        read_annotations(path)


def test_counts_must_be_whole_and_windows_the_same_in_every_row(tmp_path):
    path = tmp_path / "tally.csv"
    path.write_text("video,animal,climbing_counts\nv.mp4,m1,12.5\n")
    with pytest.raises(AnnotationError, match=r"tally.csv, line 2: climbing_counts '12.5' is not a whole number"):
        read_per_animal(path)
    path.write_text("video,animal,window_start_s,window_end_s,immobility_s\nv.mp4,m1,120,360,100\nv.mp4,m2,0,360,100\n")
    with pytest.raises(AnnotationError, match=r"tally.csv: lines 2 and 3 cover different windows \(120-360 s and 0-360 s\)"):
        read_per_animal(path)


def test_seconds_without_a_label_are_left_out_and_counted(tmp_path):
    # The scorer writes an empty label for every second of an ROI in which it saw no animal.
    path = tmp_path / "seconds.csv"
    path.write_text("video,animal,second,label,motion\nv.mp4,m1,0,immobile,1.0\nv.mp4,m1,1,mobile,30\nv.mp4,m2,0,,\nv.mp4,m2,1,,\n")
    table = read_annotations(path)
    assert table["animal"].tolist() == ["m1", "m1"] and table.attrs["unlabelled_seconds"] == 2


# --------------------------------------------------------------------------- a folder of exports


def test_a_folder_of_boris_exports_one_per_observation_reads_as_one_table(tmp_path):
    # BORIS writes one file per observation when several are exported; a folder of them is read whole.
    truth, intervals = make_truth(4, three_class=True)
    folder = tmp_path / "boris"
    folder.mkdir()
    for media in VIDEOS:
        mine = [iv for iv in intervals if iv[0] == media]
        write_rows(folder / f"obs_{_basename(media)}.tsv", boris_current_rows(mine, THREE_CLASS_NAMES), "\t")
    (folder / "notes.md").write_text("not an export: left alone\n")
    got = read_annotations(folder, behaviour_map={v: k for k, v in THREE_CLASS_NAMES.items()}, default_label="swimming")
    pd.testing.assert_frame_equal(_four(got), truth, check_dtype=False)
    assert got.attrs["format"] == "folder of 2 files (boris_events)"


def test_a_folder_in_which_two_files_score_the_same_second_names_both(tmp_path):
    truth, intervals = make_truth(5, three_class=False)
    folder = tmp_path / "raters"
    folder.mkdir()
    write_rows(folder / "rater_a.csv", boris_current_rows(intervals, TWO_CLASS_NAMES), ",")
    write_rows(folder / "rater_b.csv", boris_current_rows(intervals, TWO_CLASS_NAMES), ",")
    with pytest.raises(AnnotationError, match=r"raters: rater_a.csv and rater_b.csv both score animal 'm1' of video 'fst_01.mp4', second 0"):
        read_annotations(folder, behaviour_map={"Immobility": "immobile"})


def test_a_folder_mixing_seconds_and_totals_or_holding_nothing_is_refused(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    with pytest.raises(AnnotationError, match="mixed: no annotation files"):
        read_annotations(folder)
    (folder / "seconds.csv").write_text("video,animal,second,label\nv.mp4,m1,0,immobile\n")
    (folder / "stopwatch.csv").write_text("video,animal,immobility_s\nv.mp4,m2,100\n")
    with pytest.raises(AnnotationError, match=r"per-second annotations \(seconds.csv\) and per-animal totals \(stopwatch.csv\)"):
        read_annotations(folder)
    (folder / "seconds.csv").unlink()
    (folder / "more.csv").write_text("video,animal,immobility_s\nv.mp4,m1,90\n")
    both = read_annotations(folder)
    assert both["animal"].tolist() == ["m1", "m2"] and both.attrs["window_s"] is None


def test_a_sheet_of_animal_ids_and_times_needs_no_video_column(tmp_path):
    path = tmp_path / "stopwatch.csv"
    path.write_text("animal,immobility_s\nm1,171.5\nm2,2:35\n")
    table = read_annotations(path)
    assert table.attrs["format"] == "per_animal" and table["video"].tolist() == ["", ""]
    assert table["immobility_s"].tolist() == [171.5, 155.0]
    path.write_text("animal,immobility_s\nm1,171.5\nm1,155\n")
    with pytest.raises(AnnotationError, match="stopwatch.csv, line 3: animal 'm1' is already on line 2"):
        read_annotations(path)


def test_another_programs_export_is_read_with_its_column_names_mapped(tmp_path):
    # e.g. a per-animal results export of a commercial tracker, as it comes
    path = tmp_path / "export.csv"
    path.write_text("Test,Animal ID,Treatment,Immobility time (s),Latency to immobility (s)\n"
                    "1,m1,vehicle,160.2,35.1\n2,m2,drug,98.4,80.0\n")
    with pytest.raises(AnnotationError, match="no header row found"):
        read_annotations(path)
    mapping = parse_column_map("Animal ID=animal, immobility time (s)=immobility_s; Latency to immobility (s)=latency_s")
    table = read_annotations(path, column_map=mapping)
    assert table.attrs["format"] == "per_animal"
    assert table[["animal", "immobility_s", "latency_s"]].values.tolist() == [["m1", 160.2, 35.1], ["m2", 98.4, 80.0]]
    with pytest.raises(ValueError, match="'Time=immobile_time': 'immobile_time' is not one of"):
        parse_column_map("Time=immobile_time")
