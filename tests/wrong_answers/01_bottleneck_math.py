"""Wrong answers for 01_bottleneck_math."""

from wrong_answers import Wrong

WRONG = [
    # Exercise 1: the adapter as a function of raw tensors.
    Wrong(
        "ex1_functional_forward",
        "missing residual",
        says="residual",
        edits=(("    return h + delta", "    return delta"),),
    ),
    Wrong(
        "ex1_functional_forward",
        "activation after the up-projection",
        says="activation",
        edits=(("delta = activations[activation](z) @ W_up.T", "delta = activations[activation](z @ W_up.T)"),),
    ),
    Wrong(
        "ex1_functional_forward",
        "weights used untransposed (nn.Linear stores W_down as (r, d))",
        says="transposes",
        edits=(("z = h @ W_down.T", "z = h @ W_down"),),
    ),
    Wrong(
        "ex1_functional_forward",
        "b_up left out",
        says="b_up",
        edits=(("        delta = delta + b_up", "        pass"),),
    ),
    Wrong(
        "ex1_functional_forward",
        "no shape check",
        says="ValueError",
        combined=False,
        edits=(("    for name, (shape, tensor) in expected.items():", "    for name, (shape, tensor) in {}.items():"),),
    ),
    # Exercise 2: the nn.Module adapter.
    Wrong(
        "ex2_my_adapter",
        "W_up not zero at init",
        says="identity",
        edits=(("            self.up.weight.zero_()\n", ""),),
    ),
    Wrong(
        "ex2_my_adapter",
        "W_down zeroed instead of W_up",
        says="up.weight",
        edits=(("            self.up.weight.zero_()", "            self.down.weight.zero_()"),),
    ),
    Wrong(
        "ex2_my_adapter",
        "missing residual in forward",
        says="residual",
        edits=(("return h + self.up(self.act(self.down(h)))", "return self.up(self.act(self.down(h)))"),),
    ),
    Wrong(
        "ex2_my_adapter",
        "activation after the up-projection",
        says="activation",
        edits=(("return h + self.up(self.act(self.down(h)))", "return h + self.act(self.up(self.down(h)))"),),
    ),
    # Exercise 3: the linearised adapter and its rank.
    Wrong(
        "ex3_linear_adapter",
        "identity left out of M",
        says="identity",
        edits=(
            (
                "return torch.eye(d, dtype=W_down.dtype, device=W_down.device) + W_down.T @ W_up.T",
                "return W_down.T @ W_up.T",
            ),
        ),
    ),
    Wrong(
        "ex3_linear_adapter",
        "product in the column-vector order",
        says="transpose",
        edits=(("+ W_down.T @ W_up.T", "+ (W_up @ W_down)"),),
    ),
    Wrong(
        "ex3_linear_adapter",
        "rank of M instead of M - I",
        says="M - I",
        edits=(("return int(torch.linalg.matrix_rank(M - eye))", "return int(torch.linalg.matrix_rank(M))"),),
    ),
    # Exercise 4: FLOPs.
    Wrong(
        "ex4_flops",
        "multiply-adds counted as one FLOP",
        says="2 FLOPs",
        edits=(("return 2 * (n * d * r) + 2 * (n * r * d)", "return (n * d * r) + (n * r * d)"),),
    ),
    Wrong(
        "ex4_flops",
        "attention without QK^T and AV",
        says="QK",
        edits=(("return projections + scores + weighted_sum", "return projections"),),
    ),
    Wrong(
        "ex4_flops",
        "FFN with only one projection",
        says="both FFN matrix products",
        edits=(("return 2 * (n * d * d_ff) + 2 * (n * d_ff * d)", "return 2 * (n * d * d_ff)"),),
    ),
]
