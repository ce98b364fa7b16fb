"""Group conclusions of the machine and the raters on the same animals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from behavscore.group_agreement import conclusion_lines, group_conclusions


def _cohort(n_per_group=6):
    groups = ["vehicle"] * n_per_group + ["drug"] * n_per_group
    return pd.DataFrame({"video": [f"v{i // 3}.mp4" for i in range(len(groups))], "animal": [f"m{i}" for i in range(len(groups))],
                         "treatment": groups})


def test_with_one_drug_group_the_difference_and_p_are_those_of_a_two_sample_t_test():
    cohort = _cohort()
    rng = np.random.default_rng(1)
    immobility = np.r_[rng.normal(170, 20, 6), rng.normal(140, 20, 6)]
    auto = cohort[["video", "animal"]].assign(immobility_s=immobility)
    table = group_conclusions({"auto": auto}, cohort, ["treatment"])
    drug = table.set_index("group").loc["drug"]
    assert drug["reference"] == "vehicle" and drug["n"] == 6
    assert drug["mean"] == pytest.approx(immobility[6:].mean())
    assert drug["difference"] == pytest.approx(immobility[6:].mean() - immobility[:6].mean())
    # Dunnett with a single comparison is Student's t test with the pooled variance (its p-value
    # is integrated numerically, to about 1e-4)
    t_test = stats.ttest_ind(immobility[6:], immobility[:6]).pvalue
    assert 0.001 < t_test < 0.5 and drug["p_value"] == pytest.approx(t_test, abs=1e-3)
    assert bool(drug["significant"]) == (drug["p_value"] < 0.05)


def test_scorers_are_compared_on_the_same_animals_and_differing_conclusions_are_named():
    cohort = _cohort()
    base = np.r_[np.full(6, 170.0), np.full(6, 120.0)] + np.tile([-12.0, -6, 0, 3, 6, 9], 2)
    auto = cohort[["video", "animal"]].assign(immobility_s=base)
    human = auto.assign(immobility_s=np.r_[base[:6], base[6:] + 45.0])  # the rater sees almost no drug effect
    human = human[human["animal"] != "m0"]  # and did not score m0: left out for both
    table = group_conclusions({"auto": auto, "human": human}, cohort, ["treatment"])
    assert table.set_index(["source", "group"]).loc[("auto", "vehicle"), "n"] == 5
    lines = conclusion_lines(table)
    assert lines == ["group conclusions differ for drug vs vehicle: p < 0.05 by auto, not by human"]
    same = group_conclusions({"auto": auto, "human": auto}, cohort, ["treatment"])
    assert conclusion_lines(same) == ["group conclusions: every scorer finds the same groups different from vehicle at p < 0.05"]


def test_no_animal_in_common_is_an_error():
    cohort = _cohort()
    with pytest.raises(ValueError, match="no animal of the cohort table"):
        group_conclusions({"auto": pd.DataFrame({"video": ["x.mp4"], "animal": ["q"], "immobility_s": [1.0]})}, cohort, ["treatment"])
