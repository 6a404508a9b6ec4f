"""A class on JupyterHub: the whole round trip through nbgrader's exchange, as instructor and students do it.

One instructor and two students share nothing but an exchange folder and a site-wide nbgrader
configuration, as on a hub where every user has their own server and home:

    instructor: release_assignment (notebooks/ is what `make release` generated)
    students:   list, fetch_assignment, solve (ann) or not (bob), submit, list --inbound
    instructor: collect, python -m course_tools.grading autograde, generate_feedback, release_feedback
    students:   fetch_feedback (each finds their own page, with their score)
    instructor: export to CSV

nbgrader 0.9.6 takes a student's name from the operating system (``pwd.getpwuid(os.getuid())``), not
from USER or LOGNAME; only when that account is ``jovyan`` (the one account of the Jupyter Docker
images that DockerSpawner and KubeSpawner start) does it use ``JUPYTERHUB_USER``, which the hub sets.
So every student command runs as such a hub runs it: in a bubblewrap user namespace as uid 1000,
named ``jovyan`` by a private /etc/passwd, with ``JUPYTERHUB_USER`` set and the student's own HOME
(and so their own nbgrader cache). The namespace only gives the identity, it isolates nothing. The instructor runs as the test's own account.

Everything lives in pytest's temporary folder: a scratch copy of the course, the exchange, the homes.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from grading_helpers import ASSIGNMENT, MAX, Notebooks, write
from nbgrader_helpers import scores, scratch_course

COURSE_ID = "adapter-finetuning"  # c.CourseDirectory.course_id of the course's nbgrader_config.py
STUDENT_UID, STUDENT_GID = 1000, 100  # jovyan:users in the Jupyter Docker images
NBGRADER_TIMEOUT = 180  # seconds for one nbgrader command (each takes a few)
GRADING_TIMEOUT = 900  # seconds for the whole grading run (two students, well under a minute here)
JUPYTER_VARS = (
    "JUPYTER_CONFIG_DIR",
    "JUPYTER_CONFIG_PATH",
    "JUPYTER_DATA_DIR",
    "JUPYTER_PATH",
    "JUPYTER_RUNTIME_DIR",
    "JUPYTERHUB_USER",
    "JUPYTERHUB_API_TOKEN",
    "JUPYTERHUB_API_URL",
    "JUPYTERHUB_SERVICE_PREFIX",
)


def tail(text: str | bytes | None, limit: int = 3000) -> str:
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    text = text or ""
    return text if len(text) <= limit else "..." + text[-limit:]


@dataclass
class User:
    """One account of the hub: its name, its home (where its notebook server starts) and how it runs commands."""

    name: str
    home: Path
    site_config: Path
    jovyan: bool = False  # a student: runs as the ``jovyan`` account of a spawned container
    passwd: Path | None = None
    log: list[str] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in JUPYTER_VARS}
        env.update(
            HOME=str(self.home),
            USER="jovyan" if self.jovyan else self.name,
            LOGNAME="jovyan" if self.jovyan else self.name,
            JUPYTER_CONFIG_PATH=str(self.site_config),  # stands for /etc/jupyter, read by every user's nbgrader
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        )
        if self.jovyan:
            env["JUPYTERHUB_USER"] = self.name  # what the hub sets in every user's server
        return env

    def argv(self, cmd: list[str], cwd: Path) -> list[str]:
        if not self.jovyan:
            return cmd
        assert self.passwd is not None
        return as_jovyan(cmd, self.passwd, cwd)

    def run(
        self, *args: str, cwd: Path | None = None, timeout: int = NBGRADER_TIMEOUT, module: str = "nbgrader"
    ) -> str:
        """Run ``python -m nbgrader ARGS`` (or another module) as this user; its log (stdout and stderr) on success."""
        cwd = cwd or self.home
        cmd = [sys.executable, "-m", module, *args]
        what = f"{self.name}: {module} {' '.join(args)}"
        started = time.monotonic()
        process = subprocess.Popen(
            self.argv(cmd, cwd), cwd=cwd, env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.terminate()  # SIGTERM first: the grader then stops its own workers and their kernels
            try:
                stdout, stderr = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                stdout, stderr = process.communicate()
            pytest.fail(
                f"{what} did not finish within {timeout} s (in {cwd}):\n--- stdout ---\n{tail(stdout)}\n"
                f"--- stderr ---\n{tail(stderr)}",
                pytrace=False,
            )
        self.log.append(f"{what}: {time.monotonic() - started:.1f} s")
        assert process.returncode == 0, (
            f"{what} failed with exit status {process.returncode} (in {cwd}):\n"
            f"--- stdout ---\n{tail(stdout)}\n--- stderr ---\n{tail(stderr)}"
        )
        return stdout + stderr


def as_jovyan(cmd: list[str], passwd: Path, cwd: Path | None = None) -> list[str]:
    """``cmd`` run by bubblewrap as uid 1000, called ``jovyan`` by the private ``passwd``, as in a hub's container."""
    where = ["--chdir", str(cwd)] if cwd is not None else []
    return [
        shutil.which("bwrap") or "bwrap",
        "--die-with-parent",
        "--dev-bind",
        "/",
        "/",
        "--unshare-user",
        "--uid",
        str(STUDENT_UID),
        "--gid",
        str(STUDENT_GID),
        "--ro-bind",
        str(passwd),
        "/etc/passwd",
        *where,
        "--",
        *cmd,
    ]


def check_user_namespaces(passwd: Path) -> None:
    """The students need bwrap and user namespaces (as the grader's sandbox does): say so plainly if missing."""
    bwrap = shutil.which("bwrap")
    assert bwrap, (
        "this test runs the students as `jovyan` with bubblewrap: `sudo apt-get install bubblewrap` (or `make system-deps`)"
    )
    probe = subprocess.run(
        as_jovyan([sys.executable, "-c", "import os, pwd; print(pwd.getpwuid(os.getuid()).pw_name)"], passwd),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.returncode == 0 and probe.stdout.strip() == "jovyan", (
        "bwrap cannot run a command as uid 1000 in a user namespace here (user namespaces disabled?):\n"
        f"{tail(probe.stdout)}\n{tail(probe.stderr)}"
    )


def feedback_score(html: str) -> tuple[float, float]:
    """The total score nbgrader prints at the top of a feedback page: ``Score: 10.0 / 10.0``."""
    m = re.search(r"Score:\s*([0-9.]+)\s*/\s*([0-9.]+)", re.sub(r"<[^>]+>", " ", html))
    assert m, f"no 'Score: x / y' in the feedback page: {tail(html, 500)}"
    return float(m.group(1)), float(m.group(2))


def for_each(students: list[User], action) -> list:
    """Do the same step for every student at once, as a class does (the first failure is raised)."""
    with ThreadPoolExecutor(max_workers=len(students)) as pool:
        return list(pool.map(action, students))


def hub(tmp_path: Path) -> tuple[Path, User, list[User]]:
    """The exchange, the site-wide nbgrader config every user reads, one instructor and two students."""
    exchange = tmp_path / "srv" / "nbgrader" / "exchange"
    exchange.mkdir(parents=True)
    exchange.chmod(0o777)  # readable and writable by every user
    site = tmp_path / "etc" / "jupyter"  # stands for /etc/jupyter
    site.mkdir(parents=True)
    (site / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.Exchange.root = {str(exchange)!r}\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
        "# every submission is owned by the one container account (jovyan): no cheating attempt to warn about\n"
        "c.ExchangeCollect.check_owner = False\n"
    )
    passwd = tmp_path / "etc" / "passwd"  # what a Jupyter Docker image has: uid 1000 is jovyan
    passwd.write_text(
        "root:x:0:0:root:/root:/bin/sh\n"
        f"jovyan:x:{STUDENT_UID}:{STUDENT_GID}:Jupyter user:/home/jovyan:/bin/bash\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    )
    check_user_namespaces(passwd)
    homes = tmp_path / "home"
    teacher = User("teacher", homes / "teacher", site)
    students = [User(name, homes / name, site, jovyan=True, passwd=passwd) for name in ("ann", "bob")]
    for user in (teacher, *students):
        user.home.mkdir(parents=True)
    return exchange, teacher, students


def test_a_class_on_jupyterhub_round_trip(tmp_path):
    """ann solves every exercise and gets full marks; bob submits the notebook untouched and gets 0."""
    started = time.monotonic()
    exchange, teacher, students = hub(tmp_path)
    ann, bob = students
    expected = {"ann": MAX, "bob": 0.0}
    course = scratch_course(teacher.home)  # the instructor's course: ~teacher/course (solutions/, notebooks/, config)
    master = course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    course_x = exchange / COURSE_ID

    # -- instructor: release (notebooks/ is what `make release` generated) ---------------------------
    out = teacher.run("release_assignment", ASSIGNMENT, cwd=course)
    released = course_x / "outbound" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert f"Released as: {COURSE_ID} {ASSIGNMENT}" in out and released.is_file(), f"not released:\n{tail(out)}"
    modes = {
        p.name: oct(stat.S_IMODE(p.stat().st_mode))
        for p in (exchange, course_x, course_x / "outbound", course_x / "inbound")
    }
    assert modes == {"exchange": "0o777", COURSE_ID: "0o755", "outbound": "0o755", "inbound": "0o2733"}, (
        f"the exchange does not have the permissions nbgrader gives it: {modes}"
    )

    # -- students: see the assignment, fetch it, work, submit ----------------------------------------
    out = ann.run("list")
    assert f"{COURSE_ID} {ASSIGNMENT}" in out, (
        f"ann does not see the released assignment in `nbgrader list`:\n{tail(out)}"
    )

    def fetch(student: User) -> Path:
        student.run("fetch_assignment", ASSIGNMENT)
        notebook = student.home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        assert notebook.is_file(), f"{student.name} has no ~/{ASSIGNMENT}/{ASSIGNMENT}.ipynb after fetch_assignment"
        assert json.loads(notebook.read_text())["cells"] == json.loads(released.read_text())["cells"], (
            "the fetched notebook is not the release"
        )
        return notebook

    fetched = dict(zip(("ann", "bob"), for_each(students, fetch), strict=False))
    write(fetched["ann"], Notebooks(master, fetched["ann"]).solved())  # ann answers every solution cell

    def submit(student: User) -> None:
        out = student.run("submit", ASSIGNMENT)
        assert f"Submitted as: {COURSE_ID} {ASSIGNMENT}" in out, tail(out)
        assert len(list((course_x / "inbound").glob(f"{student.name}+{ASSIGNMENT}+*"))) == 1, (
            f"{student.name}'s submission is not in the exchange under their hub name: {sorted(p.name for p in (course_x / 'inbound').iterdir())}"
        )

    for_each(students, submit)
    out = ann.run("list", "--inbound")
    assert f"{COURSE_ID} ann {ASSIGNMENT}" in out, (
        f"ann does not see her submission in `nbgrader list --inbound`:\n{tail(out)}"
    )

    # -- instructor: collect -------------------------------------------------------------------------
    out = teacher.run("collect", ASSIGNMENT, cwd=course)
    assert f"Processing 2 submissions of '{ASSIGNMENT}' for course '{COURSE_ID}'" in out, tail(out)
    for name, notebook in fetched.items():
        got = course / "submitted" / name / ASSIGNMENT
        assert (got / f"{ASSIGNMENT}.ipynb").is_file(), f"collect did not bring {name}'s notebook to {got}"
        assert (
            json.loads((got / f"{ASSIGNMENT}.ipynb").read_text())["cells"] == json.loads(notebook.read_text())["cells"]
        )
        assert {"timestamp.txt", "submission_secret.txt"} <= {p.name for p in got.iterdir()}, (
            f"collect left no timestamp or secret in {got}"
        )

    # -- instructor: grade safely --------------------------------------------------------------------
    out = teacher.run(
        "autograde",
        ASSIGNMENT,
        "--root",
        str(course),
        "--jobs",
        "2",
        "--cell-timeout",
        "120",
        "--notebook-timeout",
        "300",
        cwd=course,
        timeout=GRADING_TIMEOUT,
        module="course_tools.grading",
    )
    reports = {row["student"]: row for row in csv.DictReader(open(course / "reports" / ASSIGNMENT / "grades.csv"))}
    got = {s: (float(r["score"]), float(r["max_score"]), r["status"]) for s, r in reports.items()}
    assert got == {s: (score, MAX, "ok") for s, score in expected.items()}, f"grades.csv: {got}\n{tail(out)}"
    assert scores(course, ASSIGNMENT) == {s: (score, MAX) for s, score in expected.items()}, (
        "the gradebook does not hold the grades"
    )
    for name in expected:
        graded = course / "autograded" / name / ASSIGNMENT
        kept = sorted(p.name for p in graded.iterdir())
        assert {"timestamp.txt", "submission_secret.txt"} <= set(kept), (
            f"the grader kept only {kept} in {graded}: nbgrader generate_feedback and release_feedback need the "
            "submission's timestamp.txt and submission_secret.txt next to the graded notebook (students can fetch no feedback without them)"
        )

    # -- instructor: feedback, in nbgrader's own words ------------------------------------------------
    out = teacher.run("generate_feedback", ASSIGNMENT, "--force", cwd=course)
    for name in expected:
        page = course / "feedback" / name / ASSIGNMENT / f"{ASSIGNMENT}.html"
        assert page.is_file(), f"no feedback page for {name} at {page}:\n{tail(out)}"
    out = teacher.run("release_feedback", ASSIGNMENT, cwd=course)
    assert len(list((course_x / "feedback").glob("*.html"))) == 2, (
        f"release_feedback did not put two pages in the exchange:\n{tail(out)}"
    )
    assert stat.S_IMODE((course_x / "feedback").stat().st_mode) == 0o711, (
        "students must not be able to list the released feedback"
    )

    # -- students: their feedback, with their score ---------------------------------------------------
    def fetch_feedback(student: User) -> None:
        out = student.run("fetch_feedback", ASSIGNMENT)
        pages = list((student.home / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))
        assert len(pages) == 1, f"{student.name} has not one page in ~/{ASSIGNMENT}/feedback/<timestamp>/:\n{tail(out)}"
        assert feedback_score(pages[0].read_text()) == (expected[student.name], MAX), (
            f"{student.name}'s feedback shows another score"
        )

    for_each(students, fetch_feedback)

    # -- instructor: the grades as CSV ----------------------------------------------------------------
    table = teacher.home / "grades.csv"
    teacher.run("export", "--to", str(table), cwd=course)
    rows = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(open(table))}
    for name, score in expected.items():
        row = rows.get((name, ASSIGNMENT))
        assert row, f"no row for {name} in the exported CSV: {sorted(rows)}"
        assert (float(row["score"]), float(row["max_score"])) == (score, MAX), f"exported row of {name}: {row}"

    print(f"round trip in {time.monotonic() - started:.0f} s:\n  " + "\n  ".join(teacher.log + ann.log + bob.log))
