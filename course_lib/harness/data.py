"""The course's text-classification tasks, and turning them into batches.

Every task is a list of ``{"text": str, "label": int}`` rows. The course data lives in the folder
named by the environment variable ``COURSE_DATA_DIR`` as ``<task>/<split>.jsonl`` plus a
``tasks.json`` with the label names; without it the same data is fetched from the Hugging Face hub
(see ``TASKS`` for the hub id of each task). Either way ``load_task`` returns a
``datasets.Dataset`` with a ``"text"`` column and a ``"label"`` column whose feature is a
``ClassLabel`` carrying the label names.

``make_loader`` tokenizes the texts once and pads each batch only to its longest sentence
("dynamic padding"): short sentences then cost far less than padding everything to ``max_length``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from transformers import DataCollatorWithPadding

DATA_ENV = "COURSE_DATA_DIR"
#: Seed of the shuffle that picks the ``limit`` rows of ``load_task``.
LIMIT_SEED = 0


class DataDirError(FileNotFoundError):
    """Neither the course data folder nor the Hugging Face hub could provide a task."""


@dataclass(frozen=True)
class TaskSpec:
    """Where a task lives on the Hugging Face hub, and how its columns map to ours."""

    hub_id: str
    num_labels: int
    kind: str
    splits: dict[str, str]  # our split name -> hub split (expression)
    hub_config: str | None = None
    text_column: str = "text"
    label_column: str = "label"
    label_names: tuple[str, ...] | None = None  # None: take them from tasks.json / the hub
    carve_validation: int = 0  # >0: our train/validation are a seeded split of the hub's train
    note: str = ""

    @property
    def hub_name(self) -> str:
        return f"{self.hub_id} (config {self.hub_config!r})" if self.hub_config else self.hub_id


_BINARY = ("negative", "positive")
_TRAIN_VAL_AS_TEST = {"train": "train", "validation": "test"}

#: The eight course tasks. ``label_names`` here are authoritative where given: tasks.json lists
#: subj's names in the wrong order, the files follow SentEval's convention 0 = subjective,
#: 1 = objective (a plot summary such as "nha fala ... is the story of vita ..." is label 1).
TASKS: dict[str, TaskSpec] = {
    "sst2": TaskSpec("nyu-mll/glue", 2, "sentiment", {"train": "train", "validation": "validation"},
                     hub_config="sst2", text_column="sentence", label_names=_BINARY),
    "ag_news": TaskSpec("fancyzhx/ag_news", 4, "topic", {"train": "train", "test": "test"},
                        label_names=("World", "Sports", "Business", "Sci/Tech"),
                        note="the course's train split is a 10,001-row subset; the hub's has 120,000 rows"),
    "banking77": TaskSpec("PolyAI/banking77", 77, "intent", {"train": "train", "validation": "train", "test": "test"},
                          carve_validation=1000,
                          note="validation = 1,000 rows split off the hub's train (seed 0)"),
    "subj": TaskSpec("SetFit/subj", 2, "subjectivity", _TRAIN_VAL_AS_TEST, label_names=("subjective", "objective")),
    "cr": TaskSpec("SetFit/CR", 2, "sentiment", _TRAIN_VAL_AS_TEST, label_names=_BINARY),
    "mr": TaskSpec("cornell-movie-review-data/rotten_tomatoes", 2, "sentiment",
                   {"train": "train", "validation": "validation+test"}, label_names=_BINARY),
    "mpqa": TaskSpec("SetFit/mpqa", 2, "opinion polarity", _TRAIN_VAL_AS_TEST, label_names=_BINARY),
    "cola": TaskSpec("nyu-mll/glue", 2, "acceptability", {"train": "train", "validation": "validation"},
                     hub_config="cola", text_column="sentence", label_names=("unacceptable", "acceptable")),
}


def _task_spec(name: str) -> TaskSpec:
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; known tasks: {sorted(TASKS)}")
    return TASKS[name]


def _data_root(data_dir: str | os.PathLike | None) -> tuple[Path | None, str]:
    """The data folder to read and a description of where it came from (for error messages)."""
    if data_dir is not None:
        return Path(data_dir), f"data_dir={str(data_dir)!r}"
    value = os.environ.get(DATA_ENV, "").strip()
    if value:
        return Path(value), f"{DATA_ENV}={value!r}"
    return None, f"{DATA_ENV} is not set"


def _tasks_json(root: Path | None) -> dict:
    """The parsed ``tasks.json`` of ``root`` ({} when there is none)."""
    if root is None or not (root / "tasks.json").is_file():
        return {}
    with open(root / "tasks.json", encoding="utf-8") as f:
        return json.load(f)


def _label_names(name: str, root: Path | None) -> list[str] | None:
    spec = TASKS[name]
    if spec.label_names is not None:
        return list(spec.label_names)
    names = _tasks_json(root).get(name, {}).get("label_names")
    return list(names) if names else None


def task_info(name: str, data_dir: str | os.PathLike | None = None) -> dict:
    """What we know about a task: kind, label names, number of labels, splits, sizes, hub id.

    ``label_names`` is ``None`` only for banking77 when no tasks.json is available.
    """
    spec = _task_spec(name)
    root, _ = _data_root(data_dir)
    entry = _tasks_json(root).get(name, {})
    return {
        "name": name,
        "kind": entry.get("kind", spec.kind),
        "label_names": _label_names(name, root),
        "num_labels": spec.num_labels,
        "splits": list(spec.splits),
        "sizes": dict(entry.get("sizes", {})),
        "hub_id": spec.hub_id,
        "hub_config": spec.hub_config,
        "note": spec.note,
    }


def _make_dataset(texts: list[str], labels: list[int], label_names: list[str]) -> "Dataset":
    from datasets import ClassLabel, Dataset, Features, Value  # imported here: `datasets` is slow to import

    features = Features({"text": Value("string"), "label": ClassLabel(names=label_names)})
    return Dataset.from_dict({"text": texts, "label": labels}, features=features)


def _read_jsonl(path: Path, label_names: list[str]) -> "Dataset":
    texts, labels = [], []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                text, label = str(row["text"]), int(row["label"])
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{path}:{lineno}: expected a JSON object with 'text' and 'label' ({exc})") from exc
            if not 0 <= label < len(label_names):
                raise ValueError(f"{path}:{lineno}: label {label} outside 0..{len(label_names) - 1}")
            texts.append(text)
            labels.append(label)
    return _make_dataset(texts, labels, label_names)


def _norm(label_name: str) -> str:
    return str(label_name).strip().lower()


def _hub_label_names(raw: "Dataset", spec: TaskSpec) -> dict[int, str]:
    """Hub label id -> label name, from a ClassLabel feature or a ``label_text`` column (SetFit)."""
    from datasets import ClassLabel

    feature = raw.features[spec.label_column]
    if isinstance(feature, ClassLabel):
        return dict(enumerate(feature.names))
    if "label_text" in raw.column_names:
        return {int(i): t for i, t in zip(raw[spec.label_column], raw["label_text"])}
    return {}


def _hub_label_map(hub_names: dict[int, str], label_names: list[str]) -> dict[int, int] | None:
    """Map hub ids to our ids by label name; ``None`` (keep ids) if the names do not all match."""
    ours = [_norm(n) for n in label_names]
    if not hub_names or not all(_norm(n) in ours for n in hub_names.values()):
        return None
    return {i: ours.index(_norm(n)) for i, n in hub_names.items()}


def _from_hub(name: str, split: str, label_names: list[str] | None) -> "Dataset":
    """Download (or read from the hub cache) one split and convert it to our format."""
    import datasets

    spec = TASKS[name]
    raw = datasets.load_dataset(spec.hub_id, spec.hub_config, split=spec.splits[split])
    if spec.carve_validation and split in ("train", "validation"):
        parts = raw.train_test_split(test_size=spec.carve_validation, seed=LIMIT_SEED)
        raw = parts["train" if split == "train" else "test"]
    hub_names = _hub_label_names(raw, spec)
    if label_names is None:  # banking77 without tasks.json: the course orders names like sorted()
        label_names = sorted(hub_names.values())
    mapping = _hub_label_map(hub_names, label_names)
    labels = [int(label) for label in raw[spec.label_column]]
    if mapping is not None:
        labels = [mapping[label] for label in labels]
    return _make_dataset([str(t) for t in raw[spec.text_column]], labels, label_names)


def load_task(
    name: str,
    split: str = "train",
    limit: int | None = None,
    data_dir: str | os.PathLike | None = None,
) -> "Dataset":
    """Load one split of a course task as a ``datasets.Dataset`` with columns ``text`` and ``label``.

    Reads ``<data_dir or $COURSE_DATA_DIR>/<name>/<split>.jsonl``; if that folder is not set or
    lacks the file, falls back to the Hugging Face hub; if that fails too, raises ``DataDirError``.

    ``limit`` keeps ``limit`` rows picked by a fixed shuffle (seed 0), so a small subset still mixes
    the labels (the files are often sorted by label) and is the same on every run; the first ``n``
    rows of ``limit=m`` are exactly the rows of ``limit=n``. Without ``limit`` the file order is kept.
    """
    spec = _task_spec(name)
    if split not in spec.splits:
        raise ValueError(f"unknown split {split!r} for task {name!r}; known splits: {list(spec.splits)}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0):
        raise ValueError(f"limit must be a positive integer or None, got {limit!r}")

    root, where = _data_root(data_dir)
    path = root / name / f"{split}.jsonl" if root is not None else None
    label_names = _label_names(name, root)
    if path is not None and path.is_file():
        if label_names is None:
            raise DataDirError(f"{root / 'tasks.json'} is missing or has no label_names for {name!r} ({where})")
        dataset = _read_jsonl(path, label_names)
    else:
        try:
            dataset = _from_hub(name, split, label_names)
        except Exception as exc:  # offline, unknown repo, changed columns, ...
            tried = f"{path} does not exist" if path is not None else "no local file was tried"
            raise DataDirError(
                f"could not load task {name!r} split {split!r}: {where} ({tried}), and the Hugging Face "
                f"hub fallback {spec.hub_name} failed ({type(exc).__name__}: {exc}). Set {DATA_ENV} to the "
                f"course data folder (the one holding tasks.json and {name}/{split}.jsonl) or go online."
            ) from exc

    if limit is not None:
        dataset = dataset.shuffle(seed=LIMIT_SEED).select(range(min(limit, len(dataset))))
    return dataset


class EncodedTexts(torch.utils.data.Dataset):
    """Tokenized texts (and labels, if any) in memory; item ``i`` is one unpadded example."""

    def __init__(self, encodings: dict[str, list], labels: list[int] | None = None):
        self.encodings = encodings
        self.labels = labels

    def __len__(self) -> int:
        return len(self.encodings["input_ids"])

    def __getitem__(self, i: int) -> dict:
        item = {key: values[i] for key, values in self.encodings.items()}
        if self.labels is not None:
            item["labels"] = self.labels[i]
        return item


def make_loader(
    dataset,
    tokenizer,
    batch_size: int = 32,
    shuffle: bool = False,
    max_length: int = 128,
    seed: int = 0,
) -> DataLoader:
    """A DataLoader of padded batches: dicts with ``input_ids``, ``attention_mask``
    (``token_type_ids`` for BERT) and ``labels`` (when the data has a ``label`` column).

    ``dataset`` is a ``load_task`` result (or anything with ``"text"``/``"label"`` columns) or a
    plain list of strings. Texts are tokenized once, truncated to ``max_length`` tokens (at most the
    tokenizer's ``model_max_length``), and each batch is padded to its own longest text.
    ``shuffle=True`` reshuffles every epoch with a generator seeded by ``seed``.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length <= 1:
        raise ValueError(f"max_length must be an integer > 1, got {max_length!r}")
    if isinstance(dataset, (list, tuple)) and all(isinstance(t, str) for t in dataset):
        texts, labels = list(dataset), None
    else:
        columns = getattr(dataset, "column_names", None) or list(dataset.keys())
        if "text" not in columns:
            raise ValueError(f"dataset must have a 'text' column, got columns {columns}")
        texts = [str(t) for t in dataset["text"]]
        labels = [int(label) for label in dataset["label"]] if "label" in columns else None
    if not texts:
        raise ValueError("dataset is empty")

    model_max = getattr(tokenizer, "model_max_length", None)
    if isinstance(model_max, int) and model_max < 100_000:
        max_length = min(max_length, model_max)
    encodings = dict(tokenizer(texts, truncation=True, max_length=max_length))
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(
        EncodedTexts(encodings, labels),
        batch_size=batch_size,
        shuffle=shuffle,
        generator=generator,
        collate_fn=DataCollatorWithPadding(tokenizer),
    )


__all__ = ["load_task", "task_info", "make_loader", "DataDirError", "TASKS", "TaskSpec", "DATA_ENV", "EncodedTexts"]
