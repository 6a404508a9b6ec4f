"""Wrong answers for 05_adapter_fusion."""

from wrong_answers import Wrong

_OUT = "out = h + (weights.unsqueeze(-1) * v).sum(dim=-2)"
_ENTROPY = "-torch.special.xlogy(weights, weights).sum(dim=-1)"
_TOP = "return [names[i] for i in weights.argmax(dim=-1).tolist()]"

WRONG = [
    # Exercise 1: the fusion layer.
    Wrong(
        "ex1_my_fusion",
        "residual added twice (adapter outputs h + V z_n mixed, then h added)",
        says="residual is added twice",
        edits=((_OUT, "out = h + (weights.unsqueeze(-1) * (h.unsqueeze(-2) + v)).sum(dim=-2)"),),
    ),
    Wrong(
        "ex1_my_fusion",
        "softmax over the tokens instead of the adapters",
        says="n adapters",
        edits=(("torch.softmax(scores, dim=-1)", "torch.softmax(scores, dim=-2)"),),
    ),
    Wrong(
        "ex1_my_fusion",
        "scores not scaled by sqrt(d)",
        says="sqrt(d_model)",
        edits=((" / math.sqrt(self.d_model)", ""),),
    ),
    Wrong(
        "ex1_my_fusion",
        "value not initialised to the identity",
        says="not initialised to the identity",
        combined=False,
        edits=(("            self.value.weight.copy_(torch.eye(d_model))\n", ""),),
    ),
    Wrong(
        "ex1_my_fusion",
        "query and key swapped",
        says="query and key are swapped",
        edits=(
            ("q = self.query(h)", "q = self.key(h)"),
            ("k = self.key(adapter_outputs)", "k = self.query(adapter_outputs)"),
        ),
    ),
    Wrong(
        "ex1_my_fusion",
        "value projection not applied",
        says="value projection is missing",
        edits=(("(weights.unsqueeze(-1) * v)", "(weights.unsqueeze(-1) * adapter_outputs)"),),
    ),
    Wrong(
        "ex1_my_fusion",
        "residual missing",
        says="residual is missing",
        edits=(("out = h + (weights", "out = (weights"),),
    ),
    Wrong(
        "ex1_my_fusion",
        "query, key, value without biases",
        says="keep the biases",
        combined=False,
        edits=(
            ("nn.Linear(d_model, d_model)", "nn.Linear(d_model, d_model, bias=False)"),
            ("            self.value.bias.zero_()\n", ""),
        ),
    ),
    # Exercise 2a: the fusion weights.
    Wrong(
        "ex2_attention_weights",
        "scores not scaled by sqrt(d)",
        says="not divided by sqrt(d)",
        edits=((" / math.sqrt(d)", ""),),
    ),
    Wrong(
        "ex2_attention_weights",
        "softmax left out",
        says="softmax is missing",
        edits=(("return torch.softmax(scores, dim=-1)", "return scores"),),
    ),
    Wrong(
        "ex2_attention_weights",
        "softmax over the first axis",
        says="softmax runs over the adapters",
        edits=(("torch.softmax(scores, dim=-1)", "torch.softmax(scores, dim=0)"),),
    ),
    Wrong(
        "ex2_attention_weights",
        "scores divided by d instead of sqrt(d)",
        says="divided by d;",
        edits=(("/ math.sqrt(d)", "/ d"),),
    ),
    Wrong(
        "ex2_attention_weights",
        "keys @ q (only works for one token)",
        says="single token only",
        edits=(("(keys * q.unsqueeze(-2)).sum(dim=-1)", "(keys @ q)"),),
    ),
    Wrong(
        "ex2_attention_weights",
        "products summed over the adapters instead of the features",
        says="over the d features",
        combined=False,
        edits=(("(keys * q.unsqueeze(-2)).sum(dim=-1)", "(keys * q.unsqueeze(-2)).sum(dim=-2)"),),
    ),
    # Exercise 2b: the entropy.
    Wrong(
        "ex2_weight_entropy",
        "log2 instead of the natural log",
        says="natural logarithm",
        edits=((_ENTROPY, "-(weights * torch.log2(weights)).sum(dim=-1)"),),
    ),
    Wrong(
        "ex2_weight_entropy",
        "minus sign missing",
        says="minus sign is missing",
        edits=(("-torch.special", "torch.special"),),
    ),
    Wrong(
        "ex2_weight_entropy",
        "w * log(w), NaN for a zero weight",
        says="xlogy",
        combined=False,
        edits=((_ENTROPY, "-(weights * torch.log(weights)).sum(dim=-1)"),),
    ),
    Wrong(
        "ex2_weight_entropy",
        "summed over everything instead of the last dimension",
        says="last dimension only",
        combined=False,
        edits=((".sum(dim=-1)", ".sum()"),),
    ),
    Wrong(
        "ex2_weight_entropy",
        "mean instead of sum",
        says="the mean over the weights",
        combined=False,
        edits=((".sum(dim=-1)", ".mean(dim=-1)"),),
    ),
    # Exercise 3: what a fusion layer costs.
    Wrong(
        "ex3_fusion_parameters",
        "one Q, K, V per adapter",
        says="does not depend on the number of adapters",
        edits=(("return n_layers * 3", "return n_adapters * n_layers * 3"),),
    ),
    Wrong(
        "ex3_fusion_parameters",
        "biases left out",
        says="biases",
        edits=(("(d_model * d_model + d_model)", "(d_model * d_model)"),),
    ),
    Wrong(
        "ex3_fusion_parameters",
        "only query and key counted",
        says="query, key AND value",
        edits=(("n_layers * 3 *", "n_layers * 2 *"),),
    ),
    Wrong(
        "ex3_fusion_parameters",
        "a single fusion for the whole model",
        says="multiply by n_layers",
        edits=(("return n_layers * 3 *", "return 3 *"),),
    ),
    # Exercise 4: the top adapter of each layer.
    Wrong(
        "ex4_top_adapter",
        "argmax over the layers",
        says="argmax of each row",
        edits=(("weights.argmax(dim=-1)", "weights.argmax(dim=0)"),),
    ),
    Wrong(
        "ex4_top_adapter",
        "indices returned instead of names",
        says="return their names",
        edits=((_TOP, "return weights.argmax(dim=-1).tolist()"),),
    ),
    Wrong(
        "ex4_top_adapter",
        "a tensor returned instead of a list",
        says="Python list",
        combined=False,
        edits=((_TOP, "return weights.argmax(dim=-1)"),),
    ),
    Wrong(
        "ex4_top_adapter",
        "no check of len(names)",
        says="compare len(names)",
        edits=(
            (
                '    if len(names) != weights.shape[-1]:\n        raise ValueError(f"names has {len(names)} entries but weights '
                'has {weights.shape[-1]} columns (one per adapter)")\n',
                "",
            ),
        ),
    ),
    Wrong(
        "ex4_top_adapter",
        "ValueError that does not name `names`",
        says="should name the argument",
        combined=False,
        edits=(
            (
                'f"names has {len(names)} entries but weights has {weights.shape[-1]} columns (one per adapter)"',
                'f"expected {weights.shape[-1]} adapters, got {len(names)}"',
            ),
        ),
    ),
]
