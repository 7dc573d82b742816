"""The exercise edition and its grading, done by nbgrader.

    python tools/course.py exercises [--into exercises]
    python tools/course.py grade SUBMISSIONS [--out build/grades]

The notebooks in ``notebooks/`` are the complete edition *and* nbgrader's
source notebooks: solution regions between ``### BEGIN SOLUTION`` and
``### END SOLUTION``, graded check cells with points and a ``grade_id``,
hidden tests between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``.
This script only lays out the folders nbgrader expects and runs nbgrader:

* ``exercises``: ``nbgrader generate_assignment`` writes the exercise
  edition (solutions replaced by stubs, outputs cleared, hidden tests
  removed) into a course folder under ``build/``, and the notebooks are
  copied to ``exercises/`` for the student. A notebook already there is never
  overwritten: it may hold the student's work.
* ``grade``: SUBMISSIONS holds one folder per student with that student's
  notebooks under their course names. Each student is autograded by
  ``nbgrader autograde`` in a process of its own (a broken submission cannot
  stop the others), with a time limit per cell; then ``nbgrader
  generate_feedback`` writes HTML feedback, and the points of every graded
  cell are read from nbgrader's gradebook into ``grades.csv``.
"""

import argparse
import csv
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
ASSIGNMENT = "tinynet"
COURSE_ID = "tinynet"

# A cell that runs longer than this is interrupted and scores 0 (the longest
# cell of the course, a training run in 07 or 08, takes a few seconds).
CELL_TIMEOUT_S = 120
# A whole student: every notebook of the course, with room for a few cells
# that run into the per-cell limit.
STUDENT_TIMEOUT_S = 1800

CONFIG = f'''\
# Written by tools/course.py; rebuilt on every run.
c = get_config()
c.CourseDirectory.course_id = "{COURSE_ID}"
c.CourseDirectory.root = {{root!r}}
# Autograding: interrupt a cell after this many seconds (it then scores 0).
c.Execute.timeout = {{timeout}}
c.Execute.interrupt_on_timeout = True
'''


def course_notebooks():
    """The course's notebooks, in order: ``notebooks/NN_*.ipynb``."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def nbgrader(course, *args, timeout=600, log=None):
    """Run ``nbgrader ARGS`` in the course folder; return the finished process.

    nbgrader runs helper programs (``alembic``) from ``PATH`` and kernels
    with the Python it runs under, so the virtual environment's ``bin`` goes
    first on ``PATH``. Output goes to ``log`` (a file) when given.
    """
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    command = [str(bin_dir / "nbgrader"), *args]
    with open(log or os.devnull, "a") as out:
        return subprocess.run(command, cwd=course, env=env, stdout=out,
                              stderr=subprocess.STDOUT, timeout=timeout, check=False)


def build_course(course, cell_timeout=CELL_TIMEOUT_S):
    """A fresh nbgrader course folder with the course notebooks as its source,
    and the exercise edition generated in ``course/release/tinynet``."""
    if course.exists():
        shutil.rmtree(course)
    source = course / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    config = CONFIG.format(root=str(course), timeout=int(cell_timeout))
    (course / "nbgrader_config.py").write_text(config)
    for notebook in course_notebooks():
        shutil.copy2(notebook, source / notebook.name)
    log = course / "nbgrader.log"
    done = nbgrader(course, "generate_assignment", ASSIGNMENT, "--force", log=log)
    release = course / "release" / ASSIGNMENT
    if done.returncode != 0 or not release.is_dir():
        sys.exit(f"nbgrader generate_assignment failed; see {log}")
    return release


def exercises(into, course):
    release = build_course(course)
    into.mkdir(parents=True, exist_ok=True)
    kept = []
    for notebook in sorted(release.glob("*.ipynb")):
        target = into / notebook.name
        if target.exists():
            kept.append(target.name)
        else:
            shutil.copy2(notebook, target)
    print(f"exercise edition: {release}")
    print(f"your copy:        {into}")
    if kept:
        print(f"kept the copies already there (they may hold your work): {', '.join(kept)}; "
              f"delete one and run `make exercises` again for a fresh copy")


def read_grades(course, students, submitted):
    """Rows of grades.csv from nbgrader's gradebook: one per student and notebook.

    ``students`` maps each student to the status of their autograding,
    ``submitted`` to the notebook names they handed in (nbgrader records a
    notebook that was not handed in as graded with 0 points).
    """
    from nbgrader.api import Gradebook, MissingEntry

    rows, cells = [], []
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gradebook:
        assignment = gradebook.find_assignment(ASSIGNMENT)
        notebooks = sorted(assignment.notebooks, key=lambda nb: nb.name)
        for notebook in notebooks:
            cells += [cell.name for cell in sorted(notebook.grade_cells, key=lambda c: c.name)]
        for student, status in students.items():
            for notebook in notebooks:
                row = {"student": student, "notebook": notebook.name}
                try:
                    submission = gradebook.find_submission_notebook(
                        notebook.name, ASSIGNMENT, student)
                except MissingEntry:
                    submission = None
                max_score = sum(cell.max_score for cell in notebook.grade_cells)
                if notebook.name + ".ipynb" not in submitted[student]:
                    row.update(score=0.0, max_score=max_score, status="not handed in")
                elif submission is None:
                    row.update(score=0.0, max_score=max_score, status=f"not graded ({status})")
                else:
                    grades = {grade.name: grade for grade in submission.grades}
                    for name, grade in grades.items():
                        row[name] = grade.score
                    graded = all(g.auto_score is not None or g.manual_score is not None
                                 for g in grades.values())
                    row.update(score=float(submission.score), max_score=max_score,
                               status="graded" if graded else f"not graded ({status})")
                rows.append(row)
    return rows, ["student", "notebook", "score", "max_score", "status", *cells]


def autograde(course, student, log, notebook=None):
    """``nbgrader autograde`` for one student (or one of their notebooks); its status."""
    only = [f"--notebook={notebook}"] if notebook else []
    try:
        done = nbgrader(course, "autograde", ASSIGNMENT, "--force", f"--student={student}",
                        *only, timeout=STUDENT_TIMEOUT_S, log=log)
    except subprocess.TimeoutExpired:
        return f"stopped after {STUDENT_TIMEOUT_S} s, see {log}"
    return "graded" if done.returncode == 0 else f"grader error, see {log}"


def grade(submissions, out, cell_timeout=CELL_TIMEOUT_S):
    if not submissions.is_dir():
        sys.exit(f"SUBMISSIONS must be a folder with one subfolder per student; "
                 f"got {submissions}. Example: make grade SUBMISSIONS=~/submissions")
    names = {nb.name for nb in course_notebooks()}
    students = sorted(p for p in submissions.iterdir() if p.is_dir())
    if not students:
        sys.exit(f"{submissions} holds no student folders; put each student's notebooks "
                 f"in SUBMISSIONS/<student id>/.")
    out.mkdir(parents=True, exist_ok=True)
    course = out / "course"
    started = time.monotonic()
    build_course(course, cell_timeout)
    shutil.rmtree(out / "logs", ignore_errors=True)
    status, submitted = {}, {}
    for folder in students:
        student = folder.name
        target = course / "submitted" / student / ASSIGNMENT
        target.mkdir(parents=True)
        found = sorted(p.name for p in folder.glob("*.ipynb") if p.name in names)
        ignored = sorted(p.name for p in folder.iterdir() if p.name not in names)
        submitted[student] = found
        for name in found:
            shutil.copy2(folder / name, target / name)
        note = f" (ignored: {', '.join(ignored)})" if ignored else ""
        print(f"{student}: {len(found)} of {len(names)} notebooks{note}", flush=True)
        if not found:
            status[student] = "no notebooks"
            continue
        log = out / "logs" / f"{student}.log"
        log.parent.mkdir(exist_ok=True)
        begin = time.monotonic()
        status[student] = autograde(course, student, log)
        if status[student] != "graded" and len(found) > 1:
            # nbgrader stops at a student's first unreadable notebook: grade
            # the others one by one so that they still count.
            for name in found:
                autograde(course, student, log, notebook=name[:-len(".ipynb")])
        nbgrader(course, "generate_feedback", ASSIGNMENT, "--force", f"--student={student}",
                 log=log)
        print(f"{student}: {status[student]} in {time.monotonic() - begin:.0f} s", flush=True)
    rows, columns = read_grades(course, status, submitted)
    with open(out / "grades.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    feedback = out / "feedback"
    if feedback.exists():
        shutil.rmtree(feedback)
    if (course / "feedback").is_dir():
        shutil.copytree(course / "feedback", feedback)
    for student in status:
        total = sum(r["score"] for r in rows if r["student"] == student)
        maximum = sum(r["max_score"] for r in rows if r["student"] == student)
        print(f"{student}: {total:g} of {maximum:g} points")
    print(f"grades:   {out / 'grades.csv'}")
    print(f"feedback: {feedback}/<student>/{ASSIGNMENT}/<notebook>.html")
    print(f"graded {len(status)} students in {time.monotonic() - started:.0f} s")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("exercises", help="build the exercise edition with nbgrader")
    build.add_argument("--into", type=Path, default=ROOT / "exercises",
                       help="where the student's copy goes (default: exercises/)")
    build.add_argument("--course", type=Path, default=ROOT / "build" / "nbgrader",
                       help="nbgrader's course folder (default: build/nbgrader/)")
    marks = commands.add_parser("grade", help="autograde a folder of submissions")
    marks.add_argument("submissions", type=Path)
    marks.add_argument("--out", type=Path, default=ROOT / "build" / "grades",
                       help="grades.csv, feedback and logs (default: build/grades/)")
    marks.add_argument("--cell-timeout", type=int, default=CELL_TIMEOUT_S,
                       help=f"seconds before a cell is interrupted and scores 0 "
                            f"(default: {CELL_TIMEOUT_S})")
    args = parser.parse_args(argv)
    if args.command == "exercises":
        exercises(args.into.resolve(), args.course.resolve())
    else:
        if args.cell_timeout < 1:
            parser.error(f"--cell-timeout must be at least 1 second; got {args.cell_timeout}")
        grade(args.submissions.expanduser().resolve(), args.out.resolve(), args.cell_timeout)


if __name__ == "__main__":
    main()
