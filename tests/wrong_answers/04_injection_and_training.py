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
    Wrong(
        "ex1a_adapter_after_sublayer",
        "h added again to the adapter's output (the adapter already holds its residual)",
        says="h is added twice",
        edits=(("        h = self.adapter(h)\n", "        h = h + self.adapter(h)\n"),),
    ),
    Wrong(
        "ex1a_adapter_after_sublayer",
        "adapter output added into input_tensor in place",
        says="changed input_tensor in place",
        combined=False,
        edits=(
            (
                "        h = self.adapter(h)\n        return self.sublayer.LayerNorm(h + input_tensor)",
                "        input_tensor += self.adapter(h)\n        return self.sublayer.LayerNorm(input_tensor)",
            ),
        ),
    ),
    Wrong(
        "ex1a_adapter_after_sublayer",
        "pretrained projection computed under torch.no_grad() (it is frozen anyway)",
        says="cut from autograd",
        combined=False,
        edits=(
            (
                "        h = self.sublayer.dropout(self.sublayer.dense(hidden_states))\n",
                "        with torch.no_grad():  # the pretrained part does not train\n"
                "            h = self.sublayer.dropout(self.sublayer.dense(hidden_states))\n",
            ),
        ),
    ),
    Wrong(
        "ex1a_adapter_after_sublayer",
        "adapter re-implemented from its down/up layers with ReLU",
        says="call it as a module",
        combined=False,
        edits=(
            ("        h = self.adapter(h)\n", "        h = h + self.adapter.up(torch.relu(self.adapter.down(h)))\n"),
        ),
    ),
    Wrong(
        "ex1a_adapter_after_sublayer",
        "sub-layer and adapter kept in a plain list (not registered)",
        says="not registered",
        combined=False,
        edits=(
            (
                "        self.sublayer = sublayer\n        self.adapter = adapter\n",
                "        self.parts = [sublayer, adapter]\n",
            ),
            (
                "        h = self.sublayer.dropout(self.sublayer.dense(hidden_states))\n        h = self.adapter(h)\n"
                "        return self.sublayer.LayerNorm(h + input_tensor)",
                "        sublayer, adapter = self.parts\n        h = sublayer.dropout(sublayer.dense(hidden_states))\n"
                "        h = adapter(h)\n        return sublayer.LayerNorm(h + input_tensor)",
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
    Wrong(
        "ex1b_inject_houlsby",
        "adapter left float32 on the CPU (never moved)",
        says="move it to its sub-layer's device and dtype",
        combined=False,
        edits=(("            adapter.to(device=weight.device, dtype=weight.dtype)\n", ""),),
    ),
    Wrong(
        "ex1b_inject_houlsby",
        "adapter moved to the sub-layer's device only",
        says="move it to its sub-layer's device and dtype",
        combined=False,
        edits=(("adapter.to(device=weight.device, dtype=weight.dtype)", "adapter.to(weight.device)"),),
    ),
    Wrong(
        "ex1b_inject_houlsby",
        "injects into a copy of the model and returns the copy",
        says="not a copy of it",
        combined=False,
        edits=(
            (
                "    d_model = model.config.hidden_size\n",
                "    model = copy.deepcopy(model)  # leave the caller's model as it was\n    d_model = model.config.hidden_size\n",
            ),
        ),
    ),
    Wrong(
        "ex1b_inject_houlsby",
        "wraps a copy of each sub-layer",
        says="replaced by copies",
        combined=False,
        edits=(("AdapterAfterSublayer(sublayer, adapter)", "AdapterAfterSublayer(copy.deepcopy(sublayer), adapter)"),),
    ),
    Wrong(
        "ex1b_inject_houlsby",
        "layers reached through model.bert",
        says="model.base_model.encoder.layer",
        combined=False,
        edits=(("for layer in model.base_model.encoder.layer:", "for layer in model.bert.encoder.layer:"),),
    ),
    # Exercise 2: freezing and the optimizer.
    Wrong(
        "ex2_freeze_and_optimizer",
        "classifier head frozen too",
        says="task head",
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
    Wrong(
        "ex2_freeze_and_optimizer",
        "head recognised by the name 'classifier'",
        says="whatever it is called",
        combined=False,
        source="""def freeze_all_but_adapters_and_head(model: nn.Module) -> nn.Module:
    for name, p in model.named_parameters():
        p.requires_grad_(".adapters." in name or name.startswith("classifier."))
    return model


def make_optimizer(model: nn.Module, lr: float) -> torch.optim.AdamW:
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no trainable parameters")
    return torch.optim.AdamW(params, lr=lr)
""",
    ),
    Wrong(
        "ex2_freeze_and_optimizer",
        "adapters recognised by the name 'default'",
        says="adapter parameters are frozen",
        combined=False,
        edits=(
            (
                "in_adapters = {id(p) for m in model.modules() if isinstance(m, BottleneckAdapter) for p in m.parameters()}",
                'in_adapters = {id(p) for n, p in model.named_parameters() if ".adapters.default." in n}',
            ),
        ),
    ),
    Wrong(
        "ex2_freeze_and_optimizer",
        "base frozen and adapters unfrozen, the head left as it was",
        says="even where it was False before",
        combined=False,
        source="""def freeze_all_but_adapters_and_head(model: nn.Module) -> nn.Module:
    model.base_model.requires_grad_(False)
    for module in model.modules():
        if isinstance(module, BottleneckAdapter):
            module.requires_grad_(True)
    return model


def make_optimizer(model: nn.Module, lr: float) -> torch.optim.AdamW:
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no trainable parameters")
    return torch.optim.AdamW(params, lr=lr)
""",
    ),
    Wrong(
        "ex2_freeze_and_optimizer",
        "an assert instead of a ValueError",
        says="AssertionError",
        combined=False,
        edits=(
            (
                '    if not params:\n        raise ValueError("model has no trainable parameters: call '
                'freeze_all_but_adapters_and_head after adding adapters")\n',
                '    assert params, "model has no trainable parameters"\n',
            ),
        ),
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
    Wrong(
        "ex3_train_step",
        "the whole batch, labels included, passed to the model",
        says="'labels' was passed to the model",
        combined=False,
        edits=(("    logits = model(**inputs).logits\n", "    logits = model(**batch).logits\n"),),
    ),
    Wrong(
        "ex3_train_step",
        "the model's own loss used (model(**batch).loss)",
        says="'labels' was passed to the model",
        combined=False,
        edits=(
            (
                '    logits = model(**inputs).logits\n    loss = F.cross_entropy(logits, batch["labels"])\n',
                "    loss = model(**batch).loss\n",
            ),
        ),
    ),
    Wrong(
        "ex3_train_step",
        "clip_grad_value_ instead of clip_grad_norm_ (no element reaches the value: nothing clipped)",
        says="not clipped",
        combined=False,
        edits=(("torch.nn.utils.clip_grad_norm_(", "torch.nn.utils.clip_grad_value_("),),
    ),
    Wrong(
        "ex3_train_step",
        "F.nll_loss on the raw logits",
        says="F.nll_loss",
        combined=False,
        edits=(('F.cross_entropy(logits, batch["labels"])', 'F.nll_loss(logits, batch["labels"])'),),
    ),
    Wrong(
        "ex3_train_step",
        "softmax applied before F.cross_entropy",
        says="softmax was applied",
        combined=False,
        edits=(
            ('F.cross_entropy(logits, batch["labels"])', 'F.cross_entropy(logits.softmax(dim=-1), batch["labels"])'),
        ),
    ),
    Wrong(
        "ex3_train_step",
        "only input_ids passed to the model",
        says="attention_mask was not passed",
        combined=False,
        edits=(("    logits = model(**inputs).logits\n", '    logits = model(input_ids=batch["input_ids"]).logits\n'),),
    ),
    Wrong(
        "ex3_train_step",
        "token_type_ids left out",
        says="token_type_ids were not passed",
        combined=False,
        edits=(
            (
                "    logits = model(**inputs).logits\n",
                '    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits\n',
            ),
        ),
    ),
    Wrong(
        "ex3_train_step",
        "zero_grad() after step() instead of before backward()",
        says="not zeroed",
        combined=False,
        edits=(
            ("    optimizer.zero_grad(set_to_none=True)\n", ""),
            ("    optimizer.step()\n", "    optimizer.step()\n    optimizer.zero_grad()\n"),
        ),
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
    Wrong(
        "ex4_same_predictions",
        "logits cast to float32 before comparing",
        says="compared in float32",
        combined=False,
        edits=(("model(**inputs).logits.cpu()", "model(**inputs).logits.float().cpu()"),),
    ),
    Wrong(
        "ex4_same_predictions",
        "torch.allclose with atol but its default rtol",
        says="rtol=0",
        combined=False,
        edits=(("torch.allclose(a, b, rtol=0.0, atol=atol)", "torch.allclose(a, b, atol=atol)"),),
    ),
    Wrong(
        "ex4_same_predictions",
        "mean absolute difference compared with atol",
        says="mean difference",
        combined=False,
        edits=(("torch.allclose(a, b, rtol=0.0, atol=atol)", "(a - b).abs().mean() <= atol"),),
    ),
    Wrong(
        "ex4_same_predictions",
        "norm of the difference compared with atol",
        says="add up to",
        combined=False,
        edits=(("torch.allclose(a, b, rtol=0.0, atol=atol)", "torch.norm(a - b) <= atol"),),
    ),
    Wrong(
        "ex4_same_predictions",
        "labels popped from the caller's batch",
        says="removed 'labels' from the caller's batch",
        combined=False,
        edits=(
            (
                '        inputs = {k: v.to(device) for k, v in batch.items() if k != "labels"}\n',
                '        batch.pop("labels", None)\n        inputs = {k: v.to(device) for k, v in batch.items()}\n',
            ),
        ),
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
    Wrong(
        "ex5_route",
        "attention mask not passed to the encoder",
        says="not passed to the encoder",
        combined=False,
        edits=(
            (
                "hidden = hub.encoder(**inputs).last_hidden_state",
                'hidden = hub.encoder(input_ids=inputs["input_ids"]).last_hidden_state',
            ),
        ),
    ),
    Wrong(
        "ex5_route",
        "no truncation",
        says="truncation=True, max_length=128",
        combined=False,
        edits=(("padding=True, truncation=True, max_length=128", "padding=True"),),
    ),
    Wrong(
        "ex5_route",
        "truncation without max_length (the tokenizer's 512)",
        says="truncation=True, max_length=128",
        combined=False,
        edits=(("padding=True, truncation=True, max_length=128", "padding=True, truncation=True"),),
    ),
    Wrong(
        "ex5_route",
        "ValueError that does not list the known tasks",
        says="list the known tasks",
        combined=False,
        edits=(('f"unknown task {task!r}; known tasks: {list(hub.heads)}"', 'f"unknown task {task!r}"'),),
    ),
]
