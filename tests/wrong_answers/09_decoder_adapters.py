"""Wrong answers for 09_decoder_adapters."""

from wrong_answers import Wrong

_ADAPTER_LINE = "y = y + adapter_up(activation(adapter_down(y)))"
_ATTN = (
    "block.attn.c_proj = AfterProjection(block.attn.c_proj, BottleneckAdapter(d, bottleneck, activation=activation))"
)
_MLP = "block.mlp.c_proj = AfterProjection(block.mlp.c_proj, BottleneckAdapter(d, bottleneck, activation=activation))"
_LOSS_RETURN = "return -(picked * counted).sum() / counted.sum()"
_CAT = "return model(inputs_embeds=torch.cat([prompt, embeds], dim=1),"
_MASK = "attention_mask=torch.cat([ones, attention_mask], dim=1)).logits"

WRONG = [
    # Exercise 1: where the adapter goes in a pre-LN sub-layer.
    Wrong(
        "ex1_adapted_sublayer",
        "adapter after the residual add",
        says="after the residual add",
        edits=(
            (
                f"    {_ADAPTER_LINE}\n    return h + y",
                "    z = h + y\n    return z + adapter_up(activation(adapter_down(z)))",
            ),
        ),
    ),
    Wrong(
        "ex1_adapted_sublayer",
        "adapter before the LayerNorm, on the sub-layer's input",
        says="before the LayerNorm",
        edits=(
            (
                f"y = sublayer(norm(h))\n    {_ADAPTER_LINE}\n    return h + y",
                "x = h + adapter_up(activation(adapter_down(h)))\n    return h + sublayer(norm(x))",
            ),
        ),
    ),
    Wrong(
        "ex1_adapted_sublayer",
        "adapter reads the normalised input",
        says="reads the normalised input",
        edits=((_ADAPTER_LINE, "y = y + adapter_up(activation(adapter_down(norm(h))))"),),
    ),
    Wrong(
        "ex1_adapted_sublayer",
        "adapter's own skip connection missing",
        says="skip connection is missing",
        edits=((_ADAPTER_LINE, "y = adapter_up(activation(adapter_down(y)))"),),
    ),
    Wrong(
        "ex1_adapted_sublayer",
        "block's residual add missing",
        says="residual add of the block is missing",
        edits=(("return h + y", "return y"),),
    ),
    Wrong(
        "ex1_adapted_sublayer",
        "LayerNorm skipped",
        says="LayerNorm is skipped",
        edits=(("y = sublayer(norm(h))", "y = sublayer(h)"),),
    ),
    Wrong(
        "ex1_adapted_sublayer",
        "post-LN block (BERT's order)",
        says="post-LN block",
        edits=(("y = sublayer(norm(h))", "y = sublayer(h)"), ("return h + y", "return norm(h + y)")),
    ),
    Wrong(
        "ex1_adapted_sublayer",
        "activation after the up-projection",
        says="after the up-projection",
        edits=((_ADAPTER_LINE, "y = y + activation(adapter_up(adapter_down(y)))"),),
    ),
    Wrong(
        "ex1_adapted_sublayer",
        "ReLU hard-coded instead of the activation argument",
        says="call `activation`",
        edits=((_ADAPTER_LINE, "y = y + adapter_up(torch.relu(adapter_down(y)))"),),
    ),
    # Exercise 2: adapters in every block.
    Wrong(
        "ex2_add_decoder_adapters",
        "non-identity init",
        says="start as the identity",
        edits=(
            (_ATTN, _ATTN.replace("activation=activation)", "activation=activation, init='random')")),
            (_MLP, _MLP.replace("activation=activation)", "activation=activation, init='random')")),
        ),
    ),
    Wrong(
        "ex2_add_decoder_adapters",
        "c_attn wrapped instead of attn.c_proj",
        says="c_attn",
        edits=((_ATTN, _ATTN.replace("attn.c_proj", "attn.c_attn")),),
    ),
    Wrong(
        "ex2_add_decoder_adapters",
        "mlp.c_fc wrapped instead of mlp.c_proj",
        says="mlp.c_fc",
        edits=(
            (_MLP, _MLP.replace("mlp.c_proj", "mlp.c_fc").replace("BottleneckAdapter(d,", "BottleneckAdapter(4 * d,")),
        ),
    ),
    Wrong(
        "ex2_add_decoder_adapters",
        "only the MLP gets an adapter",
        says="attn.c_proj is not wrapped",
        edits=((f"        {_ATTN}\n", ""),),
    ),
    Wrong(
        "ex2_add_decoder_adapters",
        "the whole block wrapped (adapter after the residual add)",
        says="whole block was wrapped",
        source="""def add_decoder_adapters(model: GPT2LMHeadModel, bottleneck: int = 16, activation: str = "relu") -> GPT2LMHeadModel:
    d = model.config.hidden_size
    for i, block in enumerate(model.transformer.h):
        model.transformer.h[i] = AfterProjection(block, BottleneckAdapter(d, bottleneck, activation=activation))
    return model
""",
    ),
    Wrong(
        "ex2_add_decoder_adapters",
        "one adapter shared by both projections",
        says="shared",
        edits=(
            (
                f"for block in model.transformer.h:\n        {_ATTN}\n        {_MLP}",
                "for block in model.transformer.h:\n"
                "        adapter = BottleneckAdapter(d, bottleneck, activation=activation)\n"
                "        block.attn.c_proj = AfterProjection(block.attn.c_proj, adapter)\n"
                "        block.mlp.c_proj = AfterProjection(block.mlp.c_proj, adapter)",
            ),
        ),
    ),
    Wrong(
        "ex2_add_decoder_adapters",
        "activation argument ignored",
        says="pass activation=activation",
        edits=(
            (_ATTN, _ATTN.replace("activation=activation", 'activation="relu"')),
            (_MLP, _MLP.replace("activation=activation", 'activation="relu"')),
        ),
    ),
    Wrong(
        "ex2_add_decoder_adapters",
        "only the first block",
        says="every block",
        edits=(("for block in model.transformer.h:", "for block in model.transformer.h[:1]:"),),
    ),
    # Exercise 3: the SFT batch.
    Wrong(
        "ex3_make_sft_batch",
        "prompt not masked",
        says="the prompt is not masked",
        edits=(("[-100] * len(prompt) + list(response) + [eos_id]", "list(prompt) + list(response) + [eos_id]"),),
    ),
    Wrong(
        "ex3_make_sft_batch",
        "padding not masked",
        says="the padding is not masked",
        edits=(("labels + [-100] * pad", "labels + [pad_id] * pad"),),
    ),
    Wrong(
        "ex3_make_sft_batch",
        "neither prompt nor padding masked",
        says="neither the prompt nor the padding",
        edits=(
            ("[-100] * len(prompt) + list(response) + [eos_id]", "list(prompt) + list(response) + [eos_id]"),
            ("labels + [-100] * pad", "labels + [pad_id] * pad"),
        ),
    ),
    Wrong(
        "ex3_make_sft_batch",
        "no end-of-sequence token",
        says="end-of-sequence token is missing",
        edits=(
            ("ids = list(prompt) + list(response) + [eos_id]", "ids = list(prompt) + list(response)"),
            ("[-100] * len(prompt) + list(response) + [eos_id]", "[-100] * len(prompt) + list(response)"),
        ),
    ),
    Wrong(
        "ex3_make_sft_batch",
        "attention mask 1 on the padding",
        says="1 on the padding",
        edits=(("[1] * len(ids) + [0] * pad", "[1] * width"),),
    ),
    Wrong(
        "ex3_make_sft_batch",
        "padding on the left",
        says="padding is on the left",
        edits=(
            ("ids + [pad_id] * pad", "[pad_id] * pad + ids"),
            ("[1] * len(ids) + [0] * pad", "[0] * pad + [1] * len(ids)"),
            ("labels + [-100] * pad", "[-100] * pad + labels"),
        ),
    ),
    Wrong(
        "ex3_make_sft_batch",
        "labels shifted by hand (off by one)",
        says="shifted by hand",
        edits=(("labels + [-100] * pad)", "labels[1:] + [-100] * (pad + 1))"),),
    ),
    Wrong(
        "ex3_make_sft_batch",
        "prompt masked with 0 instead of -100",
        says="the prompt is masked with 0",
        edits=(("[-100] * len(prompt) + list(response)", "[0] * len(prompt) + list(response)"),),
    ),
    # Exercise 4: the loss over response tokens.
    Wrong(
        "ex4_sft_loss",
        "averaged over all tokens",
        says="averaged over every position",
        edits=((_LOSS_RETURN, "return -(picked * counted).sum() / counted.numel()"),),
    ),
    Wrong(
        "ex4_sft_loss",
        "no shift (off by one)",
        says="the logits are not shifted",
        edits=(("logits, targets = logits[:, :-1], labels[:, 1:]", "targets = labels"),),
    ),
    Wrong(
        "ex4_sft_loss",
        "shifted the wrong way",
        says="shifted the wrong way",
        edits=(("logits, targets = logits[:, :-1], labels[:, 1:]", "logits, targets = logits[:, 1:], labels[:, :-1]"),),
    ),
    Wrong(
        "ex4_sft_loss",
        "the -100 labels scored as token 0",
        says="the -100 labels were scored",
        edits=((_LOSS_RETURN, "return -picked.mean()"),),
    ),
    Wrong(
        "ex4_sft_loss",
        "sum instead of mean",
        says="summed, not averaged",
        edits=((_LOSS_RETURN, "return -(picked * counted).sum()"),),
    ),
    Wrong(
        "ex4_sft_loss",
        "mean per example, then over examples",
        says="a mean per example",
        edits=((_LOSS_RETURN, "return (-(picked * counted).sum(1) / counted.sum(1)).mean()"),),
    ),
    Wrong(
        "ex4_sft_loss",
        "computed in float32 (dtype lost)",
        says="keep the logits' dtype",
        edits=(("F.log_softmax(logits, dim=-1)", "F.log_softmax(logits.float(), dim=-1)"),),
    ),
    # Exercise 5: prompt tuning.
    Wrong(
        "ex5_soft_prompt_logits",
        "soft prompt appended instead of prepended",
        says="appended after the text",
        edits=((_CAT, "return model(inputs_embeds=torch.cat([embeds, prompt], dim=1),"),),
    ),
    Wrong(
        "ex5_soft_prompt_logits",
        "attention mask not extended",
        says="the attention mask was not extended",
        edits=((_MASK, "attention_mask=attention_mask).logits"),),
    ),
    Wrong(
        "ex5_soft_prompt_logits",
        "mask extended with zeros",
        says="extended with zeros",
        edits=(("ones = torch.ones(", "ones = torch.zeros("),),
    ),
    Wrong(
        "ex5_soft_prompt_logits",
        "mask's ones at the end",
        says="ones were put at the end",
        edits=((_MASK, "attention_mask=torch.cat([attention_mask, ones], dim=1)).logits"),),
    ),
    Wrong(
        "ex5_soft_prompt_logits",
        "prompt detached from the graph",
        says="gradient reaches the soft prompt",
        edits=(("prompt = soft_prompt.unsqueeze(0)", "prompt = soft_prompt.detach().unsqueeze(0)"),),
    ),
    Wrong(
        "ex5_soft_prompt_logits",
        "prompt added to the first embeddings instead of prepended",
        says="positions came back",
        source="""def soft_prompt_logits(model: nn.Module, soft_prompt: torch.Tensor, input_ids: torch.Tensor,
                       attention_mask: torch.Tensor) -> torch.Tensor:
    n = soft_prompt.shape[0]
    embeds = model.get_input_embeddings()(input_ids)
    embeds = torch.cat([embeds[:, :n] + soft_prompt, embeds[:, n:]], dim=1)
    return model(inputs_embeds=embeds, attention_mask=attention_mask).logits
""",
    ),
    # Exercise 6: prefix costs.
    Wrong(
        "ex6_prefix_costs",
        "keys only (factor 2 missing)",
        says="only the keys",
        edits=(("return 2 * n_layers * n_prefix * d_model", "return n_layers * n_prefix * d_model"),),
    ),
    Wrong(
        "ex6_prefix_costs",
        "one layer only",
        says="one layer only",
        edits=(("return 2 * n_layers * n_prefix * d_model", "return 2 * n_prefix * d_model"),),
    ),
    Wrong(
        "ex6_prefix_costs",
        "no causal mask",
        says="without the causal mask",
        edits=(("return seq_len * n_prefix + seq_len * (seq_len + 1) // 2", "return seq_len * (seq_len + n_prefix)"),),
    ),
    Wrong(
        "ex6_prefix_costs",
        "virtual tokens counted as queries",
        says="counted as queries",
        edits=(
            (
                "return seq_len * n_prefix + seq_len * (seq_len + 1) // 2",
                "return (n_prefix + seq_len) * (n_prefix + seq_len + 1) // 2",
            ),
        ),
    ),
    Wrong(
        "ex6_prefix_costs",
        "a token does not attend to itself (off by one)",
        says="attends to itself",
        edits=(("seq_len * (seq_len + 1) // 2", "seq_len * (seq_len - 1) // 2"),),
    ),
    Wrong(
        "ex6_prefix_costs",
        "float division",
        says="return an int",
        edits=(("seq_len * (seq_len + 1) // 2", "seq_len * (seq_len + 1) / 2"),),
    ),
]
