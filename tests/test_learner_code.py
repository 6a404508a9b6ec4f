"""The pieces that keep correct learner code from losing points and let experiments run on it:
warnings on stdout (course_lib.notebook_warnings), the pre-submit and grader notes about them, and
course_lib.yours.yours_or_reference."""

from __future__ import annotations

import warnings

import pytest
import torch

from course_lib import notebook_warnings
from course_lib.presubmit import output_notes
from course_lib.yours import FALLING_BACK, USING_YOURS, yours_or_reference


@pytest.fixture
def routed():
    notebook_warnings.route_warnings_to_stdout()
    yield
    notebook_warnings.restore_warnings()


def test_importing_the_api_routes_warnings_to_stdout(capsys):
    import importlib

    import course_lib.api

    importlib.reload(course_lib.api)  # run the module again: another test may have restored Python's display

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            loss = torch.ones(1, requires_grad=True) * 2
            assert float(loss) == 2.0  # PyTorch warns: a tensor that requires grad converted to a scalar
        out = capsys.readouterr()
        assert out.err == "", f"a warning reached stderr, where nbgrader scores the cell 0: {out.err!r}"
        assert notebook_warnings.warning_lines(out.out), f"the warning was not shown on stdout: {out.out!r}"
        assert "requires_grad" in out.out
    finally:
        notebook_warnings.restore_warnings()


def test_restore_gives_python_its_own_warning_display_back(routed):
    assert warnings.showwarning is not notebook_warnings._original_showwarning
    notebook_warnings.restore_warnings()
    assert warnings.showwarning is notebook_warnings._original_showwarning


def _cell(grade_id, outputs, *, grade=True, solution=False):
    return {
        "cell_type": "code",
        "source": "",
        "metadata": {"nbgrader": {"grade_id": grade_id, "grade": grade, "solution": solution, "points": 1}},
        "outputs": outputs,
    }


def test_presubmit_notes_warnings_and_stderr_in_test_cells():
    mark = notebook_warnings.WARNING_MARK
    notebook = {
        "cells": [
            _cell(
                "ex_tests",
                [{"output_type": "stream", "name": "stdout", "text": f"{mark} x.py:1: UserWarning: careful\n"}],
            ),
            _cell("ex2_tests", [{"output_type": "stream", "name": "stderr", "text": "100%|####| 3/3\n"}]),
            _cell("ex3_tests", [{"output_type": "stream", "name": "stdout", "text": "all good\n"}]),
        ]
    }
    notes = output_notes(notebook)
    assert len(notes) == 2, notes
    assert notes[0].startswith("ex_tests") and "careful" in notes[0] and "no points" in notes[0]
    assert notes[1].startswith("ex2_tests") and "standard error" in notes[1] and "0" in notes[1]


def test_the_grader_lists_the_warnings_a_notebook_showed():
    from course_tools.grading.worker import warnings_seen

    mark = notebook_warnings.WARNING_MARK
    notebook = {
        "cells": [
            _cell(
                "ex3_train_step_tests",
                [{"output_type": "stream", "name": "stdout", "text": f"{mark} a.py:2: UserWarning: scalar\n"}],
            ),
            _cell("other", [{"output_type": "stream", "name": "stdout", "text": "no warning\n"}]),
        ]
    }
    seen = warnings_seen(notebook)
    assert seen == ["cell ex3_train_step_tests: a.py:2: UserWarning: scalar"]


def test_yours_or_reference_uses_working_learner_code(capsys):
    def yours(x):
        return x + 1

    chosen = yours_or_reference("add_one", yours, lambda x: x + 1, check=lambda f: f(1) == 2)
    assert chosen is yours
    assert capsys.readouterr().out.strip() == f"{USING_YOURS} add_one."


@pytest.mark.parametrize(
    ("yours", "check", "why"),
    [
        (None, None, "not defined"),
        (lambda x: (_ for _ in ()).throw(NotImplementedError()), lambda f: f(1), "not done yet"),
        (lambda x: x, lambda f: f(1) == 2, "does not agree"),
        (lambda x: x / 0, lambda f: f(1), "ZeroDivisionError"),
    ],
)
def test_yours_or_reference_falls_back_and_says_why(capsys, yours, check, why):
    def reference(x):
        return x + 1

    assert yours_or_reference("add_one", yours, reference, check=check) is reference
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"{FALLING_BACK} add_one") and why in out and "reference" in out
    assert len(out.splitlines()) == 1


def test_the_fallback_line_names_what_runs_instead(capsys):
    assert yours_or_reference("merge_and_unload", None, "merge", instead="an in-place merge") == "merge"
    out = capsys.readouterr().out
    assert "uses an in-place merge." in out and "course_lib's reference" not in out
