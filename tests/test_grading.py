"""Grading a class: ``python -m course_tools.grading autograde`` on every kind of bad submission.

``test_a_class_of_bad_submissions`` grades the whole matrix in one batch run (one scratch course,
25 students, ``--jobs 2``, small time and resource limits) and checks everything about it at once, listing every
problem it finds: the correct students keep full marks whatever the others did, every bad submission
gets its grade and a clear status and reason, the sandbox stops what it must, outputs are cut, and the
gradebook loses nothing; then it regrades two students with ``--jobs 1`` and checks that one worker gives
the grades two did (and leaves the others alone), and regrades four on a 2-worker Dask LocalCluster, one of
whose tasks kills its worker once, and checks the cluster gives the same grades. The unit tests at the end
need no grading run.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from grading_helpers import (
    ASSIGNMENT,
    CELL_POINTS,
    MAX,
    STRAY_SLEEP,
    Notebooks,
    bad_submissions,
    index_of,
    submit_all,
    write,
)
from nbgrader_helpers import ROOT, nbgrader, scratch_course

from course_lib.nbcells import grade_id

CELL_LIMIT, NOTEBOOK_LIMIT = 20, 40
MEMORY, PROCESSES, FILE_SIZE = "2G", 48, "100M"  # small per-student limits, so that the matrix hits them quickly

# student -> (score, status, words the reason must contain, grade cells that must fail); score None: timing-dependent
EXPECTED = {
    "good": (MAX, "ok", "", []),
    "dies": (MAX, "ok", "", []),  # a correct notebook; on the Dask cluster its task kills its worker once
    "blank": (0.0, "ok", "", list(CELL_POINTS)),
    "raises": (8.0, "ok", "", ["ex4_flops_tests"]),
    "loop": (8.0, "timeout", "cell ex3_linear_adapter ran into the cell time limit", ["ex3_linear_adapter_tests"]),
    "stuck": (8.0, "timeout", "did not stop when interrupted", ["ex4_flops_tests"]),
    "sleepy": (None, "timeout", f"ran past its {NOTEBOOK_LIMIT} s limit", ["ex4_flops_tests"]),
    "flood": (MAX, "output-truncated", "50.0 MB of output", []),
    "nan": (5.0, "ok", "", ["ex1_functional_forward_tests", "ex4_flops_tests"]),
    "dtype": (8.0, "ok", "", ["ex3_linear_adapter_tests"]),
    "deleted": (MAX, "repaired", "deleted cell ex1_shape_errors_tests restored", []),
    "duplicated": (MAX, "repaired", "ex2_my_adapter_tests appears 2 times", []),
    "stripped": (MAX, "repaired", "stripped from the whole notebook", []),
    "edited": (8.0, "repaired", "ex2_my_adapter_tests was edited: restored", ["ex2_my_adapter_tests"]),
    "hidden": (
        8.0,
        "tampering",
        "ex4_flops_tests was edited: restored from the source (hidden tests included)",
        ["ex4_flops_tests"],
    ),
    "tamper": (8.0, "tampering", "patches what the tests use: check_close", ["ex3_linear_adapter_tests"]),
    "missing": (0.0, "missing", "no notebook in submitted/missing/", list(CELL_POINTS)),
    "renamed": (MAX, "repaired", f"{ASSIGNMENT} (1).ipynb", []),
    "corrupt": (0.0, "corrupt", "is not valid JSON", list(CELL_POINTS)),
    "snoop": (MAX, "sandbox-violation", "refers to the gradebook", []),
    "net": (MAX, "sandbox-violation", "Connection refused", []),
    "ref": (None, "reference-import", "from course_lib.adapters.bottleneck import BottleneckAdapter", []),
    "hog": (MAX, "memory-limit", "ran into the memory limit (2 GiB)", []),
    "forks": (MAX, "process-limit", f"ran into the limit of {PROCESSES} processes", []),
    "filler": (MAX, "disk-limit", "ran into the file-size limit (100 MiB)", []),
}
LIMITS = ["--memory", MEMORY, "--max-processes", str(PROCESSES), "--max-file-size", FILE_SIZE]
FULL_MARKS = [s for s, (score, *_) in EXPECTED.items() if score == MAX]


def grading(course: Path, *args: str, timeout: int = 1500, env: dict | None = None) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "course_tools.grading", "autograde", ASSIGNMENT, *args],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def gradebook_scores(course: Path) -> dict[str, dict[str, float]]:
    """student -> grade cell -> score, read straight from the course's gradebook."""
    with sqlite3.connect(course / "gradebook.db") as db:
        rows = db.execute(
            "select s.student_id, b.name, coalesce(g.manual_score, g.auto_score, 0) + coalesce(g.extra_credit, 0) "
            "from grade g join submitted_notebook n on g.notebook_id = n.id join submitted_assignment s on n.assignment_id = s.id "
            "join grade_cells c on g.cell_id = c.id join base_cell b on c.id = b.id"
        ).fetchall()
    scores: dict[str, dict[str, float]] = {}
    for student, cell, score in rows:
        scores.setdefault(student, {})[cell] = float(score)
    return scores


def add_earlier_student(course: Path) -> None:
    """A student graded in an earlier run (with a manual grade) who has no submission this time."""
    import warnings

    from nbgrader.api import Gradebook

    with warnings.catch_warnings(), Gradebook(f"sqlite:///{course / 'gradebook.db'}", "adapter-finetuning") as gb:
        warnings.filterwarnings("ignore", message=".*not in session.*")  # nbgrader's API under SQLAlchemy 2
        gb.add_student("earlier")
        gb.add_submission(ASSIGNMENT, "earlier")
        for grade in gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "earlier").grades:
            grade.auto_score = grade.max_score
        grade = gb.find_grade("ex1_functional_forward_tests", ASSIGNMENT, ASSIGNMENT, "earlier")
        grade.manual_score = 1.5
        gb.db.commit()


def grade_the_matrix(folder: Path) -> dict:
    course = scratch_course(folder)
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")  # an instructor's gradebook made by nbgrader itself
    add_earlier_student(course)
    books = Notebooks(
        course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        course / "notebooks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
    )
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.setblocking(False)
        subs = bad_submissions(books, course, net_port=listener.getsockname()[1])
        assert set(subs) == set(EXPECTED)
        submit_all(course, subs)
        run = grading(
            course,
            "--jobs",
            "2",
            "--cell-timeout",
            str(CELL_LIMIT),
            "--notebook-timeout",
            str(NOTEBOOK_LIMIT),
            *LIMITS,
        )
        try:
            listener.accept()[0].close()
            reached = True
        except BlockingIOError:
            reached = False
    assert run.returncode == 0, f"the grader failed:\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}"
    out = course / "reports" / ASSIGNMENT
    return {
        "course": course,
        "stdout": run.stdout,
        "results": {r["student"]: r for r in json.loads((out / "results.json").read_text())},
        "csv": {row["student"]: row for row in csv.DictReader(open(out / "grades.csv"))},
        "gradebook": gradebook_scores(course),
        "listener_reached": reached,
        "strays": subprocess.run(
            ["pgrep", "-f", f"sleep {STRAY_SLEEP}"], capture_output=True, text=True
        ).stdout.split(),
    }


def grades_and_statuses(graded: dict) -> list[str]:
    problems = []
    for student, (score, status, words, failing) in EXPECTED.items():
        r = graded["results"].get(student)
        if r is None:
            problems.append(f"{student}: not in the report")
            continue
        failed = [c["grade_id"] for c in r["cells"] if c["score"] < c["max_score"]]
        if score is not None and r["score"] != score:
            problems.append(f"{student}: score {r['score']}, expected {score} ({r['reason']})")
        if r["status"] != status:
            problems.append(f"{student}: status {r['status']!r}, expected {status!r} ({r['reason']})")
        if words not in r["reason"]:
            problems.append(f"{student}: the reason {r['reason']!r} does not say {words!r}")
        if not set(failing) <= set(failed) or (score is not None and score > 0 and set(failed) != set(failing)):
            problems.append(f"{student}: failed grade cells {failed}, expected {failing}")
        if r["max_score"] != MAX or len(r["cells"]) != len(CELL_POINTS):
            problems.append(f"{student}: max_score {r['max_score']} over {len(r['cells'])} grade cells")
    if graded["results"].get("sleepy", {}).get("score", 0) > 6:
        problems.append("sleepy: the notebook time limit should have cost at least exercises 3 and 4")
    return problems


def correct_students_unaffected(graded: dict) -> list[str]:
    results = graded["results"]
    reference = {c["grade_id"]: c["score"] for c in results["good"]["cells"]}
    problems = [] if reference == CELL_POINTS else [f"good: {reference}, expected {CELL_POINTS}"]
    for student in FULL_MARKS:
        got = {c["grade_id"]: c["score"] for c in results[student]["cells"]}
        if got != reference:
            problems.append(f"{student} should have full marks like 'good': {got} ({results[student]['reason']})")
    return problems


def gradebook_complete(graded: dict) -> list[str]:
    course, recorded, problems = graded["course"], graded["gradebook"], []
    for student, row in graded["csv"].items():
        if student not in recorded:
            problems.append(f"{student} is in grades.csv but not in the gradebook")
        elif sum(recorded[student].values()) != pytest.approx(float(row["score"])):
            problems.append(f"{student}: gradebook {recorded[student]} vs grades.csv {row['score']}")
        if (row["max_score"], row["assignment"], row["status"]) != (f"{MAX:g}", ASSIGNMENT, EXPECTED[student][1]):
            problems.append(f"grades.csv row of {student}: {row}")
    # graded in an earlier run, not submitted this time: untouched, manual grade included
    earlier = recorded.get("earlier", {})
    if earlier.get("ex1_functional_forward_tests") != 1.5 or sum(earlier.values()) != pytest.approx(MAX - 3 + 1.5):
        problems.append(f"the earlier student's grades changed: {earlier}")
    with sqlite3.connect(course / "gradebook.db") as db:
        tables = {name for (name,) in db.execute("select name from sqlite_master where type = 'table'")}
    if "pwned" in tables:
        problems.append("student code wrote into the instructor's gradebook")
    if not (course / "reports" / ASSIGNMENT / "gradebook-before.db").is_file():
        problems.append("the gradebook was not backed up before grading")
    return problems


def limits_held(graded: dict) -> list[str]:
    """Each limit stopped its student (the bounded loop did not finish), the feedback says which limit, and no
    process a student started outlived their grading."""
    problems = [f"processes left running after grading: {graded['strays']}"] if graded["strays"] else []
    for student, words in (("hog", "memory limit"), ("forks", "processes"), ("filler", "file-size limit")):
        nb = json.loads((graded["course"] / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
        outputs = nb["cells"][-1]["outputs"]
        text = "".join("".join(o.get("text", "")) + o.get("ename", "") for o in outputs)
        if "LEAKED" in text or not ("stopped after" in text or "MemoryError" in text):
            problems.append(f"{student}'s code was not stopped by its limit: {text!r}")
        feedback = graded["course"] / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
        if not feedback.is_file() or words not in feedback.read_text():
            problems.append(f"{student}'s feedback does not say that the {words} stopped the code")
    if "limits per student: memory 2 GiB (RLIMIT_AS)" not in graded["stdout"]:
        problems.append("the grader does not say which limits hold and how")
    return problems


def sandbox_held(graded: dict) -> list[str]:
    problems = ["a student's code reached a listener on the host's loopback"] if graded["listener_reached"] else []
    for student, blocked in (("snoop", 3), ("net", 1)):
        nb = json.loads((graded["course"] / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
        text = "".join("".join(o.get("text", "")) for o in nb["cells"][-1]["outputs"])
        if "LEAKED" in text or text.count("blocked") != blocked:
            problems.append(f"{student}'s code was not stopped by the sandbox: {text!r}")
    return problems


def outputs_and_reports(graded: dict) -> list[str]:
    course, problems = graded["course"], []
    graded_nb = course / "autograded" / "flood" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    feedback = course / "feedback" / "flood" / ASSIGNMENT / f"{ASSIGNMENT}.html"
    if (
        graded_nb.stat().st_size > 1_000_000
        or feedback.stat().st_size > 2_000_000
        or "output truncated by the grader" not in graded_nb.read_text()
    ):
        problems.append(
            f"50 MB of output was not cut: graded notebook {graded_nb.stat().st_size} B, feedback {feedback.stat().st_size} B"
        )
    summary = (course / "reports" / ASSIGNMENT / "summary.md").read_text()
    for student, (_, status, *_rest) in EXPECTED.items():
        if f"| {student} |" not in summary or status not in summary:
            problems.append(f"summary.md has no line for {student} ({status})")
    if "| ex3_linear_adapter_tests |" not in summary:
        problems.append("summary.md does not say which grade cells failed for whom")
    header = next(csv.reader(open(course / "reports" / ASSIGNMENT / "summary.csv")))
    if header[:4] != ["student", "score", "max_score", "status"] or not set(CELL_POINTS) <= set(header):
        problems.append(f"summary.csv header {header}")
    for student, r in graded["results"].items():
        if r["status"] not in ("missing", "corrupt") and not (
            (course / r["feedback"]).is_file() and (course / r["graded"]).is_file()
        ):
            problems.append(f"no feedback or graded notebook for {student}")
    if "reports in" not in graded["stdout"] or "sandbox-violation" not in graded["stdout"]:
        problems.append("the summary table is not printed")
    return problems


def one_worker_gives_the_same_grades(graded: dict, folder: Path) -> list[str]:
    """Regrade two students with --jobs 1: the same cells, scores and statuses as with --jobs 2, and the
    gradebook of everyone else untouched."""
    course, before_gradebook = graded["course"], graded["gradebook"]
    out = folder / "jobs1"
    run = grading(
        course,
        "--jobs",
        "1",
        "--cell-timeout",
        str(CELL_LIMIT),
        "--notebook-timeout",
        str(NOTEBOOK_LIMIT),
        *LIMITS,
        "--student=good",
        "--student=nan",
        "--out",
        str(out),
    )
    if run.returncode != 0:
        return [f"the --jobs 1 regrade failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"]
    again = {r["student"]: r for r in json.loads((out / "results.json").read_text())}
    problems = [] if sorted(again) == ["good", "nan"] else [f"the regrade graded {sorted(again)}, not good and nan"]
    for student, result in again.items():
        before = graded["results"][student]
        if (result["cells"], result["score"], result["status"]) != (before["cells"], before["score"], before["status"]):
            problems.append(
                f"{student}: --jobs 1 gives {result['score']} ({result['status']}), --jobs 2 gave "
                f"{before['score']} ({before['status']})"
            )
    if gradebook_scores(course) != before_gradebook:
        problems.append("the regrade changed the gradebook (it must rewrite the same grades, and no one else's)")
    return problems


def a_dask_cluster_gives_the_same_grades(graded: dict, folder: Path) -> list[str]:
    """Regrade a few students with --executor dask --local-cluster 2: the cells, score and status of --jobs 2, the
    gradebook unchanged; "dies" kills its cluster worker the first time (as a crashed machine would) and is graded
    on the retry."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return ["dask.distributed is not installed (make setup installs instructor[dask])"]
    course, before_gradebook = graded["course"], graded["gradebook"]
    marker, out = folder / "died-once", folder / "dask"
    students = ("good", "nan", "raises", "dies")
    run = grading(
        course,
        "--executor",
        "dask",
        "--local-cluster",
        "2",
        "--cell-timeout",
        str(CELL_LIMIT),
        "--notebook-timeout",
        str(NOTEBOOK_LIMIT),
        *LIMITS,
        *(f"--student={s}" for s in students),
        "--out",
        str(out),
        env={"COURSE_GRADING_TEST_DIE_ONCE": str(marker)},
    )
    if run.returncode != 0:
        return [f"the Dask regrade failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"]
    again = {r["student"]: r for r in json.loads((out / "results.json").read_text())}
    problems = [] if marker.is_file() else ["the 'dies' student's task never killed its worker: no retry happened"]
    for student in students:
        got, before = again.get(student), graded["results"][student]
        if got is None or (got["cells"], got["score"], got["status"]) != (
            before["cells"],
            before["score"],
            before["status"],
        ):
            problems.append(
                f"{student}: on Dask {got and (got['score'], got['status'])}, with --jobs 2 {(before['score'], before['status'])}"
            )
    if gradebook_scores(course) != before_gradebook:
        problems.append("the Dask regrade changed the gradebook")
    return problems


def test_a_class_of_bad_submissions(tmp_path):
    graded = grade_the_matrix(tmp_path)
    problems = []
    for check in (
        grades_and_statuses,
        correct_students_unaffected,
        gradebook_complete,
        sandbox_held,
        limits_held,
        outputs_and_reports,
    ):
        problems += [f"[{check.__name__}] {p}" for p in check(graded)]
    problems += [f"[one_worker_gives_the_same_grades] {p}" for p in one_worker_gives_the_same_grades(graded, tmp_path)]
    problems += [
        f"[a_dask_cluster_gives_the_same_grades] {p}" for p in a_dask_cluster_gives_the_same_grades(graded, tmp_path)
    ]
    assert not problems, "\n".join(problems)


def test_grading_refuses_to_run_without_a_sandbox_unless_asked(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    no_bwrap = {**os.environ, "PATH": str(Path(sys.executable).parent)}  # bwrap lives in /usr/bin
    run = subprocess.run(
        [sys.executable, "-m", "course_tools.grading", "autograde", ASSIGNMENT],
        cwd=course,
        env=no_bwrap,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2
    assert "bwrap" in run.stderr and "apt-get install bubblewrap" in run.stderr and "--no-sandbox" in run.stderr


def test_a_grader_that_overruns_is_stopped_and_scores_zero(tmp_path, monkeypatch):
    from course_tools.grading import batch

    course = scratch_course(tmp_path)
    books = Notebooks(
        course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        ROOT / "notebooks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
    )
    write(course / "submitted" / "slow" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", books.solved())
    monkeypatch.setattr(batch, "GRACE_SECONDS", 1)
    monkeypatch.chdir(course)
    results = batch.grade_assignment(ASSIGNMENT, course, batch.Options(notebook_timeout=1), log=lambda *a: None)
    (result,) = results
    assert result.status == "timeout" and "did not finish within 2 s" in result.reason
    assert result.score == 0 and len(result.cells) == len(CELL_POINTS)
    assert sum(gradebook_scores(course)["slow"].values()) == 0


# -- unit tests: no grading run ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def books() -> Notebooks:
    return Notebooks(
        ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", ROOT / "notebooks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    )


def test_repair_rebuilds_stripped_metadata_from_the_source(books):
    from course_tools.grading.repair import repair

    nb = books.solved()
    expected = [grade_id(c) for c in nb["cells"]]
    for cell in nb["cells"]:
        cell["metadata"] = {}
    fixed = repair(books.master, books.release, nb)
    got = [grade_id(c) for c in fixed.notebook["cells"]]
    assert got == expected
    assert fixed.matched == fixed.graded == 9
    assert any("stripped from the whole notebook" in text for _, text in fixed.notes)


def test_repair_keeps_one_copy_of_a_duplicate_and_restores_deleted_and_edited_tests(books):
    from course_tools.grading.repair import repair

    nb = books.solved()
    i = index_of(nb, "ex3_linear_adapter_tests")
    nb["cells"][i]["source"] = "pass"
    del nb["cells"][index_of(nb, "ex4_flops_tests")]
    j = index_of(nb, "ex2_my_adapter")
    nb["cells"].insert(j + 1, json.loads(json.dumps(nb["cells"][j])))
    fixed = repair(books.master, books.release, nb)
    ids = [grade_id(c) for c in fixed.notebook["cells"]]
    assert ids.count("ex2_my_adapter") == 1 and ids.count("ex4_flops_tests") == 1
    restored = fixed.notebook["cells"][ids.index("ex3_linear_adapter_tests")]["source"]
    assert "BEGIN HIDDEN TESTS" in restored or "check_shape" in restored
    notes = " ".join(text for _, text in fixed.notes)
    assert (
        "ex2_my_adapter appears 2 times" in notes
        and "ex4_flops_tests restored" in notes
        and "ex3_linear_adapter_tests was edited" in notes
    )
    assert len({c["id"] for c in fixed.notebook["cells"]}) == len(fixed.notebook["cells"]), "cell ids must stay unique"


def test_locate_finds_renamed_and_reports_missing_and_corrupt_notebooks(tmp_path, books):
    from course_tools.grading.locate import NotebookUnreadable, find_notebook, read_notebook

    folder = tmp_path / "submitted"
    write(folder / "ann" / ASSIGNMENT / f"Copy of {ASSIGNMENT}.ipynb", books.solved())
    found = find_notebook(folder, "ann", ASSIGNMENT)
    assert found.path.name == f"Copy of {ASSIGNMENT}.ipynb" and "graded as" in found.message
    assert find_notebook(folder, "bob", ASSIGNMENT).path is None
    assert "no folder submitted/bob/" in find_notebook(folder, "bob", ASSIGNMENT).message
    bad = write(folder / "cy" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", b"\x89PNG\r\n")
    with pytest.raises(NotebookUnreadable, match="not text"):
        read_notebook(bad)
    write(bad, '{"cells": 3}')
    with pytest.raises(NotebookUnreadable, match="not a notebook"):
        read_notebook(bad)


def test_scan_flags_reference_imports_tampering_and_escapes_but_not_the_solution(books):
    from course_tools.grading.scan import SourceFacts, scan, scan_code

    facts = SourceFacts(books.master)
    solutions = {
        g: books.answer(g) for g in ("ex1_functional_forward", "ex2_my_adapter", "ex3_linear_adapter", "ex4_flops")
    }
    assert scan(facts, solutions, []) == []

    def statuses(code):
        return {status for status, _ in scan_code(code, facts, "cell")}

    assert statuses("from course_lib.params import placement_parameter_count") == {"reference-import"}
    assert statuses("import importlib\nm = importlib.import_module('course_lib.adapters.bottleneck')") == {
        "reference-import"
    }
    assert statuses("from course_lib.adapters import BottleneckAdapter") == set()  # the notebook imports it itself
    # ... from course_lib.api: the same object by another public path is the notebook's too; a private path is not
    assert statuses("from course_lib.api import BottleneckAdapter") == set()
    assert statuses("from course_lib.adapters.bottleneck import BottleneckAdapter") == {"reference-import", "tampering"}
    assert statuses("from course_lib.api import placement_parameter_count") == {"reference-import"}
    assert statuses("def check_equal(*a, **k):\n    return None") == {"tampering"}
    assert statuses("torch.allclose = lambda *a, **k: True") == {"tampering"}
    assert statuses("def helper():\n    check_close = 1\n    return check_close") == set()  # a local name is fine
    assert statuses("import urllib.request\nurllib.request.urlopen('http://example.com')") == {"sandbox-violation"}
    assert statuses("open('../../other/01_bottleneck_math/01_bottleneck_math.ipynb')") == {"sandbox-violation"}


def test_the_sandbox_probe_proves_isolation_on_this_machine_only(monkeypatch):
    """The probe connects to a listener it opens on the host's loopback (never to an outside address): a
    sandbox that shares the host's network reaches it and is refused."""
    from course_tools.grading import sandbox

    assert sandbox.bwrap_path(), "bwrap is not installed: make system-deps (CI runs it) or apt-get install bubblewrap"
    sandbox.probe()  # the real sandbox: isolated
    argv = sandbox.Sandbox.argv
    monkeypatch.setattr(
        sandbox.Sandbox, "argv", lambda self, cwd=None: [a for a in argv(self, cwd) if a != "--unshare-net"]
    )
    with pytest.raises(sandbox.SandboxUnavailable, match="reaches the host's network"):
        sandbox.probe()
    source = Path(sandbox.__file__).read_text()
    assert "1.1.1.1" not in source and "8.8.8.8" not in source


def test_feedback_hides_hidden_tests_and_machine_paths():
    """PrivateFeedback (in nbgrader_config.py's GenerateFeedback preprocessors): a test cell loses its hidden region
    and its traceback (the message stays); other tracebacks keep their frames with the machine's paths cut."""
    import nbformat
    from course_tools.grading.feedback import HIDDEN_NOTE, PrivateFeedback

    site = f"{sys.prefix}/lib/python3.12/site-packages/torch/nn/modules/module.py"
    test = nbformat.v4.new_code_cell(
        "check(x)\n### BEGIN HIDDEN TESTS\nassert secret_reference(x) == 42, 'the secret check'\n### END HIDDEN TESTS\n",
        metadata={"nbgrader": {"grade": True, "solution": False, "grade_id": "t", "points": 1}},
        outputs=[
            nbformat.v4.new_output(
                "error",
                ename="AssertionError",
                evalue="the secret check",
                traceback=["Cell In[3], line 3", "----> 3 assert secret_reference(x) == 42", f"File {site}:1773"],
            )
        ],
    )
    learner = nbformat.v4.new_code_cell(
        "model(x)",
        metadata={"nbgrader": {"grade": False, "solution": True, "grade_id": "s"}},
        outputs=[
            nbformat.v4.new_output(
                "error", ename="RuntimeError", evalue="shape", traceback=[f"File {site}:1773, in _call_impl"]
            ),
            nbformat.v4.new_output("stream", name="stdout", text=f"{ROOT}/course_lib/x.py:3: UserWarning: w\n"),
        ],
    )
    nb = nbformat.v4.new_notebook(cells=[test, learner])
    nb, _ = PrivateFeedback().preprocess(nb, {})
    shown = json.dumps(nb)
    assert "secret_reference" not in shown and HIDDEN_NOTE in nb.cells[0].source
    assert nb.cells[0].source.startswith("check(x)")
    assert nb.cells[0].outputs[0].traceback == ["AssertionError: the secret check"]
    assert nb.cells[1].outputs[0].traceback == ["File torch/nn/modules/module.py:1773, in _call_impl"]
    assert str(ROOT) not in shown and sys.prefix not in shown, shown


def test_the_feedback_page_is_nbconverts_page_without_the_soup_pass():
    """FeedbackHTMLExporter (nbgrader_config.py's GenerateFeedback.exporter_class) writes the page nbconvert's
    HTMLExporter writes, as text, with every image given an alt text, and warm_up renders through it."""
    import html as html_lib

    import nbformat
    from course_tools.grading.feedback import IMAGE_ALT, FeedbackHTMLExporter, warm_up
    from nbconvert.exporters import HTMLExporter
    from nbgrader.converters import GenerateFeedback

    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# Title\n\nSome *text* and $x^2$ < 3 & more."),
            nbformat.v4.new_code_cell(
                "plot(x)  # a comment",
                outputs=[
                    nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"}),
                    nbformat.v4.new_output("stream", name="stdout", text="printed <b>\n"),
                ],
            ),
        ],
        metadata={"language_info": {"name": "python", "pygments_lexer": "ipython3"}},
    )
    resources = {"nbgrader": {"notebook": "nb", "score": 1, "max_score": 2, "late_penalty": 0}}
    config = GenerateFeedback().config
    fast, _ = FeedbackHTMLExporter(config=config).from_notebook_node(nb, dict(resources))
    slow, _ = HTMLExporter(config=config).from_notebook_node(nb, dict(resources))

    def text(page: str) -> str:
        return re.sub(r"\s+", "", html_lib.unescape(re.sub(r"<[^>]+>", "", page)))

    assert text(fast) == text(slow) and "printed" in text(fast) and "Title" in text(fast)
    images = re.findall(r"<img[^>]*>", fast)
    assert images and all(f'alt="{IMAGE_ALT}"' in tag for tag in images), images
    assert "exporter_class" in (ROOT / "nbgrader_config.py").read_text()
    warm_up()


def test_the_cpu_time_limit_stops_a_spinning_kernel_and_is_reported_as_such(tmp_path):
    """RLIMIT_CPU through the kernel launcher (the matrix leaves CPU time out: reaching a CPU-time limit in a
    notebook takes longer than its cell limits); the worker turns the launcher's record into a cpu-limit note."""
    from course_tools.grading import launch
    from course_tools.grading.results import StudentResult
    from course_tools.grading.worker import limits_hit

    status = tmp_path / "kernel.status"
    run = subprocess.run(
        [
            sys.executable,
            launch.__file__,
            "--cpu-seconds",
            "1",
            "--status",
            str(status),
            "--",
            sys.executable,
            "-c",
            "while True: pass",
        ],
        timeout=60,
    )
    assert run.returncode == 128 + 24, run.returncode  # SIGXCPU
    ended = json.loads(status.read_text())
    hits = limits_hit({"cells": []}, {"cpu": "1 s"}, [ended], 0)
    assert [h["limit"] for h in hits] == ["cpu"] and "CPU-time limit (1 s)" in hits[0]["text"]
    result = StudentResult("spin", ASSIGNMENT, MAX)
    result.note("kernel-died", "the kernel died in cell 3")
    result.note("cpu-limit", hits[0]["text"])
    assert result.status == "cpu-limit"


def test_limit_sizes_parse_and_bad_ones_are_refused():
    from course_tools.grading.limits import parse_bytes

    assert parse_bytes("4G") == 4 * 2**30 and parse_bytes("512M") == 512 * 2**20 and parse_bytes("1.5GiB") == 3 * 2**29
    assert parse_bytes("1000") == 1000
    for bad in ("lots", "-1G", "0"):
        with pytest.raises(ValueError, match="size"):
            parse_bytes(bad)
