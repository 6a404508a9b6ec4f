"""The instructor's gradebook, written only from the grading parent process, one student at a time.

Each student is graded in a scratch course with its own throw-away copy of the gradebook; the
student's code never sees either. This module copies the assignment's structure into the instructor's
gradebook (what ``nbgrader generate_assignment`` would record), and merges each student's autograde
results with nbgrader's own API, the way ``nbgrader autograde`` stores them: ``auto_score`` and
``needs_manual_grade`` per grade cell, the "No response." comment of an untouched solution cell,
the late penalty. Other students' rows and manual grades are never touched.
"""

from __future__ import annotations

import functools
import sqlite3
import warnings
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry


def _quiet(function):
    """nbgrader's API makes SQLAlchemy 2 warn about its session use ("not in session"): harmless, silenced."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*not in session.*")
            return function(*args, **kwargs)

    return wrapper


def sqlite_path(db_url: str) -> Path | None:
    return Path(db_url[len("sqlite:///") :]) if db_url.startswith("sqlite:///") else None


def backup(db_url: str, target: Path) -> Path | None:
    """A consistent copy of an SQLite gradebook (None when there is none yet)."""
    path = sqlite_path(db_url)
    if path is None or not path.is_file():
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    return target


@_quiet
def due_date(db_url: str, course_id: str, assignment: str):
    """The assignment's due date in the gradebook at ``db_url`` (None: no gradebook, assignment or date)."""
    path = sqlite_path(db_url)
    if path is not None and not path.is_file():
        return None
    with Gradebook(db_url, course_id) as gb:
        try:
            return gb.find_assignment(assignment).duedate
        except MissingEntry:
            return None


@_quiet
def set_due_date(db_url: str, course_id: str, assignment: str, duedate) -> None:
    with Gradebook(db_url, course_id) as gb:
        gb.update_or_create_assignment(assignment, duedate=duedate)


@_quiet
def copy_structure(template_url: str, db_url: str, course_id: str, assignment: str) -> None:
    """Record the assignment, its notebooks and cells (from the template gradebook) in the instructor's."""
    with Gradebook(template_url, course_id) as src, Gradebook(db_url, course_id) as dst:
        source = src.find_assignment(assignment)
        try:
            dst.find_assignment(assignment)
        except MissingEntry:
            dst.add_assignment(assignment, duedate=source.duedate)
        for notebook in source.notebooks:
            dst.update_or_create_notebook(notebook.name, assignment)
            for cell in notebook.grade_cells:
                dst.update_or_create_grade_cell(
                    cell.name, notebook.name, assignment, max_score=cell.max_score, cell_type=cell.cell_type
                )
            for cell in notebook.solution_cells:
                dst.update_or_create_solution_cell(cell.name, notebook.name, assignment)
            for cell in notebook.task_cells:
                dst.update_or_create_task_cell(
                    cell.name, notebook.name, assignment, max_score=cell.max_score, cell_type=cell.cell_type
                )
            for cell in notebook.source_cells:
                dst.update_or_create_source_cell(
                    cell.name,
                    notebook.name,
                    assignment,
                    cell_type=cell.cell_type,
                    locked=cell.locked,
                    source=cell.source,
                    checksum=cell.checksum,
                )


@_quiet
def read_results(db_url: str, course_id: str, assignment: str, student: str) -> dict:
    """What autograde stored for one student (used by the worker on its scratch gradebook)."""
    with Gradebook(db_url, course_id) as gb:
        submission = gb.find_submission(assignment, student)
        notebooks = {}
        for nb in submission.notebooks:
            notebooks[nb.name] = {
                "grades": {
                    g.name: {
                        "auto_score": g.auto_score,
                        "max_score": g.max_score,
                        "needs_manual_grade": g.needs_manual_grade,
                    }
                    for g in nb.grades
                },
                "comments": {c.name: c.auto_comment for c in nb.comments},
                "late_submission_penalty": nb.late_submission_penalty,
            }
        return {"timestamp": submission.timestamp.isoformat() if submission.timestamp else None, "notebooks": notebooks}


@_quiet
def merge(db_url: str, course_id: str, assignment: str, student: str, results: dict) -> None:
    """Write one student's results (from :func:`read_results`, or zeros for a missing notebook)."""
    with Gradebook(db_url, course_id) as gb:
        gb.update_or_create_student(student)
        extra = {"timestamp": results["timestamp"]} if results.get("timestamp") else {}
        gb.update_or_create_submission(assignment, student, **extra)
        for notebook, data in results["notebooks"].items():
            submitted = gb.find_submission_notebook(notebook, assignment, student)
            for grade in submitted.grades:
                row = data["grades"].get(grade.name)
                if row is None:
                    continue
                grade.auto_score = row["auto_score"]
                grade.needs_manual_grade = bool(row["needs_manual_grade"]) or grade.manual_score is not None
            for comment in submitted.comments:
                if comment.name in data["comments"]:
                    comment.auto_comment = data["comments"][comment.name]
            submitted.late_submission_penalty = data.get("late_submission_penalty")
        gb.db.commit()


@_quiet
def zero_results(template_url: str, course_id: str, assignment: str) -> dict:
    """Results that give every grade cell 0: what nbgrader records for a notebook that is missing."""
    with Gradebook(template_url, course_id) as gb:
        notebooks = {}
        for nb in gb.find_assignment(assignment).notebooks:
            notebooks[nb.name] = {
                "grades": {
                    c.name: {"auto_score": 0.0, "max_score": c.max_score, "needs_manual_grade": False}
                    for c in nb.grade_cells
                },
                "comments": {},
                "late_submission_penalty": None,
            }
        return {"timestamp": None, "notebooks": notebooks}
