"""Right answers for 02_near_identity_init: correct code written differently from the master."""

from right_answers import Right

RIGHT = [
    # Exercise 1: near_identity_init_.
    Right(
        "ex1_near_identity_init",
        "torch.nn.init functions (they run under no_grad themselves), std checked with <=",
        source="""def near_identity_init_(adapter: nn.Module, std: float = 1e-2) -> nn.Module:
    if std <= 0:
        raise ValueError(f"std must be positive, got std={std}")
    nn.init.normal_(adapter.down.weight, mean=0.0, std=std)
    nn.init.zeros_(adapter.up.weight)
    if adapter.down.bias is not None:
        nn.init.zeros_(adapter.down.bias)
    if adapter.up.bias is not None:
        nn.init.constant_(adapter.up.bias, 0.0)
    return adapter
""",
    ),
    Right(
        "ex1_near_identity_init",
        "copy_ of a fresh randn tensor times std, biases found by name, fill_(0)",
        source="""def near_identity_init_(adapter: nn.Module, std: float = 1e-2) -> nn.Module:
    if not (std > 0):
        raise ValueError("std must be > 0, got " + str(std))
    with torch.no_grad():
        w = adapter.down.weight
        w.copy_(torch.randn(w.shape, dtype=w.dtype, device=w.device) * std)
        adapter.up.weight.fill_(0.0)
        for name, p in adapter.named_parameters():
            if name in ("down.bias", "up.bias"):
                p.fill_(0.0)
    return adapter
""",
    ),
    Right(
        "ex1_near_identity_init",
        "through .data, without torch.no_grad()",
        combined=False,
        source="""def near_identity_init_(adapter: nn.Module, std: float = 1e-2) -> nn.Module:
    if std <= 0.0:
        raise ValueError(f"std={std} is not > 0")
    adapter.down.weight.data.normal_(0.0, std)
    adapter.up.weight.data.zero_()
    for layer in [adapter.up, adapter.down]:
        if getattr(layer, "bias", None) is not None:
            layer.bias.data.zero_()
    return adapter
""",
    ),
    Right(
        "ex1_near_identity_init",
        "new values of the parameter's own dtype and device assigned to .data (the Parameter objects stay)",
        combined=False,
        source="""def near_identity_init_(adapter: nn.Module, std: float = 1e-2) -> nn.Module:
    if not std > 0:
        raise ValueError(f"std must be positive, got std={std}")
    w = adapter.down.weight
    w.data = torch.randn_like(w) * std
    adapter.up.weight.data = torch.zeros_like(adapter.up.weight)
    for layer in (adapter.down, adapter.up):
        if layer.bias is not None:
            layer.bias.data = torch.zeros_like(layer.bias)
    return adapter
""",
    ),
    # Exercise 2a: relative_change.
    Right(
        "ex2_relative_change",
        "torch.linalg.norm on flattened tensors, float() instead of .item(), shape checked with .size()",
        source="""def relative_change(before: torch.Tensor, after: torch.Tensor) -> float:
    if before.size() != after.size():
        raise ValueError(f"shapes differ: before {tuple(before.size())}, after {tuple(after.size())}")
    diff = torch.linalg.norm((after - before).flatten())
    return float(diff / torch.linalg.norm(before.flatten()))
""",
    ),
    Right(
        "ex2_relative_change",
        "square root of the ratio of sums of squares, in float64",
        source="""def relative_change(before: torch.Tensor, after: torch.Tensor) -> float:
    if tuple(before.shape) != tuple(after.shape):
        raise ValueError("cannot compare tensors of shapes %s and %s" % (tuple(before.shape), tuple(after.shape)))
    b, a = before.double(), after.double()
    return torch.sqrt(((a - b) ** 2).sum() / (b**2).sum()).item()
""",
    ),
    Right(
        "ex2_relative_change",
        "torch.dist and torch.linalg.vector_norm, shapes compared as lists",
        combined=False,
        source="""def relative_change(before: torch.Tensor, after: torch.Tensor) -> float:
    if list(before.shape) != list(after.shape):
        raise ValueError(f"shape mismatch: {tuple(before.shape)} vs {tuple(after.shape)}")
    return (torch.dist(after, before) / torch.linalg.vector_norm(before)).item()
""",
    ),
    # Exercise 2b: drift_report.
    Right(
        "ex2_drift_report",
        "adapters-on pass first, inference_mode, training mode put back, flips counted and divided",
        source="""def drift_report(model: nn.Module, batch: dict, adapter_name: str) -> dict[str, float]:
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        set_active_adapter(model, adapter_name)
        with_adapters = model(**batch, output_hidden_states=True)
        set_active_adapter(model, None)
        without = model(**batch, output_hidden_states=True)
    set_active_adapter(model, adapter_name)
    model.train(was_training)
    pred_with = with_adapters.logits.argmax(-1)
    pred_without = without.logits.argmax(-1)
    n_flipped = (pred_with != pred_without).sum().item()
    last_before = without.hidden_states[-1]
    last_after = with_adapters.hidden_states[-1]
    return {
        "relative_change": float((last_after - last_before).norm() / last_before.norm()),
        "flip_rate": n_flipped / len(pred_with),
    }
""",
    ),
    Right(
        "ex2_drift_report",
        "a helper for one pass, the last layer indexed by num_hidden_layers, torch.mean of a float tensor",
        source="""def drift_report(model: nn.Module, batch: dict, adapter_name: str) -> dict[str, float]:
    model.eval()

    def run(name):
        set_active_adapter(model, name)
        with torch.no_grad():
            out = model(**batch, output_hidden_states=True)
        return out.hidden_states[model.config.num_hidden_layers], out.logits

    h_base, logits_base = run(None)
    h_adapted, logits_adapted = run(adapter_name)
    changed = torch.ne(torch.argmax(logits_base, dim=1), torch.argmax(logits_adapted, dim=1))
    return {"relative_change": relative_change(h_base, h_adapted), "flip_rate": torch.mean(changed.float()).item()}
""",
    ),
    # Exercise 3a: step0_gradient_norms.
    Right(
        "ex3_step0_gradient_norms",
        "backward() after zeroing the gradients, F.mse_loss, torch.linalg.norm",
        source="""def step0_gradient_norms(adapter: nn.Module, h: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    adapter.zero_grad(set_to_none=True)
    loss = nn.functional.mse_loss(adapter(h), target)
    loss.backward()
    norms = {}
    for name, p in adapter.named_parameters():
        norms[name] = torch.linalg.norm(p.grad).item()
    adapter.zero_grad(set_to_none=True)
    return norms
""",
    ),
    Right(
        "ex3_step0_gradient_norms",
        "autograd.grad on a list, norm as the square root of the sum of squares, float()",
        source="""def step0_gradient_norms(adapter: nn.Module, h: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    named = list(adapter.named_parameters())
    prediction = adapter(h)
    loss = (prediction - target).pow(2).sum() / target.numel()
    grads = torch.autograd.grad(loss, [p for _, p in named])
    return {name: float(g.pow(2).sum().sqrt()) for (name, _), g in zip(named, grads)}
""",
    ),
    # Exercise 3b: the swapped initialisation.
    Right(
        "ex3_questions",
        "computed with step0_gradient_norms on swapped adapters",
        source="""answers = {}
for activation in ("gelu", "relu"):
    swapped = BottleneckAdapter(16, 4, activation=activation, init="near_identity")
    with torch.no_grad():
        swapped.down.weight.zero_()
        swapped.up.weight.normal_(0.0, 1e-2)
    norms = step0_gradient_norms(swapped, torch.randn(6, 16), torch.randn(6, 16))
    answers[activation] = {name for name, value in norms.items() if value > 0}
swapped_gelu = answers["gelu"]
swapped_relu = answers["relu"]
""",
    ),
    Right(
        "ex3_questions",
        "lists instead of sets, in another order",
        source="""swapped_gelu = ["up.bias", "down.bias", "down.weight"]
swapped_relu = ["up.bias"]
""",
    ),
    Right(
        "ex3_questions",
        "a frozenset and a set built from a difference",
        combined=False,
        source="""all_params = {"down.weight", "down.bias", "up.weight", "up.bias"}
swapped_gelu = all_params - {"up.weight"}
swapped_relu = frozenset({"up.bias"})
""",
    ),
]
