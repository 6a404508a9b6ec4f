"""Grading a class with nbgrader, safely: ``python -m course_tools.grading autograde ASSIGNMENT``.

Built on nbgrader's own applications (``autograde``, ``generate_feedback``) and gradebook API; what it
adds is isolation and robustness:

* each student is graded in a scratch course of their own, in a child process, so one bad
  submission never stops the others and student code never sees the instructor's gradebook;
* the student's kernel runs in a bubblewrap sandbox: no network, no other students' files
  (:mod:`.sandbox`, :mod:`.kernel`);
* time limits per cell and per notebook, and an output limit (:mod:`.execute`);
* stripped, duplicated or edited nbgrader metadata and deleted or edited test cells are repaired from
  the source notebook (:mod:`.repair`); renamed, missing and corrupt notebooks are reported (:mod:`.locate`);
* the code is scanned for imports of course_lib's reference implementation, for patching what the tests
  use and for attempts to leave the sandbox (:mod:`.scan`);
* the instructor's gradebook is written by the parent process only, one student at a time
  (:mod:`.gradebook`), and every run leaves grades.csv, summary.md and summary.csv (:mod:`.report`).

This package imports nothing heavy: :mod:`.launch` starts every kernel.
"""


def grade_assignment(*args, **kwargs):
    """See :func:`course_tools.grading.batch.grade_assignment`."""
    from course_tools.grading.batch import grade_assignment as run

    return run(*args, **kwargs)
