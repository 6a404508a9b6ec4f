"""The experiment harness shared by all notebooks: configuration (fast mode), devices and seeds,
models, data, the training loop and latency measurement."""

from .config import budget, fast_mode
from .data import DATA_ENV, TASKS, DataDirError, load_task, make_loader, task_info
from .device import DEVICE_ENV, amp_dtype, autocast, get_device, make_grad_scaler, seed_everything
from .models import MODEL_ALIASES, load_model, tiny_bert_config
from .timing import measure_latency
from .training import TrainHistory, evaluate, predict, train

__all__ = [
    "fast_mode",
    "budget",
    "get_device",
    "seed_everything",
    "autocast",
    "amp_dtype",
    "make_grad_scaler",
    "DEVICE_ENV",
    "load_model",
    "MODEL_ALIASES",
    "tiny_bert_config",
    "load_task",
    "task_info",
    "make_loader",
    "DataDirError",
    "TASKS",
    "DATA_ENV",
    "train",
    "evaluate",
    "predict",
    "TrainHistory",
    "measure_latency",
]
