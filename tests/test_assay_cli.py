"""`behavscore assay ...` and `behavscore microdialysis ...` through typer's CliRunner."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from assay_core import get_model
from assay_core.simulate import (simulate_calcium, simulate_microdialysis, simulate_plate,
                                 simulate_uptake_kinetics)
from behavscore.cli_assay import assay_app, microdialysis_app

runner = CliRunner()


def _ok(app, args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def _fails(app, args, *words):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for w in words:
        assert w in result.output, result.output
    return result


@pytest.fixture()
def curves_csv(tmp_path):
    rng = np.random.default_rng(0)
    dose = np.repeat([0, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30.0], 3)
    rows = []
    for name, e in (("ref", 0.3), ("test", 1.5)):
        y = get_model("LL.4").predict(dose, 1.2, 2, 100, e) + rng.normal(0, 3, dose.size)
        rows.append(pd.DataFrame({"compound": name, "conc_uM": dose, "uptake_pct": y}))
    path = tmp_path / "curves.csv"
    pd.concat(rows).to_csv(path, index=False)
    return path


def test_dose_response_writes_tidy_tables_figures_and_provenance(curves_csv, tmp_path):
    out = tmp_path / "out"
    res = _ok(assay_app, ["dose-response", curves_csv, "--dose-col", "conc_uM", "--response-col", "uptake_pct",
                          "--curve-col", "compound", "--model", "LL.4", "--shared", "b,c,d", "--out", out])
    assert "2 curve(s) fitted, 0 flagged" in res.output
    for name in ("params.csv", "ed.csv", "fits.csv", "flags.csv", "summary.txt", "provenance.json",
                 "shared_params.csv", "shared_vs_separate_ftest.csv", "potency_ratios.csv",
                 "figures/ref.png", "figures/test.png", "figures/shared_fit.png"):
        assert (out / name).is_file(), name
    params = pd.read_csv(out / "params.csv")
    assert {"curve", "model", "naming", "parameter", "estimate", "se", "ci_low", "ci_high"} <= set(params.columns)
    assert set(params["naming"]) == {"drc", "prism"}
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["parameters"]["model"] == "LL.4" and len(prov["inputs"]["input"]["sha256"]) == 64
    ratio = pd.read_csv(out / "potency_ratios.csv").iloc[0]
    assert ratio["curve"] == "test" and ratio["estimate"] == pytest.approx(5, rel=0.25)


def test_dose_response_is_reproducible(curves_csv, tmp_path):
    args = ["dose-response", curves_csv, "--dose-col", "conc_uM", "--response-col", "uptake_pct",
            "--curve-col", "compound"]
    _ok(assay_app, args + ["--out", tmp_path / "a"])
    _ok(assay_app, args + ["--out", tmp_path / "b"])
    for name in ("params.csv", "ed.csv", "fits.csv", "provenance.json"):
        assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text().replace(
            str(tmp_path / "b"), str(tmp_path / "a"))


def test_missing_file_column_and_bad_values_are_short_errors(curves_csv, tmp_path):
    _fails(assay_app, ["dose-response", tmp_path / "nope.csv", "--out", tmp_path / "o"], "nope.csv", "not found")
    _fails(assay_app, ["dose-response", curves_csv, "--dose-col", "dose", "--out", tmp_path / "o"],
           "curves.csv", "'dose'")
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"dose": [1, "x", 3], "response": [1, 2, 3]}).to_csv(bad, index=False)
    _fails(assay_app, ["dose-response", bad, "--out", tmp_path / "o"], "bad.csv", "'dose'", "non-numeric")
    _fails(assay_app, ["dose-response", curves_csv, "--dose-col", "conc_uM", "--response-col", "uptake_pct",
                       "--fix", "c", "--out", tmp_path / "o"], "NAME=VALUE")


def test_unfittable_curve_is_reported_not_fatal(tmp_path):
    path = tmp_path / "few.csv"
    pd.DataFrame({"dose": [0, 1, 10, 0, 1, 10], "response": [100, 50, 1, 99, 51, 2]}).to_csv(path, index=False)
    res = _ok(assay_app, ["dose-response", path, "--out", tmp_path / "o"])
    assert "1 flagged" in res.output
    assert "not fitted" in pd.read_csv(tmp_path / "o" / "fits.csv").loc[0, "flags"]


def test_plate_command_on_a_384_well_export(tmp_path):
    values, layout, truth = simulate_plate(384, seed=3, noise_sd=2.0)
    values.to_csv(tmp_path / "values.csv", index=False)
    layout.to_csv(tmp_path / "layout.csv", index=False)
    res = _ok(assay_app, ["plate", tmp_path / "values.csv", "--layout", tmp_path / "layout.csv",
                          "--plate", 384, "--out", tmp_path / "o"])
    assert "384-well plate" in res.output and "Z'" in res.output
    fits = pd.read_csv(tmp_path / "o" / "fits.csv")
    assert len(fits) == len(truth)
    assert {"well", "inhibition_pct", "role"} <= set(pd.read_csv(tmp_path / "o" / "wells.csv").columns)
    _fails(assay_app, ["plate", tmp_path / "values.csv", "--layout", tmp_path / "layout.csv", "--plate", 96,
                       "--out", tmp_path / "o2"], "96-well plate")


def test_binding_command_gives_ki(tmp_path):
    rng = np.random.default_rng(2)
    conc = np.repeat(10 ** np.linspace(-1, 3, 9), 2)
    ic50, nsb, total = 12.0, 200.0, 2200.0
    cpm = nsb + (total - nsb) / (1 + conc / ic50) + rng.normal(0, 20, conc.size)
    df = pd.concat([pd.DataFrame({"conc_nM": conc, "cpm": cpm, "role": "sample", "compound": "nisoxetine"}),
                    pd.DataFrame({"conc_nM": 0.0, "cpm": total + rng.normal(0, 20, 3), "role": "total",
                                  "compound": ""}),
                    pd.DataFrame({"conc_nM": np.nan, "cpm": nsb + rng.normal(0, 20, 3), "role": "nsb",
                                  "compound": ""})])
    path = tmp_path / "binding.csv"
    df.to_csv(path, index=False)
    _ok(assay_app, ["binding", path, "--compound-col", "compound", "--radioligand-nm", 1.0, "--kd-nm", 1.0,
                    "--out", tmp_path / "o"])
    ki = pd.read_csv(tmp_path / "o" / "ki.csv").iloc[0]
    assert ki["cheng_prusoff_factor"] == pytest.approx(2.0)
    assert ki["ki_ci_low_nM"] < 6.0 < ki["ki_ci_high_nM"]


def test_selectivity_command(tmp_path):
    path = tmp_path / "profile.csv"
    pd.DataFrame({"target": ["NET", "SERT", "DAT"], "ki_nM": [2.0, 40.0, 900.0]}).to_csv(path, index=False)
    _ok(assay_app, ["selectivity", path, "--free-conc-nm", 2, "--out", tmp_path / "o"])
    t = pd.read_csv(tmp_path / "o" / "selectivity.csv").set_index("target")
    assert t.loc["SERT", "selectivity_ratio"] == pytest.approx(20)
    assert t.loc["NET", "occupancy_pct_at_2nM"] == pytest.approx(50)


def test_uptake_command_with_layout(tmp_path):
    values, layout, _ = simulate_plate(96, seed=4)
    rate = {"vehicle": 20.0, "full_block": 2.0}
    rates = []
    for _, w in layout.iterrows():
        if w["role"] in rate:
            rates.append(rate[w["role"]])
        elif w["role"] == "sample":
            rates.append(2 + 18 / (1 + w["conc"] / 30.0))
        else:
            rates.append(np.nan)
    keep = ~np.isnan(rates)
    kin = simulate_uptake_kinetics(layout["well"][keep], np.array(rates)[keep], noise_sd=3.0, seed=1)
    kin.to_csv(tmp_path / "kin.csv", index=False)
    layout[keep].to_csv(tmp_path / "layout.csv", index=False)
    res = _ok(assay_app, ["uptake", tmp_path / "kin.csv", "--layout", tmp_path / "layout.csv",
                          "--out", tmp_path / "o"])
    assert "well rate(s)" in res.output
    r = pd.read_csv(tmp_path / "o" / "rates.csv")
    assert {"rate", "window_start", "window_end", "inhibition_pct"} <= set(r.columns)
    fits = pd.read_csv(tmp_path / "o" / "fits.csv")
    assert fits["ed50"].between(15, 60).all()
    _ok(assay_app, ["uptake", tmp_path / "kin.csv", "--window", "3:20", "--out", tmp_path / "w"])
    fixed = pd.read_csv(tmp_path / "w" / "rates.csv")
    assert (fixed["window_start"] == 3).all() and fixed["note"].str.startswith("window set by hand").all()
    _fails(assay_app, ["uptake", tmp_path / "kin.csv", "--window", "20:3", "--out", tmp_path / "w2"], "START:END")


def test_calcium_command_compares_conditions(tmp_path):
    simulate_calcium(seed=1).to_csv(tmp_path / "ca.csv", index=False)
    _ok(assay_app, ["calcium", tmp_path / "ca.csv", "--stim-time", 30, "--rmin", 0.3, "--rmax", 8, "--beta", 6,
                    "--condition-col", "condition", "--reference", "standard", "--conc-col", "conc_uM",
                    "--out", tmp_path / "o"])
    traces = pd.read_csv(tmp_path / "o" / "traces.csv")
    assert {"baseline_nM", "peak_nM", "amplitude_nM", "auc_nM_s"} <= set(traces.columns)
    assert pd.read_csv(tmp_path / "o" / "conditions.csv").loc[0, "curve"] == "ca_free"
    _fails(assay_app, ["calcium", tmp_path / "ca.csv", "--stim-time", 30, "--out", tmp_path / "o2"],
           "rmin, rmax and beta")


def test_qpcr_command(tmp_path):
    path = tmp_path / "ct.csv"
    pd.DataFrame({"tissue": ["brain"] * 3 + ["kidney"] * 3, "c_myc": [30.5, 30.4, 30.6, 27.0, 27.1, 26.9],
                  "GAPDH": [23.6, 23.7, 23.6, 22.6, 22.7, 22.7]}).to_csv(path, index=False)
    res = _ok(assay_app, ["qpcr", path, "--group-col", "tissue", "--target", "c_myc", "--reference", "GAPDH",
                          "--calibrator", "brain", "--efficiency-target", 1.95, "--out", tmp_path / "o"])
    assert "kidney: ddCt" in res.output
    assert (tmp_path / "o" / "pfaffl.csv").is_file()
    _fails(assay_app, ["qpcr", path, "--group-col", "tissue", "--target", "myc", "--reference", "GAPDH",
                       "--calibrator", "brain", "--out", tmp_path / "o"], "'myc'")


def test_qpcr_efficiency_command(tmp_path):
    path = tmp_path / "dil.csv"
    q = np.repeat([1, 0.1, 0.01, 0.001], 2)
    pd.DataFrame({"quantity": q, "ct": 18 - np.log2(q)}).to_csv(path, index=False)
    res = _ok(assay_app, ["qpcr-efficiency", path, "--out", tmp_path / "o"])
    assert "E = 2.000" in res.output


def test_sub_apps_register_under_the_main_cli():
    import typer
    app = typer.Typer()
    app.add_typer(assay_app, name="assay")
    app.add_typer(microdialysis_app, name="microdialysis")
    assert runner.invoke(app, ["microdialysis", "normalise", "--help"]).exit_code == 0
    assert runner.invoke(app, ["assay", "dose-response", "--help"]).exit_code == 0


def test_microdialysis_normalise_command(tmp_path):
    data = simulate_microdialysis(seed=2)
    data.loc[7, "conc"] = np.nan
    data.to_csv(tmp_path / "md.csv", index=False)
    res = _ok(microdialysis_app, ["normalise", tmp_path / "md.csv", "--out", tmp_path / "o"])
    assert "baseline(s)" in res.output
    samples = pd.read_csv(tmp_path / "o" / "samples.csv")
    assert samples["pct_baseline"].isna().sum() == 1  # the missing sample stays missing
    cmp = pd.read_csv(tmp_path / "o" / "comparison.csv")
    assert set(cmp["group"]) == {"low", "high"}
    assert (tmp_path / "o" / "figures" / "time_course_NE.png").is_file()
    _fails(microdialysis_app, ["normalise", tmp_path / "md.csv", "--time-col", "minutes",
                               "--out", tmp_path / "o2"], "md.csv", "'minutes'")


def test_microdialysis_peak_areas_through_standard_curves(tmp_path):
    data = simulate_microdialysis(seed=5, analytes=("NE",), baseline_nM=(1.0,))
    data["area"] = 50 * data["conc"] + 3
    data.drop(columns="conc").to_csv(tmp_path / "md.csv", index=False)
    pd.DataFrame({"analyte": "NE", "conc": [0.5, 1, 2, 4], "area": [28.0, 53.0, 103.0, 203.0]}).to_csv(
        tmp_path / "std.csv", index=False)
    _ok(microdialysis_app, ["normalise", tmp_path / "md.csv", "--area-col", "area", "--standards",
                            tmp_path / "std.csv", "--out", tmp_path / "o"])
    samples = pd.read_csv(tmp_path / "o" / "samples.csv")
    np.testing.assert_allclose(samples["conc"], data["conc"], rtol=1e-9)
    _fails(microdialysis_app, ["normalise", tmp_path / "md.csv", "--area-col", "area", "--out", tmp_path / "o3"],
           "--standards")
