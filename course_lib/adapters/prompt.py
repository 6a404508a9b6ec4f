"""Prompt tuning and prefix tuning, the layers: learned vectors in front of a sequence instead of new weights
inside the model. ``course_lib.prompting`` puts them in front of a model's input.

* ``SoftPrompt`` (prompt tuning, Lester et al. 2021): ``n`` virtual tokens, an ``(n, d)`` matrix of learned
  input embeddings prepended to the embeddings of the real tokens. Only the input of the first layer changes:
  ``n·d`` parameters in all.
* ``PrefixEncoder`` (prefix tuning, Li & Liang 2021): ``n`` learned keys and values *in every layer*, which
  every real token can attend to as if ``n`` earlier tokens had produced them: ``n·L·2·d`` parameters for ``L``
  layers. Li & Liang train them through a reparametrisation, a small MLP ``P = MLP(P')`` from an ``(n, d)``
  matrix ``P'`` (``projection_hidden=h``): ``n·d + (d·h + h) + (h·2Ld + 2Ld)`` parameters while training, and
  only the ``n·L·2·d`` of ``P`` are needed afterwards.

Both have the parameter layout of PEFT's ``PromptEmbedding`` and ``PrefixEncoder`` (the same numbers, so the same
vectors can be copied across; tests/test_prompting.py checks the outputs are equal).
"""

from __future__ import annotations

import torch
from torch import nn

from .bottleneck import check_size

#: Standard deviation of a fresh soft prompt or prefix (GPT-2's ``initializer_range``).
PROMPT_INIT_STD = 0.02


class SoftPrompt(nn.Module):
    """``n_tokens`` learned input embeddings of width ``d_model`` (``self.weight``, shape ``(n_tokens, d_model)``).

    ``init_from`` (optional, shape ``(n_tokens, d_model)``) gives the starting vectors, e.g. the embeddings of
    real tokens (Lester et al.'s best initialisation); otherwise they are drawn from N(0, 0.02²).
    """

    def __init__(self, n_tokens: int, d_model: int, init_from: torch.Tensor | None = None):
        super().__init__()
        self.n_tokens = check_size("n_tokens", n_tokens)
        self.d_model = check_size("d_model", d_model)
        if init_from is None:
            weight = torch.randn(n_tokens, d_model) * PROMPT_INIT_STD
        else:
            if not isinstance(init_from, torch.Tensor) or tuple(init_from.shape) != (n_tokens, d_model):
                shape = tuple(init_from.shape) if isinstance(init_from, torch.Tensor) else type(init_from).__name__
                raise ValueError(f"init_from must be a tensor of shape ({n_tokens}, {d_model}), got {shape}")
            weight = init_from.detach().clone().float()
        self.weight = nn.Parameter(weight)

    def forward(self, batch_size: int) -> torch.Tensor:
        """The prompt for a batch: ``(batch_size, n_tokens, d_model)``."""
        return self.weight.unsqueeze(0).expand(check_size("batch_size", batch_size), -1, -1)

    def extra_repr(self) -> str:
        return f"n_tokens={self.n_tokens}, d_model={self.d_model}"


class PrefixEncoder(nn.Module):
    """Learned keys and values for ``n_tokens`` virtual tokens in each of ``n_layers`` attention layers.

    Without ``projection_hidden`` the prefix is one parameter ``self.prefix`` of shape
    ``(n_tokens, n_layers · 2 · d_model)``; with it, ``self.prefix`` is ``(n_tokens, d_model)`` and
    ``self.projection`` (``Linear(d, h)``, ``tanh``, ``Linear(h, 2Ld)``) maps it to that shape.
    """

    def __init__(self, n_tokens: int, n_layers: int, n_heads: int, d_model: int, projection_hidden: int | None = None):
        super().__init__()
        self.n_tokens = check_size("n_tokens", n_tokens)
        self.n_layers = check_size("n_layers", n_layers)
        self.n_heads = check_size("n_heads", n_heads)
        self.d_model = check_size("d_model", d_model)
        if d_model % n_heads:
            raise ValueError(f"d_model={d_model} must be divisible by n_heads={n_heads}")
        width = n_layers * 2 * d_model
        self.projection: nn.Module | None
        if projection_hidden is None:
            self.prefix = nn.Parameter(torch.randn(n_tokens, width) * PROMPT_INIT_STD)
            self.projection = None
        else:
            hidden = check_size("projection_hidden", projection_hidden)
            self.prefix = nn.Parameter(torch.randn(n_tokens, d_model) * PROMPT_INIT_STD)
            self.projection = nn.Sequential(nn.Linear(d_model, hidden), nn.Tanh(), nn.Linear(hidden, width))

    def forward(self, batch_size: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """One ``(key, value)`` pair per layer, each ``(batch_size, n_heads, n_tokens, d_model / n_heads)``:
        the layout of a Hugging Face key/value cache."""
        check_size("batch_size", batch_size)
        flat = self.prefix if self.projection is None else self.projection(self.prefix)  # (n, L·2·d)
        n, heads = self.n_tokens, self.n_heads
        per_head = flat.view(n, 2 * self.n_layers, heads, self.d_model // heads).permute(1, 2, 0, 3)  # (2L, H, n, dh)
        per_head = per_head.unsqueeze(1).expand(-1, batch_size, -1, -1, -1)  # (2L, B, H, n, dh)
        return [(per_head[2 * i], per_head[2 * i + 1]) for i in range(self.n_layers)]

    def extra_repr(self) -> str:
        return f"n_tokens={self.n_tokens}, n_layers={self.n_layers}, n_heads={self.n_heads}, d_model={self.d_model}"


__all__ = ["SoftPrompt", "PrefixEncoder", "PROMPT_INIT_STD"]
