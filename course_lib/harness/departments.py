"""Departments of a customer-service hub: BANKING77's 77 intents grouped into six (notebook 10's routed hub).

A router on the frozen base sends each query to a department; the department's adapter then answers with
the intent. The grouping is the course's own, written down in ``data/routing/banking77_departments.json``
(every intent in exactly one department); :func:`to_departments` relabels a ``load_task("banking77")`` split
with it, which is what the router trains on, and :func:`department_split` keeps one department's rows with its own intents as labels,
what that department's adapter trains on.
"""

from __future__ import annotations

import json

from ..package_data import package_data_dir
from .data import _make_dataset, label_feature


def load_departments(task: str = "banking77") -> dict[str, tuple[str, ...]]:
    """``{department: intents}`` in the file's order."""
    path = package_data_dir("routing") / f"{task}_departments.json"
    if not path.is_file():
        raise ValueError(f"no department grouping for task {task!r}: {path.name} is not in data/routing")
    grouping = json.loads(path.read_text(encoding="utf-8"))["departments"]
    return {department: tuple(intents) for department, intents in grouping.items()}


def department_of(task: str = "banking77") -> dict[str, str]:
    """``{intent: department}``."""
    return {intent: dept for dept, intents in load_departments(task).items() for intent in intents}


def to_departments(dataset, task: str = "banking77"):
    """The same rows with each intent label replaced by its department (label names: the departments)."""
    intent_names = label_feature(dataset).names
    which = department_of(task)
    missing = sorted(set(intent_names) - set(which))
    if missing:
        raise ValueError(f"intents with no department in {task}_departments.json: {missing[:5]}")
    departments = list(load_departments(task))
    labels = [departments.index(which[intent_names[label]]) for label in dataset["label"]]
    return _make_dataset(list(dataset["text"]), labels, departments)


def department_split(dataset, department: str, task: str = "banking77"):
    """The rows of ``dataset`` whose intent belongs to ``department``, labelled by their index in the department's
    intents (label names: those intents, in the file's order)."""
    grouping = load_departments(task)
    if department not in grouping:
        raise ValueError(f"unknown department {department!r}; departments of {task}: {', '.join(grouping)}")
    intents = grouping[department]
    intent_names = label_feature(dataset).names
    texts, labels = [], []
    for text, label in zip(dataset["text"], dataset["label"], strict=True):
        name = intent_names[label]
        if name in intents:
            texts.append(text)
            labels.append(intents.index(name))
    return _make_dataset(texts, labels, list(intents))


__all__ = ["load_departments", "department_of", "to_departments", "department_split"]
