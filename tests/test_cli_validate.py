"""Tests for the ``validate`` command through a Typer test runner."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from behavscore.agreement import compare
from behavscore.annotations import read_annotations
from behavscore.cli_validate import machine_next_to_raters, parse_window, validate

app = typer.Typer()


@app.callback()
def _main() -> None:
    """Test application holding the validate command."""


app.command("validate")(validate)
runner = CliRunner()

HEADER = "Observation id\tSubject\tBehavior\tBehavior type\tTime\tMedia file name\tMedia duration (s)\tFPS\n"


def _boris(rows: list[tuple[str, str, str, float]], media="/data/fst_01.mp4", duration_s=20.0) -> str:
    lines = [HEADER]
    for subject, behaviour, kind, t in rows:
        lines.append(f"obs1\t{subject}\t{behaviour}\t{kind}\t{t:.3f}\t{media}\t{duration_s:.3f}\t25.000\n")
    return "".join(lines)


@pytest.fixture
def files(tmp_path):
    auto = pd.DataFrame(
        [("runs/fst_01.mp4", animal, s, "immobile" if s >= start else "mobile", 0.2)
         for animal, start in (("m1", 8), ("m2", 12), ("m3", 5)) for s in range(20)],
        columns=["video", "animal", "second", "label", "motion"],
    )
    auto_path = tmp_path / "seconds.csv"
    auto.to_csv(auto_path, index=False)
    human = tmp_path / "rater_a.tsv"
    human.write_text(_boris([
        ("m1", "Immobility", "START", 9.0), ("m2", "Immobility", "START", 11.5), ("m3", "Immobility", "START", 5.0),
        ("m1", "Immobility", "STOP", 20.0), ("m2", "Immobility", "STOP", 20.0), ("m3", "Immobility", "STOP", 20.0),
        ("m1", "Tail flick", "POINT", 3.0),
    ]))
    human2 = tmp_path / "rater_b.tsv"
    human2.write_text(_boris([
        ("m1", "Immobility", "START", 8.0), ("m1", "Immobility", "STOP", 20.0),
        ("m2", "Immobility", "START", 13.0), ("m2", "Immobility", "STOP", 20.0),
        ("m3", "Immobility", "START", 6.0), ("m3", "Immobility", "STOP", 20.0),
    ]))
    return auto_path, human, human2


def test_validate_writes_agreement_tables_and_figure(files, tmp_path):
    auto, human, _ = files
    out = tmp_path / "out"
    result = runner.invoke(app, ["validate", str(auto), str(human), "--map", "Immobility=immobile",
                                 "--window", "0-20", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "auto vs human" in result.output
    assert "1 POINT event(s) ignored" in result.output
    agreement = pd.read_csv(out / "agreement.csv")
    expected = compare(
        pd.read_csv(auto), read_annotations(human, behaviour_map={"Immobility": "immobile"}), window=(0, 20)
    ).summary()
    pd.testing.assert_frame_equal(agreement[expected.columns], expected, check_dtype=False)
    # m1: auto 12 s, human 11 s; m2: 8 vs 9 (11.5 s start: tie at 11, centre inside); m3: 15 vs 15
    per_animal = pd.read_csv(out / "per_animal.csv").set_index("animal")
    assert per_animal["immobility_a_s"].tolist() == [12, 8, 15]
    assert per_animal["immobility_b_s"].tolist() == [11, 9, 15]
    assert set(per_animal["comparison"]) == {"auto vs human"}
    minutes = pd.read_csv(out / "minutes_agreement.csv")  # one short bin: the 20-s window
    assert minutes[["bin_start_s", "bin_end_s", "n_animals"]].values.tolist() == [[0, 20, 3]]
    assert minutes.loc[0, "mean_a_s"] == pytest.approx(35 / 3) and minutes.loc[0, "mean_b_s"] == pytest.approx(35 / 3)
    assert "minute by minute" in result.output
    # m1: auto immobile from 8 s, human from 9 s; m2: auto from 12 s, human from 11 s
    runs = pd.read_csv(out / "disagreements.csv")
    assert runs[["animal", "start_s", "end_s", "label_a", "label_b"]].values.tolist() == [
        ["m1", 8, 9, "immobile", "mobile"], ["m2", 11, 12, "mobile", "immobile"]]
    assert "longest stretches apart: fst_01.mp4 m1 8-9 s (auto immobile, human mobile)" in " ".join(result.output.split())
    assert (out / "agreement.png").read_bytes()[:4] == b"\x89PNG"
    params = json.loads((out / "validate_params.json").read_text())
    assert params["map"] == {"Immobility": "immobile"} and params["window_s"] == [0.0, 20.0]
    assert params["inputs"]["human"]["format"] == "boris_events"


def test_validate_with_a_second_rater_reports_machine_and_inter_rater_agreement(files, tmp_path):
    auto, human, human2 = files
    out = tmp_path / "out"
    result = runner.invoke(app, ["validate", str(auto), str(human), "--human2", str(human2),
                                 "--map", "Immobility=immobile", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("auto vs human", "auto vs human2", "human vs human2"):
        assert name in result.output
    agreement = pd.read_csv(out / "agreement.csv")
    assert agreement["comparison"].tolist() == ["auto vs human", "auto vs human2", "human vs human2"]
    # auto and rater B disagree on one second of m2 (12 vs 13 s) and one of m3 (5 vs 6 s)
    assert agreement.set_index("comparison").loc["auto vs human2", "accuracy"] == pytest.approx(58 / 60)


def test_validate_of_three_class_fst_scores_compares_climbing_and_swimming_per_animal(tmp_path):
    codes = {"m1": "IIIIISSSSSCCCCC", "m2": "IISSSSSSSSSCCCC", "m3": "IIIIIIIIIISSCCC"}
    names = {"I": "immobile", "S": "swimming", "C": "climbing"}
    auto = pd.DataFrame([("fst_01.mp4", m, s, names[c]) for m, code in codes.items() for s, c in enumerate(code)],
                        columns=["video", "animal", "second", "label"])
    human = auto.assign(label=auto["label"].where(auto["second"] != 11, "swimming"))  # m1, m2: a climbing second is swimming
    auto.to_csv(tmp_path / "auto.csv", index=False)
    human.to_csv(tmp_path / "human.csv", index=False)
    result = runner.invoke(app, ["validate", str(tmp_path / "auto.csv"), str(tmp_path / "human.csv"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "Pearson r, climbing" in result.output
    row = pd.read_csv(tmp_path / "out" / "agreement.csv").iloc[0]
    assert row["bias_climbing_s"] == pytest.approx(2 / 3) and row["bias_swimming_s"] == pytest.approx(-2 / 3)
    per_animal = pd.read_csv(tmp_path / "out" / "per_animal.csv").set_index("animal")
    assert per_animal["climbing_a_s"].tolist() == [5, 4, 3] and per_animal["climbing_b_s"].tolist() == [4, 3, 3]


def test_unknown_behaviour_exits_2_with_file_and_line_and_no_traceback(files, tmp_path):
    auto, human, _ = files
    result = runner.invoke(app, ["validate", str(auto), str(human), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "rater_a.tsv, line 2: unknown behaviour 'Immobility'" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_missing_file_exits_2_naming_it(files, tmp_path):
    auto, _, _ = files
    result = runner.invoke(app, ["validate", str(auto), str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "nope.csv: file not found" in result.output


def test_animals_that_do_not_match_exit_2_naming_both_files(files, tmp_path):
    auto, _, _ = files
    other = tmp_path / "other.tsv"
    other.write_text(_boris([("m1", "Immobility", "START", 1.0), ("m1", "Immobility", "STOP", 2.0)], media="fst_77.mp4"))
    result = runner.invoke(app, ["validate", str(auto), str(other), "--map", "Immobility=immobile",
                                 "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "comparing seconds.csv (auto) with other.tsv (human): no common animals" in result.output


def test_bad_options_exit_2_with_a_short_message(files, tmp_path):
    auto, human, _ = files
    for args, text in ((["--window", "late"], "--window 'late'"), (["--map", "Immobility"], "not of the form")):
        result = runner.invoke(app, ["validate", str(auto), str(human), *args, "--out", str(tmp_path / "o")])
        assert result.exit_code == 2
        assert text in result.output and "Traceback" not in result.output


def test_window_parsing_accepts_ranges_and_protocol_names():
    assert parse_window("") is None
    assert parse_window("fst") == (120.0, 360.0)
    assert parse_window("TST") == (0.0, 360.0)
    assert parse_window("120-360") == parse_window("120:360") == (120.0, 360.0)
    with pytest.raises(ValueError):
        parse_window("360-120")


def test_validate_against_a_stopwatch_sheet_compares_immobility_and_latency_per_animal(files, tmp_path):
    # The lab timed each mouse with a stopwatch over 2-20 s: total immobility and latency.
    auto, _, _ = files
    sheet = tmp_path / "stopwatch.csv"
    sheet.write_text("video,animal,immobility_s,latency_s\nfst_01.mp4,m1,11,1\nfst_01.mp4,m2,9,2\nfst_01.mp4,m3,14.5,0:03\n")
    refused = runner.invoke(app, ["validate", str(auto), str(sheet), "--out", str(tmp_path / "no")])
    message = " ".join(refused.output.split())
    assert refused.exit_code == 2 and "seconds.csv (auto) with stopwatch.csv (human)" in message
    assert "give the window the totals cover" in message and not (tmp_path / "no").exists()
    out = tmp_path / "out"
    result = runner.invoke(app, ["validate", str(auto), str(sheet), "--window", "2-20", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "per-animal totals only" in result.output and "Pearson r, latency" in result.output
    per_animal = pd.read_csv(out / "per_animal.csv").set_index("animal")
    # auto: immobile from 8, 12, 5 s to 20 s -> 12, 8, 15 s; latency from the window's start at 2 s
    assert per_animal["immobility_a_s"].tolist() == [12, 8, 15] and per_animal["latency_a_s"].tolist() == [6, 10, 3]
    assert per_animal["immobility_b_s"].tolist() == [11, 9, 14.5] and per_animal["latency_b_s"].tolist() == [1, 2, 3]
    row = pd.read_csv(out / "agreement.csv").iloc[0]
    assert row["n_s"] == 0 and pd.isna(row["kappa"]) and row["bias_s"] == pytest.approx((1 - 1 + 0.5) / 3)
    assert row["bias_latency_s"] == pytest.approx((5 + 8 + 0) / 3)
    assert json.loads((out / "validate_params.json").read_text())["inputs"]["human"]["format"] == "per_animal"
    assert not (out / "minutes_agreement.csv").exists()  # totals have no minutes


def test_validate_of_a_summary_against_a_time_sampling_tally_uses_the_summary_window(tmp_path):
    summary = tmp_path / "summary.csv"
    summary.write_text(
        "video,animal,protocol,window_start_s,window_end_s,immobility_s,immobility_counts,swimming_counts,climbing_counts,status\n"
        "fst_01.mp4,m1,fst,120,360,150,30,12,6,ok\nfst_01.mp4,m2,fst,120,360,60,12,20,16,ok\nfst_01.mp4,m3,fst,120,360,200,40,5,3,ok\n"
    )
    tally = tmp_path / "tally.csv"
    tally.write_text("video,animal,immobility_counts,swimming_counts,climbing_counts\n"
                     "fst_01.mp4,m1,28,14,6\nfst_01.mp4,m2,13,18,17\nfst_01.mp4,m3,41,4,3\n")
    out = tmp_path / "out"
    result = runner.invoke(app, ["validate", str(summary), str(tally), "--out", str(out)])
    assert result.exit_code == 0, result.output
    row = pd.read_csv(out / "agreement.csv").iloc[0]
    assert (row["window_start_s"], row["window_end_s"]) == (120, 360) and pd.isna(row["pearson_r"])
    assert row["bias_immobility_counts"] == pytest.approx((2 - 1 - 1) / 3) and row["bias_swimming_counts"] == pytest.approx(1 / 3)
    assert "Pearson r, climbing counts" in result.output
    assert (out / "agreement.png").read_bytes()[:4] == b"\x89PNG"
    wrong = runner.invoke(app, ["validate", str(summary), str(tally), "--window", "0-360", "--out", str(out)])
    assert wrong.exit_code == 2 and "totals over 120-360 s, not over the window asked for (0-360 s)" in " ".join(wrong.output.split())


def test_the_machine_is_set_beside_the_raters_agreement_with_each_other():
    summary = pd.DataFrame({
        "comparison": ["auto vs human", "auto vs human2", "human vs human2"],
        "kappa": [0.84, 0.80, 0.82],
        "pearson_r": [0.95, 0.97, 0.90],
        "icc": [0.7, 0.6, 0.8],
        "loa_low_s": [-20.0, -30.0, -10.0],
        "loa_high_s": [20.0, 30.0, 10.0],
    })
    lines = machine_next_to_raters(summary)
    assert lines == [
        "kappa: machine 0.84 and 0.8 (with each rater), raters 0.82: as well with one rater only",
        "immobility r: machine 0.95 and 0.97 (with each rater), raters 0.9: as well as the raters or better",
        "immobility ICC(A,1): machine 0.7 and 0.6 (with each rater), raters 0.8: less well than the raters",
        "limits of agreement, width (s): machine 40 and 60 (with each rater), raters 20: less well than the raters",
    ]
    # per-animal totals have no kappa: that line is left out; without a second rater, nothing
    assert len(machine_next_to_raters(summary.assign(kappa=float("nan")))) == 3
    assert machine_next_to_raters(summary.iloc[:1]) == []


def test_validate_leaves_out_an_roi_without_an_animal_and_says_so(files, tmp_path):
    auto, human, _ = files
    seconds = pd.read_csv(auto)
    empty = pd.DataFrame({"video": "runs/fst_01.mp4", "animal": "m4", "second": range(20), "label": None, "motion": None})
    pd.concat([seconds, empty]).to_csv(tmp_path / "with_empty.csv", index=False)
    result = runner.invoke(app, ["validate", str(tmp_path / "with_empty.csv"), str(human), "--map", "Immobility=immobile",
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "20 second(s) without a label (no animal seen) left out" in " ".join(result.output.split())
    assert pd.read_csv(tmp_path / "out" / "agreement.csv").iloc[0]["n_animals"] == 3


def test_validate_reads_a_folder_of_exports_as_it_reads_the_file(files, tmp_path):
    auto, human, _ = files
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / human.name).write_bytes(human.read_bytes())
    outs = {}
    for name, path in (("file", human), ("folder", folder)):
        outs[name] = tmp_path / name
        result = runner.invoke(app, ["validate", str(auto), str(path), "--map", "Immobility=immobile", "--out", str(outs[name])])
        assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(pd.read_csv(outs["file"] / "per_animal.csv"), pd.read_csv(outs["folder"] / "per_animal.csv"))
    params = json.loads((outs["folder"] / "validate_params.json").read_text())["inputs"]["human"]
    assert list(params["sha256"]) == [human.name] and params["format"] == "folder of 1 file (boris_events)"


def test_validate_with_a_cohort_sets_the_group_conclusions_side_by_side(files, tmp_path):
    auto, human, human2 = files
    cohort = tmp_path / "cohort.csv"
    cohort.write_text("video,animal,treatment\nC:/videos/fst_01.mp4,m1,vehicle\nC:/videos/fst_01.mp4,m2,vehicle\nC:/videos/fst_01.mp4,m3,drug\n")
    out = tmp_path / "out"
    result = runner.invoke(app, ["validate", str(auto), str(human), "--human2", str(human2), "--map", "Immobility=immobile",
                                 "--cohort", str(cohort), "--out", str(out)])
    assert result.exit_code == 0, result.output
    groups = pd.read_csv(out / "groups.csv").set_index(["source", "group"])
    # immobility (s): auto 12, 8 | 15; human 11, 9 | 15; human2 12, 7 | 14 (see the fixture)
    assert groups.loc[("auto", "vehicle"), "mean"] == 10 and groups.loc[("human", "vehicle"), "mean"] == 10
    assert groups.loc[("human2", "vehicle"), "mean"] == 9.5 and groups.loc[("human2", "drug"), "mean"] == 14
    assert groups.loc[("auto", "drug"), "difference"] == 5 and groups.loc[("human2", "drug"), "difference"] == 4.5
    assert "Immobility by group" in result.output
    assert json.loads((out / "validate_params.json").read_text())["cohort"]["file"] == "cohort.csv"
    missing = runner.invoke(app, ["validate", str(auto), str(human), "--map", "Immobility=immobile", "--cohort", str(cohort),
                                  "--groups", "dose", "--out", str(tmp_path / "not_written")])
    assert missing.exit_code == 2 and "cohort.csv: needs columns video, animal and the group column(s) (dose missing)" in " ".join(missing.output.split())
    assert not (tmp_path / "not_written").exists()  # refused before anything is written
