"""What one student's code may use while it is graded, and how Linux enforces it.

=============  ==================  ===========================================================================
limit          default             enforced by
=============  ==================  ===========================================================================
memory         4 GiB (--memory)    ``RLIMIT_AS`` on the kernel: the allocation that would pass it fails with
                                   MemoryError (PyTorch: "can't allocate memory"); the kernel lives on
processes      256                 a control group per student (``pids.max``; cgroup v2, or v1's pids
               (--max-processes)   hierarchy) where this machine lets the grader make one; otherwise
                                   ``RLIMIT_NPROC``, which Linux does not apply to root: then a warning says
                                   the limit is not enforced
CPU time       notebook limit x    ``RLIMIT_CPU``: the kernel is stopped (SIGXCPU) when its threads together
               threads + 60 s      have used that much CPU time
file size      1 GiB               ``RLIMIT_FSIZE``: a write past it fails ("File too large")
               (--max-file-size)
/tmp           1 GiB               the sandbox's private /tmp is a tmpfs of that size ("No space left")
=============  ==================  ===========================================================================

Every process a student's kernel starts is gone when their grading ends: the sandbox's own PID namespace dies
with the kernel, and the control group (when there is one) is emptied with SIGKILL and removed.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

GIB = 1 << 30
DEFAULT_MEMORY = 4 * GIB
DEFAULT_PROCESSES = 256
DEFAULT_FILE_BYTES = 1 * GIB
CPU_GRACE_SECONDS = 60


def parse_bytes(text: str) -> int:
    """``4G``, ``512M``, ``1.5GiB``, ``1000000`` -> bytes."""
    value = str(text).strip().upper().removesuffix("IB").removesuffix("B")
    factor = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}.get(value[-1:], 1)
    number = value[:-1] if value[-1:] in "KMGT" and value[-1:] else value
    try:
        amount = float(number) * factor
    except ValueError:
        raise ValueError(f"not a size: {text!r} (use e.g. 4G, 512M or a number of bytes)") from None
    if amount <= 0:
        raise ValueError(f"a size must be positive, got {text!r}")
    return int(amount)


def human(n: int) -> str:
    for unit, size in (("GiB", GIB), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n} bytes"


# -- control groups ---------------------------------------------------------------------------------------
def _mounts() -> list[tuple[str, str, str]]:
    """(mount point, file system type, super options) of every mount."""
    found = []
    try:
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            left, _, right = line.partition(" - ")
            fields, tail = left.split(), right.split()
            if len(fields) >= 5 and len(tail) >= 3:
                found.append((fields[4], tail[0], tail[2]))
    except OSError:
        pass
    return found


def _own_cgroups() -> dict[str, str]:
    """controller (or "" for cgroup v2) -> this process's cgroup path."""
    found = {}
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                found[controller] = path
    except (OSError, ValueError):
        pass
    return found


def _pids_parent() -> tuple[Path, str] | None:
    """(folder under which to make a group with a pids limit, "cgroup v2" | "cgroup v1"), or None."""
    own = _own_cgroups()
    for point, fstype, _ in _mounts():
        if fstype == "cgroup2" and "" in own:
            parent = Path(point) / own[""].lstrip("/")
            controllers = (
                (parent / "cgroup.controllers").read_text().split() if (parent / "cgroup.controllers").is_file() else []
            )
            enabled = (
                (parent / "cgroup.subtree_control").read_text().split()
                if (parent / "cgroup.subtree_control").is_file()
                else []
            )
            if "pids" in controllers and "pids" in enabled and os.access(parent, os.W_OK):
                return parent, "cgroup v2"
    for point, fstype, options in _mounts():
        if fstype == "cgroup" and "pids" in options.split(",") and "pids" in own:
            parent = Path(point) / own["pids"].lstrip("/")
            if (parent / "pids.max").is_file() or (parent / "cgroup.procs").is_file():
                if os.access(parent, os.W_OK):
                    return parent, "cgroup v1"
    return None


@dataclass
class ProcessGroup:
    """One student's control group: at most ``max_processes`` processes, all killed by :meth:`close`."""

    folder: Path
    kind: str
    max_processes: int

    @classmethod
    def create(cls, max_processes: int, name: str = "") -> ProcessGroup | None:
        found = _pids_parent()
        if found is None:
            return None
        parent, kind = found
        folder = parent / f"course-grading-{name or 'student'}-{uuid.uuid4().hex[:8]}"
        try:
            folder.mkdir()
            (folder / "pids.max").write_text(str(max_processes))
        except OSError:
            try:
                folder.rmdir()
            except OSError:
                pass
            return None
        return cls(folder, kind, max_processes)

    def hits(self) -> int:
        """How many times a process could not start because of the limit."""
        try:
            for line in (self.folder / "pids.events").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "max":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def pids(self) -> list[int]:
        try:
            return [int(p) for p in (self.folder / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return []

    def close(self) -> int:
        """Kill every process left in the group, remove it; how many were killed."""
        killed = 0
        kill_file = self.folder / "cgroup.kill"
        for _ in range(50):
            left = self.pids()
            if not left:
                break
            if kill_file.is_file():
                try:
                    kill_file.write_text("1")
                except OSError:
                    pass
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.05)
        for _ in range(50):
            try:
                self.folder.rmdir()
                break
            except OSError:
                time.sleep(0.05)
        return killed


# -- what is enforced here ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Limits:
    memory_bytes: int = DEFAULT_MEMORY
    max_processes: int = DEFAULT_PROCESSES
    file_bytes: int = DEFAULT_FILE_BYTES
    cpu_seconds: int = 0  # 0: from the notebook limit (see cpu_for)

    @staticmethod
    def cpu_for(notebook_timeout: int, threads: int) -> int:
        return int(notebook_timeout) * max(1, threads) + CPU_GRACE_SECONDS


def enforcement(limits: Limits, cpu_seconds: int, tmp_bytes: int, sandbox: bool) -> tuple[list[str], list[str]]:
    """(one line per limit saying how it is enforced here, warnings for limits that are not)."""
    group = _pids_parent()
    lines = [
        f"memory {human(limits.memory_bytes)} (RLIMIT_AS)",
        f"CPU time {cpu_seconds} s (RLIMIT_CPU)",
        f"file size {human(limits.file_bytes)} (RLIMIT_FSIZE)",
    ]
    warnings = []
    if group is not None:
        lines.insert(1, f"processes {limits.max_processes} ({group[1]} pids.max)")
    elif os.geteuid() != 0:
        lines.insert(1, f"processes {limits.max_processes} (RLIMIT_NPROC)")
    else:
        lines.insert(1, f"processes {limits.max_processes} NOT ENFORCED")
        warnings.append(
            "the process limit is not enforced: no control group can be made here and RLIMIT_NPROC does not apply "
            "to root (grade as another user, or where the grader may create a cgroup)"
        )
    if sandbox:
        lines.append(f"/tmp {human(tmp_bytes)} (tmpfs)")
    else:
        warnings.append("without the sandbox, /tmp and the disk are the machine's own: only the file-size limit holds")
    return lines, warnings
