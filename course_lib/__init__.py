"""course_lib: the shared helper package of the course *Adapter Fine-tuning, hands-on*.

Modules follow the order the notebooks teach:

* ``course_lib.adapters``   bottleneck adapter, parallel adapter, Compacter (notebooks 01, 02, 07)
* ``course_lib.params``     freezing and parameter counting (03)
* ``course_lib.inject``     putting adapters into a Hugging Face BERT model (04)
* ``course_lib.checkpoint`` saving and loading adapter weights (04)
* ``course_lib.fusion``     AdapterFusion (05)
* ``course_lib.lora``       LoRA, for comparison (06)
* ``course_lib.harness``    device, seeds, models, data, training loop, timing (all notebooks)
* ``course_lib.plots``      matplotlib helpers
"""

__version__ = "0.1.0"
