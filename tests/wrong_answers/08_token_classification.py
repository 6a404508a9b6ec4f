"""Wrong answers for 08_token_classification."""

from wrong_answers import Wrong

WRONG = [
    # Exercise 1: word tags on word pieces.
    Wrong(
        "ex1_align_word_tags",
        "every piece labelled with its word's tag",
        says="every piece got its word's tag",
        edits=(("        elif word != previous:\n", "        elif True:\n"),),
    ),
    Wrong(
        "ex1_align_word_tags",
        "special tokens labelled 0 (O) instead of -100",
        says="special tokens ([CLS], [SEP]: word id None) must get -100",
        edits=(
            (
                "        if word is None:\n            labels.append(IGNORE)",
                "        if word is None:\n            labels.append(0)",
            ),
        ),
    ),
    Wrong(
        "ex1_align_word_tags",
        "the other pieces get the word's I- tag",
        says="the other pieces of a word got its I- tag",
        edits=(
            (
                "        else:\n            labels.append(IGNORE)",
                "        else:\n            labels.append(int(word_tags[word]) + int(word_tags[word]) % 2)",
            ),
        ),
    ),
    Wrong(
        "ex1_align_word_tags",
        "the tag on the last piece of each word",
        says="the tag went to the last piece of each word",
        source="""def align_word_tags(word_ids: list, word_tags: list) -> list:
    labels = []
    for i, word in enumerate(word_ids):
        last = word is not None and (i + 1 == len(word_ids) or word_ids[i + 1] != word)
        labels.append(int(word_tags[word]) if last else IGNORE)
    return labels
""",
    ),
    Wrong(
        "ex1_align_word_tags",
        "the first piece found by comparing with the previous piece, None skipped (a word after [CLS] is missed)",
        says="expected",
        combined=False,
        source="""def align_word_tags(word_ids: list, word_tags: list) -> list:
    labels = []
    for i, word in enumerate(word_ids):
        if word is None or i < 2 or word == word_ids[i - 1]:
            labels.append(IGNORE)
        else:
            labels.append(int(word_tags[word]))
    return labels
""",
    ),
    # Exercise 2: entities from BIO tags.
    Wrong(
        "ex2_bio_entities",
        "an entity running to the end of the sentence is lost",
        says="an entity that runs to the end of the sentence is missing",
        edits=(('enumerate(list(tags) + ["O"])', "enumerate(list(tags))"),),
    ),
    Wrong(
        "ex2_bio_entities",
        "end inclusive (the last word) instead of one past it",
        says="end is one past the last word",
        edits=(("entities.add((kind, start, i))", "entities.add((kind, start, i - 1))"),),
    ),
    Wrong(
        "ex2_bio_entities",
        "a stray I- tag starts no entity (strict reading)",
        says="an I- tag that does not continue an entity of its type must start a new entity",
        edits=(('        if prefix in ("B", "I") and not continues:', '        if prefix == "B":'),),
    ),
    Wrong(
        "ex2_bio_entities",
        "I- continues an entity of any type",
        says="entities were merged",
        edits=(('continues = prefix == "I" and this == kind', 'continues = prefix == "I" and kind is not None'),),
    ),
    Wrong(
        "ex2_bio_entities",
        "B- after B- of the same type continues the entity",
        says="entities were merged",
        edits=(('continues = prefix == "I" and this == kind', 'continues = prefix in ("B", "I") and this == kind'),),
    ),
    Wrong(
        "ex2_bio_entities",
        "the type cut at its last dash (creative-work becomes work)",
        says="creative-work",
        edits=(('prefix, _, this = tag.partition("-")', 'prefix, this = tag.split("-")[0], tag.split("-")[-1]'),),
    ),
    Wrong(
        "ex2_bio_entities",
        "positions counted from 1",
        says="counted from 1",
        edits=(("entities.add((kind, start, i))", "entities.add((kind, start + 1, i + 1))"),),
    ),
    Wrong(
        "ex2_bio_entities",
        "a list returned instead of a set",
        says="return a set",
        edits=(("    return entities\n", "    return sorted(entities)\n"),),
    ),
    # Exercise 3: entity-level precision, recall and F1.
    Wrong(
        "ex3_entity_prf",
        "precision and recall swapped",
        says="precision and recall are swapped",
        edits=(("    return precision, recall, f1", "    return recall, precision, f1"),),
    ),
    Wrong(
        "ex3_entity_prf",
        "F1 as the average of precision and recall",
        says="harmonic mean",
        edits=(
            (
                "f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0",
                "f1 = (precision + recall) / 2",
            ),
        ),
    ),
    Wrong(
        "ex3_entity_prf",
        "no guard for zero predictions",
        says="ZeroDivisionError",
        edits=(
            ("precision = hits / n_predicted if n_predicted else 0.0", "precision = hits / n_predicted"),
            (
                "f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0",
                "f1 = 2 * precision * recall / (precision + recall)",
            ),
        ),
    ),
    Wrong(
        "ex3_entity_prf",
        "macro average over sentences",
        says="averaged over sentences (macro)",
        source="""def entity_prf(gold: list, predicted: list) -> tuple:
    if len(gold) != len(predicted):
        raise ValueError(f"gold has {len(gold)} sentences but predicted has {len(predicted)}")
    ps, rs, fs = [], [], []
    for g, q in zip(gold, predicted):
        ge, pe = bio_entities(g), bio_entities(q)
        p = len(ge & pe) / len(pe) if pe else 0.0
        r = len(ge & pe) / len(ge) if ge else 0.0
        ps.append(p)
        rs.append(r)
        fs.append(2 * p * r / (p + r) if p + r else 0.0)
    return sum(ps) / len(ps), sum(rs) / len(rs), sum(fs) / len(fs)
""",
    ),
    Wrong(
        "ex3_entity_prf",
        "entities of all sentences pooled in one set without the sentence",
        says="entities of different sentences were put into one set",
        source="""def entity_prf(gold: list, predicted: list) -> tuple:
    if len(gold) != len(predicted):
        raise ValueError(f"gold has {len(gold)} sentences but predicted has {len(predicted)}")
    gold_entities, predicted_entities = set(), set()
    for g, q in zip(gold, predicted):
        gold_entities |= bio_entities(g)
        predicted_entities |= bio_entities(q)
    hits = len(gold_entities & predicted_entities)
    precision = hits / len(predicted_entities) if predicted_entities else 0.0
    recall = hits / len(gold_entities) if gold_entities else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1
""",
    ),
    Wrong(
        "ex3_entity_prf",
        "token-level scores instead of entities",
        says="token-level scores",
        source="""def entity_prf(gold: list, predicted: list) -> tuple:
    if len(gold) != len(predicted):
        raise ValueError(f"gold has {len(gold)} sentences but predicted has {len(predicted)}")
    pairs = [(g, q) for gs, qs in zip(gold, predicted) for g, q in zip(gs, qs)]
    hits = sum(g == q != "O" for g, q in pairs)
    n_predicted = sum(q != "O" for _, q in pairs)
    n_gold = sum(g != "O" for g, _ in pairs)
    precision = hits / n_predicted if n_predicted else 0.0
    recall = hits / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1
""",
    ),
    Wrong(
        "ex3_entity_prf",
        "no check of the number of sentences",
        says="must raise a ValueError",
        edits=(
            (
                '    if len(gold) != len(predicted):\n        raise ValueError(f"gold has {len(gold)} sentences but '
                'predicted has {len(predicted)}")\n',
                "",
            ),
        ),
    ),
    # Exercise 4: the token loss.
    Wrong(
        "ex4_token_loss",
        "the logits passed without flattening",
        says="F.cross_entropy reads the classes from dimension 1",
        edits=(
            (
                "F.cross_entropy(logits.reshape(-1, n_classes), labels.reshape(-1), ignore_index=IGNORE)",
                "F.cross_entropy(logits, labels)",
            ),
        ),
    ),
    Wrong(
        "ex4_token_loss",
        "summed instead of averaged",
        says="the loss is summed",
        edits=(("ignore_index=IGNORE)", 'ignore_index=IGNORE, reduction="sum")'),),
    ),
    Wrong(
        "ex4_token_loss",
        "ignore_index=0 (skips the O tag)",
        says="another ignore_index (such as 0)",
        edits=(("ignore_index=IGNORE)", "ignore_index=0)"),),
    ),
    Wrong(
        "ex4_token_loss",
        "softmax before the cross-entropy",
        says="softmax was applied before F.cross_entropy",
        edits=(
            (
                "F.cross_entropy(logits.reshape(-1, n_classes)",
                "F.cross_entropy(logits.reshape(-1, n_classes).softmax(-1)",
            ),
        ),
    ),
    Wrong(
        "ex4_token_loss",
        "masked by hand, divided by every piece",
        says="the unlabelled pieces (-100) are counted in the average",
        source="""def token_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    mask = labels != IGNORE
    log_probs = logits.log_softmax(-1).gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return -(log_probs * mask).sum() / labels.numel()
""",
    ),
    Wrong(
        "ex4_token_loss",
        "averaged per sentence, then over sentences",
        says="averaged per sentence",
        source="""def token_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    losses = [F.cross_entropy(logits[b], labels[b]) for b in range(labels.shape[0]) if (labels[b] != IGNORE).any()]
    return torch.stack(losses).mean()
""",
    ),
    Wrong(
        "ex4_token_loss",
        "view on a non-contiguous tensor",
        says="view needs a contiguous tensor",
        combined=False,
        edits=(("logits.reshape(-1, n_classes)", "logits.view(-1, n_classes)"),),
    ),
    # Exercise 5: adapters and a trainable head on a frozen encoder.
    Wrong(
        "ex5_make_adapter_tagger",
        "the base is not frozen",
        says="the pretrained weights are still trainable",
        edits=(("    freeze_base(model, train_head=True)\n", ""),),
    ),
    Wrong(
        "ex5_make_adapter_tagger",
        "the head frozen with the base",
        says="the classifier head is frozen",
        edits=(("freeze_base(model, train_head=True)", "freeze_base(model, train_head=False)"),),
    ),
    Wrong(
        "ex5_make_adapter_tagger",
        "every parameter frozen by hand after adding the adapters",
        says="the adapters are frozen",
        edits=(("    freeze_base(model, train_head=True)\n", "    model.requires_grad_(False)\n"),),
    ),
    Wrong(
        "ex5_make_adapter_tagger",
        "Houlsby placement instead of Pfeiffer",
        says="two adapters per layer",
        edits=(('placement="pfeiffer"', 'placement="houlsby"'),),
    ),
    Wrong(
        "ex5_make_adapter_tagger",
        "the bottleneck argument ignored",
        says="pass the bottleneck argument on",
        edits=(("bottleneck=bottleneck,", "bottleneck=64,"),),
    ),
    Wrong(
        "ex5_make_adapter_tagger",
        "the adapter not named ner",
        says="name the adapter 'ner'",
        edits=((', name="ner")', ")"),),
    ),
    Wrong(
        "ex5_make_adapter_tagger",
        "random init instead of near-identity",
        says="keep the near-identity init",
        edits=((', name="ner")', ', name="ner", init="random")'),),
    ),
    Wrong(
        "ex5_make_adapter_tagger",
        "a new model returned instead of the one given",
        says="return model",
        edits=(("    return model\n", "    return copy.deepcopy(model)\n"),),
    ),
]
