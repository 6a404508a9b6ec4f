"""The processes that grade one student each, started cheaply.

Every student is graded in a process of its own (the parent kills it, and its kernel, when it overruns), but
starting Python and importing nbgrader takes seconds, paid again for every student. The worker processes are
forked instead from a *fork server* (``multiprocessing``'s forkserver) that imported nbgrader and the
grading modules once: a student's process starts with them loaded, in its own session (so that the parent can
kill its whole process group), its output going to the student's ``worker.log``.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from pathlib import Path

#: Imported once, in the fork server, before any student's process is forked from it.
PRELOAD = [
    "course_tools.grading.worker",
    "course_tools.grading.preload",
]

_context: multiprocessing.context.ForkServerContext | None = None


def context() -> multiprocessing.context.ForkServerContext:
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(PRELOAD)
    return _context


def _run(job: str, log: str, cwd: str, env: dict[str, str]) -> None:
    """In the forked process: a new session, output to the log, the job's environment and folder, then the worker."""
    os.setsid()
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    code = 1
    try:
        from course_tools.grading.worker import main

        code = main([job])
    except BaseException:  # noqa: BLE001 - the traceback goes to the log, the parent reports it
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


class WorkerProcess:
    """``python -m course_tools.grading.worker JOB`` for one student, forked from the fork server."""

    def __init__(self, job: Path, log: Path, cwd: Path, env: dict[str, str]):
        self.process = context().Process(target=_run, args=(str(job), str(log), str(cwd), env), daemon=False)
        self.process.start()
        self.pid = self.process.pid

    def wait(self, timeout: float | None) -> int | None:
        """The exit code, or None when the process still runs after ``timeout`` seconds."""
        self.process.join(timeout)
        return self.process.exitcode

    @property
    def returncode(self) -> int | None:
        return self.process.exitcode

    def kill_group(self) -> None:
        """Kill the process and everything in its session (the student's kernel included)."""
        for target in (lambda: os.killpg(self.pid, signal.SIGKILL), lambda: os.kill(self.pid, signal.SIGKILL)):
            try:
                target()
            except (ProcessLookupError, PermissionError):
                pass
        self.process.join()
