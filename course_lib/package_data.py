"""Where the project's own data (``data/`` in a checkout) is found: ``data/<kind>`` next to the package
in a checkout, ``course_lib/_data/<kind>`` in an installed wheel (pyproject.toml force-includes it)."""

from __future__ import annotations

from pathlib import Path


def package_data_dir(kind: str) -> Path:
    """The folder ``data/<kind>`` (``reference``, ``manifests``), or a FileNotFoundError saying how to get it."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_data" / kind, here.parent / "data" / kind):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"course_lib cannot find its data/{kind} folder: reinstall the course package "
        "(`pip install -e .` in a checkout, or the Colab setup cell at the top of the notebook)"
    )
