"""Everything a notebook needs from course_lib, in one import::

    from course_lib.api import add_adapters, freeze_base, count_parameters, load_model, load_task, train

The names come from the modules that define them, in the order the course teaches them (each module's
docstring explains its part): the adapter modules, their specs, adding and switching adapters, freezing and
counting, saving and loading, AdapterFusion, LoRA, token classification (word tags on word pieces, entity
scores), prompt and prefix tuning, supervised fine-tuning batches of a
decoder, serving and training costs (an LRU adapter cache, layers backward, optimizer state), and the training
harness. Adapters, LoRA and counting work for BERT and GPT-2 models alike
(``course_lib.surgery``).

Importing it also shows Python warnings on standard output rather than standard error
(``course_lib.notebook_warnings``): nbgrader gives 0 points to a test cell that writes to standard error, and
correct code may raise a warning.
"""

from __future__ import annotations

from .adapter_cache import LRUAdapterCache
from .adapters import (
    ACTIVATIONS,
    INITS,
    AdapterFusion,
    BottleneckAdapter,
    CompacterAdapter,
    LoRALinear,
    ParallelAdapter,
    PHMLinear,
    PrefixEncoder,
    SoftPrompt,
)
from .checkpoint import AdapterConfigError, load_adapters, read_adapter_config, save_adapters
from .entities import EntityScores, bio_spans, entity_scores
from .fusion import add_fusion, freeze_for_fusion, fusion_weights, list_fusions, set_active_fusion
from .harness import (
    DataDirError,
    budget,
    evaluate,
    fast_mode,
    get_device,
    load_model,
    load_task,
    make_loader,
    measure_latency,
    predict,
    seed_everything,
    task_info,
    tiny_bert_config,
    train,
)
from .harness.departments import department_split, load_departments, to_departments
from .harness.models import ONLINE_CAUSAL_LM, minilm_path, tiny_gpt2_path
from .harness.token_data import (
    align_labels,
    encode_words,
    first_piece_predictions,
    load_token_model,
    make_token_loader,
    predict_word_tags,
)
from .lora import add_lora, lora_layers, lora_spec, merge_lora, remove_lora, unmerge_lora
from .model import adapter_spec, add_adapters, get_active_adapter, list_adapters, remove_adapters, set_active_adapter
from .notebook_warnings import route_warnings_to_stdout
from .params import (
    adapter_parameter_count,
    compacter_parameter_count,
    count_parameters,
    freeze_base,
    lora_parameter_count,
    parameter_groups,
    placement_parameter_count,
    prefix_parameter_count,
    prompt_parameter_count,
)
from .prompting import PrefixTuning, PromptTuning
from .sft import response_loss, sft_batch, sft_example
from .specs import PLACEMENTS, BottleneckSpec, CompacterSpec, FusionSpec, LoRASpec, ParallelSpec
from .surgery import get_layers, iter_wrappers
from .training_cost import layers_backward, measured_state_bytes, optimizer_state_bytes, time_step_phases
from .yours import yours_or_reference

route_warnings_to_stdout()

__all__ = [
    # modules (01, 02, 05, 06, 07)
    "ACTIVATIONS",
    "INITS",
    "BottleneckAdapter",
    "ParallelAdapter",
    "PHMLinear",
    "CompacterAdapter",
    "AdapterFusion",
    "LoRALinear",
    "SoftPrompt",
    "PrefixEncoder",
    # specs
    "PLACEMENTS",
    "BottleneckSpec",
    "ParallelSpec",
    "CompacterSpec",
    "FusionSpec",
    "LoRASpec",
    # adding and switching (04)
    "add_adapters",
    "adapter_spec",
    "set_active_adapter",
    "get_active_adapter",
    "list_adapters",
    "remove_adapters",
    "get_layers",
    "iter_wrappers",
    # freezing and counting (03, 04)
    "freeze_base",
    "count_parameters",
    "parameter_groups",
    "adapter_parameter_count",
    "placement_parameter_count",
    "lora_parameter_count",
    "compacter_parameter_count",
    # saving and loading (04)
    "save_adapters",
    "load_adapters",
    "read_adapter_config",
    "AdapterConfigError",
    # AdapterFusion (05)
    "add_fusion",
    "set_active_fusion",
    "list_fusions",
    "fusion_weights",
    "freeze_for_fusion",
    # LoRA (06)
    "add_lora",
    "merge_lora",
    "unmerge_lora",
    "remove_lora",
    "lora_layers",
    "lora_spec",
    # token classification (08)
    "align_labels",
    "encode_words",
    "first_piece_predictions",
    "load_token_model",
    "make_token_loader",
    "predict_word_tags",
    "bio_spans",
    "entity_scores",
    "EntityScores",
    # prompt and prefix tuning, supervised fine-tuning of a decoder (09)
    "PromptTuning",
    "PrefixTuning",
    "prompt_parameter_count",
    "prefix_parameter_count",
    "sft_example",
    "sft_batch",
    "response_loss",
    # serving and training costs (10)
    "LRUAdapterCache",
    "layers_backward",
    "optimizer_state_bytes",
    "measured_state_bytes",
    "time_step_phases",
    "load_departments",
    "to_departments",
    "department_split",
    # harness (all notebooks)
    "load_model",
    "minilm_path",
    "tiny_gpt2_path",
    "ONLINE_CAUSAL_LM",
    "DataDirError",
    "tiny_bert_config",
    "load_task",
    "task_info",
    "make_loader",
    "train",
    "evaluate",
    "predict",
    "get_device",
    "seed_everything",
    "budget",
    "fast_mode",
    "measure_latency",
    # the learner's code in the experiments (04-07)
    "yours_or_reference",
]
