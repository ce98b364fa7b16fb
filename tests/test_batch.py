"""Cohort batches: a 12-video cohort with broken files, the signal cache, resuming after a kill, Dask."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from behavscore.batch import score_cohort
from behavscore.cache import SignalCache, cache_key
from behavscore.cli import app
from behavscore.cohort import read_cohort
from behavscore.signals import Roi, SignalParams
from behavscore.threshold import ThresholdScorer

runner = CliRunner()
SECONDS = 12
WINDOW = f"0:{SECONDS}"
TABLES = ("summary.csv", "seconds.csv", "minutes.csv", "bouts.csv", "failures.csv", "warnings.csv")


@pytest.fixture(scope="module")
def cohort12(tmp_path_factory) -> Path:
    """12 short TST videos with 2, 3 or 4 animals each, plus a zero-byte, a corrupt and a missing file."""
    from behavscore.synth import NuisanceSettings, generate_cohort

    folder = tmp_path_factory.mktemp("cohort12")
    tables = []
    for animals, seed in ((2, 31), (3, 32), (4, 33)):
        sub = folder / f"a{animals}"
        t = generate_cohort(sub, "tst", n=4, seed=seed, seconds=SECONDS, animals=animals, scale=0.45, nuisance=NuisanceSettings(noise_dn=1.0))
        t["video"] = [f"{sub.name}/{v}" for v in t["video"]]
        tables.append(t)
    (folder / "zero.mp4").write_bytes(b"")
    (folder / "corrupt.mp4").write_bytes(np.random.default_rng(1).integers(0, 256, 20_000, dtype=np.uint8).tobytes())
    broken = pd.DataFrame({"video": ["zero.mp4", "corrupt.mp4", "missing.mp4"], "animal": ["z1", "c1", "m1"]})
    table = pd.concat(tables + [broken], ignore_index=True)
    path = folder / "cohort.csv"
    table.to_csv(path, index=False)
    return path


def _batch(cohort: Path, out: Path, *extra: str):
    return runner.invoke(app, ["batch", str(cohort), "--protocol", "tst", "--window", WINDOW, "--out", str(out), "--jobs", "1", *extra])


def _provenance(out: Path) -> dict:
    return {Path(i["path"]).name: i for i in json.loads((out / "provenance.json").read_text())["inputs"]}


@pytest.fixture(scope="module")
def first_run(cohort12, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("first")
    r = _batch(cohort12, out)
    assert r.exit_code == 0, r.output
    return out


def test_twelve_video_cohort_scores_every_good_animal_and_reports_each_broken_file(cohort12, first_run):
    table = pd.read_csv(cohort12)
    summary = pd.read_csv(first_run / "summary.csv")
    failures = pd.read_csv(first_run / "failures.csv")
    assert table["video"].nunique() == 15 and len(summary) == len(table)
    good = summary[~summary["animal"].isin(["z1", "c1", "m1"])]
    assert len(good) == 36 and (good["status"] == "ok").all() and good["immobility_s"].notna().all()
    reasons = dict(zip(failures["animal"], failures["reason"]))
    assert sorted(reasons) == ["c1", "m1", "z1"]
    assert "empty" in reasons["z1"] and "not a readable video" in reasons["c1"] and "not found" in reasons["m1"]
    assert summary["animal"].tolist() == table["animal"].tolist()  # cohort order kept


def test_rerun_reads_every_video_from_the_cache_and_gives_identical_tables(cohort12, first_run, tmp_path):
    out = tmp_path / "again"
    out.mkdir()
    (out / "cache").symlink_to(first_run / "cache", target_is_directory=True)
    r = _batch(cohort12, out)
    assert r.exit_code == 0, r.output
    prov = _provenance(out)
    scored = {k: v for k, v in prov.items() if v["signals"] is not None}
    assert len(scored) == 12 and all(v["signals"] == "cache" for v in scored.values())
    for name in TABLES:
        assert (out / name).read_bytes() == (first_run / name).read_bytes(), name


def test_changing_threshold_rescoring_from_cache_equals_scoring_from_video(cohort12, first_run, tmp_path):
    cached = tmp_path / "cached"
    cached.mkdir()
    (cached / "cache").symlink_to(first_run / "cache", target_is_directory=True)
    fresh = tmp_path / "fresh"
    for out, extra in ((cached, []), (fresh, ["--no-cache"])):
        r = _batch(cohort12, out, "--model", "threshold", "--threshold", "25", "--relative", "0", "--min-bout", "2", *extra)
        assert r.exit_code == 0, r.output
    assert all(v["signals"] in ("cache", None) for v in _provenance(cached).values())
    assert all(v["signals"] in ("decoded", None) for v in _provenance(fresh).values())
    assert not (fresh / "cache").exists()
    for name in TABLES:
        pd.testing.assert_frame_equal(pd.read_csv(cached / name), pd.read_csv(fresh / name))
    assert (pd.read_csv(cached / "summary.csv")["model"].dropna() == "threshold").all()


def test_cache_key_follows_content_rois_and_settings_not_the_file_name(short_tst, tmp_path):
    rois = tuple(Roi(*r) for r in short_tst.rois)
    key = cache_key("ab" * 32, rois, SignalParams())
    assert cache_key("ab" * 32, rois, SignalParams()) == key
    assert cache_key("cd" * 32, rois, SignalParams()) != key
    assert cache_key("ab" * 32, rois[:1], SignalParams()) != key
    assert cache_key("ab" * 32, rois, SignalParams(diff_lag_s=0.2)) != key
    # A renamed copy of a video is found in the cache (same bytes, same ROIs).
    renamed = tmp_path / "renamed.mp4"
    renamed.write_bytes(short_tst.path.read_bytes())
    cohort = pd.DataFrame([{"video": p.name, "animal": f"{p.stem}-{a}", "roi_x": x, "roi_y": y, "roi_w": w, "roi_h": h}
                           for p in (short_tst.path,) for a, x, y, w, h in short_tst.rois])
    cohort.to_csv(tmp_path / "c1.csv", index=False)
    first = score_cohort(_with_paths(cohort, short_tst.path.parent), "tst", model="threshold", window=(0, 40), cache_dir=tmp_path / "cache")
    second = score_cohort(_with_paths(cohort.assign(video="renamed.mp4"), tmp_path), "tst", model="threshold", window=(0, 40), cache_dir=tmp_path / "cache")
    assert first.outcomes[0].decoded and not second.outcomes[0].decoded
    pd.testing.assert_frame_equal(first.summary.drop(columns="video"), second.summary.drop(columns="video"))


def _with_paths(cohort: pd.DataFrame, folder: Path) -> pd.DataFrame:
    return cohort.assign(video_path=[str(folder / v) for v in cohort["video"]])


def test_cached_signals_round_trip_exactly(short_tst, tmp_path):
    from behavscore.signals import compute_signals

    rois = tuple(Roi(*r) for r in short_tst.rois)
    signals = compute_signals(short_tst.path, rois)
    cache = SignalCache(tmp_path)
    cache.save("k", signals)
    back = cache.load("k", short_tst.path)
    pd.testing.assert_frame_equal(back.frames, signals.frames)
    pd.testing.assert_frame_equal(back.per_roi, signals.per_roi)
    assert (back.fps, back.n_frames, back.n_frames_claimed, back.rois, back.params) == (
        signals.fps, signals.n_frames, signals.n_frames_claimed, signals.rois, signals.params)
    # What setting a file to a constant rate did travels with the signals.
    from dataclasses import replace

    retimed = replace(signals, filled_frames=(3, 4, 90), frames_dropped=7, gaps_closed=1)
    cache.save("r", retimed)
    back = cache.load("r", short_tst.path)
    assert (back.filled_frames, back.frames_dropped, back.gaps_closed) == ((3, 4, 90), 7, 1)


def test_damaged_cache_file_is_ignored_and_the_video_decoded_again(short_tst, tmp_path):
    cohort = pd.DataFrame([{"video": short_tst.path.name, "animal": a, "roi_x": x, "roi_y": y, "roi_w": w, "roi_h": h}
                           for a, x, y, w, h in short_tst.rois])
    cohort = _with_paths(cohort, short_tst.path.parent)
    first = score_cohort(cohort, "tst", model=ThresholdScorer(), window=(0, 40), cache_dir=tmp_path)
    (file,) = tmp_path.glob("*.npz")
    file.write_bytes(file.read_bytes()[: file.stat().st_size // 2])  # as a disk error might leave it
    second = score_cohort(cohort, "tst", model=ThresholdScorer(), window=(0, 40), cache_dir=tmp_path)
    assert second.outcomes[0].decoded
    pd.testing.assert_frame_equal(first.seconds, second.seconds)
    third = score_cohort(cohort, "tst", model=ThresholdScorer(), window=(0, 40), cache_dir=tmp_path)
    assert not third.outcomes[0].decoded  # the damaged file was replaced


def test_batch_killed_half_way_resumes_without_decoding_finished_videos(cohort12, first_run, tmp_path):
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "behavscore.cli", "batch", str(cohort12), "--protocol", "tst", "--window", WINDOW,
           "--out", str(out), "--jobs", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while len(list((out / "cache").glob("*.npz"))) < 6:
        assert proc.poll() is None, "the batch finished before it could be killed half-way"
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    cached_before = {p.name for p in (out / "cache").glob("*.npz")}
    assert 6 <= len(cached_before) < 12
    assert not any((out / name).exists() for name in TABLES)  # nothing that looks complete
    r = _batch(cohort12, out)
    assert r.exit_code == 0, r.output
    prov = _provenance(out)
    decoded = sum(v["signals"] == "decoded" for v in prov.values())
    from_cache = sum(v["signals"] == "cache" for v in prov.values())
    assert from_cache == len(cached_before) and decoded == 12 - len(cached_before)
    for name in TABLES:
        assert (out / name).read_bytes() == (first_run / name).read_bytes(), name


def test_dask_local_cluster_gives_the_same_tables(cohort12, first_run, tmp_path):
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        r = _batch(cohort12, tmp_path, "--no-cache", "--scheduler", cluster.scheduler_address)
    assert r.exit_code == 0, r.output
    for name in TABLES:
        assert (tmp_path / name).read_bytes() == (first_run / name).read_bytes(), name


def test_scheduler_without_dask_explains_how_to_install_it(cohort12, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if the extra were not installed
    r = _batch(cohort12, tmp_path, "--scheduler", "tcp://127.0.0.1:8786")
    assert r.exit_code == 2
    assert "pip install 'behavscore[dask]'" in r.output and "Traceback" not in r.output


def test_batch_writes_group_statistics_prism_table_and_figures(cohort12, first_run):
    summary = pd.read_csv(first_run / "summary.csv")
    stats = pd.read_csv(first_run / "stats.csv")
    ok = summary[summary["status"] == "ok"]
    described = stats[(stats["analysis"] == "describe") & (stats["outcome"] == "immobility_s")]
    assert described["n"].sum() == len(ok)  # every scored animal in exactly one group
    vehicle = ok[ok["treatment"] == "vehicle"]["immobility_s"]
    row = described[described["group"] == "vehicle"].iloc[0]
    assert row["n"] == len(vehicle) and row["mean"] == pytest.approx(vehicle.mean())
    assert (stats["analysis"] == "dunnett").any() and (stats["analysis"] == "anova").any()
    prism = pd.read_csv(first_run / "prism_immobility_s.csv")
    assert prism["vehicle"].dropna().sort_values().tolist() == sorted(vehicle)
    for name in ("groups_immobility_s.png", "time_course_immobility.png", "ethogram.png"):
        assert (first_run / "figures" / name).stat().st_size > 1000, name
    prov = json.loads((first_run / "provenance.json").read_text())["parameters"]["group_stats"]
    assert prov["groups"] == ["treatment", "dose_mg_kg"] and "stats.csv" in prov["files"]


def test_unknown_group_column_is_refused_before_scoring(cohort12, tmp_path):
    r = _batch(cohort12, tmp_path, "--group", "genotype")
    assert r.exit_code == 2 and "genotype" in r.output and "treatment" in r.output
    assert not (tmp_path / "cache").exists()


def test_signals_measured_for_the_threshold_scorer_serve_it_alone(short_tst, tmp_path):
    # The threshold scorer's pass leaves out the classifier's measures: its cached signals do
    # not serve a trained model, while signals with every measure serve both.
    cohort = pd.DataFrame([{"video": short_tst.path.name, "animal": a, "roi_x": x, "roi_y": y, "roi_w": w, "roi_h": h}
                           for a, x, y, w, h in short_tst.rois])
    cohort = _with_paths(cohort, short_tst.path.parent)
    lean = score_cohort(cohort, "tst", model="threshold", window=(0, 40), cache_dir=tmp_path)
    trained = score_cohort(cohort, "tst", model="default", window=(0, 40), cache_dir=tmp_path)
    assert lean.outcomes[0].decoded and trained.outcomes[0].decoded
    assert len(list(tmp_path.glob("*.npz"))) == 2
    again = score_cohort(cohort, "tst", model="threshold", window=(0, 40), cache_dir=tmp_path)
    assert not again.outcomes[0].decoded
    assert again.outcomes[0].result.signals.params.classifier_measures  # read from the full signals
    pd.testing.assert_frame_equal(lean.seconds, again.seconds)
    pd.testing.assert_frame_equal(lean.summary, again.summary)


PRE_TEST_S = 7


@pytest.fixture(scope="module")
def late_start(tmp_path_factory) -> dict:
    """A 40-s TST test as recorded, and the same test in a recording that began 7 s earlier
    (its first 7 s once more, before the test), with cohort tables for both. Both mice are
    often immobile (settled immobility 92 %), so a window off by 7 s scores other seconds."""
    from behavscore.synth import generate_video
    from behavscore.video import iter_luma

    from conftest import write_video

    folder = tmp_path_factory.mktemp("late_start")
    video = generate_video(folder / "synth.mp4", "tst", seed=13, seconds=40, animals=2, treatment_effects=[{"immobility_late": 0.92}] * 2)
    frames = list(iter_luma(video.path))
    lead = frames[: int(PRE_TEST_S * video.fps)]
    write_video(folder / "test.mp4", frames, fps=video.fps)
    write_video(folder / "recording.mp4", lead + frames, fps=video.fps)
    rois = pd.DataFrame(video.rois, columns=["animal", "roi_x", "roi_y", "roi_w", "roi_h"])
    rois.assign(video="test.mp4").to_csv(folder / "test.csv", index=False)
    rois.assign(video="recording.mp4", test_start_s=PRE_TEST_S).to_csv(folder / "recording.csv", index=False)
    return {"folder": folder, "truth": video.truth}


def test_each_video_is_scored_from_its_test_start(late_start):
    window = (0.0, 33.0)
    plain = score_cohort(read_cohort(late_start["folder"] / "test.csv"), "tst", "threshold", window=window)
    late = score_cohort(read_cohort(late_start["folder"] / "recording.csv"), "tst", "threshold", window=window)
    assert late.failures.empty, late.failures
    a, b = plain.summary.set_index("animal"), late.summary.set_index("animal")
    # The same seconds of the test are scored: the window and the per-minute bins count from the
    # test's start, the per-second table from the recording's.
    assert (b["test_start_s"] == PRE_TEST_S).all()
    assert (b["window_start_s"] == 0).all() and (b["window_end_s"] == 33).all()
    assert (a["immobility_s"] >= 5).all(), a  # enough immobility for an offset window to show
    assert (b["immobility_s"] - a["immobility_s"]).abs().max() <= 1, (a["immobility_s"], b["immobility_s"])
    assert (b["latency_s"] - a["latency_s"]).abs().max() <= 1, (a["latency_s"], b["latency_s"])
    assert late.minutes["bin_start_s"].min() == 0 and late.minutes["bin_end_s"].max() == 33
    # Bouts too are timed from the test's start.
    first = late.bouts.groupby("animal")["start_s"].min() - b["window_start_s"]
    pd.testing.assert_series_equal(first, b["latency_s"], check_names=False)
    assert (late.bouts.groupby("animal")["start_s"].min() - plain.bouts.groupby("animal")["start_s"].min()).abs().max() <= 1
    assert late.seconds["second"].max() == plain.seconds["second"].max() + PRE_TEST_S
    truth = late_start["truth"]
    truth_s = (truth[truth["second"] < 33]["label"] == "immobile").groupby(truth["animal"]).sum()
    assert ((b["immobility_s"] - truth_s).abs() <= 6).all(), (b["immobility_s"], truth_s)


@pytest.mark.parametrize(
    "cells,match",
    [
        ({"a1": "-3", "a2": "-3"}, r"line 2, column 'test_start_s': '-3' is not a time in seconds >= 0"),
        ({"a1": "", "a2": "5"}, r"line 2, column 'test_start_s': '' is not a time"),
        ({"a1": "12 s", "a2": "12 s"}, "not a time in seconds"),
        ({"a1": "5", "a2": "9"}, r"lines 2, 3, column 'test_start_s': the animals of one video need one test start"),
    ],
)
def test_bad_test_start_is_refused_naming_line_and_column(tmp_path, cells, match):
    from behavscore.cohort import CohortError

    pd.DataFrame({"video": ["v.mp4", "v.mp4"], "animal": list(cells), "test_start_s": list(cells.values())}).to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(CohortError, match=match):
        read_cohort(tmp_path / "c.csv")


@pytest.mark.parametrize("value", ["-1", "2.5", "inf", "ten"])
def test_bad_roi_value_is_refused_naming_line_and_column(tmp_path, value):
    from behavscore.cohort import CohortError

    pd.DataFrame({"video": ["v.mp4"], "animal": ["a1"], "roi_x": [value], "roi_y": [0], "roi_w": [10], "roi_h": [10]}).to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(CohortError, match=rf"line 2, column 'roi_x': '{value}' is not a whole number of pixels >= 0"):
        read_cohort(tmp_path / "c.csv")


def test_one_recording_listed_twice_and_one_compartment_given_twice_are_flagged(short_tst, tmp_path):
    # Copy-paste mistakes of a cohort table: the same file under another name (its animals
    # scored from the same frames), and one video's two rows holding the same ROI.
    import shutil

    shutil.copy(short_tst.path, tmp_path / "cage1.mp4")
    shutil.copy(short_tst.path, tmp_path / "cage2.mp4")
    shutil.copy(short_tst.path, tmp_path / "cage3.mp4")
    (a1, *box1), (a2, *box2) = short_tst.rois
    rows = [("cage1.mp4", "m1", *box1), ("cage1.mp4", "m2", *box2), ("cage2.mp4", "m3", *box1), ("cage2.mp4", "m4", *box2),
            ("cage3.mp4", "m5", *box1), ("cage3.mp4", "m6", *box1)]
    pd.DataFrame(rows, columns=["video", "animal", "roi_x", "roi_y", "roi_w", "roi_h"]).to_csv(tmp_path / "cohort.csv", index=False)
    result = score_cohort(read_cohort(tmp_path / "cohort.csv"), "tst", "threshold", window=(0, 40))
    flags = result.summary.set_index("animal")["flags"]
    assert all("same video" in flags[m] for m in ("m1", "m2", "m3", "m4", "m5", "m6")), flags
    assert all("overlapping ROIs" in flags[m] for m in ("m5", "m6")) and not any("overlapping" in flags[m] for m in ("m1", "m3")), flags
    assert sum("the same file content" in w and "cage1.mp4" in w and "cage3.mp4" in w for w in result.warnings) == 1, result.warnings
    assert any("'m5' and 'm6' overlap by 100%" in w for w in result.warnings), result.warnings
    # Distinct recordings with compartments side by side: nothing flagged.
    clean = score_cohort(read_cohort(tmp_path / "cohort.csv").iloc[:2], "tst", "threshold", window=(0, 40))
    assert (clean.summary["flags"] == "").all(), clean.summary["flags"]
