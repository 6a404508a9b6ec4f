"""Wrong answers for 04_injection_and_training."""

from wrong_answers import Wrong

_CLIP = "    torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], max_grad_norm)\n"

WRONG = [
    # Exercise 1a: the sub-layer with an adapter before its residual + LayerNorm.
    Wrong(
        "ex1a_adapter_after_sublayer",
        "adapter applied after the LayerNorm",
        says="after the LayerNorm",
        edits=(
            (
                "        h = self.adapter(h)\n        return self.sublayer.LayerNorm(h + input_tensor)",
                "        return self.adapter(self.sublayer.LayerNorm(h + input_tensor))",
            ),
        ),
    ),
    Wrong(
        "ex1a_adapter_after_sublayer",
        "original sub-layer called whole, adapter on its output",
        says="after the LayerNorm",
        combined=False,
        edits=(
            (
                "        h = self.sublayer.dropout(self.sublayer.dense(hidden_states))\n        h = self.adapter(h)\n"
                "        return self.sublayer.LayerNorm(h + input_tensor)",
                "        return self.adapter(self.sublayer(hidden_states, input_tensor))",
            ),
        ),
    ),
    Wrong(
        "ex1a_adapter_after_sublayer",
        "adapter applied to dense output + residual",
        says="residual stream",
        edits=(
            (
                "        h = self.adapter(h)\n        return self.sublayer.LayerNorm(h + input_tensor)",
                "        return self.sublayer.LayerNorm(self.adapter(h + input_tensor))",
            ),
        ),
    ),
    Wrong(
        "ex1a_adapter_after_sublayer",
        "adapter applied to the skip connection",
        says="skip connection",
        edits=(
            (
                "        h = self.adapter(h)\n        return self.sublayer.LayerNorm(h + input_tensor)",
                "        return self.sublayer.LayerNorm(h + self.adapter(input_tensor))",
            ),
        ),
    ),
    Wrong(
        "ex1a_adapter_after_sublayer",
        "residual input_tensor not added",
        says="is not added before the LayerNorm",
        edits=(("LayerNorm(h + input_tensor)", "LayerNorm(h)"),),
    ),
    Wrong(
        "ex1a_adapter_after_sublayer",
        "final LayerNorm left out",
        says="LayerNorm is missing",
        edits=(("return self.sublayer.LayerNorm(h + input_tensor)", "return h + input_tensor"),),
    ),
    Wrong(
        "ex1a_adapter_after_sublayer",
        "sub-layer stored as a copy",
        says="not a copy",
        edits=(("self.sublayer = sublayer", "self.sublayer = copy.deepcopy(sublayer)"),),
    ),
    Wrong(
        "ex1a_adapter_after_sublayer",
        "dropout applied after the adapter",
        says="dropout exactly once",
        edits=(
            (
                "        h = self.sublayer.dropout(self.sublayer.dense(hidden_states))\n        h = self.adapter(h)",
                "        h = self.sublayer.dense(hidden_states)\n        h = self.sublayer.dropout(self.adapter(h))",
            ),
        ),
    ),
    # Exercise 1b: two adapters per layer.
    Wrong(
        "ex1b_inject_houlsby",
        "adapter only after the FFN",
        says="only layer.output got an adapter",
        edits=(("for parent in (layer.attention, layer):", "for parent in (layer,):"),),
    ),
    Wrong(
        "ex1b_inject_houlsby",
        "adapter only after the attention block",
        says="only layer.attention.output got an adapter",
        combined=False,
        edits=(("for parent in (layer.attention, layer):", "for parent in (layer.attention,):"),),
    ),
    Wrong(
        "ex1b_inject_houlsby",
        "one adapter object shared by every sub-layer",
        says="do not reuse one object",
        edits=(
            (
                "    for layer in model.base_model.encoder.layer:\n",
                '    adapter = BottleneckAdapter(d_model, bottleneck, activation=activation, init="near_identity")\n'
                "    for layer in model.base_model.encoder.layer:\n",
            ),
            (
                '            adapter = BottleneckAdapter(d_model, bottleneck, activation=activation, init="near_identity")\n',
                "",
            ),
        ),
    ),
    Wrong(
        "ex1b_inject_houlsby",
        "Houlsby's random init instead of near_identity",
        says="near_identity",
        edits=(('init="near_identity"', 'init="houlsby"'),),
    ),
    Wrong(
        "ex1b_inject_houlsby",
        "activation not passed on (BottleneckAdapter's default gelu)",
        says="activation=activation",
        edits=(("activation=activation, ", ""),),
    ),
    Wrong(
        "ex1b_inject_houlsby",
        "wrapper built but not assigned back",
        says="assign the wrappers back",
        edits=(
            (
                "            parent.output = AdapterAfterSublayer(sublayer, adapter)",
                "            sublayer = AdapterAfterSublayer(sublayer, adapter)",
            ),
        ),
    ),
    Wrong(
        "ex1b_inject_houlsby",
        "adapter as wide as the FFN (intermediate_size)",
        says="model.config.hidden_size",
        edits=(("d_model = model.config.hidden_size", "d_model = model.config.intermediate_size"),),
    ),
    # Exercise 2: freezing and the optimizer.
    Wrong(
        "ex2_freeze_and_optimizer",
        "classifier head frozen too",
        says="classification head",
        edits=(("p.requires_grad_(id(p) in in_adapters or is_head)", "p.requires_grad_(id(p) in in_adapters)"),),
    ),
    Wrong(
        "ex2_freeze_and_optimizer",
        "optimizer given all parameters",
        says="frozen parameters",
        edits=(("params = [p for p in model.parameters() if p.requires_grad]", "params = list(model.parameters())"),),
    ),
    Wrong(
        "ex2_freeze_and_optimizer",
        "only freezes, never sets requires_grad=True",
        says="adapter parameters are frozen",
        edits=(
            (
                "        p.requires_grad_(id(p) in in_adapters or is_head)",
                "        if not (id(p) in in_adapters or is_head):\n            p.requires_grad_(False)",
            ),
        ),
    ),
    Wrong(
        "ex2_freeze_and_optimizer",
        "base taken as embeddings + encoder (pooler forgotten)",
        says="pooler",
        edits=(
            (
                "{id(p) for p in model.base_model.parameters()}",
                "{id(p) for part in (model.base_model.embeddings, model.base_model.encoder) for p in part.parameters()}",
            ),
        ),
    ),
    Wrong(
        "ex2_freeze_and_optimizer",
        "Adam instead of AdamW",
        says="AdamW",
        combined=False,
        edits=(("torch.optim.AdamW(params, lr=lr)", "torch.optim.Adam(params, lr=lr)"),),
    ),
    Wrong(
        "ex2_freeze_and_optimizer",
        "learning rate not passed",
        says="lr=lr",
        combined=False,
        edits=(("torch.optim.AdamW(params, lr=lr)", "torch.optim.AdamW(params)"),),
    ),
    # Exercise 3: one training step.
    Wrong(
        "ex3_train_step",
        "gradients not zeroed",
        says="not zeroed",
        edits=(("    optimizer.zero_grad(set_to_none=True)\n", ""),),
    ),
    Wrong("ex3_train_step", "no clipping", says="not clipped", edits=((_CLIP, ""),)),
    Wrong(
        "ex3_train_step",
        "loss returned as a tensor",
        says="Python float",
        edits=(("return loss.item()", "return loss"),),
    ),
    Wrong(
        "ex3_train_step",
        "optimizer.step() before backward()",
        says="called before backward()",
        edits=(
            (
                "    loss.backward()\n" + _CLIP + "    optimizer.step()\n",
                "    optimizer.step()\n    loss.backward()\n" + _CLIP,
            ),
        ),
    ),
    Wrong(
        "ex3_train_step",
        "zero_grad() between backward() and step()",
        says="zero_grad() came between",
        edits=(
            ("    optimizer.zero_grad(set_to_none=True)\n", ""),
            ("    loss.backward()\n", "    loss.backward()\n    optimizer.zero_grad(set_to_none=True)\n"),
        ),
    ),
    Wrong(
        "ex3_train_step",
        "loss summed over the batch",
        says="summed over the batch",
        edits=(
            ('F.cross_entropy(logits, batch["labels"])', 'F.cross_entropy(logits, batch["labels"], reduction="sum")'),
        ),
    ),
    Wrong("ex3_train_step", "model.train() forgotten", says="still in eval mode", edits=(("    model.train()\n", ""),)),
    Wrong(
        "ex3_train_step",
        "clipped to a fixed 1.0 instead of max_grad_norm",
        says="not a fixed number",
        edits=(("max_grad_norm)\n", "1.0)\n"),),
    ),
    # Exercise 4: did the saved adapter come back intact?
    Wrong(
        "ex4_same_predictions",
        "a tensor returned instead of a bool",
        says="Python bool",
        edits=(
            (
                "return bool(torch.equal(a.argmax(dim=-1), b.argmax(dim=-1)) and torch.allclose(a, b, rtol=0.0, atol=atol))",
                "return (a.argmax(dim=-1) == b.argmax(dim=-1)).all() & ((a - b).abs() <= atol).all()",
            ),
        ),
    ),
    Wrong(
        "ex4_same_predictions",
        "only the predicted labels compared",
        says="compare the logits themselves",
        edits=(
            (
                "return bool(torch.equal(a.argmax(dim=-1), b.argmax(dim=-1)) and torch.allclose(a, b, rtol=0.0, atol=atol))",
                "return bool(torch.equal(a.argmax(dim=-1), b.argmax(dim=-1)))",
            ),
        ),
    ),
    Wrong(
        "ex4_same_predictions",
        "labels OR logits instead of AND",
        says="compare the logits themselves",
        combined=False,
        edits=(("b.argmax(dim=-1)) and torch.allclose", "b.argmax(dim=-1)) or torch.allclose"),),
    ),
    Wrong(
        "ex4_same_predictions",
        "exact equality of the logits (atol ignored)",
        says="atol argument",
        edits=(("torch.allclose(a, b, rtol=0.0, atol=atol)", "torch.equal(a, b)"),),
    ),
    Wrong(
        "ex4_same_predictions",
        "torch.allclose with its default tolerances",
        says="atol argument",
        combined=False,
        edits=(("torch.allclose(a, b, rtol=0.0, atol=atol)", "torch.allclose(a, b)"),),
    ),
    Wrong(
        "ex4_same_predictions",
        "models left in training mode",
        says="model.eval()",
        edits=(("        model.eval()\n", ""),),
    ),
    # Exercise 5: routing in the multi-task hub.
    Wrong(
        "ex5_route",
        "task's adapter not activated",
        says="set_active_adapter",
        edits=(("    set_active_adapter(hub.encoder, task)\n", ""),),
    ),
    Wrong(
        "ex5_route",
        "adapter activated after the forward pass",
        says="instead of",
        edits=(
            ("    set_active_adapter(hub.encoder, task)\n", ""),
            ("    return [hub.label_names", "    set_active_adapter(hub.encoder, task)\n    return [hub.label_names"),
        ),
    ),
    Wrong(
        "ex5_route",
        "[CLS] vector instead of the mean",
        says="[CLS] vector",
        edits=(('mean_pool(hidden, inputs["attention_mask"])', "hidden[:, 0]"),),
    ),
    Wrong(
        "ex5_route",
        "padding averaged in",
        says="padding tokens were averaged in",
        edits=(('mean_pool(hidden, inputs["attention_mask"])', "hidden.mean(dim=1)"),),
    ),
    Wrong(
        "ex5_route",
        "class ids returned instead of label names",
        says="label_names[task][i]",
        edits=(
            (
                "return [hub.label_names[task][i] for i in logits.argmax(dim=-1).tolist()]",
                "return logits.argmax(dim=-1).tolist()",
            ),
        ),
    ),
    Wrong(
        "ex5_route",
        "argmax over the batch",
        says="argmax ran over the batch",
        edits=(("logits.argmax(dim=-1)", "logits.argmax(dim=0)"),),
    ),
    Wrong(
        "ex5_route",
        "encoder left in training mode (dropout on)",
        says="left in training mode",
        combined=False,
        edits=(("    hub.encoder.eval()\n", ""),),
    ),
]
