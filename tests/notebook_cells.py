"""Run one code cell of a course notebook in a test, as the notebook would."""

import contextlib
import io
import json
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def code_cell(notebook, *markers):
    """The source of the one code cell of ``notebook`` that contains every marker."""
    cells = json.loads((NOTEBOOKS / notebook).read_text(encoding="utf-8"))["cells"]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    found = [s for s in sources if all(marker in s for marker in markers)]
    assert len(found) == 1, f"{notebook}: {len(found)} code cells contain {markers}, not 1"
    return found[0]


def run_cell(source, namespace):
    """Execute ``source`` with the names of ``namespace``; return what it printed."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(source, dict(namespace))
    return printed.getvalue()
