"""Run one student's notebooks and record their answers: the part that runs in the sandbox.

    python runner.py PLAN

PLAN (JSON, written by the grading parent) lists the student's notebooks and,
for each graded cell, the checker, the name of the student's function and
its case key. Each notebook runs top to bottom in a fresh kernel (nbclient),
with a time limit per cell. Right after a graded cell, the runner has the
kernel call :func:`tinynet.exercises.recording.record`. That writes down what
the student's function returns on the checker's cases. It judges nothing.

The runner writes, for each notebook, ``outputs/<stem>.json``: every code
cell's source and text output, each cut to the plan's limit. The records go
to ``records/<stem>/<grade_id>.json``. The student's kernel runs as the same
user in the same sandbox, so it can rewrite any of these files. The parent
treats them as untrusted data: it reads them with limits and a strict
decoder, and it decides every score itself.

This file imports only the standard library, nbclient and nbformat. It is
copied next to the sandbox's read-only copy of tinynet.
"""

import json
import os
import re
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbclient.util import run_sync

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

RECORD_CALL = """\
from tinynet.exercises.recording import record as _tinynet_record
_tinynet_record({checker!r}, globals().get({function!r}), {key!r}, {path!r})
del _tinynet_record
"""


def cell_text(cell, limit):
    """The cell's outputs as plain text, cut to ``limit`` characters."""
    parts, size = [], 0
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream":
            text = output.get("text", "")
        elif kind in ("execute_result", "display_data"):
            text = output.get("data", {}).get("text/plain", "")
            if not text and output.get("data"):
                text = "[" + ", ".join(sorted(output["data"])) + "]"
        elif kind == "error":
            text = _ANSI.sub("", "\n".join(output.get("traceback", [])) or
                             f"{output.get('ename')}: {output.get('evalue')}")
        else:
            continue
        if isinstance(text, list):
            text = "".join(text)
        text = str(text)
        parts.append(text if text.endswith("\n") else text + "\n")
        size += len(parts[-1])
        if size > limit:
            break
    text = "".join(parts)
    if len(text) > limit:
        text = text[:limit] + f"\n... (cut: {len(text) - limit} more characters)\n"
    return text


# Widget cells can stall nbclient until the cell time limit (jupyter/nbclient#312;
# here about one run in three that met an interact() cell waited 120 s). Nothing
# is graded in a panel, so while grading interact() shows none.
NO_PANELS = """\
import ipywidgets as _widgets


def _no_panel(*args, **kwargs):
    if args and callable(args[0]):
        return args[0]
    return lambda function: function


_widgets.interact = _widgets.interact_manual = _no_panel
del _widgets, _no_panel
"""

RESET = """\
get_ipython().run_line_magic("reset", "-f")
import matplotlib.pyplot
matplotlib.pyplot.close("all")
"""


class Kernel:
    """One kernel for a student's notebooks, reset between notebooks, replaced if it dies.

    Starting a kernel and importing numpy, matplotlib and tinynet costs about
    a second and a half; fourteen notebooks in one kernel pay it once. The
    namespace is emptied before each notebook, so a notebook sees only what it
    defines. Whatever else one notebook changes (a patched module) can only
    affect the same student's later notebooks, and scores are decided
    outside the sandbox anyway.
    """

    def __init__(self):
        self.km = None
        self.kc = None

    def attach(self, client):
        """Give ``client`` the running kernel; True when it is a used one (reset it first)."""
        alive = self.km is not None and run_sync(self.km.is_alive)()
        if not alive:
            self.shutdown()
            return False
        client.km, client.kc = self.km, self.kc
        return True

    def keep(self, client):
        self.km, self.kc = client.km, client.kc

    def shutdown(self):
        if self.km is not None:
            try:
                if self.kc is not None:
                    self.kc.stop_channels()
                run_sync(self.km.shutdown_kernel)(now=True)
            except Exception:  # already gone
                pass
        self.km = self.kc = None


def run_notebook(entry, plan, root, kernel):
    """Execute one notebook; write its outputs and (through the kernel) its records."""
    stem = entry["stem"]
    records = os.path.join(root, "records", stem)
    os.makedirs(records, exist_ok=True)
    graded = {cell["grade_id"]: cell for cell in entry["graded"]}
    limit = plan["max_output_chars"]
    cells, status = [], "ran"
    try:
        notebook = nbformat.read(os.path.join(root, entry["file"]), as_version=4)
    except Exception as error:  # not a notebook nbformat can read
        write_json(os.path.join(root, "outputs", stem + ".json"),
                   {"status": f"not a notebook: {type(error).__name__}", "cells": []})
        return
    client = NotebookClient(notebook, timeout=plan["cell_timeout"], allow_errors=True,
                            interrupt_on_timeout=True, kernel_name="python3",
                            resources={"metadata": {"path": os.path.join(root, "notebooks")}})
    client.km = client.create_kernel_manager()
    used = kernel.attach(client)
    client.owns_km = False  # the kernel outlives this notebook: Kernel shuts it down
    done = set()
    # nbclient stores each executed cell at its index: the runner's own code runs
    # in a slot after the notebook's last cell, never in place of one of them
    scratch = len(notebook.cells)
    notebook.cells.append(nbformat.v4.new_markdown_cell(""))

    def run_own(code):
        client.execute_cell(nbformat.v4.new_code_cell(code), scratch)

    try:
        with client.setup_kernel(cleanup_kc=False):
            kernel.keep(client)
            run_own(RESET if used else NO_PANELS)
            for index, cell in enumerate(notebook.cells[:scratch]):
                if cell.cell_type != "code":
                    continue
                grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                try:
                    client.execute_cell(cell, index)
                except DeadKernelError:
                    status = "the kernel died"
                cells.append({"source": str(cell.source)[:limit], "output": cell_text(cell, limit),
                              "grade_id": grade_id if grade_id in graded else None})
                cell.outputs = []  # keep memory flat: the text is all the parent needs
                if status != "ran":
                    break
                if grade_id in graded and grade_id not in done:
                    done.add(grade_id)
                    target = graded[grade_id]
                    code = RECORD_CALL.format(
                        checker=target["checker"], function=target["function"],
                        key=target["key"], path=os.path.join(records, grade_id + ".json"))
                    try:
                        run_own(code)
                    except DeadKernelError:
                        status = "the kernel died"
                        break
    except Exception as error:  # the kernel would not start, or nbclient gave up
        status = f"stopped: {type(error).__name__}: {str(error)[:200]}"
    write_json(os.path.join(root, "outputs", stem + ".json"), {"status": status, "cells": cells})


def write_json(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        json.dump(data, handle)


def main(argv):
    root = os.path.dirname(os.path.abspath(argv[1]))  # the plan sits in the work folder
    with open(argv[1]) as handle:
        plan = json.load(handle)
    kernel = Kernel()
    try:
        for entry in plan["notebooks"]:
            began = time.monotonic()
            run_notebook(entry, plan, root, kernel)
            print(f"{entry['stem']}: {time.monotonic() - began:.1f} s", flush=True)
    finally:
        kernel.shutdown()


if __name__ == "__main__":
    main(sys.argv)
