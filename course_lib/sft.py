"""Supervised fine-tuning (SFT) of a decoder on (prompt, response) pairs: the batch and the loss.

A causal language model is trained to predict every next token. For instruction tuning we want it to learn
the *responses* only, not to reproduce the prompts, so each example is the prompt's tokens followed by the
response's (and an end-of-sequence token), and its labels are the input ids with the prompt's positions set
to ``-100``, the label the loss ignores. Padding (to the longest example of the batch, on the right) gets
attention mask 0 and label ``-100`` too::

    input_ids       p1 p2 p3 r1 r2 eos pad pad
    attention_mask   1  1  1  1  1  1   0   0
    labels        -100 -100 -100 r1 r2 eos -100 -100

A Hugging Face causal LM shifts the labels itself (the logits at position ``t`` predict the label at ``t + 1``)
and averages the cross-entropy over the labels that are not ``-100``: ``response_loss`` computes that by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import torch
import torch.nn.functional as F

#: The label of a position the loss ignores (PyTorch's ``cross_entropy`` default, as Hugging Face uses it).
IGNORE_INDEX = -100


def _token_ids(what: str, ids) -> list[int]:
    if isinstance(ids, torch.Tensor):
        ids = ids.tolist()
    if isinstance(ids, (str, bytes)) or not isinstance(ids, Sequence):
        raise ValueError(f"{what} must be a list of token ids (or text with encode=...), got {type(ids).__name__}")
    if not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in ids):
        raise ValueError(f"{what} must hold non-negative integer token ids, got {list(ids)[:8]}")
    return list(ids)


def sft_example(prompt_ids: Sequence[int], response_ids: Sequence[int], eos_id: int | None = None) -> dict:
    """One example: ``input_ids`` = prompt + response (+ ``eos_id``), ``labels`` = the same with the prompt
    masked (``-100``). Plain lists; ``sft_batch`` pads and stacks them."""
    prompt, response = _token_ids("prompt_ids", prompt_ids), _token_ids("response_ids", response_ids)
    if eos_id is not None:
        response = [*response, *_token_ids("eos_id", [eos_id])]
    if not response:
        raise ValueError("response_ids is empty: an example with no response token has nothing to learn")
    return {"input_ids": prompt + response, "labels": [IGNORE_INDEX] * len(prompt) + response}


def sft_batch(
    pairs: Iterable[tuple],
    pad_id: int,
    encode: Callable[[str], Sequence[int]] | None = None,
    eos_id: int | None = None,
    max_length: int | None = None,
) -> dict[str, torch.Tensor]:
    """``input_ids``, ``attention_mask`` and ``labels`` (``(batch, length)`` tensors) for ``(prompt, response)``
    pairs, padded on the right to the longest example with ``pad_id``.

    The pairs are token-id lists, or strings when ``encode`` (text -> ids, e.g. a tokenizer's ``encode``) is
    given. ``eos_id`` is appended to every response. ``max_length`` cuts examples from the right (the end of the
    response goes first); an example left without a response token raises a ``ValueError``.
    """
    if isinstance(pad_id, bool) or not isinstance(pad_id, int) or pad_id < 0:
        raise ValueError(f"pad_id must be a non-negative integer token id, got {pad_id!r}")
    if max_length is not None and (isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 2):
        raise ValueError(f"max_length must be an integer >= 2 or None, got {max_length!r}")
    examples = []
    for number, pair in enumerate(pairs):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"pair {number} must be a (prompt, response) pair, got {pair!r}")
        prompt, response = pair
        if encode is not None:
            prompt, response = encode(prompt), encode(response)
        example = sft_example(prompt, response, eos_id)
        if max_length is not None:
            example = {key: values[:max_length] for key, values in example.items()}
            if all(label == IGNORE_INDEX for label in example["labels"]):
                raise ValueError(
                    f"pair {number}: its prompt alone fills max_length={max_length}; no response token is left"
                )
        examples.append(example)
    if not examples:
        raise ValueError("pairs is empty")
    length = max(len(e["input_ids"]) for e in examples)
    batch: dict[str, list[list[int]]] = {"input_ids": [], "attention_mask": [], "labels": []}
    for e in examples:
        pad = length - len(e["input_ids"])
        batch["input_ids"].append(e["input_ids"] + [pad_id] * pad)
        batch["attention_mask"].append([1] * len(e["input_ids"]) + [0] * pad)
        batch["labels"].append(e["labels"] + [IGNORE_INDEX] * pad)
    return {key: torch.tensor(rows, dtype=torch.long) for key, rows in batch.items()}


def response_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The mean cross-entropy of a causal LM over the labelled (response) tokens, by hand: the logits at
    position ``t`` predict the label at ``t + 1``; positions labelled ``-100`` count for nothing."""
    if logits.dim() != 3 or labels.shape != logits.shape[:2]:
        raise ValueError(
            f"expected logits (batch, length, vocab) and labels (batch, length), got {tuple(logits.shape)} "
            f"and {tuple(labels.shape)}"
        )
    predicted, target = logits[:, :-1].float(), labels[:, 1:]
    counted = target != IGNORE_INDEX
    if not counted.any():
        raise ValueError("no label is counted (all are -100): the loss is undefined")
    log_probs = F.log_softmax(predicted, dim=-1)
    picked = log_probs.gather(-1, target.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return -(picked * counted).sum() / counted.sum()


__all__ = ["IGNORE_INDEX", "sft_example", "sft_batch", "response_loss"]
