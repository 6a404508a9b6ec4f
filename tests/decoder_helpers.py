"""A tiny random GPT-2 for the decoder tests (tests/test_decoder.py, tests/test_prompting.py)."""

from __future__ import annotations

import copy
import functools

import torch

VOCAB = 100
WIDTH = 32
LAYERS = 2


def tiny_gpt2_config(**overrides):
    """A GPT-2 config small enough to build and run in milliseconds: 2 layers, width 32, 4 heads, 100 tokens."""
    from transformers import GPT2Config

    settings = dict(
        vocab_size=VOCAB,
        n_embd=WIDTH,
        n_layer=LAYERS,
        n_head=4,
        n_positions=64,
        bos_token_id=VOCAB - 1,
        eos_token_id=VOCAB - 1,
    )
    settings.update(overrides)
    return GPT2Config(**settings)


def tiny_gpt2(head: bool = True, seed: int = 0):
    """A tiny random ``GPT2LMHeadModel`` (or, ``head=False``, ``GPT2Model``) in eval mode: a fresh copy of one
    built once per seed (building one takes longer than copying it)."""
    return copy.deepcopy(_built(head, seed))


@functools.cache
def _built(head: bool, seed: int):
    from transformers import GPT2LMHeadModel, GPT2Model

    torch.manual_seed(seed)
    return (GPT2LMHeadModel if head else GPT2Model)(tiny_gpt2_config()).eval()


def gpt2_batch() -> dict[str, torch.Tensor]:
    """Token ids, an attention mask with right padding in the second row, and labels (-100 on the padding)."""
    g = torch.Generator().manual_seed(1)
    input_ids = torch.randint(0, VOCAB - 1, (3, 9), generator=g)
    attention_mask = torch.ones_like(input_ids)
    attention_mask[1, 6:] = 0
    labels = input_ids.masked_fill(attention_mask == 0, -100)
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


def output_of(model, batch) -> torch.Tensor:
    """The logits of an LM head model, the last hidden states of a bare GPT2Model."""
    with torch.no_grad():
        out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
    return out.logits if hasattr(out, "logits") else out.last_hidden_state


def perturb(module: torch.nn.Module, seed: int = 0, std: float = 0.5) -> None:
    """Move every parameter of ``module`` far from its init (an adapter at init is an exact no-op)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(torch.randn(p.shape, generator=g) * std)
