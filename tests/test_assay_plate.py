"""Plate input (96/384 wells, long or grid exports, layouts) and normalisation to controls."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assay_core import (control_summary, fit_plate, join_layout, normalise_to_controls, parse_well,
                        percent_inhibition, read_layout, read_plate_values)
from assay_core.simulate import simulate_plate


def test_percent_inhibition_vehicle_is_0_block_is_100():
    np.testing.assert_allclose(percent_inhibition([1000, 100, 550], 1000, 100), [0, 100, 50])


def test_percent_inhibition_refuses_a_zero_window():
    with pytest.raises(ValueError, match="window is zero"):
        percent_inhibition([1, 2], 5, 5)


def test_z_prime_of_controls():
    df = pd.DataFrame({"role": ["vehicle"] * 3 + ["full_block"] * 3,
                       "value": [990.0, 1000.0, 1010.0, 90.0, 100.0, 110.0]})
    s = control_summary(df).iloc[0]
    assert s["window"] == pytest.approx(900)
    assert s["z_prime"] == pytest.approx(1 - 3 * (10 + 10) / 900)


def test_normalise_per_plate_uses_each_plates_controls():
    df = pd.DataFrame({"plate": ["p1"] * 3 + ["p2"] * 3,
                       "role": ["vehicle", "full_block", "sample"] * 2,
                       "value": [100.0, 0.0, 50.0, 200.0, 0.0, 50.0]})
    out, summary = normalise_to_controls(df, by=["plate"])
    assert list(out["inhibition_pct"].round(6)) == [0, 100, 50, 0, 100, 75]
    assert list(summary["plate"]) == ["p1", "p2"]


def test_missing_controls_are_a_clear_error():
    df = pd.DataFrame({"role": ["vehicle", "sample"], "value": [1.0, 2.0]})
    with pytest.raises(ValueError, match="no 'full_block' control wells"):
        normalise_to_controls(df)


@pytest.mark.parametrize("well,expected", [("A1", (0, 0)), ("b07", (1, 6)), ("P24", (15, 23)), (" H12 ", (7, 11))])
def test_parse_well_names(well, expected):
    assert parse_well(well) == expected


def test_wells_outside_the_plate_are_rejected():
    with pytest.raises(ValueError, match="96-well plate"):
        parse_well("I1", 96)
    with pytest.raises(ValueError, match="384-well plate"):
        parse_well("A25", 384)
    with pytest.raises(ValueError, match="not a well name"):
        parse_well("1A")


def test_grid_export_reads_like_the_long_form():
    rng = np.random.default_rng(0)
    grid = pd.DataFrame(rng.normal(size=(8, 12)), columns=[str(c) for c in range(1, 13)])
    grid.insert(0, "row", list("ABCDEFGH"))
    long = read_plate_values(grid)
    assert long.attrs["plate"] == 96 and len(long) == 96
    assert long.set_index("well").loc["C5", "value"] == grid.loc[2, "5"]


def test_duplicate_wells_are_rejected():
    with pytest.raises(ValueError, match="appears more than once"):
        read_plate_values(pd.DataFrame({"well": ["A1", "A01"], "value": [1, 2]}))


def test_layout_without_role_infers_samples_and_empty_wells():
    lay = read_layout(pd.DataFrame({"well": ["A1", "A2"], "compound": ["x", None], "conc": [1.0, None]}))
    assert list(lay["role"]) == ["sample", "empty"]


def test_values_without_layout_entry_are_an_error():
    vals = read_plate_values(pd.DataFrame({"well": ["A1", "A2"], "value": [1.0, 2.0]}))
    lay = read_layout(pd.DataFrame({"well": ["A1"], "compound": ["x"], "conc": [1.0]}))
    with pytest.raises(ValueError, match=r"\['A2'\] have values but no layout"):
        join_layout(vals, lay)


@pytest.mark.parametrize("plate", [96, 384])
def test_simulated_plate_goes_in_without_reshaping_and_recovers_ic50(plate):
    values, layout, truth = simulate_plate(plate, seed=2, noise_sd=2.0)
    table = join_layout(read_plate_values(values, plate=plate), read_layout(layout, plate=plate))
    table, controls = normalise_to_controls(table)
    assert controls["z_prime"].iloc[0] > 0.5
    results, fits = fit_plate(table)
    merged = results.merge(truth, on="compound")
    assert len(merged) == len(truth)
    ok = merged[merged["n_flags"] == 0]
    assert len(ok) >= len(truth) - 1
    ratio = ok["ed50"] / ok["ic50_nM"]
    assert ratio.between(0.7, 1.4).all(), merged[["compound", "ed50", "ic50_nM", "flags"]]
