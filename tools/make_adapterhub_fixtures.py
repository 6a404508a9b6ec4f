#!/usr/bin/env python
"""Write the AdapterHub parity fixtures in ``tests/fixtures/adapterhub/`` (issue 13).

AdapterHub's ``adapters`` library pins transformers 4.57.x, the course uses transformers 5: the two
cannot share an environment, and ``adapters`` is never a dependency of the course. So this script

1. creates a separate virtual environment (``--venv``, default ``/tmp/adapterhub-venv``) if it is
   missing: ``python -m venv``, then ``pip install torch==2.13.0`` (the CPU wheel; installing torch
   first keeps pip from pulling a CUDA build), then ``pip install adapters``;
2. re-executes itself with that environment's python;
3. for each configuration below builds a tiny seeded random ``BertModel`` (hidden 64, 2 layers,
   4 heads, intermediate 128, vocabulary 32, dropout 0, eval mode), adds the AdapterHub adapter
   (or fusion) with every adapter weight set to seeded random values at a scale where the
   adapter's effect is clearly visible (not AdapterHub's near-identity init), runs a padded batch
   and stores AdapterHub's ``last_hidden_state``.

Per configuration ``NAME`` it writes ``NAME.safetensors`` with the tensors

* ``base.<key>``: the base model's ``state_dict`` (no pooler), before AdapterHub touched it,
* ``adapterhub.<key>``: every adapter / fusion tensor under AdapterHub's own ``state_dict`` name,
* ``inputs.input_ids``, ``inputs.attention_mask`` (with padding),
* ``outputs.last_hidden_state`` (AdapterHub with the adapter active) and
  ``outputs.base_last_hidden_state`` (no adapter active), and for Compacter
* ``check.<module>.H``: the ``(in, out)`` matrix that AdapterHub's ``PHMLayer`` multiplies by,
  read off the module itself (``layer(I) - b``),

and ``NAME.json`` with the AdapterHub config dict actually used (every field), AdapterHub's own
defaults of that config class (with the source line of the activation, init and scaling
defaults), the versions, the seed and this script's command line.

Usage::

    python tools/make_adapterhub_fixtures.py [--venv /tmp/adapterhub-venv] [--out DIR] [--seed 0]

The parity test, ``tests/test_adapterhub_parity.py``, reads these files in the course's
environment without importing ``adapters``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_VENV = "/tmp/adapterhub-venv"
DEFAULT_OUT = REPO / "tests" / "fixtures" / "adapterhub"
TORCH_PIN = "torch==2.13.0"
INSIDE_FLAG = "--inside-venv"
CMDLINE_ENV = "ADAPTERHUB_FIXTURES_CMDLINE"

# The tiny BERT. max_position_embeddings only has to cover SEQ_LEN; vocabulary and positions are
# kept small so that five copies of the base weights stay well under 2 MB.
BERT = dict(
    vocab_size=32,
    hidden_size=64,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=128,
    max_position_embeddings=16,
    type_vocab_size=2,
    hidden_act="gelu",
    hidden_dropout_prob=0.0,
    attention_probs_dropout_prob=0.0,
    layer_norm_eps=1e-12,
)
BATCH, SEQ_LEN = 3, 12
LENGTHS = (12, 9, 5)  # real tokens per row, the rest is padding

# reduction_factor 8 -> bottleneck 64 / 8 = 8 for every configuration (Compacter's default 32 would
# give 2, not divisible by phm_dim = 4). Everything else is AdapterHub's default for that class.
REDUCTION_FACTOR = 8

#: fixture name -> (AdapterHub config class, the identifier in ADAPTER_CONFIG_MAP)
CONFIGS = {
    "houlsby": ("DoubleSeqBnConfig", "double_seq_bn"),
    "pfeiffer": ("SeqBnConfig", "seq_bn"),
    "parallel": ("ParBnConfig", "par_bn"),
    "compacter": ("CompacterConfig", "compacter"),
    "fusion": ("SeqBnConfig", "seq_bn"),  # two seq_bn adapters, fused with Fuse(...) and the default fusion config
}
FUSED = ("task_a", "task_b")


# ----------------------------------------------------------------------------- outside the venv


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv(venv: Path) -> None:
    """Create ``venv`` with torch (CPU, pinned) and adapters unless it already imports both."""
    py = venv_python(venv)
    if py.exists():
        probe = subprocess.run([str(py), "-c", "import torch, adapters"], capture_output=True)
        if probe.returncode == 0:
            return
    print(f"creating the AdapterHub environment in {venv}", flush=True)
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(py), "-m", "pip", "install", "--disable-pip-version-check"]
    subprocess.run([*pip, TORCH_PIN], check=True)  # first: the CPU wheel, before anything pulls torch
    subprocess.run([*pip, "adapters"], check=True)


def relaunch(args: argparse.Namespace) -> int:
    venv = Path(args.venv).resolve()
    ensure_venv(venv)
    env = dict(os.environ)
    env[CMDLINE_ENV] = shlex.join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
    env.setdefault("HF_HUB_OFFLINE", "1")
    cmd = [str(venv_python(venv)), str(Path(__file__).resolve()), *sys.argv[1:], INSIDE_FLAG]
    return subprocess.run(cmd, env=env).returncode


# ----------------------------------------------------------------------------- inside the venv


def versions() -> dict:
    import adapters
    import safetensors
    import torch
    import transformers

    return {
        "adapters": adapters.__version__,
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "safetensors": safetensors.__version__,
        "python": platform.python_version(),
    }


def source_line(cls, field: str) -> str | None:
    """``path:line`` (path from the ``adapters`` package) where ``cls`` or a base class sets ``field``."""
    import inspect

    import adapters

    root = Path(adapters.__file__).resolve().parent.parent
    for klass in cls.__mro__:
        if field not in vars(klass).get("__annotations__", {}):
            continue
        lines, start = inspect.getsourcelines(klass)
        for offset, line in enumerate(lines):
            if line.strip().startswith(f"{field}:"):
                path = Path(inspect.getsourcefile(klass)).resolve().relative_to(root)
                return f"{path.as_posix()}:{start + offset} ({klass.__name__}: {line.strip()})"
    return None


def class_defaults(cls, keys=("non_linearity", "init_weights", "scaling", "reduction_factor")) -> dict:
    """Every field of the AdapterHub config class ``cls`` at its default, plus where the key ones are set."""
    from dataclasses import MISSING, fields

    defaults = {}
    for f in fields(cls):
        if f.default is not MISSING:
            defaults[f.name] = f.default
        elif f.default_factory is not MISSING:
            defaults[f.name] = f.default_factory()
        else:
            defaults[f.name] = "<required>"
    where = {k: source_line(cls, k) for k in keys}
    return {"class": cls.__name__, "fields": defaults, "defined_at": where}


#: Where AdapterHub's inits and formulas are, found again in the installed source by a text pattern:
#: (module of the adapters package, pattern) -> what it means.
SOURCE_NOTES = {
    ("methods/modeling.py", 'if config["init_weights"] == "bert"'): (
        'init_weights="bert": down and up weights N(0, 0.02^2), biases 0 (Adapter.init_bert_weights): '
        "not an identity at init"
    ),
    ("methods/modeling.py", 'elif config["init_weights"] == "mam_adapter"'): (
        'init_weights="mam_adapter": down kaiming_uniform(a=sqrt(5)), down bias 0, up weight and bias 0: '
        "identity at init"
    ),
    ("methods/modeling.py", 'elif config["init_weights"] == "houlsby"'): (
        'init_weights="houlsby": down and up trunc_normal(std 1e-2, +-2e-2), biases 0'
    ),
    ("methods/modeling.py", 'if config["hypercomplex_nonlinearity"]:'): (
        "PHM W_left/W_right: xavier_normal for any non-empty hypercomplex_nonlinearity (the 'glorot-uniform' "
        "branch below it is never reached); PHM bias 0"
    ),
    ("methods/modeling.py", 'phm_rule.data.normal_(mean=0, std=config["phm_init_range"])'): (
        "shared phm_rule: N(0, phm_init_range^2) = N(0, 1e-8) by default"
    ),
    ("methods/modeling.py", "H = kronecker_product(phm_rule, W).sum(0)"): (
        "PHMLayer: H = sum_i kron(phm_rule_i, W_left_i @ W_right_i), y = x @ H + b"
    ),
    ("methods/modeling.py", "def pre_forward("): (
        "Adapter.pre_forward: residual = h (residual_before_ln=True); if original_ln_before: x = LN(h + r)"
    ),
    ("methods/modeling.py", "up = up * self.scaling"): "Adapter.forward: out = scaling * up(act(down(x))) + residual",
    ("methods/modeling.py", "def post_forward(self, hidden_states, input_hidden_states, input_tensor, layer_norm):"): (
        "Adapter.post_forward: LN(out + r) if original_ln_after"
    ),
    ("methods/modeling.py", "return input_tensor, query, input_tensor"): (
        "ParallelAdapter: the adapter reads r (input_tensor); post_forward: LN(h + scaling * up(act(down(r))) + r)"
    ),
    ("methods/modeling.py", "attention_probs = nn.Softmax(dim=-1)(attention_scores / self.T)"): (
        "BertFusion: scores = query(x) . key(up_n), no 1/sqrt(d); softmax(scores / T), T = 1 unless temperature"
    ),
    ("methods/modeling.py", "self.value = nn.Linear(self.dense_size, self.dense_size, bias=False)"): (
        "BertFusion value: no bias, initialised to identity with 1e-6 off the diagonal (value_initialized)"
    ),
    ("methods/bottleneck.py", "hidden_states, query, residual = last_adapter.pre_forward("): (
        "compose_fuse: query = LN(h + r) (query_before_ln=False), keys/values = the adapters' up outputs"
    ),
}


def source_notes() -> dict:
    import adapters

    root = Path(adapters.__file__).resolve().parent
    notes = {}
    for (module, pattern), meaning in SOURCE_NOTES.items():
        lines = (root / module).read_text().splitlines()
        hits = [i + 1 for i, line in enumerate(lines) if pattern in line]
        where = f"adapters/{module}:{hits[0]}" if hits else f"adapters/{module}: pattern not found"
        notes[where] = meaning
    return notes


def jsonable(value):
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


def make_base(seed: int):
    """The tiny BertModel with every weight redrawn at a scale where the layers do something."""
    import torch
    from transformers import BertConfig, BertModel

    config = BertConfig(**BERT, attn_implementation="eager")
    torch.manual_seed(seed)
    model = BertModel(config, add_pooling_layer=False)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("LayerNorm.weight"):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=gen))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            elif "embeddings" in name:
                p.copy_(torch.randn(p.shape, generator=gen))
            else:  # (out, in) linear weights: std 1/sqrt(in)
                p.copy_(torch.randn(p.shape, generator=gen) / p.shape[1] ** 0.5)
    return model.eval()


def randomize(name: str, p, gen) -> None:
    """Draw AdapterHub parameter ``name`` at a scale where its effect is clearly visible.

    nn.Linear weights (out, in): std 1/sqrt(in); biases: std 0.1. PHM layers: the rule (n, n, n)
    std 1/sqrt(n); W_left (n, in/n, k) and W_right (n, k, out/n) std in**-0.25 each so that the
    entries of H = sum_i rule_i (x) W_left_i W_right_i have about std k**0.5 / sqrt(in).
    """
    import torch

    leaf = name.rsplit(".", 1)[-1]
    with torch.no_grad():
        if leaf in ("bias", "b"):
            p.copy_(0.1 * torch.randn(p.shape, generator=gen))
        elif leaf.startswith("phm_rule"):
            p.copy_(torch.randn(p.shape, generator=gen) / p.shape[0] ** 0.5)
        elif leaf in ("W_left", "W"):  # (n, in/n, ...): the layer's in_features is n * shape[1]
            p.copy_(torch.randn(p.shape, generator=gen) * (p.shape[0] * p.shape[1]) ** -0.25)
        elif p.ndim == 2:
            p.copy_(torch.randn(p.shape, generator=gen) / p.shape[1] ** 0.5)
        elif p.ndim == 1 and leaf == "scaling":
            p.copy_(1.0 + 0.5 * torch.randn(p.shape, generator=gen))
        else:
            raise RuntimeError(f"no rule to randomize AdapterHub parameter {name} of shape {tuple(p.shape)}")


def randomize_adapters(model, base_keys: set, seed: int) -> list[str]:
    """Redraw every parameter that AdapterHub added to ``model``; return their names in order."""
    import torch

    gen = torch.Generator().manual_seed(seed + 1)
    names = []
    params = dict(model.named_parameters())
    for name in sorted(params):
        if name in base_keys:
            continue
        p = params[name]
        names.append(name)
        if name.endswith("W_right"):  # drawn with its W_left, at the same scale
            continue
        randomize(name, p, gen)
        if name.endswith("W_left"):
            partner = params[name[: -len("W_left")] + "W_right"]
            with torch.no_grad():
                partner.copy_(torch.randn(partner.shape, generator=gen) * (p.shape[0] * p.shape[1]) ** -0.25)
    return names


def make_inputs(seed: int):
    import torch

    gen = torch.Generator().manual_seed(seed + 2)
    input_ids = torch.randint(1, BERT["vocab_size"], (BATCH, SEQ_LEN), generator=gen)
    attention_mask = torch.zeros(BATCH, SEQ_LEN, dtype=torch.long)
    for row, length in enumerate(LENGTHS):
        attention_mask[row, :length] = 1
    input_ids[attention_mask == 0] = 0  # [PAD]
    return input_ids, attention_mask


def build_fixture(fixture: str, seed: int) -> tuple[dict, dict]:
    """Run AdapterHub for one configuration; return (tensors, json record)."""
    import adapters
    import torch
    from adapters import AdapterConfig
    from adapters.composition import Fuse
    from adapters.configuration import adapter_config as ac
    from adapters.configuration import adapter_fusion_config as afc

    class_name, identifier = CONFIGS[fixture]
    cls = getattr(ac, class_name)
    config = AdapterConfig.load(identifier, reduction_factor=REDUCTION_FACTOR)
    assert type(config) is cls, (type(config), cls)

    model = make_base(seed)
    base_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    input_ids, attention_mask = make_inputs(seed)
    with torch.no_grad():
        base_out = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    adapters.init(model)
    record: dict = {"fixture": fixture}
    if fixture == "fusion":
        for name in FUSED:
            model.add_adapter(name, config=config)
        fuse = Fuse(*FUSED)
        model.add_adapter_fusion(fuse)  # AdapterHub's default fusion config
        model.set_active_adapters(fuse)
        fusion_config, _ = model.adapters_config.get_fusion(fuse.name)  # the config the model really uses
        default_class = type(afc.ADAPTERFUSION_CONFIG_MAP[afc.DEFAULT_ADAPTERFUSION_CONFIG])
        record["adapter_names"] = list(FUSED)
        record["fusion_name"] = fuse.name
        record["fusion_config_identifier"] = afc.DEFAULT_ADAPTERFUSION_CONFIG
        record["fusion_config"] = jsonable(fusion_config.to_dict())
        record["fusion_config_class"] = default_class.__name__
        record["fusion_class_defaults"] = jsonable(class_defaults(default_class, ("temperature", "value_initialized")))
    else:
        model.add_adapter(fixture, config=config)
        model.set_active_adapters(fixture)
        record["adapter_names"] = [fixture]
    model.eval()

    # sanity: AdapterHub must not have changed the base weights or their names
    state = model.state_dict()
    for key, value in base_state.items():
        assert key in state and torch.equal(state[key], value), f"AdapterHub changed base weight {key}"
    randomized = randomize_adapters(model, set(base_state), seed)

    with torch.no_grad():
        out = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    effect = (out - base_out).abs().max().item()
    assert effect > 0.1, f"{fixture}: the adapter's effect is too small to test anything ({effect})"

    state = model.state_dict()
    tensors = {f"base.{k}": v.contiguous() for k, v in base_state.items()}
    # AdapterHub's state_dict also lists views of base weights under new names (prompt tuning keeps a
    # reference to the word embeddings): those are not adapter weights, so they are only named here.
    base_ptrs = {state[k].data_ptr() for k in base_state}
    adapter_keys = [k for k in state if k not in base_state and state[k].data_ptr() not in base_ptrs]
    record["aliases_of_base_weights"] = [k for k in state if k not in base_state and k not in adapter_keys]
    for key in adapter_keys:
        tensors[f"adapterhub.{key}"] = state[key].detach().contiguous().clone()
    tensors["inputs.input_ids"] = input_ids
    tensors["inputs.attention_mask"] = attention_mask
    tensors["outputs.last_hidden_state"] = out.contiguous()
    tensors["outputs.base_last_hidden_state"] = base_out.contiguous()

    if fixture == "compacter":
        from adapters.methods.modeling import PHMLayer

        for name, module in model.named_modules():
            if isinstance(module, PHMLayer) and ".layer.0." in name:
                from adapters.context import ForwardContext

                eye = torch.eye(module.in_features)
                with torch.no_grad(), ForwardContext(model, input_ids=input_ids):
                    H = module(eye) - (module.b if module.b is not None else 0)
                tensors[f"check.{name}.H"] = H.contiguous()
        record["check_note"] = "check.<module>.H = PHMLayer(I) - b: AdapterHub computes y = x @ H + b"

    record.update(
        {
            "adapterhub_config_class": class_name,
            "adapterhub_config_identifier": identifier,
            "adapterhub_config": jsonable(config.to_dict()),
            "overrides_of_class_defaults": {"reduction_factor": REDUCTION_FACTOR},
            "adapterhub_class_defaults": jsonable(class_defaults(cls)),
            "bottleneck": BERT["hidden_size"] // REDUCTION_FACTOR,
            "bert_config": BERT,
            "attn_implementation": "eager",
            "batch": {"size": BATCH, "seq_len": SEQ_LEN, "lengths": list(LENGTHS)},
            "adapter_parameter_names": randomized,
            "adapter_state_dict_keys": adapter_keys,
            "weights": (
                "base and adapter weights redrawn from seeded generators (not AdapterHub's near-identity "
                "init): linear weights N(0, 1/in), biases N(0, 0.1^2), LayerNorm weights N(1, 0.2^2); "
                "PHM rule N(0, 1/n), W_left and W_right N(0, in^-0.5) (in: the layer's in_features): see randomize()"
            ),
            "max_abs_effect_of_adapter": effect,
            "seed": seed,
        }
    )
    return tensors, record


def generate(args: argparse.Namespace) -> int:
    import torch
    from safetensors.torch import save_file

    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    info = versions()
    notes = source_notes()
    cmdline = os.environ.get(CMDLINE_ENV) or shlex.join(sys.argv)
    started = time.time()
    for fixture in args.only or CONFIGS:
        tensors, record = build_fixture(fixture, args.seed)
        record["versions"] = info
        record["adapterhub_source_notes"] = notes
        record["command_line"] = cmdline
        save_file(tensors, str(out_dir / f"{fixture}.safetensors"), metadata={"fixture": fixture})
        os.chmod(out_dir / f"{fixture}.safetensors", 0o644)
        (out_dir / f"{fixture}.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
        size = (out_dir / f"{fixture}.safetensors").stat().st_size
        print(f"{fixture}: {size / 1024:.0f} KiB, adapter effect {record['max_abs_effect_of_adapter']:.3f}")
    total = sum(p.stat().st_size for p in out_dir.iterdir() if p.is_file())
    print(f"wrote {out_dir} ({total / 1024:.0f} KiB) in {time.time() - started:.1f} s with {info}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", default=DEFAULT_VENV, help=f"AdapterHub's own environment (default {DEFAULT_VENV})")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="where to write the fixtures")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="*", choices=list(CONFIGS), help="write only these fixtures")
    parser.add_argument(INSIDE_FLAG, action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.inside_venv:
        return relaunch(args)
    return generate(args)


if __name__ == "__main__":
    sys.exit(main())
