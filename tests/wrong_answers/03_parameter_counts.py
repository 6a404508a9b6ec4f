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
]
