"""BORIS project files read directly, built from BORIS's documented project structure."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest

from behavscore.annotations import AnnotationError, read_annotations, read_boris_events
from test_annotations import THREE_CLASS_NAMES, TWO_CLASS_NAMES, VIDEOS, _basename, _four, _state_events, boris_current_rows, make_truth, write_rows


def boris_project(intervals, names, points=(), offset_s=0.0):
    """A project as BORIS saves it: ethogram, subjects, one media observation per video whose
    events are ``[time, subject, code, modifier, comment, frame index]`` in order of time, a
    state's start and stop being two events of the same code (no START/STOP written)."""
    codes = sorted(set(names.values()))
    ethogram = {str(i): {"type": "State event", "key": c[0].lower(), "code": c, "description": "", "category": "",
                         "modifiers": {}, "excluded": "", "coding map": ""} for i, c in enumerate(codes)}
    for c in sorted({b for *_, b in points}):
        ethogram[str(len(ethogram))] = {"type": "Point event", "key": "p", "code": c, "description": "", "category": "",
                                        "modifiers": {}, "excluded": "", "coding map": ""}
    subjects = sorted({s for _, (_, subs) in VIDEOS.items() for s in subs})
    observations = {}
    for media, (duration_s, _) in VIDEOS.items():
        events = [[round(t + offset_s, 3), s, b, "", "", int(t * 30)]
                  for t, _, m, s, b, _ in _state_events(intervals, names) if m == media]
        events += [[round(t + offset_s, 3), s, b, "", "", int(t * 30)] for t, m, s, b in points if m == media]
        events.sort(key=lambda e: e[0])
        observations[f"obs_{_basename(media)}"] = {
            "file": {"1": [media], "2": []}, "type": "MEDIA", "date": "2024-05-02T10:00:00", "description": "FST day 2",
            "time offset": offset_s, "events": events, "observation time interval": [0, 0], "independent_variables": {},
            "visualize_spectrogram": False, "visualize_waveform": False, "close_behaviors_between_videos": False,
            "media_info": {"length": {media: duration_s}, "fps": {media: 30.0}, "hasVideo": {media: True}, "hasAudio": {media: False}},
        }
    return {
        "time_format": "hh:mm:ss", "project_date": "2024-05-01T09:00:00", "project_name": "FST norclomipramine",
        "project_description": "", "project_format_version": "7.0",
        "subjects_conf": {str(i): {"key": str(i + 1), "name": s, "description": ""} for i, s in enumerate(subjects)},
        "behaviors_conf": ethogram, "observations": observations, "behavioral_categories": [], "independent_variables": {},
        "coding_map": {}, "behaviors_coding_map": [], "converters": {},
    }


def write_project(path, project) -> None:
    text = json.dumps(project)
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        path.write_text(text)


@pytest.mark.parametrize("name", ["fst.boris", "fst.boris.gz"])
@pytest.mark.parametrize("seed", [1, 2])
def test_a_boris_project_reads_as_its_tabular_export_reads(tmp_path, name, seed):
    truth, intervals = make_truth(seed, three_class=False)
    points = [(12.0, "/lab/videos/fst_01.mp4", "m1", "Observer note")]
    path = tmp_path / name
    write_project(path, boris_project(intervals, TWO_CLASS_NAMES, points))
    got = read_annotations(path, behaviour_map={"Immobility": "immobile"})
    pd.testing.assert_frame_equal(_four(got), truth, check_dtype=False)
    assert got.attrs["format"] == "boris_project" and got.attrs["ignored_point_events"] == 1
    export = tmp_path / "export.csv"
    write_rows(export, boris_current_rows(intervals, TWO_CLASS_NAMES, [(12.0, "/lab/videos/fst_01.mp4", "m1", "Observer note")]), ",")
    pd.testing.assert_frame_equal(_four(got), _four(read_boris_events(export, behaviour_map={"Immobility": "immobile"})))


def test_a_three_class_project_with_a_time_offset_round_trips(tmp_path):
    truth, intervals = make_truth(7, three_class=True)
    path = tmp_path / "fst3.boris"
    write_project(path, boris_project(intervals, THREE_CLASS_NAMES, offset_s=5.0))
    got = read_annotations(path, behaviour_map={"Immobility": "immobile", "Swimming": "swimming", "Climbing": "climbing"})
    pd.testing.assert_frame_equal(_four(got), truth, check_dtype=False)


def test_a_folder_with_a_project_reads_it(tmp_path):
    truth, intervals = make_truth(3, three_class=False)
    write_project(tmp_path / "fst.boris", boris_project(intervals, TWO_CLASS_NAMES))
    got = read_annotations(tmp_path, behaviour_map={"Immobility": "immobile"})
    pd.testing.assert_frame_equal(_four(got), truth, check_dtype=False)


def _project_with(tmp_path, change):
    _, intervals = make_truth(1, three_class=False)
    project = boris_project(intervals, TWO_CLASS_NAMES)
    project["behaviors_conf"]["9"] = {"type": "State event", "key": "g", "code": "Grooming", "description": ""}
    change(project)
    path = tmp_path / "lab.boris"
    write_project(path, project)
    return path


def _events(project):
    return project["observations"]["obs_fst_01.mp4"]["events"]


@pytest.mark.parametrize("added,message", [
    ([[59.0, "m1", "Rearing", "", "", 0]], "behaviour 'Rearing' is not in the project's ethogram"),
    ([[60.0, "m9", "Immobility", "", "", 0]], "START of 'Immobility' for subject 'm9' has no matching STOP"),
    ([[75.0, "m9", "Immobility", "", "", 0], [76.0, "m9", "Immobility", "", "", 0]], "time 75.0 s is past the end of video 'fst_01.mp4'"),
    ([[10.0, "m9", "Grooming", "", "", 0], [11.0, "m9", "Grooming", "", "", 0]], "unknown behaviour 'Grooming'"),
    ([["ten", "m1", "Immobility", "", "", 0]], "time 'ten' is not a number of seconds"),
])
def test_a_bad_event_names_the_project_observation_and_event(tmp_path, added, message):
    path = _project_with(tmp_path, lambda p: _events(p).extend(added))
    n = len(_events(json.loads(path.read_text()))) - len(added) + 1  # the first event added
    with pytest.raises(AnnotationError) as caught:
        read_annotations(path, behaviour_map={"Immobility": "immobile"})
    assert str(caught.value).startswith(f"lab.boris, observation 'obs_fst_01.mp4', event {n}: {message}"), str(caught.value)


def test_an_observation_playing_several_videos_or_a_file_that_is_no_project_is_refused(tmp_path):
    def playlist(p):
        p["observations"]["obs_fst_01.mp4"]["file"]["1"].append("/lab/videos/fst_01b.mp4")

    with pytest.raises(AnnotationError, match="observation 'obs_fst_01.mp4', event 1: the observation plays several media files"):
        read_annotations(_project_with(tmp_path, playlist), behaviour_map={"Immobility": "immobile"})
    broken = tmp_path / "broken.boris"
    broken.write_text("{not json")
    with pytest.raises(AnnotationError, match="broken.boris: not a readable BORIS project"):
        read_annotations(broken)
    other = tmp_path / "other.boris"
    other.write_text(json.dumps({"project_name": "x"}))
    with pytest.raises(AnnotationError, match=r"other.boris: not a BORIS project \(no 'observations'\)"):
        read_annotations(other)


def test_two_observations_of_the_same_animal_and_video_are_refused(tmp_path):
    def twice(p):
        p["observations"]["copy"] = json.loads(json.dumps(p["observations"]["obs_fst_01.mp4"]))

    with pytest.raises(AnnotationError, match="observations 'obs_fst_01.mp4' and 'copy' both label animal 'm1'"):
        read_annotations(_project_with(tmp_path, twice), behaviour_map={"Immobility": "immobile"})


def test_validate_takes_the_project_file_as_a_raters_annotations(tmp_path):
    from typer.testing import CliRunner

    from behavscore.cli import app

    truth, intervals = make_truth(2, three_class=False)
    truth.to_csv(tmp_path / "seconds.csv", index=False)
    write_project(tmp_path / "rater.boris", boris_project(intervals, TWO_CLASS_NAMES))
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["validate", str(tmp_path / "seconds.csv"), str(tmp_path / "rater.boris"), "--map", "Immobility=immobile",
                                 "--out", str(out)])
    assert r.exit_code == 0, r.output
    row = pd.read_csv(out / "agreement.csv").iloc[0]
    assert row["n_animals"] == 3 and row["accuracy"] == 1.0
    assert json.loads((out / "validate_params.json").read_text())["inputs"]["human"]["format"] == "boris_project"


def test_a_live_observation_without_media_is_named_by_its_id(tmp_path):
    # Scored live (BORIS's LIVE observations): no media file, so the observation id names the video.
    project = boris_project([("/lab/videos/fst_01.mp4", "m1", "immobile", 2.0, 5.0)], TWO_CLASS_NAMES)
    obs = project["observations"].pop("obs_fst_01.mp4")
    project["observations"] = {"cage 4 live": {**obs, "type": "LIVE", "file": {}, "media_info": {}}}
    write_project(tmp_path / "live.boris", project)
    got = read_annotations(tmp_path / "live.boris", behaviour_map={"Immobility": "immobile"})
    assert set(got["video"]) == {"cage 4 live"} and set(got["animal"]) == {"m1"}
    assert got.loc[got["label"] == "immobile", "second"].tolist() == [2, 3, 4]
    assert got["second"].max() == 4  # no media length: the table ends with the last event


def test_one_project_with_two_raters_observations_is_read_rater_by_rater(tmp_path):
    # Inter-rater work in BORIS: each rater codes the same video as an observation of their own.
    from typer.testing import CliRunner

    from behavscore.cli import app

    truth, intervals = make_truth(6, three_class=False)
    truth.to_csv(tmp_path / "seconds.csv", index=False)
    project = boris_project(intervals, TWO_CLASS_NAMES)
    late = [(m, s, lab, t0 + 1.0 if lab == "immobile" else t0, t1) for m, s, lab, t0, t1 in intervals]  # rater B starts each bout 1 s later
    other = boris_project(late, TWO_CLASS_NAMES)["observations"]
    project["observations"] = {f"{k} rater A": v for k, v in project["observations"].items()} | {f"{k} rater B": v for k, v in other.items()}
    path = tmp_path / "irr.boris"
    write_project(path, project)
    mapping = {"Immobility": "immobile"}
    with pytest.raises(AnnotationError, match="both label animal .*validate --observations"):
        read_annotations(path, behaviour_map=mapping)
    pd.testing.assert_frame_equal(_four(read_annotations(path, behaviour_map=mapping, observations="*RATER A")), truth, check_dtype=False)
    with pytest.raises(AnnotationError, match=r"no observation id matches '\*rater C\*'; its observations: obs_fst_01.mp4 rater A"):
        read_annotations(path, behaviour_map=mapping, observations="*rater C*")
    with pytest.raises(AnnotationError, match="BORIS project files"):
        read_annotations(tmp_path / "seconds.csv", observations="*")
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["validate", str(tmp_path / "seconds.csv"), str(path), "--human2", str(path), "--map", "Immobility=immobile",
                                 "--observations", "*rater A", "--observations2", "*rater B", "--out", str(out)])
    assert r.exit_code == 0, r.output
    agreement = pd.read_csv(out / "agreement.csv").set_index("comparison")
    assert agreement.loc["auto vs human", "accuracy"] == 1.0
    assert agreement.loc["human vs human2", "bias_s"] > 0  # rater B's bouts start later: less immobility
    assert json.loads((out / "validate_params.json").read_text())["observations"] == {"human": "*rater A", "human2": "*rater B"}
