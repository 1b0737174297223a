"""Copy a finished `workbench pretrain` folder into workbench/shipped/NAME (NAME = CORPUS-PIPELINE, the folder the
default pipelines look for), with some of its log-spaced checkpoints in float16 for the compute axis
(`workbench compare --budgets`), and the command that remakes it in its provenance.

    python bench/pretrain/ship.py RUN_FOLDER --as microworld-clm --steps 512,2048,8192 --command "..."
    python bench/pretrain/ship.py RUN_FOLDER --as imdb-mlm --command "..."       # no checkpoint ships

The final model ships as the run saved it (float32, or float16 after `workbench pretrain --half`); each shipped
checkpoint is float16 (half the bytes; `load_model` reads it back as float32). provenance.json records the
sha256 of the model and of every shipped checkpoint; tests/test_shipped_checkpoint.py checks them. A shipped
folder holds at most SHIP_LIMIT_BYTES (30 MB), checkpoints included: the script refuses more.
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
from workbench.pretrain.presets import SHIP_LIMIT_BYTES

FILES = ("model.safetensors", "config.json", "vocab.json", "final.json", "log.jsonl", "provenance.json")


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def ship(run: Path, steps: list[int], out: Path, command: str | None, note: str | None = None) -> dict:
    kept = {r["step"]: r["checkpoint"] for r in kept_checkpoints(run)}
    missing = [s for s in steps if s not in kept]
    if missing:
        raise SystemExit(f"{run} kept no checkpoint at step(s) {missing}; it kept {sorted(kept)}")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in FILES:
        shutil.copy2(run / name, out / name)
    hashes = {}
    for step in steps:
        (out / kept[step]).parent.mkdir(exist_ok=True)
        tensors = load_file(str(run / kept[step]))
        with atomic_path(out / kept[step]) as tmp:
            save_file({k: v.half() if v.is_floating_point() else v for k, v in tensors.items()}, str(tmp))
        hashes[kept[step]] = sha256_of(out / kept[step])
    total = folder_bytes(out)
    if total > SHIP_LIMIT_BYTES:
        shutil.rmtree(out)
        raise SystemExit(f"{out} would hold {total:,} bytes, over the {SHIP_LIMIT_BYTES:,} a shipped model may hold")
    fields = {"checkpoints": hashes, "checkpoint_dtype": "float16"} if hashes else {}
    said = {key: text for key, text in (("command", command), ("note", note)) if text}
    return update_provenance(out, **fields, **said)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a finished pretraining folder")
    parser.add_argument("--as", dest="name", required=True, help="CORPUS-PIPELINE: microworld-clm, imdb-mlm, ...")
    parser.add_argument("--steps", default="", help="which kept checkpoints to ship, comma-separated (default none)")
    parser.add_argument("--command", help="the commands that remake the shipped folder, for its provenance")
    parser.add_argument(
        "--note", help="how this run was actually made (machine, threads, revision), for its provenance"
    )
    args = parser.parse_args()
    out = SHIPPED / args.name
    record = ship(args.run, [int(s) for s in args.steps.split(",") if s], out, args.command, args.note)
    print(
        f"shipped {args.run} -> {out}: model {record['sha256'][:12]}, {len(record.get('checkpoints', {}))} "
        f"checkpoints, {folder_bytes(out) / 1e6:.1f} MB in all"
    )


if __name__ == "__main__":
    main()
