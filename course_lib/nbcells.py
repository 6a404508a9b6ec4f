"""What an nbgrader cell is: its metadata, its role and its text, read the same way everywhere.

The one reader of nbgrader cell metadata in the course. Used by the learner's pre-submit check
(:mod:`course_lib.presubmit`) and, in the instructor tools (``instructor/``, package ``course_tools``), by the
release (``course_tools.release``: the manifests) and the grader's repair, scan, guard and worker
(``course_tools.grading``), so that all of them agree on which cells are graded and how.
"""

from __future__ import annotations

#: The nbgrader flags of a cell; :func:`cell_role` reads them in the order task, solution, grade, locked.
FLAGS = ("grade", "solution", "locked", "task")

#: What defines a graded cell as released: a submission must keep these fields of its metadata unchanged.
KEY_FIELDS = ("grade_id", *FLAGS, "points")

#: How messages name a cell of each role (followed by its grade id).
ROLE_LABELS = {"test": "test cell", "solution": "solution cell", "task": "task cell", "locked": "read-only cell"}

#: The lines nbgrader puts where it removed a solution (``ClearSolutions.code_stub`` and ``text_stub`` in
#: nbgrader_config.py; a test checks that they agree).
STUB_LINES = ("# YOUR CODE HERE", "raise NotImplementedError()", "YOUR ANSWER HERE")


def nbgrader_meta(cell: dict) -> dict:
    """The cell's ``metadata.nbgrader`` dict, or ``{}`` when it is missing or malformed."""
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return meta if isinstance(meta, dict) else {}


def grade_id(cell: dict) -> str | None:
    """The cell's nbgrader ``grade_id``, or ``None`` when it has none (missing, empty or malformed metadata)."""
    value = nbgrader_meta(cell).get("grade_id")
    return str(value) if value else None


def cell_role(meta: dict) -> str:
    """``solution``, ``test``, ``task``, ``locked`` (read-only) or ``plain``, from nbgrader metadata."""
    if not meta.get("grade_id"):
        return "plain"
    if meta.get("task"):
        return "task"
    if meta.get("solution"):
        return "solution"
    if meta.get("grade"):
        return "test"
    if meta.get("locked"):
        return "locked"
    return "plain"


def is_graded(meta: dict) -> bool:
    """Whether nbgrader gives the cell points (``grade``: a test cell, or an answer cell graded by hand)."""
    return bool(meta.get("grade_id")) and bool(meta.get("grade"))


def role_label(role: str, grade_id: str | None) -> str:
    """``test cell ex1_tests``: how a message names a graded cell."""
    return f"{ROLE_LABELS.get(role, 'cell')} {grade_id}"


def cell_text(source) -> str:
    """A cell's source as one string (notebook files may store it as a list of lines; a damaged file may hold
    other values, which are turned into text rather than refused)."""
    if isinstance(source, list):
        return "".join(str(part) for part in source)
    return "" if source is None else str(source)


def source_lines(source) -> list[str]:
    """A cell's non-blank lines without their trailing spaces: the text two copies of a cell are compared by."""
    return [line.rstrip() for line in cell_text(source).splitlines() if line.strip()]
