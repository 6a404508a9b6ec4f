"""Unit tests for the adapter modules: BottleneckAdapter, ParallelAdapter, PHMLinear, CompacterAdapter."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from course_lib.adapters import ACTIVATIONS, INITS, BottleneckAdapter, CompacterAdapter, ParallelAdapter, PHMLinear
from course_lib.adapters.compacter import make_shared_A
from course_lib.params import adapter_parameter_count, compacter_parameter_count

D, R = 16, 4


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.fixture
def h() -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.randn(2, 5, D, generator=g)


def relative_change(out: torch.Tensor, h: torch.Tensor) -> float:
    return ((out - h).norm() / h.norm()).item()


# --------------------------------------------------------------------------- BottleneckAdapter


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("bias", [True, False])
def test_bottleneck_near_identity_is_exact_identity(h, activation, bias):
    torch.manual_seed(0)
    adapter = BottleneckAdapter(D, R, activation=activation, bias=bias)
    assert torch.equal(adapter(h), h)
    assert torch.equal(adapter.delta(h), torch.zeros_like(h))
    assert torch.count_nonzero(adapter.up.weight) == 0
    assert torch.count_nonzero(adapter.down.weight) > 0  # down is random so up can learn


def test_bottleneck_identity_on_any_leading_shape():
    adapter = BottleneckAdapter(D, R)
    for shape in [(D,), (3, D), (2, 3, 4, D)]:
        x = torch.randn(shape)
        assert torch.equal(adapter(x), x)


def test_bottleneck_houlsby_init_is_near_zero_but_not_identity(h):
    torch.manual_seed(0)
    adapter = BottleneckAdapter(D, R, init="houlsby", init_std=1e-2)
    out = adapter(h)
    assert not torch.equal(out, h)
    assert relative_change(out, h) < 1e-2
    for layer in (adapter.down, adapter.up):
        assert layer.weight.abs().max() <= 2e-2  # truncated at 2 std
        assert torch.count_nonzero(layer.weight) == layer.weight.numel()
        assert torch.count_nonzero(layer.bias) == 0


def test_bottleneck_random_init_is_far_from_identity(h):
    torch.manual_seed(0)
    adapter = BottleneckAdapter(D, R, init="random")
    assert relative_change(adapter(h), h) > 0.05
    assert torch.count_nonzero(adapter.up.bias) > 0  # nn.Linear default init


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_bottleneck_forward_matches_formula_for_every_activation(h, activation):
    torch.manual_seed(0)
    adapter = BottleneckAdapter(D, R, activation=activation, init="random")
    assert isinstance(adapter.act, ACTIVATIONS[activation])
    sigma = ACTIVATIONS[activation]()
    W_down, b_down = adapter.down.weight, adapter.down.bias
    W_up, b_up = adapter.up.weight, adapter.up.bias
    expected = h + sigma(h @ W_down.T + b_down) @ W_up.T + b_up
    torch.testing.assert_close(adapter(h), expected)
    torch.testing.assert_close(adapter.delta(h), expected - h)


def test_bottleneck_structure_and_config_attributes():
    adapter = BottleneckAdapter(D, R, activation="relu", bias=False, init="houlsby")
    assert isinstance(adapter.down, nn.Linear) and isinstance(adapter.up, nn.Linear)
    assert adapter.down.weight.shape == (R, D) and adapter.up.weight.shape == (D, R)
    assert adapter.down.bias is None and adapter.up.bias is None
    assert (adapter.d_model, adapter.bottleneck) == (D, R)
    assert (adapter.activation_name, adapter.init_name, adapter.has_bias) == ("relu", "houlsby", False)
    text = repr(adapter)
    for part in ("d_model=16", "bottleneck=4", "'relu'", "bias=False", "'houlsby'"):
        assert part in text


@pytest.mark.parametrize("bias", [True, False])
def test_bottleneck_parameter_count_matches_closed_form(bias):
    adapter = BottleneckAdapter(D, R, bias=bias)
    expected = 2 * D * R + (D + R if bias else 0)
    assert n_params(adapter) == expected == adapter_parameter_count(D, R, bias=bias)


def test_bottleneck_gradients_at_near_identity():
    """At init only W_up (and its bias) get a gradient: W_down's is killed by W_up = 0."""
    torch.manual_seed(0)
    adapter = BottleneckAdapter(D, R, activation="relu")
    x = torch.randn(8, D)
    adapter(x).pow(2).sum().backward()
    assert adapter.up.weight.grad.abs().sum() > 0
    assert adapter.up.bias.grad.abs().sum() > 0
    assert adapter.down.weight.grad.abs().sum() == 0


@pytest.mark.parametrize("cls", [BottleneckAdapter, ParallelAdapter])
@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(d_model=0, bottleneck=R), "d_model"),
        (dict(d_model=-3, bottleneck=R), "d_model"),
        (dict(d_model=16.0, bottleneck=R), "d_model"),
        (dict(d_model=True, bottleneck=R), "d_model"),
        (dict(d_model=D, bottleneck=0), "bottleneck"),
        (dict(d_model=D, bottleneck=2.5), "bottleneck"),
        (dict(d_model=D, bottleneck="4"), "bottleneck"),
        (dict(d_model=D, bottleneck=R, activation="tanh"), "activation.*'tanh'"),
        (dict(d_model=D, bottleneck=R, init="zeros"), "init.*'zeros'"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


@pytest.mark.parametrize("cls", [BottleneckAdapter, ParallelAdapter, CompacterAdapter])
def test_wrong_last_dimension_raises(cls):
    adapter = cls(D, R)
    with pytest.raises(ValueError, match=r"d_model=16.*\(2, 3, 8\)"):
        adapter(torch.zeros(2, 3, 8))
    if hasattr(adapter, "delta"):
        with pytest.raises(ValueError, match="d_model=16"):
            adapter.delta(torch.zeros(8))


def test_inits_constant_lists_the_three_inits():
    assert set(INITS) == {"near_identity", "houlsby", "random"}


# --------------------------------------------------------------------------- ParallelAdapter


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_parallel_is_exactly_zero_at_init(h, activation):
    adapter = ParallelAdapter(D, R, activation=activation)
    assert torch.equal(adapter(h), torch.zeros_like(h))
    assert torch.equal(adapter.delta(h), torch.zeros_like(h))


def test_parallel_defaults_follow_he_et_al():
    adapter = ParallelAdapter(D, R)
    assert adapter.scale == 4.0
    assert isinstance(adapter.act, nn.ReLU)
    assert adapter.init_name == "near_identity"
    assert "scale=4.0" in repr(adapter)


@pytest.mark.parametrize("scale", [1.0, 4.0, 0.5])
def test_parallel_applies_scale_and_has_no_residual(h, scale):
    torch.manual_seed(0)
    adapter = ParallelAdapter(D, R, scale=scale, init="random")
    expected = scale * adapter.up(adapter.act(adapter.down(h)))
    torch.testing.assert_close(adapter(h), expected)
    # the same weights with scale 1: the output is exactly proportional to the scale
    unit = ParallelAdapter(D, R, scale=1.0, init="random")
    unit.load_state_dict(adapter.state_dict())
    torch.testing.assert_close(adapter(h), scale * unit(h))


def test_parallel_houlsby_and_random_inits(h):
    torch.manual_seed(0)
    small = ParallelAdapter(D, R, init="houlsby", scale=1.0)
    big = ParallelAdapter(D, R, init="random", scale=1.0)
    assert 0 < small(h).norm() / h.norm() < 1e-2
    assert big(h).norm() / h.norm() > 0.05


@pytest.mark.parametrize("bias", [True, False])
def test_parallel_parameter_count_is_a_bottleneck_adapters(bias):
    assert n_params(ParallelAdapter(D, R, bias=bias)) == adapter_parameter_count(D, R, bias=bias)
    assert ParallelAdapter(D, R, bias=False).down.bias is None


@pytest.mark.parametrize("scale", [0, -1.0, float("inf"), float("nan"), "4", True, None])
def test_parallel_bad_scale(scale):
    with pytest.raises(ValueError, match="scale"):
        ParallelAdapter(D, R, scale=scale)


# --------------------------------------------------------------------------- PHMLinear


def explicit_kron_sum(layer: PHMLinear) -> torch.Tensor:
    """Σ_i A_i ⊗ B_i written out with torch.kron, B_i rebuilt from the raw factors."""
    total = torch.zeros(layer.out_features, layer.in_features)
    for i in range(layer.n):
        B_i = layer.B_full[i] if layer.phm_rank is None else layer.s[i] @ layer.t[i].T
        total = total + torch.kron(layer.A[i], B_i)
    return total


@pytest.mark.parametrize("phm_rank", [1, 2, None])
@pytest.mark.parametrize("n", [1, 2, 4])
def test_phm_weight_is_sum_of_kronecker_products(n, phm_rank):
    torch.manual_seed(0)
    layer = PHMLinear(8, 12, n=n, phm_rank=phm_rank)
    W = layer.weight
    assert W.shape == (12, 8)
    torch.testing.assert_close(W, explicit_kron_sum(layer))
    assert layer.B.shape == (n, 12 // n, 8 // n)


def test_phm_kronecker_block_structure():
    """A_i ⊗ B_i is an n×n grid of blocks A_i[a, c] · B_i (checked by hand for n=2, one term)."""
    layer = PHMLinear(4, 6, n=2, phm_rank=None)
    with torch.no_grad():
        layer.A.zero_()
        layer.A[0] = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    B0 = layer.B_full[0]
    W = layer.weight
    torch.testing.assert_close(W[:3, :2], 1.0 * B0)
    torch.testing.assert_close(W[:3, 2:], 2.0 * B0)
    torch.testing.assert_close(W[3:, :2], 3.0 * B0)
    torch.testing.assert_close(W[3:, 2:], 4.0 * B0)


@pytest.mark.parametrize("bias", [True, False])
def test_phm_forward_is_a_linear_layer_with_that_weight(bias):
    torch.manual_seed(0)
    layer = PHMLinear(8, 12, n=4, bias=bias, phm_rank=2)
    x = torch.randn(3, 5, 8)
    expected = x @ layer.weight.T + (layer.bias if bias else 0)
    torch.testing.assert_close(layer(x), expected)
    assert layer(x).shape == (3, 5, 12)
    assert (layer.bias is None) == (not bias)


@pytest.mark.parametrize("phm_rank", [1, 3, None])
@pytest.mark.parametrize("bias", [True, False])
def test_phm_parameter_count(phm_rank, bias):
    n, d_in, d_out = 4, 16, 24
    layer = PHMLinear(d_in, d_out, n=n, bias=bias, phm_rank=phm_rank)
    factors = d_out * d_in // n if phm_rank is None else phm_rank * (d_in + d_out)
    assert n_params(layer) == n**3 + factors + (d_out if bias else 0)
    assert n_params(layer) < d_in * d_out + d_out


def test_phm_gradients_reach_every_factor():
    torch.manual_seed(0)
    layer = PHMLinear(8, 8, n=2, phm_rank=2)
    layer(torch.randn(4, 8)).sum().backward()
    for name, p in layer.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(in_features=10, out_features=8, n=4), "in_features.*n=4.*10"),
        (dict(in_features=8, out_features=6, n=4), "out_features.*n=4.*6"),
        (dict(in_features=0, out_features=8), "in_features"),
        (dict(in_features=8, out_features=-8), "out_features"),
        (dict(in_features=8, out_features=8, n=0), "n must"),
        (dict(in_features=8, out_features=8, n=2.0), "n must"),
        (dict(in_features=8, out_features=8, phm_rank=0), "phm_rank"),
        (dict(in_features=8, out_features=8, phm_rank=1.5), "phm_rank"),
    ],
)
def test_phm_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PHMLinear(**kwargs)


def test_phm_wrong_input_dimension():
    with pytest.raises(ValueError, match=r"in_features=8.*\(3, 7\)"):
        PHMLinear(8, 4, n=2)(torch.zeros(3, 7))


def test_phm_shared_A_is_the_same_parameter():
    A = make_shared_A(2)
    first, second = PHMLinear(4, 6, n=2, shared_A=A), PHMLinear(6, 4, n=2, shared_A=A)
    assert first.A is A and second.A is A
    assert not first.owns_A
    both = nn.ModuleList([first, second])
    # parameters() de-duplicates the shared A: it is counted once
    assert n_params(both) == 2**3 + (4 + 6) + 6 + (6 + 4) + 4
    before = A.detach().clone()
    first.reset_parameters()  # a layer never re-initialises an A it does not own
    assert torch.equal(A, before)


@pytest.mark.parametrize(
    "shared_A", [torch.zeros(2, 2, 2), nn.Parameter(torch.zeros(4, 4, 4)), nn.Parameter(torch.zeros(2, 2))]
)
def test_phm_bad_shared_A(shared_A):
    with pytest.raises(ValueError, match="shared_A"):
        PHMLinear(4, 4, n=2, shared_A=shared_A)


@pytest.mark.parametrize("phm_rank", [1, None])
def test_phm_zero_makes_weight_and_bias_exactly_zero(phm_rank):
    layer = PHMLinear(8, 8, n=2, phm_rank=phm_rank).zero_()
    assert torch.count_nonzero(layer.weight) == 0
    assert torch.count_nonzero(layer.bias) == 0
    assert torch.count_nonzero(layer.A) > 0


# --------------------------------------------------------------------------- CompacterAdapter


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("phm_rank", [1, 2, None])
@pytest.mark.parametrize("bias", [True, False])
def test_compacter_near_identity_is_exact_identity(h, activation, phm_rank, bias):
    torch.manual_seed(0)
    adapter = CompacterAdapter(D, R, n=2, phm_rank=phm_rank, activation=activation, bias=bias)
    assert torch.equal(adapter(h), h)
    assert torch.equal(adapter.delta(h), torch.zeros_like(h))
    assert torch.count_nonzero(adapter.down.weight) > 0


def test_compacter_structure():
    adapter = CompacterAdapter(D, R, n=4)
    assert isinstance(adapter.down, PHMLinear) and isinstance(adapter.up, PHMLinear)
    assert (adapter.down.in_features, adapter.down.out_features) == (D, R)
    assert (adapter.up.in_features, adapter.up.out_features) == (R, D)
    assert adapter.up.A is adapter.down.A  # one set of A_i for the pair
    assert isinstance(adapter.act, nn.GELU)
    assert "n=4" in repr(adapter) and "phm_rank=1" in repr(adapter)


def test_compacter_houlsby_near_zero_random_far(h):
    torch.manual_seed(0)
    houlsby = CompacterAdapter(D, R, n=2, init="houlsby")
    random = CompacterAdapter(D, R, n=2, init="random")
    out = houlsby(h)
    assert not torch.equal(out, h)
    assert relative_change(out, h) < 1e-2
    assert relative_change(random(h), h) > 0.05


def test_compacter_forward_matches_formula(h):
    torch.manual_seed(0)
    adapter = CompacterAdapter(D, R, n=2, activation="silu", init="random")
    down, up = adapter.down, adapter.up
    expected = h + nn.functional.silu(h @ down.weight.T + down.bias) @ up.weight.T + up.bias
    torch.testing.assert_close(adapter(h), expected)


def test_compacter_trains_from_identity():
    torch.manual_seed(0)
    adapter = CompacterAdapter(D, R, n=2, activation="relu")
    adapter(torch.randn(8, D)).pow(2).sum().backward()
    assert adapter.up.s.grad.abs().sum() > 0
    assert adapter.up.bias.grad.abs().sum() > 0


@pytest.mark.parametrize("phm_rank", [1, 2, None])
@pytest.mark.parametrize("bias", [True, False])
def test_compacter_parameter_count_matches_closed_form(phm_rank, bias):
    adapter = CompacterAdapter(D, R, n=2, phm_rank=phm_rank, bias=bias)
    assert n_params(adapter) == compacter_parameter_count(D, R, n=2, phm_rank=phm_rank, bias=bias)


def test_compacter_bert_base_is_much_smaller_than_bottleneck():
    # d=768, r=64, n=4, k=1: 4^3 + 2·(768+64) + 768 + 64 = 2,560 vs 99,136 for a bottleneck adapter
    adapter = CompacterAdapter(768, 64)
    assert n_params(adapter) == compacter_parameter_count(768, 64) == 2_560
    assert n_params(adapter) < adapter_parameter_count(768, 64) / 30


def test_compacter_shared_A_across_adapters():
    A = make_shared_A(2)
    layers = nn.ModuleList([CompacterAdapter(D, R, n=2, shared_A=A) for _ in range(3)])
    assert all(layer.down.A is A and layer.up.A is A for layer in layers)
    per_adapter = compacter_parameter_count(D, R, n=2, include_A=False)
    assert n_params(layers) == 2**3 + 3 * per_adapter


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(d_model=18, bottleneck=4, n=4), "d_model.*n=4.*18"),
        (dict(d_model=16, bottleneck=6, n=4), "bottleneck.*n=4.*6"),
        (dict(d_model=0, bottleneck=4), "d_model"),
        (dict(d_model=16, bottleneck=-4), "bottleneck"),
        (dict(d_model=16, bottleneck=4, n=0), "n must"),
        (dict(d_model=16, bottleneck=4, phm_rank=0), "phm_rank"),
        (dict(d_model=16, bottleneck=4, activation="swish"), "activation.*'swish'"),
        (dict(d_model=16, bottleneck=4, init="identity"), "init.*'identity'"),
    ],
)
def test_compacter_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CompacterAdapter(**kwargs)
