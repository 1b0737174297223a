"""workbench: a comparative workbench for pretraining in NLP (static embeddings vs whole-model pretraining)."""

__version__ = "0.1.0"
