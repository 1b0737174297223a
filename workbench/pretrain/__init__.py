"""Whole-model pretraining: MLM, CLM, PLM (Transformer) and the LSTM LM, resumable, on one process or under DDP.

options       what a run is: `PretrainOptions` (the CLI's options and defaults) -> (LMConfig, PretrainConfig)
presets       named runs (`--preset`): the real-text backbones, sized to ship in 30 MB
objectives    the objectives' batches and losses, FLOPs per step, validation
loop          the training loop (`pretrain`) and its one training step
budget        steps for a time budget, by timing that step on the device
distributed   DDP plumbing: ranks, shards, the loss weighting, process groups
folder        the on-disk pretraining folder: the only reader and writer of its files
cached        `pretrain_cached`: by corpus name, into the artifact cache, on `nproc` processes
"""

from workbench.pretrain.cached import pretrain_cached
from workbench.pretrain.distributed import launch, process_group
from workbench.pretrain.folder import kept_checkpoints, load_model, read_final, read_log, record_for, save_half
from workbench.pretrain.loop import pretrain
from workbench.pretrain.options import PretrainConfig, PretrainOptions, default_steps
from workbench.pretrain.presets import PRESETS, preset_options

__all__ = [
    "PRESETS",
    "PretrainConfig",
    "PretrainOptions",
    "default_steps",
    "kept_checkpoints",
    "launch",
    "load_model",
    "preset_options",
    "pretrain",
    "pretrain_cached",
    "process_group",
    "read_final",
    "read_log",
    "record_for",
    "save_half",
]
