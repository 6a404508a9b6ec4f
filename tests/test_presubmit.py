"""The learners' pre-submit check: passes on the release and the solution notebooks, fails with a clear
message on the damage that breaks grading, reads the notebook from Colab when it runs there, and the
release manifests it relies on are up to date."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import types

import pytest
from nbgrader_helpers import ROOT, graded_assignments

from course_lib.nbcells import grade_id
from course_lib.presubmit import build_manifest, check_before_submit, load_manifest, manifest_dir

ASSIGNMENT = "01_bottleneck_math"


def release(name: str = ASSIGNMENT) -> dict:
    return json.loads((ROOT / "notebooks" / name / f"{name}.ipynb").read_text())


def index_of(nb: dict, gid: str) -> int:
    return next(i for i, c in enumerate(nb["cells"]) if grade_id(c) == gid)


def run_check(tmp_path, capsys, nb: dict, name: str = ASSIGNMENT, filename: str | None = None) -> tuple[bool, str]:
    path = tmp_path / (filename or f"{name}.ipynb")
    path.write_text(json.dumps(nb))
    ok = check_before_submit(name, str(path))
    return ok, capsys.readouterr().out


def test_every_release_has_an_up_to_date_manifest():
    for name in graded_assignments():
        stored = load_manifest(name)
        assert stored == build_manifest(release(name), name), f"data/manifests/{name}.json is stale: run `make release`"
        assert stored["total_points"] > 0 and all(c["grade_id"] for c in stored["cells"])


@pytest.mark.parametrize("name", graded_assignments())
def test_passes_on_the_untouched_release_and_on_the_solution(name, tmp_path, capsys):
    ok, out = run_check(tmp_path, capsys, release(name), name)
    assert ok, out
    assert "READY to submit" in out and "not answered yet" in out
    ok, out = run_check(tmp_path, capsys, json.loads((ROOT / "solutions" / name / f"{name}.ipynb").read_text()), name)
    assert ok, out
    assert "not answered yet" not in out


def test_stripped_metadata_fails_and_says_how_to_fix(tmp_path, capsys):
    nb = release()
    for cell in nb["cells"]:
        cell["metadata"].pop("nbgrader", None)
    ok, out = run_check(tmp_path, capsys, nb)
    assert not ok
    assert "NOT READY" in out and "no cell has nbgrader metadata" in out and "copied into a new notebook" in out
    assert "fresh copy of the released notebook" in out and "File -> Download -> Download .ipynb" in out


def test_partly_stripped_metadata_names_the_cell(tmp_path, capsys):
    nb = release()
    nb["cells"][index_of(nb, "ex2_my_adapter_tests")]["metadata"].pop("nbgrader")
    ok, out = run_check(tmp_path, capsys, nb)
    assert not ok
    assert "test cell ex2_my_adapter_tests lost its nbgrader metadata" in out


def test_deleted_test_cell_fails(tmp_path, capsys):
    nb = release()
    del nb["cells"][index_of(nb, "ex1_shape_errors_tests")]
    ok, out = run_check(tmp_path, capsys, nb)
    assert not ok
    assert "test cell ex1_shape_errors_tests is missing" in out


def test_duplicated_cell_fails(tmp_path, capsys):
    nb = release()
    i = index_of(nb, "ex2_my_adapter")
    nb["cells"].insert(i + 1, copy.deepcopy(nb["cells"][i]))
    ok, out = run_check(tmp_path, capsys, nb)
    assert not ok
    assert "solution cell ex2_my_adapter appears 2 times" in out and "keep only one" in out


def test_edited_test_cell_fails_but_an_answer_does_not(tmp_path, capsys):
    nb = release()
    nb["cells"][index_of(nb, "ex2_my_adapter")]["source"] = "class MyAdapter:\n    pass\n"
    ok, out = run_check(tmp_path, capsys, nb)
    assert ok, out
    nb["cells"][index_of(nb, "ex3_linear_adapter_tests")]["source"] += "\nprint('debug')\n"
    ok, out = run_check(tmp_path, capsys, nb)
    assert not ok
    assert "test cell ex3_linear_adapter_tests was edited" in out


def test_changed_points_and_moved_cells_fail(tmp_path, capsys):
    nb = release()
    nb["cells"][index_of(nb, "ex4_flops_tests")]["metadata"]["nbgrader"]["points"] = 20
    ok, out = run_check(tmp_path, capsys, nb)
    assert not ok and "points 2 -> 20" in out
    nb = release()
    cell = nb["cells"].pop(index_of(nb, "ex1_functional_forward_tests"))
    nb["cells"].append(cell)
    ok, out = run_check(tmp_path, capsys, nb)
    assert not ok and "out of order" in out


def test_renamed_file_passes_with_a_warning(tmp_path, capsys):
    ok, out = run_check(tmp_path, capsys, release(), filename=f"Copy of {ASSIGNMENT}.ipynb")
    assert ok
    assert f"rename it to '{ASSIGNMENT}.ipynb'" in out


def test_corrupt_or_missing_notebook_fails_clearly(tmp_path, capsys, monkeypatch):
    path = tmp_path / f"{ASSIGNMENT}.ipynb"
    path.write_text('{"cells": [')
    assert not check_before_submit(ASSIGNMENT, str(path))
    assert "is not a valid notebook file" in capsys.readouterr().out
    monkeypatch.chdir(tmp_path / "..")
    assert not check_before_submit(ASSIGNMENT)
    assert "cannot find the notebook" in capsys.readouterr().out


def test_finds_the_notebook_in_the_current_folder_or_notebooks(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "notebooks" / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / f"{ASSIGNMENT}.ipynb").write_text(json.dumps(release()))
    monkeypatch.chdir(tmp_path)
    assert check_before_submit(ASSIGNMENT)
    assert str(folder / f"{ASSIGNMENT}.ipynb") in capsys.readouterr().out
    monkeypatch.chdir(folder)
    assert check_before_submit(ASSIGNMENT)


def test_skipped_while_nbgrader_grades(monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert check_before_submit(ASSIGNMENT)
    assert "skipped" in capsys.readouterr().out


def fake_colab(monkeypatch, notebook):
    calls = []

    def blocking_request(kind, request="", timeout_sec=None):
        calls.append((kind, request, timeout_sec))
        return {"ipynb": notebook}

    google = types.ModuleType("google")
    colab = types.ModuleType("google.colab")
    message = types.ModuleType("google.colab._message")
    message.blocking_request = blocking_request
    colab._message = message
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setitem(sys.modules, "google.colab._message", message)
    return calls


def test_on_colab_it_checks_the_open_notebook(monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)  # nothing on disk: the notebook must come from Colab
    calls = fake_colab(monkeypatch, release())
    assert check_before_submit(ASSIGNMENT)
    out = capsys.readouterr().out
    assert calls and calls[0][0] == "get_ipynb" and calls[0][2]
    assert "the notebook open in Colab" in out and "File -> Download -> Download .ipynb" in out

    nb = release()
    for cell in nb["cells"]:
        cell["metadata"].pop("nbgrader", None)
    fake_colab(monkeypatch, nb)
    assert not check_before_submit(ASSIGNMENT)
    out = capsys.readouterr().out
    assert "On Google Colab" in out and 'do not use "copy cells into a new notebook"' in out


def test_command_line(tmp_path):
    good = tmp_path / f"{ASSIGNMENT}.ipynb"
    good.write_text(json.dumps(release()))
    run = subprocess.run([sys.executable, "-m", "course_lib.presubmit", str(good)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    nb = release()
    del nb["cells"][index_of(nb, "ex4_flops_tests")]
    bad = tmp_path / "my work.ipynb"  # a name that says nothing: the assignment comes from the grade ids
    bad.write_text(json.dumps(nb))
    run = subprocess.run([sys.executable, "-m", "course_lib.presubmit", str(bad)], capture_output=True, text=True)
    assert run.returncode == 1
    assert "test cell ex4_flops_tests is missing" in run.stdout


def test_manifests_ship_with_the_package():
    assert (manifest_dir() / f"{ASSIGNMENT}.json").is_file()
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"data" = "course_lib/_data"' in pyproject  # the wheel carries data/manifests as course_lib/_data/manifests


def test_cell_roles_are_read_the_same_way_by_the_check_and_the_grader():
    from course_lib.nbcells import cell_role, cell_text, nbgrader_meta

    assert nbgrader_meta({"metadata": {"nbgrader": "garbage"}}) == {}
    assert nbgrader_meta({"metadata": None}) == {} and nbgrader_meta({}) == {}
    roles = {
        "solution": {"grade_id": "a", "solution": True, "grade": False},
        "test": {"grade_id": "b", "grade": True, "locked": True, "points": 2},
        "task": {"grade_id": "c", "task": True, "points": 1},
        "locked": {"grade_id": "d", "locked": True},
        "plain": {"grade_id": "e"},
    }
    for role, meta in roles.items():
        assert cell_role(meta) == role, (meta, cell_role(meta))
    assert cell_role({"solution": True}) == "plain", "a cell without grade_id is not graded"
    assert cell_text(["a\n", "b"]) == "a\nb" and cell_text(None) == ""
    assert cell_text(["x = ", 1]) == "x = 1", "a damaged source is read as text, not refused"


def test_nbcells_reads_grade_ids_labels_lines_and_graded_cells():
    from course_lib.nbcells import grade_id, is_graded, role_label, source_lines

    assert grade_id({"metadata": {"nbgrader": {"grade_id": "ex1"}}}) == "ex1"
    assert grade_id({"metadata": {"nbgrader": {"grade_id": ""}}}) is None and grade_id({"metadata": []}) is None
    assert role_label("test", "ex1_tests") == "test cell ex1_tests" and role_label("locked", "x") == "read-only cell x"
    assert role_label("plain", "x") == "cell x"
    assert source_lines(["a  \n", "\n", "  b\t\n", "   "]) == ["a", "  b"]
    assert is_graded({"grade_id": "t", "grade": True}) and not is_graded({"grade": True})
    assert not is_graded({"grade_id": "s", "solution": True, "grade": False})


def test_the_stub_lines_are_the_ones_nbgrader_writes():
    """nbcells.STUB_LINES (what the check and the grader's repair take for an unanswered cell) is what
    nbgrader_config.py tells nbgrader to put where it removes a solution."""
    from traitlets.config import Config

    from course_lib.nbcells import STUB_LINES

    config = Config()
    exec((ROOT / "nbgrader_config.py").read_text(), {"get_config": lambda: config})  # noqa: S102 - the course's own config
    stubs = [*config.ClearSolutions.code_stub["python"].splitlines(), *config.ClearSolutions.text_stub.splitlines()]
    assert sorted(STUB_LINES) == sorted(stubs)
