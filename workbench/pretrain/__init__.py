"""Whole-model pretraining: MLM, CLM, PLM (Transformer) and the LSTM LM, resumable, on one process or under DDP.

    options       what a run is: `PretrainOptions` (the CLI's options and defaults) -> (LMConfig, PretrainConfig)
    objectives    the objectives' batches and losses, FLOPs per step, validation
    loop          the training loop (`pretrain`)
    distributed   DDP plumbing: ranks, shards, the loss weighting, process groups
    folder        the on-disk pretraining folder: the only reader and writer of its files
    cached        `pretrain_cached`: by corpus name, into the artifact cache, on `nproc` processes
"""
from workbench.pretrain.cached import pretrain_cached
from workbench.pretrain.distributed import launch, process_group
from workbench.pretrain.folder import kept_checkpoints, load_model, read_final, read_log, record_for
from workbench.pretrain.loop import pretrain
from workbench.pretrain.options import PretrainConfig, PretrainOptions, default_steps

__all__ = ["PretrainConfig", "PretrainOptions", "default_steps", "kept_checkpoints", "launch", "load_model",
           "pretrain", "pretrain_cached", "process_group", "read_final", "read_log", "record_for"]
