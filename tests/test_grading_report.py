"""grades.csv, the gradebook and the HTML feedback of ``tools/grading/report.py``.

The results are built by hand: no notebook runs here.
"""

import csv
import os
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from grading import report  # noqa: E402
from grading.results import (  # noqa: E402
    CellOutput,
    CellResult,
    NotebookResult,
    StudentResult,
)

COURSE = [
    ("01_gradient_descent", {"gd_step_check": 2.0, "gd_loop_check": 3.0}),
    ("02_fully_connected_and_relu", {"relu_check": 1.0}),
]
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"


def _alice():
    first = NotebookResult(
        "01_gradient_descent", "graded",
        cells={"gd_step_check": CellResult("gd_step_check", 2.0, 2.0, "gd_step: PASS (4 cases)"),
               "gd_loop_check": CellResult("gd_loop_check", 0.0, 3.0,
                                           "gd_loop: returned 1.5, expected 2.0")},
        outputs=[CellOutput("import numpy as np", ""),
                 CellOutput("gd_step_check()", "ok", grade_id="gd_step_check"),
                 CellOutput("gd_loop_check()", "AssertionError", grade_id="gd_loop_check")],
        flags=["calls tinynet's own gd_loop", "reads os.environ"])
    second = NotebookResult("02_fully_connected_and_relu", "refused: a symbolic link")
    return StudentResult("alice", "graded", 31.2, {first.name: first, second.name: second})


def _bob():
    """Handed in only notebook 02, all correct."""
    nb = NotebookResult("02_fully_connected_and_relu", "graded",
                        cells={"relu_check": CellResult("relu_check", 1.0, 1.0, "relu: PASS")})
    return StudentResult("bob", "graded", 5.0, {nb.name: nb})


def _rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return reader.fieldnames, list(reader)


def test_csv_columns_and_values(tmp_path):
    path = tmp_path / "grades.csv"
    report.write_grades_csv(path, [_alice(), _bob()], COURSE)
    columns, rows = _rows(path)
    assert columns == ["student", "notebook", "score", "max_score", "status", "flags",
                       "gd_step_check", "gd_loop_check", "relu_check"]
    assert [(r["student"], r["notebook"]) for r in rows] == [
        ("alice", "01_gradient_descent"), ("alice", "02_fully_connected_and_relu"),
        ("bob", "01_gradient_descent"), ("bob", "02_fully_connected_and_relu")]
    first, refused, missing, relu = rows
    assert (first["score"], first["max_score"], first["status"]) == ("2", "5", "graded")
    assert first["flags"] == "calls tinynet's own gd_loop; reads os.environ"
    assert (first["gd_step_check"], first["gd_loop_check"], first["relu_check"]) == ("2", "0", "")
    assert (refused["score"], refused["max_score"]) == ("0", "1")
    assert refused["status"] == "refused: a symbolic link"
    assert (refused["gd_step_check"], refused["relu_check"]) == ("", "0")
    assert (missing["status"], missing["score"], missing["flags"]) == ("not handed in", "0", "")
    assert (relu["score"], relu["relu_check"], relu["status"]) == ("1", "1", "graded")


def test_csv_uses_gradebook_scores_when_given(tmp_path):
    path = tmp_path / "grades.csv"
    scores = {("alice", "01_gradient_descent", "gd_step_check"): 2.0,
              ("alice", "01_gradient_descent", "gd_loop_check"): 2.5}
    report.write_grades_csv(path, [_alice()], COURSE, gradebook_scores=scores)
    _, rows = _rows(path)
    assert (rows[0]["score"], rows[0]["gd_loop_check"]) == ("4.5", "2.5")


def test_csv_text_cannot_be_taken_for_a_formula(tmp_path):
    alice = _alice()
    alice.notebooks["01_gradient_descent"].status = "=HYPERLINK(\"http://x\")"
    report.write_grades_csv(tmp_path / "grades.csv", [alice], COURSE)
    _, rows = _rows(tmp_path / "grades.csv")
    assert rows[0]["status"] == "'=HYPERLINK(\"http://x\")"


def test_csv_write_is_atomic_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "grades.csv"
    path.write_text("the previous grades\n")
    report.write_grades_csv(path, [_alice()], COURSE)
    assert [p.name for p in tmp_path.iterdir()] == ["grades.csv"]
    assert path.read_text(encoding="utf-8").startswith("student,notebook,")

    # a write that fails half way leaves the previous file whole and no temporary file
    def broken_replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(report.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        report.write_grades_csv(path, [_bob()], COURSE)
    assert [p.name for p in tmp_path.iterdir()] == ["grades.csv"]
    assert "alice" in path.read_text(encoding="utf-8")


def _set_by_hand(db, student, stem, grade_id, **values):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{db}", "tinynet") as gradebook:
        grade = gradebook.find_grade(grade_id, stem, "tinynet", student)
        for name, value in values.items():
            setattr(grade, name, value)
        gradebook.db.commit()


def _grade(db, student, stem, grade_id):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{db}", "tinynet") as gradebook:
        grade = gradebook.find_grade(grade_id, stem, "tinynet", student)
        return grade.auto_score, grade.manual_score, grade.extra_credit, grade.score


def test_gradebook_keeps_the_instructors_manual_score_and_extra_credit(tmp_path):
    pytest.importorskip("nbgrader")
    db = tmp_path / "gradebook.db"
    scores = report.update_gradebook(db, [_alice(), _bob()], COURSE)
    assert db.exists()
    assert scores[("alice", "01_gradient_descent", "gd_loop_check")] == 0.0
    assert scores[("alice", "02_fully_connected_and_relu", "relu_check")] == 0.0
    assert scores[("bob", "02_fully_connected_and_relu", "relu_check")] == 1.0
    assert len(scores) == 2 * 3

    stem = "01_gradient_descent"
    _set_by_hand(db, "alice", stem, "gd_loop_check", manual_score=2.0, extra_credit=0.5)
    _set_by_hand(db, "alice", stem, "gd_step_check", extra_credit=1.0)
    alice = _alice()
    alice.notebooks[stem].cells["gd_loop_check"].points = 3.0     # graded again: now passes
    alice.notebooks[stem].cells["gd_step_check"].points = 0.0     # ... and this one fails
    for _ in range(2):
        scores = report.update_gradebook(db, [alice, _bob()], COURSE)
    assert _grade(db, "alice", stem, "gd_loop_check") == (3.0, 2.0, 0.5, 2.5)
    assert _grade(db, "alice", stem, "gd_step_check") == (0.0, None, 1.0, 1.0)
    assert scores[("alice", stem, "gd_loop_check")] == 2.5      # manual score + extra credit
    assert scores[("alice", stem, "gd_step_check")] == 1.0      # automatic 0 + extra credit

    report.write_grades_csv(tmp_path / "grades.csv", [alice], COURSE, gradebook_scores=scores)
    _, rows = _rows(tmp_path / "grades.csv")
    assert (rows[0]["score"], rows[0]["gd_loop_check"], rows[0]["gd_step_check"]) == \
        ("3.5", "2.5", "1")


def test_gradebook_made_by_generate_assignment_and_a_cell_added_later(tmp_path, monkeypatch):
    nbgrader_api = pytest.importorskip("nbgrader.api")
    db = tmp_path / "gradebook.db"
    # nbgrader runs alembic from PATH when it creates the database
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    # what nbgrader generate_assignment writes: the assignment, notebooks and grade cells
    with nbgrader_api.Gradebook(f"sqlite:///{db}", "tinynet") as gradebook:
        gradebook.add_assignment("tinynet")
        gradebook.add_notebook("01_gradient_descent", "tinynet")
        gradebook.add_grade_cell("gd_step_check", "01_gradient_descent", "tinynet",
                                 max_score=2.0, cell_type="code")
    report.update_gradebook(db, [_alice()], COURSE[:1])
    # the course gains a cell after alice's submission was made
    scores = report.update_gradebook(db, [_alice()], COURSE)
    assert scores[("alice", "01_gradient_descent", "gd_step_check")] == 2.0
    assert scores[("alice", "01_gradient_descent", "gd_loop_check")] == 0.0
    assert scores[("alice", "02_fully_connected_and_relu", "relu_check")] == 0.0
    assert _grade(db, "alice", "01_gradient_descent", "gd_step_check")[0] == 2.0


class _Elements(HTMLParser):
    """The start tags and the text of a page."""

    def __init__(self, path):
        super().__init__()
        self.tags, self.text = [], []
        self.feed(Path(path).read_text(encoding="utf-8"))

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


WRITTEN = {"html", "head", "meta", "title", "style", "body", "h1", "p", "b", "a", "div",
           "pre", "ul", "li", "table", "tr", "th", "td"}


def _check_page(path):
    page = _Elements(path)
    tags = {tag for tag, _ in page.tags}
    assert tags <= WRITTEN, f"{path.name}: elements not written by the report: {tags - WRITTEN}"
    assert not any(name.startswith("on") for _, attrs in page.tags for name in attrs)
    policy = [attrs["content"] for _, attrs in page.tags
              if attrs.get("http-equiv") == "Content-Security-Policy"]
    assert policy == ["default-src 'none'; style-src 'unsafe-inline'"]
    return page


def test_feedback_escapes_a_hostile_output_and_a_hostile_name(tmp_path):
    alice = _alice()
    alice.student = "<img src=x onerror=alert(3)>"
    notebook = alice.notebooks["01_gradient_descent"]
    # a lone surrogate (valid JSON, not UTF-8) must not stop the page being written
    notebook.outputs.append(CellOutput(f"print('{HOSTILE}')", HOSTILE + "\ud800"))
    notebook.cells["gd_loop_check"].verdict = f"gd_loop: returned '{HOSTILE}'"
    notebook.flags.append(HOSTILE)
    index = report.write_feedback(tmp_path, alice, COURSE)
    assert index == tmp_path / alice.student / "index.html"
    for path in (index, index.parent / "01_gradient_descent.html"):
        page = _check_page(path)
        assert HOSTILE in "".join(page.text), f"{path.name} does not show the output as text"
        assert alice.student in "".join(page.text)
    text = (index.parent / "01_gradient_descent.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<script" not in text and "<img" not in text


def test_feedback_page_shows_scores_verdicts_and_statuses(tmp_path):
    index = report.write_feedback(tmp_path, _alice(), COURSE)
    page = "".join(_check_page(index.parent / "01_gradient_descent.html").text)
    assert "2 of 5 points" in page
    assert "gd_loop: returned 1.5, expected 2.0" in page and "0 of 3 points" in page
    graded = [a for t, a in _Elements(index.parent / "01_gradient_descent.html").tags
              if a.get("class") == "cell graded"]
    assert len(graded) == 2
    listing = "".join(_check_page(index).text)
    assert "refused: a symbolic link" in listing and "reads os.environ" in listing
    refused = "".join(_check_page(index.parent / "02_fully_connected_and_relu.html").text)
    assert "refused: a symbolic link" in refused and "No cells ran." in refused
    bob = report.write_feedback(tmp_path, _bob(), COURSE)
    assert "not handed in" in "".join(_check_page(bob).text)
    assert not (bob.parent / "01_gradient_descent.html").exists()


def test_feedback_renders_a_chinese_name(tmp_path):
    student = _alice()
    student.student = "张伟"
    index = report.write_feedback(tmp_path, student, COURSE)
    assert index.parent.name == "张伟"
    for path in (index, index.parent / "01_gradient_descent.html"):
        raw = path.read_bytes()
        assert b'<meta charset="utf-8">' in raw
        assert "张伟".encode("utf-8") in raw


def test_feedback_cuts_a_long_output(tmp_path):
    student = _bob()
    long = "x" * (report.CUT_CHARACTERS + 1234)
    student.notebooks["02_fully_connected_and_relu"].outputs = [CellOutput("print(...)", long)]
    index = report.write_feedback(tmp_path, student, COURSE)
    text = (index.parent / "02_fully_connected_and_relu.html").read_text(encoding="utf-8")
    assert "… (cut: 1234 more characters)" in text
    assert "x" * report.CUT_CHARACTERS in text
    assert "x" * (report.CUT_CHARACTERS + 1) not in text


def test_feedback_refuses_a_name_that_is_not_a_file_name(tmp_path):
    student = _bob()
    student.student = ".."
    with pytest.raises(ValueError, match="cannot be a file name"):
        report.write_feedback(tmp_path, student, COURSE)


def test_summary_lines(capsys):
    bob = _bob()
    bob.notebooks["02_fully_connected_and_relu"].flags = ["writes outside its folder"]
    carol = StudentResult("carol", "no notebooks", 0.0)
    lines = report.print_summary([_alice(), bob, carol], COURSE)
    assert lines == ["alice: 2 of 6 points, 2 flags, graded in 31 s",
                     "bob: 1 of 6 points, 1 flag, graded in 5 s",
                     "carol: 0 of 6 points, 0 flags, no notebooks in 0 s"]
    assert capsys.readouterr().out.splitlines() == lines
