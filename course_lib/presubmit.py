"""Check a notebook before you submit it: are all the graded cells still there, intact?

In the last cell of every assignment::

    from course_lib.presubmit import check_before_submit; check_before_submit("01_bottleneck_math")

or from a terminal: ``python -m course_lib.presubmit path/to/01_bottleneck_math.ipynb``.

The grader finds your answers and its tests through hidden metadata on the graded cells (nbgrader's
``grade_id``). Copying cells into a new notebook, some editors and upload tools lose it; duplicating a
graded cell or editing a test cell confuses it. This check compares your notebook with the manifest of
the release (``data/manifests/<assignment>.json``: every graded cell's id, type, points and a checksum of
each test cell) and says what to fix. It checks the structure only, not whether your answers are right:
run the test cells (or nbgrader's Validate) for that.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

from course_lib.nbcells import (
    FLAGS,
    STUB_LINES,
    cell_role,
    cell_text,
    grade_id,
    nbgrader_meta,
    role_label,
    source_lines,
)
from course_lib.package_data import package_data_dir

MANIFEST_FORMAT = 1
#: What an unanswered solution cell still holds (the release stub without its comment line).
STUBS = tuple(line for line in STUB_LINES if not line.startswith("#"))


# -- manifests (made by `python -m course_tools.release` from the release notebooks) ---------------------
def manifest_dir() -> Path:
    """data/manifests in a checkout, course_lib/_data/manifests in an installed wheel."""
    return package_data_dir("manifests")


def normalised(source) -> str:
    """Cell text without nbgrader's hidden-test region, trailing spaces and blank lines."""
    lines, hidden = [], False
    for line in source_lines(source):
        if "BEGIN HIDDEN TESTS" in line:
            hidden = True
        elif "END HIDDEN TESTS" in line:
            hidden = False
        elif not hidden:
            lines.append(line)
    return "\n".join(lines)


def checksum(source) -> str:
    return hashlib.sha256(normalised(source).encode()).hexdigest()


def build_manifest(notebook: dict, assignment: str) -> dict:
    """The manifest of a release notebook: its graded cells in order."""
    cells = []
    for cell in notebook["cells"]:
        meta, cell_id = nbgrader_meta(cell), grade_id(cell)
        if not cell_id:
            continue
        entry = {
            "grade_id": cell_id,
            "cell_type": cell["cell_type"],
            "role": cell_role(meta),
            "points": meta.get("points", 0) if meta.get("grade") else 0,
            **{flag: bool(meta.get(flag, False)) for flag in FLAGS},
            "checksum": checksum(cell["source"]) if meta.get("locked") and not meta.get("solution") else None,
        }
        cells.append(entry)
    return {
        "format": MANIFEST_FORMAT,
        "assignment": assignment,
        "notebook": f"{assignment}.ipynb",
        "total_points": sum(c["points"] for c in cells),
        "cells": cells,
    }


def load_manifest(assignment: str) -> dict:
    path = manifest_dir() / f"{assignment}.json"
    if not path.is_file():
        known = sorted(p.stem for p in manifest_dir().glob("*.json"))
        raise ValueError(f"no manifest for assignment {assignment!r}; known assignments: {', '.join(known) or 'none'}")
    return json.loads(path.read_text())


# -- finding the notebook ---------------------------------------------------------------------------------
class NotebookNotFound(Exception):
    pass


def _from_colab(timeout: float = 30.0) -> dict | None:
    """The notebook open in Google Colab (it is not on disk), or None when Colab does not answer."""
    from google.colab import _message

    reply = _message.blocking_request("get_ipynb", request="", timeout_sec=timeout)
    if isinstance(reply, dict) and isinstance(reply.get("ipynb"), dict):
        return reply["ipynb"]
    return None


def locate(assignment: str, path: str | os.PathLike | None = None) -> tuple[dict, str, str]:
    """(notebook, where it came from, its file name) for the learner's notebook."""
    candidates: list[Path] = []
    if path is not None:
        given = Path(path)
        candidates = [given / f"{assignment}.ipynb"] if given.is_dir() else [given]
    else:
        if "google.colab" in sys.modules:
            try:
                notebook = _from_colab()
            except Exception as err:  # noqa: BLE001 - fall back to the disk, and say so
                print(f"(could not read the notebook from Colab: {err}; looking for a saved file instead)")
                notebook = None
            if notebook is not None:
                return notebook, "the notebook open in Colab", f"{assignment}.ipynb"
        session = os.environ.get("JPY_SESSION_NAME", "")
        if session.endswith(".ipynb"):
            candidates += [Path(session), Path.cwd() / Path(session).name]
        candidates += [
            Path.cwd() / f"{assignment}.ipynb",
            Path.cwd() / "notebooks" / assignment / f"{assignment}.ipynb",
        ]
    for candidate in candidates:
        if candidate.is_file():
            try:
                notebook = json.loads(candidate.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as err:
                raise NotebookNotFound(
                    f"{candidate} is not a valid notebook file ({err}): it cannot be graded"
                ) from None
            if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
                raise NotebookNotFound(f"{candidate} is JSON but not a notebook (no cells): it cannot be graded")
            return notebook, str(candidate), candidate.name
    tried = ", ".join(str(c) for c in candidates)
    raise NotebookNotFound(
        f"cannot find the notebook of {assignment} (looked for {tried}): pass its path, "
        f'e.g. check_before_submit("{assignment}", "path/to/{assignment}.ipynb")'
    )


# -- the check ----------------------------------------------------------------------------------------------
def _label(entry: dict) -> str:
    return role_label(entry["role"], entry["grade_id"])


def problems_in(notebook: dict, manifest: dict) -> tuple[list[str], list[str]]:
    """(problems that break grading, warnings) of ``notebook`` against its release manifest."""
    problems: list[str] = []
    warnings: list[str] = []
    cells = [c for c in notebook.get("cells", []) if isinstance(c, dict)]
    by_id: dict[str, list[tuple[int, dict]]] = {}
    for index, cell in enumerate(cells):
        cell_id = grade_id(cell)
        if cell_id:
            by_id.setdefault(cell_id, []).append((index, cell))
    expected = {entry["grade_id"]: entry for entry in manifest["cells"]}
    if not by_id and expected:
        problems.append(
            "no cell has nbgrader metadata any more: this happens when cells are copied into a new notebook, "
            "and the grader cannot find your answers or its tests"
        )
        return problems, warnings

    by_checksum = {checksum(c.get("source", "")): i for i, c in enumerate(cells) if not grade_id(c)}
    positions = []
    for entry in manifest["cells"]:
        found = by_id.get(entry["grade_id"], [])
        label = _label(entry)
        if not found:
            if entry["checksum"] and entry["checksum"] in by_checksum:
                problems.append(
                    f"{label} lost its nbgrader metadata (its text is there, cell {by_checksum[entry['checksum']] + 1})"
                )
            else:
                problems.append(f"{label} is missing: it was deleted, or its metadata was lost")
            continue
        if len(found) > 1:
            problems.append(
                f"{label} appears {len(found)} times (cells {', '.join(str(i + 1) for i, _ in found)}): keep only one"
            )
        index, cell = found[-1]
        positions.append((index, entry["grade_id"]))
        meta = nbgrader_meta(cell)
        if cell.get("cell_type") != entry["cell_type"]:
            problems.append(f"{label} was changed from a {entry['cell_type']} cell to a {cell.get('cell_type')} cell")
        changed = [flag for flag in FLAGS if bool(meta.get(flag, False)) != entry[flag]]
        if entry["grade"] and meta.get("points", 0) != entry["points"]:
            changed.append(f"points {entry['points']} -> {meta.get('points')}")
        if changed:
            problems.append(f"{label} has changed nbgrader metadata ({', '.join(changed)})")
        if entry["checksum"] and checksum(cell.get("source", "")) != entry["checksum"]:
            problems.append(f"{label} was edited: graded test cells must stay exactly as released")
        if entry["role"] == "solution" and any(stub in cell_text(cell.get("source", "")) for stub in STUBS):
            warnings.append(entry["grade_id"])
    order = [cell_id for _, cell_id in sorted(positions)]
    wanted = [cell_id for cell_id in expected if cell_id in order]
    if order != wanted:
        first = next(a for a, b in zip(order, wanted, strict=False) if a != b)
        problems.append(f"the graded cells are out of order ({first} has moved): put them back in the released order")
    unknown = sorted(set(by_id) - set(expected))
    if unknown:
        problems.append(
            f"cells with grade ids this assignment does not have: {', '.join(unknown[:5])} (a cell from another notebook?)"
        )
    return problems, warnings


def output_notes(notebook: dict) -> list[str]:
    """What the saved outputs of the graded cells say that costs (or does not cost) points: a test cell that
    wrote to standard error scores 0 under nbgrader; a Python warning shown by course_lib costs nothing."""
    from course_lib.notebook_warnings import first_warning

    notes = []
    for cell in notebook.get("cells", []):
        meta = nbgrader_meta(cell) if isinstance(cell, dict) else {}
        if not meta.get("grade_id") or cell.get("cell_type") != "code":
            continue
        streams = [o for o in cell.get("outputs", []) if isinstance(o, dict) and o.get("output_type") == "stream"]
        stderr = "".join(cell_text(o.get("text", "")) for o in streams if o.get("name") == "stderr")
        warning = first_warning(cell)
        if warning:
            notes.append(
                f"{meta['grade_id']} showed a Python warning (it costs no points, but read it): {warning[:120]}"
            )
        if stderr.strip() and meta.get("grade") and not meta.get("solution"):
            first = stderr.strip().splitlines()[0][:120]
            notes.append(
                f"{meta['grade_id']} printed on standard error ({first!r}): nbgrader scores a test cell that does 0 points; "
                "find what prints it (a warning, a progress bar, logging) in your code"
            )
    return notes


def _how_to_fix(assignment: str) -> str:
    in_colab = "google.colab" in sys.modules
    lines = [
        "How to fix it:",
        f"  1. Get a fresh copy of the released notebook (notebooks/{assignment}/{assignment}.ipynb in the course, "
        "or the link your instructor gave you).",
        "  2. Paste your answers into its solution cells (where it says # YOUR CODE HERE), one by one; "
        "leave the test cells as they are.",
        f"  3. Run this check in the fresh notebook, then submit that notebook as {assignment}.ipynb.",
    ]
    colab = (
        '  On Google Colab: open the fresh notebook from the course link; do not use "copy cells into a new '
        'notebook" (that drops the metadata); download it with File -> Download -> Download .ipynb.'
    )
    lines.append(colab if in_colab else colab.replace("  On Google Colab", "  (On Google Colab") + ")")
    return "\n".join(lines)


def check_before_submit(assignment: str, path: str | os.PathLike | None = None) -> bool:
    """Print whether the notebook of ``assignment`` is ready to submit; True when it is.

    ``path``: the notebook file (default: the notebook open in Colab, else ``<assignment>.ipynb`` in the
    current folder or in ``notebooks/<assignment>/``).
    """
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        print("pre-submit check: skipped while the notebook is being graded")
        return True
    try:
        manifest = load_manifest(assignment)
        notebook, where, name = locate(assignment, path)
    except (NotebookNotFound, ValueError, FileNotFoundError) as err:
        print(f"Pre-submit check of {assignment}: NOT READY\n  x {err}")
        return False
    problems, unanswered = problems_in(notebook, manifest)
    graded = manifest["cells"]
    tests = sum(1 for c in graded if c["role"] == "test")
    print(f"Pre-submit check of {assignment}: {where}")
    if name != manifest["notebook"]:
        print(f"  ! the file is named {name!r}: rename it to {manifest['notebook']!r} before you submit it")
    if unanswered:
        print(f"  ! not answered yet (still raise NotImplementedError()): {', '.join(unanswered)}")
    for note in output_notes(notebook):
        print(f"  ! {note}")
    if problems:
        for problem in problems:
            print(f"  x {problem}")
        print(f"NOT READY: {len(problems)} problem{'s' if len(problems) > 1 else ''} would cost you points at grading.")
        print(_how_to_fix(assignment))
        return False
    if graded:
        print(
            f"  ok: all {len(graded)} graded cells are there, once each, with their metadata; "
            f"the {tests} test cells are unchanged ({manifest['total_points']:g} points in all)."
        )
    else:
        print("  ok: this notebook has no graded cells.")
    if where.endswith(".ipynb"):
        print("  (this checked the saved file: save the notebook first if you changed it since)")
    print(
        "READY to submit."
        + (" Download it with File -> Download -> Download .ipynb." if "google.colab" in sys.modules else "")
    )
    return True


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m course_lib.presubmit", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebook", type=Path, help="the notebook to check")
    parser.add_argument("--assignment", help="which assignment (default: from the file name or its graded cells)")
    args = parser.parse_args(argv)
    assignment = args.assignment or guess_assignment(args.notebook)
    if assignment is None:
        print(f"cannot tell which assignment {args.notebook} is: pass --assignment NN_topic", file=sys.stderr)
        return 2
    return 0 if check_before_submit(assignment, args.notebook) else 1


def guess_assignment(path: Path) -> str | None:
    """The assignment a notebook belongs to: by its file name, else by the grade ids it shares with a manifest."""
    try:
        known = {p.stem: p for p in manifest_dir().glob("*.json")}
    except FileNotFoundError:
        return None
    if path.stem in known:
        return path.stem
    try:
        ids = {grade_id(c) for c in json.loads(path.read_text()).get("cells", [])} - {None}
    except (OSError, ValueError, AttributeError):
        return None
    overlap = {
        name: len(ids & {c["grade_id"] for c in json.loads(p.read_text())["cells"]}) for name, p in known.items()
    }
    best = max(overlap, key=lambda name: overlap[name], default=None)
    return best if best and overlap[best] else None


if __name__ == "__main__":
    sys.exit(main())
