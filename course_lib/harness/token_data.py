"""Token classification data: word-level tags carried onto the tokenizer's word pieces, and back.

A NER data set tags words (``{"tokens": [...], "tags": [...]}``, as ``load_task("wnut17")`` returns),
but the model sees word pieces: "Ouagadougou" becomes ``ou ##aga ##dou ##go ##u`` (MiniLM's tokenizer). The usual convention
(Devlin et al. 2019, section 5.3) gives the word's tag to its first piece and ``-100`` (ignored by the
cross-entropy) to its other pieces and to the special tokens ``[CLS]`` and ``[SEP]``. A word's
prediction is then read from its first piece.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.utils.data import DataLoader

from ..sft import IGNORE_INDEX
from .data import EncodedTexts, check_batch_size, truncation_length


def align_labels(word_ids: Sequence[int | None], word_tags: Sequence[int]) -> list[int]:
    """One label per word piece: the word's tag on its first piece, ``-100`` on its other pieces and on
    special tokens (``word_ids`` entries that are ``None``). ``word_ids`` is what a fast tokenizer's
    ``encoding.word_ids()`` gives; words cut off by truncation simply have no piece."""
    labels, previous = [], None
    for word in word_ids:
        if word is None:
            labels.append(IGNORE_INDEX)
        elif not 0 <= word < len(word_tags):
            raise ValueError(f"word id {word} has no tag: the sentence has {len(word_tags)} tags")
        else:
            labels.append(int(word_tags[word]) if word != previous else IGNORE_INDEX)
        previous = word
    return labels


def first_piece_predictions(
    word_ids: Sequence[int | None], piece_predictions: Sequence[int], n_words: int
) -> list[int]:
    """Per-word predictions read from each word's first piece; words with no piece (cut off by truncation)
    get ``-1``, so that the caller decides what they count as."""
    if len(word_ids) != len(piece_predictions):
        raise ValueError(f"{len(word_ids)} word ids but {len(piece_predictions)} piece predictions")
    words = [-1] * n_words
    previous = None
    for word, prediction in zip(word_ids, piece_predictions, strict=True):
        if word is not None and word != previous:
            if not 0 <= word < n_words:
                raise ValueError(f"word id {word} is outside the sentence's {n_words} words")
            words[word] = int(prediction)
        previous = word
    return words


def _columns(dataset) -> tuple[list[list[str]], list[list[int]] | None]:
    columns = getattr(dataset, "column_names", None) or list(dataset.keys())
    if "tokens" not in columns:
        raise ValueError(f"a token classification data set needs a 'tokens' column, got columns {columns}")
    words = [list(map(str, ws)) for ws in dataset["tokens"]]
    tags = [list(map(int, ts)) for ts in dataset["tags"]] if "tags" in columns else None
    if tags is not None:
        for i, (ws, ts) in enumerate(zip(words, tags, strict=True)):
            if len(ws) != len(ts):
                raise ValueError(f"sentence {i} has {len(ws)} words but {len(ts)} tags")
    return words, tags


def encode_words(
    dataset, tokenizer, max_length: int = 128, align: Callable | None = None
) -> tuple[EncodedTexts, list[list[int | None]]]:
    """Tokenize pre-split sentences (``"tokens"``, and ``"tags"`` when present) into word pieces with aligned
    labels: ``(encoded, word_ids)``, ``word_ids[i]`` mapping sentence ``i``'s pieces back to its words.
    ``align(word_ids, word_tags) -> labels`` replaces ``align_labels`` (notebook 08 passes the learner's)."""
    if align is not None and not callable(align):
        raise ValueError(f"align must be a function (word_ids, word_tags) -> labels, got {align!r}")
    align = align_labels if align is None else align
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length <= 2:
        raise ValueError(f"max_length must be an integer > 2, got {max_length!r}")
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError("aligning tags to word pieces needs a fast tokenizer (one with word_ids())")
    words, tags = _columns(dataset)
    if not words:
        raise ValueError("dataset is empty")
    batch = tokenizer(
        words, is_split_into_words=True, truncation=True, max_length=truncation_length(max_length, tokenizer)
    )
    word_ids = [batch.word_ids(i) for i in range(len(words))]
    labels = None if tags is None else [list(align(ids, ts)) for ids, ts in zip(word_ids, tags, strict=True)]
    if labels is not None:
        for i, (ids, row) in enumerate(zip(word_ids, labels, strict=True)):
            if len(row) != len(ids):
                raise ValueError(f"align gave {len(row)} labels for sentence {i}'s {len(ids)} word pieces")
    return EncodedTexts(dict(batch), labels), word_ids


def make_token_loader(
    dataset,
    tokenizer,
    batch_size: int = 32,
    shuffle: bool = False,
    max_length: int = 128,
    seed: int = 0,
    align: Callable | None = None,
) -> DataLoader:
    """A DataLoader of padded token classification batches (``labels`` padded with ``-100``); ``align`` as in
    ``encode_words``."""
    check_batch_size(batch_size)
    from transformers import DataCollatorForTokenClassification  # here: transformers is slow to import

    encoded, _ = encode_words(dataset, tokenizer, max_length=max_length, align=align)
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(
        encoded,
        batch_size=batch_size,
        shuffle=shuffle,
        generator=generator,
        collate_fn=DataCollatorForTokenClassification(tokenizer, label_pad_token_id=IGNORE_INDEX),
    )


def load_token_model(name: str = "minilm", num_labels: int = 2, seed: int = 0):
    """A token classifier (``BertForTokenClassification``: the encoder, dropout and a new ``classifier``
    ``Linear(hidden, num_labels)`` applied to every token) and its tokenizer, like ``load_model`` for
    sentences: ``name`` is ``"minilm"`` or ``"tiny-bert"``, ``seed`` fixes the new head. Eval mode."""
    if isinstance(num_labels, bool) or not isinstance(num_labels, int) or num_labels < 1:
        raise ValueError(f"num_labels must be a positive integer, got {num_labels!r}")
    if not isinstance(name, str) or name.lower() not in ("minilm", "all-minilm-l6-v2", "tiny-bert"):
        raise ValueError(f"name must be 'minilm' or 'tiny-bert', got {name!r}")
    from transformers import AutoTokenizer, BertForTokenClassification

    from .models import minilm_path, quiet_transformers, tiny_bert_config

    with torch.random.fork_rng(devices=[]), quiet_transformers():
        torch.manual_seed(seed)
        tokenizer = AutoTokenizer.from_pretrained(minilm_path(), local_files_only=True)
        if name.lower() == "tiny-bert":
            tokenizer.model_max_length = 128  # the tiny model has 128 position embeddings
            model = BertForTokenClassification(tiny_bert_config(num_labels=num_labels))
        else:
            model = BertForTokenClassification.from_pretrained(
                minilm_path(), num_labels=num_labels, local_files_only=True
            )
    return model.eval(), tokenizer


@torch.inference_mode()
def predict_word_tags(
    model: nn.Module, dataset, tokenizer, batch_size: int = 64, max_length: int = 128, missing: int = 0
) -> list[list[int]]:
    """The tag id ``model`` predicts for every word of every sentence of ``dataset`` (read from each word's
    first piece); words cut off by truncation get ``missing`` (tag 0, ``"O"``, by default)."""
    check_batch_size(batch_size)
    encoded, word_ids = encode_words(dataset, tokenizer, max_length=max_length)
    n_words = [len(ws) for ws in dataset["tokens"]]
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    words: list[list[int]] = []
    try:
        for start in range(0, len(encoded), batch_size):
            rows = [encoded[i] for i in range(start, min(start + batch_size, len(encoded)))]
            batch = tokenizer.pad(
                [{k: v for k, v in row.items() if k != "labels"} for row in rows], return_tensors="pt"
            )
            out = model(**{k: v.to(device) for k, v in batch.items()})
            logits = out.logits if hasattr(out, "logits") else out
            pieces = logits.argmax(dim=-1).cpu()
            for j, row in enumerate(rows):
                i = start + j
                length = len(row["input_ids"])
                tags = first_piece_predictions(word_ids[i], pieces[j, :length].tolist(), n_words[i])
                words.append([missing if t < 0 else t for t in tags])
    finally:
        model.train(was_training)
    return words


__all__ = [
    "align_labels",
    "first_piece_predictions",
    "encode_words",
    "make_token_loader",
    "load_token_model",
    "predict_word_tags",
]
