"""Command line of the grader. Run it from the course root (where nbgrader_config.py is):

    python -m course_tools.grading autograde ASSIGNMENT [--jobs N] [--cell-timeout S] [--notebook-timeout S]

Submissions are read from nbgrader's layout, ``submitted/<student>/<assignment>/<assignment>.ipynb``.
Grades go into gradebook.db, graded notebooks into autograded/, feedback into feedback/, and the
reports (grades.csv, summary.md, summary.csv) into reports/<assignment>/.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_tools.grading", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    auto = sub.add_parser("autograde", help="grade every submission of one assignment")
    auto.add_argument("assignment")
    auto.add_argument("--jobs", "-j", type=int, default=1, help="students graded at the same time (default 1)")
    auto.add_argument(
        "--cell-timeout",
        type=int,
        default=None,
        help="seconds one cell may run (default: Execute.timeout of nbgrader_config.py)",
    )
    auto.add_argument(
        "--notebook-timeout", type=int, default=1800, help="seconds one notebook may run in all (default 1800)"
    )
    auto.add_argument(
        "--max-output", type=int, default=100_000, help="characters of output a cell keeps (default 100000)"
    )
    auto.add_argument("--memory", default="4G", help="memory one student's kernel may use (default 4G; e.g. 2G, 512M)")
    auto.add_argument(
        "--max-processes", type=int, default=256, help="processes and threads one student may have (default 256)"
    )
    auto.add_argument("--max-file-size", default="1G", help="largest file one student's code may write (default 1G)")
    auto.add_argument(
        "--cpu-time",
        type=int,
        default=0,
        help="CPU seconds one student's kernel may use (default: notebook timeout x threads per job + 60)",
    )
    auto.add_argument(
        "--executor",
        choices=("local", "dask"),
        default="local",
        help="local: --jobs processes on this machine (default); dask: one task per student on a Dask cluster",
    )
    auto.add_argument("--scheduler", help="with --executor dask: the scheduler's address, e.g. tcp://10.0.0.5:8786")
    auto.add_argument(
        "--local-cluster",
        type=int,
        default=0,
        metavar="N",
        help="with --executor dask: start a Dask LocalCluster of N workers on this machine (to try it)",
    )
    auto.add_argument("--student", action="append", dest="students", help="grade only this student (repeatable)")
    auto.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run student code without the bwrap sandbox (trusted submissions only)",
    )
    auto.add_argument(
        "--allow-read",
        action="append",
        default=[],
        type=Path,
        help="an extra folder the sandboxed code may read (repeatable)",
    )
    auto.add_argument("--root", type=Path, default=Path("."), help="the course root (default: the current folder)")
    auto.add_argument("--out", type=Path, default=None, help="reports folder (default: <root>/reports/<assignment>)")
    auto.add_argument(
        "--work-dir", type=Path, default=None, help="where scratch courses go (default: a temporary folder)"
    )
    auto.add_argument(
        "--keep-work", action="store_true", help="keep the scratch courses (to rerun nbgrader by hand in one)"
    )
    args = parser.parse_args(argv)

    from course_tools.grading.batch import Options, grade_assignment
    from course_tools.grading.limits import Limits, parse_bytes
    from course_tools.grading.sandbox import SandboxUnavailable

    try:
        limits = Limits(
            memory_bytes=parse_bytes(args.memory),
            max_processes=args.max_processes,
            file_bytes=parse_bytes(args.max_file_size),
            cpu_seconds=args.cpu_time,
        )
    except ValueError as err:
        parser.error(str(err))
    if args.max_processes < 8 or args.cpu_time < 0:
        parser.error("--max-processes must be at least 8 (a kernel needs a few threads) and --cpu-time not negative")
    if args.executor == "dask" and not (args.scheduler or args.local_cluster > 0):
        parser.error("--executor dask needs --scheduler tcp://HOST:PORT or --local-cluster N")
    if args.jobs < 1 or (args.cell_timeout is not None and args.cell_timeout < 1) or args.notebook_timeout < 1:
        parser.error("--jobs, --cell-timeout and --notebook-timeout must be at least 1")
    root = args.root.resolve()
    if not (root / "nbgrader_config.py").is_file():
        print(
            f"error: no nbgrader_config.py in {root}: run this from the course root (or pass --root)", file=sys.stderr
        )
        return 2
    options = Options(
        jobs=args.jobs,
        cell_timeout=args.cell_timeout,
        notebook_timeout=args.notebook_timeout,
        sandbox=not args.no_sandbox,
        max_output_bytes=args.max_output,
        students=args.students,
        out=args.out,
        work_dir=args.work_dir,
        keep_work=args.keep_work,
        readonly=[p.resolve() for p in args.allow_read],
        limits=limits,
        executor=args.executor,
        scheduler=args.scheduler,
        local_cluster=args.local_cluster,
    )

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)  # a scheduler's stop: kill the workers too, as for Ctrl-C
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # started in the background by a non-interactive shell
        signal.signal(signal.SIGINT, interrupted)
    try:
        results = grade_assignment(args.assignment, root, options)
    except SandboxUnavailable as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("grading interrupted", file=sys.stderr)
        return 130
    return 1 if any(r.status == "failed" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
