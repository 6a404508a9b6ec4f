"""Saving and loading adapters (notebook 04).

The point of adapters is that the task-specific part of a model is tiny, so that is all we store:
a directory with two files, in the spirit of AdapterHub and PEFT::

    adapter_config.json          what the adapter is and which base model it fits
    adapter_model.safetensors    its tensors (and, optionally, the task head's)

The config is the adapter's spec (``course_lib.specs``: ``kind``, ``placement``, ``bottleneck``, ...) plus
the base model it fits. Tensor keys are stable and independent of the wrapper classes, e.g.
``layers.3.attention_output.down.weight`` or ``head.classifier.bias``. Every adapter kind saves and loads.
Version 1 files (before Pfeiffer adapters became AdapterHub's ``seq_bn``) still load: their ``"pfeiffer"``
adapters computed what is now called ``"houlsby-ffn"``, so that is what they load as.

``load_adapters`` reads the config, checks it against the model *and* against the saved tensors,
injects an adapter of the right shape if the model does not have one yet, and copies the tensors in
strictly (every key, every shape). Anything that does not fit raises :class:`AdapterConfigError`
naming what differs, before the model is modified.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from .model import adapter_spec, add_adapters, get_active_adapter, list_adapters, remove_adapters, set_active_adapter
from .specs import AdapterSpec, check_name
from .surgery import get_layers, hidden_size, iter_wrappers, registry

CONFIG_NAME = "adapter_config.json"
WEIGHTS_NAME = "adapter_model.safetensors"
FORMAT = "course_lib.adapter"
VERSION = 2
#: The keys every config has besides the spec's own.
MODEL_KEYS = ("format", "version", "name", "hidden_size", "num_hidden_layers", "model_type", "head")
REQUIRED_KEYS = (*MODEL_KEYS, "placement", "bottleneck", "activation", "bias")


class AdapterConfigError(ValueError):
    """A saved adapter does not fit the model (or its files are inconsistent or corrupted)."""


# ----------------------------------------------------------------------------- tensors <-> model


def adapter_state_dict(model: nn.Module, name: str) -> dict[str, torch.Tensor]:
    """The tensors of adapter ``name``, keyed ``layers.{i}.{location}.{down|up}.{weight|bias}``."""
    state = {}
    for i, location, wrapper in iter_wrappers(model):
        for store in (wrapper.adapters, wrapper.parallel):
            if name in store:
                for key, tensor in store[name].state_dict().items():
                    state[f"layers.{i}.{location}.{key}"] = tensor
    return state


def _head_prefixes(model: nn.Module) -> tuple[str, ...]:
    """Top-level module names outside ``model.base_model`` (the task head, e.g. ``classifier``)."""
    if model.base_model is model:
        return ()
    return tuple(n for n, child in model.named_children() if child is not model.base_model)


def head_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The task head's tensors (everything outside ``model.base_model``), keyed ``head.<name>``.

    A tensor the head shares with the base model is not the head's: GPT-2's ``lm_head.weight`` *is* the token
    embedding (tied weights), part of the pretrained model, so a GPT2LMHeadModel's adapter saves no head."""
    prefixes = _head_prefixes(model)
    # named_parameters gives a shared parameter once, under its first (base) name
    own = {*dict(model.named_parameters()), *dict(model.named_buffers())}
    return {f"head.{k}": v for k, v in model.state_dict().items() if k.split(".")[0] in prefixes and k in own}


def _head_config(model: nn.Module, head: dict[str, torch.Tensor]) -> dict | None:
    if not head:
        return None
    return {
        "num_labels": getattr(model.config, "num_labels", None),
        "problem_type": getattr(model.config, "problem_type", None),
        "model_class": type(model).__name__,
    }


# ----------------------------------------------------------------------------- save


def save_adapters(model: nn.Module, directory: str | Path, name: str | None = None, include_head: bool = True) -> Path:
    """Write adapter ``name`` (default: the active one) and, with ``include_head``, the task head to
    ``directory`` (created if needed). Returns the directory as a ``Path``."""
    known = list_adapters(model)
    if name is None:
        name = get_active_adapter(model)
        if name not in known:
            raise ValueError(
                f"name=None means the active adapter, but the active one is {name!r}; pass name= one of {known}"
            )
    if name not in known:
        raise ValueError(f"unknown adapter name {name!r}; known adapters: {known}")

    tensors = adapter_state_dict(model, name)
    head = head_state_dict(model) if include_head else {}
    config = {
        "format": FORMAT,
        "version": VERSION,
        "name": name,
        **adapter_spec(model, name).to_dict(),
        "hidden_size": hidden_size(model),
        "num_hidden_layers": len(get_layers(model)),
        "model_type": getattr(model.config, "model_type", None),
        "head": _head_config(model, head),
    }

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    # safetensors wants contiguous CPU tensors that share no memory.
    everything = {k: v.detach().cpu().contiguous().clone() for k, v in {**tensors, **head}.items()}
    save_file(everything, str(directory / WEIGHTS_NAME), metadata={"format": "pt"})
    (directory / CONFIG_NAME).write_text(json.dumps(config, indent=2) + "\n")
    return directory


# ----------------------------------------------------------------------------- load


def read_adapter_config(directory: str | Path) -> dict:
    """Read and validate ``adapter_config.json`` from ``directory`` (no model needed)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"adapter directory not found: {directory}")
    path = directory / CONFIG_NAME
    if not path.is_file():
        raise FileNotFoundError(f"adapter config not found: {path}")
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise AdapterConfigError(f"{path} is not valid JSON (corrupted?): {err}") from None
    if not isinstance(config, dict):
        raise AdapterConfigError(f"{path} must hold a JSON object, got {type(config).__name__}")
    missing = [k for k in REQUIRED_KEYS if k not in config]
    if missing:
        raise AdapterConfigError(f"{path} is missing the keys {missing}")
    if config["format"] != FORMAT or config["version"] not in (1, VERSION):
        raise AdapterConfigError(
            f"{path} has format={config['format']!r} version={config['version']!r}; "
            f"expected format={FORMAT!r} version 1 or {VERSION}"
        )
    for key in ("hidden_size", "num_hidden_layers"):
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise AdapterConfigError(f"{path}: {key} must be a positive integer, got {value!r}")
    try:
        check_name(config["name"])
        config["spec"] = AdapterSpec.from_dict(_spec_settings(config))
    except (ValueError, TypeError) as err:
        raise AdapterConfigError(f"{path}: {err}") from None
    return config


def _spec_settings(config: dict) -> dict:
    """The spec part of a config; version 1 had no ``kind`` and called today's ``houlsby-ffn`` ``pfeiffer``."""
    settings = {k: v for k, v in config.items() if k not in MODEL_KEYS}
    if config["version"] == 1:
        settings.setdefault("kind", "parallel" if settings.get("placement") == "parallel" else "bottleneck")
        if settings.get("placement") == "pfeiffer":
            settings["placement"] = "houlsby-ffn"
    return settings


def _read_tensors(directory: Path) -> dict[str, torch.Tensor]:
    path = directory / WEIGHTS_NAME
    if not path.is_file():
        raise FileNotFoundError(f"adapter weights not found: {path}")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise AdapterConfigError(f"{path} could not be read (corrupted?): {err}") from None


def _check_fits_model(config: dict, model: nn.Module, name: str) -> None:
    """Raise if the saved adapter was made for a model of another shape, or clashes with ``name``."""
    ours = {
        "hidden_size": hidden_size(model),
        "num_hidden_layers": len(get_layers(model)),
    }
    for key, value in ours.items():
        if config[key] != value:
            raise AdapterConfigError(
                f"adapter {config['name']!r} was saved for {key}={config[key]}, but the model has {key}={value}"
            )
    model_type = getattr(model.config, "model_type", None)
    if config["model_type"] != model_type:
        raise AdapterConfigError(
            f"adapter {config['name']!r} was saved for model_type={config['model_type']!r}, "
            f"but the model has model_type={model_type!r}"
        )
    if name in registry(model).fusions:
        raise AdapterConfigError(f"name {name!r} is already used by a fusion in the model")
    if name in list_adapters(model):
        existing, saved = adapter_spec(model, name).to_dict(), config["spec"].to_dict()
        for key in dict.fromkeys([*existing, *saved]):
            if existing.get(key) != saved.get(key):
                raise AdapterConfigError(
                    f"the model already has an adapter {name!r} with {key}={existing.get(key)!r}, "
                    f"but the saved one has {key}={saved.get(key)!r}; pass another name= or remove it first"
                )


def _expected_shapes(spec: AdapterSpec, hidden_size: int, num_hidden_layers: int) -> dict[str, tuple[int, ...]]:
    """Key -> shape of every tensor an adapter of ``spec`` saves (built on the meta device: no memory used)."""
    with torch.device("meta"):
        (module,) = spec.build(hidden_size, 1)
    shapes = {key: tuple(t.shape) for key, t in module.state_dict().items()}
    return {
        f"layers.{i}.{loc}.{key}": shape
        for i in spec.layer_indices(num_hidden_layers)
        for loc in spec.locations
        for key, shape in shapes.items()
    }


def _check_tensors_match_config(config: dict, tensors: dict[str, torch.Tensor], path: Path) -> None:
    """Raise if the saved tensors do not have the shapes ``config`` describes (edited JSON?)."""
    spec = config["spec"]
    expected = _expected_shapes(spec, config["hidden_size"], config["num_hidden_layers"])
    saved = {k: tuple(v.shape) for k, v in tensors.items() if k.startswith("layers.")}
    if set(saved) != set(expected):
        missing = sorted(set(expected) - set(saved))[:4]
        unexpected = sorted(set(saved) - set(expected))[:4]
        looks_like = "houlsby" if any(".attention_output." in k for k in saved) else "pfeiffer, houlsby-ffn or parallel"
        raise AdapterConfigError(
            f"{path} does not match {CONFIG_NAME} (kind={spec.kind!r}, placement={spec.placement!r}, bias={spec.bias}, "
            f"num_hidden_layers={config['num_hidden_layers']}): missing keys {missing}, unexpected keys {unexpected}; "
            f"the saved tensors look like placement {looks_like!r}"
        )
    for key, shape in expected.items():
        if saved[key] != shape:
            saved_r = saved.get(f"layers.0.{spec.locations[0]}.down.weight", ("?",))[0]
            raise AdapterConfigError(
                f"{path} does not match {CONFIG_NAME}: {key} has shape {saved[key]}, expected {shape} "
                f"for hidden_size={config['hidden_size']}, bottleneck={spec.bottleneck} "
                f"(the saved tensors have bottleneck={saved_r})"
            )


def _head_tensors(config: dict, tensors: dict[str, torch.Tensor], model: nn.Module, load_head: bool):
    """The saved head tensors to copy into ``model`` (checked), or ``{}``."""
    saved = {k[len("head.") :]: v for k, v in tensors.items() if k.startswith("head.")}
    if not load_head or not saved:
        return {}
    ours = {k[len("head.") :]: v for k, v in head_state_dict(model).items()}
    if not ours:
        raise AdapterConfigError(
            f"the checkpoint has a task head ({sorted(saved)}) but {type(model).__name__} has none; "
            f"pass load_head=False to load only the adapter"
        )
    num_labels = getattr(model.config, "num_labels", None)
    if config["head"] and config["head"].get("num_labels") != num_labels:
        raise AdapterConfigError(
            f"the saved head has num_labels={config['head'].get('num_labels')}, "
            f"but the model has num_labels={num_labels}"
        )
    if set(saved) != set(ours):
        raise AdapterConfigError(f"the saved head has keys {sorted(saved)}, the model's head has {sorted(ours)}")
    for key, tensor in saved.items():
        if tensor.shape != ours[key].shape:
            raise AdapterConfigError(
                f"head tensor {key} has shape {tuple(tensor.shape)} in the checkpoint, "
                f"{tuple(ours[key].shape)} in the model"
            )
    return saved


def load_adapters(
    model: nn.Module,
    directory: str | Path,
    name: str | None = None,
    set_active: bool = True,
    load_head: bool = True,
) -> str:
    """Load the adapter saved in ``directory`` into ``model`` and return its name.

    ``name`` defaults to the saved name; pass another one to load the same checkpoint twice, or two
    checkpoints saved under the same name (e.g. for AdapterFusion). If the model has no adapter of
    that name yet one is injected from the config. All checks run before the model is changed.
    """
    directory = Path(directory)
    config = read_adapter_config(directory)
    tensors = _read_tensors(directory)
    name = config["name"] if name is None else name
    _check_fits_model(config, model, name)
    _check_tensors_match_config(config, tensors, directory / WEIGHTS_NAME)
    head = _head_tensors(config, tensors, model, load_head)

    injected = name not in list_adapters(model)
    if injected:
        add_adapters(model, config["spec"], name=name, set_active=False)
    try:
        targets = adapter_state_dict(model, name)
        with torch.no_grad():
            for key, target in targets.items():
                target.copy_(tensors[key])
            model_state = model.state_dict()
            prefixes = _head_prefixes(model)
            for key, tensor in head.items():
                if key.split(".")[0] in prefixes:
                    model_state[key].copy_(tensor)
    except Exception:
        if injected:  # leave the model as we found it
            remove_adapters(model, name)
        raise
    if set_active:
        set_active_adapter(model, name)
    return name


__all__ = ["AdapterConfigError", "save_adapters", "load_adapters", "read_adapter_config", "adapter_state_dict"]
