"""Compacter (Karimi Mahabadi et al. 2021): a bottleneck adapter whose projections are
*parameterised hypercomplex multiplication* (PHM) layers.

A PHM layer does not store its ``(out, in)`` weight matrix. It builds it from a sum of ``n``
Kronecker products::

    W = Σ_{i=1..n} A_i ⊗ B_i        A_i ∈ R^{n×n},  B_i ∈ R^{(out/n)×(in/n)}

``A_i ⊗ B_i`` is the ``n × n`` grid of blocks ``A_i[a, c] · B_i``: every block is a scaled copy
of ``B_i``. Storing ``B_1..B_n`` takes ``out·in/n`` numbers instead of ``out·in`` (``n`` times
fewer) plus the tiny ``n³`` of the ``A_i``.

Compacter goes two steps further:

* the ``A_i`` (the "slow weights") are *shared* between layers: pass one ``nn.Parameter`` of
  shape ``(n, n, n)`` as ``shared_A`` to every layer that should use it;
* each ``B_i`` is low rank: ``B_i = s_i t_iᵀ`` with ``s_i ∈ R^{(out/n)×k}``, ``t_i ∈ R^{(in/n)×k}``
  (``phm_rank = k``, 1 in the paper), so a layer stores only ``n·k·(out/n + in/n) = k·(out + in)``
  numbers, fewer than a LoRA of the same rank.

``CompacterAdapter`` is a ``BottleneckAdapter`` with both ``nn.Linear`` layers replaced by
``PHMLinear`` (its ``down`` and ``up`` share one set of ``A_i``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .bottleneck import NEAR_ZERO_STD, check_init, check_size, make_activation


def check_phm_rank(phm_rank) -> int | None:
    """``phm_rank`` is a positive int (low-rank ``B_i``) or ``None`` (full ``B_i``, the PHM-Adapter)."""
    if phm_rank is None:
        return None
    return check_size("phm_rank", phm_rank)


def check_divisible(name: str, value: int, n: int) -> None:
    if value % n != 0:
        raise ValueError(f"{name} must be divisible by n={n}, got {name}={value}")


def make_shared_A(n: int = 4) -> nn.Parameter:
    """A fresh ``(n, n, n)`` parameter for the ``A_i``, drawn like ``PHMLinear``'s own (std ``1/sqrt(n)``).

    Pass it as ``shared_A`` to several ``PHMLinear`` / ``CompacterAdapter`` modules to share it.
    """
    n = check_size("n", n)
    return nn.Parameter(torch.randn(n, n, n) / math.sqrt(n))


class PHMLinear(nn.Module):
    """A linear layer ``x @ Wᵀ + b`` with ``W = Σ_i A_i ⊗ B_i`` (see the module docstring).

    Parameters (shapes with ``p = out_features / n``, ``q = in_features / n``, ``k = phm_rank``):

    * ``A``: ``(n, n, n)``, ``A[i]`` is ``A_i``; the very same ``nn.Parameter`` as ``shared_A`` if given;
    * ``s``: ``(n, p, k)`` and ``t``: ``(n, q, k)`` when ``phm_rank`` is an int (``B_i = s_i t_iᵀ``);
    * ``B_full``: ``(n, p, q)`` when ``phm_rank=None``;
    * ``bias``: ``(out_features,)`` or ``None``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        n: int = 4,
        bias: bool = True,
        shared_A: nn.Parameter | None = None,
        phm_rank: int | None = 1,
    ):
        super().__init__()
        self.in_features = check_size("in_features", in_features)
        self.out_features = check_size("out_features", out_features)
        self.n = check_size("n", n)
        check_divisible("in_features", in_features, n)
        check_divisible("out_features", out_features, n)
        self.phm_rank = check_phm_rank(phm_rank)
        p, q = out_features // n, in_features // n

        if shared_A is None:
            self.A = nn.Parameter(torch.empty(n, n, n))
        else:
            if not isinstance(shared_A, nn.Parameter) or tuple(shared_A.shape) != (n, n, n):
                got = tuple(shared_A.shape) if isinstance(shared_A, torch.Tensor) else type(shared_A).__name__
                raise ValueError(f"shared_A must be an nn.Parameter of shape ({n}, {n}, {n}), got {got}")
            self.A = shared_A
        self.owns_A = shared_A is None

        if self.phm_rank is None:
            self.B_full = nn.Parameter(torch.empty(n, p, q))
        else:
            self.s = nn.Parameter(torch.empty(n, p, self.phm_rank))
            self.t = nn.Parameter(torch.empty(n, q, self.phm_rank))
        self.bias = nn.Parameter(torch.empty(out_features)) if bias else None
        self.reset_parameters()

    @property
    def B(self) -> torch.Tensor:
        """The ``n`` matrices ``B_i`` stacked: shape ``(n, out_features/n, in_features/n)``."""
        if self.phm_rank is None:
            return self.B_full
        return self.s @ self.t.transpose(1, 2)  # B_i = s_i t_iᵀ, batched over i

    @property
    def weight(self) -> torch.Tensor:
        """The full ``(out_features, in_features)`` matrix ``Σ_i A_i ⊗ B_i``."""
        B = self.B
        weight = torch.kron(self.A[0], B[0])
        for i in range(1, self.n):
            weight = weight + torch.kron(self.A[i], B[i])
        return weight

    def reset_parameters(self, std: float | None = None) -> None:
        """Random init whose entries of ``W`` have standard deviation about ``std``.

        ``std`` defaults to ``1/sqrt(in_features)`` (the LeCun scale of a plain linear layer).
        ``A`` is drawn with std ``1/sqrt(n)`` (only if this layer owns it, a shared ``A`` is left
        alone), so ``W = Σ_i A_i ⊗ B_i`` sums ``n`` terms of variance ``Var(B)/n`` each; the
        factors of ``B`` are then scaled so that ``Var(B) = std²``. The bias is drawn like
        ``nn.Linear``'s: uniform in ``±1/sqrt(in_features)``.
        """
        if std is None:
            std = 1.0 / math.sqrt(self.in_features)
        bound = 1.0 / math.sqrt(self.in_features)
        with torch.no_grad():
            if self.owns_A:
                nn.init.normal_(self.A, std=1.0 / math.sqrt(self.n))
            if self.phm_rank is None:
                nn.init.normal_(self.B_full, std=std)
            else:
                # an entry of s_i t_iᵀ sums k products of two N(0, σ²): variance k σ⁴ = std²
                factor_std = (std**2 / self.phm_rank) ** 0.25
                nn.init.normal_(self.s, std=factor_std)
                nn.init.normal_(self.t, std=factor_std)
            if self.bias is not None:
                nn.init.uniform_(self.bias, -bound, bound)

    def zero_(self) -> PHMLinear:
        """Make ``W`` and the bias exactly zero (``s`` or ``B_full`` zeroed; a shared ``A`` is kept)."""
        with torch.no_grad():
            if self.phm_rank is None:
                self.B_full.zero_()
            else:
                self.s.zero_()
            if self.bias is not None:
                self.bias.zero_()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.in_features:
            raise ValueError(
                f"expected the last dimension to be in_features={self.in_features}, got shape {tuple(x.shape)}"
            )
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, n={self.n}, "
            f"phm_rank={self.phm_rank}, bias={self.bias is not None}, shared_A={not self.owns_A}"
        )


class CompacterAdapter(nn.Module):
    """``h + up(σ(down(h)))`` where ``down``/``up`` are ``PHMLinear`` layers sharing one ``A``.

    Inits (as for ``BottleneckAdapter``, biases zero except for ``random``):

    * ``near_identity``: ``down`` small random (std ``init_std``), ``up`` exactly zero
      (its ``s`` factors, or ``B_full``, are zeroed) so ``forward(h)`` equals ``h`` bit for bit;
    * ``houlsby``: both weights small random with std about ``init_std``: near zero, not identity;
    * ``random``: ``PHMLinear.reset_parameters()`` defaults, far from identity.

    ``shared_A`` (an ``nn.Parameter`` of shape ``(n, n, n)``) lets several adapters, e.g. one per
    layer, share their ``A_i`` as in the paper; by default each adapter gets its own.
    """

    def __init__(
        self,
        d_model: int,
        bottleneck: int,
        n: int = 4,
        phm_rank: int | None = 1,
        activation: str = "gelu",
        bias: bool = True,
        init: str = "near_identity",
        init_std: float = NEAR_ZERO_STD,
        shared_A: nn.Parameter | None = None,
    ):
        super().__init__()
        self.d_model = check_size("d_model", d_model)
        self.bottleneck = check_size("bottleneck", bottleneck)
        self.n = check_size("n", n)
        check_divisible("d_model", d_model, n)
        check_divisible("bottleneck", bottleneck, n)
        self.phm_rank = check_phm_rank(phm_rank)
        self.act = make_activation(activation)
        self.activation_name = activation
        self.init_name = check_init(init)
        self.has_bias = bool(bias)
        self.down = PHMLinear(d_model, bottleneck, n, bias, shared_A=shared_A, phm_rank=phm_rank)
        self.up = PHMLinear(bottleneck, d_model, n, bias, shared_A=self.down.A, phm_rank=phm_rank)
        self.reset_parameters(init_std)

    def reset_parameters(self, init_std: float = NEAR_ZERO_STD) -> None:
        """(Re)initialise ``down`` and ``up`` according to ``self.init_name``."""
        if self.init_name == "random":
            self.down.reset_parameters()
            self.up.reset_parameters()
            return
        self.down.reset_parameters(std=init_std)
        self.up.reset_parameters(std=init_std)
        if self.init_name == "near_identity":
            self.up.zero_()
        with torch.no_grad():
            for layer in (self.down, self.up):
                if layer.bias is not None:
                    layer.bias.zero_()

    def delta(self, h: torch.Tensor) -> torch.Tensor:
        """The correction ``up(σ(down(h)))`` alone, without the residual."""
        if h.shape[-1] != self.d_model:
            raise ValueError(f"expected the last dimension to be d_model={self.d_model}, got shape {tuple(h.shape)}")
        return self.up(self.act(self.down(h)))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.delta(h)

    def extra_repr(self) -> str:
        return (
            f"d_model={self.d_model}, bottleneck={self.bottleneck}, n={self.n}, phm_rank={self.phm_rank}, "
            f"activation={self.activation_name!r}, bias={self.has_bias}, init={self.init_name!r}"
        )
