"""What grading one student produced: the score of every grade cell, a status and the notes behind it.

A student's *status* is the most serious thing that happened to their submission; the *reason* is a
one-line summary of every note, so that an instructor reading the summary table knows what to look at.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# Statuses, most serious first. The first five mean "look at this submission".
STATUSES = {
    "failed": "the grader itself failed on this submission (no grade written; see the log)",
    "missing": "no notebook was found in the student's folder (scored 0)",
    "corrupt": "the notebook is not a readable .ipynb file (scored 0)",
    "sandbox-violation": "the code tried to reach the network, the gradebook or other students' files",
    "tampering": "the code redefines or patches what the tests use",
    "reference-import": "a solution imports course_lib's reference implementation instead of implementing it",
    "memory-limit": "the code used more memory than a student may (--memory); cells after it may score 0",
    "process-limit": "the code started more processes or threads than a student may (--max-processes)",
    "cpu-limit": "the code used more CPU time than a student may; the kernel was stopped, later cells scored 0",
    "disk-limit": "the code wrote a file larger than a student may, or filled the sandbox's /tmp",
    "timeout": "the notebook ran past a time limit; unexecuted cells scored 0",
    "kernel-died": "the student's kernel died (crash, exit, out of memory); cells after it scored 0",
    "output-truncated": "a cell printed more than the output limit; the output was cut",
    "repaired": "the nbgrader metadata or a locked cell was restored from the source notebook",
    "ok": "graded normally",
}
SEVERITY = {name: rank for rank, name in enumerate(STATUSES)}

# Statuses whose score is not written to the gradebook (there is nothing trustworthy to write).
NOT_RECORDED = {"failed"}


@dataclass
class CellGrade:
    """One grade cell of one student."""

    grade_id: str
    score: float
    max_score: float
    error: str = ""  # first line of the error the cell raised, if any

    @property
    def passed(self) -> bool:
        return self.score >= self.max_score


@dataclass
class Note:
    """Something the grader noticed; ``status`` is the status it implies."""

    status: str
    text: str

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"unknown grading status {self.status!r}; known: {', '.join(STATUSES)}")


@dataclass
class StudentResult:
    student: str
    assignment: str
    max_score: float
    cells: list[CellGrade] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    notebook: str = ""  # the submitted file that was graded, relative to the course root
    graded: str = ""  # the graded notebook (autograded/...), relative to the course root
    feedback: str = ""  # feedback HTML, relative to the course root
    seconds: float = 0.0
    # where the seconds went: "prepare" (repair, scan, scratch course), the worker's "start", "kernel-start",
    # "cells", "autograde" (all of nbgrader autograde, kernel and cells included), "feedback", "total"
    phases: dict = field(default_factory=dict)
    # gradebook rows the parent process merges: grade_id -> auto_score / needs_manual_grade / comment
    gradebook: dict = field(default_factory=dict)
    timestamp: str | None = None
    scratch: dict = field(default_factory=dict)  # files in the scratch course, not reported

    def note(self, status: str, text: str) -> None:
        self.notes.append(Note(status, text))

    @property
    def score(self) -> float:
        return float(sum(c.score for c in self.cells))

    @property
    def status(self) -> str:
        if not self.notes:
            return "ok"
        return min((n.status for n in self.notes), key=SEVERITY.__getitem__)

    @property
    def reason(self) -> str:
        ordered = sorted(self.notes, key=lambda n: SEVERITY[n.status])
        return "; ".join(n.text for n in ordered)

    @property
    def failed_cells(self) -> list[CellGrade]:
        return [c for c in self.cells if not c.passed]

    def to_json(self) -> dict:
        data = asdict(self)
        data.pop("scratch")
        data.update(score=self.score, status=self.status, reason=self.reason)
        return data

    @classmethod
    def from_json(cls, data: dict) -> StudentResult:
        data = {k: v for k, v in data.items() if k not in ("score", "status", "reason", "scratch")}
        data["cells"] = [CellGrade(**c) for c in data.get("cells", [])]
        data["notes"] = [Note(**n) for n in data.get("notes", [])]
        return cls(**data)
