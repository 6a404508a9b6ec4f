"""Right answers for 06_lora_comparison: correct code written differently from the master."""

from right_answers import Right

# Exercise 1: F.linear instead of matmuls, A drawn uniform on [-1/sqrt(in), 1/sqrt(in)] (the same distribution as
# kaiming_uniform_ with a=sqrt(5)), base frozen with one requires_grad_ on the module, scale applied to x A^T.
_LORA_FLINEAR = '''import torch.nn.functional as F


class MyLoRALinear(nn.Module):
    """A frozen ``nn.Linear`` plus a trainable low-rank update ``(alpha / r) * B @ A`` (Hu et al. 2021)."""

    def __init__(self, base: nn.Linear, r: int, alpha: float):
        super().__init__()
        base.requires_grad_(False)
        self.base = base
        self.r, self.alpha = r, alpha
        self.scale = float(alpha) / float(r)
        bound = 1.0 / math.sqrt(base.in_features)
        A = base.weight.new_empty(r, base.in_features).uniform_(-bound, bound)
        self.lora_A = nn.Parameter(A)
        self.lora_B = nn.Parameter(base.weight.new_zeros(base.out_features, r))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """base(x) + scale * x A^T B^T (two thin matmuls, never the full B @ A)."""
        down = self.scale * F.linear(x, self.lora_A)
        return self.base(x) + F.linear(down, self.lora_B)
'''

# Exercise 1: einsum, parameters registered with register_parameter, each base parameter frozen by name.
_LORA_EINSUM = '''class MyLoRALinear(nn.Module):
    """A frozen ``nn.Linear`` plus a trainable low-rank update ``(alpha / r) * B @ A`` (Hu et al. 2021)."""

    def __init__(self, base: nn.Linear, r: int, alpha: float):
        super().__init__()
        self.base = base
        self.base.weight.requires_grad = False
        if self.base.bias is not None:
            self.base.bias.requires_grad = False
        self.alpha = alpha
        self.r = r
        self.scale = self.alpha / self.r
        factory = {"device": base.weight.device, "dtype": base.weight.dtype}
        self.register_parameter("lora_B", nn.Parameter(torch.zeros((base.out_features, r), **factory)))
        self.register_parameter("lora_A", nn.Parameter(torch.zeros((r, base.in_features), **factory)))
        torch.nn.init.kaiming_uniform_(self.lora_A, a=5 ** 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """base(x) + scale * x A^T B^T (two thin matmuls, never the full B @ A)."""
        low = torch.einsum("...i,ri->...r", x, self.lora_A)
        update = torch.einsum("...r,or->...o", low, self.lora_B)
        return update * self.scale + self.base(x)
'''

# Exercise 2: in-place add_/sub_ with alpha, forward through MyLoRALinear.forward, guards written as if-blocks.
_MERGE_ADD = '''class MyMergeableLoRALinear(MyLoRALinear):
    """MyLoRALinear that can fold its update into ``base.weight`` and take it out again."""

    def __init__(self, base: nn.Linear, r: int, alpha: float):
        super().__init__(base, r, alpha)
        self.merged = False

    @torch.no_grad()
    def merge(self) -> None:
        """base.weight += scale * B @ A, once; sets merged = True."""
        if not self.merged:
            self.base.weight.add_(self.lora_B @ self.lora_A, alpha=self.scale)
            self.merged = True

    @torch.no_grad()
    def unmerge(self) -> None:
        """base.weight -= scale * B @ A if merged; sets merged = False."""
        if self.merged:
            self.base.weight.sub_(self.lora_B @ self.lora_A, alpha=self.scale)
            self.merged = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """base(x) while merged (the update lives in base.weight), the LoRA forward otherwise."""
        return self.base(x) if self.merged else MyLoRALinear.forward(self, x)
'''

# Exercise 2: one helper for the update (einsum), the weight changed through .data, forward without super().
_MERGE_HELPER = '''class MyMergeableLoRALinear(MyLoRALinear):
    """MyLoRALinear that can fold its update into ``base.weight`` and take it out again."""

    def __init__(self, base: nn.Linear, r: int, alpha: float):
        super().__init__(base, r, alpha)
        self.merged = False

    def delta(self) -> torch.Tensor:
        return torch.einsum("or,ri->oi", self.lora_B, self.lora_A) * self.scale

    @torch.no_grad()
    def merge(self) -> None:
        """base.weight += scale * B @ A, once; sets merged = True."""
        if self.merged:
            return
        self.base.weight.data = self.base.weight.data + self.delta()
        self.merged = True

    @torch.no_grad()
    def unmerge(self) -> None:
        """base.weight -= scale * B @ A if merged; sets merged = False."""
        if not self.merged:
            return
        self.base.weight.data = self.base.weight.data - self.delta()
        self.merged = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """base(x) while merged (the update lives in base.weight), the LoRA forward otherwise."""
        out = self.base(x)
        if not self.merged:
            out = out + self.scale * (x @ self.lora_A.T @ self.lora_B.T)
        return out
'''

# Exercise 3: PEFT's layers gathered first, names matched with startswith / slicing, copies counted at the end.
_COPY_GATHER = '''def copy_into_peft(my_model: nn.Module, peft_model: nn.Module, adapter_name: str = "default") -> int:
    """Copy lora_A / lora_B of every LoRA layer of my_model into the matching PEFT layer; return how many."""
    prefix = "base_model.model."
    peft_layers = {}
    for name, module in peft_model.named_modules():
        if isinstance(getattr(module, "lora_A", None), nn.ModuleDict) and adapter_name in module.lora_A:
            peft_layers[name[len(prefix):] if name.startswith(prefix) else name] = module
    mine = dict(my_model.named_modules())
    for key, module in peft_layers.items():
        partner = mine.get(key)
        if partner is None or not isinstance(getattr(partner, "lora_B", None), nn.Parameter):
            raise ValueError(f"no LoRA layer called {key!r} in my_model for PEFT's {prefix + key!r}")
        with torch.no_grad():
            module.lora_A[adapter_name].weight.copy_(partner.lora_A)
            module.lora_B[adapter_name].weight.copy_(partner.lora_B)
    return len(peft_layers)
'''

# Exercise 3: our layers first, PEFT's looked up by the prefixed name; no_grad as a decorator of a helper.
_COPY_LOOKUP = '''@torch.no_grad()
def _copy_pair(peft_layer, layer, adapter_name):
    peft_layer.lora_A[adapter_name].weight.copy_(layer.lora_A.detach())
    peft_layer.lora_B[adapter_name].weight.copy_(layer.lora_B.detach())


def copy_into_peft(my_model: nn.Module, peft_model: nn.Module, adapter_name: str = "default") -> int:
    """Copy lora_A / lora_B of every LoRA layer of my_model into the matching PEFT layer; return how many."""
    peft_layers = {name: m for name, m in peft_model.named_modules()
                   if hasattr(m, "lora_A") and isinstance(m.lora_A, nn.ModuleDict) and adapter_name in m.lora_A}
    done = set()
    for name, layer in my_model.named_modules():
        if hasattr(layer, "lora_A") and isinstance(layer.lora_A, nn.Parameter):
            peft_name = "base_model.model." + name
            if peft_name in peft_layers:
                _copy_pair(peft_layers[peft_name], layer, adapter_name)
                done.add(peft_name)
    missing = sorted(set(peft_layers) - done)
    if missing:
        raise ValueError(f"PEFT LoRA layers without a partner in my_model: {missing}")
    return len(done)
'''

RIGHT = [
    Right("ex1_lora_linear", "F.linear, uniform(±1/sqrt(in)) for A, module-wide requires_grad_", source=_LORA_FLINEAR),
    Right("ex1_lora_linear", "einsum forward, register_parameter, frozen parameter by parameter", source=_LORA_EINSUM),
    Right(
        "ex1_lora_linear",
        "scale applied to x A^T before B",
        combined=False,
        edits=(
            (
                "self.base(x) + self.scale * ((x @ self.lora_A.T) @ self.lora_B.T)",
                "self.base(x) + ((self.scale * (x @ self.lora_A.T)) @ self.lora_B.T)",
            ),
        ),
    ),
    Right(
        "ex1_lora_linear",
        "the frozen layer written out as x W^T + b instead of calling base(x)",
        combined=False,
        edits=(
            (
                "return self.base(x) + self.scale * ((x @ self.lora_A.T) @ self.lora_B.T)",
                "out = x @ self.base.weight.T\n"
                "        if self.base.bias is not None:\n"
                "            out = out + self.base.bias\n"
                "        return out + self.scale * ((x @ self.lora_A.T) @ self.lora_B.T)",
            ),
        ),
    ),
    Right("ex2_merge", "add_/sub_ with alpha=scale, guards as if-blocks", source=_MERGE_ADD),
    Right("ex2_merge", "einsum update helper, weight changed through .data", source=_MERGE_HELPER),
    Right("ex3_copy_into_peft", "PEFT layers gathered first, prefix sliced off, count at the end", source=_COPY_GATHER),
    Right("ex3_copy_into_peft", "our layers first, PEFT's looked up by the prefixed name", source=_COPY_LOOKUP),
    Right(
        "ex4_low_rank",
        "einsum updates, rank via .item()",
        edits=(
            ("return W_down.T @ W_up.T", 'return torch.einsum("ri,jr->ij", W_down, W_up)'),
            ("return scale * (B @ A)", 'return torch.einsum("or,ri->oi", B, A) * scale'),
            ("return int(torch.linalg.matrix_rank(M))", "return torch.linalg.matrix_rank(M).item()"),
        ),
    ),
    Right(
        "ex4_low_rank",
        "transpose of W_up W_down, scaled B first, rank counted from singular values",
        edits=(
            ("return W_down.T @ W_up.T", "return (W_up @ W_down).T"),
            ("return scale * (B @ A)", "return (scale * B) @ A"),
            (
                "return int(torch.linalg.matrix_rank(M))",
                "singular = torch.linalg.svdvals(M)\n"
                "    tol = singular.max() * max(M.shape) * torch.finfo(M.dtype).eps\n"
                "    return int((singular > tol).sum())",
            ),
        ),
    ),
    Right(
        "ex5_merge_and_unload",
        "recursive over children, update merged with addmm_",
        source='''def merge_and_unload(model: nn.Module) -> nn.Module:
    """Fold every LoRA update into its base nn.Linear and put that Linear back in place of the wrapper."""
    for child_name, child in list(model.named_children()):
        if all(hasattr(child, attr) for attr in ("base", "lora_A", "lora_B", "scale")):
            if not getattr(child, "merged", False):
                with torch.no_grad():
                    child.base.weight.addmm_(child.lora_B, child.lora_A, alpha=child.scale)
            setattr(model, child_name, child.base)
        else:
            merge_and_unload(child)
    return model
''',
    ),
    Right(
        "ex5_merge_and_unload",
        "deepest names first, parent found by walking the dotted path",
        source='''def merge_and_unload(model: nn.Module) -> nn.Module:
    """Fold every LoRA update into its base nn.Linear and put that Linear back in place of the wrapper."""
    wrappers = [(name, m) for name, m in model.named_modules()
                if hasattr(m, "lora_A") and hasattr(m, "lora_B") and hasattr(m, "base") and hasattr(m, "scale")]
    for name, layer in sorted(wrappers, key=lambda item: -item[0].count(".")):
        if not getattr(layer, "merged", False):
            update = torch.einsum("or,ri->oi", layer.lora_B.detach(), layer.lora_A.detach()) * layer.scale
            layer.base.weight.data += update
        *path, attr = name.split(".")
        parent = model
        for part in path:
            parent = getattr(parent, part)
        setattr(parent, attr, layer.base)
    return model
''',
    ),
    # Issue 16, part 2: correct answers that the widened tests (identity, dtype, device, other classes) must accept.
    Right(
        "ex1_lora_linear",
        "A and B made on the CPU and moved with .to(base.weight) (its dtype and device)",
        combined=False,
        edits=(
            (
                "self.lora_A = nn.Parameter(torch.empty(r, base.in_features, device=weight.device, dtype=weight.dtype))",
                "self.lora_A = nn.Parameter(torch.empty(r, base.in_features).to(weight))",
            ),
            (
                "torch.zeros(base.out_features, r, device=weight.device, dtype=weight.dtype)",
                "torch.zeros(base.out_features, r).to(weight)",
            ),
        ),
    ),
    Right(
        "ex2_merge",
        "merge() keeps a clone of W and unmerge() copies it back in place",
        combined=False,
        edits=(
            (
                "        if self.merged:\n            return\n        self.base.weight +=",
                "        if self.merged:\n            return\n        self.saved_weight = self.base.weight.detach().clone()\n"
                "        self.base.weight +=",
            ),
            (
                "        self.base.weight -= self.scale * (self.lora_B @ self.lora_A)",
                "        self.base.weight.copy_(self.saved_weight)\n        del self.saved_weight",
            ),
        ),
    ),
    Right(
        "ex5_merge_and_unload",
        "the layer's own merge() when it has one, by hand otherwise",
        combined=False,
        edits=(
            (
                '        if not getattr(layer, "merged", False):\n            with torch.no_grad():\n'
                "                layer.base.weight += layer.scale * (layer.lora_B @ layer.lora_A)\n",
                '        if hasattr(layer, "merge"):\n            layer.merge()  # guarded against a second merge\n'
                '        elif not getattr(layer, "merged", False):\n            with torch.no_grad():\n'
                "                layer.base.weight += layer.scale * (layer.lora_B @ layer.lora_A)\n",
            ),
        ),
    ),
]
