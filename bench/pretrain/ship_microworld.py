"""Copy a finished `workbench pretrain --objective clm --corpus microworld` folder into workbench/shipped/,
with a few of its log-spaced checkpoints in float16 for the compute axis (`workbench compare --budgets`).

    python bench/pretrain/ship_microworld.py RUN_FOLDER [--steps 512,2048,8192]

The final model stays float32 (what the default pipelines load, bit for bit); each shipped checkpoint
is float16 (half the bytes; `load_model` reads it back as float32). provenance.json records the
sha256 of the model and of every shipped checkpoint; tests/test_shipped_checkpoint.py checks them.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from safetensors.torch import load_file, save_file

from workbench.atomic import atomic_path
from workbench.data.registry import sha256_of
from workbench.pipelines.pretrained import SHIPPED
from workbench.pretrain.folder import kept_checkpoints, update_provenance

FILES = ("model.safetensors", "config.json", "vocab.json", "final.json", "log.jsonl", "provenance.json")


def ship(run: Path, steps: list[int], out: Path) -> dict:
    kept = {r["step"]: r["checkpoint"] for r in kept_checkpoints(run)}
    missing = [s for s in steps if s not in kept]
    if missing:
        raise SystemExit(f"{run} kept no checkpoint at step(s) {missing}; it kept {sorted(kept)}")
    if out.exists():
        shutil.rmtree(out)
    (out / "checkpoints").mkdir(parents=True)
    for name in FILES:
        shutil.copy2(run / name, out / name)
    hashes = {}
    for step in steps:
        tensors = load_file(str(run / kept[step]))
        with atomic_path(out / kept[step]) as tmp:
            save_file({k: v.half() if v.is_floating_point() else v for k, v in tensors.items()}, str(tmp))
        hashes[kept[step]] = sha256_of(out / kept[step])
    return update_provenance(out, checkpoints=hashes, checkpoint_dtype="float16")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a finished pretraining folder (with checkpoints/)")
    parser.add_argument("--steps", default="512,2048,8192", help="which kept checkpoints to ship")
    parser.add_argument("--out", type=Path, default=SHIPPED / "microworld-clm")
    args = parser.parse_args()
    record = ship(args.run, [int(s) for s in args.steps.split(",")], args.out)
    total = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(
        f"shipped {args.run} -> {args.out}: model {record['sha256'][:12]}, {len(record['checkpoints'])} checkpoints, "
        f"{total / 1e6:.1f} MB in all"
    )


if __name__ == "__main__":
    main()
