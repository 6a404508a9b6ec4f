"""Right answers for 07_adapter_variants: correct code written differently from the master."""

from right_answers import Right

_SIGNATURE_PARALLEL = """def parallel_ffn_output(x_ffn_in: torch.Tensor, ffn: nn.Module, adapter_down: nn.Linear, adapter_up: nn.Linear,
                        scale: float = 4.0, activation=torch.relu) -> torch.Tensor:
"""
_SIGNATURE_SEQUENTIAL = """def sequential_ffn_output(x_ffn_in: torch.Tensor, ffn: nn.Module, adapter_down: nn.Linear, adapter_up: nn.Linear,
                          activation=torch.relu) -> torch.Tensor:
"""

_PHM_INIT_ORDER = '''class MyPHMLinear(nn.Module):
    """A drop-in nn.Linear: x @ W.T + bias with W = sum_i A_i ⊗ (s_i t_i^T)."""

    def __init__(self, in_features: int, out_features: int, n: int = 4, phm_rank: int = 1, bias: bool = True):
        super().__init__()
        for name, size in (("out_features", out_features), ("in_features", in_features)):
            if size % n:
                raise ValueError(f"{name}={size} is not divisible by n={n}")
        self.n, self.phm_rank = n, phm_rank
        self.in_features, self.out_features = in_features, out_features
        self.A = nn.Parameter(nn.init.xavier_normal_(torch.empty(n, n, n)))
        self.s = nn.Parameter(0.1 * torch.randn(n, out_features // n, phm_rank))
        self.t = nn.Parameter(0.1 * torch.randn(n, in_features // n, phm_rank))
        if bias:
            self.bias = nn.Parameter(torch.zeros(out_features))
        else:
            self.register_parameter("bias", None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (..., in_features) -> (..., out_features)."""
        return F.linear(x, low_rank_phm_weight(self.A, self.s, self.t), self.bias)
'''

_PHM_ONE_CHECK = '''class MyPHMLinear(nn.Module):
    """A drop-in nn.Linear: x @ W.T + bias with W = sum_i A_i ⊗ (s_i t_i^T)."""

    def __init__(self, in_features: int, out_features: int, n: int = 4, phm_rank: int = 1, bias: bool = True):
        super().__init__()
        bad = [f"{name}={size}" for name, size in (("in_features", in_features), ("out_features", out_features))
               if size % n != 0]
        if bad:
            raise ValueError(f"not divisible by n={n}: {', '.join(bad)}")
        p, q, k = out_features // n, in_features // n, phm_rank
        self.A = nn.Parameter(torch.rand(n, n, n) * 2 - 1)
        self.s = nn.Parameter(torch.randn(n, p, k) / math.sqrt(p))
        self.t = nn.Parameter(torch.randn(n, q, k) / math.sqrt(q))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (..., in_features) -> (..., out_features)."""
        W = low_rank_phm_weight(self.A, self.s, self.t)
        out = torch.matmul(x, W.transpose(0, 1))
        if self.bias is not None:
            out = out + self.bias
        return out
'''

RIGHT = [
    # Exercise 1: the parallel adapter.
    Right(
        "ex1_parallel_ffn_output",
        "FFN first, then the scaled branch added",
        source=_SIGNATURE_PARALLEL
        + '''    """FFN(x) + scale * W_up activation(W_down x)."""
    out = ffn(x_ffn_in)
    out = out + scale * adapter_up(activation(adapter_down(x_ffn_in)))
    return out
''',
    ),
    Right(
        "ex1_parallel_ffn_output",
        "torch.add with alpha=scale, the branch before the FFN",
        source=_SIGNATURE_PARALLEL
        + '''    """FFN(x) + scale * W_up activation(W_down x)."""
    branch = adapter_up(activation(adapter_down(x_ffn_in)))
    return torch.add(ffn(x_ffn_in), branch, alpha=scale)
''',
    ),
    Right(
        "ex1_parallel_ffn_output",
        "the scale applied to the bottleneck before W_up's weight, W_up's bias scaled apart",
        combined=False,
        source=_SIGNATURE_PARALLEL
        + '''    """FFN(x) + scale * W_up activation(W_down x)."""
    hidden = activation(adapter_down(x_ffn_in))
    branch = F.linear(scale * hidden, adapter_up.weight)
    if adapter_up.bias is not None:
        branch = branch + scale * adapter_up.bias
    return branch + ffn(x_ffn_in)
''',
    ),
    # Exercise 2: the sequential adapter.
    Right(
        "ex2_sequential_ffn_output",
        "correction first, residual added after",
        source=_SIGNATURE_SEQUENTIAL
        + '''    """h + W_up activation(W_down h) with h = FFN(x)."""
    h = ffn(x_ffn_in)
    correction = adapter_up(activation(adapter_down(h)))
    return correction + h
''',
    ),
    Right(
        "ex2_sequential_ffn_output",
        "F.linear with the modules' weights and biases, torch.add",
        source=_SIGNATURE_SEQUENTIAL
        + '''    """h + W_up activation(W_down h) with h = FFN(x)."""
    h = ffn(x_ffn_in)
    z = activation(F.linear(h, adapter_down.weight, adapter_down.bias))
    return torch.add(h, F.linear(z, adapter_up.weight, adapter_up.bias))
''',
    ),
    # Exercise 3: the Kronecker sum.
    Right(
        "ex3_phm_weight",
        "loop that accumulates into a zero matrix",
        source='''def phm_weight(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """W = sum_i A_i ⊗ B_i for A of shape (n, n, n) and B of shape (n, out/n, in/n); W has shape (out, in)."""
    n, p, q = B.shape
    W = torch.zeros(n * p, n * q, dtype=B.dtype, device=B.device)
    for i in range(n):
        W = W + torch.kron(A[i], B[i])
    return W
''',
    ),
    Right(
        "ex3_phm_weight",
        "einsum over the blocks and a reshape, no kron",
        source='''def phm_weight(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """W = sum_i A_i ⊗ B_i for A of shape (n, n, n) and B of shape (n, out/n, in/n); W has shape (out, in)."""
    n, p, q = B.shape
    blocks = torch.einsum("iac,ijl->ajcl", A, B)  # block (a, c), entry (j, l)
    return blocks.reshape(n * p, n * q)
''',
    ),
    Right(
        "ex3_phm_weight",
        "stacked kron terms summed along a new dimension",
        combined=False,
        edits=(
            (
                "    n = A.shape[0]\n    return sum(torch.kron(A[i], B[i]) for i in range(n))",
                "    return torch.stack([torch.kron(a, b) for a, b in zip(A, B)]).sum(dim=0)",
            ),
        ),
    ),
    # Exercise 4: the low-rank Kronecker sum.
    Right(
        "ex4_low_rank_phm_weight",
        "einsum for the batched s t^T",
        edits=(("B = s @ t.transpose(1, 2)", 'B = torch.einsum("npk,nqk->npq", s, t)'),),
    ),
    Right(
        "ex4_low_rank_phm_weight",
        "torch.bmm with t.mT",
        edits=(("B = s @ t.transpose(1, 2)", "B = torch.bmm(s, t.mT)"),),
    ),
    # Exercise 5: the PHM layer.
    Right(
        "ex5_phm_linear", "out_features checked first, xavier A, F.linear, register_parameter", source=_PHM_INIT_ORDER
    ),
    Right("ex5_phm_linear", "one ValueError naming every bad size, uniform A, matmul", source=_PHM_ONE_CHECK),
    # Exercise 6: the count.
    Right(
        "ex6_compacter_params",
        "running total with ifs",
        source='''def compacter_params(d: int, r: int, n: int, k: int, include_A: bool = True, bias: bool = True) -> int:
    """Parameters of one Compacter adapter."""
    total = 2 * k * (d + r)
    if include_A:
        total += n * n * n
    if bias:
        total += d + r
    return total
''',
    ),
    Right(
        "ex6_compacter_params",
        "layer by layer, shapes written out",
        source='''def compacter_params(d: int, r: int, n: int, k: int, include_A: bool = True, bias: bool = True) -> int:
    """Parameters of one Compacter adapter."""
    def phm_layer(in_features, out_features):
        s = n * (out_features // n) * k
        t = n * (in_features // n) * k
        return s + t + (out_features if bias else 0)

    return phm_layer(d, r) + phm_layer(r, d) + (n**3 if include_A else 0)
''',
    ),
    # Issue 16, part 2: correct answers that the widened tests (in place, dtype, gradients) must accept.
    Right(
        "ex1_parallel_ffn_output",
        "in-place += into a clone of the FFN's output",
        combined=False,
        edits=(
            (
                "    return ffn(x_ffn_in) + scale * delta",
                "    out = ffn(x_ffn_in).clone()\n    out += scale * delta\n    return out",
            ),
        ),
    ),
    Right(
        "ex2_sequential_ffn_output",
        "zeros_like accumulator (dtype and device of h)",
        combined=False,
        edits=(
            (
                "    return h + adapter_up(activation(adapter_down(h)))",
                "    out = torch.zeros_like(h)\n    out += h\n    out += adapter_up(activation(adapter_down(h)))\n"
                "    return out",
            ),
        ),
    ),
    Right(
        "ex3_phm_weight",
        "in-place sum into A.new_zeros (dtype and device of the inputs)",
        combined=False,
        source='''def phm_weight(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """W = sum_i A_i ⊗ B_i for A of shape (n, n, n) and B of shape (n, out/n, in/n); W has shape (out, in)."""
    n, p, q = B.shape
    W = A.new_zeros(n * p, n * q)
    for i in range(n):
        W += torch.kron(A[i], B[i])
    return W
''',
    ),
    Right(
        "ex4_low_rank_phm_weight",
        "B filled in a loop into s.new_zeros",
        combined=False,
        edits=(
            (
                "    B = s @ t.transpose(1, 2)  # (n, out/n, in/n): B_i = s_i t_i^T for every i at once\n",
                "    B = s.new_zeros(s.shape[0], s.shape[1], t.shape[1])\n    for i in range(s.shape[0]):\n"
                "        B[i] = s[i] @ t[i].T\n",
            ),
        ),
    ),
]
