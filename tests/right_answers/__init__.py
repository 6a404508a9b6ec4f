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

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Right:
    cell: str  # grade_id of the solution cell
    variant: str  # how it differs from the master, in a few words
    source: str | None = None  # the whole cell
    edits: tuple[tuple[str, str], ...] = field(default=())
    combined: bool = True  # also part of the one real nbgrader round of its notebook (first per cell)

    def apply(self, solution: str) -> str:
        if self.source is not None:
            return self.source
        if not self.edits:
            raise ValueError(f"right answer {self.variant!r} for {self.cell} has neither edits nor source")
        text = solution
        for old, new in self.edits:
            if old not in text:
                raise ValueError(f"right answer {self.variant!r}: {old!r} does not occur in solution cell {self.cell}")
            text = text.replace(old, new)
        return text


def catalogue(assignment: str) -> list[Right]:
    path = HERE / f"{assignment}.py"
    if not path.is_file():
        return []
    spec = importlib.util.spec_from_file_location(f"right_answers_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.RIGHT)
