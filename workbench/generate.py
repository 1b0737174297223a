"""What a pretrained LM knows, without fine-tuning: perplexity, sampling, fill-in-the-blank.

A causal model (Transformer CLM or LSTM LM) defines a distribution over whole sequences, so it
can score any text and sample new text. A masked model only fills blanks given both sides.
"""

from __future__ import annotations

import math

import torch

from workbench.data.readers import normalize
from workbench.data.vocab import Vocabulary
from workbench.errors import WorkbenchError
from workbench.models.lm import LanguageModel


def _words(text: str) -> list[str]:
    return normalize(text.replace("[MASK]", " [mask] ").split())


def _need(model: LanguageModel, objectives: tuple[str, ...], what: str) -> None:
    if model.cfg.objective not in objectives:
        raise WorkbenchError(
            f"{what} needs a {' or '.join(objectives)} model; this one was pretrained with {model.cfg.objective}"
        )


@torch.no_grad()
def perplexity(model: LanguageModel, vocab: Vocabulary, text: str) -> dict:
    """exp(mean negative log-likelihood) of the text's words (and the end of sequence) under a causal LM."""
    _need(model, ("clm",), "perplexity")
    model.eval()
    ids = torch.tensor([[vocab.cls_id] + vocab.encode(_words(text)) + [vocab.sep_id]])
    log_probs = model(ids, torch.ones_like(ids, dtype=torch.bool)).log_softmax(-1)[0, :-1]
    nll = -log_probs.gather(1, ids[0, 1:, None]).squeeze(1)
    return {
        "perplexity": math.exp(nll.mean().item()),
        "tokens": int(nll.numel()),
        "nats_per_token": nll.mean().item(),
        "unknown_words": sum(1 for w in _words(text) if w not in vocab),
    }


def _filter(logits: torch.Tensor, top_k: int | None, top_p: float | None) -> torch.Tensor:
    if top_k:
        kth = logits.topk(min(top_k, logits.numel())).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and top_p < 1.0:
        sorted_logits, order = logits.sort(descending=True)
        cumulative = sorted_logits.softmax(-1).cumsum(-1)
        drop = cumulative - sorted_logits.softmax(-1) > top_p  # keep the smallest prefix whose mass reaches top_p
        logits = logits.masked_fill(torch.zeros_like(drop).scatter(0, order, drop), float("-inf"))
    return logits


@torch.no_grad()
def sample(
    model: LanguageModel,
    vocab: Vocabulary,
    prompt: str,
    n: int = 5,
    max_tokens: int = 30,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    greedy: bool = False,
    seed: int = 0,
) -> list[str]:
    """n continuations of the prompt; the same seed gives the same samples. Stops at [sep] (end of document)."""
    _need(model, ("clm",), "generation")
    if temperature <= 0 and not greedy:
        raise WorkbenchError("--temperature must be positive (or use --greedy)")
    if top_p is not None and not 0 < top_p <= 1:
        raise WorkbenchError("--top-p must be in (0, 1]")
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    specials = torch.tensor([vocab.pad_id, vocab.unk_id, vocab.mask_id, vocab.cls_id])
    max_len = model.cfg.transformer.max_len if model.cfg.arch == "transformer" else 10_000
    outputs = []
    for _ in range(n):
        ids = [vocab.cls_id] + vocab.encode(_words(prompt))
        new = []
        for _ in range(max_tokens):
            context = torch.tensor([ids[-max_len:]])
            logits = model(context, torch.ones_like(context, dtype=torch.bool))[0, -1]
            logits[specials] = float("-inf")
            if greedy:
                token = int(logits.argmax())
            else:
                probs = _filter(logits / temperature, top_k, top_p).softmax(-1)
                token = int(torch.multinomial(probs, 1, generator=generator))
            if token == vocab.sep_id:
                break
            ids.append(token)
            new.append(vocab.words[token])
        outputs.append(" ".join(new))
    return outputs


@torch.no_grad()
def fill(model: LanguageModel, vocab: Vocabulary, text: str, k: int = 5) -> list[list[tuple[str, float]]]:
    """Top-k words and probabilities for each [MASK] in the text (MLM; PLM through its query stream)."""
    _need(model, ("mlm", "plm"), "fill-in-the-blank")
    words = _words(text)
    if "[mask]" not in words:
        raise WorkbenchError('the text has no [MASK]: write e.g. "the [MASK] was delicious"')
    model.eval()
    ids = torch.tensor([[vocab.cls_id] + vocab.encode(words)])
    pad_mask = torch.ones_like(ids, dtype=torch.bool)
    positions = (ids[0] == vocab.mask_id).nonzero().flatten().tolist()
    if model.cfg.objective == "mlm":
        hidden = model.hidden(ids, pad_mask)[0]
    else:
        t = ids.shape[1]
        masked = ids[0] == vocab.mask_id
        eye = torch.eye(t, dtype=torch.bool)
        visible = (~masked)[None, :].expand(t, t)  # keys that are not blanks
        content = (visible | eye)[None, None]
        query = torch.where(masked[:, None], visible & ~eye, eye)[None, None]  # a blank sees every other real word
        hidden = model.plm_hidden(ids, content, query)[0]
    out = []
    for position in positions:
        probs = model.head(hidden[position]).softmax(-1)
        probs[:5] = 0.0  # never propose a special token
        top = probs.topk(k)
        out.append([(vocab.words[i], float(p)) for p, i in zip(top.values, top.indices.tolist())])
    return out
