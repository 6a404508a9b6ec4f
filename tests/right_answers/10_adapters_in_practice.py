"""Right answers for 10_adapters_in_practice: correct code written differently from the master."""

from right_answers import Right

_CACHE_LIST = '''class AdapterCache:
    """At most `capacity` loaded adapters; past that, the least recently used one is unloaded."""

    def __init__(self, capacity: int, load, unload=None):
        if type(capacity) is not int or capacity <= 0:
            raise ValueError(f"capacity must be a positive int; capacity={capacity}")
        self.capacity = capacity
        self.load = load
        self.unload = unload
        self.order = []   # names, least recently used first
        self.values = {}
        self.loads = 0

    def get(self, name: str):
        if name in self.values:
            self.order.remove(name)
            self.order.append(name)
            return self.values[name]
        value = self.load(name)
        self.loads = self.loads + 1
        self.values[name] = value
        self.order.append(name)
        while len(self.order) > self.capacity:
            oldest = self.order.pop(0)
            dropped = self.values.pop(oldest)
            if self.unload:
                self.unload(oldest, dropped)
        return value

    def names(self) -> list:
        return self.order.copy()
'''

_CACHE_CLOCK = '''import itertools


class AdapterCache:
    """At most `capacity` loaded adapters; past that, the least recently used one is unloaded."""

    def __init__(self, capacity: int, load, unload=None):
        if not isinstance(capacity, int) or capacity < 1:
            raise ValueError("capacity must be at least 1, got %r" % (capacity,))
        self.capacity, self.load, self.unload = capacity, load, unload
        self.last_used = {}   # name -> tick of its last use
        self.value = {}
        self.clock = itertools.count()
        self.loads = 0

    def get(self, name: str):
        if name not in self.value:
            loaded = self.load(name)
            self.loads += 1
            if len(self.value) == self.capacity:
                victim = min(self.last_used, key=self.last_used.get)
                del self.last_used[victim]
                victim_value = self.value.pop(victim)
                if self.unload is not None:
                    self.unload(victim, victim_value)
            self.value[name] = loaded
        self.last_used[name] = next(self.clock)
        return self.value[name]

    def names(self) -> list:
        return sorted(self.last_used, key=self.last_used.get)
'''

_ROUTE_SIG = '''def route(hub: Hub, texts: list) -> list:
    """The department name of each text, from the router's adapter and head on the shared encoder."""
'''

RIGHT = [
    # Exercise 1: the cache.
    Right("ex1_adapter_cache", "a list for the order and a dict for the values", source=_CACHE_LIST),
    Right("ex1_adapter_cache", "a use counter per name, the smallest evicted", source=_CACHE_CLOCK),
    # Exercise 2: the router.
    Right(
        "ex2_route",
        "the mask as float weights, torch.inference_mode, names looked up in a loop",
        source=_ROUTE_SIG
        + """    hub.encoder.eval()
    set_active_adapter(hub.encoder, "router")
    batch = hub.tokenizer(texts, padding=True, truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
    batch = batch.to(next(hub.encoder.parameters()).device)
    with torch.inference_mode():
        states = hub.encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                             token_type_ids=batch["token_type_ids"]).last_hidden_state
        weights = batch["attention_mask"].float().unsqueeze(2)
        pooled = (states * weights).sum(1) / weights.sum(1)
        best = torch.argmax(hub.router_head(pooled), dim=1)
    names = []
    for index in best:
        names.append(hub.departments[int(index)])
    return names
""",
    ),
    Right(
        "ex2_route",
        "one text at a time (no padding at all)",
        source=_ROUTE_SIG
        + """    set_active_adapter(hub.encoder, "router")
    hub.encoder.eval()
    out = []
    for text in texts:
        inputs = hub.tokenizer([text], truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
        with torch.no_grad():
            hidden = hub.encoder(**inputs).last_hidden_state
            logits = hub.router_head(hidden.mean(dim=1))
        out.append(hub.departments[logits[0].argmax().item()])
    return out
""",
    ),
    # Exercise 3: snapshot and identical.
    Right(
        "ex3_snapshot",
        "copy.deepcopy of the filtered state_dict; keys compared as sets, a loop",
        source='''def snapshot(model: nn.Module) -> dict:
    """Copies of every state_dict tensor of `model` except the adapters' (names with ".adapters.")."""
    state = model.state_dict()
    kept = {}
    for name in state:
        if ".adapters." in name:
            continue
        kept[name] = copy.deepcopy(state[name])
    return kept


def identical(a: dict, b: dict) -> bool:
    """True when a and b have the same names and bit-for-bit equal tensors (shape, dtype and values)."""
    if set(a) != set(b):
        return False
    for name in a:
        x, y = a[name], b[name]
        if x.dtype != y.dtype or x.shape != y.shape:
            return False
        if not bool((x == y).all()):
            return False
    return True
''',
    ),
    Right(
        "ex3_snapshot",
        "clone with torch.no_grad, comparison through the bytes of each tensor",
        source='''def snapshot(model: nn.Module) -> dict:
    """Copies of every state_dict tensor of `model` except the adapters' (names with ".adapters.")."""
    with torch.no_grad():
        return {k: v.clone() for k, v in model.state_dict().items() if ".adapters." not in k}


def identical(a: dict, b: dict) -> bool:
    """True when a and b have the same names and bit-for-bit equal tensors (shape, dtype and values)."""
    def raw(t):
        return (t.dtype, tuple(t.shape), t.contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return sorted(a) == sorted(b) and all(raw(a[k]) == raw(b[k]) for k in a)
''',
    ),
    # Exercise 4: layers backward goes through.
    Right(
        "ex4_layers_backward",
        "counts the layers from the lowest adapter up in a loop",
        source='''def layers_backward(num_layers: int, adapter_layers) -> int:
    """Transformer layers a backward pass goes through when only `adapter_layers` (None: all layers) train."""
    if adapter_layers is None:
        adapter_layers = range(num_layers)
    indices = sorted(adapter_layers)
    for i in indices:
        if i < 0 or i >= num_layers:
            raise ValueError(f"no layer {i}: the model has layers 0 to {num_layers - 1}")
    if len(indices) == 0:
        return 0
    return len(range(indices[0], num_layers))
''',
    ),
    Right(
        "ex4_layers_backward",
        "a default for min() and the check after it",
        source='''def layers_backward(num_layers: int, adapter_layers) -> int:
    """Transformer layers a backward pass goes through when only `adapter_layers` (None: all layers) train."""
    if adapter_layers is None:
        return num_layers
    layers = set(adapter_layers)
    outside = sorted(i for i in layers if i not in range(num_layers))
    if outside:
        raise ValueError(f"layer(s) {outside} outside 0..{num_layers - 1}")
    return num_layers - min(layers, default=num_layers)
''',
    ),
    # Exercise 5: optimizer-state bytes.
    Right(
        "ex5_optimizer_state_bytes",
        "a loop over named parameters, the states in an if chain",
        source='''STATES = {"adamw": 2, "sgd-momentum": 1, "sgd": 0}


def optimizer_state_bytes(model: nn.Module, optimizer: str = "adamw") -> int:
    """Bytes of optimizer state for the trainable parameters of `model`."""
    if optimizer == "adamw":
        states = 2
    elif optimizer == "sgd-momentum":
        states = 1
    elif optimizer == "sgd":
        states = 0
    else:
        raise ValueError(f"optimizer {optimizer} is not one of adamw, sgd-momentum, sgd")
    total = 0
    for _, p in model.named_parameters():
        if p.requires_grad:
            total += states * p.numel() * p.element_size()
    return total
''',
    ),
    Right(
        "ex5_optimizer_state_bytes",
        "bytes from untyped storage sizes of zeros_like tensors",
        source='''STATES = {"adamw": 2, "sgd-momentum": 1, "sgd": 0}


def optimizer_state_bytes(model: nn.Module, optimizer: str = "adamw") -> int:
    """Bytes of optimizer state for the trainable parameters of `model`."""
    try:
        states = STATES[optimizer]
    except KeyError:
        raise ValueError(f"unknown optimizer: {optimizer}") from None
    per_state = sum(torch.zeros_like(p).untyped_storage().nbytes() for p in model.parameters() if p.requires_grad)
    return int(states * per_state)
''',
    ),
]
