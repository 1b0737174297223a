"""How exactly an export matches the workbench (bench/NOTES.md, "Export to transformers").

    python bench/export/check_export.py MODEL [--corpus C] [--reviews 5000]

1. exports MODEL (a `workbench pretrain` folder, or clm / mlm for the default model of --corpus) into a temporary
   folder and loads it with transformers' Auto class; prints the largest |logit difference| on up to 64 blocks of 64 tokens of the
   corpus's validation text, and (a CLM) whether greedy continuations of (up to) 20 prompts agree token for token;
2. (with WORKBENCH_DATA holding imdb and sst2) tokenizes the first --reviews IMDB training reviews and every
   SST-2 training sentence with the exported real-text tokenizer and with workbench.data.realtext, and counts
   the texts whose ids differ.
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
from pathlib import Path

import torch
import transformers

from workbench.cli.common import load_language_model
from workbench.data import realtext, registry
from workbench.data.tasks import resolve_corpus
from workbench.data.vocab import SPECIALS, Vocabulary
from workbench.export import export_hf, hf_tokenizer


def logits_match(spec: str, corpus: str) -> None:
    model, vocab, corpus_name, _ = load_language_model(spec, corpus)
    model.eval()
    auto = transformers.AutoModelForCausalLM if model.cfg.objective == "clm" else transformers.AutoModelForMaskedLM
    with tempfile.TemporaryDirectory(prefix="check-export-") as scratch:
        out = export_hf(model, vocab, corpus_name, Path(scratch) / "hf", {})
        hf = auto.from_pretrained(out).eval()
        tokenizer = transformers.AutoTokenizer.from_pretrained(out)
    valid = [vocab.encode(doc) for doc in resolve_corpus(corpus_name).valid]
    stream = [i for doc in valid for i in [vocab.cls_id, *doc, vocab.sep_id]][: 64 * 64]
    stream = torch.tensor(stream[: len(stream) // 64 * 64]).view(-1, 64)
    with torch.no_grad():
        diff = (model(stream, torch.ones_like(stream, dtype=torch.bool)) - hf(input_ids=stream).logits).abs().max()
    print(f"{type(hf).__name__}: max |logit difference| on {stream.numel():,} validation tokens: {diff.item():.2e}")
    if model.cfg.objective == "clm":
        same, prompts = 0, valid[:20]
        for doc in prompts:
            prompt = [vocab.cls_id, *doc[:4]]
            ours = torch.tensor([prompt])
            with torch.no_grad():
                for _ in range(12):
                    nxt = model(ours, torch.ones_like(ours, dtype=torch.bool))[0, -1].argmax()
                    ours = torch.cat([ours, nxt.view(1, 1)], dim=1)
                    if nxt == vocab.sep_id:  # where generate stops too (eos)
                        break
            theirs = hf.generate(
                torch.tensor([prompt]), max_new_tokens=12, do_sample=False, pad_token_id=tokenizer.pad_token_id
            )
            same += int(torch.equal(ours, theirs))
        print(f"greedy continuations (up to 12 tokens) identical for {same} of {len(prompts)} prompts")


def tokenizer_agreement(n_reviews: int) -> None:
    tokenizer = hf_tokenizer(transformers, Vocabulary(list(SPECIALS)), "realtext", 256).backend_tokenizer

    def words(text):
        return [w for w, _ in tokenizer.pre_tokenizer.pre_tokenize_str(tokenizer.normalizer.normalize_str(text))]

    with gzip.open(registry.local_file("imdb", "train.jsonl.gz"), "rt", encoding="utf-8") as fh:
        reviews = [json.loads(line)["text"] for _, line in zip(range(n_reviews), fh)]
    sst2 = [row.split("\t")[0] for row in registry.local_file("sst2", "train.tsv").read_text().splitlines()[1:]]
    for name, texts in (("IMDB training reviews", reviews), ("SST-2 training sentences", sst2)):
        differ = sum(realtext.tokenize(t) != words(t) for t in texts)
        print(f"real-text tokenizer: {differ} of {len(texts):,} {name} tokenized differently")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--corpus", default="microworld")
    parser.add_argument("--reviews", type=int, default=5000)
    args = parser.parse_args()
    logits_match(args.model, args.corpus)
    tokenizer_agreement(args.reviews)


if __name__ == "__main__":
    main()
