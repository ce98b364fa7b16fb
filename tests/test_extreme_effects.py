"""Strong treatment effects are not pulled toward the middle.

A drug that nearly abolishes immobility, or one that makes an animal float almost the whole
session, lies at the edge of what the scorers were tuned and trained on (vehicle and
dose-response cohorts, 26-66 % settled immobility on average). A scorer whose decision leans on
how an animal moved overall (its own ranks and medians) would shrink such effects. Fresh
synthetic animals with their settled immobility fixed at the generator's extremes, 5 % and
92 %, must be scored within the per-animal bar by the threshold scorer and by the shipped
classifier alike.
"""

from __future__ import annotations

import pytest

from behavscore.protocols import get_protocol
from test_accuracy import immobility_tolerance_s, video_against_truth

#: Seeds never used for tuning or training (see ``behavscore.train.RESERVED_SEEDS``).
SEEDS = {"fst": 9701, "tst": 9702}
#: Settled immobility of the three animals of each video: both extremes of the generator.
SETTLED_IMMOBILITY = (0.05, 0.92, 0.05)


@pytest.fixture(scope="module")
def extremes(tmp_path_factory) -> dict:
    from behavscore.synth import generate_video

    out = {}
    for protocol, seed in SEEDS.items():
        effects = [{"immobility_late": x} for x in SETTLED_IMMOBILITY]
        video = generate_video(tmp_path_factory.mktemp(protocol) / f"{protocol}.mp4", protocol, seed=seed, treatment_effects=effects, animals=3)
        out[protocol] = {model: video_against_truth(video, protocol, model) for model in ("threshold", "default")}
    return out


#: A TST animal that is almost always struggling spends most of its few immobile seconds in the
#: passive swing that follows a struggle (a3 of this video: 37 of its 48 s), and the threshold
#: scorer calls only 70-84 % of swing seconds immobile: measured 33 s for 48 s (the classifier
#: 45 s). See "Known limits" in the README. Strict: passing would be news.
SWING_DOMINATED = pytest.mark.xfail(strict=True, raises=AssertionError, reason="threshold scorer under-calls passive swing")


@pytest.mark.slow
@pytest.mark.parametrize(
    "protocol,model",
    [("fst", "threshold"), ("fst", "default"), pytest.param("tst", "threshold", marks=SWING_DOMINATED), ("tst", "default")],
)
def test_animals_at_the_extremes_are_scored_within_the_bar(extremes, protocol, model):
    table = extremes[protocol][model]
    # The generator did make extreme animals: the low ones under a fifth of the window, the
    # high one over two thirds (immobility grows over the session, so the window's share is
    # lower than the settled one).
    window_s = get_protocol(protocol).window_end_s - get_protocol(protocol).window_start_s
    share = table["truth_s"] / window_s
    assert share.iloc[[0, 2]].max() < 0.2 and share.iloc[1] > 0.67, share
    error = (table["auto_s"] - table["truth_s"]).abs()
    assert (error <= table["truth_s"].map(immobility_tolerance_s)).all(), table.assign(error_s=error)
