"""What an nbgrader cell is: its metadata, its role and its text, read the same way everywhere.

Used by the learner's pre-submit check (:mod:`course_lib.presubmit`) and by the grader's repair of
submissions (:mod:`course_lib.grading.repair`), so that both agree on which cells are graded and how.
"""

from __future__ import annotations


def nbgrader_meta(cell: dict) -> dict:
    """The cell's ``metadata.nbgrader`` dict, or ``{}`` when it is missing or malformed."""
    metadata = cell.get("metadata")
    meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return meta if isinstance(meta, dict) else {}


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


def cell_text(source) -> str:
    """A cell's source as one string (notebook files may store it as a list of lines; a damaged file may hold
    other values, which are turned into text rather than refused)."""
    if isinstance(source, list):
        return "".join(str(part) for part in source)
    return "" if source is None else str(source)
