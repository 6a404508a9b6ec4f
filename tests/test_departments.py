"""The routed hub's departments (course_lib.harness.departments, data/routing/banking77_departments.json)."""

from __future__ import annotations

import pytest

from course_lib.harness.data import label_feature, load_task
from course_lib.harness.departments import department_of, department_split, load_departments, to_departments


def test_every_banking77_intent_is_in_exactly_one_department():
    intents = label_feature(load_task("banking77", "validation", limit=5)).names
    grouping = load_departments("banking77")
    listed = [intent for members in grouping.values() for intent in members]
    assert sorted(listed) == sorted(intents) and len(listed) == len(set(listed)) == 77
    assert 4 <= len(grouping) <= 8 and all(len(members) >= 3 for members in grouping.values())
    assert department_of()["top_up_failed"] == "top_ups" and department_of()["activate_my_card"] == "cards"


def test_relabelled_rows_keep_their_text_and_get_their_intents_department():
    rows = load_task("banking77", "validation", limit=40)
    routed = to_departments(rows)
    assert routed["text"] == rows["text"]
    assert label_feature(routed).names == list(load_departments())
    intents, departments = label_feature(rows).names, label_feature(routed).names
    for intent, dept in zip(rows["label"], routed["label"], strict=True):
        assert department_of()[intents[intent]] == departments[dept]


def test_an_unknown_task_is_named():
    with pytest.raises(ValueError, match="no department grouping for task 'sst2'"):
        load_departments("sst2")


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
