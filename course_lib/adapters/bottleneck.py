"""The bottleneck adapter of Houlsby et al. (2019): ``h' = h + W_up σ(W_down h)``.

A small two-layer network squeezes the hidden state of size ``d_model`` down to ``bottleneck``
dimensions, applies a non-linearity and projects back up. The residual connection means the
adapter only has to learn a *correction* to ``h``; with ``W_up`` and the biases at zero that
correction is exactly zero, so a freshly inserted adapter leaves the pretrained model unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "identity": nn.Identity,
}

INITS = ("near_identity", "houlsby", "random")

#: Standard deviation of the small random weights used by the ``near_identity`` and ``houlsby`` inits.
NEAR_ZERO_STD = 1e-2


def check_size(name: str, value) -> int:
    """Return ``value`` if it is a positive int, else raise a ValueError naming the argument."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def make_activation(activation: str) -> nn.Module:
    """Build the activation module called ``activation`` (one of ``ACTIVATIONS``)."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    return ACTIVATIONS[activation]()


def check_init(init: str) -> str:
    if init not in INITS:
        raise ValueError(f"init must be one of {list(INITS)}, got {init!r}")
    return init


def init_projections(down: nn.Linear, up: nn.Linear, init: str, std: float = NEAR_ZERO_STD) -> None:
    """Initialise a down/up pair of ``nn.Linear`` layers in place.

    * ``near_identity``: ``W_down`` small random, ``W_up`` and both biases exactly zero,
      so the adapter's output equals its input bit for bit.
    * ``houlsby``: both weights drawn from a truncated normal with std ``std`` (cut at 2 std),
      biases zero: near zero, but not exactly (Houlsby et al. 2019, section 3.6).
    * ``random``: PyTorch's default ``nn.Linear`` initialisation (the adapter starts *far* from identity).
    """
    check_init(init)
    if init == "random":
        down.reset_parameters()
        up.reset_parameters()
        return
    with torch.no_grad():
        if init == "near_identity":
            nn.init.normal_(down.weight, std=std)
            up.weight.zero_()
        else:  # houlsby
            nn.init.trunc_normal_(down.weight, std=std, a=-2 * std, b=2 * std)
            nn.init.trunc_normal_(up.weight, std=std, a=-2 * std, b=2 * std)
        for layer in (down, up):
            if layer.bias is not None:
                layer.bias.zero_()


class BottleneckAdapter(nn.Module):
    """``h + W_up σ(W_down h)`` with ``W_down: d_model → bottleneck`` and ``W_up: bottleneck → d_model``.

    ``nn.Linear`` stores its weight as ``(out_features, in_features)`` and computes ``x @ W.T + b``,
    so ``self.down.weight`` is the column-vector ``W_down ∈ R^{r×d}`` of the paper and
    ``self.up.weight`` is ``W_up ∈ R^{d×r}``.
    """

    def __init__(
        self,
        d_model: int,
        bottleneck: int,
        activation: str = "gelu",
        bias: bool = True,
        init: str = "near_identity",
        init_std: float = NEAR_ZERO_STD,
    ):
        super().__init__()
        self.d_model = check_size("d_model", d_model)
        self.bottleneck = check_size("bottleneck", bottleneck)
        self.act = make_activation(activation)
        self.activation_name = activation
        self.init_name = check_init(init)
        self.has_bias = bool(bias)
        self.down = nn.Linear(d_model, bottleneck, bias=bias)
        self.up = nn.Linear(bottleneck, d_model, bias=bias)
        init_projections(self.down, self.up, init, init_std)

    def delta(self, h: torch.Tensor) -> torch.Tensor:
        """The correction ``W_up σ(W_down h)`` alone, without the residual (AdapterFusion mixes these)."""
        if h.shape[-1] != self.d_model:
            raise ValueError(f"expected the last dimension to be d_model={self.d_model}, got shape {tuple(h.shape)}")
        return self.up(self.act(self.down(h)))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.delta(h)

    def extra_repr(self) -> str:
        return (
            f"d_model={self.d_model}, bottleneck={self.bottleneck}, "
            f"activation={self.activation_name!r}, bias={self.has_bias}, init={self.init_name!r}"
        )
