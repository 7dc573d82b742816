"""Grade a class: snapshot, sandbox each student, replay their records, report.

The trusted parent (this module) is the only process that decides a score
or writes an output. For each student it does the following:

1. It takes the snapshot :mod:`grading.intake` made (symlinks, non-regular
   files and oversize notebooks refused).
2. It lays out a fresh work folder: the student's notebooks and a plan that
   names each graded cell's checker, the student's function and a case key
   (HMAC of the course secret, the student and the cell).
3. It runs :mod:`grading.runner` in a bubblewrap sandbox (:mod:`grading.sandbox`).
   In there, tinynet is a read-only copy and the study cache is read-only.
   The student has a fresh HOME, no network and one wall-clock budget.
4. It replays every record with :func:`tinynet.exercises.recording.replay`.
   The checker's own comparison runs here, on answers the student's code
   wrote down in the sandbox, so a record either holds the right answers to
   cases drawn after the student handed in, or it scores 0.
5. It flags what an instructor should read by hand (:mod:`grading.flags`)
   and saves the student's result. An interrupted run resumes from the saved
   results.

Once every student's processes are gone, it writes the gradebook,
grades.csv and the feedback (:mod:`grading.report`).
"""

import compileall
import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tinynet.exercises.recording import MAX_RECORD_BYTES, replay

from . import flags as flagging
from . import intake, report, sandbox
from .course import case_key, course_fingerprint, load_course, load_secret, package_files
from .results import CellOutput, CellResult, NotebookResult, StudentResult

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "tinynet"
RUNNER = Path(__file__).with_name("runner.py")

CELL_TIMEOUT_S = 120
STUDENT_BUDGET_S = 600
MAX_OUTPUT_CHARS = 20_000
MAX_OUTPUTS_BYTES = 64 * 2**20

_replaying = threading.Lock()  # replay swaps module state and stdout: one at a time


@dataclasses.dataclass
class Settings:
    out: Path
    secret: bytes
    jobs: int = 1
    sandboxed: bool = True
    cell_timeout: int = CELL_TIMEOUT_S
    budget: float = STUDENT_BUDGET_S
    memory_bytes: int = sandbox.DEFAULT_MEMORY_BYTES
    cache: Path | None = None     # the study cache: filled once, mounted read-only


def prepare_site(out):
    """A read-only copy of tinynet and the runner for the sandboxes: never the source tree."""
    site = out / "sandbox" / "site"
    if site.exists():
        shutil.rmtree(site)
    for path in package_files(PACKAGE):
        target = site / "tinynet" / path.relative_to(PACKAGE)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    shutil.copyfile(RUNNER, site / "grading_runner.py")
    compileall.compile_dir(str(site), quiet=1)
    for path in [site, *site.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return site


def student_plan(student, notebooks, course, secret, settings):
    by_stem = {notebook.stem: notebook for notebook in course}
    entries = []
    for name in notebooks:
        notebook = by_stem[name[:-len(".ipynb")]]
        entries.append({"stem": notebook.stem, "file": f"notebooks/{name}", "graded": [
            {"grade_id": cell.grade_id, "checker": cell.checker, "function": cell.function,
             "key": case_key(secret, student, cell.grade_id)} for cell in notebook.graded]})
    return {"notebooks": entries, "cell_timeout": settings.cell_timeout,
            "max_output_chars": MAX_OUTPUT_CHARS}


def _read_untrusted(path, limit):
    """The bytes of a file the sandbox wrote, at most ``limit + 1`` of them (so that the
    caller sees it is too long); None when it is missing or a link."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as handle:
        return handle.read(limit + 1)


def _read_untrusted_json(path, limit):
    """JSON the sandbox wrote, or None: never more than ``limit`` bytes, never a link."""
    data = _read_untrusted(path, limit)
    if data is None or len(data) > limit:
        return None
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None


def _outputs(path):
    """The feedback's cells from the runner's outputs file (untrusted), and its status."""
    data = _read_untrusted_json(path, MAX_OUTPUTS_BYTES)
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return None, []
    cells = []
    for cell in data["cells"]:
        if not isinstance(cell, dict):
            continue
        source, output = cell.get("source"), cell.get("output")
        grade_id = cell.get("grade_id")
        cells.append(CellOutput(
            str(source)[:MAX_OUTPUT_CHARS], str(output)[:MAX_OUTPUT_CHARS],
            grade_id if isinstance(grade_id, str) else None))
    status = data.get("status")
    return (status[:200] if isinstance(status, str) else None), cells


def grade_student(entry, course, settings, site, slot):
    """Grade one student (an :class:`grading.intake.Intake`); their :class:`StudentResult`."""
    began = time.monotonic()
    student = entry.student
    work = settings.out / "work" / student
    snapshot = settings.out / "snapshot" / student
    finished = None
    if entry.notebooks and not entry.problem:
        if work.exists():
            shutil.rmtree(work)
        (work / "notebooks").mkdir(parents=True)
        (work / "home").mkdir()
        for name in entry.notebooks:
            shutil.copyfile(snapshot / name, work / "notebooks" / name)
        # Figures are not graded and the feedback shows text only: the kernel
        # skips drawing them (PNG rendering is much of a notebook's run time).
        profile = work / "home" / ".ipython" / "profile_default"
        profile.mkdir(parents=True)
        (profile / "ipython_kernel_config.py").write_text(
            "c.InlineBackend.figure_formats = set()\n")
        if settings.cache is not None and (settings.cache / "matplotlib").is_dir():
            shutil.copytree(settings.cache / "matplotlib", work / "home" / ".mplconfig")
        plan = student_plan(student, entry.notebooks, course, settings.secret, settings)
        (work / "plan.json").write_text(json.dumps(plan))
        log = settings.out / "logs" / f"{student}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        inside = "/grading" if settings.sandboxed else str(work)
        # Sandboxed, these are bound read-only where the command looks for them;
        # unsandboxed (the unsafe switch) the command uses the host paths.
        # The environment goes to /opt/venv: its own folder may be under /tmp, which
        # is a fresh tmpfs inside the sandbox.
        read_only = [(str(site), "/opt/tinynet"), (sys.prefix, "/opt/venv")]
        env = {"PYTHONPATH": "/opt/tinynet" if settings.sandboxed else str(site),
               "MPLCONFIGDIR": f"{inside}/home/.mplconfig", **_kernel_env()}
        if settings.cache is not None:
            read_only.append((str(settings.cache), "/opt/tinynet-cache"))
            env["TINYNET_CACHE_DIR"] = ("/opt/tinynet-cache" if settings.sandboxed
                                        else str(settings.cache))
            env["TINYNET_CACHE_READONLY"] = "1"
        runner = ("/opt/tinynet/grading_runner.py" if settings.sandboxed
                  else str(site / "grading_runner.py"))
        limits = sandbox.Limits(memory_bytes=settings.memory_bytes,
                                wall_seconds=settings.budget)
        python = "/opt/venv/bin/python" if settings.sandboxed else sys.executable
        finished = sandbox.run([python, "-s", runner, f"{inside}/plan.json"],
                               work=work, read_only=read_only if settings.sandboxed else (),
                               env=env, limits=limits,
                               slot=slot, log=str(log), sandboxed=settings.sandboxed)
    result = StudentResult(student, "graded" if entry.notebooks else "no notebooks", 0.0)
    if entry.problem:
        result.status = f"refused: {entry.problem}"
    elif finished is not None and finished.timed_out:
        result.status = f"stopped after {settings.budget:g} s (time budget)"
    for notebook in course:
        name = notebook.stem + ".ipynb"
        reason = entry.problem or entry.refused.get(name)
        if reason:
            nb_result = NotebookResult(notebook.stem, reason if reason.startswith("refused")
                                       else f"refused: {reason}")
        elif name not in entry.notebooks:
            nb_result = NotebookResult(notebook.stem, "not handed in")
        else:
            nb_result = _grade_notebook(work, snapshot / name, notebook, student, settings,
                                        finished)
        for cell in notebook.graded:
            nb_result.cells.setdefault(cell.grade_id, CellResult(
                cell.grade_id, 0.0, cell.points, nb_result.status))
        result.notebooks[notebook.stem] = nb_result
    result.seconds = time.monotonic() - began
    return result


def _grade_notebook(work, snapshot_path, notebook, student, settings, finished):
    status, outputs = _outputs(work / "outputs" / f"{notebook.stem}.json")
    if status is None:
        status = ("stopped: the time budget ran out before this notebook"
                  if finished is not None and finished.timed_out else "not run")
    elif status == "ran":
        status = "graded"
    result = NotebookResult(notebook.stem, status, outputs=outputs)
    for cell in notebook.graded:
        data = _read_untrusted(work / "records" / notebook.stem / f"{cell.grade_id}.json",
                               MAX_RECORD_BYTES)  # replay refuses a longer one
        if data is None:
            passed, verdict = False, f"{cell.function}: not graded: no record ({status})"
        else:
            with _replaying:
                passed, verdict = replay(cell.checker, cell.function,
                                         case_key(settings.secret, student, cell.grade_id),
                                         data)
        result.cells[cell.grade_id] = CellResult(cell.grade_id,
                                                 cell.points if passed else 0.0,
                                                 cell.points, verdict)
    try:
        student_nb = json.loads(snapshot_path.read_bytes())
        result.flags = flagging.notebook_flags(student_nb, notebook.source)
    except (ValueError, RecursionError):
        pass
    return result


# -- the study cache ------------------------------------------------------------------------

def fill_cache(settings, course, site, digest):
    """Run the instructor's complete notebooks once, storing their studies in the cache.

    Every student's notebooks then read these results (read-only) instead of
    training the same networks again: see :mod:`tinynet.cache`. These are the
    instructor's own notebooks, trusted, so they run outside the sandbox, as
    ``jobs`` processes sharing the notebooks out. Nothing is graded here.
    """
    cache = settings.cache
    marker = cache / f"filled-{digest[:16]}"
    if marker.exists():
        return
    began = time.monotonic()
    cache.mkdir(parents=True, exist_ok=True)
    filling = settings.out / "cache-fill"
    if filling.exists():
        shutil.rmtree(filling)
    groups = [course[k::settings.jobs] for k in range(settings.jobs)]
    processes = []
    for k, group in enumerate(groups):
        if not group:
            continue
        work = filling / str(k)
        (work / "notebooks").mkdir(parents=True)
        for notebook in group:
            shutil.copyfile(notebook.path, work / "notebooks" / notebook.path.name)
        plan = {"notebooks": [{"stem": nb.stem, "file": f"notebooks/{nb.path.name}",
                               "graded": []} for nb in group],
                "cell_timeout": settings.cell_timeout, "max_output_chars": 1000}
        (work / "plan.json").write_text(json.dumps(plan))
        env = dict(os.environ, PYTHONPATH=str(site), TINYNET_CACHE_DIR=str(cache),
                   **_kernel_env())
        env.pop("TINYNET_CACHE_READONLY", None)
        log = open(settings.out / "logs" / f"cache-fill-{k}.log", "w")
        processes.append((subprocess.Popen(
            [sys.executable, "-s", str(site / "grading_runner.py"), str(work / "plan.json")],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=work), log))
    for process, log in processes:
        process.wait()
        log.close()
    _warm_matplotlib(cache / "matplotlib")
    marker.touch()
    print(f"study cache filled from the complete notebooks in {time.monotonic() - began:.0f} s: "
          f"{cache}", flush=True)


def _warm_matplotlib(folder):
    """A matplotlib config folder with its font list built, copied into each student's HOME.

    Each fresh HOME would otherwise rebuild the font cache (a few seconds).
    """
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"],
                   env=dict(os.environ, MPLCONFIGDIR=str(folder)), check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)


def _kernel_env():
    """What every notebook runs with while grading (students and the cache fill alike)."""
    return {"PYTHONDONTWRITEBYTECODE": "1", "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1", "MPLBACKEND": "agg",
            "PYTHONWARNINGS": "ignore:FigureCanvasAgg is non-interactive",
            "NBGRADER_EXECUTION": "autograde"}


# -- the class ----------------------------------------------------------------------------

def _save(path, result, fingerprint):
    data = {"fingerprint": fingerprint, "result": dataclasses.asdict(result)}
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(data))
    os.replace(temporary, path)


def _load(path, fingerprint):
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if data.get("fingerprint") != fingerprint:
        return None
    raw = data["result"]
    notebooks = {}
    for stem, nb in raw["notebooks"].items():
        notebooks[stem] = NotebookResult(
            nb["name"], nb["status"],
            {k: CellResult(**c) for k, c in nb["cells"].items()},
            [CellOutput(**o) for o in nb["outputs"]], list(nb["flags"]))
    return StudentResult(raw["student"], raw["status"], raw["seconds"], notebooks)


def _student_fingerprint(course_digest, settings, out, entry):
    digest = hashlib.sha256(course_digest.encode())
    digest.update(hashlib.sha256(settings.secret).digest())
    digest.update(json.dumps([entry.notebooks, entry.refused, entry.problem,
                              settings.cell_timeout, settings.budget]).encode())
    for name in entry.notebooks:
        digest.update((out / "snapshot" / entry.student / name).read_bytes())
    return digest.hexdigest()


def grade_class(submissions, settings, notebooks_dir=ROOT / "notebooks"):
    """Grade every student folder in ``submissions``; write grades.csv and feedback."""
    started = time.monotonic()
    out = settings.out
    course = load_course(notebooks_dir)
    names = {notebook.path.name for notebook in course}
    if settings.sandboxed:
        sandbox.check_available()
    snapshot_dir = out / "snapshot"
    if snapshot_dir.exists():
        shutil.rmtree(snapshot_dir)
    entries = intake.snapshot(submissions, snapshot_dir, names)
    if not entries:
        raise SystemExit(f"{submissions} holds no student folders; put each student's "
                         f"notebooks in SUBMISSIONS/<student id>/.")
    site = prepare_site(out)
    course_digest = course_fingerprint(course, PACKAGE)
    (out / "logs").mkdir(parents=True, exist_ok=True)
    if settings.cache is not None:
        fill_cache(settings, course, site, course_digest)
    saved = out / "results"
    saved.mkdir(parents=True, exist_ok=True)
    results, todo = {}, []
    for entry in entries:
        fingerprint = _student_fingerprint(course_digest, settings, out, entry)
        earlier = None if entry.problem else _load(saved / f"{entry.student}.json", fingerprint)
        if earlier is not None:
            results[entry.student] = earlier
            print(f"{entry.student}: graded in an earlier run, kept", flush=True)
        else:
            todo.append((entry, fingerprint))

    slots = list(range(settings.jobs))
    slot_lock = threading.Lock()

    def work(item):
        entry, fingerprint = item
        with slot_lock:
            slot = slots.pop()
        try:
            result = grade_student(entry, course, settings, site, slot)
        finally:
            with slot_lock:
                slots.append(slot)
        if not entry.problem:
            _save(saved / f"{entry.student}.json", result, fingerprint)
        points = sum(c.points for nb in result.notebooks.values() for c in nb.cells.values())
        print(f"{entry.student}: {result.status}, {points:g} points in {result.seconds:.0f} s",
              flush=True)
        return result

    with ThreadPoolExecutor(max_workers=settings.jobs) as pool:
        for result in pool.map(work, todo):
            results[result.student] = result
    ordered = [results[entry.student] for entry in entries]
    table = [(notebook.stem, notebook.points) for notebook in course]
    scores = report.update_gradebook(out / "gradebook.db", ordered, table)
    report.write_grades_csv(out / "grades.csv", ordered, table, scores)
    feedback = out / "feedback"
    if feedback.exists():
        shutil.rmtree(feedback)
    for result in ordered:
        try:
            report.write_feedback(feedback, result, course=table, gradebook_scores=scores)
        except ValueError as error:  # a name that cannot be a file name: grades.csv has it
            print(f"{result.student}: no feedback page ({error})")
    report.print_summary(ordered, table, gradebook_scores=scores)
    print(f"grades:   {out / 'grades.csv'}")
    print(f"feedback: {feedback}/<student>/index.html")
    print(f"graded {len(ordered)} students in {time.monotonic() - started:.0f} s "
          f"(JOBS={settings.jobs})")
    return ordered


def settings_from(out, secret_path, **options):
    return Settings(out=Path(out), secret=load_secret(secret_path), **options)
