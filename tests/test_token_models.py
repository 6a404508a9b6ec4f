"""course_lib.harness.token_data's model side (notebook 08): load_token_model, predict_word_tags, and a learner's
own alignment function passed to encode_words / make_token_loader."""

from __future__ import annotations

import pytest
import torch

from course_lib.harness.token_data import (
    align_labels,
    encode_words,
    load_token_model,
    make_token_loader,
    predict_word_tags,
)
from course_lib.sft import IGNORE_INDEX

DATA = {
    "tokens": [["Ouagadougou", "beats", "Bobo-Dioulasso"], ["hello"], ["a", "b", "c", "d", "e", "f", "g", "h"]],
    "tags": [[7, 0, 7], [0], [1, 2, 0, 0, 0, 0, 9, 10]],
}


@pytest.fixture(scope="module")
def tiny():
    return load_token_model("tiny-bert", num_labels=5, seed=3)


def test_load_token_model_gives_a_token_head_of_the_right_size(tiny):
    model, tokenizer = tiny
    assert type(model).__name__ == "BertForTokenClassification"
    assert model.classifier.out_features == 5 and not model.training
    assert tokenizer.is_fast
    batch = tokenizer([["a", "b"]], is_split_into_words=True, return_tensors="pt")
    assert model(**batch).logits.shape == (1, batch["input_ids"].shape[1], 5)


def test_load_token_model_seed_fixes_the_head_and_leaves_the_global_rng_alone():
    torch.manual_seed(0)
    before = torch.rand(1)
    torch.manual_seed(0)
    a, _ = load_token_model("tiny-bert", num_labels=3, seed=1)
    after = torch.rand(1)
    b, _ = load_token_model("tiny-bert", num_labels=3, seed=1)
    c, _ = load_token_model("tiny-bert", num_labels=3, seed=2)
    assert torch.equal(before, after)
    assert torch.equal(a.classifier.weight, b.classifier.weight)
    assert not torch.equal(a.classifier.weight, c.classifier.weight)


@pytest.mark.parametrize("bad", [0, -1, 2.0, True, "3"])
def test_load_token_model_rejects_a_bad_number_of_labels(bad):
    with pytest.raises(ValueError, match="num_labels"):
        load_token_model("tiny-bert", num_labels=bad)


def test_load_token_model_names_the_models_it_knows():
    with pytest.raises(ValueError, match="'minilm' or 'tiny-bert'"):
        load_token_model("gpt2", num_labels=3)


def test_predict_word_tags_reads_each_words_first_piece(tiny):
    model, tokenizer = tiny
    predicted = predict_word_tags(model, DATA, tokenizer, batch_size=2)
    assert [len(p) for p in predicted] == [len(ws) for ws in DATA["tokens"]]
    encoded, word_ids = encode_words(DATA, tokenizer)
    for i in range(len(DATA["tokens"])):  # one sentence at a time, no padding: the same answer
        batch = {k: torch.tensor([v]) for k, v in encoded[i].items() if k != "labels"}
        pieces = model(**batch).logits[0].argmax(-1).tolist()
        firsts = [pieces[j] for j, w in enumerate(word_ids[i]) if w is not None and w != word_ids[i][j - 1]]
        assert predicted[i] == firsts


def test_predict_word_tags_gives_missing_to_words_cut_off(tiny):
    model, tokenizer = tiny
    predicted = predict_word_tags(model, DATA, tokenizer, max_length=5, missing=-7)
    assert predicted[2][3:] == [-7] * 5  # [CLS] + 3 words + [SEP]
    assert all(t >= 0 for t in predicted[2][:3])


def test_predict_word_tags_restores_training_mode(tiny):
    model, tokenizer = tiny
    model.train()
    predict_word_tags(model, DATA, tokenizer)
    assert model.training
    model.eval()


def test_encode_words_uses_the_alignment_it_is_given():
    _, tokenizer = load_token_model("tiny-bert", num_labels=2)
    every_piece = lambda ids, tags: [IGNORE_INDEX if w is None else tags[w] for w in ids]  # noqa: E731
    encoded, word_ids = encode_words(DATA, tokenizer, align=every_piece)
    assert encoded.labels == [every_piece(ids, tags) for ids, tags in zip(word_ids, DATA["tags"], strict=True)]
    default, _ = encode_words(DATA, tokenizer)
    assert default.labels == [align_labels(ids, tags) for ids, tags in zip(word_ids, DATA["tags"], strict=True)]
    batch = next(iter(make_token_loader(DATA, tokenizer, batch_size=3, align=every_piece)))
    assert (batch["labels"] != IGNORE_INDEX).sum() > sum(len(t) for t in DATA["tags"])


def test_encode_words_rejects_an_alignment_of_the_wrong_length():
    _, tokenizer = load_token_model("tiny-bert", num_labels=2)
    with pytest.raises(ValueError, match="labels for sentence 0"):
        encode_words(DATA, tokenizer, align=lambda ids, tags: list(tags))
    with pytest.raises(ValueError, match="align must be a function"):
        encode_words(DATA, tokenizer, align="first")
