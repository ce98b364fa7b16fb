"""ROIs proposed from where animals move, against the generator's own compartments and real panels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from behavscore import score_video
from behavscore.cli import app
from behavscore.cohort import read_cohort, rois_of
from behavscore.compartments import CompartmentError, places_side_by_side, propose_video_rois, sample_frames, split_columns
from behavscore.signals import Roi, compute_signals

from conftest import PROJECT, moving_square_frames, write_video

runner = CliRunner()


def covers(proposed, truth, share: float = 0.9) -> bool:
    """The proposed ROI holds at least ``share`` of the true compartment's width."""
    _, px, _, pw, _ = proposed
    _, tx, _, tw, _ = truth
    return min(px + pw, tx + tw) - max(px, tx) >= share * tw


@pytest.mark.parametrize("fixture", ["short_fst", "short_tst"])
def test_proposed_rois_hold_each_animal_and_score_like_the_generators_rois(request, fixture):
    video = request.getfixturevalue(fixture)
    names = [r[0] for r in video.rois]
    proposal = propose_video_rois(video.path, len(names), names=names)
    for i, (p, t) in enumerate(zip(proposal.rois, video.rois)):
        assert covers(p, t), (p, t)
        for other in video.rois[:i] + video.rois[i + 1:]:  # never reaches into a neighbour's compartment
            assert min(p[1] + p[3], other[1] + other[3]) <= max(p[1], other[1]), (p, other)
    protocol = fixture.split("_")[1]
    given = score_video(video.path, protocol=protocol, window=(0, 40), rois=video.rois, model="threshold")
    found = score_video(video.path, protocol=protocol, window=(0, 40), rois=proposal.rois, model="threshold")
    both = given.seconds.merge(found.seconds, on=["animal", "second"])
    assert (both["label_x"] == both["label_y"]).mean() >= 0.97


def test_dividers_at_the_edges_of_tst_compartments_are_left_out():
    # The sample TST rig has dark dividers between the mice; the generator's ROIs stop short of
    # them, and so must the proposals (the dividers are still, nothing moves in them).
    cohort = read_cohort(PROJECT / "videos_sample" / "tst" / "cohort.csv")
    for _, rows in cohort.groupby("video"):
        truth = rois_of(rows)
        proposal = propose_video_rois(rows["video_path"].iloc[0], len(truth))
        for p, t in zip(proposal.rois, truth):
            assert t[1] - 1 <= p[1] and p[1] + p[3] <= t[1] + t[3] + 1, (p, t)
            assert covers(p, t), (p, t)


def test_bsoid_panels_are_found_where_they_were_stacked(reference_video):
    proposal = propose_video_rois(reference_video / "bsoid" / "locomote_hstacked.mp4", 3)
    assert [r[1] for r in proposal.rois] == pytest.approx([0, 450, 900], abs=3)
    assert [r[3] for r in proposal.rois] == pytest.approx([450, 450, 450], abs=3)
    assert proposal.method == "equal compartments"


def test_bsoid_mice_that_hardly_move_get_no_made_up_compartments(reference_video):
    # Compression noise and a twitch here and there are specks, not three animals' ranges.
    with pytest.raises(CompartmentError, match=r"inactive_hstacked.mp4: .*3 animals side by side expected"):
        propose_video_rois(reference_video / "bsoid" / "inactive_hstacked.mp4", 3)


def test_empty_chamber_gets_no_roi(reference_video):
    with pytest.raises(CompartmentError, match=r"eztrack_empty_chamber.wmv: in the first 60 s, no movement seen"):
        propose_video_rois(reference_video / "eztrack_empty_chamber.wmv", 1)


def test_an_animal_that_never_moves_is_not_given_a_made_up_compartment(tmp_path):
    path = write_video(tmp_path / "one_moving.avi", moving_square_frames(60, size=(120, 320)), fourcc="MJPG")
    with pytest.raises(CompartmentError, match=r"one_moving.avi: in the first 60 s, movement seen in 1 separate place .* 2 animals side by side expected"):
        propose_video_rois(path, 2)
    (name, x, y, w, h), = propose_video_rois(path, 1).rois
    assert x <= 20 and x + w >= 110 and (y, h) == (0, 120)


def test_compartments_of_unequal_width_are_cut_halfway_between_the_animals():
    profile = np.zeros(300)
    for a, b in ((10, 40), (60, 90), (200, 280)):  # the second animal moves inside the first third
        profile[a:b] = 20
    assert split_columns(profile, 3, min_px=50) == ([0, 50, 145, 300], "cut between movement ranges")
    # Two animals: both first ranges lie in the left half, the third in the right.
    assert split_columns(profile, 2, min_px=50) == ([0, 150, 300], "equal compartments")
    # Movement inside each of equal compartments: the compartments themselves.
    profile[60:90] = 0
    profile[120:160] = 20
    assert split_columns(profile, 3, min_px=50) == ([0, 100, 200, 300], "equal compartments")
    # A speck of movement is no animal.
    profile[120:160] = 0
    profile[150] = 20
    assert split_columns(profile, 3, min_px=50) is None


def test_rois_command_writes_a_cohort_table_batch_can_score(short_tst, tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    (folder / short_tst.path.name).write_bytes(short_tst.path.read_bytes())
    (folder / "corrupt.mp4").write_bytes(np.random.default_rng(1).integers(0, 256, 20_000, dtype=np.uint8).tobytes())
    out = folder / "cohort.csv"
    r = runner.invoke(app, ["rois", str(folder), "--animals", "2", "--out", str(out)])
    assert r.exit_code == 1, r.output  # the corrupt file is reported, the good one proposed
    said = "".join(r.output.split())  # long paths are folded across lines
    assert "corrupt.mp4:notareadablevideo" in said
    table = read_cohort(out)
    assert table["video"].tolist() == [short_tst.path.name] * 2
    for p, t in zip(rois_of(table), short_tst.rois):
        assert covers(p, t)
    assert (folder / f"{short_tst.path.stem}_rois.png").stat().st_size > 1000
    # A table a lab may have edited is not overwritten without --force.
    out.write_text(out.read_text().replace("\n", ",vehicle\n").replace("roi_h,vehicle", "roi_h,treatment"))
    before = out.read_text()
    r = runner.invoke(app, ["rois", str(folder / short_tst.path.name), "-n", "2", "--out", str(out)])
    assert r.exit_code == 2 and "exists" in "".join(r.output.split()) and out.read_text() == before
    r = runner.invoke(app, ["batch", str(out), "--protocol", "tst", "--window", "0:40", "--model", "threshold", "--out", str(tmp_path / "res")])
    assert r.exit_code == 0, r.output
    assert (pd.read_csv(tmp_path / "res" / "summary.csv")["status"] == "ok").all()


def test_scoring_a_whole_frame_that_holds_two_animals_says_so(short_tst, tmp_path):
    base = ["score", str(short_tst.path), "--protocol", "tst", "--window", "0:40", "--model", "threshold"]
    r = runner.invoke(app, base + ["--out", str(tmp_path / "whole")])
    assert r.exit_code == 0, r.output
    said = " ".join(r.output.split())
    assert "scored as one animal (the whole frame)" in said and "2 separate places" in said and "--animals 2" in said
    provenance = (tmp_path / "whole" / "provenance.json").read_text()
    assert "2 separate places" in provenance
    assert "2 separate places" in pd.read_csv(tmp_path / "whole" / "warnings.csv")["warning"].iloc[0]
    rois = sum((["--roi", f"{a}={x},{y},{w},{h}"] for a, x, y, w, h in short_tst.rois), [])
    r = runner.invoke(app, base + rois + ["--out", str(tmp_path / "rois")])
    assert r.exit_code == 0 and "separate places" not in r.output
    assert pd.read_csv(tmp_path / "rois" / "warnings.csv").empty


def test_a_folder_of_videos_that_each_hold_two_animals_is_flagged_from_video_and_from_the_cache(short_tst, tmp_path):
    # `batch` on a folder takes each video for one animal: a rig of two mice filmed without ROIs
    # must not give one number for both silently, and re-scoring from the cache must say so too.
    import json

    folder = tmp_path / "videos"
    folder.mkdir()
    (folder / short_tst.path.name).write_bytes(short_tst.path.read_bytes())
    base = ["batch", str(folder), "--protocol", "tst", "--window", "0:40", "--model", "threshold", "--jobs", "1", "--out", str(tmp_path / "res")]
    for run in ("decoded", "cache"):
        r = runner.invoke(app, base + (["--threshold", "12"] if run == "cache" else []))
        assert r.exit_code == 0, r.output
        assert "2 separate places" in " ".join(r.output.split()), r.output
        (record,) = json.loads((tmp_path / "res" / "provenance.json").read_text())["inputs"]
        assert record["signals"] == run and any("--animals 2" in w for w in record["warnings"]), record
        table = pd.read_csv(tmp_path / "res" / "warnings.csv")
        assert table["video"].tolist() == [short_tst.path.name]
        assert table["warning"].iloc[0].startswith("scored as one animal (the whole frame)")


def test_the_scoring_pass_counts_animals_side_by_side_as_the_roi_search_does(reference_video):
    # The pass samples the first minute from the frames it decodes anyway (at half resolution
    # for large frames); the count must be the one `behavscore rois` sees.
    for clip in ("tracktor_open_field.mp4", "bsoid/locomote_hstacked.mp4", "bsoid/inactive_hstacked.mp4", "eztrack_empty_chamber.wmv"):
        path = reference_video / clip
        assert compute_signals(path).places_side_by_side == places_side_by_side(sample_frames(path)[0]), clip
    # Given ROIs, nothing is counted: each ROI is one animal.
    assert compute_signals(reference_video / "bsoid/locomote_hstacked.mp4", [Roi("a", 0, 0, 450, 360)]).places_side_by_side is None


@pytest.mark.parametrize("clip, animals", [("tracktor_open_field.mp4", 1), ("tethered_home_cage_10s.avi", 1), ("bsoid/locomote_hstacked.mp4", 3)])
def test_a_mouse_walking_about_an_arena_is_not_taken_for_several_animals(reference_video, clip, animals):
    # The open-field mouse moves in four separate column ranges over the first minute, but in
    # different ones early and late; the three B-SOiD panels keep moving in theirs.
    assert places_side_by_side(sample_frames(reference_video / clip)[0]) == animals
