"""Put the cells every master notebook shares where they belong: the "Open in Colab" badge right
after the title. Idempotent; run it after adding a notebook, then `make release`."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

from course_lib.colab import colab_badge_markdown

ROOT = Path(__file__).resolve().parents[1]


def add_badge(path: Path) -> bool:
    nb = nbformat.read(path, as_version=4)
    badge = colab_badge_markdown(path.stem)
    if any(cell.cell_type == "markdown" and cell.source == badge for cell in nb.cells):
        return False
    nb.cells = [cell for cell in nb.cells if not (cell.cell_type == "markdown" and "colab-badge.svg" in cell.source)]
    cell = nbformat.v4.new_markdown_cell(badge)
    nb.cells.insert(1, cell)
    nbformat.write(nb, path)
    return True


if __name__ == "__main__":
    names = sys.argv[1:] or sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
    for name in names:
        path = ROOT / "solutions" / name / f"{name}.ipynb"
        print(f"{path.relative_to(ROOT)}: {'badge added' if add_badge(path) else 'up to date'}")
