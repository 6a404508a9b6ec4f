"""Right answers for 01_bottleneck_math: correct code written differently from the master."""

from right_answers import Right

_FORWARD_HEADER = """def adapter_forward(
    h: torch.Tensor,
    W_down: torch.Tensor,
    b_down: torch.Tensor | None,
    W_up: torch.Tensor,
    b_up: torch.Tensor | None,
    activation: str = "relu",
) -> torch.Tensor:
"""

_MY_ADAPTER_HEADER = """class MyAdapter(nn.Module):
    def __init__(self, d_model: int, bottleneck: int, activation: str = "relu"):
        super().__init__()
"""

RIGHT = [
    # Exercise 1: adapter_forward.
    Right(
        "ex1_functional_forward",
        "W_up and the biases validated before W_down, activation checked last, F.linear",
        source=_FORWARD_HEADER
        + """    d = h.shape[-1]
    r = W_down.shape[0]
    if W_up.shape != (d, r):
        raise ValueError(f"W_up must have shape (d, r) = {(d, r)}, got {tuple(W_up.shape)}")
    if b_up is not None and b_up.shape != (d,):
        raise ValueError(f"b_up must have shape {(d,)}, got {tuple(b_up.shape)}")
    if b_down is not None and b_down.shape != (r,):
        raise ValueError(f"b_down must have shape {(r,)}, got {tuple(b_down.shape)}")
    if W_down.shape != (r, d):
        raise ValueError(f"W_down must have shape (r, d) = {(r, d)}, got {tuple(W_down.shape)}")
    if activation == "relu":
        act = F.relu
    elif activation == "gelu":
        act = F.gelu
    elif activation == "silu":
        act = F.silu
    elif activation == "identity":
        act = lambda z: z  # noqa: E731
    else:
        raise ValueError(f"unknown activation {activation!r}")
    return h + F.linear(act(F.linear(h, W_down, b_down)), W_up, b_up)
""",
    ),
    Right(
        "ex1_functional_forward",
        "einsum, biases added with zeros, a shape dict checked in a loop, activation first, gelu by its formula",
        source=_FORWARD_HEADER
        + """    if activation not in ("relu", "gelu", "silu", "identity"):
        raise ValueError(f"activation {activation!r} is not one of relu, gelu, silu, identity")
    if W_down.ndim != 2:
        raise ValueError(f"W_down must be 2-D (r, d), got shape {tuple(W_down.shape)}")
    r, d = W_down.shape
    if h.shape[-1] != d:
        raise ValueError(f"h has shape {tuple(h.shape)} but W_down has shape {tuple(W_down.shape)}: d differs")
    if b_down is None:
        b_down = torch.zeros(r, dtype=h.dtype)
    if b_up is None:
        b_up = torch.zeros(d, dtype=h.dtype)
    for name, tensor, shape in (("W_up", W_up, (d, r)), ("b_down", b_down, (r,)), ("b_up", b_up, (d,))):
        if tuple(tensor.shape) != shape:
            raise ValueError(f"{name} should be {shape}, got {tuple(tensor.shape)}")
    z = torch.einsum("...d,rd->...r", h, W_down) + b_down
    if activation == "relu":
        a = torch.clamp(z, min=0)
    elif activation == "gelu":
        a = 0.5 * z * (1 + torch.erf(z / 2**0.5))
    elif activation == "silu":
        a = z * torch.sigmoid(z)
    else:
        a = z
    return torch.einsum("...r,dr->...d", a, W_up) + b_up + h
""",
    ),
    Right(
        "ex1_functional_forward",
        "one token at a time in a loop over the flattened rows, nn.functional modules as activations",
        combined=False,
        source=_FORWARD_HEADER
        + """    acts = {"relu": nn.ReLU(), "gelu": nn.GELU(), "silu": nn.SiLU(), "identity": nn.Identity()}
    d = h.shape[-1]
    if W_down.dim() != 2 or W_down.shape[1] != d:
        raise ValueError(f"W_down has shape {tuple(W_down.shape)}, which does not fit h of shape {tuple(h.shape)}")
    r = W_down.shape[0]
    if tuple(W_up.shape) != (d, r):
        raise ValueError(f"W_up has shape {tuple(W_up.shape)}, expected {(d, r)}")
    if b_down is not None and tuple(b_down.shape) != (r,):
        raise ValueError(f"b_down has shape {tuple(b_down.shape)}, expected {(r,)}")
    if b_up is not None and tuple(b_up.shape) != (d,):
        raise ValueError(f"b_up has shape {tuple(b_up.shape)}, expected {(d,)}")
    if activation not in acts:
        raise ValueError(f"unknown activation: {activation}")
    rows = h.reshape(-1, d)
    out = []
    for row in rows:  # column form, one token at a time: W_up σ(W_down h + b_down) + b_up
        z = W_down @ row
        if b_down is not None:
            z = z + b_down
        delta = W_up @ acts[activation](z)
        if b_up is not None:
            delta = delta + b_up
        out.append(row + delta)
    return torch.stack(out).reshape(h.shape)
""",
    ),
    Right(
        "ex1_functional_forward",
        "d and r read from W_up, every other argument checked against them, matmul with transposes",
        combined=False,
        source=_FORWARD_HEADER
        + """    fns = {"relu": torch.relu, "gelu": F.gelu, "silu": F.silu, "identity": torch.nn.Identity()}
    if activation not in fns:
        raise ValueError(f"activation {activation!r} unknown")
    if W_up.ndim != 2:
        raise ValueError(f"W_up must be 2-D, got {tuple(W_up.shape)}")
    d, r = W_up.shape
    if h.shape[-1] != d:
        raise ValueError(f"h has shape {tuple(h.shape)}, last dimension should be d = {d}")
    if tuple(W_down.shape) != (r, d):
        raise ValueError(f"W_down has shape {tuple(W_down.shape)}, expected (r, d) = {(r, d)}")
    if b_down is not None and tuple(b_down.shape) != (r,):
        raise ValueError(f"b_down has shape {tuple(b_down.shape)}, expected {(r,)}")
    if b_up is not None and tuple(b_up.shape) != (d,):
        raise ValueError(f"b_up has shape {tuple(b_up.shape)}, expected {(d,)}")
    z = torch.matmul(h, W_down.transpose(0, 1))
    z = z if b_down is None else z + b_down
    out = torch.matmul(fns[activation](z), W_up.transpose(0, 1))
    out = out if b_up is None else out + b_up
    return out + h
""",
    ),
    Right(
        "ex1_functional_forward",
        "in-place operations on its own intermediate tensors only (add_, relu_, +=), torch.matmul",
        combined=False,
        source=_FORWARD_HEADER
        + """    if activation not in ("relu", "gelu", "silu", "identity"):
        raise ValueError(f"unknown activation {activation!r}")
    d = h.shape[-1]
    if W_down.dim() != 2 or W_down.shape[1] != d:
        raise ValueError(f"W_down has shape {tuple(W_down.shape)}, expected (r, {d})")
    r = W_down.shape[0]
    if tuple(W_up.shape) != (d, r):
        raise ValueError(f"W_up has shape {tuple(W_up.shape)}, expected {(d, r)}")
    if b_down is not None and tuple(b_down.shape) != (r,):
        raise ValueError(f"b_down has shape {tuple(b_down.shape)}, expected {(r,)}")
    if b_up is not None and tuple(b_up.shape) != (d,):
        raise ValueError(f"b_up has shape {tuple(b_up.shape)}, expected {(d,)}")
    z = torch.matmul(h, W_down.T)  # a new tensor: changing it in place leaves h alone
    if b_down is not None:
        z.add_(b_down)
    if activation == "relu":
        z = torch.relu_(z)
    elif activation == "gelu":
        z = F.gelu(z)
    elif activation == "silu":
        z = F.silu(z)
    out = torch.matmul(z, W_up.T)
    if b_up is not None:
        out += b_up
    out += h
    return out
""",
    ),
    # Exercise 2: MyAdapter.
    Right(
        "ex2_my_adapter",
        "nn.init.zeros_ (no explicit no_grad), activation chosen with if/elif",
        source=_MY_ADAPTER_HEADER
        + """        self.down = nn.Linear(d_model, bottleneck)
        self.up = nn.Linear(bottleneck, d_model)
        if activation == "relu":
            self.act = nn.ReLU()
        elif activation == "gelu":
            self.act = nn.GELU()
        elif activation == "silu":
            self.act = nn.SiLU()
        elif activation == "identity":
            self.act = nn.Identity()
        else:
            raise ValueError(f"unknown activation {activation!r}")
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        z = self.down(h)
        z = self.act(z)
        return self.up(z) + h
""",
    ),
    Right(
        "ex2_my_adapter",
        "activation kept as a function (not a module), up zeroed through .data, forward in two steps",
        source=_MY_ADAPTER_HEADER
        + """        functions = {"relu": F.relu, "gelu": F.gelu, "silu": F.silu, "identity": lambda x: x}
        if activation not in functions:
            raise ValueError(activation)
        self.activation = functions[activation]
        self.down = nn.Linear(in_features=d_model, out_features=bottleneck, bias=True)
        self.up = nn.Linear(in_features=bottleneck, out_features=d_model, bias=True)
        self.up.weight.data.zero_()
        self.up.bias.data.fill_(0.0)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        correction = self.up(self.activation(self.down(h)))
        return h + correction
""",
    ),
    Right(
        "ex2_my_adapter",
        "in-place ReLU, the residual added into forward's own output, up's parameters replaced by zero Parameters",
        combined=False,
        source=_MY_ADAPTER_HEADER
        + """        makers = {"relu": lambda: nn.ReLU(inplace=True), "gelu": nn.GELU, "silu": nn.SiLU, "identity": nn.Identity}
        if activation not in makers:
            raise ValueError(f"unknown activation {activation!r}")
        self.act = makers[activation]()
        self.down = nn.Linear(d_model, bottleneck)
        self.up = nn.Linear(bottleneck, d_model)
        self.up.weight = nn.Parameter(torch.zeros(d_model, bottleneck))  # before any optimizer exists: fine
        self.up.bias = nn.Parameter(torch.zeros(d_model))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        out = self.up(self.act(self.down(h)))
        out += h
        return out
""",
    ),
    # Exercise 3: the linearised adapter and its rank.
    Right(
        "ex3_linear_adapter",
        "column-form matrix transposed, eye in the default dtype, rank of the product itself",
        source="""def linearised_adapter_matrix(W_down: torch.Tensor, W_up: torch.Tensor) -> torch.Tensor:
    d = W_up.shape[0]
    column_form = torch.eye(d) + W_up @ W_down  # acts on column vectors: h' = (I + W_up W_down) h
    return column_form.T


def linear_adapter_update_rank(W_down: torch.Tensor, W_up: torch.Tensor) -> int:
    update = W_down.T @ W_up.T  # M - I, without forming M
    return torch.linalg.matrix_rank(update).item()
""",
    ),
    Right(
        "ex3_linear_adapter",
        "M from the adapter applied to the rows of the identity, rank with int() of M minus eye",
        source="""def linearised_adapter_matrix(W_down: torch.Tensor, W_up: torch.Tensor) -> torch.Tensor:
    eye = torch.eye(W_down.shape[1], dtype=W_down.dtype)
    return eye + (eye @ W_down.T) @ W_up.T  # the adapter applied to every row of I


def linear_adapter_update_rank(W_down: torch.Tensor, W_up: torch.Tensor) -> int:
    M = linearised_adapter_matrix(W_down, W_up)
    rank = torch.linalg.matrix_rank(M - torch.eye(len(M), dtype=M.dtype))
    return int(rank)
""",
    ),
    # Exercise 4: FLOPs.
    Right(
        "ex4_flops",
        "other formula order, factored forms",
        source="""def adapter_flops(d: int, r: int, seq_len: int) -> int:
    return 4 * seq_len * d * r


def attention_flops(d: int, seq_len: int) -> int:
    return 8 * seq_len * d * d + 4 * seq_len * seq_len * d


def ffn_flops(d: int, d_ff: int, seq_len: int) -> int:
    return 4 * seq_len * d * d_ff
""",
    ),
    Right(
        "ex4_flops",
        "a helper for one matrix product, summed over a list of shapes, math.prod",
        source='''import math


def matmul_flops(p: int, q: int, s: int) -> int:
    """(p x q)(q x s): p*q*s multiply-adds, 2 FLOPs each."""
    return 2 * math.prod((p, q, s))


def adapter_flops(d: int, r: int, seq_len: int) -> int:
    return matmul_flops(seq_len, d, r) + matmul_flops(seq_len, r, d)


def attention_flops(d: int, seq_len: int) -> int:
    n = seq_len
    shapes = [(n, d, d)] * 4 + [(n, d, n), (n, n, d)]  # Q, K, V, O; QK^T and AV as one head with d_h = d
    return sum(matmul_flops(*shape) for shape in shapes)


def ffn_flops(d: int, d_ff: int, seq_len: int) -> int:
    total = 0
    for p, q, s in ((seq_len, d, d_ff), (seq_len, d_ff, d)):
        total += matmul_flops(p, q, s)
    return total
''',
    ),
]
