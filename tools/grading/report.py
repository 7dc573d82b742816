"""grades.csv, nbgrader's gradebook and the HTML feedback, written by the trusted parent.

Nothing here runs student code. Everything a student wrote or printed (and
the student's and notebook's names) reaches a page only through
:func:`html.escape`; the pages hold no scripts and forbid loading anything
(Content-Security-Policy ``default-src 'none'``).

``course`` is the course's graded cells, in notebook order:
``[("01_gradient_descent", {"gd_step_check": 2.0, ...}), ...]``.
"""

import csv
import html
import io
import os
import re
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

# A page shows at most this many characters of one cell's source or output.
CUT_CHARACTERS = 20_000
COLUMNS = ["student", "notebook", "score", "max_score", "status", "flags"]
# Colour codes in tracebacks: meaningless in a page
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
STYLE = """\
body { font: 15px/1.45 system-ui, sans-serif; max-width: 60em; margin: 2em auto; color: #222; }
pre { white-space: pre-wrap; word-break: break-word; margin: 0; padding: .5em; }
.source { background: #f6f6f6; } .output { border-left: 3px solid #ccc; }
.cell { margin: 1em 0; } .graded { border: 2px solid #3a7bd5; padding: .3em; }
.verdict { background: #eef3fb; padding: .4em; margin: 0; } .flags { color: #a15c00; }
table { border-collapse: collapse; } td, th { padding: .2em .8em; text-align: left; }
"""
PAGE = """\
<!DOCTYPE html>
<html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{title}</title>
<style>
{style}</style></head>
<body>
{body}
</body></html>
"""


def cell_scores(student, stem, points, notebook=None, gradebook_scores=None):
    """The score of each graded cell of one notebook: {grade_id: score}.

    The gradebook's score when ``gradebook_scores`` has one (it follows the
    instructor's manual score and extra credit), else the cell's automatic
    points, else 0 (a notebook refused or not handed in).
    """
    cells = notebook.cells if notebook is not None else {}
    scores = {}
    for grade_id in points:
        key = (student, stem, grade_id)
        if gradebook_scores is not None and key in gradebook_scores:
            scores[grade_id] = float(gradebook_scores[key])
        else:
            scores[grade_id] = float(cells[grade_id].points) if grade_id in cells else 0.0
    return scores


def write_grades_csv(path, results, course, gradebook_scores=None):
    """Write grades.csv: one row per student and notebook of the course.

    Parameters
    ----------
    path : str or Path
        The file to write; replaced atomically (a reader never sees half a file).
    results : list of StudentResult
    course : list of (str, dict of str to float)
        Each notebook stem with its {grade_id: points}, in order.
    gradebook_scores : dict of (str, str, str) to float, optional
        {(student, notebook, grade_id): score} from :func:`update_gradebook`;
        without it the automatic points count.

    Notes
    -----
    Columns: student, notebook, score, max_score, status, flags, then every
    grade_id of the course; a row leaves the other notebooks' cells empty.
    A notebook missing from a result counts as "not handed in".
    """
    grade_ids = [grade_id for _, points in course for grade_id in points]
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=COLUMNS + grade_ids, lineterminator="\r\n")
    writer.writeheader()
    for result in results:
        for stem, points in course:
            notebook = result.notebooks.get(stem)
            scores = cell_scores(result.student, stem, points, notebook, gradebook_scores)
            row = {"student": result.student, "notebook": stem,
                   "score": _number(sum(scores.values())),
                   "max_score": _number(sum(points.values())),
                   "status": _text(notebook.status if notebook else "not handed in"),
                   "flags": _text("; ".join(notebook.flags) if notebook else "")}
            row.update({grade_id: _number(score) for grade_id, score in scores.items()})
            writer.writerow(row)
    _write_atomically(Path(path), text.getvalue())


def update_gradebook(db_path, results, course, assignment="tinynet", course_id="tinynet"):
    """Write the automatic scores into nbgrader's gradebook; return the final scores.

    Creates what is missing (the database, the assignment, its notebooks and
    grade cells from ``course``, students, submissions), sets each grade's
    ``auto_score`` to the cell's points (0 for a cell that was not graded) and
    never touches ``manual_score`` or ``extra_credit``.

    Parameters
    ----------
    db_path : str or Path
        The SQLite file, e.g. ``course/gradebook.db``.
    results : list of StudentResult
    course : list of (str, dict of str to float)
        Each notebook stem with its {grade_id: points}, in order.
    assignment, course_id : str
        nbgrader's names for the assignment and the course.

    Returns
    -------
    dict of (str, str, str) to float
        {(student, notebook, grade_id): score}, nbgrader's ``grade.score``: the
        manual score if set, else the automatic one, plus any extra credit.
    """
    from nbgrader.api import Gradebook, MissingEntry

    scores = {}
    with _interpreter_bin_on_path():
        gradebook = Gradebook(f"sqlite:///{Path(db_path).resolve()}", course_id)
    with gradebook:
        # what generate_assignment wrote stays as it is; only what is missing is added
        gradebook.update_or_create_assignment(assignment)
        for stem, points in course:
            gradebook.update_or_create_notebook(stem, assignment)
            for grade_id, max_score in points.items():
                try:
                    gradebook.find_grade_cell(grade_id, stem, assignment)
                except MissingEntry:
                    gradebook.add_grade_cell(grade_id, stem, assignment,
                                             max_score=max_score, cell_type="code")
        for result in results:
            gradebook.update_or_create_student(result.student)
            with gradebook.db.no_autoflush:    # else SQLAlchemy warns inside add_submission
                gradebook.update_or_create_submission(assignment, result.student)
            grades = {}
            for stem, points in course:
                notebook = result.notebooks.get(stem)
                for grade_id, auto in cell_scores(result.student, stem, points, notebook).items():
                    grade = _grade(gradebook, grade_id, stem, assignment, result.student)
                    grade.auto_score = auto
                    # as nbgrader's autograde does: an instructor's score stays up for review
                    grade.needs_manual_grade = grade.manual_score is not None
                    grades[result.student, stem, grade_id] = grade
            gradebook.db.commit()
            scores.update({key: float(grade.score) for key, grade in grades.items()})
    return scores


@contextmanager
def _interpreter_bin_on_path():
    """This Python's ``bin`` first on PATH: nbgrader runs ``alembic`` from PATH when
    it creates a gradebook, and ``make grade`` does not activate the environment."""
    old = os.environ.get("PATH")
    os.environ["PATH"] = os.pathsep.join(filter(None, [str(Path(sys.executable).parent), old]))
    try:
        yield
    finally:
        if old is None:
            del os.environ["PATH"]
        else:
            os.environ["PATH"] = old


def _grade(gradebook, grade_id, stem, assignment, student):
    """A student's grade of one cell, added if the submission predates the cell."""
    from nbgrader.api import Grade, MissingEntry, SubmittedNotebook

    try:
        return gradebook.find_grade(grade_id, stem, assignment, student)
    except MissingEntry:
        pass
    cell = gradebook.find_grade_cell(grade_id, stem, assignment)
    try:
        notebook = gradebook.find_submission_notebook(stem, assignment, student)
    except MissingEntry:
        master = gradebook.find_notebook(stem, assignment)
        submission = gradebook.find_submission(assignment, student)
        notebook = SubmittedNotebook(notebook=master, assignment=submission)
    grade = Grade(cell_id=cell.id, notebook=notebook)
    gradebook.db.add(grade)
    return grade


def write_feedback(folder, result, course=None, gradebook_scores=None):
    """Write a student's feedback: ``folder/<student>/<stem>.html`` and ``index.html``.

    Parameters
    ----------
    folder : str or Path
        The feedback folder; one subfolder per student.
    result : StudentResult
    course : list of (str, dict of str to float), optional
        With it, pages follow the course's order, show its maximum points and
        list notebooks not handed in; without it, the result's notebooks and
        their cells' points.
    gradebook_scores : dict of (str, str, str) to float, optional
        As for :func:`write_grades_csv`.

    Returns
    -------
    Path
        The student's index page.
    """
    student = _component(result.student, "student")
    if course is None:
        course = [(stem, {g: c.max_points for g, c in nb.cells.items()})
                  for stem, nb in result.notebooks.items()]
    target = Path(folder) / student
    target.mkdir(parents=True, exist_ok=True)
    rows = []
    for stem, points in course:
        notebook = result.notebooks.get(_component(stem, "notebook"))
        scores = cell_scores(student, stem, points, notebook, gradebook_scores)
        total = f"{_number(sum(scores.values()))} of {_number(sum(points.values()))} points"
        status = notebook.status if notebook else "not handed in"
        flags = notebook.flags if notebook else []
        rows.append(f'<tr><td><a href="{quote(stem)}.html">{_e(stem)}</a></td><td>{total}</td>'
                    f"<td>{_e(status)}</td><td>{_e('; '.join(flags))}</td></tr>")
        if notebook is None:
            continue
        body = [f"<p><a href=\"index.html\">All notebooks</a></p><h1>{_e(stem)}</h1>",
                f"<p>{_e(student)}: <b>{total}</b> ({_e(status)})</p>", _flag_list(flags)]
        for output in notebook.outputs:
            body.append(_cell(output, notebook.cells, scores))
        if not notebook.outputs:
            body.append("<p>No cells ran.</p>")
        _write_atomically(target / f"{stem}.html", _page(f"{student}: {stem}", body))
    index = [f"<h1>{_e(student)}</h1>", _flag_list(result.flags),
             "<table><tr><th>notebook</th><th>score</th><th>status</th><th>flags</th></tr>",
             *rows, "</table>"]
    _write_atomically(target / "index.html", _page(student, index))
    return target / "index.html"


def summary_lines(results, course, gradebook_scores=None):
    """One line per student: ``"alice: 70 of 82 points, 2 flags, graded in 31 s"``."""
    maximum = sum(sum(points.values()) for _, points in course)
    lines = []
    for result in results:
        score = sum(sum(cell_scores(result.student, stem, points, result.notebooks.get(stem),
                                    gradebook_scores).values())
                    for stem, points in course)
        count = len(result.flags)
        lines.append(f"{result.student}: {_number(score)} of {_number(maximum)} points, "
                     f"{count} flag{'' if count == 1 else 's'}, "
                     f"{result.status} in {result.seconds:.0f} s")
    return lines


def print_summary(results, course, gradebook_scores=None):
    """Print :func:`summary_lines`, as ``make grade`` ends; return them."""
    lines = summary_lines(results, course, gradebook_scores)
    for line in lines:
        print(line, flush=True)
    return lines


def _cell(output, cells, scores):
    """One code cell: source, output and, under a graded cell, verdict and points."""
    parts = [f'<pre class="source">{_e(_cut(output.source))}</pre>']
    if output.output:
        parts.append(f'<pre class="output">{_e(_cut(ANSI.sub("", output.output)))}</pre>')
    if output.grade_id is None:
        return '<div class="cell">' + "".join(parts) + "</div>"
    cell = cells.get(output.grade_id)
    verdict = cell.verdict if cell else "not graded"
    maximum = f" of {_number(cell.max_points)}" if cell else ""
    parts.append(f'<p class="verdict"><b>{_e(output.grade_id)}</b>: '
                 f"{_number(scores.get(output.grade_id, 0.0))}{maximum} points. "
                 f"{_e(verdict)}</p>")
    return '<div class="cell graded">' + "".join(parts) + "</div>"


def _flag_list(flags):
    if not flags:
        return ""
    items = "".join(f"<li>{_e(flag)}</li>" for flag in flags)
    return f'<div class="flags"><p>Flags, for the instructor to read:</p><ul>{items}</ul></div>'


def _page(title, body):
    return PAGE.format(title=_e(title), style=STYLE, body="\n".join(part for part in body if part))


def _cut(text, limit=CUT_CHARACTERS):
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n… (cut: {len(text) - limit} more characters)"


def _e(text):
    return html.escape(str(text), quote=True)


def _number(value):
    return f"{float(value):g}"


def _text(value):
    """A text cell a spreadsheet will not take for a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _component(name, what):
    """``name`` if it is one plain path component (it becomes a file or folder name)."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise ValueError(f"{what} name {name!r} cannot be a file name; expected one plain "
                         f"path component. Rename the submission folder.")
    return name


def _write_atomically(path, text):
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with open(handle, "w", encoding="utf-8", errors="replace", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
