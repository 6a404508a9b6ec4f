"""load_model for causal language models: the shipped "tiny-gpt2" and any hub causal LM (kind="causal-lm") come
back the same way, so that notebook 09's code runs unchanged with either."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from decoder_helpers import tiny_gpt2

import course_lib.package_data
from course_lib.harness.models import MODEL_ALIASES, ONLINE_CAUSAL_LM, load_model, tiny_gpt2_path
from course_lib.model import add_adapters


def _tokenizer_without_pad():
    """A small byte-level BPE tokenizer (GPT-2's scheme) with an end-of-text token and no pad token, like GPT-2's."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    texts = ["a fine movie", "a dull movie", "how do I pay", "the bank is closed"] * 5
    bpe.train_from_iterator(
        texts, vocab_size=300, min_frequency=1, special_tokens=["<|endoftext|>"], show_progress=False
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=bpe._tokenizer, eos_token="<|endoftext|>", bos_token="<|endoftext|>"
    )


@pytest.fixture(scope="module")
def hub_style_folder(tmp_path_factory):
    """A folder as a hub causal LM is stored: a random GPT-2 and a tokenizer without a pad token."""
    folder = tmp_path_factory.mktemp("hub-gpt2")
    tokenizer = _tokenizer_without_pad()
    model = tiny_gpt2()
    model.resize_token_embeddings(len(tokenizer))
    model.config.pad_token_id = None
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _same_convention(model, tokenizer):
    from transformers import GPT2LMHeadModel

    assert isinstance(model, GPT2LMHeadModel)
    assert not model.training
    assert tokenizer.pad_token is not None and tokenizer.padding_side == "right"
    assert model.config.pad_token_id == tokenizer.pad_token_id


def test_tiny_gpt2_loads_offline_as_a_causal_lm():
    model, tokenizer = load_model("tiny-gpt2")
    _same_convention(model, tokenizer)
    assert tokenizer.pad_token == tokenizer.eos_token == "<|endoftext|>"
    assert model.config.vocab_size == len(tokenizer)
    assert "tiny-gpt2" in MODEL_ALIASES
    again, _ = load_model("Tiny-GPT2", kind="causal-lm")  # names are case-insensitive; kind may be given
    ids = torch.tensor([tokenizer.encode("the movie was great")])
    with torch.no_grad():
        assert torch.equal(model(input_ids=ids).logits, again(input_ids=ids).logits)


def test_tiny_gpt2_has_learned_something():
    """The shipped weights are pretrained: a frequent phrase gets a far lower loss than shuffled tokens."""
    model, tokenizer = load_model("tiny-gpt2")
    ids = torch.tensor([tokenizer.encode("this is one of the best films of the year .")])
    shuffled = ids[:, torch.randperm(ids.shape[1], generator=torch.Generator().manual_seed(0))]
    with torch.no_grad():
        real = model(input_ids=ids, labels=ids).loss.item()
        scrambled = model(input_ids=shuffled, labels=shuffled).loss.item()
    assert real < math.log(len(tokenizer)) - 2 and real < scrambled - 1.0, (real, scrambled)


def test_a_hub_causal_lm_comes_back_the_same_way(hub_style_folder):
    model, tokenizer = load_model(str(hub_style_folder), kind="causal-lm")
    _same_convention(model, tokenizer)
    assert tokenizer.pad_token == tokenizer.eos_token  # GPT-2 has no pad token: the end of text pads
    # the notebook's code path: adapters go in and start as the identity, a padded batch runs
    ids = tokenizer(["a fine movie", "how do I pay the bank"], padding=True, return_tensors="pt")
    with torch.no_grad():
        before = model(**ids).logits
        adapted = add_adapters(model, placement="houlsby", bottleneck=4)
        assert torch.equal(adapted(**ids).logits, before)


def test_a_classifier_is_still_the_default_for_hub_ids(hub_style_folder):
    from transformers import GPT2ForSequenceClassification

    model, _ = load_model(str(hub_style_folder), num_labels=3)
    assert isinstance(model, GPT2ForSequenceClassification) and model.config.num_labels == 3


@pytest.mark.parametrize(
    ("name", "kind", "says"),
    [
        ("tiny-gpt2", "classifier", "causal language model"),
        ("minilm", "causal-lm", "not a causal language model"),
        ("tiny-bert", "causal-lm", "not a causal language model"),
        ("tiny-gpt2", "lm", "kind must be one of"),
    ],
)
def test_wrong_kinds_are_refused_with_a_clear_error(name, kind, says):
    with pytest.raises(ValueError, match=says):
        load_model(name, kind=kind)


def test_an_unknown_causal_lm_names_the_offline_models(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ValueError, match="tiny-gpt2") as err:
        load_model("no-such-user/no-such-gpt", kind="causal-lm")
    assert "could not load model 'no-such-user/no-such-gpt'" in str(err.value)


def test_missing_weights_say_how_to_get_them(monkeypatch, tmp_path):
    (tmp_path / "models").mkdir()
    monkeypatch.setattr(course_lib.package_data, "package_data_dir", lambda kind: tmp_path / kind)
    with pytest.raises(FileNotFoundError, match="pretrain_tiny_gpt2.py"):
        tiny_gpt2_path()


def test_notebook_09_names_the_online_alternative():
    """The one-line switch in notebook 09 names the same hub model as course_lib."""
    notebook = Path(__file__).resolve().parents[1] / "solutions" / "09_decoder_adapters" / "09_decoder_adapters.ipynb"
    switch = [line for line in notebook.read_text().splitlines() if 'MODEL_NAME = \\"tiny-gpt2\\"' in line]
    assert switch and ONLINE_CAUSAL_LM in switch[0], switch
