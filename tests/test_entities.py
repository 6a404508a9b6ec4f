"""course_lib.entities (BIO spans, entity-level scores) and course_lib.harness.token_data (tags on word pieces).

The scores are compared with seqeval's on the cases in tests/fixtures/seqeval/cases.json, written by
tools/make_seqeval_fixtures.py in a separate environment (seqeval is not a dependency of the course).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from course_lib.entities import bio_spans, entity_scores
from course_lib.harness.token_data import (
    align_labels,
    encode_words,
    first_piece_predictions,
    make_token_loader,
)
from course_lib.sft import IGNORE_INDEX as IGNORE

CASES = Path(__file__).resolve().parent / "fixtures" / "seqeval" / "cases.json"


@pytest.fixture(scope="module")
def minilm_tokenizer():
    from transformers import AutoTokenizer

    from course_lib.harness.models import minilm_path

    return AutoTokenizer.from_pretrained(minilm_path(), local_files_only=True)


def seqeval_cases() -> list[dict]:
    return json.loads(CASES.read_text())["cases"]


def test_spans_follow_the_lenient_bio_reading():
    assert bio_spans(["B-PER", "I-PER", "O", "B-LOC"]) == {("PER", 0, 2), ("LOC", 3, 4)}
    assert bio_spans(["B-PER", "B-PER", "I-PER"]) == {("PER", 0, 1), ("PER", 1, 3)}  # B always starts anew
    assert bio_spans(["O", "I-PER", "I-PER"]) == {("PER", 1, 3)}  # an I- after O starts an entity
    assert bio_spans(["B-PER", "I-LOC"]) == {("PER", 0, 1), ("LOC", 1, 2)}  # another type: a new entity
    assert bio_spans([]) == set() and bio_spans(["O", "O"]) == set()


def test_spans_and_scores_agree_with_seqeval():
    cases = seqeval_cases()
    assert len(cases) >= 40
    for case in cases:
        for tags, entities in zip(case["gold"], case["gold_entities"], strict=True):
            assert bio_spans(tags) == {(kind, first, last + 1) for kind, first, last in entities}, tags
        got = entity_scores(case["gold"], case["predicted"])
        for name in ("precision", "recall", "f1"):
            assert math.isclose(getattr(got, name), case[name], abs_tol=1e-12), (case, name, got)


def test_one_wrong_boundary_is_a_false_positive_and_a_false_negative():
    got = entity_scores([["B-PER", "I-PER", "O"]], [["B-PER", "O", "O"]])
    assert (got.true_positives, got.predicted, got.gold) == (0, 1, 1) and got.f1 == 0.0
    assert "0 of 1 predicted" in str(got)


def test_bad_tags_and_mismatched_lengths_are_named():
    with pytest.raises(ValueError, match="not a BIO tag: 'PER'"):
        bio_spans(["PER"])
    with pytest.raises(TypeError, match="tags must be strings"):
        bio_spans([1, 0])
    with pytest.raises(ValueError, match="gold has 1 sentences but predicted has 2"):
        entity_scores([["O"]], [["O"], ["O"]])
    with pytest.raises(ValueError, match="sentence 0: gold has 2 tags but predicted has 1"):
        entity_scores([["O", "O"]], [["O"]])


def test_first_piece_gets_the_tag_and_the_rest_are_ignored():
    # [CLS] New York ##er is here [SEP]  ->  words 0, 1, 1, 2, 3
    word_ids = [None, 0, 1, 1, 2, 3, None]
    assert align_labels(word_ids, [5, 6, 0, 0]) == [IGNORE, 5, 6, IGNORE, 0, 0, IGNORE]
    assert first_piece_predictions(word_ids, [9, 5, 6, 1, 0, 0, 9], 5) == [5, 6, 0, 0, -1]
    with pytest.raises(ValueError, match="word id 4 has no tag: the sentence has 4 tags"):
        align_labels([None, 4], [0, 0, 0, 0])
    with pytest.raises(ValueError, match="3 word ids but 2 piece predictions"):
        first_piece_predictions([None, 0, None], [1, 2], 1)


def test_encoding_a_real_ner_sentence_with_the_course_tokenizer(minilm_tokenizer):
    rows = {"tokens": [["Ouagadougou", "is", "in", "Burkina"], ["hi"]], "tags": [[7, 0, 0, 7], [0]]}
    encoded, word_ids = encode_words(rows, minilm_tokenizer, max_length=32)
    first = encoded[0]
    pieces = minilm_tokenizer.convert_ids_to_tokens(first["input_ids"])
    assert pieces[0] == "[CLS]" and pieces[-1] == "[SEP]" and len(pieces) > 6  # Ouagadougou splits into 5 pieces
    labelled = [(p, label) for p, label in zip(pieces, first["labels"], strict=True) if label != IGNORE]
    assert [label for _, label in labelled] == [7, 0, 0, 7]
    assert labelled[0][0] == pieces[1] and not labelled[0][0].startswith("##")
    assert first_piece_predictions(word_ids[0], first["labels"], 4) == [7, 0, 0, 7]
    short, ids = encode_words(rows, minilm_tokenizer, max_length=4)  # [CLS] + 2 pieces + [SEP]: words cut off
    assert len(short[0]["input_ids"]) == 4 and first_piece_predictions(ids[0], short[0]["labels"], 4)[-1] == -1
    with pytest.raises(ValueError, match="sentence 0 has 1 words but 2 tags"):
        encode_words({"tokens": [["a"]], "tags": [[0, 0]]}, minilm_tokenizer)
    with pytest.raises(ValueError, match="needs a 'tokens' column"):
        encode_words({"text": ["a"]}, minilm_tokenizer)


def test_the_token_loader_pads_labels_with_the_ignored_label(minilm_tokenizer):
    rows = {"tokens": [["Ouagadougou", "is", "in", "Burkina"], ["hi"]], "tags": [[7, 0, 0, 7], [0]]}
    batch = next(iter(make_token_loader(rows, minilm_tokenizer, batch_size=2)))
    assert batch["input_ids"].shape == batch["labels"].shape == batch["attention_mask"].shape
    padded = batch["attention_mask"] == 0
    assert padded.any() and (batch["labels"][padded] == IGNORE).all()
    assert (batch["labels"] != IGNORE).sum().item() == 5  # one label per word
