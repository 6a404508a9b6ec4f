"""Grading cost: how long do the solution notebooks take to run, and to autograde?

1. Every ``solutions/NN_topic/NN_topic.ipynb`` that exists is executed top to bottom with nbclient
   (as a learner's "Run all"), in a temporary copy of its folder, twice: in normal mode and in
   fast mode (``COURSE_FAST=1``: the harness caps training at a few steps, see
   ``course_lib.harness.config``). Errors are counted, not raised: ``error cells`` shows them.
2. One full submission (the solutions of every assignment, handed in by one student) is autograded
   with nbgrader in a scratch copy of the course, as ``tests/test_autograde.py`` does: nbgrader sets
   ``NBGRADER_EXECUTION``, so grading always runs in fast mode. We time ``nbgrader autograde`` per
   assignment and read the points from the scratch gradebook.

    python benchmarks/grading_cost.py --preset smoke   # first notebook, fast mode, autograde it (~1-2 min)
    python benchmarks/grading_cost.py --preset cpu     # every notebook, both modes, full submission

``--device cuda`` sets ``COURSE_DEVICE`` for the notebook kernels and nbgrader (the GPU preset);
it needs jupyter/nbclient/nbgrader on that machine, which the course's GPU image may not have.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import common

SOLUTIONS = common.ROOT / "solutions"


@dataclass(frozen=True)
class Preset:
    max_notebooks: int | None  # None = all
    modes: tuple[str, ...]
    autograde: bool


PRESETS = {
    "smoke": Preset(max_notebooks=1, modes=("fast",), autograde=True),
    "cpu": Preset(max_notebooks=None, modes=("normal", "fast"), autograde=True),
    "gpu": Preset(max_notebooks=None, modes=("normal", "fast"), autograde=True),
}


def solution_notebooks() -> dict[str, Path]:
    """Assignment name -> master notebook, for every ``solutions/<name>/<name>.ipynb`` that exists."""
    if not SOLUTIONS.is_dir():
        return {}
    found = {d.name: d / f"{d.name}.ipynb" for d in sorted(SOLUTIONS.iterdir()) if d.is_dir()}
    return {name: path for name, path in found.items() if path.is_file()}


@contextmanager
def environment(**values: str | None):
    """Set (or, with None, remove) environment variables inside the block; kernels inherit them."""
    saved = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_env(mode: str, device: str) -> dict:
    return {
        "COURSE_FAST": "1" if mode == "fast" else None,
        "NBGRADER_EXECUTION": None,  # would force fast mode
        "COURSE_DEVICE": None if device == "auto" else device,
        "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1"),
    }


def execute(path: Path, mode: str, device: str, cell_timeout: int) -> dict:
    """Run one notebook with nbclient in a temporary copy of its folder; time it and count errors."""
    import nbformat
    from nbclient import NotebookClient

    with tempfile.TemporaryDirectory() as tmp, environment(**run_env(mode, device)):
        workdir = Path(tmp) / path.parent.name
        shutil.copytree(path.parent, workdir, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        nb = nbformat.read(workdir / path.name, as_version=4)
        client = NotebookClient(
            nb,
            timeout=cell_timeout,
            kernel_name="python3",
            allow_errors=True,
            resources={"metadata": {"path": str(workdir)}},
        )
        start = time.perf_counter()
        status = "ok"
        try:
            client.execute()
        except Exception as exc:  # a cell timeout or a dead kernel: record it and go on
            status = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}"
        seconds = time.perf_counter() - start
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    errors = [i for i, c in enumerate(nb.cells) if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    return {
        "what": "execute",
        "notebook": path.parent.name,
        "mode": mode,
        "seconds": round(seconds, 1),
        "code_cells": len(code_cells),
        "error_cells": len(errors),
        "status": status,
    }


def autograde_submission(names: list[str], device: str) -> list[dict]:
    """Autograde one student's submission of every assignment in ``names`` (scratch course copy)."""
    sys.path.insert(0, str(common.ROOT / "tests"))
    from nbgrader_helpers import max_points, nbgrader, scores, submit

    rows = []
    env = {k: v for k, v in run_env("normal", device).items() if v is not None}
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp) / "course"
        course.mkdir()
        shutil.copy(common.ROOT / "nbgrader_config.py", course)
        shutil.copytree(SOLUTIONS, course / "solutions", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        for name in names:
            row = {"what": "autograde", "notebook": name, "mode": "nbgrader (fast)"}
            try:
                nbgrader(course, "generate_assignment", name, "--force", env=env)
                submit(course, "student", name, SOLUTIONS / name / f"{name}.ipynb")
                start = time.perf_counter()
                nbgrader(course, "autograde", name, "--force", env=env, timeout=3600)
                row["seconds"] = round(time.perf_counter() - start, 1)
                score, maximum = scores(course, name).get("student", (None, None))
                row.update(score=score, max_score=maximum, expected_max=max_points(name), status="ok")
            except Exception as exc:  # nbgrader failed (the helper asserts on its exit status)
                row.update(seconds="", status=f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:160]}")
            rows.append(row)
            print(
                f"  autograde {name}: {row['seconds']} s, {row.get('score')} / {row.get('max_score')} "
                f"points ({row['status']})",
                flush=True,
            )
    return rows


def main() -> None:
    parser = common.make_parser(__doc__.splitlines()[0], PRESETS)
    parser.add_argument("--notebooks", help="comma-separated assignment names (default: the preset's)")
    parser.add_argument("--cell-timeout", type=int, default=900, help="seconds per cell before giving up (900)")
    parser.add_argument("--no-autograde", action="store_true", help="skip the nbgrader part")
    args = parser.parse_args()
    preset = PRESETS[args.preset]
    args.out.mkdir(parents=True, exist_ok=True)
    import torch

    from course_lib.harness import get_device

    env = common.describe_environment(get_device(args.device) if args.device != "auto" else torch.device("cpu"))
    found = solution_notebooks()
    names = common.parse_list(args.notebooks, found, "--notebooks") or list(found)[: preset.max_notebooks]
    env.update(
        preset=args.preset,
        notebooks=names,
        modes=preset.modes,
        device_for_kernels=args.device,
        note="the notebooks' kernels choose their device themselves unless --device sets COURSE_DEVICE",
    )
    common.print_environment(env)
    common.write_json(env, args.out / f"grading_cost_{args.preset}_environment.json")
    if not names:
        print(f"no solution notebooks found in {SOLUTIONS}: nothing to time")
        return

    rows: list[dict] = []
    csv_path = args.out / f"grading_cost_{args.preset}.csv"
    for name in names:
        for mode in preset.modes:
            row = execute(found[name], mode, args.device, args.cell_timeout)
            rows.append(row)
            common.write_csv(rows, csv_path)
            print(
                f"  {name} ({mode}): {row['seconds']} s, {row['error_cells']} error cell(s), {row['status']}",
                flush=True,
            )
    if preset.autograde and not args.no_autograde:
        rows += autograde_submission(names, args.device)
        common.write_csv(rows, csv_path)

    shown = [
        {
            "what": r["what"],
            "notebook": r["notebook"],
            "mode": r["mode"],
            "seconds": r["seconds"],
            "errors / points": (
                f"{r['error_cells']} error cell(s)"
                if r["what"] == "execute"
                else f"{r.get('score')} / {r.get('max_score')}"
            ),
            "status": r["status"],
        }
        for r in rows
    ]
    for mode in preset.modes:
        total = sum(r["seconds"] for r in rows if r["what"] == "execute" and r["mode"] == mode)
        shown.append({"what": "execute", "notebook": "ALL", "mode": mode, "seconds": round(total, 1)})
    graded = [r["seconds"] for r in rows if r["what"] == "autograde" and r["seconds"] != ""]
    if graded:
        shown.append(
            {
                "what": "autograde",
                "notebook": "ALL (one submission)",
                "mode": "nbgrader (fast)",
                "seconds": round(sum(graded), 1),
            }
        )
    print("\n" + common.markdown_table(shown, ["what", "notebook", "mode", "seconds", "errors / points", "status"]))
    print(f"\nwrote {csv_path}")


if __name__ == "__main__":
    main()
