"""Whether the machine and the raters reach the same group conclusion (drug vs vehicle) on the same animals."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .agreement import video_file_name
from .cohort_stats import group_statistics

#: Significance level at which the conclusions are compared.
ALPHA = 0.05
#: Columns of :func:`group_conclusions`.
GROUP_COLUMNS = ["source", "group", "reference", "n", "mean", "sem", "difference", "ci_low", "ci_high", "p_value", "significant"]


def group_conclusions(
    values: Mapping[str, pd.DataFrame], cohort: pd.DataFrame, groups: Sequence[str], reference: str | None = None,
    outcome: str = "immobility_s",
) -> pd.DataFrame:
    """Group means and each group's difference from the reference, by every scorer, on the animals all scored.

    Parameters
    ----------
    values : mapping of str to DataFrame
        Scorer name (``auto``, ``human`` ...) -> ``video, animal`` and ``outcome`` per animal.
    cohort : DataFrame
        ``video`` (matched by file name: folders are dropped), ``animal`` and the group columns.
    groups : sequence of str
        Columns defining the groups (e.g. ``["treatment", "dose_mg_kg"]``).
    reference : str, optional
        Reference group label (default detected, as by ``behavscore batch``).
    outcome : str
        The per-animal measure compared.

    Returns
    -------
    DataFrame
        :data:`GROUP_COLUMNS`, one row per scorer and group: n, mean and SEM, and for the
        groups other than the reference the Dunnett difference from it with its CI and
        p-value, and whether p < :data:`ALPHA`. Every scorer's statistics use the same animals:
        those with a value from every scorer and a group.
    """
    keys = ["video", "animal"]
    meta = cohort[[*keys, *groups]].astype({"video": str, "animal": str})
    meta = meta.assign(video=meta["video"].map(video_file_name)).drop_duplicates(keys)
    joined = meta
    for name, table in values.items():
        joined = joined.merge(table[[*keys, outcome]].rename(columns={outcome: name}), on=keys, how="inner")
    joined = joined.dropna(subset=list(values))
    if joined.empty:
        raise ValueError("no animal of the cohort table has a value from every scorer (videos are matched by file name, animals by id)")
    rows = []
    for name in values:
        stats = group_statistics(joined.assign(**{outcome: joined[name]}), list(groups), reference, outcomes=[outcome])
        describe = stats[stats["analysis"] == "describe"].set_index("group")
        dunnett = stats[stats["analysis"] == "dunnett"].set_index("group")
        ref = describe.index[describe["note"] == "reference group"][0]
        for group, d in describe.iterrows():
            row = {"source": name, "group": group, "reference": ref, "n": d["n"], "mean": d["mean"], "sem": d["sem"]}
            if group in dunnett.index:
                t = dunnett.loc[group]
                row.update(difference=t["difference"], ci_low=t["ci_low"], ci_high=t["ci_high"], p_value=t["p_value"],
                           significant=bool(t["p_value"] < ALPHA) if np.isfinite(t["p_value"]) else None)
            rows.append(row)
    return pd.DataFrame(rows, columns=GROUP_COLUMNS)


def conclusion_lines(table: pd.DataFrame) -> list[str]:
    """Where the scorers' conclusions (p < ALPHA against the reference) differ, one line per group; else one line saying they agree."""
    tested = table.dropna(subset=["significant"])
    if tested.empty:
        return []
    calls = tested.pivot(index="group", columns="source", values="significant")
    calls = calls.reindex([g for g in dict.fromkeys(tested["group"])])
    differ = calls[calls.nunique(axis=1) > 1]
    ref = tested["reference"].iloc[0]
    if differ.empty:
        return [f"group conclusions: every scorer finds the same groups different from {ref} at p < {ALPHA:g}"]
    lines = []
    for group, call in differ.iterrows():
        yes = ", ".join(s for s, v in call.items() if v)
        no = ", ".join(s for s, v in call.items() if not v)
        lines.append(f"group conclusions differ for {group} vs {ref}: p < {ALPHA:g} by {yes}, not by {no}")
    return lines
