"""Tests for course_lib.fusion: the AdapterFusion module and fusing adapters inside BERT."""

from __future__ import annotations

import math

import pytest
import torch

from course_lib.adapters.bottleneck import BottleneckAdapter
from course_lib.fusion import (
    AdapterFusion,
    add_fusion,
    freeze_for_fusion,
    fusion_weights,
    list_fusions,
    set_active_fusion,
)
from course_lib.inject import (
    AdapterSubLayer,
    add_adapters,
    count_parameters,
    list_adapters,
    remove_adapters,
    set_active_adapter,
)


def perturb(module, seed=0, std=0.3):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * std)


def logits(model, batch):
    with torch.no_grad():
        return model(**batch).logits


def with_two_trained_adapters(model, placement="pfeiffer"):
    """Two adapters "a" and "b" with random (trained-looking) weights."""
    add_adapters(model, placement, 4, name="a")
    add_adapters(model, placement, 4, name="b")
    for seed, name in enumerate(("a", "b")):
        for m in model.modules():
            if isinstance(m, AdapterSubLayer) and name in m.adapters:
                perturb(m.adapters[name], seed=seed)
    return model


# ------------------------------------------------------------------ the module alone


def test_weights_sum_to_one_and_shapes():
    torch.manual_seed(0)
    fusion = AdapterFusion(16, 3)
    h, z = torch.randn(2, 5, 16), torch.randn(2, 5, 3, 16)
    out, weights = fusion(h, z)
    assert out.shape == (2, 5, 16) and weights.shape == (2, 5, 3)
    assert torch.allclose(weights.sum(-1), torch.ones(2, 5))
    assert (weights >= 0).all()
    assert torch.equal(fusion.last_weights, weights.detach()) and not fusion.last_weights.requires_grad


def test_value_starts_as_identity():
    fusion = AdapterFusion(8, 2)
    assert torch.equal(fusion.value.weight, torch.eye(8)) and torch.equal(fusion.value.bias, torch.zeros(8))
    assert fusion.query.weight.abs().max() < 0.2 and fusion.query.weight.abs().sum() > 0


def test_one_residual_with_a_single_adapter():
    """With V = I and one adapter the weight is 1, so out = h + delta (not 2h + delta)."""
    torch.manual_seed(0)
    adapter = BottleneckAdapter(16, 4)
    perturb(adapter)
    fusion = AdapterFusion(16, 1)
    h = torch.randn(3, 16)
    out, weights = fusion(h, adapter.delta(h).unsqueeze(-2))
    assert torch.equal(weights, torch.ones(3, 1))
    assert torch.allclose(out, h + adapter.delta(h))
    assert torch.allclose(out, adapter(h))


def test_matches_hand_written_attention():
    torch.manual_seed(1)
    fusion = AdapterFusion(8, 2)
    perturb(fusion, seed=2)
    h, z = torch.randn(8), torch.randn(2, 8)
    q, k, v = fusion.query(h), fusion.key(z), fusion.value(z)
    w = torch.softmax(k @ q / math.sqrt(8), dim=0)
    out, weights = fusion(h, z)
    assert torch.allclose(weights, w) and torch.allclose(out, h + w @ v)


@pytest.mark.parametrize(
    "h_shape, z_shape, match",
    [
        ((2, 16), (2, 3, 16), "n_adapters=2"),
        ((2, 8), (2, 2, 8), "d_model=16"),
        ((2, 16), (2, 2, 8), "d_model=16"),
        ((2, 16), (3, 2, 16), r"\(2, 2, 16\)"),
    ],
)
def test_shape_validation(h_shape, z_shape, match):
    fusion = AdapterFusion(16, 2)
    with pytest.raises(ValueError, match=match):
        fusion(torch.randn(h_shape), torch.randn(z_shape))


@pytest.mark.parametrize("args, match", [((0, 2), "d_model"), ((8, 0), "n_adapters"), ((8, 1.5), "n_adapters")])
def test_constructor_validation(args, match):
    with pytest.raises(ValueError, match=match):
        AdapterFusion(*args)


# ------------------------------------------------------------------ inside BERT


def test_add_fusion_places_one_fusion_per_layer_after_ffn(tiny_classifier, tiny_batch):
    with_two_trained_adapters(tiny_classifier, "houlsby")
    add_fusion(tiny_classifier, ["a", "b"], name="fuse")
    assert list_fusions(tiny_classifier) == ["fuse"] and list_adapters(tiny_classifier) == ["a", "b"]
    for layer in tiny_classifier.bert.encoder.layer:
        assert isinstance(layer.output.fusions["fuse"], AdapterFusion)
        assert layer.output.fusion_adapters["fuse"] == ["a", "b"] and layer.output.active == "fuse"
        assert "fuse" not in layer.attention.output.fusions and layer.attention.output.active is None
    logits(tiny_classifier, tiny_batch)
    weights = fusion_weights(tiny_classifier)
    assert weights.shape == (2, 2)
    assert torch.allclose(weights.sum(-1), torch.ones(2))


def test_fusion_forward_matches_manual(tiny_classifier):
    with_two_trained_adapters(tiny_classifier)
    add_fusion(tiny_classifier, ["a", "b"])
    wrapper = tiny_classifier.bert.encoder.layer[0].output
    perturb(wrapper.fusions["fusion"], seed=5, std=0.2)
    x, inp = torch.randn(2, 5, 64), torch.randn(2, 5, 32)
    sub = wrapper.sublayer
    h = sub.dropout(sub.dense(x))
    read = sub.LayerNorm(h + inp)  # Pfeiffer adapters (and so the fusion) read the normalised sub-layer output
    z = torch.stack([wrapper.adapters[n].delta(read) for n in ("a", "b")], dim=-2)
    mixed, _ = wrapper.fusions["fusion"](read, z)
    assert torch.allclose(wrapper(x, inp), sub.LayerNorm(h + (mixed - read) + inp), atol=1e-6)


def test_fusion_of_houlsby_adapters_reads_the_projection(tiny_classifier):
    with_two_trained_adapters(tiny_classifier, placement="houlsby-ffn")
    add_fusion(tiny_classifier, ["a", "b"])
    wrapper = tiny_classifier.bert.encoder.layer[0].output
    perturb(wrapper.fusions["fusion"], seed=5, std=0.2)
    x, inp = torch.randn(2, 5, 64), torch.randn(2, 5, 32)
    sub = wrapper.sublayer
    h = sub.dropout(sub.dense(x))
    z = torch.stack([wrapper.adapters[n].delta(h) for n in ("a", "b")], dim=-2)
    mixed, _ = wrapper.fusions["fusion"](h, z)
    assert torch.allclose(wrapper(x, inp), sub.LayerNorm(mixed + inp))


def test_fusion_refuses_adapters_that_read_different_inputs(tiny_classifier):
    add_adapters(tiny_classifier, "pfeiffer", 4, name="a")
    add_adapters(tiny_classifier, "houlsby", 4, name="b")
    with pytest.raises(ValueError, match="must read the same input"):
        add_fusion(tiny_classifier, ["a", "b"])


def test_switch_between_adapter_fusion_and_none(tiny_classifier, tiny_batch):
    base = logits(tiny_classifier, tiny_batch)
    with_two_trained_adapters(tiny_classifier)
    only_b = logits(tiny_classifier, tiny_batch)  # "b" was added last, so it is active
    add_fusion(tiny_classifier, ["a", "b"])
    fused = logits(tiny_classifier, tiny_batch)
    assert not torch.allclose(fused, only_b) and not torch.allclose(fused, base)
    set_active_adapter(tiny_classifier, "b")
    assert torch.equal(logits(tiny_classifier, tiny_batch), only_b)
    set_active_adapter(tiny_classifier, None)
    assert torch.equal(logits(tiny_classifier, tiny_batch), base)
    set_active_fusion(tiny_classifier, "fusion")
    assert torch.equal(logits(tiny_classifier, tiny_batch), fused)
    with pytest.raises(ValueError, match="unknown fusion 'a'"):
        set_active_fusion(tiny_classifier, "a")


@pytest.mark.parametrize("placements", [("pfeiffer", "pfeiffer"), ("houlsby-ffn", "houlsby")])
def test_fusion_of_near_identity_adapters_is_identity(tiny_classifier, tiny_batch, placements):
    base = logits(tiny_classifier, tiny_batch)
    add_adapters(tiny_classifier, placements[0], 4, name="a")
    add_adapters(tiny_classifier, placements[1], 4, name="b")
    add_fusion(tiny_classifier, ["a", "b"])
    assert torch.equal(logits(tiny_classifier, tiny_batch), base)
    assert torch.allclose(fusion_weights(tiny_classifier), torch.full((2, 2), 0.5))


def test_fusion_weights_with_attention_mask(tiny_classifier, tiny_batch):
    with_two_trained_adapters(tiny_classifier)
    add_fusion(tiny_classifier, ["a", "b"])
    with pytest.raises(RuntimeError, match="forward"):
        fusion_weights(tiny_classifier)
    logits(tiny_classifier, tiny_batch)
    masked = fusion_weights(tiny_classifier, attention_mask=tiny_batch["attention_mask"])
    last = tiny_classifier.bert.encoder.layer[1].output.fusions["fusion"].last_weights
    keep = tiny_batch["attention_mask"].bool()
    assert torch.allclose(masked[1], last[keep].mean(0))
    assert torch.allclose(fusion_weights(tiny_classifier)[1], last.reshape(-1, 2).mean(0))


def test_add_fusion_validation(tiny_classifier):
    with_two_trained_adapters(tiny_classifier)
    add_adapters(tiny_classifier, "parallel", 4, name="p")
    with pytest.raises(ValueError, match="unknown adapter 'zz'"):
        add_fusion(tiny_classifier, ["a", "zz"])
    with pytest.raises(ValueError, match="adapter_names"):
        add_fusion(tiny_classifier, [])
    with pytest.raises(ValueError, match="adapter_names"):
        add_fusion(tiny_classifier, "a")
    with pytest.raises(ValueError, match="repeat"):
        add_fusion(tiny_classifier, ["a", "a"])
    with pytest.raises(ValueError, match="parallel"):
        add_fusion(tiny_classifier, ["a", "p"])
    with pytest.raises(ValueError, match="already used"):
        add_fusion(tiny_classifier, ["a", "b"], name="a")
    add_fusion(tiny_classifier, ["a", "b"], name="f")
    with pytest.raises(ValueError, match="already used"):
        add_fusion(tiny_classifier, ["a", "b"], name="f")
    with pytest.raises(ValueError, match="already used"):
        add_adapters(tiny_classifier, "pfeiffer", 4, name="f")
    with pytest.raises(ValueError, match="unknown fusion"):
        fusion_weights(tiny_classifier, name="a")


def test_fusion_trains_only_fusion_params(tiny_classifier, tiny_batch):
    with_two_trained_adapters(tiny_classifier)
    add_fusion(tiny_classifier, ["a", "b"])
    freeze_for_fusion(tiny_classifier, train_head=False)
    counts = count_parameters(tiny_classifier)
    assert counts["trainable"] == counts["groups"]["fusion"] == 2 * 3 * (32 * 32 + 32)
    frozen = {n: p.clone() for n, p in tiny_classifier.named_parameters() if not p.requires_grad}
    before = {n: p.clone() for n, p in tiny_classifier.named_parameters() if p.requires_grad}

    tiny_classifier.train()
    optimizer = torch.optim.SGD([p for p in tiny_classifier.parameters() if p.requires_grad], lr=0.5)
    loss = tiny_classifier(**tiny_batch, labels=torch.tensor([0, 1, 2])).loss
    loss.backward()
    for name, p in tiny_classifier.named_parameters():
        assert (p.grad is not None) == (".fusions." in name), name
    optimizer.step()
    after = dict(tiny_classifier.named_parameters())
    assert all(torch.equal(after[n], p) for n, p in frozen.items())
    assert any(not torch.equal(after[n], p) for n, p in before.items())


def test_freeze_for_fusion_trains_head_by_default(tiny_classifier):
    with_two_trained_adapters(tiny_classifier)
    add_fusion(tiny_classifier, ["a", "b"])
    freeze_for_fusion(tiny_classifier)
    counts = count_parameters(tiny_classifier)
    assert counts["trainable_groups"]["adapters"] == 0 and counts["trainable_groups"]["base"] == 0
    assert counts["trainable"] == counts["groups"]["fusion"] + counts["groups"]["head"]


def test_remove_fusion_and_removing_its_adapter(tiny_classifier, tiny_batch):
    base = logits(tiny_classifier, tiny_batch)
    keys = list(tiny_classifier.state_dict())
    with_two_trained_adapters(tiny_classifier)
    add_fusion(tiny_classifier, ["a", "b"], name="f")
    remove_adapters(tiny_classifier, "f")
    assert list_fusions(tiny_classifier) == [] and list_adapters(tiny_classifier) == ["a", "b"]
    add_fusion(tiny_classifier, ["a", "b"], name="f")
    remove_adapters(tiny_classifier, "a")  # a fusion cannot outlive an adapter it mixes
    assert list_fusions(tiny_classifier) == [] and list_adapters(tiny_classifier) == ["b"]
    assert tiny_classifier.bert.encoder.layer[0].output.active is None
    remove_adapters(tiny_classifier)
    assert list(tiny_classifier.state_dict()) == keys
    assert torch.equal(logits(tiny_classifier, tiny_batch), base)
