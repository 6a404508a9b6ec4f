"""Run a student's kernel inside a bubblewrap (``bwrap``) sandbox.

The kernel sees a read-only system: ``/usr``, a few files of ``/etc``, the Python installation, the
virtual environment, course_lib, the course data and the one file of the instructor tools the kernel starts
through (:data:`LAUNCHER`; the rest of course_tools is not bound, unless it was installed into the environment
rather than with ``pip install -e``). The only writable places are the folder the
notebook runs in (a scratch copy for this one student) and a private ``/tmp``. There is no network
(``--unshare-net``), no view of other processes, and nothing of the course folder: not the gradebook,
not the other students' submissions. The kernel dies with the grading process (``--die-with-parent``).

The kernel talks to nbgrader over Unix sockets (jupyter's ``ipc`` transport) in a per-student runtime
folder that is bound into the sandbox, since the sandbox has no network to carry TCP.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

INSTALL_HINT = (
    "install bubblewrap: `sudo apt-get install bubblewrap` (Debian/Ubuntu), `sudo dnf install bubblewrap` "
    "(Fedora), or run `make setup` as root; or grade without isolation with --no-sandbox "
    "(only for submissions you trust: student code then runs with your permissions and network)"
)
ETC_FILES = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "timezone",
    "passwd",
    "group",
    "nsswitch.conf",
    "hosts",
    "fonts",
    "ssl",
    "alternatives",
    "mime.types",
    "matplotlibrc",
)
ENV_KEEP = (
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "COURSE_DATA_DIR",
    "COURSE_FAST",
    "COURSE_DEVICE",
    "HF_HUB_OFFLINE",
    "TRANSFORMERS_OFFLINE",
    "HF_DATASETS_OFFLINE",
    "TOKENIZERS_PARALLELISM",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NBGRADER_EXECUTION",
    "MPLBACKEND",
    "PYTHONHASHSEED",
)


#: The kernel starts through this file (``python LAUNCHER ... -- KERNEL``), the one part of course_tools it sees.
LAUNCHER = Path(__file__).resolve().with_name("launch.py")


class SandboxUnavailable(RuntimeError):
    """bwrap is missing or cannot create a sandbox on this machine."""


TMP_BYTES = 1 << 30  # the sandbox's private /tmp lives in memory: at most 1 GiB


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


_OPTIONS: dict[str, str] = {}


def supports(bwrap: str, option: str) -> bool:
    """Whether this bwrap knows ``option`` (``--size`` came with bubblewrap 0.7)."""
    if bwrap not in _OPTIONS:
        try:
            _OPTIONS[bwrap] = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.TimeoutExpired):
            _OPTIONS[bwrap] = ""
    return option in _OPTIONS[bwrap]


def python_paths() -> list[Path]:
    """What the kernel needs to start Python and import the course: installation, venv, the launcher, course_lib,
    data."""
    import course_lib

    package = Path(course_lib.__file__).resolve().parent
    paths = [Path(sys.base_prefix), Path(sys.prefix), Path(sys.executable).resolve().parent.parent, LAUNCHER, package]
    for data in (package / "_data", package.parent / "data"):
        if data.is_dir():
            paths.append(data)
    data_dir = os.environ.get("COURSE_DATA_DIR")
    if data_dir and Path(data_dir).is_dir():
        paths.append(Path(data_dir).resolve())
    unique: list[Path] = []
    for path in paths:
        path = path.resolve()
        if path not in unique and str(path) != "/":
            unique.append(path)
    return unique


@dataclass
class Sandbox:
    """How to wrap a command: ``Sandbox(writable=[...]).wrap(cmd, cwd=...)``."""

    writable: list[Path] = field(default_factory=list)
    readonly: list[Path] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    bwrap: str = ""

    def __post_init__(self):
        self.bwrap = self.bwrap or bwrap_path() or "bwrap"

    def argv(self, cwd: Path | None = None) -> list[str]:
        args = [
            self.bwrap,
            "--die-with-parent",
            "--unshare-net",
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--clearenv",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            *(["--size", str(TMP_BYTES)] if supports(self.bwrap, "--size") else []),
            "--tmpfs",
            "/tmp",
            "--ro-bind",
            "/usr",
            "/usr",
        ]
        for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
            if os.path.islink(top):
                args += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                args += ["--ro-bind", top, top]
        for name in ETC_FILES:
            args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
        for path in [*python_paths(), *self.readonly]:
            args += ["--ro-bind", str(path), str(path)]
        for path in self.writable:
            args += ["--bind", str(path), str(path)]
        env = {key: os.environ[key] for key in ENV_KEEP if key in os.environ}
        env.update(
            HOME="/tmp",
            MPLCONFIGDIR="/tmp/matplotlib",
            PATH=f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        )
        env.update(self.env)
        for key, value in env.items():
            args += ["--setenv", key, value]
        args += ["--remount-ro", "/"]
        if cwd is not None:
            args += ["--chdir", str(cwd)]
        return args

    def wrap(self, cmd: list[str], cwd: Path | None = None) -> list[str]:
        return [*self.argv(cwd), "--", *cmd]


def probe(bwrap: str | None = None) -> None:
    """Raise :class:`SandboxUnavailable`, naming the problem and the fix, unless a sandbox really starts here."""
    bwrap = bwrap or bwrap_path()
    if not bwrap:
        raise SandboxUnavailable(f"the grading sandbox needs `bwrap`, which is not installed: {INSTALL_HINT}")
    # Network isolation, proved without leaving the machine: a listener on this host's loopback, which a
    # process sharing the host's network reaches and a sandboxed one (its own, empty network) cannot.
    import socket

    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.setblocking(False)
        port = listener.getsockname()[1]
        test = (
            "import socket, sys\n"
            "try:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=5).close()\n"
            "except OSError:\n"
            "    sys.exit(0)\n"
            "sys.exit(3)"
        )
        cmd = Sandbox(bwrap=bwrap).wrap([sys.executable, "-c", test])
        try:
            run = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise SandboxUnavailable(f"`bwrap` could not be started ({err}): {INSTALL_HINT}") from None
        try:
            listener.accept()[0].close()
            reached = True
        except BlockingIOError:
            reached = False
    if run.returncode == 3 or reached:
        raise SandboxUnavailable("the bwrap sandbox still reaches the host's network; refusing to grade with it")
    if run.returncode != 0:
        detail = (run.stderr or run.stdout).strip().splitlines()[-1:] or ["no message"]
        hint = ""
        if "namespace" in detail[0].lower() or "permission" in detail[0].lower():
            hint = (
                " (user namespaces are disabled for your user: run as root, or allow them, e.g. "
                "`sudo sysctl -w kernel.unprivileged_userns_clone=1`, or on Ubuntu 24.04 "
                "`sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`)"
            )
        raise SandboxUnavailable(
            f"`bwrap` is installed but cannot create a sandbox here: {detail[0]}{hint}; or grade without isolation with --no-sandbox"
        )
