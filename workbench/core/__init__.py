"""The training core: batching, the train/evaluate loop, checkpoints. Shared by every pipeline."""
