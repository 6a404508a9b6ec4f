"""Graders that catch real mistakes and never punish right answers: every wrong answer of
tests/wrong_answers/ loses points on its exercise and the message the learner reads names the mistake;
every right answer of tests/right_answers/ (correct code written differently from the master) earns
every point.

Two checks per graded notebook:
- every catalogued mistake, one at a time, in one kernel: the solution notebook runs once as the
  grader runs it (NBGRADER_EXECUTION set, so training cells are tiny); then, for each mistake, the
  exercise's cells run again from the mistaken solution cell to its last test cell, with the hidden
  tests, and the correct cell is put back after each exercise; each right answer runs the same way and
  must pass every test cell with nothing on standard error (nbgrader scores a cell with stderr 0);
- one real nbgrader round per notebook, three students in one scratch course: the solution (the master
  with one right answer per exercise swapped in) must earn every point with no error in any cell, the
  untouched release none, and a submission holding one mistake per exercise must lose points on each
  exercise, also in its generated feedback.
"""

from __future__ import annotations

import copy
import html
import re
import shutil
import sys

import nbformat
import pytest
from course_tools.grading.feedback import HIDDEN_NOTE
from nbclient import NotebookClient
from nbgrader_helpers import (
    ROOT,
    error_outputs,
    grade_scores,
    graded_assignments,
    max_points,
    nbgrader,
    scores,
    scratch_course,
    submit,
)
from right_answers import Right
from right_answers import catalogue as right_catalogue
from wrong_answers import Wrong, catalogue

from course_lib.nbcells import nbgrader_meta
from course_lib.presubmit import normalised
from course_lib.yours import FALLING_BACK, USING_YOURS

MIN_PER_EXERCISE = 3
MIN_RIGHT_PER_EXERCISE = 2


def exercises(nb) -> dict[str, dict]:
    """solution grade_id -> {"index": cell index, "tests": [(index, grade_id, points)]}: the test cells
    of an exercise are the grade cells between its solution cell and the next solution cell."""
    found, current = {}, None
    for i, cell in enumerate(nb.cells):
        meta = nbgrader_meta(cell)
        if meta.get("solution") and cell.cell_type == "code":
            current = found[meta["grade_id"]] = {"index": i, "tests": []}
        elif meta.get("grade") and cell.cell_type == "code" and current is not None:
            current["tests"].append((i, meta["grade_id"], meta.get("points", 0)))
    return found


def with_tests(groups: dict[str, dict], grade_id: str) -> dict:
    """The exercise's group, reaching on to the next group's tests when its own cell has none (a helper
    cell tested together with the next exercise)."""
    ids = list(groups)
    for later in ids[ids.index(grade_id) :]:
        if groups[later]["tests"]:
            return {"index": groups[grade_id]["index"], "tests": groups[later]["tests"]}
    raise AssertionError(f"no test cell follows solution cell {grade_id}")


def stderr_text(cell) -> str:
    return "".join(
        o.get("text", "")
        for o in cell.get("outputs", [])
        if o.get("output_type") == "stream" and o.get("name") == "stderr"
    )


def outputs_text(notebook) -> str:
    """Everything the notebook's code cells printed (streams and text results)."""
    text = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        for out in cell.get("outputs", []):
            text.append(out.get("text", "") if out.get("output_type") == "stream" else "")
            text.append(out.get("data", {}).get("text/plain", "") if "data" in out else "")
    return "".join(text)


def feedback_leaks(feedback, source_nb) -> list[str]:
    """What the feedback HTML shows that a learner must not see: a line of a hidden test, a path of this machine."""
    text = html.unescape(re.sub(r"<[^>]+>", "", feedback.read_text()))
    visible = {line.strip() for c in source_nb.cells for line in normalised(c.source).splitlines()}
    leaks = []
    if any("BEGIN HIDDEN TESTS" in "".join(c.source) for c in source_nb.cells) and HIDDEN_NOTE not in text:
        leaks.append("the feedback does not say where hidden tests were left out")
    for cell in source_nb.cells:
        hidden = False
        for line in "".join(cell.source).splitlines():
            if "BEGIN HIDDEN TESTS" in line or "END HIDDEN TESTS" in line:
                hidden = "BEGIN" in line
            elif (
                hidden
                and len(line.strip()) > 25
                and not any(line.strip() in shown for shown in visible)  # the visible tests may say the same
                and line.strip() in text
            ):
                leaks.append(f"the feedback shows a hidden test line: {line.strip()!r}")
    for path in {str(ROOT), sys.prefix, "/tmp/"}:
        if path in text:
            leaks.append(f"the feedback shows a path of the grading machine: {path}")
    return leaks


def error_text(cell) -> str:
    return "\n".join(
        f"{o.get('ename')}: {o.get('evalue')}" for o in cell.get("outputs", []) if o.get("output_type") == "error"
    )


def master(name: str):
    return nbformat.read(ROOT / "solutions" / name / f"{name}.ipynb", as_version=4)


@pytest.mark.parametrize("name", graded_assignments())
def test_every_exercise_has_a_catalogue_of_wrong_answers(name):
    nb = master(name)
    wrong = catalogue(name)
    counts = {grade_id: 0 for grade_id in exercises(nb)}
    for w in wrong:
        assert w.cell in counts, f"{name}: wrong answer {w.mistake!r} names {w.cell!r}, which is not a solution cell"
        w.apply("".join(nb.cells[exercises(nb)[w.cell]["index"]].source))  # every edit applies
        counts[w.cell] += 1
    thin = {cell: n for cell, n in counts.items() if n < MIN_PER_EXERCISE}
    assert not thin, f"{name}: fewer than {MIN_PER_EXERCISE} wrong answers for {thin}"


@pytest.mark.parametrize("name", graded_assignments())
def test_every_exercise_has_a_catalogue_of_right_answers(name):
    nb = master(name)
    groups = exercises(nb)
    counts = {grade_id: 0 for grade_id in groups}
    for r in right_catalogue(name):
        assert r.cell in counts, f"{name}: right answer {r.variant!r} names {r.cell!r}, which is not a solution cell"
        solution = "".join(nb.cells[groups[r.cell]["index"]].source)
        assert r.apply(solution).strip() != solution.strip(), f"{name}: right answer {r.variant!r} is the master itself"
        counts[r.cell] += 1
    thin = {cell: n for cell, n in counts.items() if n < MIN_RIGHT_PER_EXERCISE}
    assert not thin, f"{name}: fewer than {MIN_RIGHT_PER_EXERCISE} right answers for {thin}"


@pytest.mark.parametrize("name", graded_assignments())
def test_each_wrong_answer_loses_points_and_says_why_and_each_right_answer_earns_them(name, tmp_path, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")  # as while grading: tiny training budgets
    shutil.copytree(ROOT / "solutions" / name, tmp_path / name)
    nb = master(name)
    groups = exercises(nb)
    wrong_by_cell: dict[str, list[Wrong]] = {}
    for w in catalogue(name):
        wrong_by_cell.setdefault(w.cell, []).append(w)
    right_by_cell: dict[str, list[Right]] = {}
    for r in right_catalogue(name):
        right_by_cell.setdefault(r.cell, []).append(r)
    # The cells after the last test cell (experiments, the pre-submit check) play no part here: the nbgrader
    # round below runs the whole notebook.
    last_needed = max(with_tests(groups, g)["tests"][-1][0] for g in {*wrong_by_cell, *right_by_cell} | {*groups})
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(tmp_path / name)}},
    )
    problems = []
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells[: last_needed + 1]):
            if cell.cell_type == "code":
                client.execute_cell(cell, i)
                assert not error_text(cell), f"{name}: the solution notebook fails in cell {i}: {error_text(cell)}"
                if nbgrader_meta(cell).get("grade"):
                    assert not stderr_text(cell), f"{name}: test cell {i} writes to stderr: {stderr_text(cell)}"

        def run_exercise(group, solution_source) -> tuple[dict[str, str], dict[str, str]]:
            """Run the exercise again from its solution cell to its last test: (errors of its cells, stderr
            of its test cells)."""
            last = group["tests"][-1][0]
            errors, stderr = {}, {}
            for i in range(group["index"], last + 1):
                cell = copy.deepcopy(nb.cells[i])
                if cell.cell_type != "code":
                    continue
                if i == group["index"]:
                    cell.source = solution_source
                client.execute_cell(cell, i)
                grade_id = nbgrader_meta(cell).get("grade_id") or f"cell {i}"
                if error_text(cell):
                    errors[grade_id] = error_text(cell)
                if any(grade_id == t[1] for t in group["tests"]) and stderr_text(cell):
                    stderr[grade_id] = stderr_text(cell)
            return errors, stderr

        for grade_id in groups:
            group = with_tests(groups, grade_id)
            test_ids = {t[1] for t in group["tests"]}
            solution = "".join(nb.cells[group["index"]].source)
            for w in wrong_by_cell.get(grade_id, []):
                errors, _ = run_exercise(group, w.apply(solution))
                errors = {k: v for k, v in errors.items() if k in test_ids}
                if not errors:
                    problems.append(f"{grade_id} / {w.mistake}: no test cell failed, the mistake earns full points")
                elif not any(w.says.lower() in text.lower() for text in errors.values()):
                    problems.append(f"{grade_id} / {w.mistake}: the feedback does not say {w.says!r}; it says {errors}")
            for r in right_by_cell.get(grade_id, []):
                errors, stderr = run_exercise(group, r.apply(solution))
                if errors:
                    problems.append(f"{grade_id} / right answer {r.variant!r} loses points: {errors}")
                if stderr:
                    problems.append(f"{grade_id} / right answer {r.variant!r} writes to stderr (scored 0): {stderr}")
            if wrong_by_cell.get(grade_id) or right_by_cell.get(grade_id):
                restored, _ = run_exercise(group, solution)
                assert not restored, (
                    f"{name}: putting the solution of {grade_id} back did not pass its tests: {restored}"
                )
    assert not problems, f"{name}: " + "\n".join(problems)


@pytest.mark.parametrize("name", graded_assignments())
def test_nbgrader_grades_the_solution_the_blank_release_one_mistake_and_one_right_answer_per_exercise(name, tmp_path):
    """Three students: "solution" (the master with one right answer per exercise swapped in, so that the master's
    own answers, proven in the kernel test above, and the right answers both meet nbgrader), "blank" (the release)
    and "mistaken" (one wrong answer per exercise)."""
    nb = master(name)
    groups = exercises(nb)
    right = master(name)
    for grade_id in groups:
        variant = next((r for r in right_catalogue(name) if r.cell == grade_id and r.combined), None)
        if variant is not None:
            cell = right.cells[groups[grade_id]["index"]]
            cell.source = variant.apply("".join(cell.source))
    chosen = {}
    for w in catalogue(name):
        if w.combined:
            chosen.setdefault(w.cell, w)
    for grade_id, w in chosen.items():
        cell = nb.cells[groups[grade_id]["index"]]
        cell.source = w.apply("".join(cell.source))
    course = scratch_course(tmp_path)
    nbgrader(course, "generate_assignment", name, "--force")
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, path)
    submit(course, "mistaken", name, path)
    right_path = tmp_path / "right" / f"{name}.ipynb"
    right_path.parent.mkdir()
    nbformat.write(right, right_path)
    submit(course, "solution", name, right_path)
    submit(course, "blank", name, ROOT / "notebooks" / name / f"{name}.ipynb")
    nbgrader(course, "autograde", name, "--force")
    nbgrader(course, "generate_feedback", name, "--student=mistaken", "--force")  # the feedback checked below

    result = scores(course, name)
    assert result["solution"] == (max_points(name), max_points(name)), (
        f"{name}: the solution with one right answer per exercise (tests/right_answers/) scored "
        f"{result['solution']}: {grade_scores(course, name, 'solution')}"
    )
    assert result["blank"][0] == 0, f"{name}: the blank release scored {result['blank']}"
    errors = error_outputs(course / "autograded" / "solution" / name / f"{name}.ipynb")
    assert not errors, f"{name}: the graded solution shows errors in cells {errors}"
    if any("yours_or_reference" in "".join(c.source) for c in nb.cells if c.cell_type == "code"):
        # The experiments run on the learner's code: correct answers drive them all, and a blank
        # release falls back to course_lib's reference (saying so) without an error outside its exercises.
        solution_text = outputs_text(course / "autograded" / "solution" / name / f"{name}.ipynb")
        assert USING_YOURS in solution_text, f"{name}: no experiment says it runs on the learner's code"
        assert FALLING_BACK not in solution_text, f"{name}: with correct answers an experiment still falls back"
        blank = course / "autograded" / "blank" / name / f"{name}.ipynb"
        assert FALLING_BACK in outputs_text(blank), f"{name}: the blank release never says it falls back"
        graded_cells = nbformat.read(blank, as_version=4).cells
        outside = [(i, e) for i, e in error_outputs(blank) if not nbgrader_meta(graded_cells[i]).get("grade_id")]
        assert not outside, f"{name}: with the exercises not done, cells outside the exercises fail: {outside}"

    earned = grade_scores(course, name, "mistaken")
    graded = nbformat.read(course / "autograded" / "mistaken" / name / f"{name}.ipynb", as_version=4)
    messages = {nbgrader_meta(c).get("grade_id"): error_text(c) for c in graded.cells if nbgrader_meta(c).get("grade")}
    problems = []
    for grade_id, w in chosen.items():
        tests = groups[grade_id]["tests"]
        lost = sum(points for _, test_id, points in tests) - sum(earned[test_id] for _, test_id, _ in tests)
        if lost <= 0:
            problems.append(f"{grade_id} / {w.mistake}: nbgrader gave every point")
        if not any(w.says.lower() in messages[test_id].lower() for _, test_id, _ in tests):
            problems.append(f"{grade_id} / {w.mistake}: the graded notebook does not say {w.says!r}")
    feedback = course / "feedback" / "mistaken" / name / f"{name}.html"
    assert feedback.is_file(), f"no feedback was generated at {feedback}"
    assert "AssertionError" in feedback.read_text() or "Error" in feedback.read_text()
    problems += feedback_leaks(feedback, master(name))
    assert not problems, f"{name}: " + "\n".join(problems)
