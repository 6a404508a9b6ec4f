"""Find a student's notebook in ``submitted/<student>/<assignment>/`` and read it.

Learners rename notebooks (``A (1).ipynb``, ``Copy of A.ipynb``) and now and then submit a file that
is not a notebook at all. :func:`find_notebook` picks the notebook to grade and says what it did;
:func:`read_notebook` turns the file into a valid nbformat-4 dict or raises :class:`NotebookUnreadable`
with a reason an instructor can act on.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path

from course_lib.nbcells import cell_text


class NotebookUnreadable(Exception):
    """The file is not a notebook nbgrader could grade (not JSON, not nbformat 4, ...)."""


@dataclass
class Found:
    path: Path | None  # None: no notebook at all
    message: str  # what was found, for the report ("" when the file had the expected name)


def _notebooks(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts and p.is_file())


def find_notebook(submitted: Path, student: str, assignment: str) -> Found:
    """The notebook of ``student`` for ``assignment`` under ``submitted`` (nbgrader's submitted directory)."""
    expected = f"{assignment}.ipynb"
    folder = submitted / student / assignment
    if (folder / expected).is_file():
        return Found(folder / expected, "")
    if folder.is_dir():
        candidates = _notebooks(folder)
        where = f"submitted/{student}/{assignment}/"
    else:
        # Some upload tools flatten the folder: submitted/<student>/<assignment>.ipynb or similar.
        candidates = (
            [p for p in _notebooks(submitted / student) if assignment in p.stem]
            if (submitted / student).is_dir()
            else []
        )
        where = f"submitted/{student}/"
        if not candidates:
            return Found(None, f"no folder submitted/{student}/{assignment}/ (expected {expected} in it)")
    if not candidates:
        return Found(None, f"no notebook in {where} (expected {expected})")

    def rank(path: Path) -> tuple:
        similarity = difflib.SequenceMatcher(None, path.stem.lower(), assignment.lower()).ratio()
        return (assignment.lower() in path.stem.lower(), similarity, path.stat().st_mtime)

    chosen = max(candidates, key=rank)
    shown = chosen.relative_to(folder if folder.is_dir() else submitted / student).as_posix()
    message = f"notebook was named {shown!r}, graded as {expected}"
    others = [p.name for p in candidates if p != chosen]
    if others:
        message += f" (also found and ignored: {', '.join(others)})"
    return Found(chosen, message)


def read_notebook(path: Path) -> dict:
    """The notebook at ``path`` as an nbformat-4 dict, with cells normalised so that nbgrader accepts it."""
    import nbformat

    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as err:
        raise NotebookUnreadable(f"{path.name} is not text (a notebook is a JSON text file): {err.reason}") from None
    except json.JSONDecodeError as err:
        raise NotebookUnreadable(
            f"{path.name} is not valid JSON ({err.msg} at line {err.lineno}, column {err.colno})"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise NotebookUnreadable(f"{path.name} is JSON but not a notebook (it has no list of cells)")
    if data.get("nbformat", 4) != 4:
        try:
            data = dict(nbformat.convert(nbformat.from_dict(data), 4))
        except Exception as err:  # noqa: BLE001 - any conversion failure means "cannot grade this file"
            raise NotebookUnreadable(
                f"{path.name} is an nbformat {data.get('nbformat')} notebook that cannot be converted: {err}"
            ) from None

    cells = []
    for cell in data["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            continue
        clean = {
            "cell_type": cell["cell_type"],
            "metadata": cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {},
            "source": cell_text(cell.get("source")),
        }
        if isinstance(cell.get("id"), str):
            clean["id"] = cell["id"]
        if cell["cell_type"] == "code":
            clean["outputs"] = []
            clean["execution_count"] = None
        elif isinstance(cell.get("attachments"), dict):
            clean["attachments"] = cell["attachments"]
        cells.append(clean)
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    notebook = {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}
    ensure_cell_ids(notebook)
    try:
        nbformat.validate(nbformat.from_dict(notebook))
    except Exception as err:  # noqa: BLE001
        raise NotebookUnreadable(
            f"{path.name} is not a valid notebook after cleaning: {str(err).splitlines()[0]}"
        ) from None
    return notebook


def ensure_cell_ids(notebook: dict) -> None:
    """Give every cell a unique nbformat cell id (a duplicated cell keeps its original's id)."""
    import re
    import uuid

    valid = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
    seen = set()
    for cell in notebook["cells"]:
        cell_id = cell.get("id")
        if not isinstance(cell_id, str) or not valid.match(cell_id) or cell_id in seen:
            cell_id = uuid.uuid4().hex[:8]
            while cell_id in seen:
                cell_id = uuid.uuid4().hex[:8]
            cell["id"] = cell_id
        seen.add(cell_id)
