"""How long does grading a class take, with 1 and with 2 workers?

    python benchmarks/grading_batch.py                        # 50 submissions of 01_bottleneck_math, 1 then 2 workers
    python benchmarks/grading_batch.py --students 10 --jobs 1 2 4 --assignment 03_parameter_counts
    python benchmarks/grading_batch.py --students 200 --jobs 2 --dask 2   # then on a 2-worker Dask LocalCluster

Builds a scratch course (a copy of the course's nbgrader_config.py and the assignment's source), fills
``submitted/`` with generated submissions (a rotation of: correct, blank, one exercise wrong, metadata
stripped, a duplicated test cell, a renamed file), then runs ``course_tools.grading`` on the whole class
once per worker count (and with ``--dask N`` once more on a Dask LocalCluster of N workers), from a clean
gradebook each time. Prints the machine, the time per run and per student, students per hour, where a
student's time goes (worker start, kernel start, running the cells, feedback: the overhead is everything but
the cells), the projected hours for 1,000 students, and checks that every run gave the same grades. A
measurement, not a test.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [
    str(ROOT),
    str(ROOT / "instructor"),
]  # course_lib and the instructor tools (course_tools) of this checkout

from course_lib.nbcells import cell_role, cell_text, grade_id, is_graded, nbgrader_meta  # noqa: E402


def machine() -> str:
    cpu = "unknown CPU"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import nbgrader

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"nbgrader {nbgrader.__version__}, 1-minute load average {load:.1f}"
    )


def variants(master: dict, release: dict) -> list[tuple[str, dict]]:
    """(kind, notebook) for the kinds of submission the rotation cycles through."""
    answers = {
        grade_id(c): "\n".join(
            line for line in cell_text(c["source"]).splitlines() if not re.match(r"\s*### (BEGIN|END) SOLUTION", line)
        )
        for c in master["cells"]
        if cell_role(nbgrader_meta(c)) == "solution"
    }

    def solved(skip: set[str] = frozenset()) -> dict:
        nb = copy.deepcopy(release)
        for cell in nb["cells"]:
            if grade_id(cell) in answers and grade_id(cell) not in skip:
                cell["source"] = answers[grade_id(cell)]
        return nb

    correct = solved()
    one_wrong = solved(skip={sorted(answers)[0]})
    stripped = solved()
    for cell in stripped["cells"]:
        for key in ("nbgrader", "deletable", "editable"):
            cell["metadata"].pop(key, None)
    duplicated = solved()
    tests = [i for i, c in enumerate(duplicated["cells"]) if is_graded(nbgrader_meta(c))]
    duplicated["cells"].insert(tests[0] + 1, copy.deepcopy(duplicated["cells"][tests[0]]))
    return [
        ("correct", correct),
        ("blank", copy.deepcopy(release)),
        ("one wrong", one_wrong),
        ("stripped", stripped),
        ("duplicated", duplicated),
        ("renamed", correct),
    ]


def build_course(folder: Path, assignment: str, students: int) -> Path:
    course = folder / "course"
    (course / "solutions").mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(
        ROOT / "solutions" / assignment,
        course / "solutions" / assignment,
        ignore=shutil.ignore_patterns(".ipynb_checkpoints"),
    )
    run = subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force", "--no-db"],
        cwd=course,
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
    )
    if run.returncode:
        raise SystemExit(f"nbgrader generate_assignment failed:\n{run.stderr[-2000:]}")
    master = json.loads((course / "solutions" / assignment / f"{assignment}.ipynb").read_text())
    release = json.loads((course / "notebooks" / assignment / f"{assignment}.ipynb").read_text())
    kinds = variants(master, release)
    for k in range(students):
        kind, nb = kinds[k % len(kinds)]
        name = f"{assignment} (1).ipynb" if kind == "renamed" else f"{assignment}.ipynb"
        target = course / "submitted" / f"student{k:03d}" / assignment / name
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(nb))
    return course


def reset(course: Path) -> None:
    for name in ("gradebook.db", "autograded", "feedback", "reports"):
        path = course / name
        if path.is_dir():
            for sub in path.rglob("*"):
                sub.chmod(0o755 if sub.is_dir() else 0o644)
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


PHASES = ("prepare", "start", "kernel-start", "cells", "autograde", "feedback", "total", "record")


def phase_table(results) -> str:
    """Mean seconds per student in each phase of grading, and the overhead: everything but running the cells.

    ``total`` is the student's grading in its worker thread (prepare, the worker process: start, autograde,
    feedback); ``record`` is the parent's gradebook merge and copies afterwards, which the overhead includes."""
    graded = [r for r in results if r.phases.get("cells") is not None]
    if not graded:
        return "no student reached the notebook"
    mean = {p: sum(r.phases.get(p, 0.0) for r in graded) / len(graded) for p in PHASES}
    overhead = mean["total"] + mean["record"] - mean["cells"]
    parts = ", ".join(f"{p} {mean[p]:.2f}" for p in PHASES)
    return f"mean s per graded student ({len(graded)}): {parts}; overhead beyond running the cells {overhead:.2f} s"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignment", default="01_bottleneck_math")
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--no-sandbox", action="store_true", help="grade without bwrap (to measure what the sandbox costs)"
    )
    parser.add_argument(
        "--dask", type=int, default=0, metavar="N", help="also grade on a Dask LocalCluster of N workers"
    )
    args = parser.parse_args(argv)
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    from course_tools.grading.batch import Options, grade_assignment

    print(f"machine: {machine()}")
    print(
        f"grading {args.students} generated submissions of {args.assignment}, "
        f"{'without' if args.no_sandbox else 'with'} the bwrap sandbox"
    )
    with tempfile.TemporaryDirectory(prefix="grading-bench-") as tmp:
        course = build_course(Path(tmp), args.assignment, args.students)
        timings, grades = [], {}
        runs = [(f"--jobs {j}", j, Options(jobs=j, sandbox=not args.no_sandbox)) for j in args.jobs]
        if args.dask:
            runs.append(
                (
                    f"dask x{args.dask}",
                    args.dask,
                    Options(executor="dask", local_cluster=args.dask, sandbox=not args.no_sandbox),
                )
            )
        for label, jobs, options in runs:
            reset(course)
            started = time.monotonic()
            results = grade_assignment(args.assignment, course, options, log=lambda *a: None)
            seconds = time.monotonic() - started
            grades[label] = {r.student: (r.score, r.status) for r in results}
            statuses = {}
            for r in results:
                statuses[r.status] = statuses.get(r.status, 0) + 1
            timings.append((label, jobs, seconds, results))
            print(
                f"  {label}: {seconds:7.1f} s  ({seconds / args.students:.2f} s per student)  statuses {statuses}",
                flush=True,
            )
            print(f"    {phase_table(results)}", flush=True)
        base = timings[0][2]
        print(
            "\n| run | wall time (s) | s per student | students per hour | speed-up | 1,000 students on N such workers (h) |"
            "\n|---|---|---|---|---|---|"
        )
        for label, jobs, seconds, _results in timings:
            cpu_per_student = seconds * jobs / args.students  # worker-seconds per student
            projection = ", ".join(f"N={n}: {1000 * cpu_per_student / n / 3600:.1f}" for n in (2, 8, 32))
            print(
                f"| {label} | {seconds:.1f} | {seconds / args.students:.2f} | {3600 * args.students / seconds:.0f} | "
                f"{base / seconds:.2f}x | {projection} |"
            )
        same = all(g == grades[timings[0][0]] for g in grades.values())
        print(f"\nsame grades with every worker count: {'yes' if same else 'NO'}")
        print(f"load average after: {os.getloadavg()[0]:.1f}")
        return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
