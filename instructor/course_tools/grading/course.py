"""The instructor's course (read through nbgrader's own configuration) and the scratch courses that
grading builds: one template per assignment, then one per student.

A scratch course has the standard nbgrader layout (``source/``, ``release/``, ``submitted/``,
``autograded/``, ``feedback/``, ``gradebook.db``) and a ``nbgrader_config.py`` made of the instructor's
configuration followed by the grading settings, so ``nbgrader autograde ASSIGNMENT --student=ID`` run
by hand inside it reproduces exactly what the grader did.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SCRATCH_DIRS = {
    "source": "source",
    "release": "release",
    "submitted": "submitted",
    "autograded": "autograded",
    "feedback": "feedback",
}


def nbgrader_env() -> dict[str, str]:
    """The environment for nbgrader: it runs ``alembic`` as a command, which lives next to this Python."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


@dataclass
class Course:
    """The instructor's course, as nbgrader sees it from ``root``."""

    root: Path
    course_id: str
    db_url: str
    source: Path
    submitted: Path
    autograded: Path
    feedback: Path
    config_text: str

    @classmethod
    def load(cls, root: Path) -> Course:
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config import Config
        from traitlets.config.loader import PyFileConfigLoader

        root = root.resolve()
        config_file = root / "nbgrader_config.py"
        config = (
            PyFileConfigLoader(config_file.name, path=str(root)).load_config() if config_file.is_file() else Config()
        )
        coursedir = CourseDirectory(config=config)
        coursedir.root = str(root)
        db_url = coursedir.db_url
        if db_url.startswith("sqlite:///") and not os.path.isabs(db_url[len("sqlite:///") :]):
            db_url = f"sqlite:///{root / db_url[len('sqlite:///') :]}"

        def folder(name: str) -> Path:
            path = Path(name)
            return path if path.is_absolute() else root / path

        return cls(
            root=root,
            course_id=coursedir.course_id,
            db_url=db_url,
            source=folder(coursedir.source_directory),
            submitted=folder(coursedir.submitted_directory),
            autograded=folder(coursedir.autograded_directory),
            feedback=folder(coursedir.feedback_directory),
            config_text=config_file.read_text() if config_file.is_file() else "",
        )

    def students(self, assignment: str) -> list[str]:
        """Every folder in submitted/ is a student (a student without this assignment is reported missing)."""
        if not self.submitted.is_dir():
            return []
        return sorted(p.name for p in self.submitted.iterdir() if p.is_dir() and not p.name.startswith("."))


def scratch_config(course: Course, root: Path, extra: str = "") -> str:
    """nbgrader_config.py of a scratch course: the instructor's settings, then ours (later lines win)."""
    lines = [
        course.config_text,
        "",
        "# ---- added by course_tools.grading: a scratch course for one grading job ----",
        f"c.CourseDirectory.root = {str(root)!r}",
        f"c.CourseDirectory.course_id = {course.course_id!r}",
        f"c.CourseDirectory.db_url = {'sqlite:///' + str(root / 'gradebook.db')!r}",
    ]
    for trait, name in SCRATCH_DIRS.items():
        lines.append(f"c.CourseDirectory.{trait}_directory = {name!r}")
    return "\n".join(lines) + "\n" + extra


def make_template(course: Course, assignment: str, where: Path) -> Path:
    """A scratch course holding the assignment's source, run through ``nbgrader generate_assignment``:
    its gradebook records the assignment (copied into every student's scratch course) and its release
    notebook is what learners got (the repair compares submissions with it)."""
    source = course.source / assignment
    if not (source / f"{assignment}.ipynb").is_file():
        raise FileNotFoundError(
            f"no source notebook {source / (assignment + '.ipynb')}: is {assignment!r} an assignment of this course?"
        )
    where.mkdir(parents=True)
    shutil.copytree(source, where / "source" / assignment, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    (where / "nbgrader_config.py").write_text(scratch_config(course, where))
    run = subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force"],
        cwd=where,
        env=nbgrader_env(),
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        raise RuntimeError(
            f"nbgrader generate_assignment {assignment} failed on the source notebook:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
        )
    return where


def make_student_course(template: Path, assignment: str, where: Path, config: str) -> Path:
    """An empty scratch course for one student: the template's source and gradebook, the given config."""
    where.mkdir(parents=True)
    shutil.copytree(template / "source", where / "source")
    shutil.copy2(template / "gradebook.db", where / "gradebook.db")
    (where / "nbgrader_config.py").write_text(config)
    return where
