"""Catalogues of correct answers written differently from the master, one module per graded notebook.

Each module defines ``RIGHT``: a list of :class:`Right`. A right answer is a whole solution cell
(``source``) or the master's cell with ``edits`` (``(old, new)`` replacements, each ``old`` must occur):
another formula order, loops instead of vector code, another validation order where the instructions
prescribe none, another valid way to freeze... tests/test_wrong_answers.py substitutes every one into
the solution notebook (in the same kernel as the wrong answers) and asserts that every test cell of the
exercise passes with nothing on standard error (nbgrader scores such a cell 0); the real nbgrader round
of each notebook grades one submission holding a right answer per exercise (``combined``), which must
earn full marks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cell_edits import edited, load_catalogue

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Right:
    cell: str  # grade_id of the solution cell
    variant: str  # how it differs from the master, in a few words
    source: str | None = None  # the whole cell
    edits: tuple[tuple[str, str], ...] = field(default=())
    combined: bool = True  # also part of the one real nbgrader round of its notebook (first per cell)

    def apply(self, solution: str) -> str:
        return edited(solution, self.edits, self.source, f"right answer {self.variant!r}", self.cell)


def catalogue(assignment: str) -> list[Right]:
    return load_catalogue(HERE, assignment, "RIGHT")
