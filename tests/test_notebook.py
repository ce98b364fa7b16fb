"""The example notebook runs top to bottom on the bundled data, and is committed without outputs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

PROJECT = Path(__file__).resolve().parents[1]
EXAMPLES = PROJECT / "examples"
NOTEBOOK = EXAMPLES / "norclomipramine_study.ipynb"


def _python3_kernel_dir(root: Path) -> Path:
    """A ``python3`` kernelspec that starts this very interpreter (the one with behavscore installed)."""
    spec = root / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3", "language": "python"}))
    return root


def test_notebook_is_committed_without_outputs():
    nb = json.loads(NOTEBOOK.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, "the notebook has no code cells"
    assert all(not c["outputs"] and c["execution_count"] is None for c in code)
    assert nb["metadata"] == {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}}


def test_notebook_runs_top_to_bottom_without_errors(tmp_path, monkeypatch):
    nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (pip install -e '.[test]')")
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (pip install -e '.[test]')")
    pytest.importorskip("ipykernel", reason="ipykernel is not installed (pip install -e '.[test]')")
    # JUPYTER_PATH comes first in the kernelspec search, so "python3" is this interpreter even when
    # another python3 kernel is registered on the machine
    monkeypatch.setenv("JUPYTER_PATH", str(_python3_kernel_dir(tmp_path / "jupyter")))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel then draws inline (PNG outputs)
    monkeypatch.setenv("BEHAVSCORE_STUDY_OUT", str(tmp_path / "study"))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=900,
                                     resources={"metadata": {"path": str(EXAMPLES)}})
    client.execute()  # raises CellExecutionError, naming the cell, when any cell fails
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    shown = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert any("image/png" in o.get("data", {}) for o in shown), "the notebook drew no figure"
    table = pd.read_csv(tmp_path / "study" / "study_table.csv")
    assert table["dose_mg_kg"].tolist() == [0, 5, 10, 20]  # one row per dose group, vehicle first
    assert {"ki_nM_NET", "occupancy_pct_pred_NET", "fst_immobility_s_mean", "tst_immobility_s_mean"} <= set(table.columns)
