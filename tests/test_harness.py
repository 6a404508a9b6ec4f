"""The harness: fast mode, devices and seeds, models, data, loaders, timing, plots."""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import random
import subprocess
import sys
from pathlib import Path

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
from course_lib.harness import data as data_module
from course_lib.harness.data import label_feature

ROOT = Path(__file__).resolve().parents[1]

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


def test_load_task_from_course_data(data_dir, monkeypatch):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    ds = load_task("sst2", "validation", data_dir=data_dir)
    assert ds.column_names == ["text", "label"]
    assert isinstance(ds.features["label"], ClassLabel)
    assert ds.features["label"].names == ["negative", "positive"]
    assert len(ds) == 872 and isinstance(ds[0]["text"], str)
    assert load_task("sst2", "validation")[0] == ds[0]  # with nothing set, the shipped data is the default
    assert task_info("sst2")["source"] == data_dir


SHIPPED_TASKS = sorted(name for name in TASKS if name != "conll2003")


@pytest.mark.parametrize("name", SHIPPED_TASKS)
def test_every_shipped_task_loads(data_dir, name, monkeypatch):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    info = task_info(name)
    assert info["source"] == data_dir, f"{name} should be read from the shipped data, got {info['source']}"
    assert len(info["label_names"]) == info["num_labels"]
    for split in info["splits"]:
        ds = load_task(name, split, limit=50)
        assert len(ds) == 50 and label_feature(ds).num_classes == info["num_labels"]
        assert len(load_task(name, split)) == info["sizes"][split]


def test_token_task_rows(data_dir):
    ds = load_task("wnut17", "validation", limit=20, data_dir=data_dir)
    assert ds.column_names == ["tokens", "tags"]
    assert label_feature(ds).names[:3] == ["O", "B-corporation", "I-corporation"]
    assert all(len(row["tokens"]) == len(row["tags"]) > 0 for row in ds)
    assert any(tag != 0 for row in ds for tag in row["tags"])


def test_conll2003_is_not_shipped_but_loads_from_a_data_folder(data_dir, tmp_path, monkeypatch):
    assert not (data_dir / "conll2003").exists(), "CoNLL-2003 must not be redistributed with the course"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    with pytest.raises(DataDirError) as info:
        load_task("conll2003", "validation")
    message = str(info.value)
    assert "the data shipped with the course: no" in message and "eriktks/conll2003" in message
    assert "COURSE_DATA_DIR is not set" in message

    (tmp_path / "conll2003").mkdir()
    (tmp_path / "conll2003" / "validation.jsonl").write_text(
        json.dumps({"tokens": ["Paris", "is", "big"], "tags": [1, 0, 0]}) + "\n"
    )
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))  # no tasks.json needed: TASKS has the tag names
    ds = load_task("conll2003", "validation")
    assert list(ds["tokens"]) == [["Paris", "is", "big"]] and label_feature(ds).names[1] == "B-LOC"


def _folder_with_sst2(root: Path, texts: list[str], gz: bool = False) -> Path:
    (root / "sst2").mkdir(parents=True)
    lines = "".join(json.dumps({"text": t, "label": i % 2}) + "\n" for i, t in enumerate(texts)).encode()
    path = root / "sst2" / ("validation.jsonl.gz" if gz else "validation.jsonl")
    path.write_bytes(gzip.compress(lines) if gz else lines)
    return root


def test_load_task_order_data_dir_then_env_then_shipped(tmp_path, monkeypatch, data_dir):
    explicit = _folder_with_sst2(tmp_path / "explicit", ["from data_dir"])
    env = _folder_with_sst2(tmp_path / "env", ["from the env", "second"], gz=True)
    monkeypatch.setenv("COURSE_DATA_DIR", str(env))
    assert list(load_task("sst2", "validation", data_dir=explicit)["text"]) == ["from data_dir"]
    assert list(load_task("sst2", "validation")["text"]) == ["from the env", "second"]  # .jsonl.gz is read too
    # A folder that lacks the task falls through to the next place: here the shipped data.
    assert len(load_task("cr", "validation")) == 755 and task_info("cr")["source"] == data_dir
    assert len(load_task("sst2", "train", data_dir=explicit, limit=5)) == 5


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


def test_a_data_folder_that_does_not_exist_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "typo"))
    with pytest.raises(DataDirError, match=r"COURSE_DATA_DIR='.*typo' is not a folder"):
        load_task("sst2", "validation")
    monkeypatch.delenv("COURSE_DATA_DIR")
    with pytest.raises(DataDirError, match=r"data_dir='.*nowhere' is not a folder"):
        load_task("sst2", "validation", data_dir=tmp_path / "nowhere")


def test_missing_everywhere_error_names_every_place(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the hub fallback must fail fast
    monkeypatch.setattr(data_module, "shipped_data_dir", lambda: None)  # as if data/tasks had been deleted
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    with pytest.raises(DataDirError) as info:
        load_task("sst2", "validation")
    message = str(info.value)
    assert f"COURSE_DATA_DIR={str(tmp_path)!r}: no {tmp_path / 'sst2' / 'validation'}.jsonl" in message
    assert "the data shipped with the course: not found" in message
    assert "nyu-mll/glue" in message and "Set COURSE_DATA_DIR" in message
    assert isinstance(info.value, FileNotFoundError)

    monkeypatch.delenv("COURSE_DATA_DIR")
    with pytest.raises(DataDirError, match=r"(?s)SetFit/CR.*COURSE_DATA_DIR is not set"):
        load_task("cr")


def test_damaged_shipped_file_is_named(tmp_path):
    root = _folder_with_sst2(tmp_path, ["a", "b"], gz=True)
    path = root / "sst2" / "validation.jsonl.gz"
    path.write_bytes(path.read_bytes()[:-12])  # cut off the end, as an interrupted download would
    with pytest.raises(ValueError, match=r"validation.jsonl.gz is damaged"):
        load_task("sst2", "validation", data_dir=root)


def test_shipped_data_is_whole_and_as_recorded():
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "ship_data.py"), "--check"], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stdout + run.stderr


def _fake_hub(monkeypatch, raw: Dataset):
    import datasets

    calls = []

    def fake_load_dataset(path, name=None, split=None, **kwargs):
        calls.append((path, name, split))
        return raw

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setattr(data_module, "shipped_data_dir", lambda: None)  # nothing local: the hub it is
    return calls


def test_hub_fallback_maps_setfit_label_text(monkeypatch):
    # SetFit/subj numbers the classes the other way round (0 = objective): map by name.
    raw = Dataset.from_dict({"text": ["plot", "opinion"], "label": [0, 1], "label_text": ["objective", "subjective"]})
    calls = _fake_hub(monkeypatch, raw)
    ds = load_task("subj", "validation")
    assert calls == [("SetFit/subj", None, "test")]
    assert list(ds["label"]) == [1, 0] and ds.features["label"].names == ["subjective", "objective"]


def test_hub_fallback_glue_columns_and_class_label(monkeypatch):
    features = Features(
        {"sentence": Value("string"), "label": ClassLabel(names=["negative", "positive"]), "idx": Value("int32")}
    )
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
    label_of = dict(zip([*train["text"], *validation["text"]], [*train["label"], *validation["label"]], strict=False))
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
    result = measure_latency(
        tiny_classifier, {**tiny_batch, "labels": torch.zeros(3, dtype=torch.long)}, repeats=5, warmup=1
    )
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
