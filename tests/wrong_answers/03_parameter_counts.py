"""Wrong answers for 03_parameter_counts."""

from wrong_answers import Wrong

WRONG = [
    # Exercise 1: one adapter. (The first one keeps the bias=True counts right, so that exercise 2's
    # own mistake is what its tests report in the nbgrader round: model_adapter_params reuses adapter_params.)
    Wrong(
        "ex1_adapter_params",
        "the bias argument ignored (biases always counted)",
        says="the bias argument is ignored",
        edits=(("biases = (r + d) if bias else 0", "biases = r + d"),),
    ),
    Wrong(
        "ex1_adapter_params",
        "bias left out of the count",
        says="the bias was left out",
        edits=(("biases = (r + d) if bias else 0", "biases = 0"),),
    ),
    Wrong(
        "ex1_adapter_params",
        "d*r counted once for both projections",
        says="d*r counted once",
        edits=(("weights = 2 * d * r", "weights = d * r"),),
    ),
    Wrong(
        "ex1_adapter_params",
        "W_up's bias given r entries",
        says="W_up's bias has d entries",
        edits=(("biases = (r + d) if bias else 0", "biases = (r + r) if bias else 0"),),
    ),
    Wrong(
        "ex1_adapter_params",
        "a float zero for bias=False",
        says="return an int",
        combined=False,
        edits=(("    biases = (r + d) if bias else 0\n", "    biases = (r + d) if bias else 0.0\n"),),
    ),
    Wrong(
        "ex1_adapter_params",
        "biases counted twice",
        says="adapter_params(768, 64)",
        combined=False,
        edits=(("    biases = (r + d) if bias else 0\n", "    biases = 2 * (r + d) if bias else 0\n"),),
    ),
    Wrong(
        "ex1_adapter_params",
        "the bias flag inverted",
        says="bias",
        combined=False,
        edits=(("    biases = (r + d) if bias else 0\n", "    biases = (r + d) if not bias else 0\n"),),
    ),
    # Exercise 2: a whole encoder.
    Wrong(
        "ex2_model_adapter_params",
        "one adapter per layer for Houlsby",
        says="Houlsby puts TWO adapters",
        edits=(('{"houlsby": 2, "pfeiffer": 1}', '{"houlsby": 1, "pfeiffer": 1}'),),
    ),
    Wrong(
        "ex2_model_adapter_params",
        "n_layers left out",
        says="n_layers is ignored",
        edits=(
            (
                "adapters_per_layer[placement] * n_layers * adapter_params",
                "adapters_per_layer[placement] * adapter_params",
            ),
        ),
    ),
    Wrong(
        "ex2_model_adapter_params",
        "bias not passed on to adapter_params",
        says="not passed on",
        edits=(("adapter_params(d, r, bias)", "adapter_params(d, r)"),),
    ),
    Wrong(
        "ex2_model_adapter_params",
        "unknown placement counted as Pfeiffer",
        says="counted silently",
        edits=(
            (
                "    if placement not in adapters_per_layer:\n"
                "        raise ValueError(f\"placement must be 'houlsby' or 'pfeiffer', got {placement!r}\")\n",
                "",
            ),
            ("adapters_per_layer[placement]", "adapters_per_layer.get(placement, 1)"),
        ),
    ),
    Wrong(
        "ex2_model_adapter_params",
        "no placement check: the dict lookup raises KeyError",
        says="expected ValueError",
        edits=(
            (
                "    if placement not in adapters_per_layer:\n"
                "        raise ValueError(f\"placement must be 'houlsby' or 'pfeiffer', got {placement!r}\")\n",
                "",
            ),
        ),
    ),
    Wrong(
        "ex2_model_adapter_params",
        "ValueError that does not name the placement",
        says="does not name the placement",
        combined=False,
        edits=(
            (
                "raise ValueError(f\"placement must be 'houlsby' or 'pfeiffer', got {placement!r}\")",
                'raise ValueError("unknown placement")',
            ),
        ),
    ),
    Wrong(
        "ex2_model_adapter_params",
        "Pfeiffer as Houlsby / 2 (a float)",
        says="return an int",
        combined=False,
        edits=(
            (
                "    return adapters_per_layer[placement] * n_layers * adapter_params(d, r, bias)",
                '    total = 2 * n_layers * adapter_params(d, r, bias)\n    return total if placement == "houlsby" else total / 2',
            ),
        ),
    ),
    Wrong(
        "ex2_model_adapter_params",
        "placement lower-cased and stripped before the check",
        says="must raise ValueError",
        combined=False,
        edits=(
            (
                "    if placement not in adapters_per_layer:",
                "    placement = placement.strip().lower()\n    if placement not in adapters_per_layer:",
            ),
        ),
    ),
    # Exercise 3: LoRA.
    Wrong(
        "ex3_lora_params",
        "a bias counted for the LoRA update",
        says="LoRA adds no bias",
        edits=(("return r * (d_in + d_out)", "return r * (d_in + d_out) + d_out"),),
    ),
    Wrong(
        "ex3_lora_params",
        "only A counted",
        says="only A counted",
        edits=(("return r * (d_in + d_out)", "return r * d_in"),),
    ),
    Wrong(
        "ex3_lora_params",
        "only one matrix per layer (W_q) in lora_qv_params",
        says="W_q and W_v",
        edits=(("return n_layers * 2 * lora_params(d, d, r)", "return n_layers * lora_params(d, d, r)"),),
    ),
    Wrong(
        "ex3_lora_params",
        "query, key and value adapted",
        says="not the key",
        edits=(("return n_layers * 2 * lora_params(d, d, r)", "return n_layers * 3 * lora_params(d, d, r)"),),
    ),
    Wrong(
        "ex3_lora_params",
        "n_layers left out of lora_qv_params",
        says="n_layers is ignored",
        edits=(("return n_layers * 2 * lora_params(d, d, r)", "return 2 * lora_params(d, d, r)"),),
    ),
    Wrong(
        "ex3_lora_params",
        "both matrices counted with d_out (a square W assumed)",
        says="A is r x d_in",
        combined=False,
        edits=(("    return r * (d_in + d_out)", "    return 2 * r * d_out"),),
    ),
    Wrong(
        "ex3_lora_params",
        "A and B each counted twice",
        says="lora_params(768, 3072, 4)",
        combined=False,
        edits=(("    return r * (d_in + d_out)", "    return 2 * r * (d_in + d_out)"),),
    ),
    Wrong(
        "ex3_lora_params",
        "r converted to a float (read from a config)",
        says="not a float",
        combined=False,
        edits=(("    return r * (d_in + d_out)", "    return float(r) * (d_in + d_out)"),),
    ),
    # Exercise 4: trainable percentage.
    Wrong(
        "ex4_trainable_percent",
        "divided by the base alone",
        says="divided by n_base alone",
        edits=(("/ (n_base + n_trainable)", "/ n_base"),),
    ),
    Wrong(
        "ex4_trainable_percent",
        "a fraction instead of a percent",
        says="multiply by 100",
        edits=(("return 100.0 * n_trainable / (n_base + n_trainable)", "return n_trainable / (n_base + n_trainable)"),),
    ),
    Wrong(
        "ex4_trainable_percent",
        "integer division",
        says="integer division",
        edits=(("100.0 * n_trainable / (n_base + n_trainable)", "100 * n_trainable // (n_base + n_trainable)"),),
    ),
    Wrong(
        "ex4_trainable_percent",
        "rounded to two decimals",
        says="rounded",
        edits=(
            (
                "return 100.0 * n_trainable / (n_base + n_trainable)",
                "return round(100.0 * n_trainable / (n_base + n_trainable), 2)",
            ),
        ),
    ),
    Wrong(
        "ex4_trainable_percent",
        "the frozen share instead of the trainable one",
        says="trainable_percent(2_379_264",
        combined=False,
        edits=(
            ("return 100.0 * n_trainable / (n_base + n_trainable)", "return 100.0 * n_base / (n_base + n_trainable)"),
        ),
    ),
    Wrong(
        "ex4_trainable_percent",
        "rounded to six decimals",
        says="rounded",
        combined=False,
        edits=(
            (
                "return 100.0 * n_trainable / (n_base + n_trainable)",
                "return round(100.0 * n_trainable / (n_base + n_trainable), 6)",
            ),
        ),
    ),
    Wrong(
        "ex4_trainable_percent",
        "computed in float32 tensors",
        says="float32 precision",
        combined=False,
        edits=(
            (
                "return 100.0 * n_trainable / (n_base + n_trainable)",
                "return (100.0 * torch.tensor(n_trainable, dtype=torch.float32) / (n_base + n_trainable)).item()",
            ),
        ),
    ),
    # Exercise 5: bytes of tensor data.
    Wrong(
        "ex5_expected_adapter_bytes",
        "bits instead of bytes",
        says="that is bits",
        edits=(("torch.empty(0, dtype=dtype).element_size()", "torch.finfo(dtype).bits"),),
    ),
    Wrong(
        "ex5_expected_adapter_bytes",
        "4 bytes whatever the dtype",
        says="the dtype argument is ignored",
        edits=(("torch.empty(0, dtype=dtype).element_size()", "4"),),
    ),
    Wrong(
        "ex5_expected_adapter_bytes",
        "bits / 8 gives a float",
        says="return an int",
        edits=(("torch.empty(0, dtype=dtype).element_size()", "torch.finfo(dtype).bits / 8"),),
    ),
    Wrong(
        "ex5_expected_adapter_bytes",
        "the 8-byte header length field counted",
        says="the 8-byte length field",
        edits=(
            (
                "return n_params * torch.empty(0, dtype=dtype).element_size()",
                "return n_params * torch.empty(0, dtype=dtype).element_size() + 8",
            ),
        ),
    ),
    Wrong(
        "ex5_expected_adapter_bytes",
        "a table with float32 and float16 only",
        says="raised KeyError",
        combined=False,
        edits=(
            (
                "    return n_params * torch.empty(0, dtype=dtype).element_size()",
                "    sizes = {torch.float32: 4, torch.float16: 2}\n    return n_params * sizes[dtype]",
            ),
        ),
    ),
    Wrong(
        "ex5_expected_adapter_bytes",
        "numpy's itemsize of the torch dtype's name",
        says="data type 'torch.float32' not understood",
        combined=False,
        edits=(
            (
                "    return n_params * torch.empty(0, dtype=dtype).element_size()",
                "    import numpy as np\n\n    return n_params * np.dtype(str(dtype)).itemsize",
            ),
        ),
    ),
    Wrong(
        "ex5_expected_adapter_bytes",
        "element size of a float32 tensor whatever the dtype",
        says="the dtype argument is ignored",
        combined=False,
        edits=(
            (
                "    return n_params * torch.empty(0, dtype=dtype).element_size()",
                "    return n_params * torch.empty(0).element_size()",
            ),
        ),
    ),
]
