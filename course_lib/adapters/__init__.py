"""Adapter modules (the layers): the bottleneck adapter and its variants (parallel adapter, Compacter), the
AdapterFusion layer, the LoRA layer, and the soft prompt and prefix of prompt and prefix tuning. They know nothing of models; ``course_lib.model``, ``course_lib.fusion``
``course_lib.lora`` and ``course_lib.prompting`` put them into one."""

from .bottleneck import ACTIVATIONS, INITS, BottleneckAdapter
from .compacter import CompacterAdapter, PHMLinear
from .fusion import AdapterFusion
from .lora import LoRALinear
from .parallel import ParallelAdapter
from .prompt import PrefixEncoder, SoftPrompt

__all__ = [
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
]
