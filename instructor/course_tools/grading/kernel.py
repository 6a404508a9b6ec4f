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


class GradingKernelManager(AsyncKernelManager):
    sandbox = Bool(True, help="run the kernel in the bwrap sandbox").tag(config=True)
    socket_dir = Unicode("", help="folder for the connection file and the kernel's Unix sockets").tag(config=True)
    readonly = List(Unicode(), help="extra folders the sandboxed kernel may read").tag(config=True)
    max_file_bytes = Integer(256 * 2**20, help="largest file the kernel may write").tag(config=True)
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
        cmd = [sys.executable, str(LAUNCHER), "--max-file-bytes", str(self.max_file_bytes), "--", *cmd]
        if not self.sandbox:
            return cmd
        cwd = (self._launch_args or {}).get("cwd")
        writable = [Path(self.connection_file).resolve().parent]
        if cwd:
            writable.append(Path(cwd).resolve())
        env = dict(item.split("=", 1) for item in self.kernel_env)
        env.setdefault("NBGRADER_EXECUTION", os.environ.get("NBGRADER_EXECUTION", "autograde"))
        box = Sandbox(writable=writable, readonly=[Path(p) for p in self.readonly], env=env)
        return box.wrap(cmd, cwd=Path(cwd).resolve() if cwd else None)
