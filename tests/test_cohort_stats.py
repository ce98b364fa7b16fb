"""Cohort group statistics checked against published worked examples and simulated truths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assay_core.group_stats import hedges_g
from behavscore.cohort_stats import (STATS_COLUMNS, adjusted_anova, assign_groups, column_unit, exclude_flagged,
                                     group_statistics, prism_wide, stars)


def cohort(groups: dict[str, list[float]], column: str = "treatment", outcome: str = "immobility_s",
           **extra) -> pd.DataFrame:
    """A summary table: one ok row per value, the group name in ``column``."""
    rows = [{"animal": f"{g}-{i}", column: g, outcome: v, "status": "ok"}
            for g, vals in groups.items() for i, v in enumerate(vals)]
    df = pd.DataFrame(rows)
    for k, v in extra.items():
        df[k] = v
    return df


def row(table: pd.DataFrame, **match) -> pd.Series:
    sel = np.ones(len(table), bool)
    for k, v in match.items():
        sel &= table[k].to_numpy() == v
    assert sel.sum() == 1, f"{sel.sum()} rows match {match}"
    return table[sel].iloc[0]


# McDonald, Handbook of Biological Statistics (3rd ed., one-way ANOVA): posterior adductor
# muscle scar length / shell length of Mytilus trossulus at five sites.
# Published: F(4, 34) = 7.12, P = 2.8e-4; SS among = 0.00452, SS within = 0.00539.
MUSSELS = {
    "tillamook": [0.0571, 0.0813, 0.0831, 0.0976, 0.0817, 0.0859, 0.0735, 0.0659, 0.0923, 0.0836],
    "newport": [0.0873, 0.0662, 0.0672, 0.0819, 0.0749, 0.0649, 0.0835, 0.0725],
    "petersburg": [0.0974, 0.1352, 0.0817, 0.1016, 0.0968, 0.1064, 0.105],
    "magadan": [0.1033, 0.0915, 0.0781, 0.0685, 0.0677, 0.0697, 0.0764, 0.0689],
    "tvarminne": [0.0703, 0.1026, 0.0956, 0.0973, 0.1039, 0.1045],
}

# Dunnett (1955), J Am Stat Assoc 50:1096, blood counts (millions of cells per mm^3).
DUNNETT_1955 = {
    "control": [7.40, 8.50, 7.20, 8.24, 9.84, 8.32],
    "drug A": [9.76, 8.80, 7.68, 9.36],
    "drug B": [12.80, 9.68, 12.16, 9.20, 10.55],
}
# Dunnett's (1955) table of two-sided 95 % critical values: 2 comparisons, 12 error df.
DUNNETT_D_2_12 = 2.50


def test_anova_matches_mcdonald_mussel_example():
    t = group_statistics(cohort(MUSSELS), "treatment", reference="tillamook", outcomes=["immobility_s"])
    a = row(t, analysis="anova")
    assert (a["df_num"], a["df_den"], a["n"]) == (4, 34, 39)
    assert a["statistic"] == pytest.approx(7.12, abs=0.005)
    assert a["p_value"] == pytest.approx(2.8e-4, rel=0.02)
    assert a["effect_size"] == pytest.approx(0.00452 / (0.00452 + 0.00539), abs=0.002)
    assert a["effect_size_name"] == "eta_squared"
    assert a["stars"] == "***"


def test_dunnett_matches_dunnett_1955_blood_counts():
    t = group_statistics(cohort(DUNNETT_1955), "treatment", outcomes=["immobility_s"])
    a, b = row(t, analysis="dunnett", group="drug A"), row(t, analysis="dunnett", group="drug B")
    assert a["reference"] == "control"  # found by name
    # Dunnett's worked numbers: differences 0.65 and 2.63, s = 1.175 on 12 df
    assert a["difference"] == pytest.approx(0.65, abs=0.005)
    assert b["difference"] == pytest.approx(2.628, abs=0.001)
    assert a["df_den"] == 12
    s = 1.175
    for r, n in ((a, 4), (b, 5)):
        se = s * np.sqrt(1 / n + 1 / 6)
        assert r["statistic"] == pytest.approx(r["difference"] / se, rel=2e-3)
        # the table assumes equal n (correlation 0.5); these n give 0.43, so the exact
        # simultaneous critical value lies just above the tabulated 2.50
        half = (r["ci_high"] - r["ci_low"]) / 2
        assert DUNNETT_D_2_12 - 0.005 < half / se < DUNNETT_D_2_12 + 0.03
    assert a["p_value"] > 0.5 and a["stars"] == "ns"
    assert b["p_value"] < 0.01 and b["stars"] == "**"


def test_dunnett_p_is_005_at_the_tabulated_critical_value():
    base = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    s = base.std(ddof=1)  # every group has this spread, so the pooled SD is s on 12 df
    delta = DUNNETT_D_2_12 * s * np.sqrt(2 / 5)
    t = group_statistics(cohort({"vehicle": base + 100, "a": base + 100 + delta, "b": base + 100}),
                         "treatment", outcomes=["immobility_s"])
    a = row(t, analysis="dunnett", group="a")
    assert a["p_value"] == pytest.approx(0.05, abs=0.003)
    se = s * np.sqrt(2 / 5)
    assert (a["ci_high"] - a["ci_low"]) / 2 / se == pytest.approx(DUNNETT_D_2_12, abs=0.006)


def test_dunnett_p_values_are_the_same_on_every_run():
    one = group_statistics(cohort(DUNNETT_1955), "treatment", outcomes=["immobility_s"])
    two = group_statistics(cohort(DUNNETT_1955), "treatment", outcomes=["immobility_s"])
    assert one["p_value"].equals(two["p_value"])


# Lakens (2013) Front Psychol 4:863, Table 1: movie ratings; published d_s = 1.13, g_s = 1.08.
MOVIE_1 = [9, 7, 8, 9, 8, 9, 9, 10, 9, 9]
MOVIE_2 = [9, 6, 7, 8, 7, 9, 8, 8, 8, 7]


def test_hedges_g_matches_lakens_2013():
    assert hedges_g(MOVIE_1, MOVIE_2) == pytest.approx(1.08, abs=0.005)
    assert hedges_g(MOVIE_2, MOVIE_1) == pytest.approx(-1.08, abs=0.005)
    t = group_statistics(cohort({"control": MOVIE_2, "movie 1": MOVIE_1}), "treatment", outcomes=["immobility_s"])
    r = row(t, analysis="dunnett", group="movie 1")
    assert r["effect_size_name"] == "hedges_g"
    assert r["effect_size"] == pytest.approx(1.08, abs=0.005)


@pytest.mark.parametrize("p, mark", [(0.2, "ns"), (0.05, "ns"), (0.0499, "*"), (0.0099, "**"),
                                     (0.00099, "***"), (0.000099, "****"), (np.nan, "")])
def test_stars_follow_prism_thresholds(p, mark):
    assert stars(p) == mark


def test_adjusted_anova_equals_one_way_with_a_single_covariate_level():
    df = cohort(MUSSELS, sex="male")
    t = group_statistics(df, "treatment", reference="tillamook", outcomes=["immobility_s"], covariates=["sex"])
    plain, adj = row(t, analysis="anova"), row(t, analysis="anova_adjusted")
    assert adj["statistic"] == pytest.approx(plain["statistic"], rel=1e-9)
    assert adj["p_value"] == pytest.approx(plain["p_value"], rel=1e-9)
    assert (adj["df_num"], adj["df_den"]) == (plain["df_num"], plain["df_den"])
    levels = t[t["analysis"] == "covariate_levels"]
    assert row(levels, group="all")["n"] == 39
    assert row(levels, group="newport")["n"] == 8


def test_adjusted_anova_is_the_additive_two_way_anova_in_a_balanced_design():
    rng = np.random.default_rng(4)
    a_levels, b_levels, reps = 3, 4, 3
    A = np.repeat(np.arange(a_levels), b_levels * reps)
    B = np.tile(np.repeat(np.arange(b_levels), reps), a_levels)
    y = 2.0 * A + 5.0 * B + rng.normal(0, 3, A.size)
    # textbook sums of squares of the additive model (balanced: main effects orthogonal)
    grand = y.mean()
    ss_a = b_levels * reps * sum((y[A == i].mean() - grand) ** 2 for i in range(a_levels))
    ss_b = a_levels * reps * sum((y[B == j].mean() - grand) ** 2 for j in range(b_levels))
    ss_err = np.sum((y - grand) ** 2) - ss_a - ss_b
    df_err = y.size - a_levels - b_levels + 1
    F = (ss_a / (a_levels - 1)) / (ss_err / df_err)
    res = adjusted_anova(y, [f"g{i}" for i in A], pd.DataFrame({"batch": B}))
    assert (res["df_num"], res["df_den"]) == (a_levels - 1, df_err)
    assert res["statistic"] == pytest.approx(F, rel=1e-9)
    assert res["partial_eta_squared"] == pytest.approx(ss_a / (ss_a + ss_err), rel=1e-9)


def test_adjusting_for_a_strong_covariate_recovers_a_hidden_group_effect():
    rng = np.random.default_rng(7)
    n_per = 12
    groups = np.repeat(["vehicle", "low", "high"], n_per)
    batch = np.tile(np.arange(4), 3 * n_per // 4)
    effect = {"vehicle": 0.0, "low": -12.0, "high": -24.0}
    batch_shift = np.array([-90.0, -30.0, 30.0, 90.0])
    y = 160 + np.array([effect[g] for g in groups]) + batch_shift[batch] + rng.normal(0, 6, groups.size)
    df = pd.DataFrame({"animal": range(groups.size), "treatment": groups, "batch": batch,
                       "immobility_s": y, "status": "ok"})
    t = group_statistics(df, "treatment", outcomes=["immobility_s"], covariates=["batch"])
    assert row(t, analysis="anova")["p_value"] > 0.05
    adj = row(t, analysis="anova_adjusted")
    assert adj["p_value"] < 1e-6
    assert adj["df_num"] == 2 and adj["df_den"] == groups.size - 2 - 3 - 1


def test_covariate_confounded_with_group_gives_a_note_not_a_number():
    df = cohort({"vehicle": [1.0, 2, 3], "drug": [4.0, 5, 6]})
    df["sex"] = np.where(df["treatment"] == "vehicle", "male", "female")
    adj = row(group_statistics(df, "treatment", outcomes=["immobility_s"], covariates=["sex"]),
              analysis="anova_adjusted")
    assert np.isnan(adj["p_value"]) and "confounded" in adj["note"]


def ll4(dose, b, c, d, e):
    with np.errstate(divide="ignore"):
        return c + (d - c) / (1 + np.exp(b * (np.log(dose) - np.log(e))))


def dose_cohort(doses, per_dose, seed, b=2.0, c=60.0, d=170.0, e=8.0, sd=12.0):
    rng = np.random.default_rng(seed)
    dose = np.repeat(np.asarray(doses, float), per_dose)
    y = ll4(dose, b, c, d, e) + rng.normal(0, sd, dose.size)
    return pd.DataFrame({"animal": [f"m{i}" for i in range(dose.size)],
                         "treatment": np.where(dose == 0, "vehicle", "norclomipramine"),
                         "dose_mg_kg": dose, "immobility_s": y, "status": "ok"})


def test_ed50_is_recovered_from_animals_simulated_on_a_known_ll4_curve():
    df = dose_cohort([0, 2.5, 5, 10, 20, 40], 10, seed=3)
    t = group_statistics(df, ["treatment", "dose_mg_kg"], dose_col="dose_mg_kg")
    ed = row(t, analysis="dose_response", term="ED50")
    assert ed["group"] == "norclomipramine" and ed["unit"] == "mg/kg" and ed["n"] == 60
    assert ed["estimate"] == pytest.approx(8.0, rel=0.25)
    assert ed["ci_low"] < 8.0 < ed["ci_high"]
    assert ed["se"] > 0 and ed["flags"] == ""
    assert ed["method"] == "LL.4"
    top = row(t, analysis="dose_response", term="Top")
    assert top["estimate"] == pytest.approx(170, abs=15) and top["unit"] == "s"


def test_three_doses_fix_the_vehicle_plateau_and_two_doses_give_a_note():
    three = group_statistics(dose_cohort([0, 5, 10, 20], 8, seed=5), ["treatment", "dose_mg_kg"],
                             dose_col="dose_mg_kg", outcomes=["immobility_s"])
    ed = row(three, analysis="dose_response", term="ED50")
    assert "fixed at the vehicle mean" in ed["method"]
    assert np.isfinite(ed["estimate"])
    assert "fixed" in row(three, analysis="dose_response", term="Top")["note"]
    two = group_statistics(dose_cohort([0, 5, 20], 8, seed=5), ["treatment", "dose_mg_kg"],
                           dose_col="dose_mg_kg", outcomes=["immobility_s"])
    ed2 = row(two, analysis="dose_response")
    assert np.isnan(ed2["estimate"]) and "at least 3 distinct positive doses" in ed2["note"]


def test_too_few_animals_for_a_dose_response_give_a_note():
    t = group_statistics(dose_cohort([0, 5, 10, 20], 1, seed=1), ["treatment", "dose_mg_kg"],
                         dose_col="dose_mg_kg", outcomes=["immobility_s"])
    ed = row(t, analysis="dose_response")
    assert np.isnan(ed["estimate"]) and "animals for 3 free parameters" in ed["note"]


def test_a_flagged_ed50_always_carries_its_flags():
    df = dose_cohort([0, 2.5, 5, 10, 20, 40], 6, seed=9, b=2.0, c=150.0, d=152.0, sd=20.0)  # no real effect
    ed = row(group_statistics(df, ["treatment", "dose_mg_kg"], dose_col="dose_mg_kg",
                              outcomes=["immobility_s"]), analysis="dose_response", term="ED50")
    assert ed["flags"] != ""
    assert ed["note"].startswith("FLAGGED")


def test_reference_is_the_dose_zero_group_and_labels_carry_units():
    df = dose_cohort([20, 5, 0, 10], 2, seed=0)
    d = assign_groups(df, ["treatment", "dose_mg_kg"])
    assert d.reference == "vehicle"
    assert d.labels == ("vehicle", "norclomipramine 5 mg/kg", "norclomipramine 10 mg/kg",
                        "norclomipramine 20 mg/kg")
    assert column_unit("dose_mg_kg") == "mg/kg" and column_unit("latency_s") == "s"


def test_reference_is_found_by_name_case_insensitively():
    df = cohort({"Drug X": [1.0, 2], "SALINE": [3.0, 4], "drug Y": [5.0, 6]})
    d = assign_groups(df, "treatment")
    assert d.reference == "SALINE" and d.labels[0] == "SALINE"
    assert assign_groups(df, "treatment", reference="drug x").reference == "Drug X"


def test_missing_reference_is_a_clear_error():
    df = cohort({"drug X": [1.0, 2], "drug Y": [3.0, 4]})
    with pytest.raises(ValueError, match=r"cannot tell which group is the reference.*\['treatment'\].*drug X"):
        assign_groups(df, "treatment")
    with pytest.raises(ValueError, match="'placebo' not found"):
        assign_groups(df, "treatment", reference="placebo")


def test_animals_not_scored_are_excluded_and_counted_per_group():
    df = cohort({"vehicle": [100.0, 110, 120], "drug": [50.0, 60, 70]})
    bad = pd.DataFrame([{"animal": "x1", "treatment": "drug", "immobility_s": 999.0, "status": "no_animal"},
                        {"animal": "x2", "treatment": "drug", "immobility_s": np.nan, "status": "error: unreadable"},
                        {"animal": "x3", "treatment": "vehicle", "immobility_s": 0.0, "status": "no_animal"}])
    t = group_statistics(pd.concat([df, bad], ignore_index=True), "treatment", outcomes=["immobility_s"])
    drug = row(t, analysis="describe", group="drug")
    assert (drug["n"], drug["n_excluded"]) == (3, 2)
    assert drug["mean"] == pytest.approx(60.0) and drug["sd"] == pytest.approx(10.0)
    assert drug["sem"] == pytest.approx(10 / np.sqrt(3))
    assert row(t, analysis="describe", group="vehicle")["n_excluded"] == 1
    assert row(t, analysis="anova")["n_excluded"] == 3
    assert row(t, analysis="dunnett", group="drug")["difference"] == pytest.approx(-50.0)


def test_missing_values_of_ok_animals_are_counted_apart():
    df = cohort({"vehicle": [10.0, np.nan, 30], "drug": [5.0, 6, 7]}, outcome="latency_s")
    r = row(group_statistics(df, "treatment", outcomes=["latency_s"]), analysis="describe", group="vehicle")
    assert (r["n"], r["n_missing"], r["n_excluded"]) == (2, 1, 0)
    assert r["mean"] == pytest.approx(20.0)


def test_default_outcomes_follow_the_summary_columns():
    df = cohort({"vehicle": [1.0, 2], "drug": [3.0, 4]})
    for col in ("immobility_pct", "latency_s", "bouts", "swimming_s", "climbing_s"):
        df[col] = 1.0
    t = group_statistics(df, "treatment")
    assert list(dict.fromkeys(t["outcome"])) == ["immobility_s", "immobility_pct", "latency_s", "bouts",
                                                  "swimming_s", "climbing_s"]
    assert list(t.columns) == STATS_COLUMNS
    assert row(t, analysis="describe", outcome="bouts", group="drug")["unit"] == "count"
    two_class = group_statistics(df.drop(columns=["swimming_s", "climbing_s"]), "treatment")
    assert "swimming_s" not in set(two_class["outcome"])


def test_prism_wide_has_one_column_per_group_and_blank_padding(tmp_path):
    df = dose_cohort([0, 5, 10], 3, seed=2)
    df = df.drop(index=[4, 5]).reset_index(drop=True)  # 5 mg/kg keeps 1 animal
    df.loc[0, "status"] = "no_animal"
    wide = prism_wide(df, ["treatment", "dose_mg_kg"])
    assert list(wide.columns) == ["vehicle", "norclomipramine 5 mg/kg", "norclomipramine 10 mg/kg"]
    assert len(wide) == 3
    assert wide["vehicle"].notna().sum() == 2
    assert wide["norclomipramine 5 mg/kg"].notna().sum() == 1
    expected = df.loc[(df["dose_mg_kg"] == 10), "immobility_s"].to_numpy()
    assert wide["norclomipramine 10 mg/kg"].to_numpy() == pytest.approx(expected)
    from behavscore.outputs import write_csv
    write_csv(wide, tmp_path / "p.csv")
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines[0] == "vehicle,norclomipramine 5 mg/kg,norclomipramine 10 mg/kg"
    assert lines[3].startswith(",,")  # third row: vehicle and 5 mg/kg are blank


def test_dose_response_is_fitted_only_when_a_dose_column_is_given():
    df = dose_cohort([0, 2.5, 5, 10, 20, 40], 4, seed=3)
    without = group_statistics(df, ["treatment", "dose_mg_kg"], outcomes=["immobility_s"])
    assert "dose_response" not in set(without["analysis"])
    with_dose = group_statistics(df, ["treatment", "dose_mg_kg"], dose_col="dose_mg_kg", outcomes=["immobility_s"])
    assert "dose_response" in set(with_dose["analysis"])


def test_animals_with_a_named_flag_are_set_aside_from_the_groups_and_counted():
    summary = pd.DataFrame({
        "animal": ["m1", "m2", "m3", "m4", "m5"],
        "treatment": ["vehicle", "vehicle", "vehicle", "drug", "drug"],
        "immobility_s": [100.0, 200.0, 110.0, 60.0, 70.0],
        "status": ["ok", "ok", "ok", "ok", "error: file not found"],
        "flags": ["", "small body; tail climbing", "small body", "fell", ""],
    })
    out = exclude_flagged(summary, ["tail climbing", "fell"])
    assert out["status"].tolist() == ["ok", "excluded: tail climbing", "ok", "excluded: fell", "error: file not found"]
    assert summary["status"].iloc[1] == "ok"  # the summary itself is left as it was
    described = group_statistics(out, "treatment").query("outcome == 'immobility_s' and analysis == 'describe'").set_index("group")
    assert described.loc["vehicle", "mean"] == pytest.approx(105.0) and described.loc["vehicle", "n_excluded"] == 1
    assert described.loc["drug", "n"] == 0 and described.loc["drug", "n_excluded"] == 2
    assert exclude_flagged(summary, []).equals(summary)
    # A summary without a status column: the animals not flagged stay in.
    bare = exclude_flagged(summary.drop(columns="status"), ["fell"])
    assert bare["status"].tolist() == ["ok", "ok", "ok", "excluded: fell", "ok"]
