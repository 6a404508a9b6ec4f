"""Grading students on a Dask cluster: ``--executor dask --scheduler tcp://HOST:PORT`` (or ``--local-cluster N``).

Each student is one task. Its input is the student's scratch course as files (the assignment's source, the
template gradebook, the grading configuration without any path of this machine, the submission); its output
is what grading produced there (the worker's result, the graded notebook, the feedback, the end of the log).
The task runs on any machine of the cluster that has the course's Python environment (course_lib, nbgrader,
bubblewrap, the instructor tools): it rebuilds the scratch course in a temporary folder, runs the same worker
as ``--jobs`` does, in a process of its own (killed with its kernel when it overruns), and removes the folder.
That process is forked from a fork server of the cluster worker, which imports nbgrader once for all its tasks
(:mod:`course_tools.grading.processes`), unless the cluster worker is a daemon process (Dask's default, which
``--local-cluster`` turns off), which may not have children of its own: then each task starts a fresh Python.

The gradebook, the course folders and the reports stay with the parent, which merges each result as it arrives.
When a worker dies the scheduler runs the task again elsewhere; a task that fails twice is reported for that
student (status ``failed``), never dropped. ``dask-jobqueue`` (Slurm, PBS, ...) and ``dask-kubernetes`` start
workers that a scheduler address reaches the same way.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from course_tools.grading.processes import WorkerProcess

#: Placeholders in a task's nbgrader_config.py for the paths of the machine that runs it.
ROOT, SOCKETS, KERNEL_LOG = "@@SCRATCH_ROOT@@", "@@SOCKET_DIR@@", "@@KERNEL_LOG@@"


def pack(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (a student's scratch course), by relative path."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def unpack(files: dict[str, bytes], folder: Path) -> None:
    for name, data in files.items():
        target = (folder / name).resolve()
        if folder.resolve() not in target.parents:
            raise ValueError(f"a task file points outside its folder: {name!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def run_worker(job: Path, log: Path, course: Path, env: dict[str, str], limit: float) -> tuple[bool, int | None]:
    """Run the grading worker for one job, killed with everything it started after ``limit`` seconds:
    (timed out, exit code)."""
    if not multiprocessing.current_process().daemon:
        worker = WorkerProcess(job, log, course, env)
        if worker.wait(timeout=limit) is None:
            worker.kill_group()
            return True, worker.returncode
        return False, worker.returncode
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "course_tools.grading.worker", str(job)],
            cwd=course,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            process.wait(timeout=limit)
            return False, process.returncode
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            process.wait()
            return True, process.returncode


def grade_task(task: dict) -> dict:
    """Run on a cluster worker: grade one student from their packed scratch course; the outputs as bytes.

    ``task``: ``files`` (the scratch course, packed), ``config`` (its nbgrader_config.py, with :data:`ROOT`,
    :data:`SOCKETS` and :data:`KERNEL_LOG` where this machine's paths go), ``job`` (the worker's job without
    ``course``), ``limit`` (seconds before the worker is killed), ``die_once`` (tests: a marker file whose
    absence makes this worker process exit, as a crashed machine would, the first time only).
    """
    if task.get("die_once") and not Path(task["die_once"]).exists():
        Path(task["die_once"]).write_text("died once")
        os._exit(1)  # a worker that dies mid-task: the scheduler must run the task again elsewhere
    base = Path(tempfile.mkdtemp(prefix="grading-task-"))
    sockets = Path(tempfile.mkdtemp(prefix="cgk-"))  # short: Unix socket paths are limited to 107 bytes
    try:
        course = base / "course"
        unpack(task["files"], course)
        config = (
            task["config"]
            .replace(ROOT, str(course))
            .replace(SOCKETS, str(sockets))
            .replace(KERNEL_LOG, str(base / "kernel.log"))
        )
        (course / "nbgrader_config.py").write_text(config)
        job = {**task["job"], "course": str(course), "spawned": time.time()}
        (base / "job.json").write_text(json.dumps(job))
        env = dict(os.environ)
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        timed_out, returncode = run_worker(base / "job.json", base / "worker.log", course, env, task["limit"])
        reply: dict = {"timed_out": timed_out, "returncode": returncode, "host": os.uname().nodename}
        result_path = base / "result.json"
        reply["result"] = json.loads(result_path.read_text()) if result_path.is_file() else None
        reply["log"] = (base / "worker.log").read_bytes()[-20000:]
        outputs = {}
        for key in ("autograded", "feedback"):
            path = (reply["result"] or {}).get(key)
            if path and Path(path).is_file():
                outputs[key] = (str(Path(path).relative_to(course)), Path(path).read_bytes())
                for extra in ("timestamp.txt", "submission_secret.txt"):
                    side = Path(path).parent / extra
                    if side.is_file():
                        outputs[f"{key}:{extra}"] = (str(side.relative_to(course)), side.read_bytes())
        reply["outputs"] = outputs
        return reply
    finally:
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(sockets, ignore_errors=True)


class DaskExecutor:
    """Submits grading tasks to a Dask scheduler (or a LocalCluster it starts) and waits for them."""

    def __init__(self, scheduler: str | None = None, local_workers: int = 0):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise RuntimeError(
                "--executor dask needs the dask.distributed package: pip install 'dask[distributed]' "
                "(or pip install -e './instructor[dask]')"
            ) from None
        self.cluster = None
        if local_workers:
            import dask

            dask.config.set({"distributed.scheduler.allowed-failures": 1})  # a task that kills 2 workers fails
            # not daemons, so that each worker forks its students' graders from a preloaded fork server
            dask.config.set({"distributed.worker.daemon": False})
            self.cluster = LocalCluster(
                n_workers=local_workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
            self.client = Client(self.cluster)
        elif scheduler:
            self.client = Client(scheduler, timeout="60s")
        else:
            raise ValueError("--executor dask needs --scheduler tcp://HOST:PORT or --local-cluster N")

    @property
    def slots(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    def run(self, task: dict, timeout: float) -> dict:
        """The task's reply; raises when it failed twice (a KilledWorker, or an error inside it)."""
        future = self.client.submit(
            grade_task, task, pure=False, retries=1, key=f"grade-{task['job']['student']}-{time.time_ns()}"
        )
        return future.result(timeout=timeout)

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
