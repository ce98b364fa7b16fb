"""Regenerate the synthetic example data of the norclomipramine study: python examples/make_example_data.py [OUT_DIR]

Every file is made from the literature-like parameters in ``PARAMETERS`` below with fixed seeds, so
running the script again gives byte-identical files. Nothing here is a measurement: the numbers are
chosen to look like published values for norclomipramine (desmethylclomipramine), the
N-desmethyl metabolite of clomipramine, which -- unlike its serotonin-transporter-selective parent
-- is selective for the norepinephrine transporter (NET). The values are illustrative, not a
citation of one study.

Files (formats read by the ``behavscore assay ...`` / ``behavscore microdialysis normalise``
commands, see docs/assay.md):

=============================  =======================================================================
``net_uptake_kinetic.csv``     NET uptake, kinetic fluorescent-substrate reads: ``well, time_min, signal``
``net_uptake_layout.csv``      its plate layout: ``well, compound, conc`` (nM), ``role``
``binding_NET.csv``            [3H]nisoxetine competition binding, NET: ``compound, conc_nM, cpm, role``
``binding_SERT.csv``           [3H]citalopram competition binding, SERT (same columns)
``binding_H1.csv``             [3H]mepyramine competition binding, histamine H1 (same columns)
``calcium_h1_fura2.csv``       Fura-2 traces, histamine H1 response with and without norclomipramine:
                               ``trace, condition, conc_uM, time_s, f340, f380``
``qpcr_bdnf.csv``              qPCR Ct values (cycles), Bdnf vs GAPDH per animal: ``sample, group,
                               treatment, dose_mg_kg, Bdnf, GAPDH``
``microdialysis_pfc.csv``      prefrontal microdialysis: ``animal, group, treatment, dose_mg_kg,
                               time_min, analyte, conc`` (nM; analytes NE, DA, 5-HT); ``group`` names
                               the dose group (``--treatment-col group`` compares each dose with vehicle)
``parameters.json``            the parameters below: assay conditions and the true values
=============================  =======================================================================
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from assay_core.simulate import simulate_calcium, simulate_microdialysis, simulate_uptake_kinetics

COMPOUND = "norclomipramine"
DOSES_MG_KG = (0.0, 5.0, 10.0, 20.0)  # the doses of the bundled behaviour videos

PARAMETERS = {
    "compound": COMPOUND,
    "note": ("synthetic, literature-like values chosen for this example; desmethylclomipramine "
             "(norclomipramine) is NET-selective, unlike clomipramine"),
    "ki_nM": {"NET": 0.77, "SERT": 30.0, "H1": 12.0},
    "binding": {  # radioligand conditions used for Cheng-Prusoff, Ki = IC50 / (1 + [L]/Kd)
        "NET": {"radioligand": "[3H]nisoxetine", "kd_nM": 0.7, "radioligand_nM": 1.0,
                "nsb": "10 uM desipramine", "seed": 11},
        "SERT": {"radioligand": "[3H]citalopram", "kd_nM": 1.5, "radioligand_nM": 1.0,
                 "nsb": "10 uM fluoxetine", "seed": 12},
        "H1": {"radioligand": "[3H]mepyramine", "kd_nM": 1.0, "radioligand_nM": 1.0,
               "nsb": "10 uM triprolidine", "seed": 13},
        "conc_nM": [round(10 ** x, 4) for x in np.arange(-2.0, 4.01, 0.5)],
        "replicates": 2, "total_specific_cpm": 3000.0, "nsb_cpm": 300.0, "hill": 1.0,
    },
    "uptake": {  # fluorescent-substrate uptake into NET-expressing cells
        "ic50_nM": {COMPOUND: 1.5, "desipramine": 3.0}, "hill": 1.0,
        "conc_nM": [0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0],
        "vehicle_rate_rfu_min": 100.0, "full_block_rate_rfu_min": 8.0, "full_block": "10 uM desipramine",
        "rate_cv": 0.04, "lag_min": 2.0, "plateau_min": 25.0, "read_every_min": 1.0, "last_read_min": 30.0,
        "noise_sd_rfu": 5.0, "seed": 21,
    },
    "calcium": {  # H1 (histamine) Ca2+ response; norclomipramine as a competitive H1 antagonist
        "agonist": "histamine", "antagonist_nM": 100.0, "histamine_ec50_uM": 0.5, "max_nM": 600.0,
        "conc_uM": [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0], "cells_per_conc": 2,
        "rmin": 0.3, "rmax": 8.0, "beta": 6.0, "kd_nM": 224.0, "stim_time_s": 30.0, "sample_every_s": 2,
        "seed": 31,
    },
    "qpcr": {  # hippocampus after 14 daily doses; Bdnf fold change per dose, GAPDH reference
        "target": "Bdnf", "reference": "GAPDH", "n_per_group": 6,
        "fold_change": {"0": 1.0, "5": 1.25, "10": 1.6, "20": 1.9},
        "ct_reference": 18.0, "ct_target_vehicle": 26.5, "sd_input": 0.3, "sd_biological": 0.25,
        "sd_technical": 0.1, "seed": 41,
    },
    "microdialysis": {  # prefrontal cortex, % increase of baseline at the peak (40 min) per dose
        "n_per_group": 5, "baseline_nM": {"NE": 1.0, "DA": 0.4, "5-HT": 0.3},
        "peak_increase_pct": {"NE": [0.0, 120.0, 200.0, 280.0], "DA": [0.0, 40.0, 70.0, 100.0],
                              "5-HT": [0.0, 5.0, 8.0, 12.0]},
        "times_min": [-60, -40, -20, 0, 20, 40, 60, 80, 100, 120, 140, 160, 180], "noise_cv": 0.08,
        "seed": {"NE": 51, "DA": 52, "5-HT": 53},
    },
    "behaviour_videos": ("videos_sample/ (not made here): Emax model, at most 60 % less immobility, "
                         "ED50 8 mg/kg, climbing share rising with dose (behavscore.synth.pharmacology)"),
}


def _write(df: pd.DataFrame, path: Path) -> Path:
    df.to_csv(path, index=False, lineterminator="\n")
    return path


def _group_label(dose: float) -> str:
    return "vehicle" if dose == 0 else f"{COMPOUND}_{dose:g}"


def binding(target: str) -> pd.DataFrame:
    """Competition binding wells for one target: sample wells, total (no competitor) and NSB wells."""
    p, b = PARAMETERS["binding"][target], PARAMETERS["binding"]
    rng = np.random.default_rng(p["seed"])
    ic50 = PARAMETERS["ki_nM"][target] * (1 + p["radioligand_nM"] / p["kd_nM"])
    rows = []
    for conc in b["conc_nM"]:
        for _ in range(b["replicates"]):
            rows.append((COMPOUND, conc, "sample", b["total_specific_cpm"] / (1 + (conc / ic50) ** b["hill"])))
    rows += [(COMPOUND, 0.0, "total", b["total_specific_cpm"])] * 4
    rows += [(COMPOUND, np.nan, "nsb", 0.0)] * 4
    df = pd.DataFrame(rows, columns=["compound", "conc_nM", "role", "specific"])
    mean = b["nsb_cpm"] + df["specific"]
    counts = mean * (1 + rng.normal(0, 0.03, len(df))) + rng.normal(0, np.sqrt(mean))  # pipetting + counting
    df["cpm"] = np.round(counts).astype(int)
    return df[["compound", "conc_nM", "cpm", "role"]]


def uptake() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Kinetic uptake reads and their layout (duplicate series in rows A-D, controls in E and F)."""
    p = PARAMETERS["uptake"]
    rng = np.random.default_rng(p["seed"])
    layout = []
    for k, (compound, ic50) in enumerate(p["ic50_nM"].items()):
        for rep in range(2):
            row = "ABCD"[2 * k + rep]
            for col, conc in enumerate(p["conc_nM"], start=1):
                layout.append((f"{row}{col}", compound, conc, "sample", ic50))
    layout += [(f"E{c}", "", np.nan, "vehicle", np.nan) for c in range(1, 5)]
    layout += [(f"F{c}", "", np.nan, "full_block", np.nan) for c in range(1, 5)]
    lay = pd.DataFrame(layout, columns=["well", "compound", "conc", "role", "ic50"])
    v, blk = p["vehicle_rate_rfu_min"], p["full_block_rate_rfu_min"]
    inhibition = np.where(lay["role"] == "sample", 1 / (1 + (lay["ic50"] / lay["conc"]) ** p["hill"]), 0.0)
    inhibition = np.where(lay["role"] == "full_block", 1.0, inhibition)
    rates = (v - (v - blk) * inhibition) * (1 + rng.normal(0, p["rate_cv"], len(lay)))
    times = np.arange(0.0, p["last_read_min"] + 0.5, p["read_every_min"])
    reads = simulate_uptake_kinetics(lay["well"], rates, times=times, lag_min=p["lag_min"],
                                     plateau_min=p["plateau_min"], noise_sd=p["noise_sd_rfu"], seed=p["seed"] + 1)
    reads["signal"] = reads["signal"].round(1)
    return reads, lay[["well", "compound", "conc", "role"]]


def calcium() -> pd.DataFrame:
    """Fura-2 traces: histamine concentration-response alone and with 100 nM norclomipramine.

    A competitive antagonist shifts the agonist EC50 by the dose ratio 1 + [B]/K_B (Schild), with
    K_B = the H1 Ki.
    """
    p = PARAMETERS["calcium"]
    shift = 1 + p["antagonist_nM"] / PARAMETERS["ki_nM"]["H1"]
    label = f"{COMPOUND}_{p['antagonist_nM']:g}nM"
    df = simulate_calcium(concs_uM=tuple(p["conc_uM"]), conditions=("control", label),
                          cells_per_conc=p["cells_per_conc"],
                          ec50_uM=(p["histamine_ec50_uM"], p["histamine_ec50_uM"] * shift),
                          max_nM=(p["max_nM"], p["max_nM"]), rmin=p["rmin"], rmax=p["rmax"], beta=p["beta"],
                          kd_nM=p["kd_nM"], seed=p["seed"])
    df = df[(df["time_s"] % p["sample_every_s"]) == 0].reset_index(drop=True)
    df["f340"] = df["f340"].round(2)
    df["f380"] = df["f380"].round(2)
    return df


def qpcr() -> pd.DataFrame:
    """Ct of Bdnf and GAPDH per animal (wide form), one group per dose."""
    p = PARAMETERS["qpcr"]
    rng = np.random.default_rng(p["seed"])
    rows = []
    for dose in DOSES_MG_KG:
        fc = p["fold_change"][f"{dose:g}"]
        for i in range(p["n_per_group"]):
            cdna = rng.normal(0, p["sd_input"])  # the same cDNA amount shifts both genes
            ref = p["ct_reference"] + cdna + rng.normal(0, p["sd_technical"])
            tgt = (p["ct_target_vehicle"] - np.log2(fc) + cdna + rng.normal(0, p["sd_biological"])
                   + rng.normal(0, p["sd_technical"]))
            rows.append((f"hc-{_group_label(dose)}-{i + 1:02d}", _group_label(dose),
                         "vehicle" if dose == 0 else COMPOUND, dose, round(tgt, 2), round(ref, 2)))
    return pd.DataFrame(rows, columns=["sample", "group", "treatment", "dose_mg_kg", p["target"], p["reference"]])


def microdialysis() -> pd.DataFrame:
    """Dialysate concentrations (nM) per animal, analyte and 20-min sample; dosing at 0 min."""
    p = PARAMETERS["microdialysis"]
    labels = [f"d{int(d):02d}" for d in DOSES_MG_KG]  # unique 3-letter prefixes for the simulator's animal ids
    parts = []
    for analyte, base in p["baseline_nM"].items():
        sim = simulate_microdialysis(n_per_group=p["n_per_group"], treatments=labels,
                                     effects=p["peak_increase_pct"][analyte], analytes=(analyte,),
                                     baseline_nM=(base,), times=np.asarray(p["times_min"], float),
                                     seed=p["seed"][analyte], noise_cv=p["noise_cv"])
        parts.append(sim)
    df = pd.concat(parts, ignore_index=True)
    dose = {lab: d for lab, d in zip(labels, DOSES_MG_KG)}
    df["dose_mg_kg"] = df["treatment"].map(dose)
    df["animal"] = [f"md-{'veh' if dose[t] == 0 else f'ncl{dose[t]:g}'}-{a[-2:]}"
                    for t, a in zip(df["treatment"], df["animal"])]
    df["group"] = [_group_label(d) for d in df["dose_mg_kg"]]
    df["treatment"] = np.where(df["dose_mg_kg"] == 0, "vehicle", COMPOUND)
    df["time_min"] = df["time_min"].astype(int)
    df["conc"] = df["conc"].round(4)
    df = df.sort_values(["dose_mg_kg", "animal", "analyte", "time_min"], kind="stable")
    return df[["animal", "group", "treatment", "dose_mg_kg", "time_min", "analyte", "conc"]].reset_index(drop=True)


def main(out_dir: Path) -> list[Path]:
    """Write every example file into ``out_dir``; returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    reads, layout = uptake()
    files = [_write(reads, out_dir / "net_uptake_kinetic.csv"), _write(layout, out_dir / "net_uptake_layout.csv")]
    files += [_write(binding(t), out_dir / f"binding_{t}.csv") for t in ("NET", "SERT", "H1")]
    files.append(_write(calcium(), out_dir / "calcium_h1_fura2.csv"))
    files.append(_write(qpcr(), out_dir / "qpcr_bdnf.csv"))
    files.append(_write(microdialysis(), out_dir / "microdialysis_pfc.csv"))
    params = out_dir / "parameters.json"
    params.write_text(json.dumps(PARAMETERS, indent=2, sort_keys=True) + "\n")
    files.append(params)
    return files


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "data"
    for f in main(target):
        print(f"{f.stat().st_size / 1024:7.1f} kB  {f}")
