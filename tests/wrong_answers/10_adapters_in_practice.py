"""Wrong answers for 10_adapters_in_practice."""

from wrong_answers import Wrong

WRONG = [
    # Exercise 1: the LRU adapter cache.
    Wrong(
        "ex1_adapter_cache",
        "evicts the most recently used",
        says="the adapter just loaded was dropped",
        edits=(("self.entries.popitem(last=False)", "self.entries.popitem(last=True)"),),
    ),
    Wrong(
        "ex1_adapter_cache",
        "evicts the most recently used before loading",
        says="the most recently used adapter was dropped",
        edits=(
            (
                """        value = self.load(name)
        self.loads += 1
        self.entries[name] = value
        if len(self.entries) > self.capacity:
            old_name, old_value = self.entries.popitem(last=False)
            if self.unload is not None:
                self.unload(old_name, old_value)""",
                """        if len(self.entries) == self.capacity:
            old_name, old_value = self.entries.popitem(last=True)
            if self.unload is not None:
                self.unload(old_name, old_value)
        value = self.load(name)
        self.loads += 1
        self.entries[name] = value""",
            ),
        ),
    ),
    Wrong(
        "ex1_adapter_cache",
        "never evicts",
        says="it never drops one",
        edits=(("if len(self.entries) > self.capacity:", "if False:"),),
    ),
    Wrong(
        "ex1_adapter_cache",
        "reloads on every hit",
        says="loaded again although it was cached",
        edits=(
            (
                """        if name in self.entries:
            self.entries.move_to_end(name)
            return self.entries[name]
""",
                """        if name in self.entries:
            self.entries[name] = self.load(name)
            self.loads += 1
            self.entries.move_to_end(name)
            return self.entries[name]
""",
            ),
        ),
    ),
    Wrong(
        "ex1_adapter_cache",
        "a hit does not refresh recency",
        says="a hit did not make the adapter the most recently used",
        edits=(("            self.entries.move_to_end(name)\n", ""),),
    ),
    Wrong(
        "ex1_adapter_cache",
        "capacity off by one (drops at capacity)",
        says="off by one",
        edits=(("if len(self.entries) > self.capacity:", "if len(self.entries) >= self.capacity:"),),
    ),
    Wrong(
        "ex1_adapter_cache",
        "capacity off by one (keeps one too many)",
        says="keeps one too many",
        edits=(("if len(self.entries) > self.capacity:", "if len(self.entries) > self.capacity + 1:"),),
    ),
    Wrong(
        "ex1_adapter_cache",
        "unload never called",
        says="once for every dropped adapter",
        edits=(("            if self.unload is not None:\n                self.unload(old_name, old_value)\n", ""),),
    ),
    Wrong(
        "ex1_adapter_cache",
        "names() most recent first",
        says="least recently used first",
        edits=(("return list(self.entries)", "return list(reversed(self.entries))"),),
    ),
    Wrong(
        "ex1_adapter_cache",
        "capacity 0 accepted",
        says="must raise ValueError",
        edits=(
            ("if not isinstance(capacity, int) or capacity < 1:", "if not isinstance(capacity, int) or capacity < 0:"),
        ),
    ),
    Wrong(
        "ex1_adapter_cache",
        "stores the entry before loading (a failing load leaves a stale entry)",
        says="a load that raises must leave the cache as it was",
        combined=False,
        edits=(
            (
                """        value = self.load(name)
        self.loads += 1
        self.entries[name] = value""",
                """        self.entries[name] = None
        self.loads += 1
        value = self.entries[name] = self.load(name)""",
            ),
        ),
    ),
    # Exercise 2: the router.
    Wrong(
        "ex2_route",
        "returns class indices",
        says="class indices came back",
        edits=(
            (
                "return [hub.departments[i] for i in logits.argmax(dim=-1).tolist()]",
                "return logits.argmax(dim=-1).tolist()",
            ),
        ),
    ),
    Wrong(
        "ex2_route",
        "padding averaged into the mean",
        says="padding was averaged into the mean",
        edits=(('mean_pool(hidden, inputs["attention_mask"])', "hidden.mean(dim=1)"),),
    ),
    Wrong(
        "ex2_route",
        "attention mask not passed to the encoder",
        says="the attention mask was not passed to the encoder",
        edits=(
            (
                "hidden = hub.encoder(**inputs).last_hidden_state",
                'hidden = hub.encoder(input_ids=inputs["input_ids"]).last_hidden_state',
            ),
        ),
    ),
    Wrong(
        "ex2_route",
        "router adapter not activated",
        says="the router's adapter was not activated",
        edits=(('    set_active_adapter(hub.encoder, "router")\n', ""),),
    ),
    Wrong(
        "ex2_route",
        "[CLS] vector instead of the mean",
        says="the first ([CLS]) vector was used",
        edits=(('mean_pool(hidden, inputs["attention_mask"])', "hidden[:, 0]"),),
    ),
    Wrong(
        "ex2_route",
        "dropout left on",
        says="eval mode",
        edits=(("    hub.encoder.eval()\n", ""),),
    ),
    # Exercise 3: snapshot and identical.
    Wrong(
        "ex3_snapshot",
        "no copy (the model's own tensors)",
        says="clone them",
        edits=(("tensor.detach().clone()", "tensor"),),
    ),
    Wrong(
        "ex3_snapshot",
        "adapters included",
        says="adapter tensors were included",
        edits=((' if ".adapters." not in name}', "}"),),
    ),
    Wrong(
        "ex3_snapshot",
        "a tolerance instead of bit-for-bit",
        says="compare bit for bit",
        edits=(("torch.equal(a[k], b[k])", "torch.allclose(a[k].double(), b[k].double())"),),
    ),
    Wrong(
        "ex3_snapshot",
        "names not compared",
        says="compare the names too",
        edits=(
            (
                """    if a.keys() != b.keys():
        return False
    return all(a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and torch.equal(a[k], b[k]) for k in a)""",
                """    return all(a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and torch.equal(a[k], b[k])
               for k in a.keys() & b.keys())""",
            ),
        ),
    ),
    Wrong(
        "ex3_snapshot",
        "dtype not compared (values cast)",
        says="compare the dtypes too",
        edits=(
            (
                "a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and torch.equal(a[k], b[k])",
                "a[k].shape == b[k].shape and torch.equal(a[k].double(), b[k].double())",
            ),
        ),
    ),
    Wrong(
        "ex3_snapshot",
        "returns a tensor, not a bool",
        says="return a Python bool",
        edits=(
            (
                "    return all(a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and torch.equal(a[k], b[k]) for k in a)",
                "    return torch.tensor([torch.equal(a[k], b[k]) and a[k].dtype == b[k].dtype for k in a]).all()",
            ),
        ),
    ),
    # Exercise 4: layers backward goes through.
    Wrong(
        "ex4_layers_backward",
        "counted from the highest adapter",
        says="counted from the highest adapter",
        edits=(("return num_layers - min(layers)", "return num_layers - max(layers)"),),
    ),
    Wrong(
        "ex4_layers_backward",
        "layers counted from the wrong end",
        says="counted from the wrong end",
        edits=(("return num_layers - min(layers)", "return max(layers) + 1"),),
    ),
    Wrong(
        "ex4_layers_backward",
        "the embedding layer counted",
        says="the embedding layer is not a transformer layer",
        edits=(("return num_layers - min(layers)", "return num_layers - min(layers) + 1"),),
    ),
    Wrong(
        "ex4_layers_backward",
        "only the layers with adapters counted",
        says="only the layers holding adapters were counted",
        edits=(("return num_layers - min(layers)", "return len(set(layers))"),),
    ),
    Wrong(
        "ex4_layers_backward",
        "the lowest adapter's own layer left out",
        says="one too few",
        edits=(("return num_layers - min(layers)", "return num_layers - min(layers) - 1"),),
    ),
    Wrong(
        "ex4_layers_backward",
        "no range check",
        says="must raise ValueError",
        edits=(("    if bad:\n        raise ValueError", "    if False:\n        raise ValueError"),),
    ),
    # Exercise 5: optimizer-state bytes.
    Wrong(
        "ex5_optimizer_state_bytes",
        "all parameters instead of the trainable ones",
        says="every parameter was counted",
        edits=(("for p in model.parameters() if p.requires_grad)", "for p in model.parameters())"),),
    ),
    Wrong(
        "ex5_optimizer_state_bytes",
        "AdamW's two states forgotten",
        says="AdamW keeps TWO states",
        edits=(('STATES = {"adamw": 2,', 'STATES = {"adamw": 1,'),),
    ),
    Wrong(
        "ex5_optimizer_state_bytes",
        "numbers instead of bytes",
        says="numbers were counted, not bytes",
        edits=(("p.numel() * p.element_size()", "p.numel()"),),
    ),
    Wrong(
        "ex5_optimizer_state_bytes",
        "4 bytes per number assumed",
        says="4 bytes per number was assumed",
        edits=(("p.numel() * p.element_size()", "p.numel() * 4"),),
    ),
    Wrong(
        "ex5_optimizer_state_bytes",
        "the weights counted too",
        says="the weights themselves were added",
        edits=(("return STATES[optimizer] * trainable", "return (STATES[optimizer] + 1) * trainable"),),
    ),
    Wrong(
        "ex5_optimizer_state_bytes",
        "unknown optimizer treated as AdamW",
        says="must raise ValueError",
        edits=(
            (
                """    if optimizer not in STATES:
        raise ValueError(f"unknown optimizer {optimizer!r}; known: {', '.join(STATES)}")
""",
                "",
            ),
            ("return STATES[optimizer] * trainable", "return STATES.get(optimizer, 2) * trainable"),
        ),
    ),
]
