"""What grading one student produces: plain records, filled by the trusted parent."""

from dataclasses import dataclass, field


@dataclass
class CellResult:
    """One graded cell of one notebook.

    ``verdict`` is the checker's message, as decided by the trusted parent
    (``"my_relu: PASS (5 cases)"``, or what is wrong); ``points`` is 0 or
    ``max_points``.
    """

    grade_id: str
    points: float
    max_points: float
    verdict: str


@dataclass
class CellOutput:
    """A code cell of the student's notebook as it ran, for the feedback page.

    ``source`` and ``output`` are the student's text (untrusted: escape it),
    ``output`` already cut to the per-cell limit. ``grade_id`` is set on
    graded cells.
    """

    source: str
    output: str
    grade_id: str | None = None


@dataclass
class NotebookResult:
    """One notebook of one student.

    ``status`` is ``"graded"``, ``"not handed in"`` or why it was not graded
    (``"refused: a symbolic link"``, ``"not a notebook: ..."``,
    ``"stopped: time budget used up"``).
    """

    name: str                      # stem, e.g. "07_training_sgd"
    status: str
    cells: dict = field(default_factory=dict)      # grade_id -> CellResult
    outputs: list = field(default_factory=list)    # CellOutput, in notebook order
    flags: list = field(default_factory=list)      # str, see grading.flags


@dataclass
class StudentResult:
    """Everything the report needs about one student."""

    student: str
    status: str                    # "graded", "no notebooks", "stopped after 600 s", ...
    seconds: float
    notebooks: dict = field(default_factory=dict)  # stem -> NotebookResult

    @property
    def flags(self):
        return [f"{stem}: {flag}" for stem, nb in self.notebooks.items() for flag in nb.flags]
