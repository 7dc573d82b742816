"""Snapshot the submissions before anything runs: bytes copied, the SUBMISSIONS folder only read.

``snapshot(submissions, into, course_names)`` looks at each entry of
``submissions`` (one folder per student, sorted by name) and copies the
course notebooks it accepts to ``into/<student>/<name>``. Everything later
(flags, the sandboxed run, the report) reads the snapshot, never the
submissions, so a student cannot change a file between two looks at it.

What is refused, and why (the reason is the notebook's status in grades.csv):

* a student folder that is a symbolic link, or not a folder at all, or whose
  name is not a safe folder name (hidden, path separators, control or format
  characters, spaces; letters of any script, digits and ``._-@+`` are kept):
  ``Intake.problem``, and nothing of that folder is read;
* a course notebook that is a symbolic link, a folder, a FIFO, a device or a
  socket; larger than ``max_bytes``; not UTF-8 JSON; not an nbformat-4
  notebook (a dict with ``"nbformat": 4`` and a list of cells, each a dict
  with a ``cell_type`` and a ``source``);
* a hard link shared between two students' notebooks (same device and inode):
  **both** are refused, each naming the other. Submissions are read in
  alphabetical order, which says nothing about who copied from whom, so
  neither gets the other's work graded; the instructor reads the two by hand.
  A file with other names outside the submissions is accepted: its bytes are
  copied now, so later changes through another name do not matter.

Files are opened relative to the student folder's descriptor with
``O_NOFOLLOW | O_NONBLOCK`` (no symlink followed, no hang on a FIFO swapped
in after the check), re-checked with ``fstat`` on the open descriptor (a
regular file, the inode seen when listing, the size), and at most
``max_bytes + 1`` bytes are read.
"""

import json
import os
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

MAX_NOTEBOOK_BYTES = 20 * 2**20
NAME_PUNCTUATION = "._-@+"
READ_CHUNK = 2**20


@dataclass
class Intake:
    """What the snapshot took from one entry of SUBMISSIONS.

    ``notebooks`` are the file names copied to ``into/<student>/``;
    ``refused`` maps a course notebook's file name to its status
    (``"refused: a symbolic link"``, ``"not a notebook: ..."``); ``ignored``
    lists the other entries of the folder; ``problem`` says why the whole
    entry was refused (then nothing else is filled).
    """

    student: str
    notebooks: list = field(default_factory=list)
    refused: dict = field(default_factory=dict)
    ignored: list = field(default_factory=list)
    problem: str | None = None


def snapshot(submissions, into, course_names, max_bytes=MAX_NOTEBOOK_BYTES):
    """Copy the acceptable course notebooks of every student; return one Intake per entry.

    Parameters
    ----------
    submissions : Path
        One folder per student. Only read: nothing is created, changed or
        followed there.
    into : Path
        Where the copies go, as ``into/<student>/<notebook name>``. Must be
        absent or empty, and outside ``submissions``.
    course_names : set of str
        The notebook file names of the course (``"07_training_sgd.ipynb"``);
        other entries of a student folder are listed in ``ignored``.
    max_bytes : int
        Largest accepted notebook, in bytes (exactly ``max_bytes`` passes).

    Returns
    -------
    list of Intake, sorted by student name.
    """
    submissions, into = Path(submissions).absolute(), Path(into).absolute()
    if into == submissions or submissions in into.parents:
        raise ValueError(f"into must lie outside the submissions folder; got {into} inside "
                         f"{submissions}. Snapshot into a fresh temporary folder.")
    if into.exists() and any(into.iterdir()):
        raise ValueError(f"into must be absent or empty; {into} holds files. "
                         "Snapshot into a fresh folder.")
    root = os.open(submissions, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    folders = {}  # student -> descriptor of the opened folder, None if it would not open
    try:
        students = []
        for name in sorted(os.listdir(root)):
            intake = Intake(student=display_name(name))
            students.append((name, intake))
            intake.problem = folder_problem(name, root)
        # device and inode of every course notebook, to find hard links between students
        owners = {}
        for name, intake in students:
            if intake.problem is None:
                folders[name] = _open_folder(name, root, intake)
            if folders.get(name) is not None:
                for entry in sorted(set(os.listdir(folders[name])) & set(course_names)):
                    try:
                        info = os.stat(entry, dir_fd=folders[name], follow_symlinks=False)
                    except OSError:
                        continue  # gone since the listing: read_notebook says so
                    if stat.S_ISREG(info.st_mode):
                        owners.setdefault((info.st_dev, info.st_ino), []).append((name, entry))
        for name, intake in students:
            if folders.get(name) is not None:
                _take_folder(folders[name], into / name, intake, course_names, max_bytes,
                             owners)
    finally:
        for fd in folders.values():
            if fd is not None:
                os.close(fd)
        os.close(root)
    return [intake for _, intake in students]


def display_name(name):
    """The name as it can be shown: control, format and undecodable characters escaped."""
    return "".join(ch if unicodedata.category(ch)[0] not in "CZ" or ch == " "
                   else ch.encode("unicode_escape", "backslashreplace").decode("ascii")
                   for ch in name)


def name_problem(name):
    """Why ``name`` is not a safe student folder name, or None."""
    if not name or name.startswith("."):
        return "a hidden name"
    if len(os.fsencode(name)) > 255:
        return "longer than 255 bytes"
    for ch in name:
        if ch in "/\\":
            return "a path separator in the name"
        category = unicodedata.category(ch)
        if category[0] == "C":
            return f"a control character ({display_name(ch)}) in the name"
        if not (category[0] in "LN" or (category[0] == "M" and ch != name[0])
                or ch in NAME_PUNCTUATION):
            return f"the character {ch!r} in the name (letters, digits and ._-@+ only)"
    return None


def folder_problem(name, root):
    """Why the entry ``name`` of SUBMISSIONS is not a student folder we read, or None."""
    why = name_problem(name)
    if why is not None:
        return f"refused: not a safe folder name: {why}"
    try:
        info = os.stat(name, dir_fd=root, follow_symlinks=False)
    except OSError as error:
        return f"refused: cannot look at the entry ({error.strerror})"
    if stat.S_ISLNK(info.st_mode):
        return "refused: the student folder is a symbolic link"
    if not stat.S_ISDIR(info.st_mode):
        return f"refused: {kind_of(info.st_mode)}, not a student folder"
    return None


def kind_of(mode):
    """What a non-regular file is, in words."""
    for test, words in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a folder"),
                        (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
                        (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                        (stat.S_ISREG, "a file")):
        if test(mode):
            return words
    return "not a regular file"


def _open_folder(name, root, intake):
    try:
        return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                       dir_fd=root)
    except OSError as error:  # swapped for a symlink since the check, or unreadable
        intake.problem = f"refused: cannot open the student folder ({error.strerror})"
        return None


def _take_folder(folder, target, intake, course_names, max_bytes, owners):
    for entry in sorted(os.listdir(folder)):
        if entry not in course_names:
            intake.ignored.append(display_name(entry))
            continue
        data, info, why = read_notebook(folder, entry, max_bytes)
        if why is None:
            shared = [f"{other}'s {other_entry}"
                      for other, other_entry in owners.get((info.st_dev, info.st_ino), [])
                      if (other, other_entry) != (target.name, entry)]
            if shared:
                why = f"refused: a hard link to the same file as {', '.join(shared)}"
        if why is None:
            why = notebook_problem(data)
        if why is not None:
            intake.refused[entry] = why
            continue
        target.mkdir(parents=True, exist_ok=True)
        with open(target / entry, "xb") as copy:
            copy.write(data)
        intake.notebooks.append(entry)


def read_notebook(folder, entry, max_bytes):
    """``(bytes, fstat, None)`` or ``(None, None, why refused)``; follows no link, never blocks."""
    try:
        before = os.stat(entry, dir_fd=folder, follow_symlinks=False)
    except OSError as error:
        return None, None, f"refused: cannot read ({error.strerror})"
    if not stat.S_ISREG(before.st_mode):
        return None, None, f"refused: {kind_of(before.st_mode)}"
    try:
        fd = os.open(entry, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY
                     | os.O_CLOEXEC, dir_fd=folder)
    except OSError as error:
        return None, None, f"refused: cannot open ({error.strerror})"
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or (info.st_dev, info.st_ino) != (
                before.st_dev, before.st_ino):
            return None, None, "refused: replaced while being read"
        if info.st_size > max_bytes:
            return None, None, f"refused: {info.st_size} bytes, over the limit of {max_bytes}"
        chunks, size = [], 0
        while size <= max_bytes:
            chunk = os.read(fd, min(READ_CHUNK, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as error:
        return None, None, f"refused: cannot read ({error.strerror})"
    finally:
        os.close(fd)
    if size > max_bytes:
        return None, None, f"refused: grew past the limit of {max_bytes} bytes while being read"
    return b"".join(chunks), info, None


def notebook_problem(data):
    """``"not a notebook: <why>"`` if ``data`` is not an nbformat-4 notebook, else None."""
    try:
        notebook = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        return "not a notebook: not UTF-8 text"
    except json.JSONDecodeError as error:
        return (f"not a notebook: not JSON ({error.msg}, line {error.lineno} "
                f"column {error.colno})")
    except (ValueError, RecursionError):
        return "not a notebook: not JSON"
    if not isinstance(notebook, dict):
        return f"not a notebook: a JSON {type(notebook).__name__}, not an object"
    if notebook.get("nbformat") != 4:
        return f"not a notebook: nbformat {notebook.get('nbformat')!r}, expected 4"
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        return "not a notebook: no list of cells"
    for number, cell in enumerate(cells, 1):
        source = cell.get("source") if isinstance(cell, dict) else None
        if not (isinstance(cell, dict) and isinstance(cell.get("cell_type"), str)
                and isinstance(cell.get("metadata", {}), dict)
                and (isinstance(source, str)
                     or isinstance(source, list) and all(isinstance(s, str) for s in source))):
            return f"not a notebook: cell {number} is not a cell (cell_type, source, metadata)"
    return None
