"""grading.flags: what an instructor should read by hand, found by reading the code.

Student notebooks are a course notebook with one cell edited or added; the
instructor's own notebooks, and their exercise edition, must raise no flag.
"""

import copy
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from grading.flags import notebook_flags  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SGD = json.loads((ROOT / "notebooks" / "07_training_sgd.ipynb").read_text())
SOLUTION = "07_train_one_iter"


def position(notebook, grade_id):
    return next(i for i, cell in enumerate(notebook["cells"])
                if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)


def edited(grade_id, source, notebook=SGD):
    """The notebook with the cell ``grade_id``'s source replaced."""
    student = copy.deepcopy(notebook)
    student["cells"][position(student, grade_id)]["source"] = source
    return student


def added(source, before, student=None):
    """The notebook with a new code cell (no metadata) just before the cell ``before``."""
    student = copy.deepcopy(SGD) if student is None else student
    cell = {"cell_type": "code", "metadata": {}, "source": source, "outputs": [],
            "execution_count": None}
    student["cells"].insert(position(student, before), cell)
    return student


def exercise_edition(notebook):
    """What nbgrader hands out: solutions replaced, hidden tests removed."""
    student = copy.deepcopy(notebook)
    for cell in student["cells"]:
        source = "".join(cell["source"])
        source = re.sub(r"( *)### BEGIN SOLUTION\n.*?### END SOLUTION",
                        r"\1raise NotImplementedError()", source, flags=re.S)
        cell["source"] = re.sub(r"### BEGIN HIDDEN TESTS\n.*?### END HIDDEN TESTS\n?", "",
                                source, flags=re.S)
    return student


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_instructors_notebook_raises_no_flag(path):
    notebook = json.loads(path.read_text())
    assert notebook_flags(notebook, notebook) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_exercise_edition_raises_no_flag(path):
    notebook = json.loads(path.read_text())
    student = exercise_edition(notebook)
    assert student != notebook
    assert notebook_flags(student, notebook) == []


CHEATS = {
    "imports the answer": (
        "from tinynet import train_one_iter as my_train_one_iter",
        ["07_train_one_iter: uses tinynet's own train_one_iter"]),
    "binds the answer": (
        "my_train_one_iter = tinynet.train_one_iter",
        ["07_train_one_iter: uses tinynet's own train_one_iter"]),
    "calls the fast answer": (
        "def my_train_one_iter(*args, **kwargs):\n    return tinynet.fast.train_one_iter(*args)",
        ["07_train_one_iter: uses tinynet's own fast.train_one_iter"]),
    "imports a module": (
        "import tinynet.model\n",
        ["07_train_one_iter: uses tinynet's own model"]),
    "uses a layer the reference does not": (
        "def my_train_one_iter(*args, **kwargs):\n    relu = tinynet.layers.Relu()",
        ["07_train_one_iter: uses tinynet's own layers.Relu"]),
    "imports from the exercises": (
        "from tinynet.exercises.training import reference_step",
        ["07_train_one_iter: uses tinynet's own exercises.training.reference_step"]),
    "rebinds a checker": (
        "check_train_one_iter = lambda function, hidden=False: None",
        ["07_train_one_iter: rebinds a checker (check_train_one_iter)"]),
    "defines a checker": (
        "def check_train_one_iter(function, hidden=False):\n    pass",
        ["07_train_one_iter: rebinds a checker (check_train_one_iter)"]),
    "patches the checker's module": (
        "import tinynet.exercises.training as t\nt.check_train_one_iter = print",
        ["07_train_one_iter: uses tinynet's own exercises.training",
         "07_train_one_iter: patches tinynet (tinynet.exercises.training.check_train_one_iter)"]),
    "environment": (
        "import os\nos.environ['OMP_NUM_THREADS'] = '64'\nos.putenv('A', '1')",
        ["07_train_one_iter: touches the environment (os.environ, os.putenv)"]),
    "environment through an alias": (
        "from os import environ as e\nprint(e)",
        ["07_train_one_iter: touches the environment (os.environ)"]),
    "the kernel": (
        "ip = get_ipython()\nip.user_ns.clear()",
        ["07_train_one_iter: reaches into the interpreter (get_ipython)"]),
    "sys.modules": (
        "import sys\nsys.modules['tinynet.exercises.training'] = None",
        ["07_train_one_iter: reaches into the interpreter (sys.modules)"]),
    "builtins": (
        "import builtins\nbuiltins.print = len\n__builtins__.len = print",
        ["07_train_one_iter: reaches into the interpreter (__builtins__, builtins)"]),
    "frames": (
        "import inspect, sys\ninspect.currentframe()\nsys._getframe(1)",
        ["07_train_one_iter: reaches into the interpreter (inspect.currentframe, "
         "sys._getframe)"]),
    "gc and ctypes": (
        "import gc, ctypes\ngc.get_objects()",
        ["07_train_one_iter: reaches into the interpreter (ctypes, gc.get_objects)"]),
    "dunder import and exec": (
        "os = __import__('os')\nexec('print(1)')",
        ["07_train_one_iter: reaches into the interpreter (__import__)",
         "07_train_one_iter: runs code built from strings (exec)"]),
    "getattr with a literal": (
        "import os\ngetattr(os, 'system')('ls')",
        ["07_train_one_iter: starts processes (os.system)"]),
    "absolute path": (
        "secret = open('/home/instructor/07_training_sgd.ipynb').read()",
        ["07_train_one_iter: reaches files outside its folder "
         "(open '/home/instructor/07_training_sgd.ipynb')"]),
    "parent folder, home, /proc, glob": (
        "from pathlib import Path\nimport glob, shutil\nPath('../alice/07_training_sgd.ipynb')\n"
        "open('~/.bashrc')\nshutil.copy('/proc/self/environ', 'x')\nglob.glob('*.ipynb')",
        ["07_train_one_iter: reaches files outside its folder (glob.glob '*.ipynb', "
         "open '~/.bashrc', pathlib.Path '../alice/07_training_sgd.ipynb', "
         "shutil.copy '/proc/self/environ')"]),
    "a path joined with /": (
        "from pathlib import Path\nPath.cwd() / '..' / 'bob'",
        ["07_train_one_iter: reaches files outside its folder (/ '..')"]),
    "chdir": (
        "import os\nos.chdir('data')",
        ["07_train_one_iter: reaches files outside its folder (os.chdir)"]),
    "subprocess": (
        "import subprocess\nsubprocess.run(['ls'])\nimport os\nos.system('ls')\nos.execv('x', [])",
        ["07_train_one_iter: starts processes (os.execv, os.system, subprocess)"]),
    "shell lines": (
        "!cat /etc/passwd\nfiles = !ls",
        ["07_train_one_iter: starts processes (!)"]),
    "bash cell magic": (
        "%%bash\ncat ../alice/07_training_sgd.ipynb\n",
        ["07_train_one_iter: starts processes (%%bash)"]),
    "system line magic and env": (
        "%system ls\n%env SECRET=1",
        ["07_train_one_iter: touches the environment (%env)",
         "07_train_one_iter: starts processes (%system)"]),
    "python inside %time": (
        "%time import socket",
        ["07_train_one_iter: uses the network (socket)"]),
    "python inside %%timeit with options": (
        "%%timeit -n 1 -r 1 import multiprocessing\nmultiprocessing.Process()\n",
        ["07_train_one_iter: starts processes (multiprocessing)"]),
    "an unknown magic": (
        "%mystery 1",
        ["07_train_one_iter: uses an IPython magic not checked here (%mystery)"]),
    "databases and network": (
        "import sqlite3\nfrom urllib.request import urlopen\nimport requests, socket",
        ["07_train_one_iter: opens a database (sqlite3)",
         "07_train_one_iter: uses the network (requests, socket, urllib)"]),
    "star import": (
        "from os import *\nsystem('ls')",
        ["07_train_one_iter: touches the environment (from os import *)",
         "07_train_one_iter: reaches files outside its folder (from os import *)",
         "07_train_one_iter: starts processes (from os import *)"]),
}


@pytest.mark.parametrize("name", CHEATS)
def test_a_flagged_solution_cell(name):
    source, expected = CHEATS[name]
    assert notebook_flags(edited(SOLUTION, source), SGD) == expected


NOT_FLAGGED = {
    "numpy only": (
        "def my_train_one_iter(W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc, x, t,\n"
        "                      learning_rate, weight_decay):\n"
        "    scores = np.maximum(0, x.reshape(len(x), -1)) @ np.ones((64, 10))\n"
        "    return tuple(np.copy(p) for p in (W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc))"),
    "what the reference uses, reached another way": (
        "def my_train_one_iter(*params_and_data, learning_rate, weight_decay):\n"
        "    net = tinynet.model.TinyNet(*params_and_data[:6])\n"
        "    TinyNet.forward(net, *params_and_data[6:])\n"),
    "a local name that shadows a package one": (
        "def my_train_one_iter(*args, **kwargs):\n"
        "    minibatches = [args]\n"
        "    train_one_iter = len\n"
        "    return minibatches, train_one_iter(args)"),
    "an argument that shadows a package one": (
        "def my_train_one_iter(SGD, minibatches):\n"
        "    return SGD.step(minibatches)"),
    "relative paths in the folder and einsum's ellipsis": (
        "data = open('data/train.csv').read()\n"
        "np.einsum('...ij,...jk->...ik', np.ones((2, 2)), np.ones((2, 2)))\n"
        "import os\nos.path.join('results', f'{data[:3]}.npy')"),
    "harmless magics": (
        "%matplotlib inline\n%time x = np.ones(3)\n"),
    "a cell that does not parse": (
        "def my_train_one_iter(:\n    import subprocess"),
}


@pytest.mark.parametrize("name", NOT_FLAGGED)
def test_a_solution_cell_that_is_not_flagged(name):
    assert notebook_flags(edited(SOLUTION, NOT_FLAGGED[name]), SGD) == []


def test_tinynet_in_an_added_cell_is_ordinary():
    student = added("import tinynet\nfrom tinynet.plotting import plot_history\n"
                    "tinynet.train_one_iter\nplot_history", before=SOLUTION)
    assert notebook_flags(student, SGD) == []


def test_a_checker_called_in_an_added_cell_is_ordinary():
    student = added("check_train_one_iter(my_train_one_iter)\nresult = check_sgd_step",
                    before="07_minibatches")
    assert notebook_flags(student, SGD) == []


def test_an_alias_made_in_another_cell_is_followed_into_the_solution():
    student = added("step = tinynet.train_one_iter", before=SOLUTION)
    student = edited(SOLUTION, "def my_train_one_iter(*args, **kwargs):\n"
                               "    return step(*args, **kwargs)", notebook=student)
    assert notebook_flags(student, SGD) == ["07_train_one_iter: uses tinynet's own "
                                            "train_one_iter"]


def test_an_alias_rebound_to_a_variable_is_no_longer_the_package():
    student = added("step = tinynet.train_one_iter\nstep = 3", before=SOLUTION)
    student = edited(SOLUTION, "def my_train_one_iter(*args):\n    return step",
                     notebook=student)
    assert notebook_flags(student, SGD) == []


def test_an_exercise_redefined_in_another_cell():
    student = added("my_train_one_iter = tinynet.train_one_iter", before="07_train_one_iter_check")
    number = position(student, "07_train_one_iter_check")  # the added cell's position, from 1
    assert notebook_flags(student, SGD) == [
        f"cell {number}: redefines an exercise outside its solution cell (my_train_one_iter)"]


def test_a_checker_rebound_outside_the_solution_cells():
    student = added("import tinynet.exercises.training\n"
                    "tinynet.exercises.training.check_function = lambda *a: None\n"
                    "setattr(tinynet, 'train_one_iter', None)", before=SOLUTION)
    number = position(student, SOLUTION)
    assert notebook_flags(student, SGD) == [
        f"cell {number}: patches tinynet (setattr(tinynet, ...), "
        "tinynet.exercises.training.check_function)"]


def test_one_flag_per_cell_and_kind():
    source = "import os\nos.environ['A'] = '1'\nos.environ['B'] = '2'\nprint(os.environ)"
    assert notebook_flags(edited(SOLUTION, source), SGD) == [
        "07_train_one_iter: touches the environment (os.environ)"]


def test_a_changed_check_call():
    student = edited("07_train_one_iter_check", "check_train_one_iter(print)\n")
    assert notebook_flags(student, SGD) == ["07_train_one_iter_check: graded cell changed"]


def test_the_check_cell_with_or_without_its_hidden_tests_is_unchanged():
    for source in ("check_train_one_iter(my_train_one_iter)\n\n",
                   "check_train_one_iter(my_train_one_iter)  \n"):
        assert notebook_flags(edited("07_train_one_iter_check", source), SGD) == []
    hidden = edited("07_train_one_iter_check", "check_train_one_iter(my_train_one_iter)\n"
                    "### BEGIN HIDDEN TESTS\npass\n### END HIDDEN TESTS")
    assert notebook_flags(hidden, SGD) == ["07_train_one_iter_check: graded cell changed"]


def test_missing_and_doubled_cells():
    student = copy.deepcopy(SGD)
    del student["cells"][position(student, "07_sgd_step_check")]
    del student["cells"][position(student, "07_minibatches")]
    student["cells"].append(copy.deepcopy(student["cells"][position(student, SOLUTION)]))
    student["cells"].append(copy.deepcopy(student["cells"][position(student, SOLUTION)]))
    assert notebook_flags(student, SGD) == [
        "07_sgd_step_check: graded cell missing",
        "07_train_one_iter: solution cell appears 3 times",
        "07_minibatches: solution cell missing",
    ]


def test_a_cell_the_course_does_not_have():
    student = added("x = 1", before=SOLUTION)
    student["cells"][position(student, SOLUTION) - 1]["metadata"] = {
        "nbgrader": {"grade_id": "07_extra", "grade": True, "points": 100}}
    assert notebook_flags(student, SGD) == ["07_extra: cell not in the course notebook"]


def test_a_flag_names_the_cell_by_grade_id_or_position():
    flags = notebook_flags(edited("07_minibatches", "import socket"), SGD)
    assert flags == ["07_minibatches: uses the network (socket)"]
    student = added("import socket", before=SOLUTION)
    assert notebook_flags(student, SGD) == [
        f"cell {position(student, SOLUTION)}: uses the network (socket)"]


def test_a_solution_of_another_notebook_may_use_what_its_reference_uses():
    notebook = json.loads((ROOT / "notebooks" / "06_tinynet.ipynb").read_text())
    relu = ("class MyTinyNet:\n    def __init__(self):\n"
            "        self.relu = Relu()\n        self.net = tinynet.TinyNet\n")
    assert notebook_flags(edited("06_MyTinyNet", relu, notebook), notebook) == [
        "06_MyTinyNet: uses tinynet's own TinyNet"]
