"""Reference outputs of notebook 08 (token classification: NER with adapters).

* exercise 1: real WNUT-17 sentences tokenized by MiniLM's tokenizer (some cut short by truncation), their
  ``word_ids`` and word tags, and the piece labels of ``course_lib.harness.token_data.align_labels``;
* exercises 2 and 3: random BIO tag sequences (fixed seed, every kind of break and stray ``I-`` tag), their
  spans from ``course_lib.entities.bio_spans`` and the scores of ``entity_scores``;
* exercise 4: random logits and piece labels with ``-100`` entries, and the cross-entropy over the labelled
  pieces (``torch.nn.functional.cross_entropy`` with ``ignore_index=-100``).

Keys are prefixed by exercise (``ex1_`` ... ``ex4_``).
"""

from __future__ import annotations

import random

import torch
import torch.nn.functional as F

from course_lib.entities import bio_spans, entity_scores
from course_lib.harness import load_task
from course_lib.harness.token_data import align_labels
from course_lib.sft import IGNORE_INDEX

TYPES = ("PER", "LOC", "ORG")


def exercise_1() -> dict:
    """[word_ids, tags, labels] for 8 validation sentences, 3 of them truncated to 12 pieces."""
    from transformers import AutoTokenizer

    from course_lib.harness.models import minilm_path

    tokenizer = AutoTokenizer.from_pretrained(minilm_path(), local_files_only=True)
    data = load_task("wnut17", "validation", limit=40)
    rows = [r for r in data if any(r["tags"])][:8]  # sentences that name entities
    cases = []
    for i, row in enumerate(rows):
        max_length = 12 if i < 3 else 128
        word_ids = tokenizer(row["tokens"], is_split_into_words=True, truncation=True, max_length=max_length).word_ids()
        cases.append([word_ids, list(row["tags"]), align_labels(word_ids, row["tags"])])
    if not any(sum(label != IGNORE_INDEX for label in labels) < len(tags) for _, tags, labels in cases):
        raise AssertionError("no truncated case: the tests need one")
    return {"ex1_cases": cases}


def random_tags(rng: random.Random, length: int) -> list[str]:
    tags = []
    for _ in range(length):
        roll = rng.random()
        kind = rng.choice(TYPES)
        if roll < 0.4:
            tags.append("O")
        elif roll < 0.65:
            tags.append(f"B-{kind}")
        elif roll < 0.9 and tags and tags[-1] != "O":
            tags.append("I-" + tags[-1][2:])  # continues the entity before it
        else:
            tags.append(f"I-{kind}")  # may be a stray I- (an entity of its own) or switch type
    return tags


def perturbed(rng: random.Random, tags: list[str]) -> list[str]:
    """A prediction: the gold tags with a few changed (a wrong type, a lost B-, a boundary moved...)."""
    out = list(tags)
    for i in range(len(out)):
        if rng.random() < 0.25:
            out[i] = rng.choice(["O", *(f"{p}-{k}" for p in "BI" for k in TYPES)])
    return out


def exercises_2_and_3() -> dict:
    rng = random.Random(8)
    spans = []
    for length in (1, 3, 6, 9, 12, 15, 20, 25):
        tags = random_tags(rng, length)
        spans.append([tags, sorted(list(s) for s in bio_spans(tags))])
    scores = []
    for n_sentences in (1, 2, 4, 6, 10):
        gold = [random_tags(rng, rng.randint(1, 15)) for _ in range(n_sentences)]
        predicted = [perturbed(rng, g) for g in gold]
        s = entity_scores(gold, predicted)
        scores.append([gold, predicted, [s.precision, s.recall, s.f1]])
    return {"ex2_cases": spans, "ex3_cases": scores}


def exercise_4() -> dict[str, torch.Tensor]:
    torch.manual_seed(84)
    tensors = {}
    for case, (batch, length, classes) in enumerate(((2, 7, 5), (3, 11, 13))):
        logits = torch.randn(batch, length, classes) * 3
        labels = torch.randint(0, classes, (batch, length))
        labels[torch.rand(batch, length) < 0.4] = IGNORE_INDEX
        labels[:, 0] = IGNORE_INDEX  # [CLS]
        tensors[f"ex4_{case}_logits"] = logits
        tensors[f"ex4_{case}_labels"] = labels
        tensors[f"ex4_{case}_loss"] = F.cross_entropy(logits.reshape(-1, classes), labels.reshape(-1))
    return tensors


def build() -> tuple[dict[str, torch.Tensor], dict]:
    return exercise_4(), {**exercise_1(), **exercises_2_and_3()}


if __name__ == "__main__":
    tensors, values = build()
    print(sorted(tensors), values)
