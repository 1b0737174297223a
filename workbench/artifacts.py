"""A cache of prepared artifacts (static vectors, pretrained backbones) keyed by content.

The key is a hash of everything that determines the artifact (corpus, vocabulary, method,
config, seed), so a comparison reuses what an earlier command prepared, and a changed
setting can never silently reuse a stale artifact. The folder is $WORKBENCH_CACHE when set,
else <per-user cache>/workbench/artifacts (separate from the dataset cache, which may be read-only).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path


def artifact_root() -> Path:
    env = os.environ.get("WORKBENCH_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "workbench" / "artifacts"


def artifact_key(description: dict) -> str:
    return hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()[:16]


def artifact_dir(kind: str, description: dict) -> Path:
    return artifact_root() / kind / artifact_key(description)
