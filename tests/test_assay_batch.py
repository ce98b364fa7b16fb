"""fit_many (vectorised plate screen) agrees with the one-curve fit, curve by curve."""

from __future__ import annotations

import numpy as np
import pytest

from assay_core import fit_dose_response, fit_many, get_model
from assay_core.simulate import simulate_curves

DOSE = np.repeat([0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10.0], 2)


@pytest.mark.parametrize("model", ["LL.4", "LL.3", "W1.4", "W2.4"])
def test_batch_equals_single_curve_fits(model):
    rng = np.random.default_rng(7)
    m = get_model(model)
    n = 40
    b = rng.choice([-1, 1], n) * rng.uniform(0.6, 3, n)
    e = 10 ** rng.uniform(-2.5, 0.5, n)
    c = 0.0 if model == "LL.3" else rng.normal(0, 5, n)
    Y = m.predict(DOSE[None, :], b[:, None], np.broadcast_to(c, n)[:, None], 100.0, e[:, None])
    Y = Y + rng.normal(0, 4, Y.shape)
    Y[rng.random(Y.shape) < 0.03] = np.nan
    table = fit_many(DOSE, Y, model)
    assert len(table) == n
    for i in range(n):
        keep = ~np.isnan(Y[i])
        single = fit_dose_response(DOSE[keep], Y[i, keep], model)
        assert bool(single.flags) == (table.loc[i, "n_flags"] > 0), i
        if single.flags:
            continue
        for name in single.params.index:
            est, se = single.params.loc[name, ["estimate", "se"]]
            assert table.loc[i, name] == pytest.approx(est, rel=1e-5, abs=1e-8), (i, name)
            assert table.loc[i, f"se_{name}"] == pytest.approx(se, rel=1e-4), (i, name)
        assert table.loc[i, "ed50_ci_low"] == pytest.approx(single.ed(50)["ci_low"], rel=1e-4)
        assert table.loc[i, "flags"] == ""


def test_batch_reports_unfittable_rows_instead_of_failing():
    Y = np.vstack([simulate_curves(1, DOSE, seed=1, log10_e=(-2, -1))[0], np.full(DOSE.size, np.nan), np.full(DOSE.size, 5.0)])
    Y[1, :3] = [1, 2, 3]
    table = fit_many(DOSE, Y, curve_ids=["good", "holes", "flat"])
    assert list(table["curve"]) == ["good", "holes", "flat"]
    assert table.loc[0, "n_flags"] == 0
    assert table.loc[1, "method"] == "none" and "not fitted" in table.loc[1, "flags"]
    assert table.loc[2, "n_flags"] >= 1


def test_batch_input_errors_are_clear():
    with pytest.raises(ValueError, match="columns"):
        fit_many(DOSE, np.ones((2, 3)))
    with pytest.raises(ValueError, match="infinite"):
        fit_many(DOSE, np.full((1, DOSE.size), np.inf))
    with pytest.raises(ValueError, match=">= 0"):
        fit_many(-DOSE, np.ones((1, DOSE.size)))
