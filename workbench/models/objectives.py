"""The three pretraining objectives as input/target/mask constructions.

- MLM (BERT): 15% of real tokens chosen; of those 80% -> [mask], 10% -> a random word, 10% kept;
  loss on the chosen positions only.
- CLM (GPT): every position predicts the next token under causal attention.
- PLM (XLNet): a random factorization order per sequence; only the last 1/K of the order is
  predicted; two-stream attention masks so a predicted position never sees its own token.
"""

from __future__ import annotations

import torch

from workbench.core.batching import IGNORE
from workbench.data.vocab import SPECIALS

N_SPECIALS = len(SPECIALS)


def mlm_inputs(
    ids: torch.Tensor,
    pad_mask: torch.Tensor,
    mask_id: int,
    vocab_size: int,
    generator: torch.Generator,
    rate: float = 0.15,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(corrupted inputs, targets with IGNORE at unchosen positions). Specials are never chosen."""
    candidates = pad_mask & (ids >= N_SPECIALS)
    chosen = (torch.rand(ids.shape, generator=generator) < rate) & candidates
    targets = torch.where(chosen, ids, torch.full_like(ids, IGNORE))
    action = torch.rand(ids.shape, generator=generator)
    inputs = ids.clone()
    inputs[chosen & (action < 0.8)] = mask_id
    randomize = chosen & (action >= 0.8) & (action < 0.9)
    random_words = torch.randint(N_SPECIALS, vocab_size, ids.shape, generator=generator)
    inputs[randomize] = random_words[randomize]
    return inputs, targets


def clm_targets(ids: torch.Tensor, pad_mask: torch.Tensor) -> torch.Tensor:
    """Target at position t is token t+1 (IGNORE past the end and at padding)."""
    targets = torch.full_like(ids, IGNORE)
    targets[:, :-1] = torch.where(pad_mask[:, 1:], ids[:, 1:], torch.full_like(ids[:, 1:], IGNORE))
    return targets


def plm_masks(pad_mask: torch.Tensor, generator: torch.Generator, k: int = 4):
    """A sampled factorization order per sequence and the two-stream masks it implies.

    Returns (content_mask [B,1,T,T], query_mask [B,1,T,T], predicted [B,T] bool, rank [B,T]).
    rank[b, i] is i's place in the order (padding last). Content stream: i sees j iff
    rank[j] <= rank[i]. Query stream: i sees j iff rank[j] < rank[i] (never itself). The last
    ceil(length/k) positions of each order are predicted. Rows that see nothing (the first in
    the order in the query stream, padding) see themselves only, to keep attention finite;
    they are never predicted.
    """
    b, t = pad_mask.shape
    noise = torch.rand(b, t, generator=generator).masked_fill(~pad_mask, 2.0)  # padding ordered last
    order = noise.argsort(dim=1)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(t).expand(b, t))
    lengths = pad_mask.sum(1, keepdim=True)
    n_predict = (lengths + k - 1) // k
    predicted = pad_mask & (rank >= lengths - n_predict) & (rank > 0)
    keys_real = pad_mask[:, None, :]
    content = (rank[:, None, :] <= rank[:, :, None]) & keys_real
    query = (rank[:, None, :] < rank[:, :, None]) & keys_real
    eye = torch.eye(t, dtype=torch.bool)
    content = content | eye
    query = query | (eye & ~predicted[:, :, None])
    return content[:, None], query[:, None], predicted, rank
