"""The kernel manager nbgrader uses while grading: every kernel starts through
:mod:`course_tools.grading.launch` (run as a file: :data:`.sandbox.LAUNCHER`), inside the bwrap sandbox unless
grading runs with ``--no-sandbox``.

Configured from the scratch course's ``nbgrader_config.py``::

    c.Execute.kernel_manager_class = "course_tools.grading.kernel.GradingKernelManager"
    c.GradingKernelManager.sandbox = True
    c.GradingKernelManager.socket_dir = "/tmp/cgk-..."     # short: Unix socket paths are limited to 107 bytes
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Integer, List, Unicode, default

from course_tools.grading.sandbox import LAUNCHER, Sandbox

#: Environment variable naming the student's control group folder (set by the worker when it made one).
CGROUP_ENV = "COURSE_GRADING_CGROUP"
#: Where each kernel's launcher wrote how the kernel ended (read by the worker after grading).
STATUS_FILES: list[str] = []


class GradingKernelManager(AsyncKernelManager):
    sandbox = Bool(True, help="run the kernel in the bwrap sandbox").tag(config=True)
    socket_dir = Unicode("", help="folder for the connection file and the kernel's Unix sockets").tag(config=True)
    readonly = List(Unicode(), help="extra folders the sandboxed kernel may read").tag(config=True)
    max_file_bytes = Integer(2**30, help="largest file the kernel may write").tag(config=True)
    memory_bytes = Integer(4 * 2**30, help="address space the kernel may use (RLIMIT_AS)").tag(config=True)
    max_processes = Integer(256, help="processes the kernel may have (cgroup pids.max, or RLIMIT_NPROC)").tag(
        config=True
    )
    cpu_seconds = Integer(0, help="CPU time the kernel may use (RLIMIT_CPU; 0: no limit)").tag(config=True)
    kernel_env = List(Unicode(), help="NAME=VALUE pairs set in the kernel's environment").tag(config=True)

    log_file = Unicode("", help="file that receives the kernel process's own stdout and stderr").tag(config=True)

    @default("transport")
    def _default_transport(self) -> str:
        # The sandbox has no network, not even one shared with nbgrader: talk over Unix sockets.
        return "ipc" if sys.platform != "win32" else "tcp"

    @property
    def kernel_spec(self):
        spec = super().kernel_spec
        if spec is not None and self.sandbox:
            # A SIGINT to the process group would hit bwrap, which would take the kernel down with it:
            # interrupt through the control channel instead (ipykernel supports it).
            spec.interrupt_mode = "message"
        return spec

    async def _async_pre_start_kernel(self, **kw):
        if self.socket_dir:
            folder = Path(self.socket_dir)
            folder.mkdir(parents=True, exist_ok=True)
            name = uuid.uuid4().hex[:8]
            self.connection_file = str(folder / f"k{name}.json")
            if self.transport == "ipc":
                self.ip = str(folder / f"k{name}")
        if self.log_file:
            log = open(self.log_file, "ab")  # noqa: SIM115 - handed to the kernel process, closed with it
            kw.setdefault("stdout", log)
            kw.setdefault("stderr", log)
        return await super()._async_pre_start_kernel(**kw)

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        status = str(Path(self.connection_file).with_suffix(".status")) if self.connection_file else ""
        if status:
            STATUS_FILES.append(status)
        limits = [
            "--max-file-bytes",
            str(self.max_file_bytes),
            "--memory-bytes",
            str(self.memory_bytes),
            "--max-processes",
            str(self.max_processes),
            *(["--cpu-seconds", str(self.cpu_seconds)] if self.cpu_seconds else []),
            *(["--status", status] if status else []),
        ]
        cmd = [sys.executable, str(LAUNCHER), *limits, "--", *cmd]
        # The student's control group (made by the worker, course_tools.grading.limits): joined before the
        # sandbox starts, so that every process of the kernel is in it.
        group = os.environ.get(CGROUP_ENV, "")
        join = [sys.executable, str(LAUNCHER), "--join-cgroup", group, "--"] if group else []
        if not self.sandbox:
            return [*join, *cmd]
        cwd = (self._launch_args or {}).get("cwd")
        writable = [Path(self.connection_file).resolve().parent]
        if cwd:
            writable.append(Path(cwd).resolve())
        env = dict(item.split("=", 1) for item in self.kernel_env)
        env.setdefault("NBGRADER_EXECUTION", os.environ.get("NBGRADER_EXECUTION", "autograde"))
        box = Sandbox(writable=writable, readonly=[Path(p) for p in self.readonly], env=env)
        return [*join, *box.wrap(cmd, cwd=Path(cwd).resolve() if cwd else None)]
