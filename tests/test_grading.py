"""Grading a class, end to end: the exercise edition built by nbgrader, students graded in
bubblewrap sandboxes by ``tools/course.py grade``, with the scores decided outside them.

One class, graded once (two at a time), holds every kind of student the grader must
handle. Each expectation follows from the source notebooks' own points:

* ``complete`` (all 14 notebooks): full marks; ``untouched`` (the exercise edition):
  0 on every graded cell;
* ``planted``: two planted mistakes (02 and 07), which lose exactly their cells;
* ``endless``: an exercise that never returns loses only its cell;
* ``warned``: a right answer that emits a ``RuntimeWarning`` keeps every point;
* ``cheater``: blank exercises plus every trick for unearned points on notebook 07
  (checkers redefined, the shared runner patched, ``NBGRADER_EXECUTION`` removed,
  an input transformer, the instructor's notebook read, graded cells removed or
  doubled): 0 points, and flags;
* ``borrower``: ``from tinynet import train_one_iter as my_train_one_iter``: flagged;
* ``vandal``: tries to harm the others (the gradebook, a classmate's notebook, the
  package, startup files, a detached process, 10 GiB, a fork loop, 100 MB of
  output, a ``<script>``, ``kill -1``): nothing outside its own output changes;
* ``copycat`` (a notebook that is a symlink) and ``mirror`` (a folder that is a
  symlink): refused, and the status says why;
* ``broken``: a notebook that is not JSON and one whose kernel dies: 0.
"""

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
NB07 = "07_training_sgd.ipynb"
NB02 = "02_fully_connected_and_relu.ipynb"

pytestmark = [
    pytest.mark.skipif(shutil.which("nbgrader", path=str(Path(sys.executable).parent)) is None,
                       reason="nbgrader is not installed (pip install -e '.[grading]')"),
    pytest.mark.skipif(shutil.which("bwrap") is None,
                       reason="bubblewrap is not installed (make sandbox)"),
]


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


def _cell(notebook, grade_id):
    return next(c for c in notebook["cells"] if _nbgrader(c).get("grade_id") == grade_id)


def _append_to(notebook, grade_id, code):
    cell = _cell(notebook, grade_id)
    cell["source"] = _source(cell) + "\n\n" + code
    return notebook


def _replace(notebook, grade_id, code):
    _cell(notebook, grade_id)["source"] = code
    return notebook


def _add_cell(notebook, code, at=None):
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": code}
    notebook["cells"].insert(len(notebook["cells"]) if at is None else at, cell)
    return notebook


def _tree_digest(folder):
    """Every path under ``folder`` with its kind, size, mtime and content hash."""
    listing = []
    for path in sorted(Path(folder).rglob("*")):
        info = path.lstat()
        content = (hashlib.sha256(path.read_bytes()).hexdigest()
                   if path.is_file() and not path.is_symlink() else os.readlink(path)
                   if path.is_symlink() else "")
        listing.append((str(path), info.st_mode, info.st_size, info.st_mtime_ns, content))
    return listing


PLANTED_07 = '''\
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

PLANTED_02 = '''\
def relu_backward(dout, x):
    return dout.copy()   # the planted mistake: the mask is forgotten
'''

ENDLESS_07 = '''\
def my_minibatches(n_samples, batch_size, rng):
    while True:   # never returns
        pass
'''

WARNED_07 = '''\
import warnings

_right_train_one_iter = my_train_one_iter


def my_train_one_iter(*args):
    warnings.warn("a stray warning from a right answer", RuntimeWarning)
    return _right_train_one_iter(*args)
'''

# Each solution cell of the cheater's 07 tries one way to earn points without the work.
CHEATS_07 = {
    "07_sgd_step": '''\
import os
os.environ.pop("NBGRADER_EXECUTION", None)   # "not attempted" no longer raises


def check_sgd_step(*args, **kwargs):          # the check cell now calls this
    print("my_sgd_step: PASS (4 cases)")


def my_sgd_step(params, grads, learning_rate, weight_decay):
    raise NotImplementedError()
''',
    "07_train_one_iter": '''\
import tinynet.exercises as _exercises
_exercises.check_function = lambda *args, **kwargs: _exercises.Verdict(True)


def my_train_one_iter(*args):
    raise NotImplementedError()
''',
    "07_minibatches": '''\
import json
try:   # run the instructor's own solutions
    for _cell in json.load(open("{root}/notebooks/07_training_sgd.ipynb"))["cells"]:
        if _cell.get("metadata", {{}}).get("nbgrader", {{}}).get("solution"):
            exec("".join(_cell["source"]))
except OSError as error:
    print("could not read the instructor's notebook:", error)
''',
    "07_sgd_step_weights_only": '''\
get_ipython().input_transformers_post.append(lambda lines: ["pass\\n"])
''',
}

BORROWED_07 = "from tinynet import train_one_iter as my_train_one_iter\n"

VANDAL_02 = '''\
import os, pathlib, sqlite3, subprocess, sys
report = []


def attempt(label, action):
    try:
        action()
        report.append(f"{{label}}: done")
    except BaseException as error:
        report.append(f"{{label}}: {{type(error).__name__}}")


for path in ("../../../gradebook.db", "{out}/gradebook.db"):
    attempt(f"gradebook {{path}}",
            lambda p=path: sqlite3.connect(p).execute("create table pwned (x)"))
for path in ("{submissions}/complete/{nb07}", "{out}/snapshot/complete/{nb07}",
             "{out}/work/complete/notebooks/{nb07}", "{root}/notebooks/{nb07}"):
    attempt(f"overwrite {{path}}", lambda p=path: open(p, "w").write("{{}}"))
import tinynet.exercises
attempt("package", lambda: open(tinynet.exercises.__file__, "a").write("\\nPWNED = 1\\n"))
attempt("source tree", lambda: open("{root}/tinynet/exercises/__init__.py", "a").write("\\n"))
for path in ("~/.ipython/profile_default/startup/00-pwned.py", "~/.jupyter/nbgrader_config.py"):
    target = pathlib.Path(path).expanduser()
    attempt(f"startup {{path}}", lambda t=target: (t.parent.mkdir(parents=True, exist_ok=True),
                                                 t.write_text("print('pwned')")))
attempt("host home", lambda: open("{home}/.ipython/pwned", "w").write("x"))
attempt("10 GiB", lambda: bytearray(10 * 2**30))
started = []


def fork_loop():
    for _ in range(2000):
        started.append(subprocess.Popen(["sleep", "30"]))


attempt("fork loop", fork_loop)
report.append(f"processes started: {{len(started)}}")
for child in started:
    child.kill()
    child.wait()
late = ("import os, time\\n"
        "time.sleep(4)\\n"
        "open('late.txt', 'w').write('still alive')\\n"
        "open('{out}/grades.csv', 'w').write('pwned')\\n")
attempt("daemon", lambda: subprocess.Popen([sys.executable, "-c", late], start_new_session=True))
print("<script>alert('pwned')</script><img src=x onerror=alert(1)>")
print("\\n".join(report))
sys.stdout.write("x" * 100_000_000 + "\\n")
'''

KILL_ALL = '''\
import os, signal
os.kill(-1, signal.SIGKILL)   # every process it may signal
'''


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Build the edition, write the class's submissions, grade them once (JOBS=2)."""
    work = tmp_path_factory.mktemp("grading")
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "course.py"), "exercises",
         "--into", str(work / "exercises"), "--course", str(work / "release_course")],
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    release = work / "exercises"
    submissions = work / "submissions"
    out = work / "grades"

    def student(name, notebooks):
        folder = submissions / name
        folder.mkdir(parents=True)
        for filename, notebook in notebooks.items():
            text = notebook if isinstance(notebook, str) else json.dumps(notebook)
            (folder / filename).write_text(text)

    complete = {p.name: _load(p) for p in NOTEBOOKS}
    student("complete", complete)
    student("untouched", {p.name: _load(release / p.name) for p in NOTEBOOKS})
    student("planted", {NB02: _append_to(_load(ROOT / "notebooks" / NB02), "02_relu_backward",
                                         PLANTED_02),
                        NB07: _append_to(_load(ROOT / "notebooks" / NB07), "07_train_one_iter",
                                         PLANTED_07)})
    student("endless", {NB07: _append_to(_load(ROOT / "notebooks" / NB07), "07_minibatches",
                                         ENDLESS_07)})
    student("warned", {NB07: _append_to(_load(ROOT / "notebooks" / NB07), "07_train_one_iter",
                                        WARNED_07)})
    cheat = _load(release / NB07)
    for grade_id, code in CHEATS_07.items():
        _replace(cheat, grade_id, code.format(root=ROOT))
    cheat["cells"].remove(_cell(cheat, "07_minibatches_check"))
    doubled = _cell(cheat, "07_sgd_step_check")
    cheat["cells"].insert(cheat["cells"].index(doubled), json.loads(json.dumps(doubled)))
    student("cheater", {NB07: cheat})
    student("borrower", {NB07: _replace(_load(release / NB07), "07_train_one_iter",
                                        BORROWED_07)})
    vandal = VANDAL_02.format(out=out, submissions=submissions, root=ROOT, nb07=NB07,
                              home=Path.home())
    student("vandal", {NB02: _add_cell(_load(release / NB02), vandal),
                       NB07: _add_cell(_load(release / NB07), KILL_ALL)})
    student("copycat", {})
    (submissions / "copycat" / NB07).symlink_to(submissions / "complete" / NB07)
    (submissions / "mirror").symlink_to(submissions / "complete")
    crashing = _load(NOTEBOOKS[0])
    setup = next(c for c in crashing["cells"] if c["cell_type"] == "code")
    setup["source"] = "import os\nos._exit(1)   # the kernel dies\n" + _source(setup)
    student("broken", {NOTEBOOKS[1].name: "{this is not a notebook",
                       NOTEBOOKS[0].name: crashing})

    before = _tree_digest(submissions)
    source_before = _tree_digest(ROOT / "tinynet")
    command = [sys.executable, str(ROOT / "tools" / "course.py"), "grade", str(submissions),
               "--out", str(out), "--secret", str(work / "secret"), "--jobs", "2",
               "--budget", "300"]
    began = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=2400)
    seconds = time.monotonic() - began
    assert done.returncode == 0, done.stdout + done.stderr
    grades = (out / "grades.csv").read_text()
    time.sleep(6)  # the vandal's daemon would have written by now
    with open(out / "grades.csv") as handle:
        rows = list(csv.DictReader(handle))
    return {"rows": rows, "out": out, "stdout": done.stdout, "release": release, "work": work,
            "grades_text": grades, "submissions": submissions, "before": before,
            "source_before": source_before, "command": command, "seconds": seconds}


def _rows(graded, student):
    return {row["notebook"]: row for row in graded["rows"] if row["student"] == student}


def _expected_points():
    return {p.stem: graded_cells(p) for p in NOTEBOOKS}


def _feedback(graded, student, stem):
    return (graded["out"] / "feedback" / student / f"{stem}.html").read_text()


def test_complete_edition_scores_full_marks(graded):
    rows = _rows(graded, "complete")
    for stem, cells in _expected_points().items():
        row = rows[stem]
        assert row["status"] == "graded", row
        for grade_id, points in cells.items():
            assert float(row[grade_id]) == points, (stem, grade_id, row[grade_id])
        assert float(row["score"]) == float(row["max_score"]) == sum(cells.values())
        assert row["flags"] == "", (stem, row["flags"])


def test_untouched_exercise_edition_scores_zero_everywhere(graded):
    rows = _rows(graded, "untouched")
    for stem, cells in _expected_points().items():
        row = rows[stem]
        assert row["status"] == "graded", row
        assert all(float(row[grade_id]) == 0.0 for grade_id in cells), (stem, row)
        assert float(row["score"]) == 0.0


def _only_lost(graded, student, lost):
    rows = _rows(graded, student)
    for stem, cells in _expected_points().items():
        if rows[stem]["status"] == "not handed in":
            assert float(rows[stem]["score"]) == 0.0
            continue
        for grade_id, points in cells.items():
            expected = 0.0 if grade_id in lost else points
            assert float(rows[stem][grade_id]) == expected, (student, stem, grade_id)


def test_planted_mistakes_lose_exactly_their_cells(graded):
    _only_lost(graded, "planted", {"02_relu_backward_check", "07_train_one_iter_check"})
    page = _feedback(graded, "planted", "07_training_sgd")
    assert "my_train_one_iter: FAIL" in page and "bias" in page


def test_an_endless_exercise_loses_only_its_cell(graded):
    _only_lost(graded, "endless", {"07_minibatches_check"})
    assert "did not return" in _feedback(graded, "endless", "07_training_sgd")


def test_a_warning_from_a_right_answer_costs_nothing(graded):
    row = _rows(graded, "warned")["07_training_sgd"]
    assert float(row["score"]) == float(row["max_score"]) == 8.0
    assert row["flags"] == ""


def test_the_cheater_scores_zero_and_is_flagged(graded):
    row = _rows(graded, "cheater")["07_training_sgd"]
    assert float(row["score"]) == 0.0, row
    flags = row["flags"]
    for expected in ("rebinds a checker", "patches tinynet", "touches the environment",
                     "reaches into the interpreter", "reaches files outside its folder",
                     "07_minibatches_check: graded cell missing",
                     "07_sgd_step_check: graded cell appears 2 times"):
        assert expected in flags, (expected, flags)
    page = _feedback(graded, "cheater", "07_training_sgd")
    assert "could not read the instructor" in page  # the source tree is not in the sandbox


def test_the_package_s_own_answer_is_flagged(graded):
    row = _rows(graded, "borrower")["07_training_sgd"]
    assert "07_train_one_iter: uses tinynet's own train_one_iter" in row["flags"], row


def test_the_vandal_changes_nothing_outside_its_own_output(graded):
    out = graded["out"]
    assert _tree_digest(graded["submissions"]) == graded["before"]
    assert _tree_digest(ROOT / "tinynet") == graded["source_before"]
    assert (out / "grades.csv").read_text() == graded["grades_text"]   # no late rewrite
    assert not (out / "work" / "vandal" / "late.txt").exists()          # the daemon is gone
    assert not (Path.home() / ".ipython" / "pwned").exists()
    assert not (Path.home() / ".ipython" / "profile_default" / "startup" / "00-pwned.py").exists()
    import sqlite3
    with sqlite3.connect(out / "gradebook.db") as db:
        tables = {name for (name,) in db.execute("select name from sqlite_master")}
    assert "pwned" not in tables
    site = out / "sandbox" / "site" / "tinynet" / "exercises" / "__init__.py"
    assert "PWNED" not in site.read_text()
    # what the vandal saw: each harm failed
    page = _feedback(graded, "vandal", "02_fully_connected_and_relu")
    for line in ("10 GiB: MemoryError", "package: PermissionError",
                 "source tree: FileNotFoundError", "host home: FileNotFoundError"):
        assert line in page, line
    started = int(re.search(r"processes started: (\d+)", page).group(1))
    assert started < 300
    harms = re.findall(r"^(gradebook|overwrite|package|source tree|host home|10 GiB)"
                       r"[^\n]*: (\w+)$", page, re.M)
    assert len(harms) == 10, harms
    assert all(outcome != "done" for _, outcome in harms), harms


def test_feedback_escapes_student_output_and_stays_small(graded):
    for path in (graded["out"] / "feedback").rglob("*.html"):
        assert path.stat().st_size < 2_000_000, path
    page = _feedback(graded, "vandal", "02_fully_connected_and_relu")
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert" in page


def test_no_student_process_outlives_grading(graded):
    leftovers = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if 61000 <= entry.stat().st_uid < 61002:  # slots 0 and 1 (JOBS=2)
                    leftovers.append((entry.name, (entry / "cmdline").read_bytes()[:80]))
            except OSError:
                continue
    assert not leftovers


def test_the_others_are_graded_despite_the_vandal_and_the_broken(graded):
    _only_lost(graded, "complete", set())
    rows = _rows(graded, "broken")
    assert all(float(row["score"]) == 0.0 for row in rows.values())
    assert rows[NOTEBOOKS[1].stem]["status"].startswith("refused: not a notebook")
    assert rows[NOTEBOOKS[0].stem]["status"] != "graded"


def test_symlinks_are_refused_and_the_status_says_why(graded):
    row = _rows(graded, "copycat")["07_training_sgd"]
    assert row["status"].startswith("refused") and "link" in row["status"], row
    assert float(row["score"]) == 0.0
    mirror = _rows(graded, "mirror")
    assert mirror and all("link" in row["status"] for row in mirror.values())


def test_grades_csv_has_a_row_per_student_and_notebook(graded):
    students = {row["student"] for row in graded["rows"]}
    assert students == {"complete", "untouched", "planted", "endless", "warned", "cheater",
                        "borrower", "vandal", "copycat", "mirror", "broken"}
    assert len(graded["rows"]) == len(students) * len(NOTEBOOKS)


def test_the_secret_is_not_in_anything_handed_out(graded):
    secret = (graded["work"] / "secret").read_bytes()
    assert len(secret) >= 16
    for folder in (graded["release"], ROOT / "tinynet", ROOT / "notebooks"):
        for path in Path(folder).rglob("*"):
            if path.is_file():
                assert secret not in path.read_bytes(), path


def test_a_second_run_keeps_every_finished_student(graded):
    """Resuming: results already saved are not graded again; a removed one is."""
    (graded["out"] / "results" / "planted.json").unlink()
    done = subprocess.run(graded["command"], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    kept = re.findall(r"^(\S+): graded in an earlier run, kept", done.stdout, re.M)
    assert "planted" not in kept and "complete" in kept and "vandal" in kept
    assert re.search(r"^planted: graded, \d+ points", done.stdout, re.M), done.stdout
    assert (graded["out"] / "grades.csv").read_text() == graded["grades_text"]


def test_unsandboxed_switch_grades_without_bubblewrap(tmp_path):
    """UNSANDBOXED=1 (--unsandboxed), for machines without bubblewrap: same scores."""
    submissions = tmp_path / "submissions" / "ada"
    submissions.mkdir(parents=True)
    shutil.copyfile(NOTEBOOKS[0], submissions / NOTEBOOKS[0].name)
    out = tmp_path / "grades"
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "course.py"), "grade", str(submissions.parent),
         "--out", str(out), "--secret", str(tmp_path / "secret"), "--jobs", "1",
         "--unsandboxed"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    with open(out / "grades.csv") as handle:
        row = next(r for r in csv.DictReader(handle) if r["notebook"] == NOTEBOOKS[0].stem)
    points = sum(graded_cells(NOTEBOOKS[0]).values())
    assert float(row["score"]) == float(row["max_score"]) == points


def test_without_bubblewrap_grading_stops_and_says_how_to_install_it(tmp_path):
    (tmp_path / "submissions" / "ada").mkdir(parents=True)
    bin_dir = tmp_path / "bin"  # a PATH with python and nothing else
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(sys.executable)
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "course.py"), "grade",
         str(tmp_path / "submissions"), "--out", str(tmp_path / "grades"),
         "--secret", str(tmp_path / "secret")],
        capture_output=True, text=True, timeout=120, env={"PATH": str(bin_dir)})
    assert done.returncode != 0
    assert "apt-get install bubblewrap" in done.stderr and "UNSANDBOXED=1" in done.stderr
    assert not (tmp_path / "grades" / "grades.csv").exists()
