"""Helpers for tests that drive nbgrader on a scratch copy of the course."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from course_lib.nbcells import nbgrader_meta

ROOT = Path(__file__).resolve().parents[1]


def assignments() -> list[str]:
    folder = ROOT / "solutions"
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and any(p.glob("*.ipynb"))) if folder.is_dir() else []


def graded_assignments() -> list[str]:
    """Assignments with at least one autograded test cell."""
    return [name for name in assignments() if max_points(name) > 0]


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def max_points(name: str) -> float:
    path = ROOT / "solutions" / name / f"{name}.ipynb"
    return sum(nbgrader_meta(c).get("points", 0) for c in cells(path) if nbgrader_meta(c).get("grade"))


def nbgrader(course: Path, *args: str, env: dict | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    run = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}"],
        cwd=course,
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            **(env or {}),
        },
        timeout=timeout,
    )
    assert run.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    return run


def scratch_course(tmp: Path) -> Path:
    """A copy of the course (config, solutions, release) in ``tmp``: nbgrader never touches the repo."""
    course = tmp / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for folder in ("solutions", "notebooks"):
        shutil.copytree(ROOT / folder, course / folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return course


def submit(course: Path, student: str, name: str, notebook: Path) -> Path:
    target = course / "submitted" / student / name
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(notebook, target / f"{name}.ipynb")
    return target / f"{name}.ipynb"


def scores(course: Path, name: str) -> dict[str, tuple[float, float]]:
    """student -> (score, max_score) from the scratch course's gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {s.student.id: (s.score, s.max_score) for s in gb.assignment_submissions(name)}


def grade_scores(course: Path, name: str, student: str) -> dict[str, float]:
    """grade_id -> points earned for one student's notebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(name, name, student)
        return {g.name: g.score for g in nb.grades}


def error_outputs(notebook: Path) -> list[tuple[int, str]]:
    """(cell index, error name) for every cell whose outputs hold an error."""
    found = []
    for i, cell in enumerate(cells(notebook)):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append((i, f"{out.get('ename')}: {out.get('evalue')}"[:300]))
    return found
