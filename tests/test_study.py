"""behavscore.study: the join checked against hand-computed values, occupancy, ED50, missing and mismatched tables."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from behavscore import study
from behavscore.cli_assay import assay_app, microdialysis_app

PROJECT = Path(__file__).resolve().parents[1]
EXAMPLE_DATA = PROJECT / "examples" / "data"


# --------------------------------------------------------------------- hand-made tables
def _summary() -> pd.DataFrame:
    """Per-animal summaries as score_cohort returns them (doses as text, as read_cohort leaves them)."""
    rows = [
        # protocol, animal, treatment, dose, immobility_s, latency_s, swimming_s, climbing_s, status
        ("fst", "f1", "vehicle", "0.0", 100.0, 10.0, 50.0, 20.0, "ok"),
        ("fst", "f2", "vehicle", "0", 120.0, 14.0, 40.0, 30.0, "ok"),
        ("fst", "f3", "drugA", "10.0", 60.0, 30.0, 60.0, 60.0, "ok"),
        ("fst", "f4", "drugA", "10", 80.0, 40.0, 70.0, 40.0, "ok"),
        ("fst", "f5", "drugA", "10", 70.0, np.nan, 80.0, 50.0, "ok"),  # no immobile bout: no latency
        ("fst", "f6", "drugA", "10", np.nan, np.nan, np.nan, np.nan, "error: video truncated"),
        ("tst", "t1", "vehicle", "0", 150.0, 20.0, np.nan, np.nan, "ok"),
        ("tst", "t2", "drugA", "10", 90.0, 50.0, np.nan, np.nan, "ok"),
    ]
    df = pd.DataFrame(rows, columns=["protocol", "animal", "treatment", "dose_mg_kg", "immobility_s",
                                     "latency_s", "swimming_s", "climbing_s", "status"])
    df["immobility_pct"] = df["immobility_s"] / 240 * 100
    return df


def _microdialysis() -> pd.DataFrame:
    """Per animal x analyte, as microdialysis_per_animal returns it."""
    return pd.DataFrame({
        "animal": ["m1", "m2", "m3", "m4", "m1", "m2", "m3", "m4"],
        "analyte": ["NE"] * 4 + ["5-HT"] * 4,
        "treatment": ["vehicle", "vehicle", "drugA", "drugA"] * 2,
        "dose_mg_kg": [0, 0, 10, 10] * 2,
        "auc_pct_min": [18000.0, 18200.0, 30000.0, 34000.0, 18100.0, 17900.0, 18500.0, 18700.0],
        "peak_pct_baseline": [110.0, 114.0, 250.0, 290.0, 108.0, 112.0, 115.0, 119.0],
    })


def _ki(value: float, compound: str = "drugA") -> pd.DataFrame:
    """A ki.csv of `behavscore assay binding`."""
    return pd.DataFrame({"compound": [compound], "ic50_nM": [2 * value], "ki_nM": [value],
                         "ki_ci_low_nM": [0.8 * value], "ki_ci_high_nM": [1.2 * value], "pKi": [9 - np.log10(value)],
                         "cheng_prusoff_factor": [2.0], "n_flags": [0], "flags": [np.nan]})


def _potency() -> pd.DataFrame:
    fits = pd.DataFrame({"curve": ["drugA"], "ed50": [0.002], "ed50_ci_low": [0.001], "ed50_ci_high": [0.003],
                         "n_flags": [1], "flags": ["ambiguous IC50: its CI spans more than 100-fold"]})
    return study.potency_table(ki={"NET": _ki(1.0), "SERT": _ki(30.0), "H1": _ki(12.0)},
                               ic50={"NET_uptake": fits}, conc_unit="uM", primary="NET")


# ---------------------------------------------------------------------------- behaviour
def test_behaviour_means_sems_and_counts_match_hand_values():
    table = study.behaviour_table(_summary()).set_index("treatment")
    veh, drug = table.loc["vehicle"], table.loc["drugA"]
    assert veh["compound"] == "drugA" and veh["dose_mg_kg"] == 0.0  # the vehicle belongs to the only compound
    assert drug["dose_mg_kg"] == 10.0  # "10.0" and "10" are one group
    assert veh["fst_immobility_s_mean"] == pytest.approx(110.0)
    assert veh["fst_immobility_s_sem"] == pytest.approx(np.std([100, 120], ddof=1) / np.sqrt(2))  # 10
    assert drug["fst_immobility_s_mean"] == pytest.approx(70.0)
    assert drug["fst_immobility_s_sem"] == pytest.approx(10 / np.sqrt(3))
    assert drug["fst_immobility_s_n"] == 3  # the errored animal counts in no mean
    assert drug["fst_n_excluded"] == 1 and veh["fst_n_excluded"] == 0
    assert drug["fst_latency_s_mean"] == pytest.approx(35.0) and drug["fst_latency_s_n"] == 2
    assert drug["fst_climbing_s_mean"] == pytest.approx(50.0)
    assert drug["tst_immobility_s_mean"] == pytest.approx(90.0)
    assert np.isnan(drug["tst_immobility_s_sem"]) and drug["tst_immobility_s_n"] == 1  # n = 1: no SEM
    assert "tst_swimming_s_mean" not in table.columns  # the TST has no swimming


def test_the_modified_fst_time_sampling_counts_join_the_study_table():
    s = _summary()
    s["climbing_counts"] = np.where(s["protocol"] == "fst", s["climbing_s"] / 5, np.nan)  # as many 5-s periods
    table = study.behaviour_table(s).set_index("treatment")
    assert table.loc["drugA", "fst_climbing_counts_mean"] == pytest.approx(10.0) and table.loc["drugA", "fst_climbing_counts_n"] == 3
    assert "tst_climbing_counts_mean" not in table.columns


def test_behaviour_accepts_separate_protocol_tables():
    s = _summary()
    together = study.behaviour_table(s)
    apart = study.behaviour_table([s[s["protocol"] == "fst"], s[s["protocol"] == "tst"]])
    pd.testing.assert_frame_equal(together, apart)


# ----------------------------------------------------------------------- neurochemistry
def test_microdialysis_auc_and_peak_per_animal_match_trapezoids_by_hand():
    import assay_core as ac

    samples = pd.DataFrame({
        "animal": "m1", "treatment": "drugA", "dose_mg_kg": 10.0, "analyte": "NE",
        "time_min": [-40, -20, 20, 40, 60], "conc": [2.0, 2.0, 4.0, 3.0, 2.0]})
    normalised, _ = ac.normalise_baseline(samples, n_baseline=2)
    row = study.microdialysis_per_animal(normalised).iloc[0]
    # 100 % at the dose, then 200, 150, 100 % at 20, 40, 60 min
    assert row["auc_pct_min"] == pytest.approx((100 + 200) / 2 * 20 + (200 + 150) / 2 * 20 + (150 + 100) / 2 * 20)
    assert row["auc_change_pct_min"] == pytest.approx(9000 - 100 * 60)
    assert row["peak_pct_baseline"] == pytest.approx(200.0)
    assert row["time_to_peak_min"] == pytest.approx(20.0)
    assert row["dose_mg_kg"] == 10.0 and row["treatment"] == "drugA"  # per-animal columns carried


def test_neurochemistry_means_per_dose_group_match_hand_values():
    table = study.neurochemistry_table(_microdialysis()).set_index("treatment")
    assert table.loc["drugA", "NE_auc_pct_min_mean"] == pytest.approx(32000.0)
    assert table.loc["drugA", "NE_auc_pct_min_sem"] == pytest.approx(np.std([30000, 34000], ddof=1) / np.sqrt(2))
    assert table.loc["drugA", "NE_peak_pct_baseline_mean"] == pytest.approx(270.0)
    assert table.loc["vehicle", "5-HT_peak_pct_baseline_mean"] == pytest.approx(110.0)
    assert table.loc["vehicle", "NE_auc_pct_min_n"] == 2


def test_auc_table_without_doses_says_to_use_the_samples():
    auc = _microdialysis().drop(columns="dose_mg_kg")
    with pytest.raises(ValueError, match="dose_mg_kg.*samples"):
        study.neurochemistry_table(auc)


# ---------------------------------------------------------------------------- potency
def test_potency_table_holds_ki_per_target_selectivity_and_ic50_in_nM():
    row = _potency().set_index("compound").loc["drugA"]
    assert row["ki_nM_NET"] == 1.0 and row["ki_nM_SERT"] == 30.0 and row["ki_nM_H1"] == 12.0
    assert row["pKi_NET"] == pytest.approx(9.0)
    assert row["selectivity_ratio_SERT_NET"] == pytest.approx(30.0)
    assert row["selectivity_ratio_H1_NET"] == pytest.approx(12.0)
    assert row["ic50_nM_NET_uptake"] == pytest.approx(2.0)  # 0.002 uM
    assert row["ic50_ci_high_nM_NET_uptake"] == pytest.approx(3.0)
    assert row["ki_flags_NET"] == ""
    assert row["ic50_flags_NET_uptake"].startswith("ambiguous IC50")


def test_potency_from_a_profile_and_an_unnamed_single_curve():
    profile = pd.DataFrame({"target": ["NET", "SERT"], "ki_nM": [0.5, 50.0]})  # selectivity.csv, one compound
    with pytest.raises(ValueError, match="compound="):
        study.potency_table(ki=profile)
    row = study.potency_table(ki=profile, compound="drugA").iloc[0]
    assert row["compound"] == "drugA" and row["selectivity_ratio_SERT_NET"] == pytest.approx(100.0)
    single = _ki(2.0, compound="all")  # `assay binding` without --compound-col labels the curve "all"
    assert study.potency_table(ki={"NET": single}, compound="drugA")["compound"].tolist() == ["drugA"]


def test_ki_and_fits_tables_from_fit_objects_match_cheng_prusoff():
    import assay_core as ac

    conc = np.repeat([0, 0.1, 0.3, 1, 3, 10, 30, 100.0], 2)
    pct = 100 / (1 + conc / 6.0)  # IC50 6 nM, Hill 1
    fit = ac.fit_dose_response(conc, pct + np.tile([0.5, -0.5], 8), fixed={"c": 0, "d": 100})
    ki = study.ki_table_from_fits({"drugA": fit}, radioligand_nM=1.0, kd_nM=0.5).iloc[0]
    assert ki["cheng_prusoff_factor"] == pytest.approx(3.0)
    assert ki["ki_nM"] == pytest.approx(ki["ic50_nM"] / 3.0)
    assert ki["ic50_nM"] == pytest.approx(6.0, rel=0.02)
    fits = study.fits_table({"drugA": fit, "drugB": "fewer distinct doses than parameters"})
    assert fits.loc[0, "ed50"] == pytest.approx(ki["ic50_nM"])
    assert fits.loc[1, "flags"].startswith("not fitted")


# -------------------------------------------------------------------------- occupancy
def test_occupancy_is_half_at_ki_and_follows_the_hyperbola():
    assert study.predicted_occupancy_pct(5.0, 5.0) == pytest.approx(50.0)
    assert study.predicted_occupancy_pct(9.0, 1.0) == pytest.approx(90.0)
    assert study.predicted_occupancy_pct(0.0, 1.0) == pytest.approx(0.0)
    assert study.predicted_occupancy_pct(1.0, 99.0) == pytest.approx(1.0)


def test_study_table_predicts_occupancy_from_the_assumed_concentration_per_mg_kg():
    table = study.study_table(_summary(), _potency(), _microdialysis(), free_brain_nM_per_mg_kg=0.1)
    drug = table.set_index("treatment").loc["drugA"]
    veh = table.set_index("treatment").loc["vehicle"]
    assert drug["free_brain_conc_nM"] == pytest.approx(1.0)  # 10 mg/kg x 0.1 nM per mg/kg = Ki(NET)
    assert drug["occupancy_pct_pred_NET"] == pytest.approx(50.0)
    assert drug["occupancy_pct_pred_SERT"] == pytest.approx(100 * 1 / 31)
    assert drug["occupancy_pct_pred_H1"] == pytest.approx(100 * 1 / 13)
    assert drug["free_brain_conc_source"] == "assumed: 0.1 nM per mg/kg"
    assert veh["occupancy_pct_pred_NET"] == 0.0 and veh["free_brain_conc_nM"] == 0.0


def test_measured_free_concentrations_replace_the_assumption():
    measured = pd.DataFrame({"dose_mg_kg": [10, 10], "free_brain_conc_nM": [8.0, 10.0]})
    table = study.study_table(_summary(), _potency(), free_brain_nM_per_mg_kg=0.1, free_brain_conc=measured)
    drug = table.set_index("treatment").loc["drugA"]
    assert drug["free_brain_conc_nM"] == pytest.approx(9.0)  # the mean of the measurements
    assert drug["free_brain_conc_source"] == "measured"
    assert drug["occupancy_pct_pred_NET"] == pytest.approx(90.0)


# ------------------------------------------------------------------------------- join
def test_study_table_puts_potency_neurochemistry_and_behaviour_side_by_side():
    table = study.study_table(_summary(), _potency(), _microdialysis(), free_brain_nM_per_mg_kg=0.1)
    assert list(table.columns[:3]) == ["compound", "treatment", "dose_mg_kg"]
    assert table["treatment"].tolist() == ["vehicle", "drugA"]  # one row per dose group, vehicle first
    assert (table["compound"] == "drugA").all()
    drug = table.iloc[1]
    assert drug["ki_nM_NET"] == 1.0 and drug["selectivity_ratio_SERT_NET"] == pytest.approx(30.0)
    assert drug["NE_auc_pct_min_mean"] == pytest.approx(32000.0)
    assert drug["fst_immobility_s_mean"] == pytest.approx(70.0)
    assert drug["tst_immobility_s_mean"] == pytest.approx(90.0)
    cols = list(table.columns)
    assert cols.index("ki_nM_NET") < cols.index("occupancy_pct_pred_NET") < cols.index("NE_auc_pct_min_mean") \
        < cols.index("fst_immobility_s_mean")
    assert table.attrs["provenance"]["free_brain_nM_per_mg_kg"] == 0.1


def test_missing_tables_leave_their_columns_out():
    only_behaviour = study.study_table(_summary())
    assert "fst_immobility_s_mean" in only_behaviour
    assert not any(c.startswith(("NE_", "5-HT_", "ki_", "occupancy_", "free_brain")) for c in only_behaviour)
    no_microdialysis = study.study_table(_summary(), _potency(), free_brain_nM_per_mg_kg=0.1)
    assert "occupancy_pct_pred_NET" in no_microdialysis and not any(c.startswith("NE_") for c in no_microdialysis)
    no_concentration = study.study_table(_summary(), _potency(), _microdialysis())
    assert "ki_nM_NET" in no_concentration and not any(c.startswith("occupancy_") for c in no_concentration)
    only_microdialysis = study.study_table(microdialysis=_microdialysis())
    assert "NE_peak_pct_baseline_mean" in only_microdialysis
    assert not any(c.startswith("fst_") for c in only_microdialysis)
    with pytest.raises(ValueError, match="needs"):
        study.study_table()


def test_dose_groups_that_differ_between_tables_name_the_table_and_the_group():
    md = _microdialysis()
    md.loc[md["treatment"] == "drugA", "dose_mg_kg"] = 40
    with pytest.raises(ValueError) as err:
        study.study_table(_summary(), microdialysis=md)
    text = str(err.value)
    assert "microdialysis table has no rows for drugA 10 mg/kg" in text
    assert "behaviour (fst) table has no rows for drugA 40 mg/kg" in text
    outer = study.study_table(_summary(), microdialysis=md, join="outer")
    assert outer["dose_mg_kg"].tolist() == [0.0, 10.0, 40.0]
    assert np.isnan(outer.set_index("dose_mg_kg").loc[40.0, "fst_immobility_s_mean"])


def test_a_compound_without_potencies_is_named():
    s = _summary()
    s["treatment"] = s["treatment"].replace({"drugA": "drugB"})
    with pytest.raises(ValueError, match=r"potency table has no row for compound\(s\) \['drugB'\].*drugA"):
        study.study_table(s, _potency())
    outer = study.study_table(s, _potency(), join="outer")
    assert outer["ki_nM_NET"].isna().all()


def test_non_numeric_doses_are_reported_with_the_table():
    s = _summary()
    s.loc[2, "dose_mg_kg"] = "ten"
    with pytest.raises(ValueError, match=r"behaviour \(fst\) table: 'dose_mg_kg' has non-numeric value\(s\) \['ten'\]"):
        study.study_table(s)


# ---------------------------------------------------------------------- dose-response
def _animals_from_curve(n_per_dose: int, seed: int = 3, ed50: float = 8.0) -> pd.DataFrame:
    """FST immobility drawn from a known LL.4 curve: 180 s (vehicle) down to 60 s, ED50 8 mg/kg, slope 1.5."""
    rng = np.random.default_rng(seed)
    dose = np.repeat([0.0, 1, 3, 10, 30, 100], n_per_dose)
    immobility = 60 + 120 / (1 + (dose / ed50) ** 1.5) + rng.normal(0, 10, dose.size)
    return pd.DataFrame({"protocol": "fst", "status": "ok", "animal": [f"a{i}" for i in range(dose.size)],
                         "treatment": np.where(dose == 0, "vehicle", "drugA"), "dose_mg_kg": dose,
                         "immobility_s": immobility})


def test_ed50_is_recovered_from_animals_simulated_from_a_known_curve():
    fit = study.fit_behaviour_dose_response(_animals_from_curve(10), protocol="fst")
    ed = fit.ed(50)
    assert fit.flags == []
    assert ed["ci_low"] < 8.0 < ed["ci_high"]
    assert ed["estimate"] == pytest.approx(8.0, rel=0.2)
    assert fit.coef["d"] == pytest.approx(180, abs=10) and fit.coef["c"] == pytest.approx(60, abs=10)


def test_dose_figure_prints_the_ed50_only_for_a_sound_fit():
    sound = study.plot_behaviour_vs_dose(_animals_from_curve(10), protocol="fst")
    texts = " ".join(t.get_text() for t in sound.texts)
    assert "ED50" in texts and "mg/kg" in texts and "not reported" not in texts
    one_per_dose = _animals_from_curve(1).iloc[[0, 2, 3, 4]]  # vehicle, 3, 10, 30 mg/kg: one animal each
    flagged = study.plot_behaviour_vs_dose(one_per_dose, protocol="fst")
    texts = " ".join(t.get_text() for t in flagged.texts)
    assert "ED50 not reported" in texts and "no residual degrees of freedom" in texts
    assert "[FLAGGED]" in flagged.get_title()


def test_occupancy_figure_needs_the_occupancy_columns():
    table = study.study_table(_summary(), _potency())
    with pytest.raises(ValueError, match="free_brain_nM_per_mg_kg"):
        study.plot_occupancy_vs_effect(table, effect="fst_immobility_s")
    table = study.study_table(_summary(), _potency(), free_brain_nM_per_mg_kg=0.1)
    ax = study.plot_occupancy_vs_effect(table, effect="fst_immobility_s", target="NET")
    assert ax.get_xlabel() == "predicted NET occupancy (%)"
    with pytest.raises(ValueError, match="effects available"):
        study.plot_occupancy_vs_effect(table, effect="no_such_measure")


# -------------------------------------------------------------------- example data
def _generator():
    spec = importlib.util.spec_from_file_location("make_example_data", PROJECT / "examples" / "make_example_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_data_regenerate_byte_identical(tmp_path):
    files = _generator().main(tmp_path)
    committed = sorted(p.name for p in EXAMPLE_DATA.iterdir())
    assert sorted(f.name for f in files) == committed
    for f in files:
        assert f.read_bytes() == (EXAMPLE_DATA / f.name).read_bytes(), f"{f.name} differs from the committed file"
    assert sum(f.stat().st_size for f in files) < 500_000


def test_example_data_are_read_by_the_assay_commands(tmp_path):
    runner = CliRunner()
    params = json.loads((EXAMPLE_DATA / "parameters.json").read_text())

    def run(app, *args):
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == 0, result.output

    for target, cond in params["binding"].items():
        if target not in params["ki_nM"]:
            continue
        run(assay_app, "binding", EXAMPLE_DATA / f"binding_{target}.csv", "--compound-col", "compound",
            "--radioligand-nm", cond["radioligand_nM"], "--kd-nm", cond["kd_nM"], "--out", tmp_path / target)
        ki = pd.read_csv(tmp_path / target / "ki.csv").iloc[0]
        assert ki["ki_nM"] == pytest.approx(params["ki_nM"][target], rel=0.15)
        assert ki["n_flags"] == 0
    run(assay_app, "uptake", EXAMPLE_DATA / "net_uptake_kinetic.csv",
        "--layout", EXAMPLE_DATA / "net_uptake_layout.csv", "--out", tmp_path / "uptake")
    fits = pd.read_csv(tmp_path / "uptake" / "fits.csv").set_index("curve")
    for compound, ic50 in params["uptake"]["ic50_nM"].items():
        assert fits.loc[compound, "ed50"] == pytest.approx(ic50, rel=0.15)
    run(assay_app, "calcium", EXAMPLE_DATA / "calcium_h1_fura2.csv", "--stim-time", 30, "--rmin", 0.3, "--rmax", 8.0,
        "--beta", 6.0, "--condition-col", "condition", "--reference", "control", "--conc-col", "conc_uM",
        "--out", tmp_path / "calcium")
    run(assay_app, "qpcr", EXAMPLE_DATA / "qpcr_bdnf.csv", "--group-col", "group", "--target", "Bdnf",
        "--reference", "GAPDH", "--calibrator", "vehicle", "--out", tmp_path / "qpcr")
    run(microdialysis_app, "normalise", EXAMPLE_DATA / "microdialysis_pfc.csv", "--treatment-col", "group",
        "--out", tmp_path / "md")
    # the command's samples.csv feeds the study join as it is
    samples = pd.read_csv(tmp_path / "md" / "samples.csv")
    neuro = study.neurochemistry_table(samples).set_index("dose_mg_kg")
    ne = neuro["NE_peak_pct_baseline_mean"]
    assert ne.loc[0.0] < ne.loc[5.0] < ne.loc[10.0] < ne.loc[20.0]  # noradrenaline rises with dose
    assert neuro["5-HT_peak_pct_baseline_mean"].max() < 140  # serotonin changes little
