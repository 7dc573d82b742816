"""The exercise edition and its grading, with the real nbgrader.

``tools/course.py`` builds the exercise edition (``nbgrader
generate_assignment``) and grades a folder of submissions (``nbgrader
autograde`` per student, then the gradebook read into ``grades.csv``). Here
it grades six students whose expected scores follow from the source
notebooks' own metadata (the points of each graded cell):

* ``complete``: the complete edition, full marks;
* ``untouched``: the exercise edition as handed out, 0 on every graded cell;
* ``planted``: complete, except that ``train_one_iter`` does not decay the
  biases: loses exactly that cell's points;
* ``endless``: complete, except that one exercise loops for ever when called:
  the checker's time limit stops it, and only that cell is lost;
* ``hog``: one notebook whose solution cell allocates in an endless loop at
  top level: nbgrader's per-cell time limit interrupts it, only the check of
  that exercise is lost;
* ``broken``: one notebook that is not JSON and one whose kernel dies: both
  score 0, and the other students are graded all the same.
"""

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
HOG_CELL_TIMEOUT_S = 30

pytestmark = pytest.mark.skipif(
    shutil.which("nbgrader", path=str(Path(sys.executable).parent)) is None,
    reason="nbgrader is not installed (pip install -e '.[grading]')",
)


def _load(path):
    return json.loads(Path(path).read_text())


def _nbgrader(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def _source(cell):
    return "".join(cell["source"])


def graded_cells(path):
    """{grade_id: points} of the graded cells of a source notebook."""
    return {_nbgrader(c)["grade_id"]: float(_nbgrader(c)["points"])
            for c in _load(path)["cells"] if _nbgrader(c).get("grade")}


def solution_cells(notebook):
    return [c for c in notebook["cells"] if _nbgrader(c).get("solution")]


def _check_cell_of(notebook, solution_id):
    """The graded cell that checks the function a solution cell defines."""
    for cell in notebook["cells"]:
        meta = _nbgrader(cell)
        if meta.get("grade") and meta["grade_id"] == solution_id + "_check":
            return cell
    raise LookupError(f"no graded cell {solution_id}_check")


def _solution_defining(notebook, name):
    """The grade_id of the solution cell that defines ``name``."""
    for cell in solution_cells(notebook):
        if re.search(rf"^(?:def|class) {name}\b", _source(cell), re.M):
            return _nbgrader(cell)["grade_id"]
    raise LookupError(f"no solution cell defines {name}")


def _train_one_iter_check():
    path = next(p for p in NOTEBOOKS if p.name.startswith("07_"))
    return path.stem, _solution_defining(_load(path), "my_train_one_iter") + "_check"


def _replace_solution(notebook, grade_id, extra):
    """Append ``extra`` (code of the 'student') to the solution cell ``grade_id``."""
    for cell in notebook["cells"]:
        if _nbgrader(cell).get("grade_id") == grade_id:
            cell["source"] = _source(cell) + "\n\n" + extra
            return notebook
    raise LookupError(f"no solution cell {grade_id}")


def _defined_function(cell):
    match = re.search(r"^(?:def|class) (\w+)", _source(cell), re.M)
    return match.group(1)


def _endless_target():
    """A solution cell whose function no later cell of its notebook calls
    except its own check: an endless loop there can only cost that check."""
    for path in reversed(NOTEBOOKS):
        notebook = _load(path)
        for index, cell in enumerate(notebook["cells"]):
            meta = _nbgrader(cell)
            if not meta.get("solution") or _source(cell).lstrip().startswith("class"):
                continue
            name = _defined_function(cell)
            check_id = meta["grade_id"] + "_check"
            users = [c for c in notebook["cells"][index + 1:]
                     if c["cell_type"] == "code" and re.search(rf"\b{name}\b", _source(c))]
            if users and all(_nbgrader(c).get("grade_id") == check_id for c in users):
                return path, meta["grade_id"], name
    raise LookupError("no exercise suitable for the endless-loop submission")


PLANTED_BUG = '''\
_correct_train_one_iter = my_train_one_iter


def my_train_one_iter(W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc, x, t,
                      learning_rate, weight_decay):
    # the planted mistake: biases are not decayed
    new = list(_correct_train_one_iter(W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc,
                                       x, t, learning_rate, weight_decay))
    for k, b in ((1, b_conv1), (3, b_conv2), (5, b_fc)):
        new[k] = new[k] + learning_rate * weight_decay * b
    return tuple(new)
'''

HOG = '''\
import numpy as _np
_hog = []
while True:   # allocates for ever at the top level of the cell
    _hog.append(_np.ones(10_000))
    if len(_hog) > 100:
        _hog.clear()
'''


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Build the edition, write the six submissions, grade them once."""
    work = tmp_path_factory.mktemp("grading")
    release_course = work / "release_course"
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "course.py"), "exercises",
         "--into", str(work / "exercises"), "--course", str(release_course)],
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    release = work / "exercises"
    submissions = work / "submissions"

    def student(name, notebooks):
        folder = submissions / name
        folder.mkdir(parents=True)
        for filename, notebook in notebooks.items():
            if isinstance(notebook, str):
                (folder / filename).write_text(notebook)
            else:
                (folder / filename).write_text(json.dumps(notebook))

    student("complete", {p.name: _load(p) for p in NOTEBOOKS})
    student("untouched", {p.name: _load(release / p.name) for p in NOTEBOOKS})

    planted = {p.name: _load(p) for p in NOTEBOOKS}
    name07 = next(n for n in planted if n.startswith("07_"))
    _replace_solution(planted[name07], _solution_defining(planted[name07], "my_train_one_iter"),
                      PLANTED_BUG)
    student("planted", planted)

    endless_path, endless_id, endless_name = _endless_target()
    endless = {p.name: _load(p) for p in NOTEBOOKS}
    args = re.search(rf"def {endless_name}\(([^)]*)\)",
                     _source(next(c for c in endless[endless_path.name]["cells"]
                                  if _nbgrader(c).get("grade_id") == endless_id))).group(1)
    _replace_solution(endless[endless_path.name], endless_id,
                      f"def {endless_name}({args}):\n    while True:\n        pass\n")
    student("endless", endless)

    hog_notebook = _load(NOTEBOOKS[2])
    hog_id = solution_cells(hog_notebook)[0]["metadata"]["nbgrader"]["grade_id"]
    first = solution_cells(hog_notebook)[0]
    first["source"] = HOG + "\n" + _source(first)
    student("hog", {NOTEBOOKS[2].name: hog_notebook})

    crashing = _load(NOTEBOOKS[0])
    setup = next(c for c in crashing["cells"] if c["cell_type"] == "code")
    setup["source"] = "import os\nos._exit(1)   # the kernel dies\n" + _source(setup)
    student("broken", {NOTEBOOKS[1].name: "{this is not a notebook", NOTEBOOKS[0].name: crashing})

    out = work / "grades"
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "course.py"), "grade", str(submissions),
         "--out", str(out), "--cell-timeout", str(HOG_CELL_TIMEOUT_S)],
        capture_output=True, text=True, timeout=3000)
    assert done.returncode == 0, done.stdout + done.stderr
    with open(out / "grades.csv") as handle:
        rows = list(csv.DictReader(handle))
    return {"rows": rows, "out": out, "stdout": done.stdout, "release": release,
            "endless": (endless_path.name, endless_id), "hog": (NOTEBOOKS[2].name, hog_id)}


def _rows(graded, student):
    return {row["notebook"]: row for row in graded["rows"] if row["student"] == student}


def _expected_points():
    return {p.stem: graded_cells(p) for p in NOTEBOOKS}


def test_every_course_notebook_is_graded():
    points = _expected_points()
    for name in ("02", "03", "04", "05", "06", "07", "08"):
        stems = [s for s in points if s.startswith(name)]
        assert stems and points[stems[0]], f"notebook {name} has no graded cells"


def test_complete_edition_scores_full_marks(graded):
    rows = _rows(graded, "complete")
    for stem, cells in _expected_points().items():
        row = rows[stem]
        assert row["status"] == "graded", row
        for grade_id, points in cells.items():
            assert float(row[grade_id]) == points, (stem, grade_id, row[grade_id])
        assert float(row["score"]) == float(row["max_score"]) == sum(cells.values())


def test_untouched_exercise_edition_scores_zero_everywhere(graded):
    rows = _rows(graded, "untouched")
    for stem, cells in _expected_points().items():
        row = rows[stem]
        assert row["status"] == "graded", row
        for grade_id in cells:
            assert float(row[grade_id]) == 0.0, (stem, grade_id, row[grade_id])
        assert float(row["score"]) == 0.0


def test_planted_mistake_loses_exactly_its_cell(graded):
    rows = _rows(graded, "planted")
    stem07, check = _train_one_iter_check()
    for stem, cells in _expected_points().items():
        for grade_id, points in cells.items():
            lost = grade_id == check
            assert float(rows[stem][grade_id]) == (0.0 if lost else points), (stem, grade_id)
    cells07 = _expected_points()[stem07]
    assert cells07[check] == 3
    assert float(rows[stem07]["score"]) == sum(cells07.values()) - cells07[check]


def test_endless_loop_is_cut_and_loses_only_its_cell(graded):
    notebook, grade_id = graded["endless"]
    rows = _rows(graded, "endless")
    for stem, cells in _expected_points().items():
        for cell, points in cells.items():
            lost = stem + ".ipynb" == notebook and cell == grade_id + "_check"
            assert float(rows[stem][cell]) == (0.0 if lost else points), (stem, cell)
    feedback = (
        graded["out"] / "feedback" / "endless" / "tinynet" / notebook.replace(".ipynb", ".html")
    )
    assert "did not return" in feedback.read_text()


def test_allocating_loop_at_top_level_is_interrupted(graded):
    notebook, grade_id = graded["hog"]
    row = _rows(graded, "hog")[notebook[:-6]]
    cells = _expected_points()[notebook[:-6]]
    assert float(row[grade_id + "_check"]) == 0.0
    for cell, points in cells.items():
        if cell != grade_id + "_check":
            assert float(row[cell]) == points, cell


def test_broken_submission_scores_zero_without_stopping_the_others(graded):
    rows = _rows(graded, "broken")
    assert all(float(row["score"]) == 0.0 for row in rows.values())
    assert len(_rows(graded, "complete")) == len(NOTEBOOKS)
    assert "broken:" in graded["stdout"] and "grades:" in graded["stdout"]


def test_feedback_is_written_per_student(graded):
    for student in ("complete", "untouched", "planted"):
        folder = graded["out"] / "feedback" / student / "tinynet"
        assert sorted(p.stem for p in folder.glob("*.html")) == [p.stem for p in NOTEBOOKS]


def test_exercise_edition_holds_no_solution_and_no_output(graded):
    release = graded["release"]
    for path in NOTEBOOKS:
        source = _load(path)
        edition = _load(release / path.name)
        text = "\n".join(_source(c) for c in edition["cells"])
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text, path.name
        for cell in edition["cells"]:
            assert not cell.get("outputs"), (path.name, _source(cell)[:60])
        stubs = [c for c in edition["cells"] if _nbgrader(c).get("solution")]
        assert len(stubs) == len(solution_cells(source))
        for cell in stubs:
            assert "raise NotImplementedError()" in _source(cell), (path.name, _source(cell))
        for cell in solution_cells(source):
            for block in re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION",
                                    _source(cell), re.S):
                lines = [line.strip() for line in block.splitlines() if line.strip()
                         and not line.strip().startswith("#")]
                body = "\n".join(lines)
                flattened = "\n".join(line.strip() for line in text.splitlines() if line.strip())
                assert len(lines) < 2 or body not in flattened, (path.name, body[:80])


def test_checks_say_not_attempted_in_the_exercise_edition(graded):
    feedback = graded["out"] / "feedback" / "untouched" / "tinynet"
    html = (feedback / NOTEBOOKS[2].with_suffix(".html").name).read_text()
    assert "not attempted yet" in html
