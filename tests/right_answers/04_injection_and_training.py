"""Right answers for 04_injection_and_training: correct code written differently from the master."""

from right_answers import Right

RIGHT = [
    # Exercise 1a: the sub-layer with an adapter before its residual + LayerNorm.
    Right(
        "ex1a_adapter_after_sublayer",
        "other attribute names, one expression with the residual added first",
        source="""class AdapterAfterSublayer(nn.Module):
    def __init__(self, sublayer: nn.Module, adapter: nn.Module):
        super().__init__()
        self.adapter_module = adapter
        self.original = sublayer

    def forward(self, hidden_states: torch.Tensor, input_tensor: torch.Tensor) -> torch.Tensor:
        projected = self.original.dropout(self.original.dense(hidden_states))
        return self.original.LayerNorm(input_tensor + self.adapter_module(projected))
""",
    ),
    Right(
        "ex1a_adapter_after_sublayer",
        "add_module, the parts read into local names, dropout through F.dropout with the sub-layer's p",
        source="""class AdapterAfterSublayer(nn.Module):
    def __init__(self, sublayer, adapter):
        super().__init__()
        self.add_module("sublayer", sublayer)
        self.add_module("adapter", adapter)

    def forward(self, hidden_states, input_tensor):
        dense, dropout, norm = self.sublayer.dense, self.sublayer.dropout, self.sublayer.LayerNorm
        h = F.dropout(dense(hidden_states), p=dropout.p, training=dropout.training)
        h = self.adapter(h)
        out = h + input_tensor
        return norm(out)
""",
    ),
    # Exercise 1b: two adapters per layer.
    Right(
        "ex1b_inject_houlsby",
        "both sub-layers written out, indexed loop, setattr, adapter.to(weight)",
        source="""def inject_houlsby(model: nn.Module, bottleneck: int, activation: str = "relu") -> nn.Module:
    layers = model.base_model.encoder.layer
    width = model.config.hidden_size
    for i in range(len(layers)):
        attention = layers[i].attention
        old = attention.output
        fresh = BottleneckAdapter(width, bottleneck, activation=activation, init="near_identity").to(old.dense.weight)
        setattr(attention, "output", AdapterAfterSublayer(old, fresh))
        old = layers[i].output
        fresh = BottleneckAdapter(width, bottleneck, activation=activation, init="near_identity").to(old.dense.weight)
        setattr(layers[i], "output", AdapterAfterSublayer(old, fresh))
    return model
""",
    ),
    Right(
        "ex1b_inject_houlsby",
        "the sub-layers found by class in named_modules, replaced through get_submodule",
        source="""from transformers.models.bert.modeling_bert import BertOutput, BertSelfOutput


def inject_houlsby(model, bottleneck, activation="relu"):
    targets = [name for name, module in model.named_modules() if isinstance(module, (BertSelfOutput, BertOutput))]
    for name in targets:                                   # listed first: the loop below changes the model
        parent_name, _, attribute = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        sublayer = getattr(parent, attribute)
        adapter = BottleneckAdapter(model.config.hidden_size, bottleneck, activation=activation, init="near_identity")
        adapter = adapter.to(device=sublayer.dense.weight.device, dtype=sublayer.dense.weight.dtype)
        setattr(parent, attribute, AdapterAfterSublayer(sublayer, adapter))
    return model
""",
    ),
    Right(
        "ex1a_adapter_after_sublayer",
        "the sub-layer read into a short local name, the residual added with torch.add",
        source="""class AdapterAfterSublayer(nn.Module):
    def __init__(self, sublayer: nn.Module, adapter: nn.Module):
        super().__init__()
        self.sublayer = sublayer
        self.adapter = adapter

    def forward(self, hidden_states: torch.Tensor, input_tensor: torch.Tensor) -> torch.Tensor:
        s = self.sublayer
        corrected = self.adapter(s.dropout(s.dense(hidden_states)))
        return s.LayerNorm(torch.add(corrected, input_tensor))
""",
    ),
    # Exercise 2: freezing and the optimizer.
    Right(
        "ex2_freeze_and_optimizer",
        "freeze all, then unfreeze adapter modules and the head's children; two weight-decay groups",
        source="""def freeze_all_but_adapters_and_head(model: nn.Module) -> nn.Module:
    model.requires_grad_(False)
    for module in model.modules():
        if isinstance(module, BottleneckAdapter):
            module.requires_grad_(True)
    if model.base_model is not model:
        for child in model.children():
            if child is not model.base_model:
                child.requires_grad_(True)
    return model


def make_optimizer(model: nn.Module, lr: float) -> torch.optim.AdamW:
    trainable = [p for p in model.parameters() if p.requires_grad]
    if len(trainable) == 0:
        raise ValueError("nothing to train: every parameter has requires_grad=False")
    matrices = [p for p in trainable if p.ndim >= 2]
    vectors = [p for p in trainable if p.ndim < 2]
    groups = [{"params": matrices, "weight_decay": 0.01}, {"params": vectors, "weight_decay": 0.0}]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=lr)
""",
    ),
    Right(
        "ex2_freeze_and_optimizer",
        "one if/elif/else pass over named parameters with id sets; filter() and a positional lr",
        source="""def freeze_all_but_adapters_and_head(model):
    adapter_params = set()
    for module in model.modules():
        if isinstance(module, BottleneckAdapter):
            adapter_params.update(id(p) for p in module.parameters())
    base_params = set(map(id, model.base_model.parameters()))
    has_head = model.base_model is not model
    for name, p in model.named_parameters():
        if id(p) in adapter_params:
            p.requires_grad = True
        elif has_head and id(p) not in base_params:
            p.requires_grad = True
        else:
            p.requires_grad = False
    return model


def make_optimizer(model, lr):
    params = list(filter(lambda p: p.requires_grad, model.parameters()))
    if not params:
        raise ValueError(f"{type(model).__name__} has no trainable parameter")
    return torch.optim.AdamW(params, lr, weight_decay=0.01)
""",
    ),
    # Exercise 3: one training step.
    Right(
        "ex3_train_step",
        "float(loss), zero_grad() before train(), clipping over all parameters (frozen ones have no gradient)",
        source="""def train_step(model, batch, optimizer, max_grad_norm=1.0):
    optimizer.zero_grad()
    model.train()
    labels = batch["labels"]
    outputs = model(**{key: value for key, value in batch.items() if key != "labels"})
    loss = F.cross_entropy(outputs.logits, labels)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=max_grad_norm)
    optimizer.step()
    return float(loss)
""",
    ),
    Right(
        "ex3_train_step",
        "nn.CrossEntropyLoss on flattened logits, explicit keyword inputs, loss.detach().item()",
        source="""def train_step(model: nn.Module, batch: dict, optimizer: torch.optim.Optimizer, max_grad_norm: float = 1.0) -> float:
    model.train(True)
    optimizer.zero_grad(set_to_none=False)
    inputs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    if "token_type_ids" in batch:
        inputs["token_type_ids"] = batch["token_type_ids"]
    logits = model(**inputs).logits
    loss = nn.CrossEntropyLoss()(logits.view(-1, logits.size(-1)), batch["labels"].view(-1))
    loss.backward()
    trainable = [p for p in model.parameters() if p.requires_grad]
    torch.nn.utils.clip_grad_norm_(trainable, max_grad_norm)
    optimizer.step()
    return loss.detach().item()
""",
    ),
    # Exercise 4: did the saved adapter come back intact?
    Right(
        "ex4_same_predictions",
        "a loop over both models, largest absolute difference compared with atol first",
        source="""def same_predictions(model_a, model_b, batch, atol=1e-5):
    logits = []
    for model in (model_a, model_b):
        model.eval()
        device = next(model.parameters()).device
        with torch.no_grad():
            out = model(**{k: v.to(device) for k, v in batch.items() if k != "labels"}).logits
        logits.append(out.cpu())
    a, b = logits
    close = (a - b).abs().max().item() <= atol
    same_labels = bool((a.argmax(dim=-1) == b.argmax(dim=-1)).all())
    return close and same_labels
""",
    ),
    Right(
        "ex4_same_predictions",
        "inference_mode, torch.isclose with rtol=0, the labels taken out with pop on a copy",
        source="""def same_predictions(model_a: nn.Module, model_b: nn.Module, batch: dict, atol: float = 1e-5) -> bool:
    inputs = dict(batch)
    inputs.pop("labels", None)

    @torch.inference_mode()
    def predict_logits(model):
        model.eval()
        device = next(model.parameters()).device
        return model(**{name: tensor.to(device) for name, tensor in inputs.items()}).logits.to("cpu")

    first, second = predict_logits(model_a), predict_logits(model_b)
    if not torch.isclose(first, second, rtol=0.0, atol=atol).all():
        return False
    return torch.equal(first.argmax(-1), second.argmax(-1))
""",
    ),
    Right(
        "ex4_same_predictions",
        "both logits widened to float64 (never hides a difference), the largest difference through amax",
        source="""def same_predictions(model_a, model_b, batch, atol=1e-5):
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    outs = []
    for model in (model_a, model_b):
        model.eval()
        device = next(model.parameters()).device
        with torch.no_grad():
            outs.append(model(**{k: v.to(device) for k, v in inputs.items()}).logits.detach().cpu().double())
    a, b = outs
    if not torch.equal(a.argmax(-1), b.argmax(-1)):
        return False
    return bool((a - b).abs().amax() <= atol)
""",
    ),
    # Exercise 5: routing in the multi-task hub.
    Right(
        "ex5_route",
        "the mean pooled by hand, inference_mode, max().indices, encoder.device",
        source="""def route(hub, texts, task):
    if task not in hub.heads.keys():
        raise ValueError(f"no head for task {task!r}: the hub knows {sorted(hub.heads.keys())}")
    hub.encoder.eval()
    set_active_adapter(hub.encoder, task)
    encoded = hub.tokenizer(texts, padding=True, truncation=True, max_length=128, return_tensors="pt").to(hub.encoder.device)
    with torch.inference_mode():
        hidden = hub.encoder(**encoded).last_hidden_state
        mask = encoded["attention_mask"].unsqueeze(-1).type_as(hidden)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1)
        best = hub.heads[task](pooled).max(dim=-1).indices
    names = hub.label_names[task]
    return [names[int(i)] for i in best]
""",
    ),
    Right(
        "ex5_route",
        "one text at a time in a loop (no padding), the message listing the known tasks first",
        source="""def route(hub: Hub, texts: list, task: str) -> list:
    known = list(hub.heads)
    if task not in known:
        raise ValueError(f"known tasks are {known}; got unknown task {task!r}")
    set_active_adapter(hub.encoder, task)
    hub.encoder.eval()
    device = next(hub.encoder.parameters()).device
    answers = []
    for text in texts:
        inputs = hub.tokenizer([text], padding=True, truncation=True, max_length=128, return_tensors="pt")
        inputs = {k: v.to(device) for k, v in inputs.items()}
        with torch.no_grad():
            hidden = hub.encoder(**inputs).last_hidden_state
            label = hub.heads[task](mean_pool(hidden, inputs["attention_mask"]))[0].argmax().item()
        answers.append(hub.label_names[task][label])
    return answers
""",
    ),
]
