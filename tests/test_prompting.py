"""Prompt tuning and prefix tuning (course_lib.prompting) on a tiny random GPT-2: equal to PEFT's given the same
vectors, virtual tokens masked out of the loss, the counts, freezing, and clear errors."""

from __future__ import annotations

import copy
import warnings

import pytest
import torch
from decoder_helpers import LAYERS, WIDTH, gpt2_batch, output_of, tiny_gpt2

from course_lib.api import (
    PrefixTuning,
    PromptTuning,
    count_parameters,
    freeze_base,
    prefix_parameter_count,
    prompt_parameter_count,
)
from course_lib.prompting import extend_labels, extend_mask

N = 5


def _peft(model, config):
    from peft import get_peft_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return get_peft_model(copy.deepcopy(model), config).eval()


def _peft_prompt(model, n):
    from peft import PromptTuningConfig, TaskType

    return _peft(model, PromptTuningConfig(task_type=TaskType.CAUSAL_LM, num_virtual_tokens=n))


def _peft_prefix(model, n, projection_hidden):
    from peft import PrefixTuningConfig, TaskType

    config = PrefixTuningConfig(
        task_type=TaskType.CAUSAL_LM,
        num_virtual_tokens=n,
        prefix_projection=projection_hidden is not None,
        encoder_hidden_size=projection_hidden or WIDTH,
    )
    return _peft(model, config)


def _run(model, batch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # PEFT passes past_key_values, deprecated in transformers 5
        return model(**batch)


def _trainable(model) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# ------------------------------------------------------------------ prompt tuning


def test_prompt_tuning_equals_peft_given_the_same_prompt():
    model, batch = tiny_gpt2(), gpt2_batch()
    theirs = _peft_prompt(model, N)
    ours = PromptTuning(model, N).eval()
    with torch.no_grad():
        ours.prompt.weight.copy_(theirs.prompt_encoder["default"].embedding.weight)
    expected, got = _run(theirs, batch), _run(ours, batch)
    assert got.logits.shape == (3, N + batch["input_ids"].shape[1], ours.config.vocab_size)
    assert torch.equal(got.logits, expected.logits)
    assert torch.equal(got.loss, expected.loss)

    other = PromptTuning(tiny_gpt2(), N).eval()  # another (random) prompt gives other outputs
    assert not torch.allclose(_run(other, batch).logits, expected.logits, atol=1e-4)


def test_virtual_tokens_are_attended_but_never_predicted():
    mask = torch.tensor([[1, 1, 0]])
    labels = torch.tensor([[4, 5, -100]])
    assert extend_mask(mask, 2).tolist() == [[1, 1, 1, 1, 0]]
    assert extend_labels(labels, 2).tolist() == [[-100, -100, 4, 5, -100]]
    assert extend_mask(None, 2) is None and extend_labels(None, 2) is None

    model, batch = tiny_gpt2(), gpt2_batch()
    ours = PromptTuning(model, N).eval()
    out = _run(ours, batch)
    # the loss is the base model's on the prompted embeddings with the extended labels: the prompt is not scored
    embeds = torch.cat([ours.prompt(3), model.get_input_embeddings()(batch["input_ids"])], dim=1)
    logits = model(inputs_embeds=embeds, attention_mask=extend_mask(batch["attention_mask"], N)).logits
    labels = extend_labels(batch["labels"], N)
    counted = labels[:, 1:] != -100
    picked = torch.log_softmax(logits[:, :-1], -1).gather(-1, labels[:, 1:].clamp(min=0).unsqueeze(-1)).squeeze(-1)
    assert torch.allclose(out.loss, -(picked * counted).sum() / counted.sum(), atol=1e-6)


def test_prompt_tuning_counts_and_trains_only_the_prompt():
    model, batch = tiny_gpt2(), gpt2_batch()
    theirs = _peft_prompt(model, N)
    ours = freeze_base(PromptTuning(model, N))
    counts = count_parameters(ours)
    assert counts["trainable"] == counts["groups"]["prompt"] == prompt_parameter_count(N, WIDTH) == N * WIDTH
    assert counts["trainable"] == _trainable(theirs)
    assert counts["groups"]["base"] == sum(p.numel() for p in model.parameters())
    _run(ours.train(), batch).loss.backward()
    assert [n for n, p in ours.named_parameters() if p.grad is not None] == ["prompt.weight"]


def test_prompt_can_start_from_token_embeddings():
    model = tiny_gpt2()
    start = model.get_input_embeddings().weight[[3, 1, 4, 1, 5]]
    ours = PromptTuning(model, N, init_from=start)
    assert torch.equal(ours.prompt.weight, start)
    assert ours.prompt.weight.data_ptr() != start.data_ptr()  # a copy: training it leaves the vocabulary alone


# ------------------------------------------------------------------ prefix tuning


@pytest.mark.parametrize("projection_hidden", [None, 16], ids=["plain", "reparametrised"])
def test_prefix_tuning_count_and_outputs_equal_peft(projection_hidden):
    model, batch = tiny_gpt2(), gpt2_batch()
    theirs = _peft_prefix(model, 3, projection_hidden)
    ours = freeze_base(PrefixTuning(model, 3, projection_hidden=projection_hidden)).eval()

    expected_count = prefix_parameter_count(3, LAYERS, WIDTH, projection_hidden)
    assert count_parameters(ours)["trainable"] == count_parameters(ours)["groups"]["prompt"] == expected_count
    assert expected_count == _trainable(theirs)

    encoder = theirs.prompt_encoder["default"]
    with torch.no_grad():
        ours.prefix.prefix.copy_(encoder.embedding.weight)
        if projection_hidden is not None:
            ours.prefix.projection.load_state_dict(encoder.transform.state_dict())
    expected, got = _run(theirs, batch), _run(ours, batch)
    assert got.logits.shape == expected.logits.shape == (*batch["input_ids"].shape, ours.config.vocab_size)
    assert torch.allclose(got.logits, expected.logits, atol=1e-5)
    assert torch.allclose(got.loss, expected.loss, atol=1e-6)
    assert not torch.allclose(got.logits, output_of(model, batch), atol=1e-4)  # the prefix does change the output


def test_prefix_count_formula_by_hand():
    assert prefix_parameter_count(10, 12, 768) == 10 * 12 * 2 * 768
    assert prefix_parameter_count(10, 12, 768, projection_hidden=512) == (
        10 * 768 + 768 * 512 + 512 + 512 * 12 * 2 * 768 + 12 * 2 * 768
    )


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda m: PromptTuning(m, 0), "n_tokens must be a positive integer"),
        (lambda m: PrefixTuning(m, -1), "n_tokens must be a positive integer"),
        (lambda m: PrefixTuning(m, 2, projection_hidden=0), "projection_hidden must be a positive integer"),
        (lambda m: PromptTuning(m, 2, init_from=torch.zeros(3, WIDTH)), rf"init_from must be .* \(2, {WIDTH}\)"),
        (lambda m: PromptTuning(torch.nn.Linear(2, 2), 2), "unsupported model Linear"),
        (lambda m: PromptTuning(m, 2)(), "exactly one of input_ids and inputs_embeds"),
        (lambda m: PromptTuning(m, 2)(input_ids=torch.tensor([1, 2])), r"shape \(batch, length\)"),
        (lambda m: PromptTuning(m, 2)(input_ids=torch.tensor([[1]]), position_ids=torch.tensor([[0]])), "positions"),
        (lambda m: PrefixTuning(m, 2)(input_ids=torch.tensor([[1]]), past_key_values=()), "pass no past_key_values"),
        (lambda m: prompt_parameter_count(0, WIDTH), "n_tokens must be"),
    ],
)
def test_bad_input_gets_a_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call(tiny_gpt2())
