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

:class:`FeedbackHTMLExporter` is nbconvert's HTML exporter without its last pass, which re-parses the whole
page with BeautifulSoup (0.8 of the 1.85 s one feedback page of notebook 01 took, measured under load)
only to add a placeholder ``alt`` to images and a ``tabindex`` to JupyterLab-template cells; the feedback template has no such cells, and the
``alt`` is added here by a plain text edit. :func:`warm_up` renders a tiny notebook with it, so that a process
forked afterwards (every grading worker, :mod:`course_tools.grading.processes`) starts with everything the
export imports on first use (the syntax highlighter's lexers, the Markdown renderer, the template loaders).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
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


#: An ``<img`` tag with no ``alt`` attribute (nbconvert writes ``<img src="data:...">`` for figures).
_IMG_WITHOUT_ALT = re.compile(r"<img(?![^>]*\balt=)")
IMAGE_ALT = "A figure the notebook drew (no description was given)"


class FeedbackHTMLExporter(HTMLExporter):
    """nbconvert's HTML export of the feedback page, minus the BeautifulSoup pass (see the module docstring)."""

    def from_notebook_node(self, nb, resources=None, **kw):
        language = nb.metadata.get("language_info", {})
        lexer = language.get("pygments_lexer", language.get("name"))
        resources = self._init_resources(resources)
        try:
            self.register_filter(
                "highlight_code", self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            )
            self.register_filter(
                "filter_data_type",
                WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources),
            )
        except (AttributeError, TypeError):  # another nbconvert: its own exporter, slower but right
            return super().from_notebook_node(nb, resources, **kw)
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return _IMG_WITHOUT_ALT.sub(f'<img alt="{IMAGE_ALT}"', html), resources


def warm_up() -> None:
    """Export a two-cell notebook through the feedback template, in this process, and throw the page away."""
    import nbformat
    from nbgrader.converters import GenerateFeedback

    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_markdown_cell("Warm-up: $x$")],
        metadata={"language_info": {"name": "python", "pygments_lexer": "ipython3"}},
    )
    nbgrader = {"notebook": "warm-up", "score": 0, "max_score": 0, "late_penalty": 0}
    FeedbackHTMLExporter(config=GenerateFeedback().config).from_notebook_node(nb, {"nbgrader": nbgrader})
