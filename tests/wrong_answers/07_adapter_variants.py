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
]
