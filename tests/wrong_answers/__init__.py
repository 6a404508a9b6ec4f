"""Catalogues of realistic wrong answers, one module per graded notebook (``<assignment>.py``).

Each module defines ``WRONG``: a list of :class:`Wrong`. A wrong answer is the master notebook's
solution cell with a mistake put in (``edits``: ``(old, new)`` text replacements, each ``old`` must
occur in the solution cell) or a whole replacement cell (``source``). tests/test_wrong_answers.py
substitutes every one into the solution notebook, runs the exercise's test cells (visible and
hidden, as the grader does) and asserts that the exercise loses points and that the feedback the
learner reads contains ``says``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cell_edits import edited, load_catalogue

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Wrong:
    cell: str  # grade_id of the solution cell the mistake goes into
    mistake: str  # what the learner got wrong, in a few words
    says: str  # text the failing test's message must contain (case-insensitive)
    edits: tuple[tuple[str, str], ...] = field(default=())
    source: str | None = None  # the whole cell instead of edits
    combined: bool = True  # also part of the one real nbgrader round of its notebook

    def apply(self, solution: str) -> str:
        return edited(solution, self.edits, self.source, f"wrong answer {self.mistake!r}", self.cell)


def catalogue(assignment: str) -> list[Wrong]:
    return load_catalogue(HERE, assignment, "WRONG")
