"""Lights whose brightness changes from frame to frame (lamps on the mains beating with the
camera's rate, a camera's automatic exposure) against synthetic truth."""

from __future__ import annotations

import numpy as np
import pytest

from behavscore import signals as signals_module
from behavscore.score import score_signals
from behavscore.signals import FLICKER_DN, Roi, compute_signals

from test_accuracy import immobility_tolerance_s

SECONDS = 60
#: Per-frame gain jitter, SD: about 9 grey levels of mean brightness step between frames here.
FLICKER_FRACTION = 0.05


@pytest.fixture(scope="module")
def flickering(tmp_path_factory):
    """60-s, 3-animal FST and TST videos with flickering lights, and their signals measured as
    the pass measures them and with every frame differenced as it is (no brightness matching)."""
    from behavscore.synth import generate_video
    from behavscore.synth.nuisance import NuisanceSettings

    out = tmp_path_factory.mktemp("flicker")
    made = {}
    for protocol in ("fst", "tst"):
        video = generate_video(out / f"{protocol}.mp4", protocol, seed=4401, seconds=SECONDS, animals=3,
                               nuisance=NuisanceSettings(flicker_fraction=FLICKER_FRACTION))
        rois = [Roi(*r) for r in video.rois]
        with pytest.MonkeyPatch.context() as m:
            m.setattr(signals_module, "FLICKER_DN", np.inf)
            naive = compute_signals(video.path, rois)
        made[protocol] = video, compute_signals(video.path, rois), naive
    return made


def errors_s(video, signals, protocol: str, model: str):
    """Per animal: scored minus true immobile seconds, the tolerance, and the run's warnings."""
    truth = video.truth.assign(immobile=video.truth["label"] == "immobile").groupby("animal")["immobile"].sum()
    result = score_signals(signals, protocol, model, window=(0, SECONDS))
    scored = result.summary.set_index("animal")["immobility_s"]
    return scored - truth, truth.map(immobility_tolerance_s), result.warnings


@pytest.mark.parametrize("model", ["threshold", "default"])
@pytest.mark.parametrize("protocol", ["fst", "tst"])
def test_flickering_lights_leave_immobility_where_truth_is(flickering, protocol, model):
    # Measured with frames differenced as they are: the threshold scorer called 48 s of TST
    # immobility for 6, the FST classifier 26 s for 12 (every scorer and protocol had an animal
    # outside the bar); with brightness matched, every animal within 4 s.
    video, signals, naive = flickering[protocol]
    assert (signals.per_roi["flicker_dn"] > FLICKER_DN).all()
    error, tolerance, warnings = errors_s(video, signals, protocol, model)
    assert (error.abs() <= tolerance).all(), error
    assert any(video.path.name in w and "brightness" in w for w in warnings), warnings
    naive_error, _, _ = errors_s(video, naive, protocol, model)
    assert (naive_error.abs() > tolerance).any(), naive_error  # the videos do test the matching
