"""What an instructor should read by hand: found by reading a notebook's code, never running it.

``notebook_flags(student_nb, source_nb)`` compares a student's notebook with
the instructor's complete (source) notebook and returns short flags such as
``"07_train_one_iter: uses tinynet's own train_one_iter"``. Each flag starts
with the grade_id of the cell concerned, or ``"cell 12"`` (its position, from
1) for a cell without one. There is one flag per cell and kind; the names it
found are listed in the flag.

How the code is read:

* each code cell goes through IPython's own input transformer (what the
  kernel runs), so ``!ls`` becomes ``get_ipython().system('ls')`` and
  ``%%bash`` a ``run_cell_magic`` call; those calls are judged by the magic's
  name (``MAGICS``), and the Python of ``%time`` / ``%%timeit`` /
  ``%%capture`` is read like any other. Cells that still do not parse are
  skipped (they fail when run as well);
* names are followed through imports and plain assignments, cell after cell
  (``import os as o; o.environ`` is ``os.environ``; ``step =
  tinynet.train_one_iter`` makes ``step`` that function), function arguments
  and local variables shadow them; ``getattr(x, "name")`` is ``x.name``;
* each dotted name is looked up in ``RISKY`` (itself or a parent:
  ``subprocess`` covers ``subprocess.run``; ``os.exec*`` any ``os.exec...``).

What counts as *the package's own answer*: in a solution cell, any name of
``tinynet`` the instructor's solution for the same grade_id does not use
itself (a name it uses, the same name reached through another module, and
attributes of it are allowed: ``TinyNet`` allows ``tinynet.model.TinyNet``
and ``TinyNet.forward``). Outside solution cells ``import tinynet`` is
ordinary; there the flags are about rebinding: an exercise's function
(``my_train_one_iter``) or a checker (``check_*``) assigned or defined again,
or an attribute of ``tinynet`` assigned (``tinynet.exercises.check_x = ...``).

Static reading misses what is built at run time (``getattr(os, name)`` with
a computed name, code hidden in a helper function of another cell); the
sandbox is the defence there, these flags are the instructor's reading list.
"""

import ast
import re

from IPython.core.inputtransformer2 import TransformerManager

# kinds of flag, in the order they are reported for a cell; "{}" receives the names found
OWN = "uses tinynet's own {}"
CHECKER = "rebinds a checker ({})"
PATCH = "patches tinynet ({})"
REDEFINE = "redefines an exercise outside its solution cell ({})"
ENVIRONMENT = "touches the environment ({})"
INTERPRETER = "reaches into the interpreter ({})"
STRINGS = "runs code built from strings ({})"
FILES = "reaches files outside its folder ({})"
PROCESSES = "starts processes ({})"
DATABASE = "opens a database ({})"
NETWORK = "uses the network ({})"
MAGIC = "uses an IPython magic not checked here ({})"
CHANGED = "graded cell changed"
UNKNOWN = "cell not in the course notebook"
KIND_ORDER = (OWN, CHECKER, PATCH, REDEFINE, ENVIRONMENT, INTERPRETER, STRINGS, FILES,
              PROCESSES, DATABASE, NETWORK, MAGIC, CHANGED, UNKNOWN)

RISKY = {
    "os.environ": ENVIRONMENT, "os.environb": ENVIRONMENT, "os.getenv": ENVIRONMENT,
    "os.getenvb": ENVIRONMENT, "os.putenv": ENVIRONMENT, "os.unsetenv": ENVIRONMENT,
    "get_ipython": INTERPRETER, "sys.modules": INTERPRETER, "sys.meta_path": INTERPRETER,
    "sys.path_hooks": INTERPRETER, "sys.path_importer_cache": INTERPRETER,
    "sys.path": INTERPRETER, "builtins": INTERPRETER, "__builtins__": INTERPRETER,
    "importlib": INTERPRETER, "imp": INTERPRETER, "__import__": INTERPRETER,
    "signal": INTERPRETER, "ctypes": INTERPRETER, "cffi": INTERPRETER,
    "gc.get_objects": INTERPRETER, "gc.get_referrers": INTERPRETER,
    "gc.get_referents": INTERPRETER, "inspect.currentframe": INTERPRETER,
    "inspect.stack": INTERPRETER, "inspect.trace": INTERPRETER,
    "inspect.getouterframes": INTERPRETER, "sys._getframe": INTERPRETER,
    "sys.settrace": INTERPRETER, "sys.setprofile": INTERPRETER,
    "sys.addaudithook": INTERPRETER, "atexit": INTERPRETER, "globals": INTERPRETER,
    "exec": STRINGS, "eval": STRINGS, "compile": STRINGS, "runpy": STRINGS,
    "os.chdir": FILES, "os.fchdir": FILES, "os.path.expanduser": FILES,
    "os.path.expandvars": FILES, "pathlib.Path.home": FILES, "pathlib.Path.expanduser": FILES,
    "subprocess": PROCESSES, "os.system": PROCESSES, "os.popen": PROCESSES,
    "os.fork": PROCESSES, "os.forkpty": PROCESSES, "os.exec*": PROCESSES,
    "os.spawn*": PROCESSES, "os.posix_spawn*": PROCESSES, "os.kill": PROCESSES,
    "os.killpg": PROCESSES, "pty": PROCESSES, "multiprocessing": PROCESSES,
    "concurrent.futures.ProcessPoolExecutor": PROCESSES,
    "asyncio.create_subprocess*": PROCESSES,
    "sqlite3": DATABASE, "sqlalchemy": DATABASE, "dbm": DATABASE, "shelve": DATABASE,
    "socket": NETWORK, "socketserver": NETWORK, "ssl": NETWORK, "urllib": NETWORK,
    "urllib3": NETWORK, "requests": NETWORK, "httpx": NETWORK, "aiohttp": NETWORK,
    "http": NETWORK, "ftplib": NETWORK, "smtplib": NETWORK, "xmlrpc": NETWORK,
    "webbrowser": NETWORK,
}

# calls whose string arguments are paths: flagged when a path leaves the folder
PATH_CALLS = ("open", "io.open", "pathlib", "os", "shutil", "glob", "numpy.load",
              "numpy.save", "numpy.savez", "numpy.savez_compressed", "numpy.loadtxt",
              "numpy.savetxt", "numpy.genfromtxt", "numpy.fromfile", "numpy.memmap")
OUTSIDE_PATH = re.compile(r"^\s*[/\\~]|^[A-Za-z]:[/\\]|(^|[/\\])\.\.([/\\]|$)|[*?\[]")

# IPython magics, by name: None for harmless, PYTHON for magics whose argument is Python
PYTHON = "python code"
MAGICS = {
    **dict.fromkeys(["matplotlib", "precision", "pprint", "who", "whos", "who_ls", "lsmagic",
                     "magic", "quickref", "pwd", "doctest_mode", "colors", "xmode"], None),
    **dict.fromkeys(["time", "timeit", "prun", "capture", "debug"], PYTHON),
    **dict.fromkeys(["system", "sx", "sc", "bash", "sh", "script", "perl", "ruby", "python",
                     "python2", "python3", "pypy", "!"], PROCESSES),
    **dict.fromkeys(["env", "set_env"], ENVIRONMENT),
    **dict.fromkeys(["cd", "pushd", "popd", "dhist", "bookmark", "writefile", "file", "load",
                     "loadpy", "run", "save", "edit", "notebook", "logstart"], FILES),
    **dict.fromkeys(["reset", "reset_selective", "xdel", "config", "alias", "unalias",
                     "rehashx", "load_ext", "reload_ext", "unload_ext", "aimport",
                     "autoreload", "macro", "store", "rerun", "recall", "autocall"],
                    INTERPRETER),
}
IPYTHON_CALLS = ("run_line_magic", "run_cell_magic", "system", "getoutput")
TRANSFORMER = TransformerManager()


def notebook_flags(student_nb, source_nb):
    """Flags for an instructor to read by hand, in notebook order; ``[]`` when nothing is odd.

    Parameters
    ----------
    student_nb : dict
        The student's notebook (nbformat 4, as JSON).
    source_nb : dict
        The instructor's complete notebook of the same name.

    Returns
    -------
    list of str, each ``"<grade_id or cell N>: <what>"``.
    """
    course = Course(source_nb)
    found = {}  # (label, kind) -> names, in the order first seen
    reader = CellReader(course)
    for number, cell in enumerate(student_nb.get("cells", []), 1):
        grade_id = nbgrader(cell).get("grade_id")
        label = grade_id if isinstance(grade_id, str) and grade_id else f"cell {number}"
        for kind, name in cell_flags(cell, grade_id, course, reader):
            found.setdefault((label, kind), set()).add(name)
    for grade_id, what in course.structure_flags(student_nb):
        found.setdefault((grade_id, what), set())
    return [f"{label}: {kind.format(', '.join(sorted(names)))}"
            for (label, kind), names in found.items()]


def cell_flags(cell, grade_id, course, reader):
    """``(kind, name)`` pairs for one cell, kinds in KIND_ORDER."""
    pairs = []
    if grade_id is not None and grade_id not in course.grade_ids:
        pairs.append((UNKNOWN, ""))
    if grade_id in course.visible and normal(cell_source(cell)) not in course.visible[grade_id]:
        pairs.append((CHANGED, ""))
    if cell.get("cell_type") == "code":
        solution = grade_id in course.allowed or nbgrader(cell).get("solution") is True
        found = reader.read(cell_source(cell), grade_id if solution else None)
        for name in sorted(found.get(OWN, ())):
            if not course.allows(grade_id, name):
                pairs.append((OWN, display_tinynet(name)))
        pairs.extend((kind, name) for kind, names in found.items() if kind != OWN
                     for name in names)
    return sorted(pairs, key=lambda pair: KIND_ORDER.index(pair[0]))


def display_tinynet(name):
    return name.removeprefix("tinynet.") if name != "tinynet" else "package (import tinynet)"


class Course:
    """What the instructor's notebook says: its nbgrader cells and the tinynet names each
    reference solution uses."""

    def __init__(self, source_nb):
        self.cells = [(nbgrader(cell), cell) for cell in source_nb.get("cells", [])]
        self.grade_ids = [meta["grade_id"] for meta, _ in self.cells if "grade_id" in meta]
        self.solutions = [meta["grade_id"] for meta, _ in self.cells
                          if meta.get("solution") is True and "grade_id" in meta]
        self.graded = [meta["grade_id"] for meta, _ in self.cells
                       if meta.get("grade") is True and "grade_id" in meta]
        # a graded cell may be handed back as the exercise edition shows it or complete
        self.visible = {meta["grade_id"]: {normal(source.split("### BEGIN HIDDEN TESTS")[0]),
                                           normal(source)}
                        for meta, cell in self.cells if meta.get("grade") is True
                        and "grade_id" in meta for source in [cell_source(cell)]}
        self.exercise_names = {}   # my_train_one_iter -> 07_train_one_iter
        self.allowed = {grade_id: set() for grade_id in self.solutions}
        reader = CellReader(self)
        for meta, cell in self.cells:
            if cell.get("cell_type") != "code":
                continue
            grade_id = meta.get("grade_id") if meta.get("solution") is True else None
            found = reader.read(cell_source(cell), grade_id)
            if grade_id is not None:
                self.allowed[grade_id] |= found.get(OWN, set())
                self.exercise_names.update(dict.fromkeys(reader.top_level_names, grade_id))
        self.allowed_leaves = {grade_id: {name.rsplit(".", 1)[-1] for name in names}
                               for grade_id, names in self.allowed.items()}

    def allows(self, grade_id, name):
        """Whether the reference solution of ``grade_id`` uses tinynet's ``name`` as well."""
        allowed = self.allowed.get(grade_id, set())
        return (name.rsplit(".", 1)[-1] in self.allowed_leaves.get(grade_id, set())
                or any(name == a or name.startswith(a + ".") for a in allowed))

    def structure_flags(self, student_nb):
        """Graded and solution cells missing or doubled, in the source notebook's order."""
        counts = {}
        for cell in student_nb.get("cells", []):
            grade_id = nbgrader(cell).get("grade_id")
            if isinstance(grade_id, str):
                counts[grade_id] = counts.get(grade_id, 0) + 1
        for grade_id in self.grade_ids:
            what = "graded cell" if grade_id in self.graded else "solution cell"
            if grade_id not in self.graded and grade_id not in self.solutions:
                continue
            if counts.get(grade_id, 0) == 0:
                yield grade_id, f"{what} missing"
            elif counts[grade_id] > 1:
                yield grade_id, f"{what} appears {counts[grade_id]} times"


class CellReader(ast.NodeVisitor):
    """Reads the cells of one notebook in order; ``read`` returns ``{kind: names}`` for a cell.

    ``names`` maps a name bound so far to the dotted name it stands for (None: a
    plain variable), across cells, as the kernel would see them.
    """

    def __init__(self, course):
        self.course = course
        self.names = {}

    def read(self, source, solution_id):
        """``{kind: set of names}`` for the cell ``source``; ``solution_id`` if a solution cell."""
        self.found, self.solution_id, self.depth = {}, solution_id, 0
        self.top_level_names = []
        try:
            tree = ast.parse(TRANSFORMER.transform_cell(source))
        except (SyntaxError, ValueError):
            return {}
        self.visit(tree)
        return self.found

    def add(self, kind, name):
        self.found.setdefault(kind, set()).add(name)

    # --- names -----------------------------------------------------------------------------
    def resolve(self, node):
        """The dotted name an expression stands for (``"os.environ"``), or None."""
        if isinstance(node, ast.Name):
            return self.names.get(node.id, node.id)  # None: a plain variable
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            return None if base is None else f"{base}.{node.attr}"
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "getattr" and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
            base = self.resolve(node.args[0])
            return None if base is None else f"{base}.{node.args[1].value}"
        return None

    def reference(self, dotted):
        if dotted == "tinynet" or dotted.startswith("tinynet."):
            if self.solution_id is not None:
                self.add(OWN, dotted)
        for key, kind in RISKY.items():
            if (dotted == key or dotted.startswith(key + ".")
                    or key.endswith("*") and dotted.startswith(key[:-1])):
                self.add(kind, dotted if key.endswith("*") else key)

    def bind(self, name, dotted, checker_import=False):
        if self.depth == 0:
            self.top_level_names.append(name)
            if name.startswith("check_") and not checker_import:
                self.add(CHECKER, name)
            owner = self.course.exercise_names.get(name)
            if owner is not None and owner != self.solution_id:
                self.add(REDEFINE, name)
        self.names[name] = dotted

    def bind_target(self, target, dotted):
        if isinstance(target, ast.Name):
            self.bind(target.id, dotted)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self.bind_target(element, None)
        elif isinstance(target, ast.Starred):
            self.bind_target(target.value, None)
        else:  # attribute or subscript: assigning into something
            patched = self.resolve(target)
            if patched is not None and (patched + ".").startswith("tinynet."):
                self.add(PATCH, patched)
            self.visit(target)

    def scope(self, arguments, body):
        saved, self.depth = dict(self.names), self.depth + 1
        for arg in arguments:
            self.names[arg] = None
        for node in body:
            self.visit(node)
        self.names, self.depth = saved, self.depth - 1

    # --- statements --------------------------------------------------------------------------
    def visit_Import(self, node):
        for alias in node.names:
            self.reference(alias.name)
            if alias.asname:
                self.bind(alias.asname, alias.name)
            else:
                top = alias.name.split(".")[0]
                self.bind(top, top)

    def visit_ImportFrom(self, node):
        module = "." * node.level + (node.module or "")
        for alias in node.names:
            if alias.name == "*":
                self.reference(f"{module}.*")
                for key, kind in RISKY.items():
                    if key.startswith(module + "."):
                        self.add(kind, f"from {module} import *")
                continue
            full = f"{module}.{alias.name}"
            self.reference(full)
            # the package's own checkers (tinynet.exercises, tinynet.gradcheck) under their names
            checker = ((module + ".").startswith("tinynet.")
                       and alias.asname in (None, alias.name))
            self.bind(alias.asname or alias.name, full, checker_import=checker)

    def visit_Assign(self, node):
        self.visit(node.value)
        for target in node.targets:
            self.bind_target(target, self.resolve(node.value))

    def visit_AnnAssign(self, node):
        if node.value is not None:
            self.visit(node.value)
        self.bind_target(node.target, None if node.value is None else self.resolve(node.value))

    def visit_AugAssign(self, node):
        self.visit(node.value)
        self.bind_target(node.target, None)

    def visit_NamedExpr(self, node):
        self.visit(node.value)
        self.bind_target(node.target, self.resolve(node.value))

    def visit_Delete(self, node):
        for target in node.targets:
            self.bind_target(target, None)

    def visit_Global(self, node):
        for name in node.names:
            if name.startswith("check_"):
                self.add(CHECKER, name)
            owner = self.course.exercise_names.get(name)
            if owner is not None and owner != self.solution_id:
                self.add(REDEFINE, name)

    def visit_FunctionDef(self, node):
        for decorator in node.decorator_list:
            self.visit(decorator)
        self.visit(node.args)
        self.bind(node.name, None)
        arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
        arguments += [a for a in (node.args.vararg, node.args.kwarg) if a is not None]
        self.scope([a.arg for a in arguments], node.body)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_arguments(self, node):
        for default in node.defaults + [d for d in node.kw_defaults if d is not None]:
            self.visit(default)

    def visit_Lambda(self, node):
        self.visit(node.args)
        arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
        self.scope([a.arg for a in arguments], [node.body])

    def visit_ClassDef(self, node):
        for expression in node.decorator_list + node.bases + [k.value for k in node.keywords]:
            self.visit(expression)
        self.bind(node.name, None)
        self.scope([], node.body)

    # --- expressions -------------------------------------------------------------------------
    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load):
            dotted = self.resolve(node)
            if dotted is not None:
                self.reference(dotted)
        else:  # a for, with, except or comprehension target
            self.bind(node.id, None)

    def visit_Attribute(self, node):
        dotted = self.resolve(node)
        if dotted is not None and isinstance(node.ctx, ast.Load):
            self.reference(dotted)
        else:
            self.generic_visit(node)

    def visit_BinOp(self, node):
        # Path(...) / "../x": "/" between a path and a string
        if isinstance(node.op, ast.Div):
            for side in (node.left, node.right):
                text = literal(side)
                if text is not None and OUTSIDE_PATH.search(text):
                    self.add(FILES, f"/ {text[:40]!r}")
        self.generic_visit(node)

    def visit_Call(self, node):
        if self.ipython_call(node):
            return
        function = self.resolve(node.func)
        if function in ("setattr", "delattr") and node.args:
            target = self.resolve(node.args[0])
            if target is not None and (target + ".").startswith("tinynet."):
                self.add(PATCH, f"{function}({target}, ...)")
        if function is not None and any(function == p or function.startswith(p + ".")
                                        for p in PATH_CALLS):
            for argument in node.args + [k.value for k in node.keywords]:
                for part in ast.walk(argument):
                    text = literal(part)
                    if text is not None and OUTSIDE_PATH.search(text):
                        self.add(FILES, f"{function} {text[:40]!r}")
        if function == "getattr":
            dotted = self.resolve(node)
            if dotted is not None:
                self.reference(dotted)
        self.generic_visit(node)

    def ipython_call(self, node):
        """``get_ipython().run_line_magic('name', 'line')`` and kin, as IPython writes a magic or
        a ``!`` line: judged by the magic's name. True if ``node`` was one."""
        func = node.func
        if not (isinstance(func, ast.Attribute) and func.attr in IPYTHON_CALLS
                and isinstance(func.value, ast.Call) and not func.value.args
                and isinstance(func.value.func, ast.Name)
                and func.value.func.id == "get_ipython"
                and all(literal(a) is not None for a in node.args) and node.args):
            return False
        arguments = [literal(a) for a in node.args]
        if func.attr in ("system", "getoutput"):
            name, shown = "!", "!"
        else:
            name = arguments[0]
            shown = ("%%" if func.attr == "run_cell_magic" else "%") + name
        kind = MAGICS.get(name, MAGIC)
        if kind is PYTHON:
            for text in arguments[1:]:
                self.read_python(text)
        elif kind is not None:
            self.add(kind, shown)
        return True

    def read_python(self, text):
        """Reads the Python in a magic's argument, after its options (``-n 10``)."""
        words = [m.start() for m in re.finditer(r"\S+", text)]
        for start in words:
            try:
                tree = ast.parse(TRANSFORMER.transform_cell(text[start:]))
            except (SyntaxError, ValueError):
                continue
            self.visit(tree)
            return


def literal(node):
    """The text of a string constant or f-string (``{}`` for each placeholder), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def nbgrader(cell):
    """The cell's nbgrader metadata, ``{}`` when there is none or it is not a dict."""
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    value = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return value if isinstance(value, dict) else {}


def cell_source(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def normal(source):
    """Source compared without trailing spaces and blank lines at either end."""
    return "\n".join(line.rstrip() for line in source.strip("\n").splitlines()).strip("\n")
