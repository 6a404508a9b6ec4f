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
    Wrong(
        "ex1_functional_forward",
        "the correction added into h in place (h += delta)",
        says="changed its argument `h` in place",
        combined=False,
        edits=(("    return h + delta", "    h += delta\n    return h"),),
    ),
    Wrong(
        "ex1_functional_forward",
        "the correction added in place into a view of h",
        says="in place",
        combined=False,
        edits=(
            ("    return h + delta", "    rows = h.view(-1, d)\n    rows.add_(delta.reshape(-1, d))\n    return h"),
        ),
    ),
    Wrong(
        "ex1_functional_forward",
        "h converted with .float() (float64 inputs come back as float32)",
        says="dtype torch.float64",
        combined=False,
        edits=(("    d = h.shape[-1]\n", "    h = h.float()\n    d = h.shape[-1]\n"),),
    ),
    Wrong(
        "ex1_functional_forward",
        "computed in float32 and cast back to h's dtype",
        says="float32 precision",
        combined=False,
        edits=(
            ("    z = h @ W_down.T ", "    z = h.float() @ W_down.float().T "),
            ("    return h + delta", "    return (h + delta).to(h.dtype)"),
        ),
    ),
    Wrong(
        "ex1_functional_forward",
        "the forward pass computed under torch.no_grad()",
        says="does not require grad",
        combined=False,
        edits=(
            (
                "    z = h @ W_down.T                      # (..., r)\n",
                "    with torch.no_grad():\n        return _no_grad_forward(h, W_down, b_down, W_up, b_up, activations[activation])\n\n\n"
                "def _no_grad_forward(h, W_down, b_down, W_up, b_up, act):\n    z = h @ W_down.T\n",
            ),
            ("    delta = activations[activation](z) @ W_up.T", "    delta = act(z) @ W_up.T"),
        ),
    ),
    Wrong(
        "ex1_functional_forward",
        "W_up detached",
        says="no gradient reaches W_up",
        combined=False,
        edits=(
            ("delta = activations[activation](z) @ W_up.T", "delta = activations[activation](z) @ W_up.detach().T"),
        ),
    ),
    Wrong(
        "ex1_functional_forward",
        "the tanh approximation of GELU",
        says="tanh approximation",
        combined=False,
        edits=(('"gelu": F.gelu,', '"gelu": lambda z: F.gelu(z, approximate="tanh"),'),),
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
    Wrong(
        "ex2_my_adapter",
        "forward adds the correction into h in place",
        says="changed its input h in place",
        combined=False,
        edits=(
            (
                "        return h + self.up(self.act(self.down(h)))",
                "        h += self.up(self.act(self.down(h)))\n        return h",
            ),
        ),
    ),
    Wrong(
        "ex2_my_adapter",
        "down zeroed as well as up",
        says="down.weight is all zero",
        combined=False,
        edits=(
            (
                "            self.up.bias.zero_()\n",
                "            self.up.bias.zero_()\n            self.down.weight.zero_()\n            self.down.bias.zero_()\n",
            ),
        ),
    ),
    Wrong(
        "ex2_my_adapter",
        "up frozen after zeroing it (so that it stays zero)",
        says="does not require grad",
        combined=False,
        edits=(
            (
                "            self.up.bias.zero_()\n",
                "            self.up.bias.zero_()\n        self.up.requires_grad_(False)\n",
            ),
        ),
    ),
    Wrong(
        "ex2_my_adapter",
        "the correction detached in forward",
        says="cut off from autograd",
        combined=False,
        edits=(("return h + self.up(self.act(self.down(h)))", "return h + self.up(self.act(self.down(h))).detach()"),),
    ),
    Wrong(
        "ex2_my_adapter",
        "activation name ignored (always ReLU)",
        says="the activation is relu, whatever",
        combined=False,
        edits=(("        self.act = activations[activation]()", "        self.act = nn.ReLU()"),),
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
    Wrong(
        "ex3_linear_adapter",
        "the product added in place into a float32 identity",
        says="dtype of linearised_adapter_matrix for float64",
        combined=False,
        edits=(
            (
                "return torch.eye(d, dtype=W_down.dtype, device=W_down.device) + W_down.T @ W_up.T",
                "M = torch.eye(d)\n    M += W_down.T @ W_up.T\n    return M",
            ),
        ),
    ),
    Wrong(
        "ex3_linear_adapter",
        "d read from the wrong axis of W_down (r instead of d)",
        says="raised RuntimeError",
        combined=False,
        edits=(("    d = W_down.shape[1]", "    d = W_down.shape[0]"),),
    ),
    Wrong(
        "ex3_linear_adapter",
        "rank returned as a tensor",
        says="int(",
        combined=False,
        edits=(("return int(torch.linalg.matrix_rank(M - eye))", "return torch.linalg.matrix_rank(M - eye)"),),
    ),
    Wrong(
        "ex3_linear_adapter",
        "the number 1 subtracted instead of the identity matrix",
        says="not the number 1",
        combined=False,
        edits=(("return int(torch.linalg.matrix_rank(M - eye))", "return int(torch.linalg.matrix_rank(M - 1))"),),
    ),
    Wrong(
        "ex3_linear_adapter",
        "rank of W_down (the bound r) instead of rank(M - I)",
        says="two columns of W_up are equal",
        combined=False,
        edits=(("return int(torch.linalg.matrix_rank(M - eye))", "return int(torch.linalg.matrix_rank(W_down))"),),
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
    Wrong(
        "ex4_flops",
        "adapter counted with one projection only",
        says="count both projections",
        combined=False,
        edits=(("return 2 * (n * d * r) + 2 * (n * r * d)", "return 2 * (n * d * r)"),),
    ),
    Wrong(
        "ex4_flops",
        "QK^T and AV counted for one head of BERT-base's size 64",
        says="summed over all heads",
        combined=False,
        edits=(
            ("scores = 2 * n * n * d        # QK^T, summed over heads", "scores = 2 * n * n * 64"),
            ("weighted_sum = 2 * n * n * d  # AV, summed over heads", "weighted_sum = 2 * n * n * 64"),
        ),
    ),
    Wrong(
        "ex4_flops",
        "output projection O forgotten",
        says="output projection O is missing",
        combined=False,
        edits=(("projections = 4 * 2 * n * d * d", "projections = 3 * 2 * n * d * d"),),
    ),
    Wrong(
        "ex4_flops",
        "FFN count as a float",
        says="integer arithmetic",
        combined=False,
        edits=(("return 2 * (n * d * d_ff) + 2 * (n * d_ff * d)", "return 4.0 * n * d * d_ff"),),
    ),
]
