"""Grade one student in their scratch course: ``python -m course_tools.grading.worker JOB.json``.

Runs in its own process (the parent kills it if it overruns), from the scratch course folder:
``nbgrader autograde ASSIGNMENT --student=ID`` then ``nbgrader generate_feedback``, through nbgrader's
own applications and the scratch ``nbgrader_config.py``. The student's kernel runs sandboxed (see
:mod:`course_tools.grading.kernel`). Writes ``result.json`` next to the job file: the scratch
gradebook's rows for this student, the first error of every grade cell, and what the limits did.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import traceback
from pathlib import Path

from course_lib.nbcells import cell_text, grade_id, is_graded, nbgrader_meta, source_lines

BLOCKED_MARKERS = (
    "Network is unreachable",
    "Temporary failure in name resolution",
    "Name or service not known",
    "No address associated with hostname",
    "Read-only file system",
    "Errno 101",
    "Connection refused",  # in the sandbox's own network nothing listens, not even on its loopback
    "Errno 111",
)


def run_app(app_class, argv: list[str]) -> str | None:
    """Run an nbgrader application in this process; None when it succeeded, else why not."""
    app = app_class()
    try:
        app.initialize(argv)
        app.start()
    except SystemExit as stop:
        if stop.code not in (0, None):
            return f"{app_class.__name__} exited with status {stop.code}"
    except Exception as err:  # noqa: BLE001 - reported to the parent, which decides
        return f"{app_class.__name__} failed: {type(err).__name__}: {err}"
    return None


def first_error(cell: dict) -> str:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            text = f"{out.get('ename')}: {out.get('evalue')}".strip()
            text = re.sub(r"\x1b\[[0-9;]*m", "", text)
            return text.splitlines()[0][:240] if text else str(out.get("ename"))
    return ""


def cell_label(notebook: dict, index: int) -> str:
    """How the report names a cell of the graded notebook: its grade_id, else its first line."""
    cells = notebook.get("cells", [])
    if not 0 <= index < len(cells):
        return f"cell {index}"
    cell = cells[index]
    cell_id = grade_id(cell)
    if cell_id:
        return f"cell {cell_id}"
    first = next((line.strip() for line in source_lines(cell.get("source"))), "")
    return f"cell {index} ({first[:40]!r})" if first else f"cell {index}"


def blocked_attempts(notebook: dict) -> list[str]:
    """Errors and prints that show the sandbox stopping something (network, a read-only file system)."""
    found = []
    for index, cell in enumerate(notebook.get("cells", [])):
        for out in cell.get("outputs", []):
            text = "".join(cell_text(out.get(key)) for key in ("evalue", "text"))  # a str, or a list of lines
            for marker in BLOCKED_MARKERS:
                if marker in text:
                    found.append(f"{marker} ({cell_label(notebook, index)})")
                    break
    return found


#: Text in a cell's output that shows a per-student limit stopping the code (course_tools.grading.limits).
LIMIT_MARKERS = {
    "memory": ("MemoryError", "can't allocate memory", "Cannot allocate memory", "std::bad_alloc"),
    "process": ("Resource temporarily unavailable", "can't start new thread", "[Errno 11]"),
    "disk": ("File too large", "[Errno 27]", "No space left on device", "[Errno 28]"),
}
LIMIT_NAMES = {"memory": "memory", "process": "processes", "cpu": "cpu", "disk": "disk"}
SIGXCPU = 24


def limits_hit(notebook: dict, limits: dict, ended: list[dict], process_hits: int) -> list[dict]:
    """{"limit", "text"} for each limit the student's code ran into, with the first cell where it showed."""
    found: dict[str, str] = {}
    for index, cell in enumerate(notebook.get("cells", [])):
        for out in cell.get("outputs", []):
            text = "".join(cell_text(out.get(key)) for key in ("ename", "evalue", "text"))
            for kind, markers in LIMIT_MARKERS.items():
                if kind not in found and any(marker in text for marker in markers):
                    found[kind] = cell_label(notebook, index)
    if process_hits and "process" not in found:
        found["process"] = "a cell"
    if any(end.get("signal") == SIGXCPU for end in ended):
        found["cpu"] = "the kernel"
    hits = []
    for kind, where in found.items():
        value = limits.get(LIMIT_NAMES[kind], "?")
        what = {
            "memory": f"the memory limit ({value})",
            "process": f"the limit of {value} processes and threads",
            "cpu": f"the CPU-time limit ({value})",
            "disk": f"the file-size limit ({value}) or the sandbox's /tmp",
        }[kind]
        hits.append({"limit": kind, "text": f"{where} ran into {what}", "what": what, "where": where})
    return hits


def add_feedback_note(graded: Path, hits: list[dict]) -> None:
    """A first cell in the graded notebook (and so in the feedback) saying which limit stopped the code."""
    notebook = json.loads(graded.read_text())
    lines = ["**Grading note.** While this notebook was graded, your code ran into a limit that every student has:", ""]
    lines += [f"* {hit['where']} ran into {hit['what']};" for hit in hits]
    lines += ["", "Cells that could not finish, and the cells after a stopped kernel, scored 0."]
    note = {"cell_type": "markdown", "metadata": {}, "source": "\n".join(lines)}
    if notebook.get("nbformat", 4) >= 4 and notebook.get("nbformat_minor", 0) >= 5:
        note["id"] = "grading-limit-note"
    notebook["cells"].insert(0, note)
    graded.write_text(json.dumps(notebook, indent=1))


def warnings_seen(notebook: dict) -> list[str]:
    """The Python warnings the notebook printed (course_lib.api shows them on stdout, marked), one per cell."""
    from course_lib.notebook_warnings import first_warning

    found = []
    for index, cell in enumerate(notebook.get("cells", [])):
        warning = first_warning(cell)
        if warning:
            found.append(f"{cell_label(notebook, index)}: {warning[:160]}")
    return found


def main(argv: list[str]) -> int:
    started = time.monotonic()
    job_path = Path(argv[0]).resolve()
    job = json.loads(job_path.read_text())
    course, assignment, student = Path(job["course"]), job["assignment"], job["student"]
    os.chdir(course)
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    os.environ.update(job.get("env", {}))

    from nbgrader.apps.autogradeapp import AutogradeApp
    from nbgrader.apps.generatefeedbackapp import GenerateFeedbackApp

    from course_tools.grading import execute, kernel
    from course_tools.grading.gradebook import read_results
    from course_tools.grading.limits import ProcessGroup

    limits = job.get("limits", {})
    group = ProcessGroup.create(int(limits["processes"]), student) if limits.get("processes") else None
    if group is not None:
        os.environ[kernel.CGROUP_ENV] = str(group.folder)

    result: dict = {"failure": None, "feedback_failure": None, "phases": {}}
    phases = result["phases"]  # seconds spent in each step, for benchmarks/grading_batch.py
    # from the moment the parent started this process (Python and nbgrader imports included, when not preloaded)
    phases["start"] = round(
        time.time() - job.get("spawned", time.time()) if job.get("spawned") else time.monotonic() - started, 2
    )
    common = [assignment, f"--student={student}", "--force"]
    mark = time.monotonic()
    try:
        result["failure"] = run_app(AutogradeApp, common)
    finally:
        process_hits = group.hits() if group is not None else 0
        result["stray_processes"] = group.close() if group is not None else 0
    phases["autograde"] = round(time.monotonic() - mark, 2)
    phases.update(execute.TIMES)
    graded = course / "autograded" / student / assignment / f"{assignment}.ipynb"
    result["events"] = execute.EVENTS
    if graded.is_file():
        notebook = json.loads(graded.read_text())
        result["errors"] = {grade_id(c): first_error(c) for c in notebook["cells"] if is_graded(nbgrader_meta(c))}
        result["blocked"] = blocked_attempts(notebook)
        result["warnings"] = warnings_seen(notebook)
        ended = []
        for status in kernel.STATUS_FILES:
            try:
                ended.append(json.loads(Path(status).read_text()))
            except (OSError, ValueError):
                pass
        result["limits_hit"] = limits_hit(notebook, limits, ended, process_hits)
        if result["limits_hit"]:
            add_feedback_note(graded, result["limits_hit"])
        for event in result["events"]:
            event["label"] = cell_label(notebook, event["cell"])
        result["autograded"] = str(graded)
        mark = time.monotonic()
        result["feedback_failure"] = run_app(GenerateFeedbackApp, common)
        phases["feedback"] = round(time.monotonic() - mark, 2)
        feedback = course / "feedback" / student / assignment / f"{assignment}.html"
        result["feedback"] = str(feedback) if feedback.is_file() else None
    elif result["failure"] is None:
        result["failure"] = "nbgrader autograde wrote no graded notebook"
    if result["failure"] is None:
        try:
            result["gradebook"] = read_results(
                f"sqlite:///{course / 'gradebook.db'}", job["course_id"], assignment, student
            )
        except Exception as err:  # noqa: BLE001
            result["failure"] = f"cannot read the scratch gradebook: {err}"
    (job_path.parent / "result.json").write_text(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception:  # noqa: BLE001 - the traceback goes to the worker log, the parent reports it
        traceback.print_exc()
        sys.exit(1)
