"""The reports of a grading run, in ``reports/<assignment>/``:

* ``grades.csv``    student, assignment, score, max_score, status, reason (one row per student)
* ``summary.csv``   the same with one column per grade cell (points earned)
* ``summary.md``    a table of who failed which grade cell and why, the statuses explained
* ``results.json``  everything, for scripts
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

from course_tools.grading.results import STATUSES, StudentResult


def _points(x: float) -> str:
    return f"{x:g}"


def write_all(results: list[StudentResult], out: Path, assignment: str, seconds: float, options=None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "grades.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "assignment", "score", "max_score", "status", "reason"])
        for r in results:
            writer.writerow([r.student, assignment, _points(r.score), _points(r.max_score), r.status, r.reason])

    cell_ids = list(dict.fromkeys(c.grade_id for r in results for c in r.cells))
    with open(out / "summary.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "score", "max_score", "status", *cell_ids, "reason"])
        for r in results:
            by_id = {c.grade_id: c for c in r.cells}
            writer.writerow(
                [
                    r.student,
                    _points(r.score),
                    _points(r.max_score),
                    r.status,
                    *(_points(by_id[i].score) if i in by_id else "" for i in cell_ids),
                    r.reason,
                ]
            )

    (out / "summary.md").write_text(markdown(results, assignment, seconds, options))
    (out / "results.json").write_text(json.dumps([r.to_json() for r in results], indent=1))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(results: list[StudentResult], assignment: str, seconds: float, options=None) -> str:
    lines = [f"# Grading of {assignment}", ""]
    settings = ""
    if options is not None:
        settings = (
            f"; {options.jobs} worker(s), cell limit {options.cell_timeout or 'from nbgrader_config.py'} s, "
            f"notebook limit {options.notebook_timeout} s, {'sandboxed' if options.sandbox else 'NOT sandboxed'}"
        )
    lines.append(f"{len(results)} students, graded {time.strftime('%Y-%m-%d %H:%M')} in {seconds:.0f} s{settings}.")
    lines += ["", "| student | score | status | failed grade cells | reason |", "|---|---|---|---|---|"]
    for r in results:
        failed = ", ".join(f"{c.grade_id} ({_points(c.score)}/{_points(c.max_score)})" for c in r.failed_cells)
        lines.append(
            f"| {_cell(r.student)} | {_points(r.score)}/{_points(r.max_score)} | {r.status} | {_cell(failed)} | {_cell(r.reason)} |"
        )

    cell_ids = list(dict.fromkeys(c.grade_id for r in results for c in r.cells))
    lines += ["", "## Grade cells", "", "| grade cell | failed | students (first error) |", "|---|---|---|"]
    for grade_id in cell_ids:
        who = [(r.student, c.error) for r in results for c in r.cells if c.grade_id == grade_id and not c.passed]
        shown = "; ".join(f"{s}" + (f" ({e[:80]})" if e else "") for s, e in who[:8]) + (
            f"; and {len(who) - 8} more" if len(who) > 8 else ""
        )
        lines.append(f"| {grade_id} | {len(who)}/{len(results)} | {_cell(shown)} |")

    present = [s for s in STATUSES if any(r.status == s for r in results)]
    lines += ["", "## Statuses", ""]
    lines += [f"- **{s}** ({sum(r.status == s for r in results)}): {STATUSES[s]}" for s in present]
    return "\n".join(lines) + "\n"


def table(results: list[StudentResult]) -> str:
    """A plain-text table for the terminal."""
    rows = [("student", "score", "status", "failed grade cells", "reason")]
    for r in results:
        failed = ", ".join(c.grade_id for c in r.failed_cells)
        rows.append((r.student, f"{_points(r.score)}/{_points(r.max_score)}", r.status, failed or "-", r.reason or "-"))
    widths = [min(max(len(row[i]) for row in rows), limit) for i, limit in enumerate((24, 9, 17, 48, 200))]
    out = []
    for k, row in enumerate(rows):
        cells = [value if len(value) <= widths[i] else value[: widths[i] - 1] + "…" for i, value in enumerate(row)]
        out.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(cells)).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)
