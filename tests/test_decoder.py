"""course_lib on a decoder: adapters, LoRA, freezing, counting and saving on a tiny random GPT-2 (the same API as
for BERT), and the supervised fine-tuning batch and loss (course_lib.sft)."""

from __future__ import annotations

import copy
import json
import warnings

import pytest
import torch
from decoder_helpers import LAYERS, VOCAB, WIDTH, gpt2_batch, output_of, perturb, tiny_gpt2
from safetensors.torch import load_file
from torch import nn

from course_lib.api import (
    AdapterConfigError,
    CompacterSpec,
    add_adapters,
    add_fusion,
    add_lora,
    count_parameters,
    freeze_base,
    load_adapters,
    lora_layers,
    merge_lora,
    remove_adapters,
    remove_lora,
    response_loss,
    save_adapters,
    set_active_adapter,
    sft_batch,
    sft_example,
    unmerge_lora,
)
from course_lib.params import adapter_parameter_count, lora_parameter_count, placement_parameter_count
from course_lib.surgery import AdapterAfterProjection, architecture, iter_wrappers


@pytest.fixture
def gpt2():
    return tiny_gpt2()


@pytest.fixture
def batch():
    return gpt2_batch()


def wrapped_paths(model) -> list[str]:
    return [name for name, module in model.named_modules() if isinstance(module, AdapterAfterProjection)]


# ------------------------------------------------------------------ where the adapters go


@pytest.mark.parametrize("head", [True, False], ids=["GPT2LMHeadModel", "GPT2Model"])
@pytest.mark.parametrize("placement", ["houlsby", "houlsby-ffn", "compacter"])
def test_identity_at_init(head, placement, batch):
    model = tiny_gpt2(head=head)
    before = output_of(model, batch)
    if placement == "compacter":
        add_adapters(model, CompacterSpec(bottleneck=8))
    else:
        add_adapters(model, placement, bottleneck=8)
    assert wrapped_paths(model), "no adapter was put into the model"
    assert torch.equal(output_of(model, batch), before)


@pytest.mark.parametrize(
    "placement, paths",
    [("houlsby", ("attn.c_proj", "mlp.c_proj")), ("houlsby-ffn", ("mlp.c_proj",))],
)
def test_placement_wraps_the_output_projections(gpt2, placement, paths):
    add_adapters(gpt2, placement, bottleneck=8)
    expected = [f"transformer.h.{i}.{path}" for i in range(LAYERS) for path in paths]
    assert wrapped_paths(gpt2) == expected
    assert architecture(gpt2).name == "GPT-2"


@pytest.mark.parametrize("location, path", [("attention_output", "attn.c_proj"), ("output", "mlp.c_proj")])
def test_adapter_sits_after_the_projection_before_the_residual(gpt2, location, path):
    """The block computes r + dropout(c_proj(x)); with the adapter, r + dropout(y + f(y)), y = c_proj(x)."""
    add_adapters(gpt2, "houlsby", bottleneck=8)
    (wrapper,) = [w for i, loc, w in iter_wrappers(gpt2) if i == 1 and loc == location]
    adapter = wrapper.adapters["default"]
    perturb(adapter)
    x = torch.randn(2, 5, wrapper.sublayer.weight.shape[0])
    y = wrapper.sublayer(x)
    with torch.no_grad():
        assert torch.allclose(wrapper(x), y + adapter.delta(y), atol=1e-6)
        assert not torch.allclose(wrapper(x), y, atol=1e-3)  # the perturbed adapter does change the output
    assert gpt2.transformer.h[1].get_submodule(path) is wrapper


def test_trained_adapter_changes_the_output_and_switches_off(gpt2, batch):
    before = output_of(gpt2, batch)
    add_adapters(gpt2, "houlsby", bottleneck=8)
    for _, _, wrapper in iter_wrappers(gpt2):
        perturb(wrapper.adapters["default"])
    assert not torch.allclose(output_of(gpt2, batch), before, atol=1e-4)
    set_active_adapter(gpt2, None)
    assert torch.equal(output_of(gpt2, batch), before)


@pytest.mark.parametrize("placement", ["pfeiffer", "parallel"])
def test_placements_without_meaning_in_a_pre_ln_block_are_rejected(gpt2, batch, placement):
    before = output_of(gpt2, batch)
    with pytest.raises(ValueError, match=rf"placement '{placement}' is not supported for GPT-2 .*GPT2LMHeadModel"):
        add_adapters(gpt2, placement, bottleneck=8)
    assert not wrapped_paths(gpt2) and torch.equal(output_of(gpt2, batch), before)


def test_unsupported_model_names_its_class_and_both_architectures():
    class TinyDecoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.h = nn.ModuleList([nn.Linear(4, 4)])

    with pytest.raises(ValueError, match=r"unsupported model TinyDecoder: .*BERT.*GPT-2.*base_model\.h"):
        add_adapters(TinyDecoder())


def test_remove_restores_modules_keys_and_outputs(gpt2, batch):
    keys, before = list(gpt2.state_dict()), output_of(gpt2, batch)
    add_adapters(gpt2, "houlsby", bottleneck=8)
    assert list(gpt2.state_dict()) != keys
    remove_adapters(gpt2)
    assert not wrapped_paths(gpt2)
    assert list(gpt2.state_dict()) == keys and torch.equal(output_of(gpt2, batch), before)


def test_fusion_of_two_adapters_starts_as_the_base_model(gpt2, batch):
    before = output_of(gpt2, batch)
    add_adapters(gpt2, "houlsby-ffn", bottleneck=8, name="a")
    add_adapters(gpt2, "houlsby-ffn", bottleneck=8, name="b")
    add_fusion(gpt2, ["a", "b"])
    assert sum(len(w.fusions) for _, _, w in iter_wrappers(gpt2)) == LAYERS
    assert torch.allclose(output_of(gpt2, batch), before, atol=1e-6)


# ------------------------------------------------------------------ freezing and counting


@pytest.mark.parametrize("placement, per_layer", [("houlsby", 2), ("houlsby-ffn", 1)])
def test_counts_match_the_closed_form_and_only_adapters_train(gpt2, batch, placement, per_layer):
    base = sum(p.numel() for p in gpt2.parameters())  # the tied lm_head counted once
    add_adapters(gpt2, placement, bottleneck=8)
    freeze_base(gpt2)
    counts = count_parameters(gpt2)
    expected = per_layer * LAYERS * adapter_parameter_count(WIDTH, 8)
    assert counts["groups"]["adapters"] == expected == placement_parameter_count(WIDTH, LAYERS, 8, placement)
    # GPT-2's lm_head *is* the token embedding (tied): part of the frozen base, not a trainable head
    assert counts["groups"]["head"] == 0 and counts["groups"]["base"] == base
    assert counts["trainable"] == expected

    out = gpt2(**batch)
    out.loss.backward()
    with_grad = {n for n, p in gpt2.named_parameters() if p.grad is not None}
    assert with_grad and all(".adapters.default." in n for n in with_grad)


# ------------------------------------------------------------------ saving and loading


def test_save_load_round_trip(gpt2, batch, tmp_path):
    add_adapters(gpt2, "houlsby", bottleneck=8, name="task")
    for _, _, wrapper in iter_wrappers(gpt2):
        perturb(wrapper.adapters["task"], seed=2)
    trained = output_of(gpt2, batch)
    save_adapters(gpt2, tmp_path / "task")

    saved = load_file(str(tmp_path / "task" / "adapter_model.safetensors"))
    assert not [k for k in saved if k.startswith("head.")], "the tied lm_head (= the embedding) was saved as a head"
    assert len(saved) == 2 * LAYERS * 4  # down/up weight/bias in 2 sub-layers per layer
    config = json.loads((tmp_path / "task" / "adapter_config.json").read_text())
    assert (config["model_type"], config["hidden_size"], config["num_hidden_layers"]) == ("gpt2", WIDTH, LAYERS)

    fresh = tiny_gpt2()
    assert not torch.equal(output_of(fresh, batch), trained)
    assert load_adapters(fresh, tmp_path / "task") == "task"
    assert torch.equal(output_of(fresh, batch), trained)


def test_a_gpt2_adapter_does_not_load_into_bert(gpt2, tiny_encoder, tmp_path):
    add_adapters(gpt2, "houlsby", bottleneck=8)
    save_adapters(gpt2, tmp_path / "a")
    with pytest.raises(AdapterConfigError, match="model_type='gpt2'"):
        load_adapters(tiny_encoder, tmp_path / "a")
    assert not list(iter_wrappers(tiny_encoder))


# ------------------------------------------------------------------ LoRA on Conv1D


def _peft_lora(model, r, alpha, targets):
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=r, lora_alpha=alpha, target_modules=list(targets), lora_dropout=0.0, fan_in_fan_out=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return get_peft_model(copy.deepcopy(model), config).eval()


def test_lora_on_conv1d_equals_peft_given_the_same_factors(gpt2, batch):
    targets = ("c_attn", "c_proj")
    peft_model = _peft_lora(gpt2, r=4, alpha=8, targets=targets)
    ours = add_lora(gpt2, target_modules=targets, r=4, alpha=8)
    layers = lora_layers(ours)
    assert len(layers) == 3 * LAYERS  # c_attn, attn.c_proj, mlp.c_proj
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for name, layer in layers.items():
            theirs = peft_model.base_model.model.get_submodule(name)
            layer.lora_B.copy_(torch.randn(layer.lora_B.shape, generator=g) * 0.5)
            theirs.lora_A["default"].weight.copy_(layer.lora_A)
            theirs.lora_B["default"].weight.copy_(layer.lora_B)
    expected = output_of(peft_model, batch)
    assert torch.allclose(output_of(ours, batch), expected, atol=1e-5)
    assert not torch.allclose(output_of(tiny_gpt2(), batch), expected, atol=1e-3)  # LoRA does change the output

    freeze_base(ours)
    trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    c_attn, c_proj, mlp_proj = (
        lora_parameter_count(WIDTH, 3 * WIDTH, 4),
        lora_parameter_count(WIDTH, WIDTH, 4),
        lora_parameter_count(4 * WIDTH, WIDTH, 4),
    )
    assert count_parameters(ours)["trainable"] == trainable == LAYERS * (c_attn + c_proj + mlp_proj)


def test_lora_merge_transposes_for_conv1d_and_remove_restores(gpt2, batch):
    original = {k: v.clone() for k, v in gpt2.state_dict().items()}
    before = output_of(gpt2, batch)
    add_lora(gpt2, target_modules=("c_attn",), r=4, alpha=8)
    for layer in lora_layers(gpt2).values():
        with torch.no_grad():
            layer.lora_B.normal_(std=0.5)
    unmerged = output_of(gpt2, batch)
    merge_lora(gpt2)
    assert torch.allclose(output_of(gpt2, batch), unmerged, atol=1e-5)
    unmerge_lora(gpt2)
    remove_lora(gpt2)
    assert torch.allclose(output_of(gpt2, batch), before, atol=1e-5)
    assert {k: v.shape for k, v in gpt2.state_dict().items()} == {k: v.shape for k, v in original.items()}


def test_lora_target_not_found_names_the_conv1d_layers(gpt2):
    with pytest.raises(ValueError, match=r"matched no nn.Linear.*'c_attn'"):
        add_lora(gpt2)  # the default targets, BERT's query/value


# ------------------------------------------------------------------ supervised fine-tuning


def test_sft_batch_masks_prompt_and_padding():
    out = sft_batch([([5, 6, 7], [8, 9]), ([5], [10])], pad_id=0, eos_id=VOCAB - 1)
    assert out["input_ids"].tolist() == [[5, 6, 7, 8, 9, 99], [5, 10, 99, 0, 0, 0]]
    assert out["attention_mask"].tolist() == [[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]]
    assert out["labels"].tolist() == [[-100, -100, -100, 8, 9, 99], [-100, 10, 99, -100, -100, -100]]


def test_sft_batch_encodes_text_and_truncates_the_response():
    def encode(text):
        return [ord(c) % VOCAB for c in text]

    out = sft_batch([("ab", "cde")], pad_id=0, encode=encode, max_length=4)
    assert out["input_ids"].tolist() == [encode("abcd")]
    assert out["labels"].tolist() == [[-100, -100, *encode("cd")]]


def test_model_loss_is_the_mean_over_response_tokens_only(gpt2):
    out = sft_batch([([5, 6, 7, 8], [9, 10]), ([11, 12], [13, 14, 15, 16])], pad_id=0, eos_id=VOCAB - 1)
    result = gpt2(**out)
    by_hand = response_loss(result.logits, out["labels"])
    assert torch.allclose(result.loss, by_hand, atol=1e-6)
    # by hand, written out: the log-probability of each response token given what comes before it
    log_probs = torch.log_softmax(result.logits, dim=-1)
    terms = [
        -log_probs[b, t - 1, out["labels"][b, t]]
        for b in range(2)
        for t in range(1, out["labels"].shape[1])
        if out["labels"][b, t] != -100
    ]
    assert len(terms) == 3 + 5  # two response tokens + eos, four + eos: no prompt, no padding
    assert torch.allclose(result.loss, torch.stack(terms).mean(), atol=1e-6)
    everything = out["input_ids"].masked_fill(out["attention_mask"] == 0, -100)
    assert not torch.allclose(result.loss, gpt2(**{**out, "labels": everything}).loss, atol=1e-4)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: sft_example([1, 2], []), "response_ids is empty"),
        (lambda: sft_example("text", [1]), "prompt_ids must be a list of token ids"),
        (lambda: sft_example([1, -2], [1]), "non-negative integer"),
        (lambda: sft_batch([([1, 2, 3], [4])], pad_id=0, max_length=3), "prompt alone fills max_length=3"),
        (lambda: sft_batch([([1], [2], [3])], pad_id=0), r"pair 0 must be a \(prompt, response\) pair"),
        (lambda: sft_batch([([1], [2])], pad_id=-1), "pad_id must be"),
        (lambda: sft_batch([], pad_id=0), "pairs is empty"),
        (lambda: response_loss(torch.zeros(1, 3, 5), torch.full((1, 3), -100)), "no label is counted"),
        (lambda: response_loss(torch.zeros(1, 3, 5), torch.zeros(1, 4, dtype=torch.long)), "expected logits"),
    ],
)
def test_sft_bad_input_gets_a_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
