"""Prompt tuning and prefix tuning of a Hugging Face decoder (GPT-2): the model stays as it is, a wrapper puts
learned vectors (``course_lib.adapters.prompt``) in front of every sequence.

* ``PromptTuning(model, n_tokens)``: the soft prompt's ``n`` vectors are prepended to the input embeddings; the
  attention mask gets ``n`` ones in front and the labels ``n`` times ``-100`` (the virtual tokens are never
  predicted). The virtual tokens take positions ``0 … n-1``, the real ones ``n …``. This is what PEFT's
  ``PromptTuningConfig`` + ``get_peft_model`` computes for a causal LM (tests/test_prompting.py checks it).
* ``PrefixTuning(model, n_tokens)``: the prefix's keys and values are handed to the model as a key/value cache
  of ``n`` earlier tokens (``cache``, formerly ``past_key_values``), in every layer; the attention mask gets ``n`` ones in front, the
  labels are unchanged (the model outputs logits for the real tokens only). Like PEFT's ``PrefixTuningConfig``.

Both wrappers are ``nn.Module``s that pass every other argument through to the model, and work with the rest of
course_lib: ``freeze_base(wrapper)`` freezes the model and leaves the prompt trainable, ``count_parameters``
counts the prompt in its own group, ``"prompt"``.
"""

from __future__ import annotations

import inspect
from typing import Any

import torch
from torch import nn

from .adapters.prompt import PrefixEncoder, SoftPrompt
from .sft import IGNORE_INDEX  # the label of a position the loss ignores


def _config_size(model: nn.Module, *names: str) -> int:
    config = getattr(model, "config", None)
    for name in names:
        value = getattr(config, name, None)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    raise ValueError(
        f"unsupported model {type(model).__name__}: expected a Hugging Face model whose config has {' or '.join(names)}"
    )


def _batch_size(input_ids: torch.Tensor | None, inputs_embeds: torch.Tensor | None) -> int:
    if (input_ids is None) == (inputs_embeds is None):
        raise ValueError("pass exactly one of input_ids and inputs_embeds")
    tensor = input_ids if input_ids is not None else inputs_embeds
    assert tensor is not None
    if tensor.dim() < 2:
        raise ValueError(f"expected a batch of shape (batch, length), got shape {tuple(tensor.shape)}")
    return tensor.shape[0]


def extend_mask(attention_mask: torch.Tensor | None, n_tokens: int) -> torch.Tensor | None:
    """``attention_mask`` with ``n_tokens`` ones in front (``None`` stays ``None``: everything is attended)."""
    if attention_mask is None:
        return None
    ones = torch.ones(attention_mask.shape[0], n_tokens, dtype=attention_mask.dtype, device=attention_mask.device)
    return torch.cat([ones, attention_mask], dim=1)


def extend_labels(labels: torch.Tensor | None, n_tokens: int) -> torch.Tensor | None:
    """``labels`` with ``n_tokens`` times ``IGNORE_INDEX`` in front (``None`` stays ``None``)."""
    if labels is None:
        return None
    ignored = torch.full((labels.shape[0], n_tokens), IGNORE_INDEX, dtype=labels.dtype, device=labels.device)
    return torch.cat([ignored, labels], dim=1)


class _PromptWrapper(nn.Module):
    """What both wrappers share: the model (``self.model``) and the views course_lib reads of it."""

    model: Any  # a Hugging Face model (GPT2LMHeadModel, ...)

    def __init__(self, model: nn.Module):
        super().__init__()
        if not isinstance(model, nn.Module) or not callable(getattr(model, "get_input_embeddings", None)):
            raise ValueError(
                f"unsupported model {type(model).__name__}: expected a Hugging Face model "
                "(GPT2LMHeadModel, GPT2Model, ...)"
            )
        self.model = model

    @property
    def config(self) -> Any:
        return self.model.config

    @property
    def base_model(self) -> nn.Module:
        """The wrapped model's base (so ``count_parameters`` tells the base, the head and the prompt apart)."""
        return self.model.base_model

    def get_input_embeddings(self) -> Any:
        return self.model.get_input_embeddings()


class PromptTuning(_PromptWrapper):
    """``model`` with a soft prompt of ``n_tokens`` virtual tokens (``self.prompt``, a ``SoftPrompt``).

    ``init_from`` optionally gives the starting vectors (``(n_tokens, d_model)``), e.g. the embeddings of a
    few real tokens: ``model.get_input_embeddings().weight[ids]``.
    """

    def __init__(self, model: nn.Module, n_tokens: int, init_from: torch.Tensor | None = None):
        super().__init__(model)
        d_model = _config_size(model, "hidden_size", "n_embd")
        weight = self.get_input_embeddings().weight
        self.prompt = SoftPrompt(n_tokens, d_model, init_from).to(device=weight.device, dtype=weight.dtype)

    @property
    def n_tokens(self) -> int:
        return self.prompt.n_tokens

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        **kwargs,
    ):
        batch = _batch_size(input_ids, inputs_embeds)
        if "past_key_values" in kwargs or "position_ids" in kwargs:
            raise ValueError("PromptTuning computes the positions itself and takes no past_key_values/position_ids")
        if inputs_embeds is None:
            inputs_embeds = self.model.get_input_embeddings()(input_ids)
        prompt = self.prompt(batch).to(inputs_embeds.dtype)
        return self.model(
            inputs_embeds=torch.cat([prompt, inputs_embeds], dim=1),
            attention_mask=extend_mask(attention_mask, self.n_tokens),
            labels=extend_labels(labels, self.n_tokens),
            **kwargs,
        )


class PrefixTuning(_PromptWrapper):
    """``model`` with a learned prefix of ``n_tokens`` keys and values in every layer (``self.prefix``, a
    ``PrefixEncoder``; ``projection_hidden`` adds Li & Liang's MLP reparametrisation)."""

    def __init__(self, model: nn.Module, n_tokens: int, projection_hidden: int | None = None):
        super().__init__(model)
        d_model = _config_size(model, "hidden_size", "n_embd")
        n_layers = _config_size(model, "num_hidden_layers", "n_layer")
        n_heads = _config_size(model, "num_attention_heads", "n_head")
        weight = self.get_input_embeddings().weight
        self.prefix = PrefixEncoder(n_tokens, n_layers, n_heads, d_model, projection_hidden).to(
            device=weight.device, dtype=weight.dtype
        )

    @property
    def n_tokens(self) -> int:
        return self.prefix.n_tokens

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        **kwargs,
    ):
        from transformers import DynamicCache  # here, not at import: course_lib.api must not import transformers

        batch = _batch_size(input_ids, inputs_embeds)
        if "past_key_values" in kwargs or "cache" in kwargs:
            raise ValueError("PrefixTuning passes its prefix as the key/value cache; pass no past_key_values/cache")
        if attention_mask is None:
            tensor = input_ids if input_ids is not None else inputs_embeds
            assert tensor is not None
            attention_mask = torch.ones(tensor.shape[:2], dtype=torch.long, device=tensor.device)
        return self.model(
            input_ids=input_ids,
            inputs_embeds=inputs_embeds,
            attention_mask=extend_mask(attention_mask, self.n_tokens),
            labels=labels,
            **{self._cache_argument: DynamicCache(self.prefix(batch))},
            **kwargs,
        )

    @property
    def _cache_argument(self) -> str:
        """The name the model's ``forward`` takes a key/value cache under: ``cache`` since transformers 5.x
        (``past_key_values`` before, deprecated now)."""
        return "cache" if "cache" in inspect.signature(self.model.forward).parameters else "past_key_values"


__all__ = [
    "IGNORE_INDEX",
    "SoftPrompt",
    "PrefixEncoder",
    "PromptTuning",
    "PrefixTuning",
    "extend_mask",
    "extend_labels",
]
