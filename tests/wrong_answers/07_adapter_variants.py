"""Wrong answers for 07_adapter_variants."""

from wrong_answers import Wrong

_IN_CHECK = """        if in_features % n != 0:
            raise ValueError(f"in_features must be divisible by n={n}, got in_features={in_features}")
"""
_OUT_CHECK = """        if out_features % n != 0:
            raise ValueError(f"out_features must be divisible by n={n}, got out_features={out_features}")
"""

WRONG = [
    # Exercise 1: the parallel adapter beside the FFN.
    Wrong(
        "ex1_parallel_ffn_output",
        "scale left out",
        says="the scale is missing",
        edits=(("return ffn(x_ffn_in) + scale * delta", "return ffn(x_ffn_in) + delta"),),
    ),
    Wrong(
        "ex1_parallel_ffn_output",
        "the adapter reads the FFN's output",
        says="reads the FFN's output",
        edits=(("adapter_down(x_ffn_in)", "adapter_down(ffn(x_ffn_in))"),),
    ),
    Wrong(
        "ex1_parallel_ffn_output",
        "residual x added",
        says="the residual x was added",
        edits=(("return ffn(x_ffn_in) + scale * delta", "return x_ffn_in + ffn(x_ffn_in) + scale * delta"),),
    ),
    Wrong(
        "ex1_parallel_ffn_output",
        "the FFN's output scaled as well",
        says="the scale multiplies the FFN's output too",
        edits=(("return ffn(x_ffn_in) + scale * delta", "return scale * (ffn(x_ffn_in) + delta)"),),
    ),
    Wrong(
        "ex1_parallel_ffn_output",
        "activation after the up-projection",
        says="activation is applied after the up-projection",
        edits=(
            (
                "delta = adapter_up(activation(adapter_down(x_ffn_in)))",
                "delta = activation(adapter_up(adapter_down(x_ffn_in)))",
            ),
        ),
    ),
    Wrong(
        "ex1_parallel_ffn_output",
        "ReLU hard-coded instead of the activation argument",
        says="the activation argument is ignored",
        edits=(("adapter_up(activation(adapter_down(x_ffn_in)))", "adapter_up(torch.relu(adapter_down(x_ffn_in)))"),),
    ),
    # Exercise 2: the sequential adapter after the FFN.
    Wrong(
        "ex2_sequential_ffn_output",
        "the adapter reads the FFN's input",
        says="reads the FFN's input x",
        edits=(("adapter_down(h)", "adapter_down(x_ffn_in)"),),
    ),
    Wrong(
        "ex2_sequential_ffn_output",
        "missing residual",
        says="residual is missing",
        edits=(("return h + adapter_up(", "return adapter_up("),),
    ),
    Wrong(
        "ex2_sequential_ffn_output",
        "residual of x instead of h",
        says="the residual adds x instead of h",
        edits=(("return h + adapter_up(", "return x_ffn_in + adapter_up("),),
    ),
    Wrong(
        "ex2_sequential_ffn_output",
        "residual added twice (x and h)",
        says="both residuals were added",
        edits=(("return h + adapter_up(", "return x_ffn_in + h + adapter_up("),),
    ),
    Wrong(
        "ex2_sequential_ffn_output",
        "activation after the up-projection",
        says="activation is applied after the up-projection",
        edits=(("adapter_up(activation(adapter_down(h)))", "activation(adapter_up(adapter_down(h)))"),),
    ),
    Wrong(
        "ex2_sequential_ffn_output",
        "ReLU hard-coded instead of the activation argument",
        says="the activation argument is ignored",
        edits=(("activation(adapter_down(h))", "torch.relu(adapter_down(h))"),),
    ),
    # Exercise 3: W = sum_i A_i ⊗ B_i. (Exercises 4 and 5 reuse phm_weight; their first mistakes fail
    # before it matters, so that each exercise reports its own mistake in the nbgrader round.)
    Wrong(
        "ex3_phm_weight",
        "Kronecker factors swapped",
        says="the Kronecker factors are swapped",
        edits=(("torch.kron(A[i], B[i])", "torch.kron(B[i], A[i])"),),
    ),
    Wrong(
        "ex3_phm_weight",
        "A_i taken along the wrong axis",
        says="A indexed on the wrong dimension",
        edits=(("torch.kron(A[i], B[i])", "torch.kron(A[:, i], B[i])"),),
    ),
    Wrong(
        "ex3_phm_weight",
        "the sum starts at i = 1 (the formula's 1-based index)",
        says="range(n)",
        edits=(("for i in range(n))", "for i in range(1, n))"),),
    ),
    Wrong(
        "ex3_phm_weight",
        "mean of the products instead of their sum",
        says="averaged instead of summed",
        edits=(
            (
                "return sum(torch.kron(A[i], B[i]) for i in range(n))",
                "return torch.stack([torch.kron(A[i], B[i]) for i in range(n)]).mean(dim=0)",
            ),
        ),
    ),
    Wrong(
        "ex3_phm_weight",
        "torch.kron of the stacked 3-d tensors",
        says="3-d tensors",
        edits=(("return sum(torch.kron(A[i], B[i]) for i in range(n))", "return torch.kron(A, B)"),),
    ),
    # Exercise 4: low-rank B_i = s_i t_i^T.
    Wrong(
        "ex4_low_rank_phm_weight",
        "t not transposed",
        says="needs t transposed",
        edits=(("B = s @ t.transpose(1, 2)", "B = s @ t"),),
    ),
    Wrong(
        "ex4_low_rank_phm_weight",
        ".T on a 3-d tensor (reverses every dimension)",
        says="needs t transposed",
        edits=(("B = s @ t.transpose(1, 2)", "B = s @ t.T"),),
    ),
    Wrong(
        "ex4_low_rank_phm_weight",
        "B_i = t_i s_i^T (transposed blocks)",
        says="t_i s_i^T is its transpose",
        edits=(("B = s @ t.transpose(1, 2)", "B = t @ s.transpose(1, 2)"),),
    ),
    Wrong(
        "ex4_low_rank_phm_weight",
        "the sum written again with the Kronecker factors swapped",
        says="the Kronecker factors are swapped",
        edits=(("return phm_weight(A, B)", "return sum(torch.kron(B[i], A[i]) for i in range(A.shape[0]))"),),
    ),
    # Exercise 5: MyPHMLinear.
    Wrong(
        "ex5_phm_linear",
        "s and t shapes swapped (s with in_features)",
        says="s goes with out_features",
        edits=(
            ("torch.randn(n, out_features // n, phm_rank) * std", "torch.randn(n, in_features // n, phm_rank) * std"),
            (
                "torch.randn(n, in_features // n, phm_rank) * std)\n        self.bias",
                "torch.randn(n, out_features // n, phm_rank) * std)\n        self.bias",
            ),
        ),
    ),
    Wrong(
        "ex5_phm_linear",
        "bias left out of forward",
        says="the bias is missing",
        edits=(("return out if self.bias is None else out + self.bias", "return out"),),
    ),
    Wrong(
        "ex5_phm_linear",
        "x @ W instead of x @ W.T",
        says="x @ W.T is needed",
        edits=(("out = x @ W.T", "out = x @ W"),),
    ),
    Wrong(
        "ex5_phm_linear",
        "torch.mm (2-d inputs only)",
        says="not torch.mm",
        edits=(("out = x @ W.T", "out = torch.mm(x, W.T)"),),
    ),
    Wrong(
        "ex5_phm_linear",
        "no divisibility check",
        says="in_features=10 is not divisible by n=4",
        edits=((_IN_CHECK + _OUT_CHECK, ""),),
    ),
    Wrong(
        "ex5_phm_linear",
        "only in_features checked",
        says="out_features=10 is not divisible by n=4",
        edits=((_OUT_CHECK, ""),),
    ),
    Wrong(
        "ex5_phm_linear",
        "s and t initialised at zero",
        says="must start random",
        edits=(
            ("torch.randn(n, out_features // n, phm_rank) * std", "torch.zeros(n, out_features // n, phm_rank)"),
            ("torch.randn(n, in_features // n, phm_rank) * std", "torch.zeros(n, in_features // n, phm_rank)"),
        ),
    ),
    Wrong(
        "ex5_phm_linear",
        "W detached in forward",
        says="no .detach()",
        edits=(
            (
                "W = low_rank_phm_weight(self.A, self.s, self.t)",
                "W = low_rank_phm_weight(self.A, self.s, self.t).detach()",
            ),
        ),
    ),
    Wrong(
        "ex5_phm_linear",
        "bias created even with bias=False",
        says="bias only if bias=True",
        edits=(
            (
                "self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None",
                "self.bias = nn.Parameter(torch.zeros(out_features))",
            ),
        ),
    ),
    # Exercise 6: compacter_params.
    Wrong(
        "ex6_compacter_params",
        "A counted once per layer",
        says="A counted twice",
        edits=(("shared = n**3 if include_A else 0", "shared = 2 * n**3 if include_A else 0"),),
    ),
    Wrong(
        "ex6_compacter_params",
        "A with n^2 entries",
        says="A has n^3 entries",
        edits=(("shared = n**3 if include_A else 0", "shared = n**2 if include_A else 0"),),
    ),
    Wrong(
        "ex6_compacter_params",
        "biases left out",
        says="the biases are missing",
        edits=(("biases = (d + r) if bias else 0", "biases = 0"),),
    ),
    Wrong(
        "ex6_compacter_params",
        "include_A ignored",
        says="include_A=False leaves out",
        edits=(("shared = n**3 if include_A else 0", "shared = n**3"),),
    ),
    Wrong(
        "ex6_compacter_params",
        "full-rank B_i counted",
        says="the full-rank PHM adapter",
        edits=(("factors = 2 * k * (d + r)", "factors = 2 * d * r // n"),),
    ),
    Wrong(
        "ex6_compacter_params",
        "rank k ignored",
        says="grow linearly with k",
        edits=(("factors = 2 * k * (d + r)", "factors = 2 * (d + r)"),),
    ),
    # Issue 16, part 2: mistakes that the float32 / value-only / no_grad tests let through.
    Wrong(
        "ex1_parallel_ffn_output",
        "the FFN run under torch.no_grad() (it is frozen)",
        says="no gradient flows back through the FFN",
        combined=False,
        edits=(
            (
                "    return ffn(x_ffn_in) + scale * delta",
                "    with torch.no_grad():\n        h = ffn(x_ffn_in)\n    return h + scale * delta",
            ),
        ),
    ),
    Wrong(
        "ex1_parallel_ffn_output",
        "in-place += on the FFN's output",
        says="x was changed in place",
        combined=False,
        edits=(
            (
                "    return ffn(x_ffn_in) + scale * delta",
                "    out = ffn(x_ffn_in)\n    out += scale * delta\n    return out",
            ),
        ),
    ),
    Wrong(
        "ex1_parallel_ffn_output",
        "result accumulated in torch.zeros without dtype",
        says="a tensor made without dtype=",
        combined=False,
        edits=(
            (
                "    return ffn(x_ffn_in) + scale * delta",
                "    out = torch.zeros(x_ffn_in.shape)\n    out += ffn(x_ffn_in)\n    out += scale * delta\n"
                "    return out",
            ),
        ),
    ),
    Wrong(
        "ex1_parallel_ffn_output",
        "the biases of W_down and W_up left out (F.linear with the weights only)",
        says="the biases of W_down and W_up are left out",
        combined=False,
        edits=(
            (
                "delta = adapter_up(activation(adapter_down(x_ffn_in)))",
                "delta = F.linear(activation(F.linear(x_ffn_in, adapter_down.weight)), adapter_up.weight)",
            ),
        ),
    ),
    Wrong(
        "ex1_parallel_ffn_output",
        "W_up scaled in place instead of the branch",
        says="changed the adapter's parameters in place",
        combined=False,
        edits=(
            (
                "    delta = adapter_up(activation(adapter_down(x_ffn_in)))\n    return ffn(x_ffn_in) + scale * delta",
                "    with torch.no_grad():\n        adapter_up.weight.mul_(scale)\n        adapter_up.bias.mul_(scale)\n"
                "    return ffn(x_ffn_in) + adapter_up(activation(adapter_down(x_ffn_in)))",
            ),
        ),
    ),
    Wrong(
        "ex2_sequential_ffn_output",
        "the FFN run under torch.no_grad() (it is frozen)",
        says="h = ffn(x) was computed under torch.no_grad() or detached",
        combined=False,
        edits=(("    h = ffn(x_ffn_in)\n", "    with torch.no_grad():\n        h = ffn(x_ffn_in)\n"),),
    ),
    Wrong(
        "ex2_sequential_ffn_output",
        "in-place += on h",
        says="x was changed in place",
        combined=False,
        edits=(
            (
                "    return h + adapter_up(activation(adapter_down(h)))",
                "    h += adapter_up(activation(adapter_down(h)))\n    return h",
            ),
        ),
    ),
    Wrong(
        "ex2_sequential_ffn_output",
        "result accumulated in torch.zeros without dtype",
        says="a tensor made without dtype=",
        combined=False,
        edits=(
            (
                "    return h + adapter_up(activation(adapter_down(h)))",
                "    out = torch.zeros(h.shape)\n    out += h\n    out += adapter_up(activation(adapter_down(h)))\n"
                "    return out",
            ),
        ),
    ),
    Wrong(
        "ex2_sequential_ffn_output",
        "the biases of W_down and W_up left out (F.linear with the weights only)",
        says="the biases of W_down and W_up are left out",
        combined=False,
        edits=(
            (
                "adapter_up(activation(adapter_down(h)))",
                "F.linear(activation(F.linear(h, adapter_down.weight)), adapter_up.weight)",
            ),
        ),
    ),
    Wrong(
        "ex3_phm_weight",
        "sum accumulated in place into torch.zeros without dtype",
        says="a tensor made without dtype=",
        combined=False,
        source='''def phm_weight(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """W = sum_i A_i ⊗ B_i for A of shape (n, n, n) and B of shape (n, out/n, in/n); W has shape (out, in)."""
    n, p, q = B.shape
    W = torch.zeros(n * p, n * q)
    for i in range(n):
        W += torch.kron(A[i], B[i])
    return W
''',
    ),
    Wrong(
        "ex3_phm_weight",
        "inputs converted with .float()",
        says="a .float() set it",
        combined=False,
        edits=(("torch.kron(A[i], B[i])", "torch.kron(A[i].float(), B[i].float())"),),
    ),
    Wrong(
        "ex3_phm_weight",
        "each A_i transposed",
        says="each A_i was transposed",
        combined=False,
        edits=(("torch.kron(A[i], B[i])", "torch.kron(A[i].T.contiguous(), B[i])"),),
    ),
    Wrong(
        "ex4_low_rank_phm_weight",
        "B filled in a loop into torch.zeros without dtype",
        says="agrees only to float32 precision",
        combined=False,
        edits=(
            (
                "    B = s @ t.transpose(1, 2)  # (n, out/n, in/n): B_i = s_i t_i^T for every i at once\n",
                "    B = torch.zeros(s.shape[0], s.shape[1], t.shape[1])\n    for i in range(s.shape[0]):\n"
                "        B[i] = s[i] @ t[i].T\n",
            ),
        ),
    ),
    Wrong(
        "ex4_low_rank_phm_weight",
        "B built from s.data and t.data",
        says="no gradient reaches s and t",
        combined=False,
        edits=(("B = s @ t.transpose(1, 2)", "B = s.data @ t.data.transpose(1, 2)"),),
    ),
    Wrong(
        "ex4_low_rank_phm_weight",
        "t transposed in place (transpose_)",
        says="changed in place",
        combined=False,
        edits=(("B = s @ t.transpose(1, 2)", "B = s @ t.transpose_(1, 2)"),),
    ),
    Wrong(
        "ex5_phm_linear",
        "A, s, t kept in a tuple made in __init__",
        says="forward used the layer's old A",
        combined=False,
        edits=(
            (
                "        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None\n",
                "        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None\n"
                "        self.factors = (self.A, self.s, self.t)\n",
            ),
            ("W = low_rank_phm_weight(self.A, self.s, self.t)", "W = low_rank_phm_weight(*self.factors)"),
        ),
    ),
    Wrong(
        "ex5_phm_linear",
        "t initialised at zero (like LoRA's B)",
        says="t is all zeros at init",
        combined=False,
        edits=(
            (
                "torch.randn(n, in_features // n, phm_rank) * std",
                "torch.zeros(n, in_features // n, phm_rank)",
            ),
        ),
    ),
    Wrong(
        "ex5_phm_linear",
        "block sizes with / (floats)",
        says="out_features // n, not out_features / n",
        combined=False,
        edits=(
            ("torch.randn(n, out_features // n, phm_rank)", "torch.randn(n, out_features / n, phm_rank)"),
            ("torch.randn(n, in_features // n, phm_rank)", "torch.randn(n, in_features / n, phm_rank)"),
        ),
    ),
    Wrong(
        "ex5_phm_linear",
        "bias added even when it is None",
        says="add the bias only when it is not None",
        combined=False,
        edits=(("return out if self.bias is None else out + self.bias", "return out + self.bias"),),
    ),
    Wrong(
        "ex6_compacter_params",
        "per-layer sizes with / (a float count)",
        says="made the count a float",
        combined=False,
        edits=(("factors = 2 * k * (d + r)", "factors = 2 * n * k * (d / n + r / n)"),),
    ),
    Wrong(
        "ex6_compacter_params",
        "only one layer's bias counted",
        says="expected 2560, got 2496",
        combined=False,
        edits=(("biases = (d + r) if bias else 0", "biases = d if bias else 0"),),
    ),
    Wrong(
        "ex6_compacter_params",
        "factors divided by n again",
        says="expected 2560, got 1312",
        combined=False,
        edits=(("factors = 2 * k * (d + r)", "factors = 2 * k * (d + r) // n"),),
    ),
]
