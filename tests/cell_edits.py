"""What the wrong- and right-answer catalogues share: a solution cell rewritten by text edits, and the loading of
one catalogue module per assignment."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def edited(solution: str, edits: tuple[tuple[str, str], ...], source: str | None, label: str, cell: str) -> str:
    """``source`` when given, else ``solution`` with every ``(old, new)`` replacement (each ``old`` must occur)."""
    if source is not None:
        return source
    if not edits:
        raise ValueError(f"{label} for {cell} has neither edits nor source")
    text = solution
    for old, new in edits:
        if old not in text:
            raise ValueError(f"{label}: {old!r} does not occur in solution cell {cell}")
        text = text.replace(old, new)
    return text


def load_catalogue(folder: Path, assignment: str, name: str) -> list:
    """The list ``name`` of ``folder/<assignment>.py`` (empty when the assignment has no catalogue)."""
    path = folder / f"{assignment}.py"
    if not path.is_file():
        return []
    spec = importlib.util.spec_from_file_location(f"{folder.name}_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(getattr(module, name))
