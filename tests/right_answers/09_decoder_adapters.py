"""Right answers for 09_decoder_adapters: correct code written differently from the master."""

from right_answers import Right

_SUBLAYER = """def adapted_sublayer(h: torch.Tensor, norm: nn.Module, sublayer, adapter_down: nn.Linear, adapter_up: nn.Linear,
                     activation=torch.relu) -> torch.Tensor:
"""
_ADAPTERS = """def add_decoder_adapters(model: GPT2LMHeadModel, bottleneck: int = 16, activation: str = "relu") -> GPT2LMHeadModel:
"""
_BATCH = "def make_sft_batch(pairs: list, pad_id: int, eos_id: int) -> dict[str, torch.Tensor]:\n"
_LOSS = "def sft_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:\n"
_PROMPT = """def soft_prompt_logits(model: nn.Module, soft_prompt: torch.Tensor, input_ids: torch.Tensor,
                       attention_mask: torch.Tensor) -> torch.Tensor:
"""

RIGHT = [
    # Exercise 1.
    Right(
        "ex1_adapted_sublayer",
        "one expression, residuals added in another order",
        source=_SUBLAYER
        + """    out = sublayer(norm(h))
    return out + adapter_up(activation(adapter_down(out))) + h
""",
    ),
    Right(
        "ex1_adapted_sublayer",
        "F.linear with the adapter's weights and biases",
        source=_SUBLAYER
        + """    y = sublayer(norm(h))
    hidden = activation(F.linear(y, adapter_down.weight, adapter_down.bias))
    return h + (y + F.linear(hidden, adapter_up.weight, adapter_up.bias))
""",
    ),
    # Exercise 2.
    Right(
        "ex2_add_decoder_adapters",
        "a loop over the two sub-modules with setattr",
        source=_ADAPTERS
        + """    for block in model.transformer.h:
        for part in (block.attn, block.mlp):
            adapter = BottleneckAdapter(model.config.n_embd, bottleneck, activation=activation)
            setattr(part, "c_proj", AfterProjection(part.c_proj, adapter))
    return model
""",
    ),
    Right(
        "ex2_add_decoder_adapters",
        "the layers through get_layers and the width from the weight",
        source=_ADAPTERS
        + """    from course_lib.surgery import get_layers

    for layer in get_layers(model):
        width = layer.attn.c_proj.weight.shape[1]  # Conv1D stores (in, out)
        layer.attn.c_proj = AfterProjection(layer.attn.c_proj, BottleneckAdapter(width, bottleneck, activation))
        layer.mlp.c_proj = AfterProjection(layer.mlp.c_proj, BottleneckAdapter(width, bottleneck, activation))
    return model
""",
    ),
    # Exercise 3.
    Right(
        "ex3_make_sft_batch",
        "tensors filled in place",
        source=_BATCH
        + """    rows = [list(p) + list(r) + [eos_id] for p, r in pairs]
    width = max(map(len, rows))
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros(len(rows), width, dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    for i, ((prompt, _), row) in enumerate(zip(pairs, rows)):
        input_ids[i, : len(row)] = torch.tensor(row)
        attention_mask[i, : len(row)] = 1
        labels[i, len(prompt) : len(row)] = torch.tensor(row[len(prompt) :])
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}
""",
    ),
    Right(
        "ex3_make_sft_batch",
        "labels from input_ids with masked_fill",
        source=_BATCH
        + """    sequences = [torch.tensor([*prompt, *response, eos_id]) for prompt, response in pairs]
    input_ids = torch.nn.utils.rnn.pad_sequence(sequences, batch_first=True, padding_value=pad_id)
    lengths = torch.tensor([len(s) for s in sequences])
    prompt_lengths = torch.tensor([len(prompt) for prompt, _ in pairs])
    positions = torch.arange(input_ids.shape[1])
    attention_mask = (positions < lengths[:, None]).long()
    ignored = (positions < prompt_lengths[:, None]) | (attention_mask == 0)
    return {"input_ids": input_ids.long(), "attention_mask": attention_mask, "labels": input_ids.masked_fill(ignored, -100).long()}
""",
    ),
    # Exercise 4.
    Right(
        "ex4_sft_loss",
        "boolean indexing of the counted positions",
        source=_LOSS
        + """    targets = labels[:, 1:]
    keep = targets != -100
    log_probs = torch.log_softmax(logits[:, :-1], dim=-1)[keep]
    return -log_probs[torch.arange(len(log_probs)), targets[keep]].mean()
""",
    ),
    Right(
        "ex4_sft_loss",
        "flattened, with logsumexp",
        source=_LOSS
        + """    vocab = logits.shape[-1]
    flat_logits = logits[:, :-1].reshape(-1, vocab)
    flat_labels = labels[:, 1:].reshape(-1)
    keep = flat_labels != -100
    chosen = flat_logits[keep].gather(1, flat_labels[keep][:, None]).squeeze(1)
    return (torch.logsumexp(flat_logits[keep], dim=1) - chosen).sum() / keep.sum()
""",
    ),
    # Exercise 5.
    Right(
        "ex5_soft_prompt_logits",
        "repeat and F.pad for the mask",
        source=_PROMPT
        + """    n = soft_prompt.shape[0]
    embeds = model.get_input_embeddings()(input_ids)
    inputs = torch.cat([soft_prompt.repeat(input_ids.shape[0], 1, 1), embeds], dim=1)
    mask = F.pad(attention_mask, (n, 0), value=1)
    return model(inputs_embeds=inputs, attention_mask=mask).logits
""",
    ),
    Right(
        "ex5_soft_prompt_logits",
        "a list of per-example concatenations stacked",
        source=_PROMPT
        + """    embeds = model.get_input_embeddings()(input_ids)
    inputs = torch.stack([torch.cat([soft_prompt, e]) for e in embeds])
    mask = torch.cat([attention_mask.new_ones(len(input_ids), len(soft_prompt)), attention_mask], dim=1)
    return model(inputs_embeds=inputs, attention_mask=mask)["logits"]
""",
    ),
    # Exercise 6.
    Right(
        "ex6_prefix_costs",
        "counted by a loop",
        source="""def prefix_params(n_layers: int, d_model: int, n_prefix: int) -> int:
    keys = values = n_prefix * d_model
    return n_layers * (keys + values)


def attention_scores(seq_len: int, n_prefix: int = 0) -> int:
    return sum(n_prefix + t for t in range(1, seq_len + 1))
""",
    ),
    Right(
        "ex6_prefix_costs",
        "closed form via math.comb",
        source="""def prefix_params(n_layers: int, d_model: int, n_prefix: int) -> int:
    return n_layers * n_prefix * 2 * d_model


def attention_scores(seq_len: int, n_prefix: int = 0) -> int:
    return n_prefix * seq_len + math.comb(seq_len + 1, 2)
""",
    ),
]
