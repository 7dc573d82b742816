"""grading.intake: the submissions snapshot, SUBMISSIONS only ever read."""

import hashlib
import json
import os
import stat
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from grading.intake import display_name, snapshot  # noqa: E402

SGD, OPT = "07_training_sgd.ipynb", "09_optimizers.ipynb"
COURSE = {SGD, OPT}
NOTEBOOK = json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "source": "x = 1",
                                  "outputs": [], "execution_count": None}],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


def notebook_of(size):
    """A valid notebook of exactly ``size`` bytes (padded with spaces)."""
    assert size >= len(NOTEBOOK)
    return NOTEBOOK[:-1] + b" " * (size - len(NOTEBOOK)) + b"}"


def write(path, data=NOTEBOOK):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def submissions(tmp_path):
    """A class with every kind of entry the intake refuses, next to good ones."""
    root = tmp_path / "submissions"
    write(root / "alice" / SGD)
    write(root / "alice" / "notes.txt", b"my notes")
    write(root / "alice" / ".ipynb_checkpoints" / SGD)
    write(root / "bob" / OPT)                                  # fine ...
    (root / "bob" / SGD).symlink_to(root / "alice" / SGD)      # ... but for one symlink
    (root / "carol").symlink_to(root / "alice")                # the whole folder a symlink
    write(root / "dave" / SGD)
    (root / "erin").mkdir()
    os.link(root / "dave" / SGD, root / "erin" / SGD)          # hard-linked between two
    write(root / "张三" / SGD)
    write(root / "frank" / SGD, b"{not json")
    write(root / "frank" / OPT, json.dumps({"nbformat": 3, "cells": []}).encode())
    write(root / "gina" / SGD, b"[1, 2]")
    write(root / "gina" / OPT, json.dumps({"nbformat": 4, "cells": [3]}).encode())
    (root / "hank" / SGD).mkdir(parents=True)                  # a folder named like a notebook
    os.mkfifo(root / "hank" / OPT)                             # a FIFO: must not hang
    write(root / ".hidden" / SGD)
    write(root / "with space" / SGD)
    write(root / "bell\x07" / SGD)
    write(root / "README.txt", b"not a student")
    return root


def by_student(intakes):
    return {intake.student: intake for intake in intakes}


def test_what_is_accepted_and_refused(submissions, tmp_path):
    into = tmp_path / "snapshot"
    intakes = snapshot(submissions, into, COURSE)
    names = sorted(os.listdir(submissions))
    assert len(intakes) == len(names) == 13
    assert [intake.student for intake in intakes] == [display_name(name) for name in names]
    students = by_student(intakes)

    alice = students["alice"]
    assert (alice.notebooks, alice.refused, alice.problem) == ([SGD], {}, None)
    assert alice.ignored == [".ipynb_checkpoints", "notes.txt"]
    assert (into / "alice" / SGD).read_bytes() == NOTEBOOK
    assert not (into / "alice" / "notes.txt").exists()

    bob = students["bob"]
    assert bob.notebooks == [OPT] and bob.refused == {SGD: "refused: a symbolic link"}
    assert not (into / "bob" / SGD).exists()

    assert students["carol"].problem == "refused: the student folder is a symbolic link"
    assert students["carol"].notebooks == [] and not (into / "carol").exists()

    assert students["dave"].refused == {
        SGD: f"refused: a hard link to the same file as erin's {SGD}"}
    assert students["erin"].refused == {
        SGD: f"refused: a hard link to the same file as dave's {SGD}"}

    assert students["张三"].notebooks == [SGD]
    assert (into / "张三" / SGD).read_bytes() == NOTEBOOK

    assert students["frank"].refused[SGD].startswith("not a notebook: not JSON (")
    assert students["frank"].refused[OPT] == "not a notebook: nbformat 3, expected 4"
    assert students["gina"].refused == {
        SGD: "not a notebook: a JSON list, not an object",
        OPT: "not a notebook: cell 1 is not a cell (cell_type, source, metadata)"}
    assert students["hank"].refused == {SGD: "refused: a folder",
                                        OPT: "refused: a named pipe (FIFO)"}

    assert students[".hidden"].problem == "refused: not a safe folder name: a hidden name"
    assert students["with space"].problem.startswith("refused: not a safe folder name: the "
                                                     "character ' '")
    assert students["bell\\x07"].problem == (
        "refused: not a safe folder name: a control character (\\x07) in the name")
    assert students["README.txt"].problem == "refused: a file, not a student folder"
    copied = sorted(str(p.relative_to(into)) for p in into.rglob("*") if p.is_file())
    assert copied == [f"alice/{SGD}", f"bob/{OPT}", f"张三/{SGD}"]


def listing(root):
    """Every entry under root: kind, mode, size, mtime, link target, content hash."""
    entries = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            info = os.lstat(path)
            content = None
            if stat.S_ISREG(info.st_mode):
                content = hashlib.sha256(Path(path).read_bytes()).hexdigest()
            elif stat.S_ISLNK(info.st_mode):
                content = os.readlink(path)
            entries[os.path.relpath(path, root)] = (
                info.st_mode, info.st_size, info.st_mtime_ns, info.st_ino, content)
    return entries


WRITES = {"os.mkdir", "os.chmod", "os.chown", "os.rename", "os.remove", "os.rmdir", "os.link",
          "os.symlink", "os.utime", "os.truncate", "os.chflags", "os.lchmod", "shutil.copyfile",
          "shutil.copymode", "shutil.copystat", "shutil.move", "shutil.rmtree"}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
recorded = None  # a list while a snapshot runs under the audit hook


def audit(event, args):
    if recorded is None:
        return
    if event == "open" and args[0] is not None:
        mode, flags = args[1], args[2]
        if (flags & WRITE_FLAGS) or (isinstance(mode, str) and set(mode) & set("wxa+")):
            recorded.append((event, os.fsdecode(args[0]) if not isinstance(args[0], int)
                             else args[0]))
    elif event in WRITES:
        recorded.append((event, os.fsdecode(args[0]) if not isinstance(args[0], int)
                         else args[0]))


sys.addaudithook(audit)


def test_submissions_are_only_read(submissions, tmp_path):
    global recorded
    into = tmp_path / "snapshot"
    before = listing(submissions)
    modes = {p: os.lstat(p).st_mode for p in [submissions, *submissions.rglob("*")]
             if not p.is_symlink()}
    for path in modes:
        os.chmod(path, stat.S_IMODE(modes[path]) & ~0o222)   # read-only for the run
    recorded = []
    try:
        intakes = snapshot(submissions, into, COURSE)
        writes, recorded = recorded, None
    finally:
        recorded = None
        for path, mode in modes.items():
            os.chmod(path, stat.S_IMODE(mode))
    assert by_student(intakes)["alice"].notebooks == [SGD]
    assert listing(submissions) == before
    # every write the snapshot made went, by absolute path, into the snapshot folder
    assert writes, "the audit hook saw no write at all: it is not working"
    outside = [(event, path) for event, path in writes
               if not (isinstance(path, str) and Path(path).is_relative_to(into))]
    assert outside == []


def test_a_notebook_of_exactly_max_bytes_passes_and_one_byte_more_does_not(tmp_path):
    root = tmp_path / "submissions"
    write(root / "exact" / SGD, notebook_of(1000))
    write(root / "over" / SGD, notebook_of(1001))
    students = by_student(snapshot(root, tmp_path / "snapshot", COURSE, max_bytes=1000))
    assert students["exact"].notebooks == [SGD]
    assert (tmp_path / "snapshot" / "exact" / SGD).stat().st_size == 1000
    assert students["over"].refused == {SGD: "refused: 1001 bytes, over the limit of 1000"}


def test_a_student_without_notebooks(tmp_path):
    root = tmp_path / "submissions"
    write(root / "ivan" / "essay.docx", b"...")
    (ivan,) = snapshot(root, tmp_path / "snapshot", COURSE)
    assert (ivan.student, ivan.notebooks, ivan.refused, ivan.ignored, ivan.problem) == (
        "ivan", [], {}, ["essay.docx"], None)


def test_the_snapshot_folder_must_be_fresh_and_outside(submissions, tmp_path):
    write(tmp_path / "used" / "old.txt", b"")
    with pytest.raises(ValueError, match="must be absent or empty"):
        snapshot(submissions, tmp_path / "used", COURSE)
    with pytest.raises(ValueError, match="outside the submissions folder"):
        snapshot(submissions, submissions / "alice" / "copy", COURSE)


def test_a_name_in_another_alphabet_with_a_combining_accent(tmp_path):
    root = tmp_path / "submissions"
    write(root / "Jose\u0301" / SGD)         # as macOS writes "José"
    write(root / "\u202eevil" / SGD)        # right-to-left override: spoofs the name shown
    students = by_student(snapshot(root, tmp_path / "snapshot", COURSE))
    assert students["Jose\u0301"].notebooks == [SGD]
    assert students["\\u202eevil"].problem == (
        "refused: not a safe folder name: a control character (\\u202e) in the name")
