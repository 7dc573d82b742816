"""The package's layout: its modules form layers, and a built wheel holds every part.

Guideline 15 of the house style: a lower module never imports a higher one,
not even inside a function (an import cycle says a piece sits in the wrong
module). Every module of ``tinynet`` is parsed with ``ast`` (nothing is
imported), and every ``import`` statement in it, at the top or inside a
function, is checked against :data:`LAYERS`.

The wheel built from ``pyproject.toml`` must hold every subpackage and the
bundled digits with their README, and setuptools must have nothing to warn
about while building it.
"""

import ast
import importlib.util
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tinynet"

LAYERS = [
    "_checks",         # argument checks and messages
    "cache",           # stored results of the slow studies, for grading
    "im2col",          # the window-to-column trick
    "layers",          # the layers, forward and backward
    "naive",           # loop versions of convolution and pooling
    "gradcheck",       # numerical gradients
    "polynomial",      # polynomial fits
    "datasets",        # digits, MNIST, curve samples
    "model",           # TinyNet and train_one_iter, the exercise
    "fast",            # the fused training step
    "optim",           # the optimizers
    "training",        # the one training loop
    "initialization",  # weight scales, activation histograms as data
    "network",         # Network, build_mlp, train_network
    "landscapes",      # the book's surface and the optimizers' paths
    "search",          # random search on validation data
    "presets",         # the panels' scenarios
    "plotting",        # every plot_* helper
    "experiments",     # the functions behind the sliders, studies over seeds
    "figures",         # the course figures
    "widgets",         # the slider panels
    "exercises",       # the checkers of the exercise edition (a subpackage: one layer)
    "__init__",        # the package's public names
    "cli",             # python -m tinynet train
    "__main__",
]
"""From the bottom up: a module may import the modules before it, never one after it."""


def unit_of(relative):
    """The layer of a module, from its path inside the package: 'fast', 'exercises', ...

    A top-level module is its own layer; every module of a subpackage is in the
    subpackage's layer.
    """
    return Path(relative).with_suffix("").parts[0]


def package_units(package):
    """Layer name of every module file of ``package`` -> list of its paths."""
    units = {}
    for path in sorted(package.rglob("*.py")):
        units.setdefault(unit_of(path.relative_to(package)), []).append(path)
    return units


def imported_units(source, relative, top_names):
    """``[(line, layer name, statement text), ...]`` for every tinynet import in ``source``.

    ``relative`` is the module's path inside the package (``"training.py"``,
    ``"exercises/basics.py"``); ``top_names`` the names of the package's
    top-level modules and subpackages, to tell ``from . import fast`` (the
    module) from ``from . import __version__`` (the package's ``__init__``).
    """
    here = list(Path(relative).with_suffix("").parts)  # e.g. ["exercises", "basics"]
    package_path = here[:-1]  # the package the module sits in, inside tinynet
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name.split(".")[1:] for alias in node.names
                       if alias.name.split(".")[0] == "tinynet"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_path[:len(package_path) - (node.level - 1)]
            elif node.module and node.module.split(".")[0] == "tinynet":
                base = []
            else:
                continue
            if node.level == 0:  # from tinynet.x.y import z
                module = node.module.split(".")[1:]
            else:  # from .x.y import z, or from . import z
                module = node.module.split(".") if node.module else []
            path = base + module
            if path:
                targets = [path]
            else:  # from . import x: a submodule x, or a name of the package's __init__
                targets = [[alias.name] if alias.name in top_names else [] for alias in node.names]
        else:
            continue
        for target in targets:
            unit = target[0] if target else "__init__"
            found.append((node.lineno, unit, ast.get_source_segment(source, node) or ""))
    return found


def layering_violations(sources, layers=LAYERS):
    """Every import of a module in a layer above the importing module's.

    ``sources`` maps a module's path inside the package to its text. Returns
    one message per offending import, naming the file, the line, the
    statement and both layers.
    """
    rank = {name: i for i, name in enumerate(layers)}
    top_names = {unit_of(relative) for relative in sources}
    messages = []
    for relative, source in sorted(sources.items()):
        own = unit_of(relative)
        for line, unit, text in imported_units(source, relative, top_names):
            if unit == own:
                continue  # inside one subpackage
            if rank[unit] > rank[own]:
                messages.append(
                    f"tinynet/{relative}, line {line}: {text.splitlines()[0]!r} imports "
                    f"tinynet.{unit}, which sits above {own} in LAYERS ({own} is layer "
                    f"{rank[own]}, {unit} layer {rank[unit]}). A lower module never imports a "
                    f"higher one; move the piece it needs down, or itself up."
                )
    return messages


def package_sources():
    return {str(path.relative_to(PACKAGE)): path.read_text(encoding="utf-8")
            for path in sorted(PACKAGE.rglob("*.py"))}


# -- the package -----------------------------------------------------------------

def test_every_module_has_a_place_in_the_layers():
    units = set(package_units(PACKAGE))
    missing = sorted(units - set(LAYERS))
    gone = sorted(set(LAYERS) - units)
    assert not missing, f"modules without a layer: {missing}; add each to LAYERS in its place."
    assert not gone, f"LAYERS names modules that do not exist: {gone}; remove them."
    assert len(LAYERS) == len(set(LAYERS))


def test_no_module_imports_one_above_it():
    messages = layering_violations(package_sources())
    assert not messages, "\n".join(messages)


def test_every_tinynet_import_is_seen():
    """The parser finds the imports it must judge (a silent parser would pass anything)."""
    sources = package_sources()
    top_names = {unit_of(relative) for relative in sources}
    seen = {relative: {unit for _, unit, _ in imported_units(text, relative, top_names)}
            for relative, text in sources.items()}
    assert {"fast", "model", "optim", "_checks"} <= seen["training.py"]
    assert {"experiments", "layers"} <= seen[str(Path("exercises", "basics.py"))]
    assert "exercises" in seen[str(Path("exercises", "basics.py"))]  # from . import Case
    assert {"__init__", "datasets", "plotting"} <= seen["cli.py"]  # from . import __version__


# -- the checker itself: near misses ---------------------------------------------------

LOW, MIDDLE, HIGH = "low.py", "middle.py", "high.py"
ORDER = ["low", "middle", "high", "group", "__init__"]


@pytest.mark.parametrize("source, expected", [
    ("from .high import x\n", "line 1: 'from .high import x' imports tinynet.high"),
    ("import numpy\n\n\ndef f():\n    from .high import x\n", "line 5"),
    ("def f():\n    import tinynet.high\n", "line 2: 'import tinynet.high'"),
    ("from tinynet.high import x\n", "imports tinynet.high"),
    ("from . import high\n", "imports tinynet.high"),
    ("from . import x\n", "imports tinynet.__init__"),  # a name of the package itself
    ("import tinynet\n", "imports tinynet.__init__"),
    ("from .group.part import y\n", "imports tinynet.group"),
])
def test_an_upward_import_is_reported_with_its_line(source, expected):
    sources = {LOW: "", MIDDLE: source, HIGH: "", "group/part.py": "", "__init__.py": ""}
    messages = layering_violations(sources, ORDER)
    assert len(messages) == 1 and expected in messages[0], messages
    assert messages[0].startswith("tinynet/middle.py")
    assert "middle is layer 1" in messages[0]


@pytest.mark.parametrize("source", [
    "from .low import x\n",
    "def f():\n    from . import low\n",
    "import numpy\nfrom numpy import high\n",  # not ours
    "from .middle import y\n",  # itself
])
def test_downward_and_foreign_imports_pass(source):
    sources = {LOW: "", MIDDLE: source, HIGH: "", "group/part.py": "", "__init__.py": ""}
    assert layering_violations(sources, ORDER) == []


def test_a_subpackage_is_one_layer_and_resolves_parent_imports():
    sources = {LOW: "", MIDDLE: "", HIGH: "", "__init__.py": "",
               "group/__init__.py": "",
               "group/part.py": "from . import helper\nfrom ..low import x\nfrom ..high import z\n"}
    assert layering_violations(sources, ORDER) == []
    sources["group/part.py"] += "from .. import y\n"  # the package __init__, above the group
    (message,) = layering_violations(sources, ORDER)
    assert message.startswith("tinynet/group/part.py, line 4") and "tinynet.__init__" in message


# -- what a built wheel holds ----------------------------------------------------------

# how Python prints a warning: "path/to/file.py:215: SomeWarning: message"
PYTHON_WARNING = re.compile(r"\S+\.py:\d+: \w+: .*")


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """A wheel and an editable wheel built from a copy of the project, and what was printed.

    The checkout is left alone (no build/ or egg-info written into it). The
    venv's own setuptools builds both (no download); every warning is shown.
    """
    if importlib.util.find_spec("setuptools") is None:
        pytest.skip("setuptools is not installed: pip install -e '.[test]'")
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(PACKAGE, source / "tinynet",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    out = tmp_path_factory.mktemp("wheel")
    wheel = subprocess.run(
        [sys.executable, "-W", "always", "-m", "pip", "wheel", str(source), "--no-deps",
         "--no-build-isolation", "--no-cache-dir", "-w", str(out)],
        capture_output=True, text=True, timeout=300)
    assert wheel.returncode == 0, wheel.stdout + wheel.stderr
    editable_out = tmp_path_factory.mktemp("editable")
    editable = subprocess.run(
        [sys.executable, "-W", "always", "-c",
         f"from setuptools import build_meta; build_meta.build_editable({str(editable_out)!r})"],
        cwd=source, capture_output=True, text=True, timeout=300)
    assert editable.returncode == 0, editable.stdout + editable.stderr
    (path,) = out.glob("tinynet-*.whl")
    return path, {"wheel": wheel.stdout + wheel.stderr,
                  "editable": editable.stdout + editable.stderr}


def test_the_wheel_holds_every_subpackage_the_digits_and_the_licence(builds):
    path, _ = builds
    names = set(zipfile.ZipFile(path).namelist())
    assert {"tinynet/data/digits.npz", "tinynet/data/README.md"} <= names
    for module in PACKAGE.rglob("*.py"):  # every module of every subpackage
        if "__pycache__" not in module.parts:
            assert module.relative_to(ROOT).as_posix() in names, module
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    assert not [name for name in names if "__pycache__" in name or name.startswith("tests/")]
    metadata = next(zipfile.ZipFile(path).read(name).decode() for name in names
                    if name.endswith(".dist-info/METADATA"))
    assert "License-Expression: MIT AND CC-BY-4.0" in metadata


@pytest.mark.parametrize("build", ["wheel", "editable"])
def test_setuptools_has_nothing_to_warn_about(builds, build):
    _, outputs = builds
    # (pip's own "WARNING: Location ... is ignored" lines, from a machine's pip
    # configuration, are not in Python's warning format)
    warnings = [line.strip() for line in outputs[build].splitlines()
                if PYTHON_WARNING.search(line)]
    assert not warnings, f"setuptools warned while building the {build}:\n" + "\n".join(warnings)
