"""The committed notebooks: run top to bottom, outputs stored, nothing broken.

nbval (``make test``) re-executes every notebook and compares its outputs;
these checks look at the files themselves, so a notebook saved half-run, out
of order, or with an error in it is caught even before nbval runs.
"""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").rglob("*.ipynb"))
NOTEBOOKS = [p for p in NOTEBOOKS if ".ipynb_checkpoints" not in p.parts]


def test_the_course_is_there():
    names = [p.name for p in NOTEBOOKS]
    for number in range(9):
        assert any(n.startswith(f"{number:02d}_") for n in names), f"notebook {number:02d} missing"


def _code_cells(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return notebook, [c for c in notebook["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_execution_counts_run_1_2_3(path):
    _, cells = _code_cells(path)
    counts = [c["execution_count"] for c in cells if c["source"]]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: execution counts {counts}; re-run it top to bottom with "
        f"`make notebooks` (or tools/execute_notebooks.py {path.name})."
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_error_outputs_and_outputs_stored(path):
    _, cells = _code_cells(path)
    for index, cell in enumerate(cells):
        tags = cell.get("metadata", {}).get("tags", [])
        for output in cell.get("outputs", []):
            if output["output_type"] == "error" and "raises-exception" not in tags:
                pytest.fail(f"{path.name}, code cell {index + 1}: stored error "
                            f"{output['ename']}: {output['evalue']}")
    assert any(cell.get("outputs") for cell in cells), f"{path.name} has no stored outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_kernel_is_the_plain_python3(path):
    notebook, _ = _code_cells(path)
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
