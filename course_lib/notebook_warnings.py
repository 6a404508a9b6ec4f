"""Python warnings on standard output, so that a warning never costs a learner points.

nbgrader scores a test cell 0 when anything appears on its standard error, and Python prints warnings there.
Correct code may raise one (PyTorch's "Converting a tensor with requires_grad=True to a scalar", a
deprecation inside a library), so ``course_lib.api`` sends warnings to standard output instead, each line
starting with ``WARNING_MARK``. The pre-submit check and the grader's feedback point these lines out.
"""

from __future__ import annotations

import sys
import warnings

WARNING_MARK = "Python warning (not an error, costs no points):"

_original_showwarning = warnings.showwarning


def _show_on_stdout(message, category, filename, lineno, file=None, line=None) -> None:
    text = warnings.formatwarning(message, category, filename, lineno, line).rstrip("\n")
    print(f"{WARNING_MARK} {text}", file=sys.stdout)


def route_warnings_to_stdout() -> None:
    """Show every later warning on standard output (marked with ``WARNING_MARK``). Idempotent."""
    warnings.showwarning = _show_on_stdout


def restore_warnings() -> None:
    """Back to Python's own behaviour (warnings on standard error)."""
    warnings.showwarning = _original_showwarning


def warning_lines(text: str) -> list[str]:
    """The routed-warning lines in a cell's output text."""
    return [line for line in text.splitlines() if line.startswith(WARNING_MARK)]


def first_warning(cell: dict) -> str | None:
    """The first routed warning a saved notebook cell shows (the text after ``WARNING_MARK``), or None."""
    stdout = "".join(
        "".join(out.get("text", ""))
        for out in cell.get("outputs", [])
        if isinstance(out, dict) and out.get("output_type") == "stream" and out.get("name") == "stdout"
    )
    lines = warning_lines(stdout)
    return lines[0][len(WARNING_MARK) :].strip() if lines else None
