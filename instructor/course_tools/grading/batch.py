"""Grade every student of one assignment: :func:`grade_assignment`.

1. A template scratch course runs ``nbgrader generate_assignment`` on the source notebook.
2. Each student, in a worker thread (``--jobs N`` at a time): find and read the notebook, repair its
   metadata against the source, scan the code, build the student's scratch course and run
   :mod:`course_tools.grading.worker` in a child process with a hard time limit.
3. The main thread alone writes the instructor's gradebook, one student at a time, as results arrive
   (after backing it up), and copies the graded notebook and the feedback into the course.
4. Reports: ``grades.csv``, ``summary.md``, ``summary.csv``, ``results.json`` (see :mod:`.report`).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from course_tools.grading import gradebook, report
from course_tools.grading.course import Course, make_student_course, make_template, nbgrader_env, scratch_config
from course_tools.grading.guard import guard_tests
from course_tools.grading.limits import Limits, enforcement, human
from course_tools.grading.locate import NotebookUnreadable, ensure_cell_ids, find_notebook, read_notebook
from course_tools.grading.processes import WorkerProcess
from course_tools.grading.repair import repair
from course_tools.grading.results import NOT_RECORDED, CellGrade, StudentResult
from course_tools.grading.scan import SourceFacts, scan

GRACE_SECONDS = 120
# Repair and scan parse learner code with ``ast``, which is not safe to run in several threads at once
# on every Python version ("AST constructor recursion depth mismatch" on 3.11): one student at a time.
_PARSE_LOCK = (
    threading.Lock()
)  # nbgrader's own work around the notebook: start-up, sanitising, feedback, kernel shutdown


@dataclass
class Options:
    jobs: int = 1
    cell_timeout: int | None = None  # None: the course's nbgrader_config.py (Execute.timeout)
    notebook_timeout: int = 1800
    sandbox: bool = True
    max_output_bytes: int = 100_000
    students: list[str] | None = None
    out: Path | None = None  # reports folder (default: <course>/reports/<assignment>)
    work_dir: Path | None = None  # scratch courses (default: a temporary folder, removed afterwards)
    keep_work: bool = False
    readonly: list[Path] = field(default_factory=list)  # extra folders the sandboxed kernel may read
    limits: Limits = field(default_factory=Limits)  # memory, processes, CPU time, file size per student
    executor: str = "local"  # "local": --jobs processes on this machine; "dask": tasks on a Dask cluster
    scheduler: str | None = None  # the Dask scheduler's address (tcp://HOST:PORT)
    local_cluster: int = 0  # with executor "dask": start a LocalCluster of this many workers instead

    @property
    def threads(self) -> int:
        return max(1, (os.cpu_count() or 1) // max(1, self.jobs))

    @property
    def cpu_seconds(self) -> int:
        return self.limits.cpu_seconds or Limits.cpu_for(self.notebook_timeout, self.threads)


def _grading_config(options: Options, socket_dir: Path, kernel_log: Path) -> str:
    lines = [
        'c.Autograde.autograde_preprocessors = ["course_tools.grading.execute.GuardedExecute", '
        '"nbgrader.preprocessors.IgnorePattern", "nbconvert.preprocessors.ClearMetadataPreprocessor", '
        '"nbgrader.preprocessors.LimitOutput", "nbgrader.preprocessors.SaveAutoGrades", '
        '"nbgrader.preprocessors.AssignLatePenalties", "nbgrader.preprocessors.CheckCellMetadata"]',
        f"c.GuardedExecute.notebook_timeout = {int(options.notebook_timeout)}",
        f"c.GuardedExecute.max_output_bytes = {int(options.max_output_bytes)}",
        f"c.GradingKernelManager.sandbox = {bool(options.sandbox)}",
        f"c.GradingKernelManager.socket_dir = {str(socket_dir)!r}",
        f"c.GradingKernelManager.log_file = {str(kernel_log)!r}",
        f"c.GradingKernelManager.readonly = {[str(p) for p in options.readonly]!r}",
        f"c.GradingKernelManager.max_file_bytes = {int(options.limits.file_bytes)}",
        f"c.GradingKernelManager.memory_bytes = {int(options.limits.memory_bytes)}",
        f"c.GradingKernelManager.max_processes = {int(options.limits.max_processes)}",
        f"c.GradingKernelManager.cpu_seconds = {int(options.cpu_seconds)}",
    ]
    if options.cell_timeout is not None:
        lines.append(f"c.Execute.timeout = {int(options.cell_timeout)}")
    return "\n".join(lines) + "\n"


def _tail(path: Path, lines: int = 8) -> str:
    if not path.is_file():
        return ""
    text = path.read_text(errors="replace").strip().splitlines()
    return " | ".join(line.strip() for line in text[-lines:] if line.strip())[-600:]


class Grader:
    def __init__(self, course: Course, assignment: str, options: Options, work: Path):
        self.course, self.assignment, self.options, self.work = course, assignment, options, work
        self.running: set[WorkerProcess] = set()  # worker processes, stopped all at once on Ctrl-C
        self.stopping = False
        self.executor = None  # a DaskExecutor when grading on a cluster
        self._lock = threading.Lock()
        self.template = make_template(course, assignment, work / "template")
        self.template_url = f"sqlite:///{self.template / 'gradebook.db'}"
        due = gradebook.due_date(course.db_url, course.course_id, assignment)
        if due is not None:
            gradebook.set_due_date(self.template_url, course.course_id, assignment, due)
        self.master = json.loads((course.source / assignment / f"{assignment}.ipynb").read_text())
        self.release = json.loads((self.template / "release" / assignment / f"{assignment}.ipynb").read_text())
        self.facts = SourceFacts(self.master)
        self.zero = gradebook.zero_results(self.template_url, course.course_id, assignment)
        grades = self.zero["notebooks"][assignment]["grades"]
        self.max_score = float(sum(g["max_score"] for g in grades.values()))
        self.cell_max = {name: float(g["max_score"]) for name, g in grades.items()}

    def _zeros(self, result: StudentResult) -> StudentResult:
        result.cells = [CellGrade(name, 0.0, points) for name, points in self.cell_max.items()]
        result.gradebook = self.zero
        return result

    def grade(self, student: str) -> StudentResult:
        started = time.monotonic()
        try:
            result = self._grade(student)
        except Exception as err:  # noqa: BLE001 - one student's problem never stops the class
            result = StudentResult(student, self.assignment, self.max_score)
            result.note("failed", f"grader error: {type(err).__name__}: {err}")
        result.seconds = round(time.monotonic() - started, 1)
        result.phases["total"] = result.seconds
        return result

    def _grade(self, student: str) -> StudentResult:
        prepared = time.monotonic()
        result = StudentResult(student, self.assignment, self.max_score)
        found = find_notebook(self.course.submitted, student, self.assignment)
        if found.path is None:
            result.note("missing", found.message)
            return self._zeros(result)
        result.notebook = os.path.relpath(found.path, self.course.root)
        if found.message:
            result.note("repaired", found.message)
        try:
            submission = read_notebook(found.path)
        except NotebookUnreadable as err:
            result.note("corrupt", f"{err} (scored 0)")
            return self._zeros(result)
        with _PARSE_LOCK:
            fixed = repair(self.master, self.release, submission)
            for status, text in fixed.notes + scan(self.facts, fixed.solution_cells, fixed.added_cells):
                result.note(status, text)
            guard_tests(fixed.notebook, self.facts)
            ensure_cell_ids(fixed.notebook)

        folder = self.work / "students" / student
        socket_dir = Path(tempfile.mkdtemp(prefix="cgk-"))  # short path: Unix sockets allow 107 bytes
        try:
            config = scratch_config(
                self.course, folder / "course", _grading_config(self.options, socket_dir, folder / "kernel.log")
            )
            scratch = make_student_course(self.template, self.assignment, folder / "course", config)
            target = scratch / "submitted" / student / self.assignment
            target.mkdir(parents=True)
            for extra in found.path.parent.iterdir():
                if extra.is_file() and extra.suffix != ".ipynb" and extra.stat().st_size < 50 * 2**20:
                    shutil.copy2(extra, target / extra.name)  # timestamp.txt, data files the learner added
            (target / f"{self.assignment}.ipynb").write_text(json.dumps(fixed.notebook, indent=1))
            result.phases["prepare"] = round(time.monotonic() - prepared, 2)
            return self._run_worker(result, folder, scratch)
        finally:
            shutil.rmtree(socket_dir, ignore_errors=True)

    def _run_worker(self, result: StudentResult, folder: Path, scratch: Path) -> StudentResult:
        threads = self.options.threads
        job = {
            "course": str(scratch),
            "assignment": self.assignment,
            "student": result.student,
            "course_id": self.course.course_id,
            "limits": {
                "memory": human(self.options.limits.memory_bytes),
                "processes": self.options.limits.max_processes,
                "cpu": f"{self.options.cpu_seconds} s",
                "disk": human(self.options.limits.file_bytes),
            },
            "env": {
                "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", str(threads)),
                "MKL_NUM_THREADS": os.environ.get("MKL_NUM_THREADS", str(threads)),
            },
        }
        limit = self.options.notebook_timeout + GRACE_SECONDS
        if self.executor is not None:
            failure = self._run_remote(result, folder, scratch, job, limit)
            if failure:
                return failure
        else:
            job["spawned"] = time.time()
            (folder / "job.json").write_text(json.dumps(job))
            with self._lock:
                if self.stopping:
                    raise RuntimeError("grading was interrupted")
                process = WorkerProcess(folder / "job.json", folder / "worker.log", scratch, nbgrader_env())
                self.running.add(process)
            try:
                if process.wait(timeout=limit) is None:
                    process.kill_group()
                    result.note(
                        "timeout", f"grading did not finish within {limit} s and was stopped: every cell scored 0"
                    )
                    return self._zeros(result)
            finally:
                with self._lock:
                    self.running.discard(process)
        if self.stopping:
            raise RuntimeError("grading was interrupted")
        outcome_path = folder / "result.json"
        if not outcome_path.is_file():
            result.note(
                "failed",
                f"grader process ended with no result: {_tail(folder / 'worker.log')}",
            )
            return result
        outcome = json.loads(outcome_path.read_text())
        result.phases.update(outcome.get("phases", {}))
        if outcome.get("failure"):
            result.note("failed", f"{outcome['failure']}: {_tail(folder / 'worker.log')}")
            return result
        grades = outcome["gradebook"]["notebooks"][self.assignment]["grades"]
        errors = outcome.get("errors", {})
        result.cells = [
            CellGrade(name, float(row["auto_score"] or 0.0), float(row["max_score"]), errors.get(name, ""))
            for name, row in grades.items()
            if name in self.cell_max
        ]
        result.cells.sort(key=lambda c: list(self.cell_max).index(c.grade_id))
        result.gradebook = outcome["gradebook"]
        result.timestamp = outcome["gradebook"].get("timestamp")
        self._describe_events(result, outcome)
        result.scratch = {"graded": outcome.get("autograded"), "feedback": outcome.get("feedback")}
        if outcome.get("feedback_failure"):
            result.note("ok", f"no feedback: {outcome['feedback_failure']}")
        return result

    def _run_remote(self, result: StudentResult, folder: Path, scratch: Path, job: dict, limit: int):
        """Grade on the Dask cluster; the outputs land where a local worker would have written them. Returns
        the finished result when the task could not give one, else None."""
        from course_tools.grading import remote

        config = scratch_config(
            self.course,
            Path(remote.ROOT),
            _grading_config(self.options, Path(remote.SOCKETS), Path(remote.KERNEL_LOG)),
        )
        files = {k: v for k, v in remote.pack(scratch).items() if k != "nbgrader_config.py"}
        task = {
            "files": files,
            "config": config,
            "job": {k: v for k, v in job.items() if k != "course"},
            "limit": limit,
            "die_once": os.environ.get("COURSE_GRADING_TEST_DIE_ONCE", "") if result.student == "dies" else "",
        }
        try:
            reply = self.executor.run(task, timeout=limit + 300)
        except Exception as err:  # noqa: BLE001 - KilledWorker, a timeout, an error in the task: report it
            result.note("failed", f"the grading task failed twice on the cluster: {type(err).__name__}: {err}")
            return result
        (folder / "worker.log").write_bytes(reply.get("log", b""))
        if reply.get("timed_out"):
            result.note("timeout", f"grading did not finish within {limit} s and was stopped: every cell scored 0")
            return self._zeros(result)
        outcome = reply.get("result")
        if outcome is None:
            return None  # no result.json: reported by the caller with the log
        for key, (relative, data) in reply.get("outputs", {}).items():
            target = scratch / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            if ":" not in key:
                outcome[key] = str(target)
        result.phases["host"] = reply.get("host", "")
        (folder / "result.json").write_text(json.dumps(outcome))
        return None

    def stop(self) -> None:
        """Kill every running worker (and with it its sandboxed kernel): the instructor pressed Ctrl-C."""
        with self._lock:
            self.stopping = True
            running = list(self.running)
        for process in running:
            process.kill_group()

    def _describe_events(self, result: StudentResult, outcome: dict) -> None:
        events = outcome.get("events", [])
        timeouts = [e for e in events if e["kind"] == "timeout"]
        not_run = [e for e in events if e["kind"] == "not-run"]
        for event in timeouts:
            how = "did not stop when interrupted: the kernel was stopped" if event.get("stuck") else "was interrupted"
            limit = (
                f"the notebook's {self.options.notebook_timeout} s limit"
                if event.get("notebook")
                else "the cell time limit"
            )
            result.note(
                "timeout",
                f"{event.get('label', event['cell'])} ran into {limit} after {event['seconds']:.0f} s and {how}",
            )
        if not_run:
            result.note(
                "timeout" if "limit" in not_run[0]["why"] or "timeout" in not_run[0]["why"] else "kernel-died",
                f"{len(not_run)} cells not run ({not_run[0]['why']}): their tests scored 0",
            )
        for event in events:
            if event["kind"] == "dead-kernel":
                result.note(
                    "kernel-died",
                    f"the kernel died in {event.get('label', event['cell'])} (crash, exit or out of memory)",
                )
            elif event["kind"] == "truncated":
                result.note(
                    "output-truncated",
                    f"{event.get('label', event['cell'])} produced {event['bytes'] / 1e6:.1f} MB of output, cut to {event['limit'] / 1e3:.0f} kB",
                )
        if outcome.get("blocked"):
            result.note("sandbox-violation", f"blocked by the sandbox: {', '.join(outcome['blocked'][:3])}")
        for hit in outcome.get("limits_hit", []):
            result.note(f"{hit['limit']}-limit", hit["text"])
        if outcome.get("stray_processes"):
            result.note("ok", f"{outcome['stray_processes']} processes the kernel left behind were killed")
        if outcome.get("warnings"):
            seen = outcome["warnings"]
            more = f" and {len(seen) - 2} more" if len(seen) > 2 else ""
            result.note("ok", f"Python warnings shown (no points lost): {'; '.join(seen[:2])}{more}")

    # -- the instructor's course, main thread only ------------------------------------------------
    def record(self, result: StudentResult) -> None:
        """Write one result into the gradebook and the course folders (never from a worker thread)."""
        if result.status in NOT_RECORDED or not result.gradebook:
            return
        gradebook.merge(self.course.db_url, self.course.course_id, self.assignment, result.student, result.gradebook)
        for kind, base in (("graded", self.course.autograded), ("feedback", self.course.feedback)):
            source = result.scratch.get(kind)
            if not source:
                continue
            target_dir = base / result.student / self.assignment
            if target_dir.exists():
                for path in target_dir.rglob("*"):
                    path.chmod(0o755 if path.is_dir() else 0o644)
                shutil.rmtree(target_dir)
            target_dir.mkdir(parents=True)
            shutil.copy(source, target_dir / Path(source).name)
            # nbgrader's release_feedback (JupyterHub exchange) needs the submission's time stamp and secret too.
            for extra in SUBMISSION_FILES:
                if (Path(source).parent / extra).is_file():
                    shutil.copy(Path(source).parent / extra, target_dir / extra)
            setattr(result, kind, os.path.relpath(target_dir / Path(source).name, self.course.root))


#: Files nbgrader keeps beside a graded notebook and its feedback; release_feedback reads both.
SUBMISSION_FILES = ("timestamp.txt", "submission_secret.txt")


def grade_assignment(
    assignment: str, root: Path | str = ".", options: Options | None = None, log=print
) -> list[StudentResult]:
    """Grade every student (or ``options.students``) of ``assignment`` in the course at ``root``."""
    from course_tools.grading import sandbox

    options = options or Options()
    course = Course.load(Path(root))
    os.environ["PATH"] = nbgrader_env()["PATH"]  # the gradebook may be created here: nbgrader runs alembic
    if options.sandbox:
        sandbox.probe()
    enforced, unenforced = enforcement(options.limits, options.cpu_seconds, sandbox.TMP_BYTES, options.sandbox)
    log("limits per student: " + ", ".join(enforced))
    for warning in unenforced:
        log(f"WARNING: {warning}")
    students = options.students or course.students(assignment)
    out = Path(options.out) if options.out else course.root / "reports" / assignment
    out.mkdir(parents=True, exist_ok=True)
    if options.work_dir:
        Path(options.work_dir).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"grading-{assignment}-", dir=options.work_dir))
    started = time.monotonic()
    grader: Grader | None = None
    try:
        grader = Grader(course, assignment, options, work)
        before = gradebook.backup(course.db_url, out / "gradebook-before.db")
        gradebook.copy_structure(grader.template_url, course.db_url, course.course_id, assignment)
        log(
            f"grading {assignment}: {len(students)} students, {options.jobs} at a time, "
            f"{'sandboxed' if options.sandbox else 'WITHOUT sandbox'}"
            + (f" (gradebook backed up to {before})" if before else "")
        )
        results: list[StudentResult] = []
        workers = options.jobs
        if options.executor == "dask":
            from course_tools.grading.remote import DaskExecutor

            grader.executor = DaskExecutor(options.scheduler, options.local_cluster)
            workers = grader.executor.slots
            log(f"grading on the Dask cluster {grader.executor.client.scheduler.address}: {workers} worker threads")
        elif options.executor != "local":
            raise ValueError(f"unknown executor {options.executor!r}: use local or dask")
        pool = ThreadPoolExecutor(max_workers=max(1, workers))
        try:
            futures = {pool.submit(grader.grade, student): student for student in students}
            for done, future in enumerate(as_completed(futures), 1):
                result = future.result()
                recording = time.monotonic()
                try:
                    grader.record(result)
                except Exception as err:  # noqa: BLE001 - the gradebook write failed: say so, keep going
                    result.note("failed", f"could not write the gradebook: {type(err).__name__}: {err}")
                result.phases["record"] = round(time.monotonic() - recording, 2)  # gradebook merge, copies
                results.append(result)
                log(
                    f"[{done}/{len(students)}] {result.student}: {result.score:g}/{result.max_score:g} {result.status} ({result.seconds:.0f} s)"
                )
        except KeyboardInterrupt:
            grader.stop()
            pool.shutdown(wait=True, cancel_futures=True)
            log(
                f"interrupted: the {len(results)} students graded so far are in the gradebook, the others are untouched"
            )
            raise
        pool.shutdown(wait=True)
        results.sort(key=lambda r: r.student)
        report.write_all(results, out, assignment, seconds=time.monotonic() - started, options=options)
        log(report.table(results))
        log(f"reports in {out}")
        return results
    finally:
        if grader is not None and grader.executor is not None:
            grader.executor.close()
        if not options.keep_work:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"scratch courses kept in {work}")
