"""Shipped comparison presets, one TOML file each (`workbench compare --preset NAME`): data, read by
`experiments.config.load_preset` through importlib.resources. Each holds a `description` and any
comparison setting; a --config file and explicit options override it."""
