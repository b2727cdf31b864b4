"""The last block's attention is recomputed exactly while every block keeps fused attention."""

import torch
from mmpretrain.registry import MODELS

from famt_mm.models import last_block_attention
from famt_mm.testing import tiny_mae_cfg


def test_last_block_attention_reproduces_the_fused_block():
    torch.manual_seed(0)
    model = MODELS.build(tiny_mae_cfg(img_size=16, patch_size=4))
    model.init_weights()
    model.eval()
    vit = model.backbone
    images = torch.randn(2, 3, 16, 16)
    captured = {}
    last = vit.layers[-1]
    last.attn.register_forward_hook(lambda m, a, out: captured.update(x=a[0], out=out))
    attn, tokens = last_block_attention(vit, images, model.extract_feat)
    assert attn.shape == (2, 4, 17, 17)
    assert torch.allclose(attn.sum(-1), torch.ones(2, 4, 17), atol=1e-5)
    # attention @ values, projected, is what the fused block computed
    module = last.attn
    qkv = module.qkv(captured['x']).reshape(2, 17, 3, 4, 8).permute(2, 0, 3, 1, 4)
    mixed = (attn @ qkv[2]).transpose(1, 2).reshape(2, 17, 32)
    assert torch.allclose(module.proj(mixed), captured['out'], atol=1e-5)
    # the tokens are the last block's output: the final norm of them is the extracted feature
    assert torch.allclose(vit.ln1(tokens), model.extract_feat(images)[0], atol=1e-5)
    # earlier blocks never materialise attention: only the last block's attn module is hooked
    assert all(not layer.attn._forward_hooks for layer in vit.layers[:-1])
