"""qPCR: Livak 2^-ddCt against the published ABI/Livak example, Pfaffl and efficiency."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assay_core import efficiency_from_dilution, livak, pfaffl

PCR = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "assay" / "qpcr" / "pcr_ct1.csv"


@pytest.fixture(scope="module")
def cts():
    if not PCR.is_file():
        pytest.skip(f"qPCR reference data not available ({PCR} is absent; it sits beside the project "
                    "only in the lab's checkout)")
    d = pd.read_csv(PCR)
    d["tissue"] = ["brain"] * 6 + ["kidney"] * 6  # rows 1-6 brain (calibrator), 7-12 kidney
    return d


def _published(value, shown):
    """True when ``value`` rounds to the published figure ``shown`` (given as a string)."""
    decimals = len(shown.split(".")[1]) if "." in shown else 0
    return abs(value - float(shown)) <= 0.5 * 10 ** -decimals + 1e-9


@pytest.fixture(scope="module")
def result(cts):
    return livak(cts, group_col="tissue", target="c_myc", reference="GAPDH", calibrator="brain").set_index("group")


def test_delta_ct_and_errors_as_published(result):
    assert _published(result.loc["brain", "delta_ct"], "6.86")
    assert _published(result.loc["brain", "delta_ct_error"], "0.17")
    assert _published(result.loc["kidney", "delta_ct"], "4.37")
    assert _published(result.loc["kidney", "delta_ct_error"], "0.10")


def test_delta_delta_ct_as_published(result):
    assert _published(result.loc["kidney", "delta_delta_ct"], "-2.50")
    assert _published(result.loc["kidney", "delta_delta_ct_error"], "0.10")
    assert result.loc["brain", "delta_delta_ct"] == 0


def test_fold_change_5_6_range_5_3_to_6_0(result):
    assert _published(result.loc["kidney", "fold_change"], "5.6")
    assert _published(result.loc["kidney", "fold_change_low"], "5.3")
    assert _published(result.loc["kidney", "fold_change_high"], "6.0")


def test_long_format_gives_the_same_answer(cts, result):
    long = cts.melt(id_vars="tissue", var_name="gene", value_name="ct")
    res = livak(long, group_col="tissue", target="c_myc", reference="GAPDH", calibrator="brain",
                gene_col="gene", ct_col="ct").set_index("group")
    pd.testing.assert_series_equal(res["fold_change"], result["fold_change"])


def test_pfaffl_with_perfect_efficiency_equals_livak(cts, result):
    pf = pfaffl(cts, group_col="tissue", target="c_myc", reference="GAPDH", calibrator="brain").set_index("group")
    np.testing.assert_allclose(pf["ratio"], result["fold_change"], rtol=1e-12)
    np.testing.assert_allclose(pf["ratio_low"], result["fold_change_low"], rtol=1e-12)


def test_pfaffl_efficiency_correction():
    df = pd.DataFrame({"g": ["ctl"] * 2 + ["trt"] * 2, "t": [25.0, 25.0, 22.0, 22.0],
                       "r": [20.0, 20.0, 20.5, 20.5]})
    pf = pfaffl(df, group_col="g", target="t", reference="r", calibrator="ctl",
                efficiency_target=1.9, efficiency_reference=2.0).set_index("group")
    assert pf.loc["trt", "ratio"] == pytest.approx(1.9**3 / 2.0**-0.5, rel=1e-12)


def test_pfaffl_rejects_efficiency_given_as_percent(cts):
    with pytest.raises(ValueError, match="amplification factor"):
        pfaffl(cts, group_col="tissue", target="c_myc", reference="GAPDH", calibrator="brain",
               efficiency_target=95)


def test_sem_error_is_smaller_than_sd(cts):
    sd = livak(cts, group_col="tissue", target="c_myc", reference="GAPDH", calibrator="brain")
    sem = livak(cts, group_col="tissue", target="c_myc", reference="GAPDH", calibrator="brain", error="sem")
    np.testing.assert_allclose(sem["delta_ct_error"], sd["delta_ct_error"] / np.sqrt(6))


def test_paired_wells_use_per_well_differences():
    df = pd.DataFrame({"g": ["a"] * 3 + ["b"] * 3, "t": [25.0, 26.0, 27.0, 23.0, 24.0, 25.0],
                       "r": [20.0, 21.0, 22.0, 20.0, 21.0, 22.0]})
    res = livak(df, group_col="g", target="t", reference="r", calibrator="a", paired=True).set_index("group")
    assert res.loc["a", "delta_ct_error"] == 0  # the differences are all 5
    assert res.loc["b", "fold_change"] == pytest.approx(4.0)


def test_unknown_calibrator_is_a_clear_error(cts):
    with pytest.raises(ValueError, match="calibrator 'liver'"):
        livak(cts, group_col="tissue", target="c_myc", reference="GAPDH", calibrator="liver")


def test_efficiency_of_a_perfect_dilution_series_is_2():
    q = np.repeat([1, 0.1, 0.01, 0.001, 1e-4], 3)
    ct = 15 - np.log2(q)  # exact doubling per cycle
    res = efficiency_from_dilution(q, ct)
    assert res["slope"] == pytest.approx(-np.log2(10), rel=1e-12)
    assert res["amplification_factor"] == pytest.approx(2.0, rel=1e-12)
    assert res["efficiency_pct"] == pytest.approx(100.0, abs=1e-9)
    assert res["r2"] == pytest.approx(1.0)


def test_efficiency_needs_three_quantities():
    with pytest.raises(ValueError, match="at least 3"):
        efficiency_from_dilution([1, 1, 0.1], [20, 20.1, 23.4])
