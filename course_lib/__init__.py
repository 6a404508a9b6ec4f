"""course_lib: the shared helper package of the course *Adapter Fine-tuning, hands-on*.

Notebooks import what they need from one place, ``course_lib.api``. The modules behind it follow the order the
notebooks teach, and depend on each other one way only (modules -> specs -> surgery -> model API):

* ``course_lib.adapters``   the layers: bottleneck, parallel, Compacter, AdapterFusion, LoRA (01, 02, 05-07),
                            soft prompt and prefix
* ``course_lib.specs``      frozen settings of each adapter kind, fusion and LoRA; the registry on a model
* ``course_lib.surgery``    where adapters go in a BERT or GPT-2 layer; the wrappers and the one module-swap helper
* ``course_lib.model``      adding, switching and removing adapters (04)
* ``course_lib.params``     freezing and parameter counting (03)
* ``course_lib.checkpoint`` saving and loading adapter weights (04)
* ``course_lib.fusion``     AdapterFusion in a model (05)
* ``course_lib.lora``       LoRA in a model (nn.Linear or GPT-2's Conv1D), for comparison (06)
* ``course_lib.prompting``  prompt tuning and prefix tuning of a decoder (GPT-2)
* ``course_lib.sft``        supervised fine-tuning batches of a decoder (-100 on prompt and padding) and their loss
* ``course_lib.harness``    device, seeds, models, data, training loop, timing (all notebooks)
* ``course_lib.plots``      matplotlib helpers
* ``course_lib.diagrams``   architecture diagrams: adapter, placements, AdapterFusion, LoRA (01, 04-07)
* ``course_lib.inject``     the notebook-04 names in one import (kept for the released notebooks)
"""

__version__ = "0.1.0"
