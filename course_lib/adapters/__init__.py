"""Adapter modules: the bottleneck adapter and its variants (parallel adapter, Compacter)."""

from .bottleneck import ACTIVATIONS, INITS, BottleneckAdapter
from .compacter import CompacterAdapter, PHMLinear
from .parallel import ParallelAdapter

__all__ = ["ACTIVATIONS", "INITS", "BottleneckAdapter", "ParallelAdapter", "PHMLinear", "CompacterAdapter"]
