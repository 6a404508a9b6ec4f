"""Feedback a learner may keep: no hidden test source, no path of the grading machine.

nbgrader's feedback HTML shows every test cell whole, hidden tests included, and full tracebacks, whose
frames quote the failing line of a hidden test and the grader's file paths. Released to one class, the
feedback would hand the hidden tests to the next. :class:`PrivateFeedback` runs in ``nbgrader
generate_feedback`` (the course's ``nbgrader_config.py`` puts it between ``GetGrades`` and the HTML
export) and, in a copy of the graded notebook used only for the HTML:

* in each test cell, replaces the hidden region (``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS``) by
  one comment line, and cuts the traceback of its error to the error's name and message, which is the
  feedback the tests write for the learner;
* elsewhere keeps tracebacks (they point into the learner's own code) but shortens every file path of the
  grading machine (the Python installation, the course, scratch folders) to the part a learner can read.

Scores are not touched: ``GetGrades`` has already read them from the gradebook.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

HIDDEN_NOTE = "# (hidden tests: not shown in feedback; their result and message are below)"
_BEGIN, _END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: A path into an installed package: keep the package-relative part (torch/nn/modules/module.py).
_SITE = re.compile(r"(?:/[^\s'\":]+)*/(?:site|dist)-packages/")


def without_hidden_tests(source: str) -> str:
    lines, hidden, noted = [], False, False
    for line in source.splitlines(keepends=True):
        if _BEGIN in line:
            hidden = True
            if not noted:
                indent = line[: len(line) - len(line.lstrip())]
                lines.append(f"{indent}{HIDDEN_NOTE}\n")
                noted = True
            continue
        if _END in line:
            hidden = False
            continue
        if not hidden:
            lines.append(line)
    return "".join(lines)


def machine_prefixes() -> list[str]:
    """Folders of this machine that feedback must not show, longest first."""
    found = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path.cwd()), str(Path.home())}
    try:
        import course_lib

        found.add(str(Path(course_lib.__file__).resolve().parents[1]))
    except ImportError:  # pragma: no cover - the grader always has course_lib
        pass
    return sorted((p.rstrip("/") for p in found if p and p != "/"), key=len, reverse=True)


def shorten_paths(text: str, prefixes: list[str]) -> str:
    text = _SITE.sub("", text)
    for prefix in prefixes:
        text = text.replace(prefix + "/", "").replace(prefix, ".")
    return re.sub(r"/tmp/[^\s'\":/]+/", "", text)


class PrivateFeedback(NbGraderPreprocessor):
    """Hide hidden tests and machine paths from the feedback HTML (see the module docstring)."""

    def preprocess(self, nb, resources):
        self._prefixes = machine_prefixes()
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        test_cell = utils.is_grade(cell) and not utils.is_solution(cell) and cell.cell_type == "code"
        if test_cell and _BEGIN in cell.source:
            cell.source = without_hidden_tests(cell.source)
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                if test_cell:
                    message = _ANSI.sub("", f"{out.get('ename', 'Error')}: {out.get('evalue', '')}")
                    out["traceback"] = [shorten_paths(message, self._prefixes)]
                else:
                    out["traceback"] = [shorten_paths(line, self._prefixes) for line in out.get("traceback", [])]
                out["evalue"] = shorten_paths(out.get("evalue", ""), self._prefixes)
            elif out.get("output_type") == "stream":
                out["text"] = shorten_paths("".join(out.get("text", "")), self._prefixes)
        return cell, resources
