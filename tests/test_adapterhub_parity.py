"""Parity with AdapterHub's ``adapters`` library (issue 13), without importing it.

``tools/make_adapterhub_fixtures.py`` runs AdapterHub in its own environment (it pins transformers
4.57, the course uses transformers 5) on a tiny random BERT and stores, per configuration, the base
weights, AdapterHub's adapter weights under AdapterHub's names, a padded batch and AdapterHub's
``last_hidden_state`` in ``tests/fixtures/adapterhub/``. Here we rebuild the same BERT with
transformers 5 and

* put course_lib's adapters in, copy AdapterHub's weights into them by an explicit name map and
  compare the outputs (max abs difference <= 1e-5): Houlsby = ``double_seq_bn``, Pfeiffer = ``seq_bn``,
  parallel = ``par_bn``, Compacter = ``compacter``, AdapterFusion (``score_scale="none"``) = ``Fuse``;
* for every configuration, recompute AdapterHub's output with a small pure-PyTorch reference of
  what AdapterHub's source does (``adapters/methods/modeling.py``: ``Adapter.pre_forward``,
  ``forward``, ``post_forward``, ``ParallelAdapter``, ``BertFusion``, ``PHMLayer``). That proves
  the fixtures and our reading of AdapterHub.

In AdapterHub every bottleneck sub-layer of BERT computes, with ``h = dropout(dense(x))`` and
``r`` the sub-layer's input (``input_tensor``)::

    residual = h                       if residual_before_ln is True
    x = LN(h + r)                      if original_ln_before, else x = h
    out = scaling * up(act(down(x))) + residual
    out = LN(out + r)                  if original_ln_after
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

from course_lib.adapters import PHMLinear
from course_lib.fusion import add_fusion
from course_lib.inject import add_adapters, get_layers, iter_wrappers

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "adapterhub"
NAMES = ("houlsby", "pfeiffer", "parallel", "compacter", "fusion")
TOL = 1e-5

#: course_lib's location name -> the sub-layer's path inside a BertLayer (AdapterHub's state_dict prefix)
LOCATION_PATH = {"attention_output": "attention.output", "output": "output"}


# ----------------------------------------------------------------------------- loading


class Fixture:
    """One configuration: ``tensors`` (the .safetensors) and ``meta`` (the .json) written by the tool."""

    def __init__(self, name: str):
        self.name = name
        self.tensors = load_file(str(FIXTURES / f"{name}.safetensors"))
        self.meta = json.loads((FIXTURES / f"{name}.json").read_text())
        self.config = self.meta["adapterhub_config"]

    def group(self, prefix: str) -> dict[str, torch.Tensor]:
        return {k[len(prefix) + 1 :]: v for k, v in self.tensors.items() if k.startswith(prefix + ".")}

    @property
    def ah(self) -> dict[str, torch.Tensor]:
        """AdapterHub's adapter and fusion tensors, by AdapterHub's state_dict names."""
        return self.group("adapterhub")

    @property
    def inputs(self) -> dict[str, torch.Tensor]:
        return self.group("inputs")

    @property
    def expected(self) -> torch.Tensor:
        return self.tensors["outputs.last_hidden_state"]

    def base_model(self) -> nn.Module:
        """The fixture's BertModel, rebuilt with the course's transformers from the stored state_dict."""
        from transformers import BertConfig, BertModel

        config = BertConfig(**self.meta["bert_config"], attn_implementation=self.meta["attn_implementation"])
        model = BertModel(config, add_pooling_layer=False)
        model.load_state_dict(self.group("base"), strict=True)
        return model.eval()

    def run(self, model: nn.Module) -> torch.Tensor:
        with torch.no_grad():
            return model(**self.inputs).last_hidden_state


_CACHE: dict[str, Fixture] = {}


def fixture(name: str) -> Fixture:
    if name not in _CACHE:
        _CACHE[name] = Fixture(name)
    return _CACHE[name]


def max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    assert a.shape == b.shape, (a.shape, b.shape)
    return (a - b).abs().max().item()


def copy_(dst: torch.Tensor, src: torch.Tensor) -> None:
    assert tuple(dst.shape) == tuple(src.shape), (tuple(dst.shape), tuple(src.shape))
    with torch.no_grad():
        dst.copy_(src)


# ----------------------------------------------------------------------------- the fixtures themselves


@pytest.mark.parametrize("name", NAMES)
def test_fixture_is_small_and_complete(name):
    fx = fixture(name)
    meta = fx.meta
    for key in ("adapterhub_config", "adapterhub_class_defaults", "versions", "seed", "command_line"):
        assert key in meta, key
    assert meta["versions"]["adapters"] and meta["versions"]["transformers"].startswith("4.")
    assert fx.inputs["attention_mask"].min() == 0, "the batch must contain padding"
    total = sum(p.stat().st_size for p in FIXTURES.iterdir() if p.is_file())
    assert total < 2 * 1024 * 1024, f"fixtures take {total} bytes, keep them under 2 MB"


@pytest.mark.parametrize("name", NAMES)
def test_base_model_matches_across_transformers_versions(name):
    """Without adapters, transformers 5 reproduces transformers 4.57's output: the rest is the adapters."""
    fx = fixture(name)
    base = fx.tensors["outputs.base_last_hidden_state"]
    assert max_diff(fx.run(fx.base_model()), base) <= TOL
    # and the adapters make a real difference, so matching the output below means something
    assert max_diff(fx.expected, base) > 0.5


def test_adapterhub_defaults_are_recorded():
    """AdapterHub 1.x's defaults (adapters/configuration/adapter_config.py), as recorded by the tool."""
    defaults = {name: fixture(name).meta["adapterhub_class_defaults"]["fields"] for name in NAMES}
    assert defaults["houlsby"]["non_linearity"] == "swish"  # DoubleSeqBnConfig: SiLU, not relu
    assert defaults["pfeiffer"]["non_linearity"] == "relu"  # SeqBnConfig
    assert defaults["parallel"]["non_linearity"] == "relu"  # ParBnConfig
    assert defaults["compacter"]["non_linearity"] == "gelu"  # CompacterConfig
    assert defaults["houlsby"]["init_weights"] == defaults["pfeiffer"]["init_weights"] == "bert"
    assert defaults["parallel"]["init_weights"] == "mam_adapter" and defaults["parallel"]["scaling"] == 4.0
    assert defaults["houlsby"]["scaling"] == defaults["pfeiffer"]["scaling"] == 1.0
    assert fixture("fusion").meta["fusion_config_class"] == "DynamicAdapterFusionConfig"


# ----------------------------------------------------------------------------- pure-PyTorch references of AdapterHub


ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    # transformers' get_activation(name) as AdapterHub's Activation_Function_Class uses it
    "relu": F.relu,
    "swish": F.silu,
    "silu": F.silu,
    "gelu": F.gelu,  # transformers' GELUActivation: the exact (erf) GELU
}


def phm_H(rule: torch.Tensor, W_left: torch.Tensor, W_right: torch.Tensor) -> torch.Tensor:
    """AdapterHub's PHMLayer matrix ``H = sum_i kron(rule_i, W_left_i @ W_right_i)``, shape (in, out).

    The layer computes ``y = x @ H + b`` (not ``x @ H.T``): ``W_left`` is (n, in/n, k), ``W_right`` is
    (n, k, out/n).
    """
    W = W_left @ W_right
    return sum(torch.kron(rule[i], W[i]) for i in range(rule.shape[0]))


def ah_projection(ah: dict, prefix: str, shared: dict | None) -> Callable[[torch.Tensor], torch.Tensor]:
    """AdapterHub's down or up projection stored under ``prefix``: an nn.Linear or a PHMLayer."""
    if f"{prefix}.weight" in ah:
        return lambda x: F.linear(x, ah[f"{prefix}.weight"], ah.get(f"{prefix}.bias"))
    H = phm_H(shared["phm_rule"], ah[f"{prefix}.W_left"], ah[f"{prefix}.W_right"])
    return lambda x: x @ H + ah[f"{prefix}.b"]


def ah_bottleneck(ah: dict, prefix: str, config: dict, shared: dict | None = None):
    """``z = scaling * up(act(down(x)))`` of the adapter whose tensors start with ``prefix``."""
    down = ah_projection(ah, f"{prefix}.adapter_down.0", shared)
    up = ah_projection(ah, f"{prefix}.adapter_up", shared)
    act = ACTIVATIONS[config["non_linearity"]]
    return lambda x: config["scaling"] * up(act(down(x)))


def check_supported(config: dict) -> None:
    """The reference below covers these configurations only; fail loudly on anything else."""
    assert not config["ln_before"] and not config["ln_after"] and not config["use_gating"]
    assert config["dropout"] == 0.0 and config["stochastic_depth"] == 0.0
    assert isinstance(config["scaling"], float)


def ah_sequential(h, r, ln, z, config):
    """AdapterHub's ``Adapter``: pre_forward, forward, post_forward (modeling.py) for one BERT sub-layer."""
    residual = h if config["residual_before_ln"] is True else None
    x = h
    if config["original_ln_before"]:
        x = h + r
        if config["residual_before_ln"] == "post_add":
            residual = x
        x = ln(x)
    if not config["residual_before_ln"]:
        residual = x
    out = z(x) + residual  # adapter_residual_before_ln is irrelevant without ln_after
    return ln(out + r) if config["original_ln_after"] else out


def ah_parallel(h, r, ln, z, config):
    """AdapterHub's ``ParallelAdapter``: reads the sub-layer input ``r``, its output is added to ``h``."""
    out = z(r) + h
    return ln(out + r) if config["original_ln_after"] else out + r


def ah_fusion(h, r, ln, zs, fusion: dict, adapter_config: dict, fusion_config: dict):
    """AdapterHub's ``Fuse`` (BottleneckLayer.compose_fuse + BertFusion.forward) for one sub-layer.

    The last fused adapter's pre_forward gives the adapters' input ``x`` (here LN(h + r), seq_bn has
    original_ln_before=True), the query (``x``, query_before_ln=False) and the residual (``h``).
    Each adapter contributes its up-projection ``z_n(x)`` (no residual); keys and values are those.
    ``scores = query(x) . key(z_n)`` unscaled, divided by T = 1 (temperature=False), softmax over
    the adapters, ``context = sum_n p_n value(z_n)`` (value: no bias), plus the residual, then the
    sub-layer's residual + LayerNorm (post_forward).
    """
    assert fusion_config["query"] and fusion_config["key"] and fusion_config["value"]
    assert fusion_config["value_before_softmax"] and not fusion_config["residual_before"]
    assert not fusion_config["query_before_ln"] and not fusion_config["temperature"]
    assert adapter_config["original_ln_before"] and adapter_config["residual_before_ln"] is True
    x = ln(h + r)
    residual, query = h, x
    ups = torch.stack([z(x) for z in zs], dim=-2)  # (..., N, d)
    q = F.linear(query, fusion["query.weight"], fusion["query.bias"])
    k = F.linear(ups, fusion["key.weight"], fusion["key.bias"])
    v = F.linear(ups, fusion["value.weight"])
    scores = (q.unsqueeze(-2) * k).sum(-1) / 1.0
    probs = scores.softmax(dim=-1)
    context = (probs.unsqueeze(-1) * v).sum(-2) + residual
    return ln(context + r) if adapter_config["original_ln_after"] else context + r


class ReferenceSubLayer(nn.Module):
    """A BertSelfOutput / BertOutput whose line after ``dropout(dense(x))`` is ``fn(h, r, LayerNorm)``."""

    def __init__(self, sublayer: nn.Module, fn):
        super().__init__()
        self.sublayer, self.fn = sublayer, fn

    def forward(self, hidden_states, input_tensor):
        h = self.sublayer.dropout(self.sublayer.dense(hidden_states))
        return self.fn(h, input_tensor, self.sublayer.LayerNorm)


def sublayer_slots(model):
    """Yield ``(layer_index, location, parent, attribute)`` for both sub-layers of every BertLayer."""
    for i, layer in enumerate(get_layers(model)):
        yield i, "attention_output", layer.attention, "output"
        yield i, "output", layer, "output"


def reference_model(fx: Fixture) -> nn.Module:
    """The fixture's BERT with every adapted sub-layer computed by the references above."""
    model = fx.base_model()
    ah, config = fx.ah, fx.config
    check_supported(config)
    shared = {k.split(".")[-1]: v for k, v in ah.items() if k.startswith("shared_parameters.")}
    for i, location, parent, attr in sublayer_slots(model):
        if location == "attention_output" and not config["mh_adapter"]:
            continue
        if location == "output" and not config["output_adapter"]:
            continue
        path = f"encoder.layer.{i}.{LOCATION_PATH[location]}"
        if fx.name == "fusion":
            zs = [ah_bottleneck(ah, f"{path}.adapters.{a}", config) for a in fx.meta["adapter_names"]]
            prefix = f"{path}.adapter_fusion_layer.{fx.meta['fusion_name']}."
            fusion = {k[len(prefix) :]: v for k, v in ah.items() if k.startswith(prefix)}
            fn = partial(ah_fusion, zs=zs, fusion=fusion, adapter_config=config, fusion_config=fx.meta["fusion_config"])
        else:
            z = ah_bottleneck(ah, f"{path}.adapters.{fx.name}", config, shared)
            fn = partial(ah_parallel if config["is_parallel"] else ah_sequential, z=z, config=config)
        setattr(parent, attr, ReferenceSubLayer(getattr(parent, attr), fn))
    return model


@pytest.mark.parametrize("name", NAMES)
def test_reference_reproduces_adapterhub(name):
    """Our reading of AdapterHub's source reproduces its outputs for every configuration."""
    fx = fixture(name)
    got = fx.run(reference_model(fx))
    assert max_diff(got, fx.expected) <= TOL


def test_phm_reference_matches_adapterhub_phm_layer():
    """``phm_H`` gives the very matrix AdapterHub's PHMLayer used (read off the module by the tool)."""
    fx = fixture("compacter")
    ah = fx.ah
    checks = fx.group("check")
    assert len(checks) == 4
    for key, H in checks.items():
        prefix = key[: -len(".H")]
        got = phm_H(ah["shared_parameters.compacter.phm_rule"], ah[f"{prefix}.W_left"], ah[f"{prefix}.W_right"])
        assert max_diff(got, H) <= TOL, key


# ----------------------------------------------------------------------------- course_lib, mapped from AdapterHub names


def copy_linear_adapter(adapter: nn.Module, ah: dict, prefix: str) -> None:
    """AdapterHub ``<prefix>.adapter_down.0`` / ``adapter_up`` (nn.Linear) -> course_lib ``down`` / ``up``."""
    name_map = {
        "down.weight": "adapter_down.0.weight",
        "down.bias": "adapter_down.0.bias",
        "up.weight": "adapter_up.weight",
        "up.bias": "adapter_up.bias",
    }
    params = dict(adapter.named_parameters())
    assert set(params) == set(name_map), sorted(params)
    for ours, theirs in name_map.items():
        copy_(params[ours], ah[f"{prefix}.{theirs}"])


def copy_phm(layer: PHMLinear, ah: dict, prefix: str) -> None:
    """AdapterHub's PHMLayer (y = x @ H + b, H = sum_i rule_i (x) W_left_i W_right_i) -> course_lib's
    PHMLinear (y = x @ W.T + bias, W = sum_i A_i (x) s_i t_i^T).

    W = H.T and kron(a, b).T = kron(a.T, b.T), so s_i t_i^T = (W_left_i W_right_i).T = W_right_i.T W_left_i.T:
    ``s = W_right.transpose(1, 2)``, ``t = W_left``, ``bias = b``. (``A`` is shared, set by the caller.)
    """
    copy_(layer.s, ah[f"{prefix}.W_right"].transpose(1, 2))
    copy_(layer.t, ah[f"{prefix}.W_left"])
    copy_(layer.bias, ah[f"{prefix}.b"])


def course_model(fx: Fixture, placement: str, activation: str, **kwargs) -> nn.Module:
    """The fixture's BERT with course_lib's adapter called ``fx.name`` and AdapterHub's weights copied in."""
    model = fx.base_model()
    bottleneck = fx.meta["bottleneck"]
    add_adapters(model, placement=placement, bottleneck=bottleneck, name=fx.name, activation=activation, **kwargs)
    for i, location, wrapper in iter_wrappers(model):
        prefix = f"encoder.layer.{i}.{LOCATION_PATH[location]}.adapters.{fx.name}"
        store = wrapper.parallel if placement == "parallel" else wrapper.adapters
        copy_linear_adapter(store[fx.name], fx.ah, prefix)
    return model


def test_course_houlsby_matches_double_seq_bn():
    fx = fixture("houlsby")
    assert fx.config["non_linearity"] == "swish"  # AdapterHub's default for DoubleSeqBnConfig
    model = course_model(fx, "houlsby", activation="silu")
    assert len(list(iter_wrappers(model))) == 4  # both sub-layers of both layers
    assert max_diff(fx.run(model), fx.expected) <= TOL


def test_course_houlsby_default_activation_differs_from_adapterhub():
    """course_lib's default (relu) is not DoubleSeqBnConfig's default (swish): the outputs differ."""
    fx = fixture("houlsby")
    model = course_model(fx, "houlsby", activation=None)
    assert max_diff(fx.run(model), fx.expected) > 1e-2


def test_course_parallel_matches_par_bn():
    fx = fixture("parallel")
    assert fx.config["scaling"] == 4.0 and fx.config["non_linearity"] == "relu"
    model = course_model(fx, "parallel", activation="relu", scale=fx.config["scaling"])
    assert max_diff(fx.run(model), fx.expected) <= TOL


def course_compacter(fx: Fixture) -> nn.Module:
    """course_lib's Compacter placed like AdapterHub's CompacterConfig (Houlsby: both sub-layers).

    Built with ``add_adapters(model, CompacterSpec(...))``: AdapterHub's defaults (Houlsby placement, gelu),
    every adapter sharing one ``A`` (AdapterHub's shared_phm_rule=True shares one ``phm_rule`` between the
    layers and the down/up projections).
    """
    from course_lib.specs import CompacterSpec

    config = fx.config
    assert config["shared_phm_rule"] and not config["factorized_phm_rule"] and config["factorized_phm_W"]
    assert not config["shared_W_phm"] and config["phm_bias"]
    n, k, bottleneck = config["phm_dim"], config["phm_rank"], fx.meta["bottleneck"]
    spec = CompacterSpec(bottleneck=bottleneck, n=n, phm_rank=k)
    assert (spec.placement, spec.activation) == ("houlsby", config["non_linearity"]), "AdapterHub's defaults"
    model = fx.base_model()
    add_adapters(model, spec, name=fx.name)
    rule = fx.ah["shared_parameters.compacter.phm_rule"]
    adapters = [wrapper.adapters[fx.name] for _, _, wrapper in iter_wrappers(model)]
    assert len({id(a.down.A) for a in adapters} | {id(a.up.A) for a in adapters}) == 1, "one shared A"
    copy_(adapters[0].down.A, rule.transpose(1, 2))  # A_i = rule_i.T
    for i, location, wrapper in iter_wrappers(model):
        prefix = f"encoder.layer.{i}.{LOCATION_PATH[location]}.adapters.{fx.name}"
        copy_phm(wrapper.adapters[fx.name].down, fx.ah, f"{prefix}.adapter_down.0")
        copy_phm(wrapper.adapters[fx.name].up, fx.ah, f"{prefix}.adapter_up")
    return model


def test_course_phm_weight_matches_adapterhub_phm_layer():
    """Module level: course_lib's PHMLinear.weight (sum of Kronecker products) is AdapterHub's H.T."""
    fx = fixture("compacter")
    rule = fx.ah["shared_parameters.compacter.phm_rule"]
    n, k = fx.config["phm_dim"], fx.config["phm_rank"]
    for key, H in fx.group("check").items():
        prefix = key[: -len(".H")]
        in_features, out_features = H.shape
        layer = PHMLinear(in_features, out_features, n=n, phm_rank=k)
        copy_(layer.A, rule.transpose(1, 2))
        copy_phm(layer, fx.ah, prefix)
        assert max_diff(layer.weight.detach(), H.T) <= TOL, key
        x = torch.randn(5, in_features, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            assert max_diff(layer(x), x @ H + fx.ah[f"{prefix}.b"]) <= TOL, key


def test_course_compacter_matches_compacter():
    fx = fixture("compacter")
    assert fx.config["non_linearity"] == "gelu" and fx.config["mh_adapter"] and fx.config["output_adapter"]
    model = course_compacter(fx)
    assert max_diff(fx.run(model), fx.expected) <= TOL


def test_course_pfeiffer_matches_seq_bn():
    fx = fixture("pfeiffer")
    model = course_model(fx, "pfeiffer", activation=fx.config["non_linearity"])
    assert max_diff(fx.run(model), fx.expected) <= TOL


def course_fusion(fx: Fixture, score_scale: str = "none") -> nn.Module:
    """course_lib's two Pfeiffer adapters + AdapterFusion with AdapterHub's weights (value bias = 0)."""
    model = fx.base_model()
    bottleneck = fx.meta["bottleneck"]
    names = fx.meta["adapter_names"]
    for name in names:
        add_adapters(
            model,
            placement="pfeiffer",
            bottleneck=bottleneck,
            name=name,
            activation=fx.config["non_linearity"],
            set_active=False,
        )
    add_fusion(model, names, name="fusion", score_scale=score_scale)
    for i, location, wrapper in iter_wrappers(model):
        path = f"encoder.layer.{i}.{LOCATION_PATH[location]}"
        for name in names:
            copy_linear_adapter(wrapper.adapters[name], fx.ah, f"{path}.adapters.{name}")
        fusion = wrapper.fusions["fusion"]
        theirs = f"{path}.adapter_fusion_layer.{fx.meta['fusion_name']}"
        for part in ("query", "key"):
            copy_(getattr(fusion, part).weight, fx.ah[f"{theirs}.{part}.weight"])
            copy_(getattr(fusion, part).bias, fx.ah[f"{theirs}.{part}.bias"])
        copy_(fusion.value.weight, fx.ah[f"{theirs}.value.weight"])
        copy_(fusion.value.bias, torch.zeros_like(fusion.value.bias))  # AdapterHub's value has no bias
    return model


def test_course_fusion_matches_adapterhub_fuse():
    fx = fixture("fusion")
    model = course_fusion(fx, score_scale="none")  # AdapterHub's unscaled scores (temperature off)
    assert max_diff(fx.run(model), fx.expected) <= TOL


def test_course_fusion_default_scales_the_scores_unlike_adapterhub():
    """The course's default divides the scores by sqrt(d) (documented in course_lib.adapters.fusion)."""
    fx = fixture("fusion")
    assert max_diff(fx.run(course_fusion(fx, score_scale="sqrt_d")), fx.expected) > 1e-3


def bert_fusion(h, ups, residual, fusion: dict, score_scale: float = 1.0) -> torch.Tensor:
    """AdapterHub's BertFusion.forward alone (dynamic config): query ``h``, keys/values ``ups``."""
    q = F.linear(h, fusion["query.weight"], fusion["query.bias"]) * score_scale
    k = F.linear(ups, fusion["key.weight"], fusion["key.bias"])
    v = F.linear(ups, fusion["value.weight"])
    probs = (q.unsqueeze(-2) * k).sum(-1).softmax(-1)
    return (probs.unsqueeze(-1) * v).sum(-2) + residual


def test_fusion_module_differs_only_by_score_scaling():
    """Module level, same inputs: course_lib's AdapterFusion is AdapterHub's BertFusion except for the
    1/sqrt(d) on the scores (given query = residual = h and a zero value bias)."""
    from course_lib.fusion import AdapterFusion

    fx = fixture("fusion")
    d = fx.meta["bert_config"]["hidden_size"]
    prefix = f"encoder.layer.0.output.adapter_fusion_layer.{fx.meta['fusion_name']}."
    theirs = {k[len(prefix) :]: v for k, v in fx.ah.items() if k.startswith(prefix)}
    gen = torch.Generator().manual_seed(1)
    h, ups = torch.randn(3, 5, d, generator=gen), torch.randn(3, 5, 2, d, generator=gen)
    ours = AdapterFusion(d, 2)
    for part in ("query", "key"):
        copy_(getattr(ours, part).weight, theirs[f"{part}.weight"])
        copy_(getattr(ours, part).bias, theirs[f"{part}.bias"])
    copy_(ours.value.weight, theirs["value.weight"])
    copy_(ours.value.bias, torch.zeros(d))
    with torch.no_grad():
        out, _ = ours(h, ups)
    assert max_diff(out, bert_fusion(h, ups, h, theirs, score_scale=1 / math.sqrt(d))) <= TOL
    assert max_diff(out, bert_fusion(h, ups, h, theirs)) > 1e-3  # AdapterHub: unscaled scores
