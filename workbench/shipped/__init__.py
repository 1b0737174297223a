"""Pretrained checkpoints shipped with the package (README.md says how each was made): data, found through
importlib.resources (`pipelines.pretrained.SHIPPED`), so a checkout, an editable install and a wheel all
load the same files and a fresh install needs no pretraining."""
