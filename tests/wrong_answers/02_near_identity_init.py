"""Wrong answers for 02_near_identity_init."""

from wrong_answers import Wrong

_INIT_BLOCK = """    with torch.no_grad():
        adapter.down.weight.normal_(mean=0.0, std=std)
        adapter.up.weight.zero_()
        for layer in (adapter.down, adapter.up):
            if layer.bias is not None:
                layer.bias.zero_()
"""
_INIT_NO_GRAD_OFF = """    adapter.down.weight.normal_(mean=0.0, std=std)
    adapter.up.weight.zero_()
    for layer in (adapter.down, adapter.up):
        if layer.bias is not None:
            layer.bias.zero_()
"""

WRONG = [
    # Exercise 1: near_identity_init_.
    Wrong(
        "ex1_near_identity_init",
        "W_down zeroed and W_up drawn at random (the roles swapped)",
        says="the roles are swapped",
        edits=(
            (
                "        adapter.down.weight.normal_(mean=0.0, std=std)\n        adapter.up.weight.zero_()",
                "        adapter.up.weight.normal_(mean=0.0, std=std)\n        adapter.down.weight.zero_()",
            ),
        ),
    ),
    Wrong(
        "ex1_near_identity_init",
        "biases left at nn.Linear's random default",
        says="set b_up to zero",
        edits=(
            (
                "        for layer in (adapter.down, adapter.up):\n            if layer.bias is not None:\n"
                "                layer.bias.zero_()\n",
                "",
            ),
        ),
    ),
    Wrong(
        "ex1_near_identity_init",
        "new nn.Parameter assigned instead of changing the tensor in place",
        says="in place",
        edits=(
            (
                "        adapter.up.weight.zero_()",
                "        adapter.up.weight = nn.Parameter(torch.zeros_like(adapter.up.weight))",
            ),
        ),
    ),
    Wrong(
        "ex1_near_identity_init",
        "in-place initialisation without torch.no_grad()",
        says="torch.no_grad()",
        edits=((_INIT_BLOCK, _INIT_NO_GRAD_OFF),),
    ),
    Wrong(
        "ex1_near_identity_init",
        "layer.bias used without checking for bias=False (None)",
        says="bias=False have layer.bias = None",
        edits=(
            (
                "            if layer.bias is not None:\n                layer.bias.zero_()",
                "            layer.bias.zero_()",
            ),
        ),
    ),
    Wrong(
        "ex1_near_identity_init",
        "the adapter is not returned",
        says="must return the adapter",
        edits=(("    return adapter\n", ""),),
    ),
    Wrong(
        "ex1_near_identity_init",
        "W_down drawn from a uniform distribution",
        says="not uniform",
        edits=(("adapter.down.weight.normal_(mean=0.0, std=std)", "adapter.down.weight.uniform_(-std, std)"),),
    ),
    Wrong(
        "ex1_near_identity_init",
        "std² passed as the std (normal_ takes a standard deviation)",
        says="not the variance",
        edits=(("normal_(mean=0.0, std=std)", "normal_(mean=0.0, std=std**2)"),),
    ),
    Wrong(
        "ex1_near_identity_init",
        "std = 0 accepted (std < 0 instead of std <= 0)",
        says="should raise a ValueError naming std",
        edits=(("    if not std > 0:", "    if std < 0:"),),
    ),
    Wrong(
        "ex1_near_identity_init",
        "W_up frozen after zeroing it",
        says="no longer requires grad",
        combined=False,
        edits=(
            (
                "        adapter.up.weight.zero_()\n",
                "        adapter.up.weight.zero_()\n        adapter.up.weight.requires_grad_(False)\n",
            ),
        ),
    ),
    Wrong(
        "ex1_near_identity_init",
        "W_down replaced through .data by a float32 tensor",
        says="dtype of adapter.down.weight",
        combined=False,
        edits=(
            (
                "        adapter.down.weight.normal_(mean=0.0, std=std)\n",
                "        adapter.down.weight.data = torch.randn(adapter.down.weight.shape) * std\n",
            ),
        ),
    ),
    Wrong(
        "ex1_near_identity_init",
        "normal_(std): std passed as the mean",
        says="passes std as the MEAN",
        combined=False,
        edits=(("adapter.down.weight.normal_(mean=0.0, std=std)", "adapter.down.weight.normal_(std)"),),
    ),
    Wrong(
        "ex1_near_identity_init",
        "sizes read from course_lib's attributes (d_model, bottleneck) that another module lacks",
        says="has no attribute 'bottleneck'",
        combined=False,
        edits=(
            (
                "        adapter.down.weight.normal_(mean=0.0, std=std)\n",
                "        adapter.down.weight.copy_(torch.randn(adapter.bottleneck, adapter.d_model) * std)\n",
            ),
        ),
    ),
    # Exercise 2a: relative_change. (The first one leaves drift_report's results unchanged: nbgrader round.)
    Wrong(
        "ex2_relative_change",
        "no shape check (broadcasting error instead of a ValueError)",
        says="should raise a ValueError naming both shapes",
        edits=(
            (
                "    if before.shape != after.shape:\n        raise ValueError(\n"
                '            f"before and after must have the same shape, got {tuple(before.shape)} and {tuple(after.shape)}"\n'
                "        )\n",
                "",
            ),
        ),
    ),
    Wrong(
        "ex2_relative_change",
        "a tensor returned instead of a float",
        says="use .item()",
        edits=(
            (
                "return ((after - before).norm() / before.norm()).item()",
                "return (after - before).norm() / before.norm()",
            ),
        ),
    ),
    Wrong(
        "ex2_relative_change",
        "divided by the norm of after",
        says="divided by the norm of `after`",
        edits=(("/ before.norm()", "/ after.norm()"),),
    ),
    Wrong(
        "ex2_relative_change",
        "sums of squares instead of norms",
        says="take the square root",
        edits=(
            (
                "return ((after - before).norm() / before.norm()).item()",
                "return (((after - before) ** 2).sum() / (before ** 2).sum()).item()",
            ),
        ),
    ),
    Wrong(
        "ex2_relative_change",
        "mean of per-row changes instead of one Frobenius norm",
        says="Frobenius",
        edits=(
            (
                "return ((after - before).norm() / before.norm()).item()",
                "return ((after - before).norm(dim=-1) / before.norm(dim=-1)).mean().item()",
            ),
        ),
    ),
    Wrong(
        "ex2_relative_change",
        "an eps added to the denominator",
        says="an eps (1e-08) added",
        combined=False,
        edits=(("/ before.norm()", "/ (before.norm() + 1e-8)"),),
    ),
    Wrong(
        "ex2_relative_change",
        "after changed in place (after -= before)",
        says="in place: compute new tensors",
        combined=False,
        edits=(
            (
                "    return ((after - before).norm() / before.norm()).item()",
                "    after -= before\n    return (after.norm() / before.norm()).item()",
            ),
        ),
    ),
    Wrong(
        "ex2_relative_change",
        "shape check on the first dimension only (broadcasting shapes pass)",
        says="broadcasts",
        combined=False,
        edits=(("    if before.shape != after.shape:", "    if before.shape[0] != after.shape[0]:"),),
    ),
    Wrong(
        "ex2_relative_change",
        "difference of the norms instead of the norm of the difference",
        says="difference of the norms",
        combined=False,
        edits=(
            (
                "return ((after - before).norm() / before.norm()).item()",
                "return (abs(after.norm() - before.norm()) / before.norm()).item()",
            ),
        ),
    ),
    # Exercise 2b: drift_report.
    Wrong(
        "ex2_drift_report",
        "dropout left on (no model.eval())",
        says="model.eval()",
        edits=(("    model.eval()\n", ""),),
    ),
    Wrong(
        "ex2_drift_report",
        "first hidden state (the embeddings) instead of the last",
        says="LAST hidden state",
        edits=(
            (
                "relative_change(base.hidden_states[-1], adapted.hidden_states[-1])",
                "relative_change(base.hidden_states[0], adapted.hidden_states[0])",
            ),
        ),
    ),
    Wrong(
        "ex2_drift_report",
        "the two passes in the wrong order: adapters left off",
        says="leave it on",
        edits=(
            (
                "        set_active_adapter(model, None)\n        base = model(**batch, output_hidden_states=True)\n"
                "        set_active_adapter(model, adapter_name)\n        adapted = model(**batch, output_hidden_states=True)",
                "        set_active_adapter(model, adapter_name)\n        adapted = model(**batch, output_hidden_states=True)\n"
                "        set_active_adapter(model, None)\n        base = model(**batch, output_hidden_states=True)",
            ),
        ),
    ),
    Wrong(
        "ex2_drift_report",
        "number of flipped predictions instead of their fraction",
        says="fraction",
        edits=(("flipped.float().mean().item()", "flipped.float().sum().item()"),),
    ),
    Wrong(
        "ex2_drift_report",
        "argmax over the batch axis instead of the classes",
        says="logits.argmax(-1)",
        edits=(
            (
                "base.logits.argmax(dim=-1) != adapted.logits.argmax(dim=-1)",
                "base.logits.argmax(dim=0) != adapted.logits.argmax(dim=0)",
            ),
        ),
    ),
    Wrong(
        "ex2_drift_report",
        "tensors returned instead of floats",
        says="use .item()",
        combined=False,
        edits=(("flipped.float().mean().item()", "flipped.float().mean()"),),
    ),
    Wrong(
        "ex2_drift_report",
        "relative change of the logits instead of the last hidden state",
        says="out.hidden_states[-1]",
        edits=(
            (
                "relative_change(base.hidden_states[-1], adapted.hidden_states[-1])",
                "relative_change(base.logits, adapted.logits)",
            ),
        ),
    ),
    Wrong(
        "ex2_drift_report",
        "flips divided by len(batch), the number of keys",
        says="len(batch)",
        combined=False,
        edits=(("flipped.float().mean().item()", "flipped.float().sum().item() / len(batch)"),),
    ),
    Wrong(
        "ex2_drift_report",
        "padding positions left out of the relative change",
        says="padding positions are left out",
        combined=False,
        edits=(
            (
                "relative_change(base.hidden_states[-1], adapted.hidden_states[-1])",
                'relative_change(base.hidden_states[-1][batch["attention_mask"].bool()], adapted.hidden_states[-1][batch["attention_mask"].bool()])',
            ),
        ),
    ),
    Wrong(
        "ex2_drift_report",
        "the fraction of unchanged predictions",
        says="unchanged predictions",
        combined=False,
        edits=(("flipped.float().mean().item()", "(~flipped).float().mean().item()"),),
    ),
    Wrong(
        "ex2_drift_report",
        'the adapter name hard-coded as "default"',
        says="default",
        combined=False,
        edits=(
            ("        set_active_adapter(model, adapter_name)\n", '        set_active_adapter(model, "default")\n'),
        ),
    ),
    # Exercise 3a: step0_gradient_norms.
    Wrong(
        "ex3_step0_gradient_norms",
        "sum instead of mean in the loss",
        says="is the sum, not the mean",
        edits=(("loss = ((adapter(h) - target) ** 2).mean()", "loss = ((adapter(h) - target) ** 2).sum()"),),
    ),
    Wrong(
        "ex3_step0_gradient_norms",
        "loss.backward() and p.grad, never zeroed",
        says="accumulated in p.grad",
        edits=(
            (
                "    grads = torch.autograd.grad(loss, params)",
                "    loss.backward()\n    grads = [p.grad for p in params]",
            ),
        ),
    ),
    Wrong(
        "ex3_step0_gradient_norms",
        "squared norm instead of the norm",
        says="not its square",
        edits=(("grad.norm().item()", "(grad ** 2).sum().item()"),),
    ),
    Wrong(
        "ex3_step0_gradient_norms",
        "tensors returned instead of floats",
        says="use .item()",
        edits=(("grad.norm().item()", "grad.norm()"),),
    ),
    Wrong(
        "ex3_step0_gradient_norms",
        "the four keys of a biased adapter hard-coded",
        says="bias=False",
        combined=False,
        edits=(
            (
                "    return {name: grad.norm().item() for name, grad in zip(names, grads)}",
                '    by_name = dict(zip(names, grads))\n    return {key: by_name[key].norm().item() for key in ("down.weight", "down.bias", "up.weight", "up.bias")}',
            ),
        ),
    ),
    Wrong(
        "ex3_step0_gradient_norms",
        "loss divided by the number of rows only",
        says="number of rows",
        combined=False,
        edits=(
            ("loss = ((adapter(h) - target) ** 2).mean()", "loss = ((adapter(h) - target) ** 2).sum() / h.shape[0]"),
        ),
    ),
    Wrong(
        "ex3_step0_gradient_norms",
        "norms of the parameters instead of their gradients",
        says="norms of the parameters themselves",
        combined=False,
        edits=(
            (
                "    return {name: grad.norm().item() for name, grad in zip(names, grads)}",
                "    return {name: p.norm().item() for name, p in zip(names, params)}",
            ),
        ),
    ),
    Wrong(
        "ex3_step0_gradient_norms",
        "the parameters zeroed instead of their gradients before backward()",
        says="changed the adapter's parameter",
        combined=False,
        edits=(
            (
                "    grads = torch.autograd.grad(loss, params)",
                "    for p in params:\n        p.data.zero_()  # meant: p.grad.zero_()\n    grads = torch.autograd.grad(loss, params)",
            ),
        ),
    ),
    # Exercise 3b: the swapped initialisation (W_down = 0, W_up random).
    Wrong(
        "ex3_questions",
        "GELU answer copied from the near-identity case (up learns, down does not)",
        says="GELU'(0) = 1/2",
        edits=(('swapped_gelu = {"down.weight", "down.bias", "up.bias"}', 'swapped_gelu = {"up.weight", "up.bias"}'),),
    ),
    Wrong(
        "ex3_questions",
        "W_up counted as learning although a = σ(0) = 0",
        says="a = σ(W_down h + b_down) = σ(0) = 0",
        edits=(
            (
                'swapped_gelu = {"down.weight", "down.bias", "up.bias"}',
                'swapped_gelu = {"down.weight", "down.bias", "up.weight", "up.bias"}',
            ),
        ),
    ),
    Wrong(
        "ex3_questions",
        "ReLU answered like GELU (relu'(0) = 0 overlooked)",
        says="ReLU's σ'(0) = 0",
        edits=(('swapped_relu = {"up.bias"}', 'swapped_relu = {"down.weight", "down.bias", "up.bias"}'),),
    ),
    Wrong(
        "ex3_questions",
        "nothing learns with ReLU (b_up forgotten)",
        says="b_up always gets a gradient",
        edits=(('swapped_relu = {"up.bias"}', "swapped_relu = set()"),),
    ),
    Wrong(
        "ex3_questions",
        "one name as a string instead of a set",
        says="must be a set of parameter names",
        edits=(('swapped_relu = {"up.bias"}', 'swapped_relu = "up.bias"'),),
    ),
    Wrong(
        "ex3_questions",
        "the notation's names (W_down, b_up) instead of parameter names",
        says="are not parameter names",
        combined=False,
        edits=(('swapped_relu = {"up.bias"}', 'swapped_relu = {"b_up"}'),),
    ),
    Wrong(
        "ex3_questions",
        "GELU: only W_down counted, not b_down",
        says="so both are non-zero",
        combined=False,
        edits=(
            ('swapped_gelu = {"down.weight", "down.bias", "up.bias"}', 'swapped_gelu = {"down.weight", "up.bias"}'),
        ),
    ),
    Wrong(
        "ex3_questions",
        "ReLU: W_up named instead of b_up",
        says="W_up gets no gradient",
        combined=False,
        edits=(('swapped_relu = {"up.bias"}', 'swapped_relu = {"up.weight"}'),),
    ),
]
