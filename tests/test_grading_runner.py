"""The grading runner (tools/grading/runner.py), run directly on small notebooks.

It runs a student's notebooks in one kernel and records after each graded
cell; its own code must never take the place of a student's cell.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
RUNNER = ROOT / "tools" / "grading" / "runner.py"


def _run(tmp_path, notebooks, graded=None):
    (tmp_path / "notebooks").mkdir()
    entries = []
    for stem, sources in notebooks.items():
        notebook = nbformat.v4.new_notebook()
        for source in sources:  # a source, or (source, grade_id) for a graded cell
            source, grade_id = source if isinstance(source, tuple) else (source, None)
            cell = nbformat.v4.new_code_cell(source)
            if grade_id:
                cell.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id}
            notebook.cells.append(cell)
        nbformat.write(notebook, tmp_path / "notebooks" / f"{stem}.ipynb")
        entries.append({"stem": stem, "file": f"notebooks/{stem}.ipynb",
                        "graded": (graded or {}).get(stem, [])})
    plan = {"notebooks": entries, "cell_timeout": 60, "max_output_chars": 2000}
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="agg", HOME=str(tmp_path))
    done = subprocess.run([sys.executable, str(RUNNER), str(tmp_path / "plan.json")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return {stem: json.loads((tmp_path / "outputs" / f"{stem}.json").read_text())
            for stem in notebooks}


def test_every_cell_of_the_student_runs_and_only_those_are_shown(tmp_path):
    outputs = _run(tmp_path, {
        "a": ["x = 41", "print(x + 1)"],      # a first cell that is code
        "b": ["print('x' in globals())"],     # a later notebook starts from a clean namespace
    })
    a, b = outputs["a"], outputs["b"]
    assert [cell["source"] for cell in a["cells"]] == ["x = 41", "print(x + 1)"]
    assert a["cells"][1]["output"] == "42\n"
    assert b["cells"][0]["output"] == "False\n"
    assert a["status"] == b["status"] == "ran"


def test_a_record_is_written_after_the_graded_cell_from_the_function_then(tmp_path):
    key = [1, 2, 3, 4, 5, 6, 7, 8]
    graded = {"a": [{"grade_id": "a_relu_check", "checker": "check_relu_forward",
                     "function": "my_relu", "key": key}]}
    solution = "import numpy as np\ndef my_relu(x):\n    return np.maximum(x, 0)"
    outputs = _run(tmp_path, {"a": [solution, ("print('checked')", "a_relu_check"),
                                    "my_relu = None"]}, graded)
    assert outputs["a"]["status"] == "ran"
    assert [c["grade_id"] for c in outputs["a"]["cells"]] == [None, "a_relu_check", None]
    from tinynet.exercises.recording import replay

    data = (tmp_path / "records" / "a" / "a_relu_check.json").read_bytes()
    passed, message = replay("check_relu_forward", "my_relu", key, data)
    assert passed, message   # recorded right after its cell, before my_relu = None
