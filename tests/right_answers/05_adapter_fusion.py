"""Right answers for 05_adapter_fusion: correct code written differently from the master."""

from right_answers import Right

RIGHT = [
    # Exercise 1: the fusion layer.
    Right(
        "ex1_my_fusion",
        "einsum for the scores and the mix, nn.init.eye_ / zeros_, scale as d ** -0.5",
        source="""class MyFusion(nn.Module):
    def __init__(self, d_model: int, n_adapters: int):
        super().__init__()
        self.d_model = d_model
        self.n_adapters = n_adapters
        self.query = nn.Linear(d_model, d_model)
        self.key = nn.Linear(d_model, d_model)
        self.value = nn.Linear(d_model, d_model)
        nn.init.eye_(self.value.weight)
        nn.init.zeros_(self.value.bias)

    def forward(self, h, adapter_outputs):
        q = self.query(h)
        k = self.key(adapter_outputs)
        v = self.value(adapter_outputs)
        scores = torch.einsum("...d,...nd->...n", q, k) * self.d_model ** -0.5
        weights = scores.softmax(dim=-1)
        mixed = torch.einsum("...n,...nd->...d", weights, v)
        return mixed + h, weights
""",
    ),
    Right(
        "ex1_my_fusion",
        "matmul with unsqueeze/squeeze, value set with fill_ and fill_diagonal_, F.softmax",
        source='''import torch.nn.functional as F


class MyFusion(nn.Module):
    """AdapterFusion for one sub-layer."""

    def __init__(self, d_model, n_adapters):
        super().__init__()
        self.d_model, self.n_adapters = d_model, n_adapters
        self.value = nn.Linear(d_model, d_model)
        self.query = nn.Linear(d_model, d_model)
        self.key = nn.Linear(d_model, d_model)
        with torch.no_grad():
            self.value.weight.fill_(0.0)
            self.value.weight.fill_diagonal_(1.0)
            self.value.bias.fill_(0.0)

    def forward(self, h, adapter_outputs):
        keys = self.key(adapter_outputs)                                      # (..., n, d)
        scores = (keys @ self.query(h).unsqueeze(-1)).squeeze(-1)             # (..., n)
        weights = F.softmax(scores / math.sqrt(self.d_model), dim=-1)
        mix = (weights.unsqueeze(-2) @ self.value(adapter_outputs)).squeeze(-2)   # (..., d)
        return h + mix, weights
''',
    ),
    Right(
        "ex1_my_fusion",
        "a loop over the adapters into a torch.zeros_like buffer, the softmax by hand with the largest score subtracted",
        source="""class MyFusion(nn.Module):
    def __init__(self, d_model, n_adapters):
        super().__init__()
        self.d_model = d_model
        self.n_adapters = n_adapters
        self.query = nn.Linear(d_model, d_model)
        self.key = nn.Linear(d_model, d_model)
        self.value = nn.Linear(d_model, d_model)
        with torch.no_grad():
            self.value.weight.copy_(torch.eye(d_model, dtype=self.value.weight.dtype))
            self.value.bias.zero_()

    def forward(self, h, adapter_outputs):
        q = self.query(h)
        scores = torch.stack([(q * self.key(adapter_outputs[..., i, :])).sum(-1) for i in range(self.n_adapters)], dim=-1)
        scores = scores / math.sqrt(self.d_model)
        e = torch.exp(scores - scores.amax(dim=-1, keepdim=True))
        weights = e / e.sum(dim=-1, keepdim=True)
        mix = torch.zeros_like(h)
        for i in range(self.n_adapters):
            mix = mix + weights[..., i, None] * self.value(adapter_outputs[..., i, :])
        return h + mix, weights
""",
    ),
    # Exercise 2a: the fusion weights.
    Right(
        "ex2_attention_weights",
        "matmul and a softmax written out with the max subtracted",
        source="""def attention_over_adapters(q, keys):
    scores = (keys @ q.unsqueeze(-1)).squeeze(-1) / q.shape[-1] ** 0.5
    shifted = torch.exp(scores - scores.max(dim=-1, keepdim=True).values)
    return shifted / shifted.sum(dim=-1, keepdim=True)
""",
    ),
    Right(
        "ex2_attention_weights",
        "einsum, then F.softmax",
        source="""import torch.nn.functional as F


def attention_over_adapters(q: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    d = keys.size(-1)
    return F.softmax(torch.einsum("...nd,...d->...n", keys, q) / math.sqrt(d), dim=-1)
""",
    ),
    Right(
        "ex2_attention_weights",
        "log-softmax through logsumexp, then exp; the scale built as a tensor of the inputs' dtype",
        source="""def attention_over_adapters(q, keys):
    scale = torch.tensor(q.shape[-1], dtype=q.dtype, device=q.device).sqrt()
    scores = torch.einsum("...d,...nd->...n", q, keys) / scale
    return torch.exp(scores - torch.logsumexp(scores, dim=-1, keepdim=True))
""",
    ),
    # Exercise 2b: the entropy of the weights.
    Right(
        "ex2_weight_entropy",
        "torch.where keeping 0 for zero weights",
        source="""def weight_entropy(weights):
    terms = torch.where(weights > 0, weights * torch.log(weights), torch.zeros_like(weights))
    return -terms.sum(dim=-1)
""",
    ),
    Right(
        "ex2_weight_entropy",
        "log of the weights clamped away from 0 (0 times a finite log is 0)",
        source="""def weight_entropy(weights: torch.Tensor) -> torch.Tensor:
    logs = weights.clamp_min(torch.finfo(weights.dtype).tiny).log()
    return (weights * logs).sum(-1).neg()
""",
    ),
    Right(
        "ex2_weight_entropy",
        "nansum: the NaN of 0 * log(0) left out of the sum",
        source="""def weight_entropy(weights):
    return -(weights * weights.log()).nansum(dim=-1)
""",
    ),
    Right(
        "ex2_weight_entropy",
        "torch.distributions.Categorical(probs=...).entropy()",
        source="""def weight_entropy(weights: torch.Tensor) -> torch.Tensor:
    return torch.distributions.Categorical(probs=weights).entropy()
""",
    ),
    # Exercise 3: what a fusion layer costs.
    Right(
        "ex3_fusion_parameters",
        "factored as 3 L d (d + 1)",
        source="""def fusion_parameter_count(d_model, n_layers, n_adapters):
    return 3 * n_layers * d_model * (d_model + 1)
""",
    ),
    Right(
        "ex3_fusion_parameters",
        "summed per linear map in a loop",
        source="""def fusion_parameter_count(d_model: int, n_layers: int, n_adapters: int) -> int:
    per_layer = 0
    for _ in ("query", "key", "value"):
        per_layer += d_model * d_model   # weight
        per_layer += d_model             # bias
    return int(per_layer * n_layers)
""",
    ),
    Right(
        "ex3_fusion_parameters",
        "counted on one real nn.Linear(d_model, d_model)",
        source="""def fusion_parameter_count(d_model, n_layers, n_adapters):
    per_map = sum(p.numel() for p in nn.Linear(d_model, d_model).parameters())
    return 3 * per_map * n_layers
""",
    ),
    # Exercise 4: which source adapter each layer listens to.
    Right(
        "ex4_top_adapter",
        "max().indices, the shape checked with shape[1]",
        source="""def top_adapter_per_layer(weights, names):
    if weights.shape[1] != len(names):
        raise ValueError(f"got {len(names)} names for {weights.shape[1]} adapters: names must have one per column")
    return [names[int(i)] for i in weights.max(dim=1).indices]
""",
    ),
    Right(
        "ex4_top_adapter",
        "a Python loop over the rows, max with a key (the first on a tie)",
        source="""def top_adapter_per_layer(weights: torch.Tensor, names: list[str]) -> list[str]:
    columns = weights.shape[-1]
    if columns != len(names):
        raise ValueError(f"names has {len(names)} entries, weights has {columns} columns")
    tops = []
    for row in weights.tolist():
        best = max(range(columns), key=lambda i: row[i])
        tops.append(names[best])
    return tops
""",
    ),
    Right(
        "ex4_top_adapter",
        "the message gives the shape of weights as a tuple",
        source="""def top_adapter_per_layer(weights, names):
    if len(names) != weights.size(-1):
        raise ValueError(f"len(names) = {len(names)} does not match weights.shape = {tuple(weights.shape)}")
    return [names[j] for j in torch.argmax(weights, dim=-1).tolist()]
""",
    ),
]
