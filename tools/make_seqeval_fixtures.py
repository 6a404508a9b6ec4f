#!/usr/bin/env python
"""Write ``tests/fixtures/seqeval/cases.json``: entity spans and scores as the ``seqeval`` package computes them.

Notebook 08's learners write entity-level precision, recall and F1 over BIO spans; course_lib's reference
(``course_lib.entities``) must agree with ``seqeval`` (Nakayama 2018), the package most NER code uses. seqeval
pulls in scikit-learn and SciPy, which the course does not need, so it is never a dependency: this script

1. creates a separate virtual environment (``--venv``, default ``/tmp/seqeval-venv``) if it is missing and
   ``pip install seqeval`` there;
2. re-executes itself with that environment's python;
3. builds hand-written edge cases (a ``B-`` after an ``I-`` of the same type, an ``I-`` after ``O`` or after
   another type, an entity at the end, empty predictions) and seeded random tag sequences over three entity
   types, and stores for each case seqeval's entities (``get_entities``, default lenient mode) and its
   micro precision, recall and F1 (``precision_score``, ``recall_score``, ``f1_score``).

    python tools/make_seqeval_fixtures.py          # then commit tests/fixtures/seqeval/cases.json

tests/test_entities.py compares course_lib.entities with every case.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "fixtures" / "seqeval" / "cases.json"
SEED = 0
TYPES = ("PER", "LOC", "ORG")

EDGE_CASES = [
    # (gold sentences, predicted sentences)
    ([["B-PER", "I-PER", "O", "B-LOC"]], [["B-PER", "I-PER", "O", "B-LOC"]]),
    ([["B-PER", "I-PER", "O", "B-LOC"]], [["B-PER", "O", "O", "B-LOC"]]),
    ([["B-PER", "B-PER", "I-PER"]], [["B-PER", "I-PER", "I-PER"]]),
    ([["O", "I-PER", "I-PER", "O"]], [["O", "B-PER", "I-PER", "O"]]),
    ([["B-PER", "I-LOC", "I-LOC"]], [["B-PER", "B-LOC", "I-LOC"]]),
    ([["O", "O", "B-ORG"]], [["O", "O", "O"]]),
    ([["O", "O", "O"]], [["B-ORG", "O", "O"]]),
    ([["O", "O"], ["B-LOC"]], [["O", "O"], ["B-LOC"]]),
    ([["B-PER", "I-PER"], ["I-ORG", "B-ORG", "I-PER"]], [["B-PER", "I-PER"], ["B-ORG", "B-ORG", "B-PER"]]),
]


def random_sentence(rng: random.Random, length: int) -> list[str]:
    tags = []
    for _ in range(length):
        roll = rng.random()
        kind = rng.choice(TYPES)
        tags.append("O" if roll < 0.5 else f"B-{kind}" if roll < 0.75 else f"I-{kind}")
    return tags


def corrupt(rng: random.Random, tags: list[str]) -> list[str]:
    """A prediction: the gold tags with about one tag in five replaced."""
    return [random_sentence(rng, 1)[0] if rng.random() < 0.2 else tag for tag in tags]


def cases() -> list[tuple[list[list[str]], list[list[str]]]]:
    rng = random.Random(SEED)
    made = list(EDGE_CASES)
    for _ in range(40):
        gold = [random_sentence(rng, rng.randint(1, 12)) for _ in range(rng.randint(1, 4))]
        made.append((gold, [corrupt(rng, sentence) for sentence in gold]))
    return made


def compute() -> list[dict]:
    from seqeval.metrics import f1_score, precision_score, recall_score
    from seqeval.metrics.sequence_labeling import get_entities

    rows = []
    for gold, predicted in cases():
        rows.append(
            {
                "gold": gold,
                "predicted": predicted,
                # seqeval's (type, first, last) with the last token included
                "gold_entities": [sorted(map(list, get_entities(s))) for s in gold],
                "precision": precision_score(gold, predicted, zero_division=0),
                "recall": recall_score(gold, predicted, zero_division=0),
                "f1": f1_score(gold, predicted, zero_division=0),
            }
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", default="/tmp/seqeval-venv")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.inside:
        python = Path(args.venv) / "bin" / "python"
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", args.venv], check=True)
            subprocess.run([str(python), "-m", "pip", "install", "--quiet", "seqeval"], check=True)
        return subprocess.run([str(python), __file__, "--venv", args.venv, "--inside"], env=os.environ).returncode
    rows = compute()
    from importlib.metadata import version

    meta = {
        "made_by": "python tools/make_seqeval_fixtures.py",
        "seqeval": version("seqeval"),
        "mode": "default (lenient, conlleval-like)",
        "seed": SEED,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"meta": meta, "cases": rows}, indent=1) + "\n")
    print(f"wrote {len(rows)} cases to {OUT.relative_to(ROOT)} (seqeval {meta['seqeval']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
