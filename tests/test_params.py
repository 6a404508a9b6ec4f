"""Unit tests for course_lib.params: closed-form counts, parameter groups, freeze_base, count_parameters."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from course_lib.adapters import BottleneckAdapter, CompacterAdapter, ParallelAdapter
from course_lib.params import (
    GROUPS,
    adapter_parameter_count,
    compacter_parameter_count,
    count_parameters,
    freeze_base,
    lora_parameter_count,
    parameter_groups,
    placement_parameter_count,
)

HIDDEN, LAYERS, LABELS = 32, 2, 3  # the tiny BERT of conftest.py
HEAD = HIDDEN * LABELS + LABELS  # classifier: Linear(32, 3)


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# --------------------------------------------------------------------------- closed forms


def test_adapter_parameter_count_closed_form():
    assert adapter_parameter_count(768, 64) == 2 * 768 * 64 + 768 + 64 == 99_136
    assert adapter_parameter_count(768, 64, bias=False) == 2 * 768 * 64 == 98_304
    assert adapter_parameter_count(32, 4) == 292


def test_placement_parameter_count_bert_base():
    assert placement_parameter_count(768, 12, 64, "houlsby") == 24 * 99_136 == 2_379_264
    assert placement_parameter_count(768, 12, 64, "pfeiffer") == 12 * 99_136 == 1_189_632
    assert placement_parameter_count(768, 12, 64, "parallel") == 1_189_632
    assert placement_parameter_count(768, 12, 64, "houlsby", bias=False) == 24 * 98_304


def test_bert_base_adapters_built_as_modules_match_the_closed_forms():
    """Build the BERT-base adapters directly (d=768, r=64) and count their real parameters."""
    one = BottleneckAdapter(768, 64)
    assert n_params(one) == 99_136
    houlsby = nn.ModuleList(BottleneckAdapter(768, 64) for _ in range(24))  # 2 per layer × 12
    pfeiffer = nn.ModuleList(BottleneckAdapter(768, 64) for _ in range(12))  # 1 per layer × 12
    parallel = nn.ModuleList(ParallelAdapter(768, 64) for _ in range(12))
    assert n_params(houlsby) == placement_parameter_count(768, 12, 64, "houlsby") == 2_379_264
    assert n_params(pfeiffer) == placement_parameter_count(768, 12, 64, "pfeiffer") == 1_189_632
    assert n_params(parallel) == placement_parameter_count(768, 12, 64, "parallel")
    counts = count_parameters(houlsby)
    assert counts["groups"]["adapters"] == counts["total"] == 2_379_264


def test_lora_parameter_count():
    assert lora_parameter_count(768, 768, 8) == 8 * (768 + 768) == 12_288
    assert lora_parameter_count(32, 64, 2) == 192


def test_compacter_parameter_count_closed_form():
    # n^3 + 2k(d+r) + d + r
    assert compacter_parameter_count(768, 64) == 64 + 2 * (768 + 64) + 768 + 64 == 2_560
    assert compacter_parameter_count(768, 64, include_A=False) == 2_496
    assert compacter_parameter_count(768, 64, phm_rank=None, bias=False) == 64 + 2 * 768 * 64 // 4
    assert compacter_parameter_count(768, 64, n=8, phm_rank=2) == 512 + 4 * (768 + 64) + 768 + 64


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: adapter_parameter_count(0, 64), "d_model"),
        (lambda: adapter_parameter_count(768, -1), "bottleneck"),
        (lambda: placement_parameter_count(768, 12, 64, "sideways"), "placement.*'sideways'"),
        (lambda: placement_parameter_count(768, 0, 64, "houlsby"), "n_layers"),
        (lambda: lora_parameter_count(768, 768, 0), "r must"),
        (lambda: lora_parameter_count(0, 768, 8), "d_in"),
        (lambda: compacter_parameter_count(770, 64, n=4), "d_model.*n=4"),
        (lambda: compacter_parameter_count(768, 64, phm_rank=0), "phm_rank"),
    ],
)
def test_closed_forms_reject_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --------------------------------------------------------------------------- groups and counting


def attach_adapters(model: nn.Module) -> nn.Module:
    """Hang one adapter of each kind onto the tiny BERT's layers (not wired into forward: counting only)."""
    layers = model.base_model.encoder.layer
    layers[0].bottleneck_adapter = BottleneckAdapter(HIDDEN, 4)
    layers[1].parallel_adapter = ParallelAdapter(HIDDEN, 4)
    layers[1].compacter_adapter = CompacterAdapter(HIDDEN, 4, n=4)
    return model


ADAPTERS = 2 * adapter_parameter_count(HIDDEN, 4) + compacter_parameter_count(HIDDEN, 4, n=4)


def test_count_parameters_plain_classifier(tiny_classifier):
    counts = count_parameters(tiny_classifier)
    total = n_params(tiny_classifier)
    assert counts["total"] == total == counts["trainable"]
    assert counts["trainable_percent"] == pytest.approx(100.0)
    assert set(counts["groups"]) == set(GROUPS) == set(counts["trainable_groups"])
    assert counts["groups"] == {"base": total - HEAD, "adapters": 0, "fusion": 0, "lora": 0, "prompt": 0, "head": HEAD}
    assert counts["groups"]["base"] == n_params(tiny_classifier.bert)


def test_encoder_without_head_has_no_head_group(tiny_encoder):
    counts = count_parameters(tiny_encoder)
    assert counts["groups"]["head"] == 0
    assert counts["groups"]["base"] == counts["total"] == n_params(tiny_encoder)


def test_parameter_groups_names(tiny_classifier):
    groups = parameter_groups(attach_adapters(tiny_classifier))
    assert groups["classifier.weight"] == groups["classifier.bias"] == "head"
    assert groups["bert.embeddings.word_embeddings.weight"] == "base"
    assert groups["bert.encoder.layer.0.bottleneck_adapter.down.weight"] == "adapters"
    assert groups["bert.encoder.layer.1.compacter_adapter.down.A"] == "adapters"
    assert set(groups) == {name for name, _ in tiny_classifier.named_parameters()}


def test_freeze_base_trains_adapters_and_head(tiny_classifier):
    model = attach_adapters(tiny_classifier)
    assert freeze_base(model) is model
    counts = count_parameters(model)
    assert counts["groups"]["adapters"] == ADAPTERS
    assert counts["trainable"] == ADAPTERS + HEAD
    assert counts["trainable_groups"] == {
        "base": 0,
        "adapters": ADAPTERS,
        "fusion": 0,
        "lora": 0,
        "prompt": 0,
        "head": HEAD,
    }
    assert counts["trainable_percent"] == pytest.approx(100.0 * (ADAPTERS + HEAD) / counts["total"])
    assert counts["total"] == n_params(model)
    assert not model.bert.embeddings.word_embeddings.weight.requires_grad
    assert model.classifier.weight.requires_grad


def test_freeze_base_train_head_false(tiny_classifier):
    model = freeze_base(attach_adapters(tiny_classifier), train_head=False)
    counts = count_parameters(model)
    assert counts["trainable"] == ADAPTERS
    assert counts["trainable_groups"]["head"] == 0
    assert not model.classifier.weight.requires_grad


def test_freeze_base_train_adapters_false_and_recall_undoes(tiny_classifier):
    model = freeze_base(attach_adapters(tiny_classifier), train_adapters=False)
    assert count_parameters(model)["trainable"] == HEAD
    freeze_base(model)  # a second call re-applies the rule: adapters trainable again
    assert count_parameters(model)["trainable"] == ADAPTERS + HEAD


def test_freeze_base_without_adapters_leaves_only_head(tiny_classifier):
    freeze_base(tiny_classifier)
    assert count_parameters(tiny_classifier)["trainable"] == HEAD
    freeze_base(tiny_classifier, train_head=False)
    counts = count_parameters(tiny_classifier)
    assert counts["trainable"] == 0 and counts["trainable_percent"] == 0.0


def test_frozen_base_gets_no_gradients(tiny_classifier, tiny_batch):
    model = freeze_base(attach_adapters(tiny_classifier))
    out = model(**tiny_batch, labels=torch.tensor([0, 1, 2]))
    out.loss.backward()
    for name, p in model.named_parameters():
        if not p.requires_grad:
            assert p.grad is None, name
    assert model.classifier.weight.grad is not None


class FakeLoRALinear(nn.Module):
    """A learner's own LoRA layer (not course_lib's LoRALinear): a `base` Linear plus lora_A / lora_B parameters,
    which params.py counts as LoRA by that convention."""

    def __init__(self, base: nn.Linear, r: int):
        super().__init__()
        self.base = base
        self.lora_A = nn.Parameter(torch.zeros(r, base.in_features))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r))


def test_fusion_and_lora_groups(tiny_classifier):
    model = tiny_classifier
    from course_lib.adapters import AdapterFusion

    model.bert.encoder.layer[0].fusion = AdapterFusion(HIDDEN, n_adapters=2)
    attention = model.bert.encoder.layer[1].attention.self
    attention.query = FakeLoRALinear(attention.query, r=2)
    fusion = 3 * (HIDDEN * HIDDEN + HIDDEN)  # query, key, value
    lora = lora_parameter_count(HIDDEN, HIDDEN, 2)

    groups = parameter_groups(model)
    assert groups["bert.encoder.layer.0.fusion.query.weight"] == "fusion"
    assert groups["bert.encoder.layer.1.attention.self.query.lora_A"] == "lora"
    assert groups["bert.encoder.layer.1.attention.self.query.base.weight"] == "base"

    freeze_base(model, train_head=False)
    counts = count_parameters(model)
    assert counts["groups"]["fusion"] == fusion and counts["groups"]["lora"] == lora
    assert counts["trainable_groups"] == {
        "base": 0,
        "adapters": 0,
        "fusion": fusion,
        "lora": lora,
        "prompt": 0,
        "head": 0,
    }
    assert not attention.query.base.weight.requires_grad


def test_shared_parameters_are_counted_once():
    from course_lib.adapters.compacter import make_shared_A

    A = make_shared_A(4)
    layers = nn.ModuleList(CompacterAdapter(HIDDEN, 4, n=4, shared_A=A) for _ in range(3))
    expected = 4**3 + 3 * compacter_parameter_count(HIDDEN, 4, n=4, include_A=False)
    assert count_parameters(layers)["total"] == expected
    assert count_parameters(layers)["groups"]["adapters"] == expected


def test_plain_module_without_base_model():
    model = nn.Sequential(nn.Linear(HIDDEN, HIDDEN), BottleneckAdapter(HIDDEN, 4))
    freeze_base(model)
    counts = count_parameters(model)
    assert counts["groups"]["base"] == HIDDEN * HIDDEN + HIDDEN
    assert counts["groups"]["head"] == 0
    assert counts["trainable"] == counts["groups"]["adapters"] == adapter_parameter_count(HIDDEN, 4)


@pytest.mark.parametrize("placement", ["houlsby", "pfeiffer", "parallel"])
def test_count_parameters_after_add_adapters_matches_closed_form(tiny_classifier, placement):
    from course_lib.inject import add_adapters

    base_total = n_params(tiny_classifier)
    model = freeze_base(add_adapters(tiny_classifier, placement=placement, bottleneck=4))
    expected = placement_parameter_count(HIDDEN, LAYERS, 4, placement)
    counts = count_parameters(model)
    assert counts["groups"]["adapters"] == expected
    assert counts["total"] == base_total + expected
    assert counts["trainable_groups"] == {
        "base": 0,
        "adapters": expected,
        "fusion": 0,
        "lora": 0,
        "prompt": 0,
        "head": HEAD,
    }
