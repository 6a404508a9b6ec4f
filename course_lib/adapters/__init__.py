"""Adapter modules (the layers): the bottleneck adapter and its variants (parallel adapter, Compacter), the
AdapterFusion layer and the LoRA layer. They know nothing of models; ``course_lib.model``, ``course_lib.fusion``
and ``course_lib.lora`` put them into one."""

from .bottleneck import ACTIVATIONS, INITS, BottleneckAdapter
from .compacter import CompacterAdapter, PHMLinear
from .fusion import AdapterFusion
from .lora import LoRALinear
from .parallel import ParallelAdapter

__all__ = [
    "ACTIVATIONS",
    "INITS",
    "BottleneckAdapter",
    "ParallelAdapter",
    "PHMLinear",
    "CompacterAdapter",
    "AdapterFusion",
    "LoRALinear",
]
