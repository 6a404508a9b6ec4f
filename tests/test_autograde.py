"""The ungraded notebooks run top to bottom without an error. (The graded ones are autograded in
tests/test_wrong_answers.py: in one nbgrader round per notebook the master solution earns every point, the
untouched release none, and one mistake per exercise loses points.)"""

from __future__ import annotations

import pytest
from nbgrader_helpers import (
    ROOT,
    assignments,
    error_outputs,
    graded_assignments,
)


@pytest.mark.parametrize("name", [n for n in assignments() if n not in graded_assignments()])
def test_ungraded_notebooks_run_top_to_bottom(name, tmp_path):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "solutions" / name / f"{name}.ipynb", as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    path = tmp_path / "out.ipynb"
    nbformat.write(nb, path)
    assert not error_outputs(path)
