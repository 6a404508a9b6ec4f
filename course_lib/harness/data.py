"""The course's data sets, and turning them into batches.

A sentence task is a list of ``{"text": str, "label": int}`` rows; a named-entity task (``format="tokens"``)
a list of ``{"tokens": [str, ...], "tags": [int, ...]}`` rows with BIO tags. ``load_task`` looks for a
task in this order and reads the first place that has it:

1. the folder given as ``data_dir=``;
2. the folder named by the environment variable ``COURSE_DATA_DIR``;
3. the data sets that ship with the course (``data/tasks/`` in a checkout, ``course_lib/_data/tasks`` in an
   installed package, Colab included: see ``data/tasks/README.md`` for what ships and its licenses);
4. the Hugging Face hub (see ``TASKS`` for the hub id of each task).

A folder holds ``<task>/<split>.jsonl`` (or ``.jsonl.gz``) and a ``tasks.json`` with the label names.
When no place has the task, one ``DataDirError`` names every place tried. Either way ``load_task`` returns a
``datasets.Dataset`` with ``"text"``/``"label"`` columns (or ``"tokens"``/``"tags"``) whose label feature is
a ``ClassLabel`` carrying the label names.

``make_loader`` tokenizes the texts once and pads each batch only to its longest sentence
("dynamic padding"): short sentences then cost far less than padding everything to ``max_length``.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch.utils.data import DataLoader

from course_lib.package_data import package_data_dir

if TYPE_CHECKING:
    from datasets import Dataset

DATA_ENV = "COURSE_DATA_DIR"
#: Seed of the shuffle that picks the ``limit`` rows of ``load_task``.
LIMIT_SEED = 0


class DataDirError(FileNotFoundError):
    """No place (data folder, the shipped data, the Hugging Face hub) could provide a task."""


@dataclass(frozen=True)
class TaskSpec:
    """Where a task lives on the Hugging Face hub, and how its columns map to ours."""

    hub_id: str
    num_labels: int
    kind: str
    splits: dict[str, str]  # our split name -> hub split (expression)
    hub_config: str | None = None
    text_column: str = "text"  # for token tasks: the hub's column of word lists
    label_column: str = "label"  # for token tasks: the hub's column of tag lists
    label_names: tuple[str, ...] | None = None  # None: take them from tasks.json / the hub
    carve_validation: int = 0  # >0: our train/validation are a seeded split of the hub's train
    note: str = ""
    format: str = "text"  # "text": {"text", "label"} rows; "tokens": {"tokens", "tags"} rows

    @property
    def hub_name(self) -> str:
        return f"{self.hub_id} (config {self.hub_config!r})" if self.hub_config else self.hub_id


_BINARY = ("negative", "positive")
_TRAIN_VAL_AS_TEST = {"train": "train", "validation": "test"}
_THREE_SPLITS = {"train": "train", "validation": "validation", "test": "test"}
_CONLL_TAGS = ("O", "B-LOC", "I-LOC", "B-MISC", "I-MISC", "B-ORG", "I-ORG", "B-PER", "I-PER")
_WNUT_TAGS = (
    "O",
    *(
        f"{bio}-{kind}"
        for kind in ("corporation", "creative-work", "group", "location", "person", "product")
        for bio in "BI"
    ),
)

#: The course tasks. ``label_names`` here are authoritative where given: subj's files follow SentEval's
#: convention 0 = subjective, 1 = objective (a plot summary such as "nha fala ... is the story of vita ..." is
#: label 1). The two named-entity sets use BIO tags in the order of ``_CONLL_TAGS`` / ``_WNUT_TAGS``.
TASKS: dict[str, TaskSpec] = {
    "sst2": TaskSpec(
        "nyu-mll/glue",
        2,
        "sentiment",
        {"train": "train", "validation": "validation"},
        hub_config="sst2",
        text_column="sentence",
        label_names=_BINARY,
    ),
    "ag_news": TaskSpec(
        "fancyzhx/ag_news",
        4,
        "topic",
        {"train": "train", "test": "test"},
        label_names=("World", "Sports", "Business", "Sci/Tech"),
        note="the course's train split is a 10,001-row subset; the hub's has 120,000 rows",
    ),
    "banking77": TaskSpec(
        "PolyAI/banking77",
        77,
        "intent",
        {"train": "train", "validation": "train", "test": "test"},
        carve_validation=1000,
        note="validation = 1,000 rows split off the hub's train (seed 0)",
    ),
    "subj": TaskSpec("SetFit/subj", 2, "subjectivity", _TRAIN_VAL_AS_TEST, label_names=("subjective", "objective")),
    "cr": TaskSpec("SetFit/CR", 2, "sentiment", _TRAIN_VAL_AS_TEST, label_names=_BINARY),
    "mr": TaskSpec(
        "cornell-movie-review-data/rotten_tomatoes",
        2,
        "sentiment",
        {"train": "train", "validation": "validation+test"},
        label_names=_BINARY,
    ),
    "mpqa": TaskSpec("SetFit/mpqa", 2, "opinion polarity", _TRAIN_VAL_AS_TEST, label_names=_BINARY),
    "cola": TaskSpec(
        "nyu-mll/glue",
        2,
        "acceptability",
        {"train": "train", "validation": "validation"},
        hub_config="cola",
        text_column="sentence",
        label_names=("unacceptable", "acceptable"),
    ),
    "conll2003": TaskSpec(
        "eriktks/conll2003",
        len(_CONLL_TAGS),
        "named entities",
        _THREE_SPLITS,
        text_column="tokens",
        label_column="ner_tags",
        label_names=_CONLL_TAGS,
        format="tokens",
        note="not shipped with the course (Reuters text): from COURSE_DATA_DIR or the hub",
    ),
    "wnut17": TaskSpec(
        "leondz/wnut_17",
        len(_WNUT_TAGS),
        "named entities",
        _THREE_SPLITS,
        text_column="tokens",
        label_column="ner_tags",
        label_names=_WNUT_TAGS,
        format="tokens",
    ),
}


def _task_spec(name: str) -> TaskSpec:
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; known tasks: {sorted(TASKS)}")
    return TASKS[name]


def shipped_data_dir() -> Path | None:
    """The folder of the data sets that ship with the course (``data/tasks``), or ``None`` if it is absent."""
    try:
        return package_data_dir("tasks")
    except FileNotFoundError:
        return None


def data_folders(data_dir: str | os.PathLike | None = None) -> list[tuple[Path, str]]:
    """The local folders ``load_task`` reads, in order, each with how it was chosen (for messages).

    A ``data_dir`` or ``COURSE_DATA_DIR`` that does not exist is an error, not a folder to skip: a typo in
    a path should not silently fall through to other data.
    """
    folders = []
    for value, origin in ((data_dir, "data_dir"), (os.environ.get(DATA_ENV, "").strip() or None, DATA_ENV)):
        if value is None:
            continue
        path = Path(value).expanduser()
        if not path.is_dir():
            raise DataDirError(
                f"{origin}={str(value)!r} is not a folder: point it at a folder that holds tasks.json "
                f"and <task>/<split>.jsonl, or unset it to use the data that ships with the course"
            )
        folders.append((path, f"{origin}={str(value)!r}"))
    shipped = shipped_data_dir()
    if shipped is not None:
        folders.append((shipped, "the data shipped with the course"))
    return folders


def _tasks_json(root: Path | None) -> dict:
    """The parsed ``tasks.json`` of ``root`` ({} when there is none)."""
    if root is None or not (root / "tasks.json").is_file():
        return {}
    with open(root / "tasks.json", encoding="utf-8") as f:
        return json.load(f)


def _label_names(name: str, roots: list[Path]) -> list[str] | None:
    """The task's label names: ``TASKS`` where it has them, else the first ``tasks.json`` that does."""
    spec = TASKS[name]
    if spec.label_names is not None:
        return list(spec.label_names)
    for root in roots:
        names = _tasks_json(root).get(name, {}).get("label_names")
        if names:
            return list(names)
    return None


def _split_file(root: Path, name: str, split: str) -> Path | None:
    for suffix in (".jsonl", ".jsonl.gz"):
        path = root / name / f"{split}{suffix}"
        if path.is_file():
            return path
    return None


def task_info(name: str, data_dir: str | os.PathLike | None = None) -> dict:
    """What we know about a task: kind, format, label names, number of labels, splits, sizes, hub id, and the
    folder ``load_task`` would read (``None``: the hub).

    ``label_names`` is ``None`` only for banking77 when no tasks.json is available.
    """
    spec = _task_spec(name)
    folders = [root for root, _ in data_folders(data_dir)]
    source = next((root for root in folders if _split_file(root, name, next(iter(spec.splits)))), None)
    entry: dict[str, Any] = next((_tasks_json(root)[name] for root in folders if name in _tasks_json(root)), {})
    return {
        "name": name,
        "kind": entry.get("kind", spec.kind),
        "format": spec.format,
        "label_names": _label_names(name, folders),
        "num_labels": spec.num_labels,
        "splits": list(spec.splits),
        "sizes": dict(entry.get("sizes", {})),
        "hub_id": spec.hub_id,
        "hub_config": spec.hub_config,
        "source": source,
        "note": spec.note,
    }


def label_feature(dataset: Dataset):
    """The ``ClassLabel`` of a ``load_task`` result (``label`` column, or the items of ``tags``)."""
    feature = dataset.features["tags" if "tags" in dataset.column_names else "label"]
    return getattr(feature, "feature", feature)


def _make_dataset(texts: list, labels: list, label_names: list[str], tokens: bool = False) -> Dataset:
    from datasets import ClassLabel, Dataset, Features, Sequence, Value  # imported here: `datasets` is slow to import

    if tokens:
        features = Features({"tokens": Sequence(Value("string")), "tags": Sequence(ClassLabel(names=label_names))})
        return Dataset.from_dict({"tokens": texts, "tags": labels}, features=features)
    features = Features({"text": Value("string"), "label": ClassLabel(names=label_names)})
    return Dataset.from_dict({"text": texts, "label": labels}, features=features)


def _parse_row(row: dict, tokens: bool, n_labels: int) -> tuple[str | list[str], int | list[int]]:
    """``(text, label)`` of a sentence row, ``(words, tags)`` of a token row; bad rows raise."""
    if tokens:
        words = [str(w) for w in row["tokens"]]
        tags = [int(t) for t in row["tags"]]
        if len(words) != len(tags):
            raise ValueError(f"{len(words)} tokens but {len(tags)} tags")
    else:
        tags = [int(row["label"])]
    bad = [t for t in tags if not 0 <= t < n_labels]
    if bad:
        raise ValueError(f"label {bad[0]} outside 0..{n_labels - 1}")
    return (words, tags) if tokens else (str(row["text"]), tags[0])


def read_jsonl(path: Path, label_names: list[str], tokens: bool = False) -> Dataset:
    texts, labels = [], []
    opener = gzip.open if path.suffix == ".gz" else open
    expected = "'tokens' and 'tags'" if tokens else "'text' and 'label'"
    with opener(path, "rt", encoding="utf-8") as f:
        try:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    text, label = _parse_row(json.loads(line), tokens, len(label_names))
                except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                    raise ValueError(f"{path}:{lineno}: expected a JSON object with {expected} ({exc})") from exc
                texts.append(text)
                labels.append(label)
        except (OSError, EOFError) as exc:  # a truncated or corrupt .gz
            raise ValueError(f"{path} is damaged ({exc}): restore it (git checkout, or reinstall the course)") from exc
    return _make_dataset(texts, labels, label_names, tokens)


def _norm(label_name: str) -> str:
    return str(label_name).strip().lower()


def _hub_label_names(raw: Dataset, spec: TaskSpec) -> dict[int, str]:
    """Hub label id -> label name, from a ClassLabel feature or a ``label_text`` column (SetFit)."""
    from datasets import ClassLabel

    feature = raw.features[spec.label_column]
    feature = getattr(feature, "feature", feature)  # a Sequence of ClassLabel for token tasks
    if isinstance(feature, ClassLabel):
        return dict(enumerate(feature.names))
    if "label_text" in raw.column_names:
        return {int(i): t for i, t in zip(raw[spec.label_column], raw["label_text"], strict=False)}
    return {}


def _hub_label_map(hub_names: dict[int, str], label_names: list[str]) -> dict[int, int] | None:
    """Map hub ids to our ids by label name; ``None`` (keep ids) if the names do not all match."""
    ours = [_norm(n) for n in label_names]
    if not hub_names or not all(_norm(n) in ours for n in hub_names.values()):
        return None
    return {i: ours.index(_norm(n)) for i, n in hub_names.items()}


def from_hub(name: str, split: str, label_names: list[str] | None = None) -> Dataset:
    """Download (or read from the hub cache) one split and convert it to the course's format."""
    import datasets

    spec = _task_spec(name)
    raw = datasets.load_dataset(spec.hub_id, spec.hub_config, split=spec.splits[split])
    if spec.carve_validation and split in ("train", "validation"):
        parts = raw.train_test_split(test_size=spec.carve_validation, seed=LIMIT_SEED)
        raw = parts["train" if split == "train" else "test"]
    hub_names = _hub_label_names(raw, spec)
    if label_names is None:
        label_names = list(spec.label_names) if spec.label_names else sorted(hub_names.values())
    mapping = _hub_label_map(hub_names, label_names) or {}
    if spec.format == "tokens":
        tag_lists = [[mapping.get(int(t), int(t)) for t in tags] for tags in raw[spec.label_column]]
        words = [[str(w) for w in sentence] for sentence in raw[spec.text_column]]
        return _make_dataset(words, tag_lists, label_names, True)
    labels = [mapping.get(int(label), int(label)) for label in raw[spec.label_column]]
    return _make_dataset([str(t) for t in raw[spec.text_column]], labels, label_names)


def load_task(
    name: str,
    split: str = "train",
    limit: int | None = None,
    data_dir: str | os.PathLike | None = None,
) -> Dataset:
    """Load one split of a course task as a ``datasets.Dataset``: columns ``text`` and ``label`` (sentence
    tasks) or ``tokens`` and ``tags`` (named entities, ``task_info(name)["format"] == "tokens"``).

    Reads ``<task>/<split>.jsonl`` (or ``.jsonl.gz``) from the first of: ``data_dir``, ``$COURSE_DATA_DIR``,
    the data that ships with the course; else the Hugging Face hub. If none has it, raises ``DataDirError``
    naming every place tried.

    ``limit`` keeps ``limit`` rows picked by a fixed shuffle (seed 0), so a small subset still mixes
    the labels (the files are often sorted by label) and is the same on every run; the first ``n``
    rows of ``limit=m`` are exactly the rows of ``limit=n``. Without ``limit`` the file order is kept.
    """
    spec = _task_spec(name)
    if split not in spec.splits:
        raise ValueError(f"unknown split {split!r} for task {name!r}; known splits: {list(spec.splits)}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0):
        raise ValueError(f"limit must be a positive integer or None, got {limit!r}")

    folders = data_folders(data_dir)
    label_names = _label_names(name, [root for root, _ in folders])
    tried = []
    dataset = None
    for root, origin in folders:
        path = _split_file(root, name, split)
        if path is None:
            tried.append(f"{origin}: no {root / name / split}.jsonl")
            continue
        if label_names is None:
            raise DataDirError(f"{root / 'tasks.json'} is missing or has no label_names for {name!r} ({origin})")
        dataset = read_jsonl(path, label_names, tokens=spec.format == "tokens")
        break
    if dataset is None:
        if not any(origin == "the data shipped with the course" for _, origin in folders):
            tried.append("the data shipped with the course: not found (data/tasks, or course_lib/_data/tasks)")
        try:
            dataset = from_hub(name, split, label_names)
        except Exception as exc:  # offline, unknown repo, changed columns, ...
            tried.append(f"the Hugging Face hub, {spec.hub_name}: {type(exc).__name__}: {str(exc)[:300]}")
            env = "" if os.environ.get(DATA_ENV) else f"{DATA_ENV} is not set; "
            raise DataDirError(
                f"could not load task {name!r} split {split!r}. Tried, in order:\n  - "
                + "\n  - ".join(tried)
                + f"\n{env}Set {DATA_ENV} to a folder that holds tasks.json and {name}/{split}.jsonl, or go online "
                "(unset HF_HUB_OFFLINE) so that the hub can be reached."
            ) from exc

    if limit is not None:
        dataset = dataset.shuffle(seed=LIMIT_SEED).select(range(min(limit, len(dataset))))
    return dataset


class EncodedTexts(torch.utils.data.Dataset):
    """Tokenized texts (and labels, if any: one per text, or one per word piece for token tasks) in memory;
    item ``i`` is one unpadded example."""

    def __init__(self, encodings: dict[str, list], labels: list[int] | list[list[int]] | None = None):
        self.encodings = encodings
        self.labels = labels

    def __len__(self) -> int:
        return len(self.encodings["input_ids"])

    def __getitem__(self, i: int) -> dict:
        item = {key: values[i] for key, values in self.encodings.items()}
        if self.labels is not None:
            item["labels"] = self.labels[i]
        return item


def check_batch_size(batch_size) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    return batch_size


def truncation_length(max_length: int, tokenizer) -> int:
    """``max_length``, but at most the tokenizer's ``model_max_length`` (when it states a real one)."""
    model_max = getattr(tokenizer, "model_max_length", None)
    if isinstance(model_max, int) and model_max < 100_000:
        return min(max_length, model_max)
    return max_length


def _padding_collator(tokenizer):
    from transformers import DataCollatorWithPadding  # here: transformers is slow to import

    return DataCollatorWithPadding(tokenizer)


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
    check_batch_size(batch_size)
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

    encodings = dict(tokenizer(texts, truncation=True, max_length=truncation_length(max_length, tokenizer)))
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(
        EncodedTexts(encodings, labels),
        batch_size=batch_size,
        shuffle=shuffle,
        generator=generator,
        collate_fn=_padding_collator(tokenizer),
    )


__all__ = [
    "load_task",
    "task_info",
    "make_loader",
    "DataDirError",
    "TASKS",
    "TaskSpec",
    "DATA_ENV",
    "EncodedTexts",
    "data_folders",
    "shipped_data_dir",
    "from_hub",
    "label_feature",
    "read_jsonl",
]
