"""Autograding: the master solution earns every point, the untouched release earns none, and every
notebook runs top to bottom without an error outside the exercises' stubs."""

from __future__ import annotations

import pytest
from nbgrader_helpers import (
    ROOT,
    assignments,
    error_outputs,
    graded_assignments,
    max_points,
    nbgrader,
    scores,
    scratch_course,
    submit,
)


@pytest.mark.parametrize("name", graded_assignments())
def test_solution_earns_every_point_and_blank_release_earns_none(name, tmp_path):
    course = scratch_course(tmp_path)
    nbgrader(course, "generate_assignment", name, "--force")
    submit(course, "solution", name, ROOT / "solutions" / name / f"{name}.ipynb")
    submit(course, "blank", name, ROOT / "notebooks" / name / f"{name}.ipynb")
    nbgrader(course, "autograde", name, "--force")

    result = scores(course, name)
    assert result["solution"] == (max_points(name), max_points(name)), (
        f"{name}: the solution scored {result['solution']}"
    )
    assert result["blank"][0] == 0, f"{name}: the blank release scored {result['blank']}"

    errors = error_outputs(course / "autograded" / "solution" / name / f"{name}.ipynb")
    assert not errors, f"{name}: the graded solution shows errors in cells {errors}"


@pytest.mark.parametrize("name", [n for n in assignments() if n not in graded_assignments()])
def test_ungraded_notebooks_run_top_to_bottom(name, tmp_path):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "solutions" / name / f"{name}.ipynb", as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    path = tmp_path / "out.ipynb"
    nbformat.write(nb, path)
    assert not error_outputs(path)
