"""Start a student's kernel so that it cannot outlive grading or fill the disk.

    python .../course_tools/grading/launch.py --max-file-bytes N -- <kernel command ...>

Run as a file, not as a module: inside the sandbox this one file is all the kernel sees of the instructor tools,
so it imports nothing from them (nor anything heavy: it runs once per graded notebook).

Sets ``PR_SET_PDEATHSIG`` (Linux: the kernel is killed when the grading process dies, even when it
was started without the sandbox) and ``RLIMIT_FSIZE`` (a file the kernel writes cannot grow past N
bytes: the write fails with "File too large"), then replaces itself with the kernel.
"""

from __future__ import annotations

import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main(argv: list[str]) -> int:
    max_file_bytes = None
    if argv[:1] == ["--max-file-bytes"]:
        max_file_bytes, argv = int(argv[1]), argv[2:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print("usage: python launch.py [--max-file-bytes N] -- COMMAND ...", file=sys.stderr)
        return 2
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            return 1
    if max_file_bytes:
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails instead of killing the kernel
    os.execvp(argv[0], argv)
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
