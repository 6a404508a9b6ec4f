"""Put the cells every master notebook shares where they belong: the "Open in Colab" badge right
after the title, the Colab setup cell (course_lib.colab.SETUP_CELL) as the first code cell, and the
pre-submit check as the last two cells. Idempotent; run it after adding a notebook or changing where
the course is published (scripts/publish.py runs it), then `make release`."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

from course_lib.colab import SETUP_CELL, colab_badge_markdown
from course_lib.nbcells import is_graded as graded_cell
from course_lib.nbcells import nbgrader_meta

ROOT = Path(__file__).resolve().parents[1]

PRESUBMIT_TEXT = """## Before you submit

Save the notebook, then run the cell below. It checks that every graded cell is still here with the
hidden metadata the grader reads (copying cells into a new notebook, or some editors, lose it), so
that your work cannot be graded as zero by accident. It does not check your answers: the test cells
and nbgrader's **Validate** button do that. Then submit this `.ipynb` file."""

PRESUBMIT_CODE = 'from course_lib.presubmit import check_before_submit\n\ncheck_before_submit("{name}")'


def add_badge(nb, name: str) -> bool:
    badge = colab_badge_markdown(name)
    if any(cell.cell_type == "markdown" and cell.source == badge for cell in nb.cells):
        return False
    nb.cells = [cell for cell in nb.cells if not (cell.cell_type == "markdown" and "colab-badge.svg" in cell.source)]
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(badge))
    return True


def is_setup_cell(cell) -> bool:
    """A Colab setup cell, this one or an older version of it."""
    return (
        cell.cell_type == "code"
        and cell.source.startswith("# Course setup")
        and '"google.colab" in sys.modules' in cell.source
    )


def add_setup_cell(nb) -> bool:
    """Make the first code cell SETUP_CELL: rewrite it if it is an (older) setup cell, else insert one before it."""
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    if code and code[0].source == SETUP_CELL:
        return False
    if code and is_setup_cell(code[0]):
        code[0].source = SETUP_CELL
        code[0].outputs, code[0].execution_count = [], None
        return True
    cell = nbformat.v4.new_code_cell(SETUP_CELL)
    if "setup" not in {c.get("id") for c in nb.cells}:
        cell.id = "setup"
    nb.cells.insert(nb.cells.index(code[0]) if code else len(nb.cells), cell)
    return True


def add_presubmit(nb, name: str) -> bool:
    code = PRESUBMIT_CODE.format(name=name)
    if [c.source for c in nb.cells[-2:]] == [PRESUBMIT_TEXT, code]:
        return False
    nb.cells = [
        c for c in nb.cells if c.source not in (PRESUBMIT_TEXT, code) and "check_before_submit(" not in c.source
    ]
    nb.cells += [nbformat.v4.new_markdown_cell(PRESUBMIT_TEXT), nbformat.v4.new_code_cell(code)]
    return True


def update(path: Path, graded: bool) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    changes = [
        what
        for what, changed in (
            ("badge", add_badge(nb, path.stem)),
            ("setup cell", add_setup_cell(nb)),
            ("pre-submit check", graded and add_presubmit(nb, path.stem)),
        )
        if changed
    ]
    if changes:
        nbformat.write(nb, path)
    return changes


def is_graded(path: Path) -> bool:
    nb = nbformat.read(path, as_version=4)
    return any(graded_cell(nbgrader_meta(cell)) for cell in nb.cells)


if __name__ == "__main__":
    names = sys.argv[1:] or sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
    for name in names:
        path = ROOT / "solutions" / name / f"{name}.ipynb"
        changes = update(path, is_graded(path))
        print(f"{path.relative_to(ROOT)}: {', '.join(changes) + ' written' if changes else 'up to date'}")
