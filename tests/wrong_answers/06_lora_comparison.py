"""Wrong answers for 06_lora_comparison."""

from wrong_answers import Wrong

_A = "self.lora_A = nn.Parameter(torch.empty(r, base.in_features, device=weight.device, dtype=weight.dtype))"
_KAIMING = "nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))"
_MERGE = "self.base.weight += self.scale * (self.lora_B @ self.lora_A)"

# copy_into_peft written without torch.no_grad() (the loop one level less indented).
_COPY_WITH_AUTOGRAD = '''def copy_into_peft(my_model: nn.Module, peft_model: nn.Module, adapter_name: str = "default") -> int:
    """Copy lora_A / lora_B of every LoRA layer of my_model into the matching PEFT layer; return how many."""
    ours = {name: module for name, module in my_model.named_modules()
            if isinstance(getattr(module, "lora_A", None), nn.Parameter)}
    copied = 0
    for name, module in peft_model.named_modules():
        peft_A = getattr(module, "lora_A", None)
        if not isinstance(peft_A, nn.ModuleDict) or adapter_name not in peft_A:
            continue
        key = name.removeprefix("base_model.model.")
        if key not in ours:
            raise ValueError(f"PEFT layer {name!r} has no LoRA layer {key!r} in my_model")
        peft_A[adapter_name].weight.copy_(ours[key].lora_A)
        module.lora_B[adapter_name].weight.copy_(ours[key].lora_B)
        copied += 1
    return copied
'''

# merge() keeps a reference to W (detach() shares its memory) and unmerge() copies it back.
_MERGE_SAVED_VIEW = (
    (
        "        if self.merged:\n            return\n        self.base.weight +=",
        "        if self.merged:\n            return\n        self.saved_weight = self.base.weight.detach()\n"
        "        self.base.weight +=",
    ),
    (
        "        self.base.weight -= self.scale * (self.lora_B @ self.lora_A)",
        "        self.base.weight.copy_(self.saved_weight)",
    ),
)

# merge_and_unload that recognises only course_lib's class.
_UNLOAD_ISINSTANCE = (
    (
        "    lora_names = [name for name, module in model.named_modules()\n"
        '                  if all(hasattr(module, attr) for attr in ("base", "lora_A", "lora_B", "scale"))]',
        "    from course_lib.api import LoRALinear\n\n"
        "    lora_names = [name for name, module in model.named_modules() if isinstance(module, LoRALinear)]",
    ),
)

WRONG = [
    # Exercise 1: the LoRA layer.
    Wrong(
        "ex1_lora_linear",
        "scale r / alpha instead of alpha / r",
        says="not r / alpha",
        edits=(("self.scale = alpha / r", "self.scale = r / alpha"),),
    ),
    Wrong(
        "ex1_lora_linear",
        "B initialised randomly",
        says="B initialised randomly",
        edits=(("torch.zeros(base.out_features", "torch.randn(base.out_features"),),
    ),
    Wrong(
        "ex1_lora_linear",
        "A initialised to zero too",
        says="A initialised to zero",
        combined=False,
        edits=((_KAIMING, "nn.init.zeros_(self.lora_A)"),),
    ),
    Wrong(
        "ex1_lora_linear",
        "A drawn from a standard normal",
        says="not Kaiming-uniform",
        combined=False,
        edits=((_KAIMING, "nn.init.normal_(self.lora_A)"),),
    ),
    Wrong(
        "ex1_lora_linear",
        "base layer not frozen",
        says="base not frozen",
        combined=False,
        edits=(("        for p in self.base.parameters():\n            p.requires_grad_(False)\n", ""),),
    ),
    Wrong(
        "ex1_lora_linear",
        "scale left out of the forward pass",
        says="scale is missing",
        combined=False,
        edits=(("self.scale * ((x @ self.lora_A.T) @ self.lora_B.T)", "((x @ self.lora_A.T) @ self.lora_B.T)"),),
    ),
    Wrong(
        "ex1_lora_linear",
        "base(x) left out of the forward pass",
        says="base(x)",
        combined=False,
        edits=(("return self.base(x) + self.scale", "return self.scale"),),
    ),
    Wrong(
        "ex1_lora_linear",
        "A and B used without transposing",
        says="not transposed",
        combined=False,
        edits=(("(x @ self.lora_A.T) @ self.lora_B.T", "(x @ self.lora_A) @ self.lora_B"),),
    ),
    Wrong(
        "ex1_lora_linear",
        "base copied instead of stored",
        says="store the layer you were given",
        combined=False,
        edits=(("self.base = base", "self.base = copy.deepcopy(base)"),),
    ),
    Wrong(
        "ex1_lora_linear",
        "lora_A a plain tensor, not an nn.Parameter",
        says="nn.Parameter",
        combined=False,
        edits=(
            (
                _A,
                "self.lora_A = torch.empty(r, base.in_features, device=weight.device, dtype=weight.dtype, "
                "requires_grad=True)",
            ),
        ),
    ),
    # Exercise 2: merge / unmerge.
    Wrong(
        "ex2_merge",
        "merge forgets the scale",
        says="scale is missing",
        edits=((_MERGE, "self.base.weight += self.lora_B @ self.lora_A"),),
    ),
    Wrong(
        "ex2_merge",
        "second merge() adds the update again",
        says="double merge not guarded",
        combined=False,
        edits=(
            ("        if self.merged:\n            return\n        self.base.weight +=", "        self.base.weight +="),
        ),
    ),
    Wrong(
        "ex2_merge",
        "forward adds the update while merged",
        says="forward must return base(x) only",
        combined=False,
        edits=(("        if self.merged:\n            return self.base(x)\n", ""),),
    ),
    Wrong(
        "ex2_merge",
        "merged flag never set",
        says="set self.merged = True",
        combined=False,
        edits=(("        self.merged = True\n", ""),),
    ),
    Wrong(
        "ex2_merge",
        "unmerge adds instead of subtracting",
        says="subtract exactly what merge() added",
        combined=False,
        edits=(("self.base.weight -= ", "self.base.weight += "),),
    ),
    Wrong(
        "ex2_merge",
        "unmerge not guarded",
        says="do nothing when the layer is not merged",
        combined=False,
        edits=(("        if not self.merged:\n            return\n", ""),),
    ),
    # Exercise 3: the same numbers as PEFT.
    Wrong(
        "ex3_copy_into_peft",
        "PEFT's name prefix not removed",
        says="base_model.model.",
        edits=(('key = name.removeprefix("base_model.model.")', "key = name"),),
    ),
    Wrong(
        "ex3_copy_into_peft",
        "A and B swapped",
        says="A and B swapped",
        combined=False,
        edits=(
            ("weight.copy_(ours[key].lora_A)", "weight.copy_(ours[key].lora_TMP)"),
            ("weight.copy_(ours[key].lora_B)", "weight.copy_(ours[key].lora_A)"),
            ("weight.copy_(ours[key].lora_TMP)", "weight.copy_(ours[key].lora_B)"),
        ),
    ),
    Wrong(
        "ex3_copy_into_peft",
        "copied without torch.no_grad()",
        says="torch.no_grad()",
        combined=False,
        source=_COPY_WITH_AUTOGRAD,
    ),
    Wrong(
        "ex3_copy_into_peft",
        "tensors counted instead of layers",
        says="how many PEFT LoRA layers",
        combined=False,
        edits=(
            (
                "            peft_A[adapter_name].weight.copy_(ours[key].lora_A)\n",
                "            peft_A[adapter_name].weight.copy_(ours[key].lora_A)\n            copied += 1\n",
            ),
        ),
    ),
    Wrong(
        "ex3_copy_into_peft",
        "layer without a partner skipped silently",
        says="must raise a ValueError",
        combined=False,
        edits=(('raise ValueError(f"PEFT layer {name!r} has no LoRA layer {key!r} in my_model")', "continue"),),
    ),
    Wrong(
        "ex3_copy_into_peft",
        "only query and value layers copied",
        says="not only query and value",
        combined=False,
        edits=(
            (
                "if not isinstance(peft_A, nn.ModuleDict) or adapter_name not in peft_A:",
                'if not name.endswith(("query", "value")):',
            ),
        ),
    ),
    # Exercise 4: the update matrices and their ranks.
    Wrong(
        "ex4_low_rank",
        "adapter update transposed",
        says="transposed",
        edits=(("return W_down.T @ W_up.T", "return W_up @ W_down"),),
    ),
    Wrong(
        "ex4_low_rank",
        "identity put inside M",
        says="no identity inside M",
        combined=False,
        edits=(
            ("return W_down.T @ W_up.T", "return torch.eye(W_down.shape[1], dtype=W_down.dtype) + W_down.T @ W_up.T"),
        ),
    ),
    Wrong(
        "ex4_low_rank",
        "W_down @ W_up without transposes",
        says="r x r",
        combined=False,
        edits=(("return W_down.T @ W_up.T", "return W_down @ W_up"),),
    ),
    Wrong(
        "ex4_low_rank",
        "LoRA update without the scale",
        says="scale * B @ A",
        combined=False,
        edits=(("return scale * (B @ A)", "return B @ A"),),
    ),
    Wrong(
        "ex4_low_rank",
        "A @ B instead of B @ A",
        says="A @ B does not fit",
        combined=False,
        edits=(("return scale * (B @ A)", "return scale * (A @ B)"),),
    ),
    Wrong(
        "ex4_low_rank",
        "rank returned as a tensor",
        says="Python int",
        combined=False,
        edits=(("return int(torch.linalg.matrix_rank(M))", "return torch.linalg.matrix_rank(M)"),),
    ),
    Wrong(
        "ex4_low_rank",
        "rank taken from the shape",
        says="matrix_rank",
        combined=False,
        edits=(("return int(torch.linalg.matrix_rank(M))", "return min(M.shape)"),),
    ),
    # Exercise 5: merge and unload.
    Wrong(
        "ex5_merge_and_unload",
        "merge forgets the scale",
        says="scale * B @ A",
        edits=(
            (
                "layer.base.weight += layer.scale * (layer.lora_B @ layer.lora_A)",
                "layer.base.weight += layer.lora_B @ layer.lora_A",
            ),
        ),
    ),
    Wrong(
        "ex5_merge_and_unload",
        "already merged layers merged again",
        says="only once",
        combined=False,
        edits=(
            (
                '        if not getattr(layer, "merged", False):\n            with torch.no_grad():\n'
                "                layer.base.weight +=",
                "        with torch.no_grad():\n            layer.base.weight +=",
            ),
        ),
    ),
    Wrong(
        "ex5_merge_and_unload",
        "wrappers unloaded without merging",
        says="not merged",
        combined=False,
        edits=(
            (
                '        if not getattr(layer, "merged", False):\n            with torch.no_grad():\n'
                "                layer.base.weight += layer.scale * (layer.lora_B @ layer.lora_A)\n",
                "",
            ),
        ),
    ),
    Wrong(
        "ex5_merge_and_unload",
        "merged but the wrappers left in place",
        says="wrapper is still in the model",
        combined=False,
        edits=(
            (
                '        parent_name, _, attr = name.rpartition(".")\n'
                "        setattr(model.get_submodule(parent_name) if parent_name else model, attr, layer.base)\n",
                "",
            ),
        ),
    ),
    Wrong(
        "ex5_merge_and_unload",
        "setattr with the dotted name on the model",
        says="split the dotted name",
        combined=False,
        edits=(
            (
                "setattr(model.get_submodule(parent_name) if parent_name else model, attr, layer.base)",
                "setattr(model, name, layer.base)",
            ),
        ),
    ),
    Wrong(
        "ex5_merge_and_unload",
        "update merged transposed",
        says="scale * B @ A",
        combined=False,
        edits=(("(layer.lora_B @ layer.lora_A)", "(layer.lora_B @ layer.lora_A).T"),),
    ),
    # Issue 16, part 2: mistakes that the float32 / "default" / value-only tests let through.
    Wrong(
        "ex1_lora_linear",
        "scale by integer division alpha // r",
        says="integer division",
        combined=False,
        edits=(("self.scale = alpha / r", "self.scale = alpha // r"),),
    ),
    Wrong(
        "ex1_lora_linear",
        "scale = alpha (the division by r forgotten)",
        says="the division by r is missing",
        combined=False,
        edits=(("self.scale = alpha / r", "self.scale = alpha"),),
    ),
    Wrong(
        "ex1_lora_linear",
        "forward multiplies by alpha instead of the scale",
        says="alpha used as the scale",
        combined=False,
        edits=(
            (
                "self.scale * ((x @ self.lora_A.T) @ self.lora_B.T)",
                "self.alpha * ((x @ self.lora_A.T) @ self.lora_B.T)",
            ),
        ),
    ),
    Wrong(
        "ex1_lora_linear",
        "A and B made on the default device (dtype only)",
        says="device=base.weight.device",
        combined=False,
        edits=(
            (_A, "self.lora_A = nn.Parameter(torch.empty(r, base.in_features, dtype=weight.dtype))"),
            (
                "torch.zeros(base.out_features, r, device=weight.device, dtype=weight.dtype)",
                "torch.zeros(base.out_features, r, dtype=weight.dtype)",
            ),
        ),
    ),
    Wrong(
        "ex1_lora_linear",
        "dropout on the LoRA input without training=self.training",
        says="something random (a dropout?)",
        combined=False,
        edits=(
            (
                "self.scale * ((x @ self.lora_A.T) @ self.lora_B.T)",
                "self.scale * ((torch.nn.functional.dropout(x, p=0.1) @ self.lora_A.T) @ self.lora_B.T)",
            ),
        ),
    ),
    Wrong(
        "ex1_lora_linear",
        "x detached in the LoRA branch",
        says="no gradient reaches x through the LoRA branch",
        combined=False,
        edits=(("self.scale * ((x @ self.lora_A.T)", "self.scale * ((x.detach() @ self.lora_A.T)"),),
    ),
    Wrong(
        "ex1_lora_linear",
        "base weight frozen by wrapping it in a new Parameter",
        says="replaced by a new one",
        combined=False,
        edits=(
            (
                "        for p in self.base.parameters():\n            p.requires_grad_(False)\n",
                "        self.base.weight = nn.Parameter(base.weight.detach(), requires_grad=False)\n"
                "        self.base.bias = nn.Parameter(base.bias.detach(), requires_grad=False)\n",
            ),
        ),
    ),
    Wrong(
        "ex1_lora_linear",
        "LoRA branch computed in float32 (.float())",
        says="float32 precision",
        combined=False,
        edits=(
            (
                "return self.base(x) + self.scale * ((x @ self.lora_A.T) @ self.lora_B.T)",
                "return self.base(x) + self.scale * ((x.float() @ self.lora_A.T.float()) @ self.lora_B.T.float())",
            ),
        ),
    ),
    Wrong(
        "ex2_merge",
        "merge() puts a new Parameter in place of base.weight",
        says="same Parameter object",
        combined=False,
        edits=(
            (_MERGE, "self.base.weight = nn.Parameter(self.base.weight + self.scale * (self.lora_B @ self.lora_A))"),
        ),
    ),
    Wrong(
        "ex2_merge",
        "merge() and unmerge() use alpha instead of the scale",
        says="alpha was used as the scale",
        combined=False,
        edits=(
            ("self.base.weight += self.scale *", "self.base.weight += self.alpha *"),
            ("self.base.weight -= self.scale *", "self.base.weight -= self.alpha *"),
        ),
    ),
    Wrong(
        "ex2_merge",
        "W saved with detach() (no clone) and copied back by unmerge()",
        says="nothing was subtracted",
        combined=False,
        edits=_MERGE_SAVED_VIEW,
    ),
    Wrong(
        "ex2_merge",
        "A and B frozen by merge(), never unfrozen",
        says="changed requires_grad",
        combined=False,
        edits=(
            (
                "        self.merged = True\n",
                "        self.merged = True\n        self.lora_A.requires_grad_(False)\n"
                "        self.lora_B.requires_grad_(False)\n",
            ),
        ),
    ),
    Wrong(
        "ex3_copy_into_peft",
        "the copy goes from PEFT into my_model",
        says="the copy goes from my_model into peft_model",
        combined=False,
        edits=(
            (
                "peft_A[adapter_name].weight.copy_(ours[key].lora_A)",
                "ours[key].lora_A.copy_(peft_A[adapter_name].weight)",
            ),
            (
                "module.lora_B[adapter_name].weight.copy_(ours[key].lora_B)",
                "ours[key].lora_B.copy_(module.lora_B[adapter_name].weight)",
            ),
        ),
    ),
    Wrong(
        "ex3_copy_into_peft",
        "PEFT's weights replaced by new Parameters",
        says="replaced by other Parameters",
        combined=False,
        edits=(
            (
                "peft_A[adapter_name].weight.copy_(ours[key].lora_A)",
                "peft_A[adapter_name].weight = nn.Parameter(ours[key].lora_A.detach().clone())",
            ),
            (
                "module.lora_B[adapter_name].weight.copy_(ours[key].lora_B)",
                "module.lora_B[adapter_name].weight = nn.Parameter(ours[key].lora_B.detach().clone())",
            ),
        ),
    ),
    Wrong(
        "ex3_copy_into_peft",
        "values put in through .data (memory shared with my_model)",
        says="share their memory",
        combined=False,
        edits=(
            (
                "peft_A[adapter_name].weight.copy_(ours[key].lora_A)",
                "peft_A[adapter_name].weight.data = ours[key].lora_A.data",
            ),
            (
                "module.lora_B[adapter_name].weight.copy_(ours[key].lora_B)",
                "module.lora_B[adapter_name].weight.data = ours[key].lora_B.data",
            ),
        ),
    ),
    Wrong(
        "ex3_copy_into_peft",
        "adapter name 'default' written into the copy",
        says="'default' is written into the code",
        combined=False,
        edits=(
            ("peft_A[adapter_name].weight.copy_", 'peft_A["default"].weight.copy_'),
            ("module.lora_B[adapter_name].weight.copy_", 'module.lora_B["default"].weight.copy_'),
        ),
    ),
    Wrong(
        "ex3_copy_into_peft",
        "every adapter of the PEFT layer overwritten",
        says="another adapter of the PEFT model was overwritten",
        combined=False,
        edits=(
            (
                "            peft_A[adapter_name].weight.copy_(ours[key].lora_A)\n"
                "            module.lora_B[adapter_name].weight.copy_(ours[key].lora_B)\n",
                "            for each in peft_A:\n"
                "                peft_A[each].weight.copy_(ours[key].lora_A)\n"
                "                module.lora_B[each].weight.copy_(ours[key].lora_B)\n",
            ),
        ),
    ),
    Wrong(
        "ex3_copy_into_peft",
        "ValueError that does not name the layer",
        says="names the layer without a partner",
        combined=False,
        edits=(
            (
                'raise ValueError(f"PEFT layer {name!r} has no LoRA layer {key!r} in my_model")',
                'raise ValueError("my_model and peft_model do not have the same LoRA layers")',
            ),
        ),
    ),
    Wrong(
        "ex4_low_rank",
        "rank counted with a fixed threshold on the singular values",
        says="fixed threshold on the singular values",
        combined=False,
        edits=(("return int(torch.linalg.matrix_rank(M))", "return int((torch.linalg.svdvals(M) > 1e-6).sum())"),),
    ),
    Wrong(
        "ex4_low_rank",
        "B scaled in place (B *= scale)",
        says="changed its input in place",
        combined=False,
        edits=(("return scale * (B @ A)", "B *= scale\n    return B @ A"),),
    ),
    Wrong(
        "ex4_low_rank",
        "LoRA update divided by r again",
        says="divided by r = 2 again",
        combined=False,
        edits=(("return scale * (B @ A)", "return scale / A.shape[0] * (B @ A)"),),
    ),
    Wrong(
        "ex5_merge_and_unload",
        "only course_lib's LoRALinear recognised (isinstance)",
        says="LoRA of another class",
        combined=False,
        edits=_UNLOAD_ISINSTANCE,
    ),
    Wrong(
        "ex5_merge_and_unload",
        "layer.merged read directly",
        says="getattr(layer, 'merged', False)",
        combined=False,
        edits=(('if not getattr(layer, "merged", False):', "if not layer.merged:"),),
    ),
    Wrong(
        "ex5_merge_and_unload",
        "merged through layer.merge()",
        says="no merge() method",
        combined=False,
        edits=(
            (
                '        if not getattr(layer, "merged", False):\n            with torch.no_grad():\n'
                "                layer.base.weight += layer.scale * (layer.lora_B @ layer.lora_A)\n",
                "        layer.merge()\n",
            ),
        ),
    ),
    Wrong(
        "ex5_merge_and_unload",
        "a new nn.Linear built from the merged weight",
        says="put layer.base itself back",
        combined=False,
        edits=(
            (
                "setattr(model.get_submodule(parent_name) if parent_name else model, attr, layer.base)",
                "new = nn.Linear(layer.base.in_features, layer.base.out_features, bias=layer.base.bias is not None)\n"
                "        new.load_state_dict(layer.base.state_dict())\n"
                "        setattr(model.get_submodule(parent_name) if parent_name else model, attr, new)",
            ),
        ),
    ),
    Wrong(
        "ex5_merge_and_unload",
        "a deep copy unloaded and returned",
        says="a copy of the model was returned",
        combined=False,
        edits=(("    lora_names = [name", "    model = copy.deepcopy(model)\n    lora_names = [name"),),
    ),
]
