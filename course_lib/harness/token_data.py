"""Token classification data: word-level tags carried onto the tokenizer's word pieces, and back.

A NER data set tags words (``{"tokens": [...], "tags": [...]}``, as ``load_task("wnut17")`` returns),
but the model sees word pieces: "Ouagadougou" becomes ``ou ##aga ##dou ##go ##u`` (MiniLM's tokenizer). The usual convention
(Devlin et al. 2019, section 5.3) gives the word's tag to its first piece and ``-100`` (ignored by the
cross-entropy) to its other pieces and to the special tokens ``[CLS]`` and ``[SEP]``. A word's
prediction is then read from its first piece.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
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


def encode_words(dataset, tokenizer, max_length: int = 128) -> tuple[EncodedTexts, list[list[int | None]]]:
    """Tokenize pre-split sentences (``"tokens"``, and ``"tags"`` when present) into word pieces with aligned
    labels: ``(encoded, word_ids)``, ``word_ids[i]`` mapping sentence ``i``'s pieces back to its words."""
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
    labels = None if tags is None else [align_labels(ids, ts) for ids, ts in zip(word_ids, tags, strict=True)]
    return EncodedTexts(dict(batch), labels), word_ids


def make_token_loader(
    dataset, tokenizer, batch_size: int = 32, shuffle: bool = False, max_length: int = 128, seed: int = 0
) -> DataLoader:
    """A DataLoader of padded token classification batches (``labels`` padded with ``-100``)."""
    check_batch_size(batch_size)
    from transformers import DataCollatorForTokenClassification  # here: transformers is slow to import

    encoded, _ = encode_words(dataset, tokenizer, max_length=max_length)
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(
        encoded,
        batch_size=batch_size,
        shuffle=shuffle,
        generator=generator,
        collate_fn=DataCollatorForTokenClassification(tokenizer, label_pad_token_id=IGNORE_INDEX),
    )


__all__ = ["align_labels", "first_piece_predictions", "encode_words", "make_token_loader"]
