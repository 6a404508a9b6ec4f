"""course_lib.harness.departments.department_split: one department's rows, labelled by its own intents."""

from __future__ import annotations

import pytest

from course_lib.api import load_task
from course_lib.harness.data import label_feature
from course_lib.harness.departments import department_split, load_departments


def test_a_department_keeps_its_rows_and_relabels_them_by_its_intents():
    rows = load_task("banking77", "validation", limit=300)
    names = label_feature(rows).names
    total = 0
    for department, intents in load_departments().items():
        split = department_split(rows, department)
        assert label_feature(split).names == list(intents)
        expected = [(t, names[y]) for t, y in zip(rows["text"], rows["label"], strict=True) if names[y] in intents]
        assert [(t, intents[y]) for t, y in zip(split["text"], split["label"], strict=True)] == expected
        total += len(split)
    assert total == len(rows)  # every row in exactly one department


def test_an_unknown_department_is_named():
    with pytest.raises(ValueError, match="unknown department 'loans'.*cards"):
        department_split(load_task("banking77", "validation", limit=5), "loans")
