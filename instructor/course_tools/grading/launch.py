"""Start a student's kernel inside its limits, so that it cannot outlive grading or take the machine down.

    python .../course_tools/grading/launch.py [LIMITS] -- <kernel command ...>

Run as a file, not as a module: inside the sandbox this one file is all the kernel sees of the instructor tools,
so it imports nothing from them (nor anything heavy: it runs once per graded notebook). Two uses:

* outside the sandbox, ``--join-cgroup DIR`` (repeatable) moves this process into a control group (the
  per-student group that bounds the number of processes) and then runs the rest, ``bwrap ...``, which
  starts inside the group, as does everything the kernel starts;
* inside the sandbox (or alone, with ``--no-sandbox``), it sets ``PR_SET_PDEATHSIG`` (the kernel is killed
  when its launcher dies) and the resource limits, then starts the kernel and waits for it:

  ``--max-file-bytes N``  ``RLIMIT_FSIZE``: a file cannot grow past N bytes (the write fails, "File too large")
  ``--memory-bytes N``    ``RLIMIT_AS``: the allocation that would pass N bytes fails (MemoryError)
  ``--cpu-seconds N``     ``RLIMIT_CPU``: at N seconds of CPU time the kernel is stopped (SIGXCPU)
  ``--max-processes N``   ``RLIMIT_NPROC`` (not enforced for root, whose processes the control group bounds)
  ``--status FILE``       how the kernel ended (exit code or signal), as JSON, for the grader's report

The launcher stays the kernel's parent and records the signal that ended the kernel (SIGXCPU means the
CPU-time limit).
"""

from __future__ import annotations

import json
import os
import signal
import sys

PR_SET_PDEATHSIG = 1
OPTIONS = ("--max-file-bytes", "--memory-bytes", "--cpu-seconds", "--max-processes", "--status", "--join-cgroup")


def parse(argv: list[str]) -> tuple[dict, list[str]]:
    options: dict = {"--join-cgroup": []}
    while argv and argv[0] in OPTIONS:
        name, value, argv = argv[0], argv[1], argv[2:]
        if name == "--join-cgroup":
            options[name].append(value)
        else:
            options[name] = value
    if argv[:1] == ["--"]:
        argv = argv[1:]
    return options, argv


def die_with_parent() -> bool:
    """PR_SET_PDEATHSIG: SIGKILL when the parent dies. False when the parent is already gone."""
    if not sys.platform.startswith("linux"):
        return True
    import ctypes

    parent = os.getppid()
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    return os.getppid() == parent


def set_limits(options: dict) -> None:
    import resource

    def limit(kind: int, value: int, hard: int | None = None) -> None:
        _, current_hard = resource.getrlimit(kind)
        hard = value if hard is None else hard
        if current_hard != resource.RLIM_INFINITY:
            value, hard = min(value, current_hard), min(hard, current_hard)
        resource.setrlimit(kind, (value, hard))

    if options.get("--max-file-bytes"):
        limit(resource.RLIMIT_FSIZE, int(options["--max-file-bytes"]))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails instead of killing the kernel
    if options.get("--memory-bytes"):
        limit(resource.RLIMIT_AS, int(options["--memory-bytes"]))
    if options.get("--cpu-seconds"):
        seconds = int(options["--cpu-seconds"])
        limit(resource.RLIMIT_CPU, seconds, seconds + 5)  # SIGXCPU at the soft limit, SIGKILL at the hard one
    if options.get("--max-processes") and os.geteuid() != 0:
        limit(resource.RLIMIT_NPROC, int(options["--max-processes"]))


def join_cgroups(folders: list[str]) -> None:
    for folder in folders:
        with open(os.path.join(folder, "cgroup.procs"), "w") as procs:
            procs.write(str(os.getpid()))


def supervise(argv: list[str], status_file: str | None) -> int:
    """Run the kernel as a child and record how it ended. Jupyter signals the kernel's whole process group
    (interrupt, terminate), which holds the child too: the launcher itself only waits (its handlers do nothing,
    and are reset to the default in the child when it starts the kernel)."""
    for passed_on in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(passed_on, lambda number, frame: None)
    child = os.fork()
    if child == 0:
        try:
            if die_with_parent():
                os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except ChildProcessError:
            return 1
        except InterruptedError:  # pragma: no cover - retried by Python itself since 3.5
            continue
    ended = {"signal": os.WTERMSIG(status)} if os.WIFSIGNALED(status) else {"exit": os.WEXITSTATUS(status)}
    if status_file:
        try:
            with open(status_file, "w") as out:
                json.dump(ended, out)
        except OSError:
            pass
    return 128 + ended["signal"] if "signal" in ended else ended["exit"]


def main(argv: list[str]) -> int:
    options, argv = parse(argv)
    if not argv:
        print("usage: python launch.py [LIMITS] -- COMMAND ...", file=sys.stderr)
        return 2
    if options["--join-cgroup"]:  # outside the sandbox: join the student's control group, then start bwrap
        join_cgroups(options["--join-cgroup"])
        os.execvp(argv[0], argv)
    if not die_with_parent():  # the parent died before prctl took effect
        return 1
    set_limits(options)
    return supervise(argv, options.get("--status"))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
