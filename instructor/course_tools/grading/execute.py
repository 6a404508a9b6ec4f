"""nbgrader's Execute preprocessor with the limits a class of submissions needs.

* a **per-notebook time limit** on top of nbgrader's per-cell one (``Execute.timeout``): once the
  notebook has used its time, the running cell is interrupted and every later code cell is left
  unexecuted with an error output, so that its tests score 0 (nbgrader gives full marks to a test
  cell without an error, so a cell that never ran must carry one);
* an **output limit**: a cell's outputs are cut while they arrive, so that a submission printing
  50 MB neither fills the grader's memory nor ends up in the graded notebook and the feedback;
* a kernel that **dies or hangs** costs the cells that did not run, not the whole notebook.

What happened is recorded in :data:`EVENTS` (one grading run per process), which the worker reports.
"""

from __future__ import annotations

import time

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Integer

TIMES: dict[str, float] = {}  # "kernel-start": s before the first cell ran, "cells": s running the cells
EVENTS: list[dict] = []  # {"kind": "timeout" | "not-run" | "truncated" | "dead-kernel", "cell": index, ...}

SIZE_KEYS = ("text", "data", "traceback", "evalue")


def _size(content: dict) -> int:
    total = 0
    for key in SIZE_KEYS:
        value = content.get(key)
        if isinstance(value, str):
            total += len(value)
        elif isinstance(value, dict):
            total += sum(len(v) if isinstance(v, str) else len(str(v)) for v in value.values())
        elif isinstance(value, list):
            total += sum(len(str(v)) for v in value)
    return total


def _megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB"


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class GuardedExecute(Execute):
    notebook_timeout = Integer(0, help="seconds the whole notebook may run (0: no limit)").tag(config=True)
    max_output_bytes = Integer(100_000, help="largest output a cell keeps (characters)").tag(config=True)

    def __init__(self, *args, **kwargs):
        from course_tools.grading.kernel import GradingKernelManager

        kwargs.setdefault("kernel_manager_class", GradingKernelManager)
        super().__init__(*args, **kwargs)

    def preprocess(self, nb, resources=None, km=None):
        self._started = time.monotonic()
        self._first_cell: float | None = None
        self._stopped: str | None = None
        self._output_sizes: dict[int, int] = {}
        self._truncated: dict[int, int] = {}
        self.timeout_func = self._cell_timeout
        try:
            return super().preprocess(nb, resources, km)
        except DeadKernelError as err:
            # The kernel died outside a cell (while starting): nothing ran.
            self._stop(f"kernel died: {err}")
            for index, cell in enumerate(nb.cells):
                if cell.cell_type == "code" and not cell.get("outputs"):
                    self._skip(cell, index)
            return nb, self.resources
        finally:
            first = getattr(self, "_first_cell", None)
            TIMES["kernel-start"] = round((first or time.monotonic()) - self._started, 2)
            TIMES["cells"] = round(time.monotonic() - (first or time.monotonic()), 2)
            for index, size in self._truncated.items():
                EVENTS.append({"kind": "truncated", "cell": index, "bytes": size, "limit": self.max_output_bytes})

    # -- time ---------------------------------------------------------------------------------
    def _remaining(self) -> float | None:
        if not self.notebook_timeout:
            return None
        return self.notebook_timeout - (time.monotonic() - self._started)

    def _cell_timeout(self, cell) -> int | None:
        remaining = self._remaining()
        if remaining is None:
            return self.timeout
        limit = max(1, int(remaining + 0.999))
        return min(self.timeout, limit) if self.timeout and self.timeout > 0 else limit

    def _stop(self, why: str) -> None:
        if self._stopped is None:
            self._stopped = why

    def _skip(self, cell, index: int) -> None:
        cell.outputs = [_error("NotExecuted", f"this cell did not run: {self._stopped}")]
        cell.execution_count = None
        EVENTS.append({"kind": "not-run", "cell": index, "why": self._stopped})

    def preprocess_cell(self, cell, resources, index):
        if getattr(self, "_first_cell", None) is None:
            self._first_cell = time.monotonic()
        if cell.cell_type != "code":
            return cell, resources
        remaining = self._remaining()
        if self._stopped is None and remaining is not None and remaining <= 0:
            self._stop(f"the notebook ran past its {self.notebook_timeout} s limit")
        if self._stopped is not None:
            self._skip(cell, index)
            return cell, resources
        started = time.monotonic()
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except CellTimeoutError:
            # The kernel did not come back after the interrupt: it is stuck, later cells cannot run.
            cell.outputs.append(
                _error("CellTimeoutError", "this cell ran past its time limit and did not stop when interrupted")
            )
            self._stop("the kernel stopped responding after a timeout")
            EVENTS.append(
                {"kind": "timeout", "cell": index, "seconds": round(time.monotonic() - started, 1), "stuck": True}
            )
            return cell, resources
        except DeadKernelError:
            cell.outputs.append(_error("DeadKernelError", "the kernel died while running this cell"))
            self._stop("the kernel died in an earlier cell")
            EVENTS.append({"kind": "dead-kernel", "cell": index})
            return cell, resources
        if any(o.get("output_type") == "error" and o.get("ename") == "CellTimeoutError" for o in cell.outputs):
            seconds = round(time.monotonic() - started, 1)
            remaining = self._remaining()
            EVENTS.append(
                {
                    "kind": "timeout",
                    "cell": index,
                    "seconds": seconds,
                    "notebook": remaining is not None and remaining <= 0.5,
                }
            )
            if remaining is not None and remaining <= 0.5:
                self._stop(f"the notebook ran past its {self.notebook_timeout} s limit")
        return cell, resources

    # -- output -------------------------------------------------------------------------------
    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        msg_type = msg.get("msg_type")
        if msg_type == "error":
            # Errors decide the grade: always keep them, cut to a readable size.
            content["evalue"] = str(content.get("evalue", ""))[:2000]
            content["traceback"] = [str(line)[:2000] for line in content.get("traceback", [])[-30:]]
            return super().output(outs, msg, display_id, cell_index)
        size = _size(content)
        used = self._output_sizes.get(cell_index, 0)
        self._output_sizes[cell_index] = used + size
        if used + size <= self.max_output_bytes:
            return super().output(outs, msg, display_id, cell_index)
        first = cell_index not in self._truncated
        self._truncated[cell_index] = used + size
        if not first:
            return None  # already cut: drop the rest
        notice = f"\n... output truncated by the grader: this cell produced more than {_megabytes(self.max_output_bytes)} ...\n"
        if msg_type == "stream":
            content["text"] = content.get("text", "")[: max(0, self.max_output_bytes - used)] + notice
        else:
            header = {**msg.get("header", {}), "msg_type": "stream"}
            msg = {**msg, "msg_type": "stream", "header": header, "content": {"name": "stdout", "text": notice}}
        return super().output(outs, msg, display_id, cell_index)
