"""The course as grading sees it: each notebook's graded cells, read from the source notebooks.

A graded cell of a source notebook starts with one call, such as
``check_train_one_iter(my_train_one_iter)``. That call names the checker and
the student's function. Grading replays exactly that checker, whatever the
student's copy of the cell says.
"""

import ast
import functools
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

KEY_WORDS = 8


@dataclass
class GradedCell:
    grade_id: str
    points: float
    checker: str      # "check_train_one_iter"
    function: str     # "my_train_one_iter": the name the student's notebook defines


@dataclass
class Notebook:
    stem: str         # "07_training_sgd"
    path: Path        # the instructor's source notebook
    graded: list = field(default_factory=list)

    @functools.cached_property
    def source(self):
        """The source notebook as JSON data, read once."""
        return json.loads(self.path.read_text())

    @property
    def points(self):
        return {cell.grade_id: cell.points for cell in self.graded}


def _nbgrader(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def checker_call(source):
    """``(checker, function)`` of a graded cell's first line, ``check_x(my_x)``."""
    first = source.split("### BEGIN HIDDEN TESTS")[0]
    tree = ast.parse(first)
    call = tree.body[0].value if tree.body and isinstance(tree.body[0], ast.Expr) else None
    if (not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name)
            or not call.func.id.startswith("check_") or len(call.args) != 1
            or not isinstance(call.args[0], ast.Name)):
        raise ValueError(f"a graded cell must start with check_<exercise>(<function>); "
                         f"got {first.strip()[:80]!r}")
    return call.func.id, call.args[0].id


def load_course(notebooks_dir):
    """The course's notebooks (``NN_*.ipynb``), in order, with their graded cells."""
    course = []
    for path in sorted(Path(notebooks_dir).glob("[0-9][0-9]_*.ipynb")):
        notebook = Notebook(path.stem, path)
        for cell in notebook.source["cells"]:
            meta = _nbgrader(cell)
            if meta.get("grade"):
                checker, function = checker_call("".join(cell["source"]))
                notebook.graded.append(GradedCell(meta["grade_id"], float(meta["points"]),
                                                  checker, function))
        course.append(notebook)
    return course


def package_files(package_dir):
    """The package's files, sorted, without byte-code caches."""
    return sorted(path for path in Path(package_dir).rglob("*")
                  if path.is_file() and "__pycache__" not in path.parts)


def course_fingerprint(course, package_dir):
    """A digest of the source notebooks and the package: a change means regrading."""
    digest = hashlib.sha256()
    for notebook in course:
        digest.update(notebook.path.name.encode())
        digest.update(notebook.path.read_bytes())
    for path in package_files(package_dir):
        digest.update(str(path.relative_to(package_dir)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def load_secret(path):
    """The course's grading secret, made (32 random bytes, owner-only) on first use.

    It decides the hidden cases every student is graded on. Keep it out of
    the course's repository and out of anything handed to students; a new
    secret simply gives new hidden cases.
    """
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(os.urandom(32))
        print(f"made a new grading secret: {path} (keep it private; it picks the hidden cases)")
    secret = path.read_bytes()
    if len(secret) < 16:
        raise SystemExit(f"the grading secret {path} is shorter than 16 bytes; delete it "
                         f"and a new one is made")
    return secret


def case_key(secret, student, grade_id):
    """The case key of one student's graded cell: 8 numbers from HMAC-SHA256."""
    digest = hmac.new(secret, f"{student}\0{grade_id}".encode(), hashlib.sha256).digest()
    return [int.from_bytes(digest[4 * k:4 * k + 4], "little") for k in range(KEY_WORDS)]
