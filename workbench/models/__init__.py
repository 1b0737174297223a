"""Encoders (BiLSTM, Transformer), the task heads every pipeline shares, and the task model that joins them."""
