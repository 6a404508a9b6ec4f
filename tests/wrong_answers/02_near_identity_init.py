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
        says="did you zero W_down instead of W_up",
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
        says="with the std you were given",
        edits=(("normal_(mean=0.0, std=std)", "normal_(mean=0.0, std=std**2)"),),
    ),
    Wrong(
        "ex1_near_identity_init",
        "std = 0 accepted (std < 0 instead of std <= 0)",
        says="should raise a ValueError naming std",
        edits=(("    if not std > 0:", "    if std < 0:"),),
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
        says="not of `after`",
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
    # Exercise 3a: step0_gradient_norms.
    Wrong(
        "ex3_step0_gradient_norms",
        "sum instead of mean in the loss",
        says="not the sum",
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
]
