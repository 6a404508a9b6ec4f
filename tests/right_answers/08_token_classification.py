"""Right answers for 08_token_classification: correct code written differently from the master."""

from right_answers import Right

RIGHT = [
    # Exercise 1
    Right(
        "ex1_align_word_tags",
        "a comprehension over the previous word id",
        source="""def align_word_tags(word_ids: list, word_tags: list) -> list:
    previous = [None] + list(word_ids[:-1])
    return [int(word_tags[w]) if w is not None and w != p else -100 for w, p in zip(word_ids, previous)]
""",
    ),
    Right(
        "ex1_align_word_tags",
        "a set of the words already labelled",
        source="""def align_word_tags(word_ids: list, word_tags: list) -> list:
    seen, labels = set(), []
    for word in word_ids:
        if word is None or word in seen:
            labels.append(IGNORE)
        else:
            seen.add(word)
            labels.append(int(word_tags[word]))
    return labels
""",
    ),
    # Exercise 2
    Right(
        "ex2_bio_entities",
        "entities closed explicitly after the loop, type with split('-', 1)",
        source="""def bio_entities(tags: list) -> set:
    tags = list(tags)
    found, current = set(), None  # current: [type, start]
    for i, tag in enumerate(tags):
        if tag == "O":
            if current:
                found.add((current[0], current[1], i))
            current = None
            continue
        prefix, kind = tag.split("-", 1)
        if prefix == "I" and current and current[0] == kind:
            continue
        if current:
            found.add((current[0], current[1], i))
        current = [kind, i]
    if current:
        found.add((current[0], current[1], len(tags)))
    return found
""",
    ),
    Right(
        "ex2_bio_entities",
        "starts found first, then each entity extended",
        source="""def bio_entities(tags: list) -> set:
    tags = list(tags)
    kinds = [t[2:] if t != "O" else None for t in tags]
    starts = [i for i, t in enumerate(tags)
              if t.startswith("B-") or (t.startswith("I-") and (i == 0 or kinds[i - 1] != kinds[i]))]
    entities = set()
    for s in starts:
        e = s + 1
        while e < len(tags) and tags[e] == "I-" + kinds[s]:
            e += 1
        entities.add((kinds[s], s, e))
    return entities
""",
    ),
    # Exercise 3
    Right(
        "ex3_entity_prf",
        "entities tagged with their sentence, one set for all",
        source="""def entity_prf(gold: list, predicted: list) -> tuple:
    if len(predicted) != len(gold):
        raise ValueError(f"{len(gold)} gold sentences, {len(predicted)} predicted sentences")
    g = {(i, *e) for i, tags in enumerate(gold) for e in bio_entities(tags)}
    p = {(i, *e) for i, tags in enumerate(predicted) for e in bio_entities(tags)}
    tp = len(g & p)
    precision = tp / len(p) if p else 0.0
    recall = tp / len(g) if g else 0.0
    return precision, recall, (2 * tp / (len(g) + len(p)) if tp else 0.0)
""",
    ),
    Right(
        "ex3_entity_prf",
        "F1 from the counts, floats via division",
        edits=(
            (
                "f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0",
                "f1 = 2 * hits / (n_predicted + n_gold) if hits else 0.0",
            ),
        ),
    ),
    # Exercise 4
    Right(
        "ex4_token_loss",
        "the class dimension moved with transpose",
        source="""def token_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits.transpose(1, 2), labels)
""",
    ),
    Right(
        "ex4_token_loss",
        "log-softmax, gather and a mask",
        source="""def token_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    keep = labels != -100
    log_probs = F.log_softmax(logits[keep], dim=-1)
    return -log_probs.gather(1, labels[keep].unsqueeze(1)).mean()
""",
    ),
    Right(
        "ex4_token_loss",
        "flatten and nll_loss",
        source="""def token_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return F.nll_loss(F.log_softmax(logits.flatten(0, 1), dim=-1), labels.flatten())
""",
    ),
    # Exercise 5
    Right(
        "ex5_make_adapter_tagger",
        "frozen before the adapters are added",
        source="""def make_adapter_tagger(model: nn.Module, bottleneck: int = 64) -> nn.Module:
    freeze_base(model)
    add_adapters(model, "pfeiffer", bottleneck, "ner")
    return model
""",
    ),
    Right(
        "ex5_make_adapter_tagger",
        "frozen by hand: everything off, then adapters and classifier on",
        source="""def make_adapter_tagger(model: nn.Module, bottleneck: int = 64) -> nn.Module:
    model = add_adapters(model, placement="pfeiffer", bottleneck=bottleneck, name="ner")
    for name, p in model.named_parameters():
        p.requires_grad = ".adapters." in name or name.startswith("classifier.")
    return model
""",
    ),
]
