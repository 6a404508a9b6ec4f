"""Adapters in a Hugging Face BERT model, the notebook-04 workflow in one import (kept for the released
notebooks; new code can import the same names from ``course_lib.api``)::

    from course_lib.inject import add_adapters, freeze_base, count_parameters, save_adapters, load_adapters

Where things live: the adapter settings in ``course_lib.specs``, the surgery (the ``AdapterSubLayer`` wrapper,
``get_layers``) in ``course_lib.surgery``, adding and switching in ``course_lib.model``, counting in
``course_lib.params``, saving in ``course_lib.checkpoint``.
"""

from __future__ import annotations

from .checkpoint import load_adapters, save_adapters
from .model import adapter_spec, add_adapters, get_active_adapter, list_adapters, remove_adapters, set_active_adapter
from .params import count_parameters, freeze_base
from .specs import DEFAULT_ACTIVATION, PLACEMENT_LOCATIONS, PLACEMENTS
from .surgery import AdapterSubLayer, get_layers, iter_sublayers, iter_wrappers

__all__ = [
    "PLACEMENTS",
    "PLACEMENT_LOCATIONS",
    "DEFAULT_ACTIVATION",
    "AdapterSubLayer",
    "add_adapters",
    "adapter_spec",
    "set_active_adapter",
    "get_active_adapter",
    "list_adapters",
    "remove_adapters",
    "get_layers",
    "iter_sublayers",
    "iter_wrappers",
    "freeze_base",
    "count_parameters",
    "save_adapters",
    "load_adapters",
]
