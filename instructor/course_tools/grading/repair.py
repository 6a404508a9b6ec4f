"""Put back the nbgrader metadata and locked cells of a submission, using the source notebook.

nbgrader finds graded cells by the ``grade_id`` in their metadata. Learners lose that metadata (copying
cells into a new notebook, some editors and upload tools drop it), duplicate cells (nbgrader then
strips both copies and refuses the notebook), delete or edit test cells. :func:`repair` matches every
cell of the submission to the source notebook (``solutions/<assignment>/<assignment>.ipynb``) and its
release version, rebuilds the metadata, restores locked cells from the source and says what it did.

Matching is an order-preserving alignment (like a diff) of the two cell lists, scored by

* the ``grade_id``, when the submission cell still has one;
* for locked cells (tests, read-only text): how many of their lines the submission cell shares;
* for solution cells: how many lines of the release stub around ``# YOUR CODE HERE`` (the function
  header and docstring) the submission cell still has; a stub with no such lines matches by position.
"""

from __future__ import annotations

import copy
import difflib
from dataclasses import dataclass, field

from course_lib.nbcells import (
    KEY_FIELDS,
    STUB_LINES,
    cell_role,
    cell_text,
    grade_id,
    nbgrader_meta,
    role_label,
    source_lines,
)
from course_tools.grading.locate import ensure_cell_ids


@dataclass
class SourceCell:
    index: int
    cell_type: str
    role: str
    grade_id: str | None
    master: dict  # the cell in solutions/ (solutions and hidden tests included)
    release: dict  # the same cell as learners got it

    @property
    def locked(self) -> bool:
        return self.role in ("test", "locked", "task")

    @property
    def label(self) -> str:
        return role_label(self.role, self.grade_id)


def source_cells(master: dict, release: dict) -> list[SourceCell]:
    """The source notebook's cells with their roles, each paired with its release version."""
    by_id = {grade_id(c): c for c in release["cells"] if grade_id(c)}
    same_length = len(release["cells"]) == len(master["cells"])
    cells = []
    for i, cell in enumerate(master["cells"]):
        cell_id = grade_id(cell)
        if cell_id and cell_id in by_id:
            released = by_id[cell_id]
        elif same_length:
            released = release["cells"][i]
        else:
            released = cell
        cells.append(SourceCell(i, cell["cell_type"], cell_role(nbgrader_meta(cell)), cell_id, cell, released))
    return cells


def _similarity(a: list[str], b: list[str]) -> float:
    if not a or not b:
        return 1.0 if a == b else 0.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


class _Scorer:
    def __init__(self, sources: list[SourceCell]):
        self.sources = sources
        self.graded_ids = {s.grade_id for s in sources if s.role != "plain"}
        self.lines = [(source_lines(s.release["source"]), source_lines(s.master["source"])) for s in sources]
        self.skeleton = [
            {line.strip() for line in source_lines(s.release["source"]) if line.strip() not in STUB_LINES}
            if s.role == "solution"
            else set()
            for s in sources
        ]

    def score(self, i: int, cell: dict) -> float:
        src = self.sources[i]
        sub_id = grade_id(cell)
        if src.role != "plain" and sub_id == src.grade_id:
            bonus = 100.0
        elif sub_id in self.graded_ids:
            return 0.0  # it says it is another graded cell
        else:
            bonus = 0.0
        if cell["cell_type"] != src.cell_type and not bonus:
            return 0.0
        sub_lines = source_lines(cell.get("source", ""))
        if src.role == "solution":
            skeleton = self.skeleton[i]
            if skeleton:
                present = {line.strip() for line in sub_lines}
                share = len(skeleton & present) / len(skeleton)
                content = 10.0 * share if share >= 0.5 else 0.0
            else:
                content = 1.0  # a bare stub: matched by position between its neighbours
            return bonus + content
        release_lines, master_lines = self.lines[i]
        share = max(_similarity(release_lines, sub_lines), _similarity(master_lines, sub_lines))
        if src.role == "plain":
            return 5.0 * share if share >= 0.6 else 0.0
        return bonus + (10.0 * share if share >= 0.5 else 0.0)


def align(sources: list[SourceCell], cells: list[dict]) -> dict[int, int]:
    """Order-preserving matching source index -> submission index with the largest total score."""
    scorer = _Scorer(sources)
    n, m = len(sources), len(cells)
    scores = [[scorer.score(i, cells[j]) for j in range(m)] for i in range(n)]
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        row, prev = best[i], best[i - 1]
        for j in range(1, m + 1):
            s = scores[i - 1][j - 1]
            row[j] = max(prev[j], row[j - 1], prev[j - 1] + s if s > 0 else 0.0)
    pairs: dict[int, int] = {}
    i, j = n, m
    while i > 0 and j > 0:
        s = scores[i - 1][j - 1]
        if s > 0 and best[i][j] == best[i - 1][j - 1] + s:
            pairs[i - 1] = j - 1  # a match (the later of equal duplicates wins, as in nbgrader)
            i, j = i - 1, j - 1
        elif best[i][j] == best[i - 1][j]:
            i -= 1
        else:
            j -= 1
    return pairs


@dataclass
class Repair:
    notebook: dict
    notes: list[tuple[str, str]] = field(default_factory=list)  # (status, text)
    solution_cells: dict[str, str] = field(default_factory=dict)  # grade_id -> the learner's code
    added_cells: list[str] = field(default_factory=list)  # code cells the learner added
    matched: int = 0
    graded: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.notes)


def _names(ids: list[str], limit: int = 4) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def _restored_cell(src: SourceCell) -> dict:
    """A graded cell missing from the submission, rebuilt from the source."""
    cell = copy.deepcopy(src.release)
    if src.locked:
        cell["source"] = cell_text(src.master["source"])
    else:
        # A solution cell the learner deleted or merged into another cell: an empty answer, so that any
        # definitions the learner wrote elsewhere are not overwritten by the release stub.
        cell["source"] = "# (this solution cell was missing from the submission)" if cell["cell_type"] == "code" else ""
    if cell["cell_type"] == "code":
        cell["outputs"], cell["execution_count"] = [], None
    cell.pop("id", None)
    return cell


def repair(master: dict, release: dict, submission: dict) -> Repair:
    """The submission with every graded cell's metadata and every locked cell restored, and what changed."""
    sources = source_cells(master, release)
    cells = [copy.deepcopy(c) for c in submission["cells"]]
    for cell in cells:
        cell["source"] = cell_text(cell.get("source"))
    pairs = align(sources, cells)
    by_sub = {j: i for i, j in pairs.items()}
    graded = [s for s in sources if s.role != "plain"]

    stripped, meta_edited, points_edited, edited, retyped, restored, no_solution = [], [], [], [], [], [], []
    duplicates: dict[str, int] = {}
    unknown: list[str] = []
    result = Repair(notebook={})

    def fix(cell: dict, src: SourceCell) -> dict:
        old, released = nbgrader_meta(cell), nbgrader_meta(src.release)
        release_meta = src.release.get("metadata", {})
        if not old:
            stripped.append(src.grade_id)
        elif any(old.get(k) != released.get(k) for k in KEY_FIELDS):
            if old.get("points") != released.get("points") and old.get("grade_id") == src.grade_id:
                points_edited.append(src.grade_id)
            else:
                meta_edited.append(src.grade_id)
        metadata = {k: v for k, v in cell.get("metadata", {}).items() if k not in ("nbgrader", "deletable", "editable")}
        for key in ("deletable", "editable"):
            if key in release_meta:
                metadata[key] = release_meta[key]
        metadata["nbgrader"] = copy.deepcopy(released or nbgrader_meta(src.master))
        cell["metadata"] = metadata
        if cell["cell_type"] != src.cell_type:
            retyped.append(src.grade_id)
            cell["cell_type"] = src.cell_type
            if src.cell_type == "code":
                cell["outputs"], cell["execution_count"] = [], None
            else:
                cell.pop("outputs", None)
                cell.pop("execution_count", None)
        if src.locked:
            lines = source_lines(cell.get("source", ""))  # ignoring trailing spaces and blank lines
            if lines not in (source_lines(src.release["source"]), source_lines(src.master["source"])):
                edited.append(src.grade_id)
            cell["source"] = cell_text(src.master["source"])
        return cell

    inserts: dict[int, list[SourceCell]] = {}
    anchor = -1
    for src in sources:
        if src.index in pairs:
            anchor = pairs[src.index]
        elif src.role != "plain":
            inserts.setdefault(anchor, []).append(src)

    matched_ids = {sources[i].grade_id for i in pairs if sources[i].role != "plain"}
    out: list[dict] = []

    def insert_after(position: int) -> None:
        for src in inserts.get(position, []):
            (restored if src.locked else no_solution).append(src.grade_id)
            out.append(_restored_cell(src))

    insert_after(-1)
    for j, cell in enumerate(cells):
        i = by_sub.get(j)
        if i is not None and sources[i].role != "plain":
            src = sources[i]
            cell = fix(cell, src)
            if src.role == "solution":
                result.solution_cells[src.grade_id] = cell["source"]
        else:
            cell_id = grade_id(cell)
            if cell_id:
                if cell_id in matched_ids:
                    duplicates[cell_id] = duplicates.get(cell_id, 1) + 1
                else:
                    unknown.append(cell_id)
            if "nbgrader" in cell.get("metadata", {}):
                del cell["metadata"]["nbgrader"]
            if i is None and cell["cell_type"] == "code":
                result.added_cells.append(cell["source"])
        out.append(cell)
        insert_after(j)

    notebook = copy.deepcopy({k: v for k, v in submission.items() if k != "cells"})
    notebook["metadata"] = notebook.get("metadata") or {}
    notebook["metadata"]["kernelspec"] = copy.deepcopy(
        master.get("metadata", {}).get("kernelspec", notebook["metadata"].get("kernelspec"))
    )
    notebook["cells"] = out
    ensure_cell_ids(notebook)
    result.notebook = notebook
    result.graded = len(graded)
    result.matched = len(matched_ids)

    notes = result.notes
    if result.matched < len(graded) / 2:
        notes.append(
            (
                "repaired",
                f"only {result.matched} of the {len(graded)} graded cells were found: is this the right notebook?",
            )
        )
    if stripped:
        if len(stripped) == result.matched:
            notes.append(
                (
                    "repaired",
                    f"nbgrader metadata stripped from the whole notebook: restored on all {len(stripped)} graded cells by matching them to the source",
                )
            )
        else:
            notes.append(
                ("repaired", f"nbgrader metadata missing on {len(stripped)} graded cells, restored: {_names(stripped)}")
            )
    if meta_edited:
        notes.append(("repaired", f"nbgrader metadata changed on {_names(meta_edited)}: restored from the source"))
    if points_edited:
        notes.append(
            ("tampering", f"points changed in the metadata of {_names(points_edited)}: restored from the source")
        )
    for cell_id, count in duplicates.items():
        notes.append(
            ("repaired", f"cell {cell_id} appears {count} times: graded the last copy, the others run as plain cells")
        )
    if unknown:
        notes.append(("repaired", f"metadata names unknown cells {_names(unknown)}: removed"))
    if retyped:
        notes.append(("repaired", f"cell type changed on {_names(retyped)}: set back"))
    if edited:
        notes.append(
            ("repaired", f"locked cell {_names(edited)} was edited: restored from the source (hidden tests included)")
        )
    if restored:
        notes.append(("repaired", f"deleted cell {_names(restored)} restored from the source"))
    if no_solution:
        notes.append(
            (
                "repaired",
                f"solution cell {_names(no_solution)} not found: graded as unanswered unless its code is elsewhere",
            )
        )
    return result
