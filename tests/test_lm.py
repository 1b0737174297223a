"""Backbone and objectives against their definitions and the torch references."""

import math

import pytest
import torch
from torch import nn

from workbench.core.batching import IGNORE
from workbench.models.lm import LanguageModel, LMConfig
from workbench.models.objectives import clm_targets, mlm_inputs, plm_masks
from workbench.models.transformer import TransformerConfig, TransformerEncoder, apply_rotary, rotary_tables


def tiny_lm(objective="clm", arch="transformer", positions="learned", vocab_size=50, tie=False):
    torch.manual_seed(0)
    cfg = LMConfig(
        objective=objective,
        arch=arch,
        vocab_size=vocab_size,
        tie_embeddings=tie,
        lstm_hidden=32,
        transformer=TransformerConfig(d_model=32, n_layers=2, n_heads=4, d_ff=64, dropout=0.0, positions=positions),
    )
    return LanguageModel(cfg).eval()


def test_block_matches_torch_transformer_encoder_layer():
    """Our pre-LN block equals nn.TransformerEncoderLayer(norm_first=True) with the same weights, padding included."""
    torch.manual_seed(1)
    cfg = TransformerConfig(d_model=32, n_layers=1, n_heads=4, d_ff=64, dropout=0.0)
    ours = TransformerEncoder(cfg)
    block = ours.blocks[0]
    ref = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, activation="gelu", batch_first=True, norm_first=True)
    with torch.no_grad():
        ref.self_attn.in_proj_weight.copy_(block.attn.qkv.weight)
        ref.self_attn.in_proj_bias.copy_(block.attn.qkv.bias)
        ref.self_attn.out_proj.weight.copy_(block.attn.out.weight)
        ref.self_attn.out_proj.bias.copy_(block.attn.out.bias)
        ref.linear1.weight.copy_(block.ffn[0].weight), ref.linear1.bias.copy_(block.ffn[0].bias)
        ref.linear2.weight.copy_(block.ffn[2].weight), ref.linear2.bias.copy_(block.ffn[2].bias)
        for a, b in ((ref.norm1, block.ln1), (ref.norm2, block.ln2)):
            a.weight.copy_(b.weight), a.bias.copy_(b.bias)
    x = torch.randn(3, 7, 32)
    pad_mask = torch.tensor([[1] * 7, [1] * 5 + [0] * 2, [1] * 2 + [0] * 5], dtype=torch.bool)
    from workbench.models.transformer import attention_mask

    ours_out = block(x, attention_mask(pad_mask, causal=False))
    ref.eval()
    ref_out = ref(x, src_key_padding_mask=~pad_mask)
    real = pad_mask.unsqueeze(-1).expand_as(x)
    assert torch.allclose(ours_out[real], ref_out[real], atol=1e-5)


def test_rotary_depends_on_relative_position_only():
    cos, sin = rotary_tables(16, 8, "cpu")
    q, k = torch.randn(8), torch.randn(8)

    def rotated(v, pos):
        return apply_rotary(v.view(1, 1, 1, 8).expand(1, 1, 16, 8), cos, sin)[0, 0, pos]

    assert torch.allclose(rotated(q, 5) @ rotated(k, 2), rotated(q, 9) @ rotated(k, 6), atol=1e-5)


@pytest.mark.parametrize(
    "arch, positions", [("transformer", "learned"), ("transformer", "rotary"), ("lstm", "learned")]
)
def test_causal_models_never_look_ahead(arch, positions):
    model = tiny_lm("clm", arch, positions)
    ids = torch.randint(5, 50, (2, 12))
    mask = torch.ones_like(ids, dtype=torch.bool)
    base = model(ids, mask)
    for j in (3, 8, 11):
        changed = ids.clone()
        changed[:, j] = (changed[:, j] + 7) % 45 + 5
        out = model(changed, mask)
        assert torch.allclose(out[:, :j], base[:, :j], atol=1e-6), j
        assert not torch.allclose(out[:, j:], base[:, j:], atol=1e-6)


def test_clm_targets_shift_by_one():
    ids = torch.tensor([[3, 10, 11, 12, 0]])
    mask = ids != 0
    assert clm_targets(ids, mask).tolist() == [[10, 11, 12, IGNORE, IGNORE]]


def test_mlm_masking_statistics():
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(5, 1000, (400, 128))
    ids[:, 0] = 3  # [cls] is never chosen
    mask = torch.ones_like(ids, dtype=torch.bool)
    mask[:, 100:] = False
    inputs, targets = mlm_inputs(ids, mask, mask_id=2, vocab_size=1000, generator=generator)
    chosen = targets != IGNORE
    assert not chosen[:, 0].any() and not chosen[:, 100:].any()
    assert abs(chosen.sum().item() / (400 * 99) - 0.15) < 0.005
    assert torch.equal(targets[chosen], ids[chosen])
    masked = (inputs[chosen] == 2).float().mean().item()
    kept = (inputs[chosen] == ids[chosen]).float().mean().item()
    assert abs(masked - 0.8) < 0.01 and abs(kept - 0.1 - 0.1 / 995) < 0.01  # a random word may equal the original
    assert torch.equal(inputs[~chosen], ids[~chosen])


def test_plm_masks_follow_the_definition():
    generator = torch.Generator().manual_seed(3)
    pad_mask = torch.tensor([[1] * 9, [1] * 6 + [0] * 3], dtype=torch.bool)
    content, query, predicted, rank = plm_masks(pad_mask, generator, k=3)
    for b in range(2):
        length = int(pad_mask[b].sum())
        assert sorted(rank[b, :length].tolist()) == list(range(length))
        assert int(predicted[b].sum()) == math.ceil(length / 3)
        for i in range(length):
            if predicted[b, i]:
                assert rank[b, i] >= length - math.ceil(length / 3)
                sees = {j for j in range(9) if query[b, 0, i, j]}
                assert sees == {j for j in range(length) if rank[b, j] < rank[b, i]}
            sees_content = {j for j in range(9) if content[b, 0, i, j]}
            assert sees_content == {j for j in range(length) if rank[b, j] <= rank[b, i]}


def test_plm_query_stream_never_sees_its_own_token():
    model = tiny_lm("plm")
    generator = torch.Generator().manual_seed(5)
    ids = torch.randint(5, 50, (2, 10))
    pad_mask = torch.ones_like(ids, dtype=torch.bool)
    content, query, predicted, rank = plm_masks(pad_mask, generator, k=2)
    base = model.plm_hidden(ids, content, query)
    for b, i in predicted.nonzero().tolist():
        changed = ids.clone()
        changed[b, i] = (changed[b, i] + 3) % 45 + 5
        out = model.plm_hidden(changed, content, query)
        assert torch.allclose(out[b, i], base[b, i], atol=1e-6)
        later = [j for j in range(10) if rank[b, j] > rank[b, i] and predicted[b, j]]
        for j in later:  # positions after i in the order do see its content
            assert not torch.allclose(out[b, j], base[b, j], atol=1e-6)


def test_tied_embeddings_share_the_matrix():
    model = tiny_lm("mlm", tie=True)
    assert model.head.weight is model.embed.weight
    assert model.n_params(non_embedding=False) < tiny_lm("mlm").n_params(non_embedding=False)


def test_heads_of_new_models_are_those_of_standard_classes_and_old_configs_keep_theirs():
    """New Transformer CLMs have GPT-2's head (no bias), new MLMs BERT's (a transform first); a config written
    before these fields existed (PLM and LSTM configs still are) reads back with the head it had, unchanged."""
    from workbench.pretrain.options import PretrainOptions

    clm, _ = PretrainOptions(objective="clm").configs()
    mlm, _ = PretrainOptions(objective="mlm").configs()
    plm, _ = PretrainOptions(objective="plm").configs()
    assert clm.to_dict()["head_bias"] is False and "head_transform" not in clm.to_dict()
    assert mlm.to_dict()["head_transform"] is True and "head_bias" not in mlm.to_dict()
    assert "head_bias" not in plm.to_dict() and "head_transform" not in plm.to_dict()  # its cache key as before
    assert LMConfig.from_dict(clm.to_dict()) == clm and LMConfig.from_dict(plm.to_dict()) == plm
    clm.vocab_size = mlm.vocab_size = 50
    assert LanguageModel(clm).head.bias is None
    names = set(LanguageModel(mlm).state_dict())
    assert {"head.bias", "head.transform.0.weight", "head.transform.2.weight"} <= names
    old = LMConfig.from_dict({k: v for k, v in clm.to_dict().items() if k != "head_bias"})  # as written before
    assert LanguageModel(old).head.bias is not None and isinstance(LanguageModel(old).head.transform, nn.Identity)
