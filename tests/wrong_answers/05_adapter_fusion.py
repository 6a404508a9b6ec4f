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
    Wrong(
        "ex1_my_fusion",
        "scores divided by sqrt(n_adapters) instead of sqrt(d)",
        says="sqrt(n) = sqrt(4), the number of adapters",
        combined=False,
        edits=(("/ math.sqrt(self.d_model)", "/ math.sqrt(self.n_adapters)"),),
    ),
    Wrong(
        "ex1_my_fusion",
        "scores divided by sqrt of k.shape[-2] (the adapters' axis)",
        says="sqrt(n) = sqrt(4), the number of adapters",
        combined=False,
        edits=(("/ math.sqrt(self.d_model)", "/ math.sqrt(k.shape[-2])"),),
    ),
    Wrong(
        "ex1_my_fusion",
        "scores multiplied by sqrt(d)",
        says="multiplied by sqrt(d)",
        combined=False,
        edits=(("/ math.sqrt(self.d_model)", "* math.sqrt(self.d_model)"),),
    ),
    Wrong(
        "ex1_my_fusion",
        "mix divided by sqrt(n) (a second scaling, of the output)",
        says="mix is divided by sqrt(n)",
        combined=False,
        edits=((_OUT, "out = h + (weights.unsqueeze(-1) * v).sum(dim=-2) / math.sqrt(self.n_adapters)"),),
    ),
    Wrong(
        "ex1_my_fusion",
        "mix added into h in place",
        says="changed h in place",
        combined=False,
        edits=((_OUT, "out = h\n        out += (weights.unsqueeze(-1) * v).sum(dim=-2)"),),
    ),
    Wrong(
        "ex1_my_fusion",
        "weights detached before the mix",
        says="query and key could never learn",
        combined=False,
        edits=(("weights = torch.softmax(scores, dim=-1)", "weights = torch.softmax(scores, dim=-1).detach()"),),
    ),
    Wrong(
        "ex1_my_fusion",
        "softmax written as exp / sum (overflows for large scores)",
        says="overflowed",
        combined=False,
        edits=(
            (
                "weights = torch.softmax(scores, dim=-1)",
                "weights = scores.exp() / scores.exp().sum(dim=-1, keepdim=True)",
            ),
        ),
    ),
    Wrong(
        "ex1_my_fusion",
        "softmax computed in float32 (dtype=torch.float32)",
        says="the dtype of weights",
        combined=False,
        edits=(("torch.softmax(scores, dim=-1)", "torch.softmax(scores, dim=-1, dtype=torch.float32)"),),
    ),
    Wrong(
        "ex1_my_fusion",
        "mix accumulated in a torch.zeros(...) buffer (float32) over the adapters",
        says="float64",
        combined=False,
        edits=(
            (
                _OUT,
                "mix = torch.zeros(h.shape)\n        for i in range(self.n_adapters):\n"
                "            mix += weights[..., i:i + 1] * v[..., i, :]\n        out = h + mix",
            ),
        ),
    ),
    Wrong(
        "ex1_my_fusion",
        "value frozen as the identity",
        says="do not freeze it",
        combined=False,
        edits=(
            (
                "            self.value.bias.zero_()\n",
                "            self.value.bias.zero_()\n        self.value.requires_grad_(False)\n",
            ),
        ),
    ),
    Wrong(
        "ex1_my_fusion",
        "value as nn.Identity()",
        says="self.value = nn.Linear",
        combined=False,
        edits=(
            (
                "        self.value = nn.Linear(d_model, d_model)\n",
                "        self.value = nn.Identity()  # V starts as I\n",
            ),
            (
                "        with torch.no_grad():\n            self.value.weight.copy_(torch.eye(d_model))\n"
                "            self.value.bias.zero_()\n",
                "",
            ),
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
    Wrong(
        "ex2_attention_weights",
        "d read from the adapters' axis (sqrt(n))",
        says="sqrt(n) = sqrt(3)",
        combined=False,
        edits=(("    d = q.shape[-1]\n", "    d = keys.shape[-2]\n"),),
    ),
    Wrong(
        "ex2_attention_weights",
        "scores multiplied by sqrt(d)",
        says="multiplied by sqrt(d)",
        combined=False,
        edits=(("/ math.sqrt(d)", "* math.sqrt(d)"),),
    ),
    Wrong(
        "ex2_attention_weights",
        "q scaled in place (q /= sqrt(d))",
        says="changed q in place",
        combined=False,
        edits=(
            (
                "    scores = (keys * q.unsqueeze(-2)).sum(dim=-1) / math.sqrt(d)\n",
                "    q /= math.sqrt(d)\n    scores = (keys * q.unsqueeze(-2)).sum(dim=-1)\n",
            ),
        ),
    ),
    Wrong(
        "ex2_attention_weights",
        "softmax written as exp / sum (overflows for large scores)",
        says="overflowed",
        combined=False,
        edits=(
            ("return torch.softmax(scores, dim=-1)", "return scores.exp() / scores.exp().sum(dim=-1, keepdim=True)"),
        ),
    ),
    Wrong(
        "ex2_attention_weights",
        "softmax in float32 (dtype=torch.float32)",
        says="dtype",
        combined=False,
        edits=(("torch.softmax(scores, dim=-1)", "torch.softmax(scores, dim=-1, dtype=torch.float32)"),),
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
    Wrong(
        "ex2_weight_entropy",
        "entropy normalised by log N",
        says="divided by log N",
        combined=False,
        edits=((_ENTROPY, "-torch.special.xlogy(weights, weights).sum(dim=-1) / math.log(weights.shape[-1])"),),
    ),
    Wrong(
        "ex2_weight_entropy",
        "NaN of the whole sum replaced by 0",
        says="lost its other terms",
        combined=False,
        edits=((_ENTROPY, "torch.nan_to_num(-(weights * torch.log(weights)).sum(dim=-1))"),),
    ),
    Wrong(
        "ex2_weight_entropy",
        "summed over the first dimension",
        says="last dimension only",
        combined=False,
        edits=((".sum(dim=-1)", ".sum(dim=0)"),),
    ),
    Wrong(
        "ex2_weight_entropy",
        "terms accumulated in a torch.zeros(...) buffer (float32)",
        says="the dtype of weight_entropy",
        combined=False,
        edits=(
            (
                "return " + _ENTROPY,
                "entropy = torch.zeros(weights.shape[:-1])\n    for i in range(weights.shape[-1]):\n"
                "        entropy -= torch.special.xlogy(weights[..., i], weights[..., i])\n    return entropy",
            ),
        ),
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
    Wrong(
        "ex3_fusion_parameters",
        "bias counted as a row and a column ((d + 1) ** 2)",
        says="not a row and a column",
        combined=False,
        edits=(("(d_model * d_model + d_model)", "(d_model + 1) ** 2"),),
    ),
    Wrong(
        "ex3_fusion_parameters",
        "operator precedence: the bias added once",
        says="counted once for the whole model",
        combined=False,
        edits=(("n_layers * 3 * (d_model * d_model + d_model)", "n_layers * 3 * d_model * d_model + d_model"),),
    ),
    Wrong(
        "ex3_fusion_parameters",
        "math.pow returns a float",
        says="Python int",
        combined=False,
        edits=(("(d_model * d_model + d_model)", "(math.pow(d_model, 2) + d_model)"),),
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
    Wrong(
        "ex4_top_adapter",
        "ValueError without the two numbers",
        says="should give both numbers",
        combined=False,
        edits=(
            (
                'f"names has {len(names)} entries but weights has {weights.shape[-1]} columns (one per adapter)"',
                '"names does not match the columns of weights"',
            ),
        ),
    ),
    Wrong(
        "ex4_top_adapter",
        "len(names) compared with the rows",
        says="compared with the number of rows",
        combined=False,
        edits=(("if len(names) != weights.shape[-1]:", "if len(names) != weights.shape[0]:"),),
    ),
    Wrong(
        "ex4_top_adapter",
        "only too few names rejected",
        says="compare with !=, not <",
        combined=False,
        edits=(("if len(names) != weights.shape[-1]:", "if len(names) < weights.shape[-1]:"),),
    ),
    Wrong(
        "ex4_top_adapter",
        "the last adapter on a tie (>= in a loop)",
        says="on a tie take the first",
        combined=False,
        edits=(
            (
                _TOP,
                "tops = []\n    for row in weights.tolist():\n        best = 0\n        for i, w in enumerate(row):\n"
                "            if w >= row[best]:\n                best = i\n        tops.append(names[best])\n    return tops",
            ),
        ),
    ),
]
