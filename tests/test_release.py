"""notebooks/ is exactly what nbgrader makes from solutions/, and holds no solution or hidden test."""

from __future__ import annotations

import re

import pytest
from course_tools.release import differences
from nbgrader_helpers import ROOT, assignments, cells, graded_assignments

from course_lib.nbcells import nbgrader_meta

NAMES = assignments()


def test_the_course_has_its_assignments():
    for expected in (
        "00_setup",
        "01_bottleneck_math",
        "02_near_identity_init",
        "03_parameter_counts",
        "04_injection_and_training",
        "05_adapter_fusion",
        "06_lora_comparison",
        "07_adapter_variants",
        "08_token_classification",
        "09_decoder_adapters",
        "10_adapters_in_practice",
    ):
        assert expected in NAMES
        assert (ROOT / "solutions" / expected / f"{expected}.ipynb").is_file()


def test_release_matches_a_fresh_generate_assignment():
    problems = differences(ROOT, NAMES)
    assert not problems, "\n".join(problems)


def solution_lines(name: str) -> set[str]:
    """Code lines that appear only inside the solution and hidden-test regions of the master notebook."""
    inside, outside = set(), set()
    for cell in cells(ROOT / "solutions" / name / f"{name}.ipynb"):
        region = None
        for line in "".join(cell["source"]).splitlines():
            stripped = line.strip()
            if re.match(r"### BEGIN (SOLUTION|HIDDEN TESTS)", stripped):
                region = stripped
                continue
            if re.match(r"### END (SOLUTION|HIDDEN TESTS)", stripped):
                region = None
                continue
            (inside if region else outside).add(stripped)
    return {line for line in inside - outside if len(line) > 12 and not line.startswith("#")}


@pytest.mark.parametrize("name", NAMES)
def test_release_holds_no_solution_and_no_hidden_test(name):
    release = ROOT / "notebooks" / name / f"{name}.ipynb"
    text = release.read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text, f"{release} still contains {marker!r}"
    released = {line.strip() for cell in cells(release) for line in "".join(cell["source"]).splitlines()}
    leaked = solution_lines(name) & released
    assert not leaked, f"solution or hidden-test lines leaked into {release}: {sorted(leaked)[:5]}"


@pytest.mark.parametrize("name", NAMES)
def test_master_notebooks_are_clean_sources(name):
    nb = cells(ROOT / "solutions" / name / f"{name}.ipynb")
    ids = [nbgrader_meta(c)["grade_id"] for c in nb if nbgrader_meta(c).get("grade_id")]
    assert len(ids) == len(set(ids)), f"duplicate grade_id in {name}: {ids}"
    for cell in nb:
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{name}: master notebooks are stored without outputs"
    code = [c for c in nb if c["cell_type"] == "code"]
    from course_lib.colab import SETUP_CELL

    assert "".join(code[0]["source"]) == SETUP_CELL, f"{name}: the first code cell must be course_lib.colab.SETUP_CELL"


@pytest.mark.parametrize("name", graded_assignments())
def test_graded_notebooks_end_with_the_presubmit_check(name):
    """The learner's last cell checks the notebook before submitting (issue: a Colab learner must never
    submit a notebook that would score 0)."""
    last = [c for c in cells(ROOT / "notebooks" / name / f"{name}.ipynb") if c["cell_type"] == "code"][-1]
    assert "".join(last["source"]).strip().endswith(f'check_before_submit("{name}")'), (
        f"{name}: the last code cell must run check_before_submit({name!r}): run scripts/add_course_cells.py, then make release"
    )
