"""The exercise edition (built by nbgrader) and the grading of a class.

    python tools/course.py exercises [--into exercises]
    python tools/course.py grade SUBMISSIONS [--out build/grades] [--jobs N]

The notebooks in ``notebooks/`` are the complete edition *and* nbgrader's
source notebooks: solution regions between ``### BEGIN SOLUTION`` and
``### END SOLUTION``, and graded check cells with points and a ``grade_id``.

* ``exercises``: ``nbgrader generate_assignment`` writes the exercise
  edition (solutions replaced by stubs, outputs cleared) into a course
  folder under ``build/``, and the notebooks are copied to ``exercises/`` for
  the student. A notebook already there is never overwritten: it may hold
  the student's work.
* ``grade``: SUBMISSIONS holds one folder per student with that student's
  notebooks under their course names. Each student is graded in a
  bubblewrap sandbox, and every score is decided outside it: see
  ``tools/grading/`` (its ``__init__`` lists the pieces). Writes
  ``grades.csv``, nbgrader's ``gradebook.db`` (automatic scores only: your
  manual scores and extra credit stay) and HTML feedback per student.
"""

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from grading import autograde, sandbox

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
ASSIGNMENT = "tinynet"
COURSE_ID = "tinynet"

# A cell that runs longer than this is interrupted and scores 0 (the longest
# cell of the course, a training run in 07 or 08, takes a few seconds).
CELL_TIMEOUT_S = 120

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


def default_jobs():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


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
    marks.add_argument("--secret", type=Path, default=ROOT / "build" / "grading-secret",
                       help="the course's grading secret, made on first use (default: "
                            "build/grading-secret); it picks the hidden cases")
    marks.add_argument("--jobs", type=int, default=default_jobs(),
                       help="students graded at once (default: the number of cores)")
    marks.add_argument("--cell-timeout", type=int, default=autograde.CELL_TIMEOUT_S,
                       help=f"seconds before a cell is interrupted (default: "
                            f"{autograde.CELL_TIMEOUT_S})")
    marks.add_argument("--budget", type=float, default=autograde.STUDENT_BUDGET_S,
                       help=f"seconds for one student, all notebooks; then every process "
                            f"of theirs is stopped (default: {autograde.STUDENT_BUDGET_S})")
    marks.add_argument("--memory-gb", type=float, default=4.0,
                       help="memory limit of each student's processes (default: 4)")
    marks.add_argument("--cache", type=Path, default=ROOT / "build" / "study-cache",
                       help="where the studies of the complete notebooks are stored once "
                            "and read by every student (default: build/study-cache/)")
    marks.add_argument("--unsandboxed", action="store_true",
                       help="grade without bubblewrap: UNSAFE, student code runs with your "
                            "rights (only for trusted notebooks, e.g. your own tests)")
    args = parser.parse_args(argv)
    if args.command == "exercises":
        exercises(args.into.resolve(), args.course.resolve())
        return
    for option, value, least in (("--cell-timeout", args.cell_timeout, 1),
                                 ("--jobs", args.jobs, 1), ("--budget", args.budget, 1),
                                 ("--memory-gb", args.memory_gb, 0.5)):
        if value < least:
            parser.error(f"{option} must be at least {least}; got {value}")
    submissions = args.submissions.expanduser().resolve()
    if not submissions.is_dir():
        sys.exit(f"SUBMISSIONS must be a folder with one subfolder per student; "
                 f"got {submissions}. Example: make grade SUBMISSIONS=~/submissions")
    settings = autograde.settings_from(
        args.out.resolve(), args.secret.expanduser().resolve(), jobs=args.jobs,
        sandboxed=not args.unsandboxed, cell_timeout=args.cell_timeout, budget=args.budget,
        memory_bytes=int(args.memory_gb * 2**30), cache=args.cache.expanduser().resolve())
    try:
        autograde.grade_class(submissions, settings)
    except sandbox.SandboxUnavailable as error:
        sys.exit(str(error))


if __name__ == "__main__":
    main()
