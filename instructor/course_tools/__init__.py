"""Instructor tools of the course *Adapter Fine-tuning, hands-on* (not installed for learners).

* ``python -m course_tools.release [--check]``            solutions/ -> notebooks/ and data/manifests/
* ``python -m course_tools.grading autograde ASSIGNMENT``  grade a class with nbgrader, in a sandbox

Installed by ``make setup``, or by hand from the course root: ``pip install -e ./instructor``. Cells are
read through :mod:`course_lib.nbcells`, as the learners' pre-submit check reads them.
"""

__version__ = "0.1.0"
