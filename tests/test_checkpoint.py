"""Tests for course_lib.checkpoint: save_adapters / load_adapters round trips and their refusals."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import tiny_bert_config
from safetensors.torch import load_file, save_file
from transformers import BertForSequenceClassification, BertModel

from course_lib.checkpoint import CONFIG_NAME, WEIGHTS_NAME, AdapterConfigError, read_adapter_config
from course_lib.inject import (
    AdapterSubLayer,
    adapter_spec,
    add_adapters,
    iter_wrappers,
    list_adapters,
    load_adapters,
    remove_adapters,
    save_adapters,
    set_active_adapter,
)


def fresh_classifier(**overrides):
    """The same base weights as the tiny_classifier fixture (same seed), no adapters."""
    torch.manual_seed(0)
    return BertForSequenceClassification(tiny_bert_config(**overrides)).eval()


def trained(model, placement="houlsby", name="task", seed=3, **kwargs):
    """Add an adapter and give it (and the head) random weights, as if it had been trained."""
    add_adapters(model, placement, 4, name=name, **kwargs)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, AdapterSubLayer):
                for store in (module.adapters, module.parallel):
                    if name in store:
                        for p in store[name].parameters():
                            p.copy_(torch.randn(p.shape, generator=g) * 0.3)
        if hasattr(model, "classifier"):
            for p in model.classifier.parameters():
                p.copy_(torch.randn(p.shape, generator=g))
    return model


def logits(model, batch):
    with torch.no_grad():
        out = model(**batch)
    return out.logits if hasattr(out, "logits") else out.last_hidden_state


def edit_config(directory, **changes):
    path = directory / CONFIG_NAME
    config = json.loads(path.read_text())
    config.update(changes)
    path.write_text(json.dumps(config))


# ------------------------------------------------------------------ round trips


@pytest.mark.parametrize("placement", ["houlsby", "pfeiffer", "houlsby-ffn", "parallel"])
def test_round_trip_bit_exact_into_fresh_model(tiny_classifier, tiny_batch, tmp_path, placement):
    trained(tiny_classifier, placement)
    expected = logits(tiny_classifier, tiny_batch)
    save_adapters(tiny_classifier, tmp_path)

    fresh = fresh_classifier()
    assert not torch.equal(logits(fresh, tiny_batch), expected)  # head and adapter really come from the files
    name = load_adapters(fresh, tmp_path)
    assert name == "task" and list_adapters(fresh) == ["task"]
    assert torch.equal(logits(fresh, tiny_batch), expected)
    before, after = tiny_classifier.state_dict(), fresh.state_dict()
    assert list(before) == list(after)
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert adapter_spec(fresh, "task") == adapter_spec(tiny_classifier, "task")


def test_files_and_config_contents(tiny_classifier, tmp_path):
    trained(tiny_classifier, "houlsby")
    out = save_adapters(tiny_classifier, tmp_path / "new" / "dir")
    assert (out / CONFIG_NAME).is_file() and (out / WEIGHTS_NAME).is_file()
    config = json.loads((out / CONFIG_NAME).read_text())
    assert config["format"] == "course_lib.adapter" and config["version"] == 2
    assert config["name"] == "task" and config["kind"] == "bottleneck" and config["placement"] == "houlsby"
    assert config["bottleneck"] == 4 and config["activation"] == "relu" and config["bias"] is True
    assert config["hidden_size"] == 32 and config["num_hidden_layers"] == 2 and config["model_type"] == "bert"
    assert config["head"]["num_labels"] == 3
    tensors = load_file(str(out / WEIGHTS_NAME))
    assert "layers.0.attention_output.down.weight" in tensors and "layers.1.output.up.bias" in tensors
    assert {"head.classifier.weight", "head.classifier.bias"} <= set(tensors)
    assert all(k.startswith(("layers.", "head.")) for k in tensors)
    # only the adapter (2 layers x 2 locations x 4 tensors) and the head: no base weights
    assert len(tensors) == 2 * 2 * 4 + 2


def test_only_the_named_adapter_is_saved(tiny_classifier, tmp_path):
    trained(tiny_classifier, "houlsby", name="a")
    trained(tiny_classifier, "pfeiffer", name="b", seed=4)
    save_adapters(tiny_classifier, tmp_path, name="b", include_head=False)
    config = read_adapter_config(tmp_path)
    assert config["name"] == "b" and config["head"] is None
    assert len(load_file(str(tmp_path / WEIGHTS_NAME))) == 2 * 4


def test_default_name_is_active_adapter(tiny_classifier, tmp_path):
    add_adapters(tiny_classifier, "pfeiffer", 4, name="a")
    add_adapters(tiny_classifier, "pfeiffer", 4, name="b")
    save_adapters(tiny_classifier, tmp_path)
    assert read_adapter_config(tmp_path)["name"] == "b"
    set_active_adapter(tiny_classifier, None)
    with pytest.raises(ValueError, match="active"):
        save_adapters(tiny_classifier, tmp_path)
    with pytest.raises(ValueError, match="nope"):
        save_adapters(tiny_classifier, tmp_path, name="nope")


def test_load_under_another_name_and_into_existing(tiny_classifier, tiny_batch, tmp_path):
    trained(tiny_classifier, "pfeiffer")
    expected = logits(tiny_classifier, tiny_batch)
    save_adapters(tiny_classifier, tmp_path)
    fresh = fresh_classifier()
    assert load_adapters(fresh, tmp_path, name="copy", set_active=False) == "copy"
    assert fresh.bert.encoder.layer[0].output.active is None
    set_active_adapter(fresh, "copy")
    assert torch.equal(logits(fresh, tiny_batch), expected)
    # loading again into the existing adapter of the same shape overwrites it in place
    add_adapters(fresh, "pfeiffer", 4, name="task")
    load_adapters(fresh, tmp_path)
    assert torch.equal(logits(fresh, tiny_batch), expected)


def test_round_trip_encoder_without_head(tiny_encoder, tiny_batch, tmp_path):
    trained(tiny_encoder, "houlsby")
    expected = logits(tiny_encoder, tiny_batch)
    save_adapters(tiny_encoder, tmp_path)
    assert read_adapter_config(tmp_path)["head"] is None
    torch.manual_seed(0)
    fresh = BertModel(tiny_bert_config()).eval()
    load_adapters(fresh, tmp_path)
    assert torch.equal(logits(fresh, tiny_batch), expected)


def test_head_into_headless_model_needs_load_head_false(tiny_classifier, tiny_batch, tmp_path):
    trained(tiny_classifier, "pfeiffer")
    save_adapters(tiny_classifier, tmp_path)
    torch.manual_seed(0)
    encoder = BertModel(tiny_bert_config()).eval()
    with pytest.raises(AdapterConfigError, match="load_head=False"):
        load_adapters(encoder, tmp_path)
    assert list_adapters(encoder) == []
    load_adapters(encoder, tmp_path, load_head=False)
    assert list_adapters(encoder) == ["task"]


# ------------------------------------------------------------------ refusals


def assert_untouched(model):
    assert list_adapters(model) == []
    assert not any(isinstance(m, AdapterSubLayer) for m in model.modules())


@pytest.fixture
def saved(tiny_classifier, tmp_path):
    trained(tiny_classifier, "houlsby")
    save_adapters(tiny_classifier, tmp_path)
    return tmp_path


def test_refuses_other_hidden_size(saved):
    model = fresh_classifier(hidden_size=48, intermediate_size=64)
    with pytest.raises(AdapterConfigError, match=r"hidden_size=32.*hidden_size=48"):
        load_adapters(model, saved)
    assert_untouched(model)


def test_refuses_other_layer_count(saved):
    model = fresh_classifier(num_hidden_layers=3)
    with pytest.raises(AdapterConfigError, match=r"num_hidden_layers=2.*num_hidden_layers=3"):
        load_adapters(model, saved)
    assert_untouched(model)


def test_refuses_other_num_labels(saved):
    model = fresh_classifier(num_labels=2)
    with pytest.raises(AdapterConfigError, match="num_labels"):
        load_adapters(model, saved)
    assert_untouched(model)


def test_refuses_edited_placement(saved):
    edit_config(saved, placement="pfeiffer")
    model = fresh_classifier()
    with pytest.raises(AdapterConfigError, match=r"placement='pfeiffer'.*unexpected keys \['layers.0.attention_output"):
        load_adapters(model, saved)
    assert_untouched(model)


def test_refuses_unknown_placement(saved):
    edit_config(saved, placement="diagonal")
    with pytest.raises(AdapterConfigError, match="placement.*'diagonal'"):
        load_adapters(fresh_classifier(), saved)


def test_refuses_edited_bottleneck(saved):
    edit_config(saved, bottleneck=8)
    model = fresh_classifier()
    with pytest.raises(AdapterConfigError, match=r"bottleneck=8.*bottleneck=4"):
        load_adapters(model, saved)
    assert_untouched(model)


def test_refuses_clash_with_existing_adapter(saved):
    model = fresh_classifier()
    add_adapters(model, "pfeiffer", 4, name="task")
    with pytest.raises(AdapterConfigError, match=r"placement='pfeiffer'.*placement='houlsby'"):
        load_adapters(model, saved)
    add_adapters(model, "houlsby", 8, name="big")
    with pytest.raises(AdapterConfigError, match=r"bottleneck=8.*bottleneck=4"):
        load_adapters(model, saved, name="big")


def test_refuses_corrupted_json(saved):
    (saved / CONFIG_NAME).write_text('{"format": "course_lib.adapter", "version": 1,')
    with pytest.raises(AdapterConfigError, match="not valid JSON"):
        load_adapters(fresh_classifier(), saved)
    assert issubclass(AdapterConfigError, ValueError)


def test_refuses_json_missing_keys_or_wrong_format(saved):
    config = json.loads((saved / CONFIG_NAME).read_text())
    del config["hidden_size"]
    (saved / CONFIG_NAME).write_text(json.dumps(config))
    with pytest.raises(AdapterConfigError, match="hidden_size"):
        load_adapters(fresh_classifier(), saved)
    edit_config(saved, hidden_size=32, format="peft")
    with pytest.raises(AdapterConfigError, match="format='peft'"):
        load_adapters(fresh_classifier(), saved)


def test_refuses_corrupted_weights(saved):
    (saved / WEIGHTS_NAME).write_bytes(b"not a safetensors file")
    with pytest.raises(AdapterConfigError, match="could not be read"):
        load_adapters(fresh_classifier(), saved)


def test_refuses_missing_tensor(saved):
    tensors = load_file(str(saved / WEIGHTS_NAME))
    del tensors["layers.1.output.up.bias"]
    save_file(tensors, str(saved / WEIGHTS_NAME))
    model = fresh_classifier()
    with pytest.raises(AdapterConfigError, match=r"missing keys \['layers.1.output.up.bias'\]"):
        load_adapters(model, saved)
    assert_untouched(model)


def test_missing_files(saved, tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_adapters(fresh_classifier(), tmp_path / "nowhere")
    (saved / WEIGHTS_NAME).unlink()
    with pytest.raises(FileNotFoundError, match=WEIGHTS_NAME):
        load_adapters(fresh_classifier(), saved)
    (saved / CONFIG_NAME).unlink()
    with pytest.raises(FileNotFoundError, match=CONFIG_NAME):
        load_adapters(fresh_classifier(), saved)


# ----------------------------------------------------------------------------- every kind, and old files


@pytest.mark.parametrize("placement", ["houlsby", "pfeiffer"])
def test_compacter_added_with_add_adapters_saves_and_loads(tiny_classifier, tiny_batch, tmp_path, placement):
    from course_lib.specs import CompacterSpec

    spec = CompacterSpec(placement=placement, bottleneck=8, n=4)
    add_adapters(tiny_classifier, spec, name="compacter")
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():  # as if trained: every parameter, the shared A included, far from its init
        for p in tiny_classifier.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.3)
    before = logits(tiny_classifier, tiny_batch)
    save_adapters(tiny_classifier, tmp_path)
    assert read_adapter_config(tmp_path)["kind"] == "compacter"

    fresh = fresh_classifier()
    base = {k: v for k, v in tiny_classifier.state_dict().items() if ".adapters." not in k}
    fresh.load_state_dict({k.replace(".sublayer.", "."): v for k, v in base.items()})
    assert load_adapters(fresh, tmp_path) == "compacter"
    assert adapter_spec(fresh, "compacter") == spec
    assert torch.equal(logits(fresh, tiny_batch), before)
    wrappers = [w.adapters["compacter"] for _, _, w in iter_wrappers(fresh)]
    assert len({id(a.down.A) for a in wrappers}) == 1, "the loaded adapters share one A again"


def test_a_version_1_pfeiffer_checkpoint_loads_as_houlsby_ffn(tiny_classifier, tiny_batch, tmp_path):
    """Before AdapterHub's seq_bn was adopted, course_lib's 'pfeiffer' computed what is now 'houlsby-ffn'."""
    trained(tiny_classifier, "houlsby-ffn")
    before = logits(tiny_classifier, tiny_batch)
    save_adapters(tiny_classifier, tmp_path)
    config = json.loads((tmp_path / CONFIG_NAME).read_text())
    old = {k: v for k, v in config.items() if k not in ("kind", "init", "init_std")}
    (tmp_path / CONFIG_NAME).write_text(json.dumps({**old, "version": 1, "placement": "pfeiffer"}))
    remove_adapters(tiny_classifier)
    load_adapters(tiny_classifier, tmp_path)
    assert adapter_spec(tiny_classifier, "task").placement == "houlsby-ffn"
    assert torch.equal(logits(tiny_classifier, tiny_batch), before)


def test_unknown_kind_in_a_config_is_named(tiny_classifier, tmp_path):
    trained(tiny_classifier, "houlsby")
    save_adapters(tiny_classifier, tmp_path)
    config = json.loads((tmp_path / CONFIG_NAME).read_text())
    (tmp_path / CONFIG_NAME).write_text(json.dumps({**config, "kind": "prefix"}))
    with pytest.raises(AdapterConfigError, match="kind must be one of"):
        read_adapter_config(tmp_path)
