"""The command line end to end: score, batch with broken files, synth, fit-threshold, errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from behavscore import __version__
from behavscore.cli import app

runner = CliRunner()


def test_version():
    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0 and __version__ in r.output


def test_score_writes_every_output(short_fst, tmp_path):
    rois = [f"{a}={x},{y},{w},{h}" for a, x, y, w, h in short_fst.rois]
    args = ["score", str(short_fst.path), "--protocol", "fst", "--window", "0:40", "--out", str(tmp_path)]
    r = runner.invoke(app, args + sum((["--roi", t] for t in rois), []))
    assert r.exit_code == 0, r.output
    for name in ("seconds.csv", "summary.csv", "minutes.csv", "bouts.csv", "provenance.json", f"qc/{short_fst.path.stem}.png"):
        assert (tmp_path / name).is_file(), name
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert summary["animal"].tolist() == [r[0] for r in short_fst.rois]
    prov = json.loads((tmp_path / "provenance.json").read_text())
    assert prov["inputs"][0]["sha256"] and prov["software"]["behavscore"] == __version__
    assert all(a in r.output for a, *_ in short_fst.rois) and "ok" in r.output


@pytest.fixture(scope="module")
def cohort_with_broken_files(tmp_path_factory, short_tst):
    folder = tmp_path_factory.mktemp("cohort")
    good = folder / short_tst.path.name
    good.write_bytes(short_tst.path.read_bytes())
    (folder / "zero.mp4").write_bytes(b"")
    (folder / "corrupt.mp4").write_bytes(np.random.default_rng(1).integers(0, 256, 20_000, dtype=np.uint8).tobytes())
    rows = [
        {"video": good.name, "animal": a, "roi_x": x, "roi_y": y, "roi_w": w, "roi_h": h, "dose_mg_kg": 10 * i}
        for i, (a, x, y, w, h) in enumerate(short_tst.rois)
    ]
    rows += [
        {"video": "zero.mp4", "animal": "z1", "dose_mg_kg": 0},
        {"video": "corrupt.mp4", "animal": "c1", "dose_mg_kg": 0},
        {"video": "missing.mp4", "animal": "m1", "dose_mg_kg": 0},
    ]
    table = folder / "cohort.csv"
    pd.DataFrame(rows).to_csv(table, index=False)
    return table


def test_batch_reports_broken_videos_and_scores_the_rest(cohort_with_broken_files, tmp_path):
    r = runner.invoke(app, ["batch", str(cohort_with_broken_files), "--protocol", "tst", "--window", "0:40", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    summary = pd.read_csv(tmp_path / "summary.csv")
    failures = pd.read_csv(tmp_path / "failures.csv")
    assert sorted(failures["animal"]) == ["c1", "m1", "z1"]
    reasons = dict(zip(failures["animal"], failures["reason"]))
    assert "empty" in reasons["z1"] and "not a readable video" in reasons["c1"] and "not found" in reasons["m1"]
    ok = summary[summary["status"] == "ok"]
    assert len(ok) == 2 and ok["immobility_s"].notna().all()
    assert summary["dose_mg_kg"].tolist() == [0, 10, 0, 0, 0]  # metadata carried through, in order
    assert summary.loc[summary["animal"] == "z1", "status"].str.startswith("error: ").all()


def test_batch_strict_exits_nonzero_on_failures(cohort_with_broken_files, tmp_path):
    r = runner.invoke(app, ["batch", str(cohort_with_broken_files), "--protocol", "tst", "--window", "0:40", "--out", str(tmp_path), "--strict"])
    assert r.exit_code == 1


def test_malformed_cohort_is_rejected_with_line_and_column(tmp_path):
    table = tmp_path / "bad.csv"
    table.write_text("video,animal,roi_x,roi_y,roi_w,roi_h\na.mp4,m1,0,0,10,10\nb.mp4,m2,0,0,ten,10\n")
    r = runner.invoke(app, ["batch", str(table), "--out", str(tmp_path / "out")])
    assert r.exit_code == 2
    assert "bad.csv, line 3, column 'roi_w'" in r.output
    assert "Traceback" not in r.output


def test_missing_column_is_named(tmp_path):
    table = tmp_path / "bad.csv"
    table.write_text("file,animal\na.mp4,m1\n")
    r = runner.invoke(app, ["batch", str(table), "--out", str(tmp_path / "out")])
    assert r.exit_code == 2 and "required column 'video' is missing" in r.output


def test_score_error_is_one_line_without_traceback(tmp_path):
    r = runner.invoke(app, ["score", str(tmp_path / "nope.mp4"), "--out", str(tmp_path)])
    assert r.exit_code == 2
    assert "nope.mp4: file not found" in r.output and "Traceback" not in r.output


def test_synth_then_fit_threshold_from_truth(tmp_path):
    r = runner.invoke(app, ["synth", str(tmp_path / "syn"), "--protocol", "tst", "--n", "1", "--seed", "3", "--seconds", "40", "--animals", "2"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "syn" / "truth.csv").is_file() and (tmp_path / "syn" / "cohort.csv").is_file()
    r = runner.invoke(app, ["batch", str(tmp_path / "syn" / "cohort.csv"), "--protocol", "tst", "--window", "0:40", "--out", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    truth = pd.read_csv(tmp_path / "syn" / "truth.csv")[["video", "animal", "second", "label"]]
    truth.to_csv(tmp_path / "hand.csv", index=False)
    r = runner.invoke(app, ["fit-threshold", str(tmp_path / "out" / "seconds.csv"), str(tmp_path / "hand.csv")])
    assert r.exit_code == 0, r.output
    assert "threshold" in r.output and "agreement" in r.output
    assert "with the threshold fitted to the others" in " ".join(r.output.split())


def test_fit_threshold_to_stopwatch_totals_scores_other_animals_close_to_truth(tmp_path):
    # A lab that timed only total immobility: fit on the first video's three mice, then the
    # threshold scores the second video's three, never seen by the fit.
    r = runner.invoke(app, ["synth", str(tmp_path / "syn"), "--protocol", "tst", "--n", "2", "--seed", "3", "--seconds", "40", "--animals", "3"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["batch", str(tmp_path / "syn" / "cohort.csv"), "--protocol", "tst", "--window", "0:40",
                            "--model", "threshold", "--out", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    truth = pd.read_csv(tmp_path / "syn" / "truth.csv").query("second < 40")
    totals = truth.assign(immobility_s=truth["label"].eq("immobile")).groupby(["video", "animal"], as_index=False)["immobility_s"].sum()
    fitted_on = totals["video"] == "tst_s3_v00.mp4"
    totals[fitted_on].to_csv(tmp_path / "stopwatch.csv", index=False)
    seconds_csv = str(tmp_path / "out" / "seconds.csv")
    r = runner.invoke(app, ["fit-threshold", seconds_csv, str(tmp_path / "stopwatch.csv")])
    assert r.exit_code == 2 and "give --window" in r.output
    r = runner.invoke(app, ["fit-threshold", seconds_csv, str(tmp_path / "stopwatch.csv"), "--window", "0:40"])
    assert r.exit_code == 0, r.output
    assert "RMS of the hand totals" in r.output and "on 3 animals" in r.output and "left out of the fit" in r.output
    threshold = float(r.output.split("threshold ")[1].split(" %")[0])
    # a sheet of animal ids and times without the video: matched by id, the same threshold
    totals[fitted_on].drop(columns="video").to_csv(tmp_path / "ids.csv", index=False)
    r_ids = runner.invoke(app, ["fit-threshold", seconds_csv, str(tmp_path / "ids.csv"), "--window", "0:40"])
    assert r_ids.exit_code == 0 and float(r_ids.output.split("threshold ")[1].split(" %")[0]) == threshold, r_ids.output
    seconds = pd.read_csv(seconds_csv).query("second < 40")
    scored = seconds.assign(immobile=seconds["motion"] < threshold).groupby("animal")["immobile"].sum()
    held_out = totals[~fitted_on].set_index("animal")["immobility_s"]
    assert (scored[held_out.index] - held_out).abs().max() <= 3, pd.DataFrame({"scored": scored, "truth": held_out})
    # an animal scored over part of the window is left out, not fitted to a total over all of it
    first = totals.loc[fitted_on, "animal"].iloc[0]
    seconds[~((seconds["animal"] == first) & (seconds["second"] > 30))].to_csv(tmp_path / "cut.csv", index=False)
    r = runner.invoke(app, ["fit-threshold", str(tmp_path / "cut.csv"), str(tmp_path / "stopwatch.csv"), "--window", "0:40"])
    assert r.exit_code == 2 and f"animal '{first}'" in r.output and "31 of the window's 40 s scored" in " ".join(r.output.split())
    assert "at least 3 animals" in r.output


def test_parallel_batch_gives_the_same_tables_as_one_process(cohort_with_broken_files, tmp_path):
    outs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs{jobs}"
        r = runner.invoke(app, ["batch", str(cohort_with_broken_files), "--protocol", "tst", "--window", "0:40", "--out", str(out), "--jobs", jobs])
        assert r.exit_code == 0, r.output
        outs[jobs] = out
    for name in ("summary.csv", "seconds.csv", "minutes.csv", "failures.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(outs["1"] / name), pd.read_csv(outs["2"] / name))


def test_terminal_summary_shows_counts_whole_and_blanks_where_nothing_was_measured():
    import pandas as pd

    from behavscore.cli import _summary_table

    summary = pd.DataFrame({
        "animal": ["m1", "m2"], "immobility_s": [12.0, float("nan")], "immobility_pct": [5.0, float("nan")],
        "latency_s": [float("nan"), float("nan")], "bouts": [3.0, float("nan")], "mean_bout_s": [4.0, float("nan")],
        "status": ["ok", "no_animal"],
    })
    by_header = {column.header: list(column.cells) for column in _summary_table(summary, "t").columns}
    assert by_header["bouts"] == ["3", "–"]
    assert by_header["immob s"] == ["12.0", "–"]
    assert by_header["latency s"] == ["–", "–"]
    assert by_header["status"] == ["ok", "no_animal"]
