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
    for number in range(14):  # chapter 7 (00-08), then chapter 6 (09-13)
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


# The nbgrader format of the exercise edition (tests/test_grading.py grades it
# with nbgrader itself; these checks are fast and name the cell at fault).
COURSE = [p for p in NOTEBOOKS if p.parent.name == "notebooks" and p.name[:2].isdigit()]


def _nbgrader(cell):
    return cell.get("metadata", {}).get("nbgrader")


@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.name)
def test_exercise_cells_follow_nbgrader_format(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    prefix = path.name[:2] + "_"
    ids = [m["grade_id"] for m in map(_nbgrader, notebook["cells"]) if m]
    assert len(ids) == len(set(ids)), f"{path.name}: duplicate grade_id in {ids}"
    cells = notebook["cells"]
    for index, cell in enumerate(cells):
        meta = _nbgrader(cell)
        if not meta:
            continue
        source = "".join(cell["source"])
        where = f"{path.name}, cell {meta['grade_id']}"
        assert meta["grade_id"].startswith(prefix), f"{where}: grade_id must start with {prefix}"
        assert meta.get("schema_version") == 3, where
        if meta.get("solution"):
            assert not meta.get("grade"), f"{where}: a solution cell is not graded itself"
            assert cell["cell_type"] == "code", where
            begins = source.count("### BEGIN SOLUTION")
            assert begins >= 1 and begins == source.count("### END SOLUTION"), (
                f"{where}: needs matching ### BEGIN SOLUTION / ### END SOLUTION lines")
            checks = [c for c in cells[index + 1:]
                      if (_nbgrader(c) or {}).get("grade_id") == meta["grade_id"] + "_check"]
            assert checks, f"{where}: no graded cell {meta['grade_id']}_check after it"
        if meta.get("grade"):
            assert meta.get("locked") and cell["cell_type"] == "code", f"{where}: locked code cell"
            assert meta.get("points", 0) > 0, f"{where}: points must be positive"
            assert meta["grade_id"].endswith("_check"), where
            # The graded hidden cases are drawn while grading, from the course's secret
            # (tinynet.exercises.recording): hidden cases in a notebook would only
            # show students cases that are never graded.
            assert "HIDDEN TESTS" not in source and "hidden=True" not in source, (
                f"{where}: the graded cell is the one visible call check_<exercise>(<function>)")


@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.name)
def test_every_graded_cell_checks_one_function(path):
    """One graded cell per function: a blank exercise must not cost a finished one its points."""
    import re

    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        meta = _nbgrader(cell)
        if not (meta and meta.get("grade")):
            continue
        source = "".join(cell["source"])
        checkers = set(re.findall(r"\b(check_\w+)\(", source))
        checked = set(re.findall(r"\bcheck_\w+\((\w+)", source))
        assert len(checkers) == 1 and len(checked) == 1, (
            f"{path.name}, cell {meta['grade_id']}: calls {sorted(checkers)} on "
            f"{sorted(checked)}; give each function its own solution and graded cell")
