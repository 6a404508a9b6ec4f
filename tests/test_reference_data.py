"""data/reference/ is exactly what scripts/make_reference_data.py computes from course_lib."""

import subprocess
import sys

from nbgrader_helpers import ROOT


def test_reference_script_reproduces_the_stored_outputs():
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_reference_data.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stderr[-3000:]


def test_every_graded_assignment_has_reference_outputs():
    from course_lib.reference import load_reference

    for maker in (ROOT / "scripts" / "reference").glob("make_*.py"):
        name = maker.stem.removeprefix("make_")
        assert load_reference(name), f"no reference outputs for {name}"
