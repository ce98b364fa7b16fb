"""Plain-text tables for the printed reports."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _fmt(v, digits):
    if isinstance(v, (float, np.floating)):
        if np.isnan(v):
            return "NaN"
        return f"{v:.{digits}g}"
    return str(v)


def format_table(df: pd.DataFrame, digits: int = 6, indent: int = 2) -> str:
    """Render a DataFrame as an aligned text table with ``digits`` significant digits."""
    if df.empty:
        return " " * indent + "(none)"
    text = df.map(lambda v: _fmt(v, digits)).to_string()
    return "\n".join(" " * indent + line for line in text.splitlines())


def format_flags(flags: list[str]) -> list[str]:
    """Report lines for a fit's flags (reasons not to trust it), or that there are none."""
    if flags:
        return ["FLAGS (reasons not to trust this fit):"] + [f"  - {f}" for f in flags]
    return ["Flags: none (fit looks sound)"]
