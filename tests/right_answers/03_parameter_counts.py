"""Right answers for 03_parameter_counts: correct code written differently from the master."""

from right_answers import Right

RIGHT = [
    # Exercise 1: one adapter.
    Right(
        "ex1_adapter_params",
        "each tensor counted on its own, biases added in an if",
        source="""def adapter_params(d: int, r: int, bias: bool = True) -> int:
    count = r * d + d * r  # W_down (r x d) and W_up (d x r)
    if bias:
        count += r + d  # b_down and b_up
    return count
""",
    ),
    Right(
        "ex1_adapter_params",
        "math.prod over the list of tensor shapes",
        source="""import math


def adapter_params(d: int, r: int, bias: bool = True) -> int:
    shapes = [(r, d), (d, r)]
    if bias:
        shapes += [(r,), (d,)]
    return sum(math.prod(shape) for shape in shapes)
""",
    ),
    Right(
        "ex1_adapter_params",
        "int(bias) as a factor",
        combined=False,
        source="""def adapter_params(d: int, r: int, bias: bool = True) -> int:
    return 2 * r * d + int(bias) * (d + r)
""",
    ),
    # Exercise 2: a whole encoder.
    Right(
        "ex2_model_adapter_params",
        "if/elif on the placement, count written out without adapter_params",
        source="""def model_adapter_params(d: int, n_layers: int, r: int, placement: str, bias: bool = True) -> int:
    if placement == "houlsby":
        per_layer = 2
    elif placement == "pfeiffer":
        per_layer = 1
    else:
        raise ValueError(f"unknown placement {placement!r}: use 'houlsby' or 'pfeiffer'")
    one_adapter = 2 * d * r + ((d + r) if bias else 0)
    return n_layers * per_layer * one_adapter
""",
    ),
    Right(
        "ex2_model_adapter_params",
        "match statement, a loop over the layers",
        source="""def model_adapter_params(d: int, n_layers: int, r: int, placement: str, bias: bool = True) -> int:
    match placement:
        case "houlsby":
            sites = ("attention output", "feed-forward output")
        case "pfeiffer":
            sites = ("feed-forward output",)
        case _:
            raise ValueError(f"placement {placement!r} is neither 'houlsby' nor 'pfeiffer'")
    total = 0
    for _layer in range(n_layers):
        for _site in sites:
            total += adapter_params(d, r, bias=bias)
    return total
""",
    ),
    # Exercise 3: LoRA.
    Right(
        "ex3_lora_params",
        "A and B counted separately, qv as 4 L d r",
        source="""def lora_params(d_in: int, d_out: int, r: int) -> int:
    a = r * d_in
    b = d_out * r
    return a + b


def lora_qv_params(d: int, n_layers: int, r: int) -> int:
    return 4 * n_layers * d * r
""",
    ),
    Right(
        "ex3_lora_params",
        "math.prod of the shapes, a sum over the layers and the two projections",
        source="""import math


def lora_params(d_in: int, d_out: int, r: int) -> int:
    return math.prod((r, d_in)) + math.prod((d_out, r))


def lora_qv_params(d: int, n_layers: int, r: int) -> int:
    return sum(lora_params(d, d, r) for _layer in range(n_layers) for _projection in ("query", "value"))
""",
    ),
    # Exercise 4: trainable percentage.
    Right(
        "ex4_trainable_percent",
        "fraction first, times 100 at the end",
        source="""def trainable_percent(n_trainable: int, n_base: int) -> float:
    total = n_trainable + n_base
    return n_trainable / total * 100
""",
    ),
    Right(
        "ex4_trainable_percent",
        "float() conversion and multiplication first",
        source="""def trainable_percent(n_trainable: int, n_base: int) -> float:
    return float(n_trainable) * 100.0 / float(n_base + n_trainable)
""",
    ),
    # Exercise 5: bytes of tensor data.
    Right(
        "ex5_expected_adapter_bytes",
        "bits of the float type divided by 8 with //",
        source="""def expected_adapter_bytes(n_params: int, dtype: torch.dtype = torch.float32) -> int:
    bytes_per_number = torch.finfo(dtype).bits // 8
    return n_params * bytes_per_number
""",
    ),
    Right(
        "ex5_expected_adapter_bytes",
        "a table of the four float types from the instructions",
        source="""def expected_adapter_bytes(n_params: int, dtype: torch.dtype = torch.float32) -> int:
    sizes = {torch.float32: 4, torch.float16: 2, torch.bfloat16: 2, torch.float64: 8}
    return sizes[dtype] * n_params
""",
    ),
    Right(
        "ex5_expected_adapter_bytes",
        "dtype.itemsize",
        combined=False,
        source="""def expected_adapter_bytes(n_params: int, dtype: torch.dtype = torch.float32) -> int:
    return dtype.itemsize * n_params
""",
    ),
]
