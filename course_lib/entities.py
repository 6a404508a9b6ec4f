"""Named entities read from BIO tags, and the entity-level scores NER is judged by (notebook 08).

A tag sequence such as ``B-person I-person O B-location`` names spans: an entity is a maximal run of
tokens of one type that starts at a ``B-`` tag, or at an ``I-`` tag that does not continue an entity
of its type (the lenient reading of the CoNLL-2000 ``conlleval`` script, which ``seqeval``'s default
mode follows too). A predicted entity counts as correct only when its type, first and last token all
match a gold entity: one wrong boundary token makes it both a false positive and a false negative.
Precision, recall and F1 are micro-averaged over every entity of every sentence.

    >>> sorted(bio_spans(["B-PER", "I-PER", "O", "I-LOC"]))
    [('LOC', 3, 4), ('PER', 0, 2)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


def _split(tag: str) -> tuple[str, str]:
    """("B" | "I" | "O", entity type) of one tag; an unknown tag is an error that names it."""
    if not isinstance(tag, str):
        raise TypeError(f"tags must be strings such as 'B-PER', 'I-PER' or 'O', got {tag!r}")
    if tag == "O":
        return "O", ""
    prefix, dash, kind = tag.partition("-")
    if prefix not in ("B", "I") or not dash or not kind:
        raise ValueError(f"not a BIO tag: {tag!r} (expected 'O', 'B-<type>' or 'I-<type>')")
    return prefix, kind


def bio_spans(tags: Sequence[str]) -> set[tuple[str, int, int]]:
    """The entities of one sentence: ``(type, first token, one past the last token)``."""
    spans: set[tuple[str, int, int]] = set()
    kind, start = "", -1
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, this = _split(tag)
        continues = prefix == "I" and this == kind
        if start >= 0 and not continues:
            spans.add((kind, start, i))
            start, kind = -1, ""
        if prefix in ("B", "I") and not continues:
            start, kind = i, this
    return spans


@dataclass(frozen=True)
class EntityScores:
    """Entity-level precision, recall and F1, with the counts they come from."""

    precision: float
    recall: float
    f1: float
    true_positives: int
    predicted: int
    gold: int

    def __str__(self) -> str:
        return (
            f"precision {self.precision:.3f}, recall {self.recall:.3f}, F1 {self.f1:.3f} "
            f"({self.true_positives} of {self.predicted} predicted entities correct, {self.gold} gold entities)"
        )


def entity_scores(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> EntityScores:
    """Micro-averaged entity precision, recall and F1 of ``predicted`` against ``gold`` (lists of tag lists)."""
    if len(gold) != len(predicted):
        raise ValueError(f"gold has {len(gold)} sentences but predicted has {len(predicted)}")
    hits = n_pred = n_gold = 0
    for i, (g, p) in enumerate(zip(gold, predicted, strict=True)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: gold has {len(g)} tags but predicted has {len(p)}")
        gold_spans, pred_spans = bio_spans(g), bio_spans(p)
        hits += len(gold_spans & pred_spans)
        n_pred += len(pred_spans)
        n_gold += len(gold_spans)
    precision = hits / n_pred if n_pred else 0.0
    recall = hits / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return EntityScores(precision, recall, f1, hits, n_pred, n_gold)


__all__ = ["bio_spans", "entity_scores", "EntityScores"]
