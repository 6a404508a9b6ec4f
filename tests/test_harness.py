"""The harness: fast mode, devices and seeds, models, data, loaders, timing, plots."""

from __future__ import annotations

import dataclasses
import os
import random

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from datasets import ClassLabel, Dataset, Features, Value
from matplotlib.figure import Figure

from course_lib import plots
from course_lib.harness import (
    MODEL_ALIASES,
    TASKS,
    DataDirError,
    TrainHistory,
    amp_dtype,
    autocast,
    budget,
    fast_mode,
    get_device,
    load_model,
    load_task,
    make_grad_scaler,
    make_loader,
    measure_latency,
    seed_everything,
    task_info,
)

# ----------------------------------------------------------------------------- config


@pytest.fixture
def no_fast_env(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("COURSE_FAST", raising=False)
    return monkeypatch


def test_fast_mode_off_by_default(no_fast_env):
    assert fast_mode() is False
    assert budget(500, 8) == 500


@pytest.mark.parametrize(
    "var, value, expected",
    [
        ("NBGRADER_EXECUTION", "autograde", True),
        ("NBGRADER_EXECUTION", "", False),
        ("COURSE_FAST", "1", True),
        ("COURSE_FAST", "0", False),
        ("COURSE_FAST", "yes", False),
    ],
)
def test_fast_mode_env(no_fast_env, var, value, expected):
    no_fast_env.setenv(var, value)
    assert fast_mode() is expected
    assert budget("full", "fast") == ("fast" if expected else "full")


# ----------------------------------------------------------------------------- device and seeds


def test_get_device_default_and_override(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    assert get_device().type in {"cpu", "cuda", "mps"}
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")
    assert get_device("cpu") == torch.device("cpu")
    assert get_device(torch.device("cpu")) == torch.device("cpu")


@pytest.mark.parametrize("name", ["tpu9", "banana", "meta"])
def test_get_device_unknown(monkeypatch, name):
    monkeypatch.setenv("COURSE_DEVICE", name)
    with pytest.raises(ValueError, match=f"{name}.*COURSE_DEVICE"):
        get_device()
    with pytest.raises(ValueError, match=name):
        get_device(name)


def test_get_device_unavailable(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    with pytest.raises(ValueError, match="cuda:99"):
        get_device("cuda:99")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="'cuda'.*not available"):
            get_device("cuda")


def test_cpu_has_no_mixed_precision():
    cpu = torch.device("cpu")
    assert amp_dtype(cpu) is None
    assert not make_grad_scaler(cpu).is_enabled()
    with autocast(cpu):
        x = torch.ones(2, 2) @ torch.ones(2, 2)
    assert x.dtype == torch.float32


def test_seed_everything_reproducible():
    def draw():
        return random.random(), float(np.random.rand()), torch.rand(3).tolist()

    seed_everything(123)
    first = draw()
    seed_everything(123)
    assert draw() == first
    seed_everything(124)
    assert draw() != first
    with pytest.raises(ValueError, match="seed"):
        seed_everything(-1)


# ----------------------------------------------------------------------------- models


def test_load_tiny_bert():
    model, tokenizer = load_model("tiny-bert", num_labels=3)
    config = model.config
    assert (config.hidden_size, config.num_hidden_layers, config.num_attention_heads) == (32, 2, 4)
    assert config.intermediate_size == 64 and config.vocab_size == len(tokenizer) == 30522
    assert config.num_labels == 3 and not model.training
    same, _ = load_model("TINY-BERT", num_labels=3)
    other, _ = load_model("tiny-bert", num_labels=3, seed=1)
    w = model.classifier.weight
    assert torch.equal(w, same.classifier.weight) and not torch.equal(w, other.classifier.weight)
    batch = tokenizer(["a great movie", "awful"], padding=True, return_tensors="pt")
    with torch.no_grad():
        assert model(**batch).logits.shape == (2, 3)


def test_load_model_does_not_touch_global_rng():
    torch.manual_seed(5)
    expected = torch.rand(2)
    torch.manual_seed(5)
    load_model("tiny-bert")
    assert torch.equal(torch.rand(2), expected)


def test_load_minilm_offline(monkeypatch):
    import transformers

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    verbosity = transformers.logging.get_verbosity()
    model, tokenizer = load_model("minilm", num_labels=4)
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert transformers.logging.get_verbosity() == verbosity  # silenced only during the call
    assert type(model).__name__ == "BertForSequenceClassification"
    assert model.config.hidden_size == 384 and model.config.num_hidden_layers == 6
    assert model.classifier.out_features == 4
    assert tokenizer("hello world")["input_ids"] == [101, 7592, 2088, 102]
    alias, _ = load_model("all-MiniLM-L6-v2", num_labels=4)
    assert torch.equal(alias.bert.embeddings.word_embeddings.weight, model.bert.embeddings.word_embeddings.weight)


def test_load_model_errors(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ValueError, match=r"no-such-org/no-such-model.*'minilm'.*'tiny-bert'"):
        load_model("no-such-org/no-such-model")
    with pytest.raises(ValueError, match="num_labels"):
        load_model("tiny-bert", num_labels=0)
    assert {"minilm", "tiny-bert", "all-MiniLM-L6-v2"} <= set(MODEL_ALIASES)


# ----------------------------------------------------------------------------- data


def test_load_task_from_course_data(data_dir):
    ds = load_task("sst2", "validation", data_dir=data_dir)
    assert ds.column_names == ["text", "label"]
    assert isinstance(ds.features["label"], ClassLabel)
    assert ds.features["label"].names == ["negative", "positive"]
    assert len(ds) == 872 and isinstance(ds[0]["text"], str)
    assert load_task("sst2", "validation")[0] == ds[0]  # COURSE_DATA_DIR is the default


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_task_loads(data_dir, name):
    info = task_info(name)
    for split in info["splits"]:
        ds = load_task(name, split, limit=50, data_dir=data_dir)
        assert len(ds) == 50 and ds.features["label"].num_classes == info["num_labels"]
        assert len(info["label_names"]) == info["num_labels"]


def test_task_info(data_dir):
    info = task_info("banking77")
    assert info["num_labels"] == 77 and info["splits"] == ["train", "validation", "test"]
    assert info["sizes"]["validation"] == 1000 and info["hub_id"] == "PolyAI/banking77"
    # The subj files follow SentEval: 0 = subjective (opinions), 1 = objective (plot summaries).
    assert task_info("subj")["label_names"] == ["subjective", "objective"]
    with pytest.raises(ValueError, match="unknown task"):
        task_info("imdb")


def test_limit_is_seeded_mixed_subset(data_dir):
    full = load_task("mpqa", "validation", data_dir=data_dir)
    small = load_task("mpqa", "validation", limit=40, data_dir=data_dir)
    again = load_task("mpqa", "validation", limit=40, data_dir=data_dir)
    larger = load_task("mpqa", "validation", limit=80, data_dir=data_dir)
    assert len(small) == 40 and list(small["text"]) == list(again["text"])
    assert list(larger["text"])[:40] == list(small["text"])
    assert set(small["label"]) == {0, 1}
    assert list(small["text"]) != list(full["text"])[:40]
    assert len(load_task("cr", "validation", limit=10**6, data_dir=data_dir)) == 755


def test_load_task_unknown_task_and_split(data_dir):
    with pytest.raises(ValueError, match=r"unknown task 'imdb'.*sst2"):
        load_task("imdb")
    with pytest.raises(ValueError, match=r"unknown split 'test'.*'train', 'validation'"):
        load_task("sst2", "test")
    with pytest.raises(ValueError, match="limit"):
        load_task("sst2", limit=0)


def test_missing_data_dir_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the hub fallback must fail fast
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    with pytest.raises(DataDirError) as info:
        load_task("sst2", "validation")
    message = str(info.value)
    assert "COURSE_DATA_DIR" in message
    assert str(tmp_path / "sst2" / "validation.jsonl") in message
    assert "nyu-mll/glue" in message
    assert isinstance(info.value, FileNotFoundError)

    monkeypatch.delenv("COURSE_DATA_DIR")
    with pytest.raises(DataDirError, match=r"COURSE_DATA_DIR is not set.*SetFit/CR"):
        load_task("cr")


def _fake_hub(monkeypatch, raw: Dataset):
    import datasets

    calls = []

    def fake_load_dataset(path, name=None, split=None, **kwargs):
        calls.append((path, name, split))
        return raw

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    return calls


def test_hub_fallback_maps_setfit_label_text(monkeypatch):
    # SetFit/subj numbers the classes the other way round (0 = objective): map by name.
    raw = Dataset.from_dict({"text": ["plot", "opinion"], "label": [0, 1], "label_text": ["objective", "subjective"]})
    calls = _fake_hub(monkeypatch, raw)
    ds = load_task("subj", "validation")
    assert calls == [("SetFit/subj", None, "test")]
    assert list(ds["label"]) == [1, 0] and ds.features["label"].names == ["subjective", "objective"]


def test_hub_fallback_glue_columns_and_class_label(monkeypatch):
    features = Features({"sentence": Value("string"), "label": ClassLabel(names=["negative", "positive"]),
                         "idx": Value("int32")})
    raw = Dataset.from_dict({"sentence": ["bad", "good"], "label": [0, 1], "idx": [0, 1]}, features=features)
    calls = _fake_hub(monkeypatch, raw)
    ds = load_task("sst2", "validation")
    assert calls == [("nyu-mll/glue", "sst2", "validation")]
    assert ds.column_names == ["text", "label"] and list(ds["text"]) == ["bad", "good"] and list(ds["label"]) == [0, 1]


def test_hub_fallback_banking77_carves_validation(monkeypatch):
    hub_names = sorted(["activate_my_card", "Refund_not_showing_up", "age_limit"], key=str.lower)  # hub order
    raw = Dataset.from_dict(
        {"text": [f"t{i}" for i in range(30)], "label": [i % 3 for i in range(30)]},
        features=Features({"text": Value("string"), "label": ClassLabel(names=hub_names)}),
    )
    _fake_hub(monkeypatch, raw)
    monkeypatch.setitem(TASKS, "banking77", dataclasses.replace(TASKS["banking77"], carve_validation=10))
    train = load_task("banking77", "train")
    validation = load_task("banking77", "validation")
    assert (len(train), len(validation)) == (20, 10) and not set(train["text"]) & set(validation["text"])
    # No tasks.json: the names come from the hub, in the course's sorted() order, ids remapped by name.
    names = train.features["label"].names
    assert names == ["Refund_not_showing_up", "activate_my_card", "age_limit"]
    label_of = dict(zip([*train["text"], *validation["text"]], [*train["label"], *validation["label"]]))
    for row in raw:
        assert names[label_of[row["text"]]] == hub_names[row["label"]]


# ----------------------------------------------------------------------------- loaders


@pytest.fixture(scope="module")
def tokenizer():
    return load_model("tiny-bert")[1]


def test_loader_pads_dynamically(data_dir, tokenizer):
    ds = load_task("sst2", "validation", limit=64, data_dir=data_dir)
    loader = make_loader(ds, tokenizer, batch_size=16, max_length=64)
    widths = []
    for batch in loader:
        assert set(batch) >= {"input_ids", "attention_mask", "labels"}
        lengths = batch["attention_mask"].sum(dim=1)
        assert batch["input_ids"].shape[1] == lengths.max() <= 64  # padded to the longest in the batch
        assert batch["labels"].dtype == torch.long and batch["labels"].shape == (16,)
        widths.append(batch["input_ids"].shape[1])
    assert len(widths) == 4 and len(set(widths)) > 1


def test_loader_truncates_and_shuffles(data_dir, tokenizer):
    ds = load_task("sst2", "validation", limit=64, data_dir=data_dir)
    assert max(b["input_ids"].shape[1] for b in make_loader(ds, tokenizer, max_length=8)) == 8

    def order(seed):
        loader = make_loader(ds, tokenizer, batch_size=64, shuffle=True, seed=seed)
        return next(iter(loader))["input_ids"][:, 1].tolist()

    plain = next(iter(make_loader(ds, tokenizer, batch_size=64)))["input_ids"][:, 1].tolist()
    assert order(0) == order(0) and order(0) != plain


def test_loader_from_list_of_strings(tokenizer):
    batch = next(iter(make_loader(["a fine film", "no"], tokenizer)))
    assert "labels" not in batch and batch["input_ids"].shape[0] == 2


def test_loader_errors(tokenizer):
    with pytest.raises(ValueError, match="batch_size"):
        make_loader(["x"], tokenizer, batch_size=0)
    with pytest.raises(ValueError, match="'text' column"):
        make_loader({"sentence": ["x"]}, tokenizer)
    with pytest.raises(ValueError, match="empty"):
        make_loader([], tokenizer)


# ----------------------------------------------------------------------------- timing


def test_measure_latency(tiny_classifier, tiny_batch):
    tiny_classifier.train()
    result = measure_latency(tiny_classifier, {**tiny_batch, "labels": torch.zeros(3, dtype=torch.long)},
                             repeats=5, warmup=1)
    assert {"median_ms", "mean_ms", "p90_ms", "batch_size"} <= set(result)
    assert result["batch_size"] == 3 and result["repeats"] == 5
    assert 0 < result["min_ms"] <= result["median_ms"] <= result["p90_ms"]
    assert tiny_classifier.training  # mode restored
    with pytest.raises(ValueError, match="repeats"):
        measure_latency(tiny_classifier, tiny_batch, repeats=0)
    with pytest.raises(ValueError, match="input_ids"):
        measure_latency(tiny_classifier, torch.ones(2, 3))


# ----------------------------------------------------------------------------- plots


def test_plots_return_figures():
    import matplotlib.pyplot as plt

    history = TrainHistory(step_loss=[1.0, 0.8, 0.7, 0.5, 0.4], eval=[{"step": 5, "loss": 0.6, "accuracy": 0.7}])
    figures = [
        plots.plot_loss_curves({"adapters": history, "head only": [1.0, 0.9, 0.9]}, smooth=2),
        plots.plot_loss_curves([1.0, 0.5], smooth=1),
        plots.plot_parameter_bars({"full": 22_713_216, "adapters": 99_136, "zero": 0}),
        plots.plot_parameter_bars({"a": 10, "b": 20}, log=False),
        plots.plot_fusion_heatmap(torch.softmax(torch.randn(6, 3), dim=-1), ["sst2", "mr", "cr"]),
    ]
    assert all(isinstance(f, Figure) for f in figures)
    fig, ax = plt.subplots()
    assert plots.plot_loss_curves({"x": [1, 2]}, ax=ax) is fig
    for f in [*figures, fig]:
        plt.close(f)


def test_moving_average():
    np.testing.assert_allclose(plots.moving_average(np.array([1.0, 3.0, 5.0, 7.0]), 2), [1, 2, 4, 6])


def test_plot_errors():
    with pytest.raises(ValueError, match="histories"):
        plots.plot_loss_curves({})
    with pytest.raises(ValueError, match="smooth"):
        plots.plot_loss_curves({"a": [1.0]}, smooth=0)
    with pytest.raises(ValueError, match="'a'"):
        plots.plot_parameter_bars({"a": -1})
    with pytest.raises(ValueError, match="adapter_names"):
        plots.plot_fusion_heatmap(np.ones((2, 3)) / 3, ["a", "b"])
    with pytest.raises(ValueError, match="shape"):
        plots.plot_fusion_heatmap(np.ones(3), ["a", "b", "c"])
