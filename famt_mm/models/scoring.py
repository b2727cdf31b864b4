"""Importance scoring of whole images with an mmpretrain VisionTransformer's last block."""
from typing import Callable, Optional, Tuple

import torch
from torch import nn

from ..core import softmax_attention


def last_block_attention(vit: nn.Module,
                         images: torch.Tensor,
                         forward: Optional[Callable[[torch.Tensor], object]] = None
                         ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Run ``vit`` on whole images; return its last block's attention and output tokens.

    Every block keeps mmpretrain's fused attention; only the last block's softmax attention
    (B, H, N, N) is materialised, recomputed in fp32 from the input its attention module received
    (that is ``ln1(x)``) and its own ``qkv`` projection. Tokens are the last block's output (B, N, D),
    before the final norm.

    Args:
        vit: an mmpretrain ``VisionTransformer`` (``layers[-1].attn`` a ``MultiheadAttention``).
        images: (B, 3, H, W) normalised images.
        forward: how to run ``vit`` on whole images; defaults to ``vit(images)``.
    """
    last = vit.layers[-1]
    captured = {}
    hooks = [
        last.attn.register_forward_hook(lambda m, args, out: captured.__setitem__('x', args[0])),
        last.register_forward_hook(lambda m, args, out: captured.__setitem__('tokens', out)),
    ]
    try:
        (forward or vit)(images)
    finally:
        for hook in hooks:
            hook.remove()
    attn_module = last.attn
    x = captured['x']
    batch, length, _ = x.shape
    qkv = attn_module.qkv(x).reshape(batch, length, 3, attn_module.num_heads, attn_module.head_dims)
    q, k = qkv.permute(2, 0, 3, 1, 4)[:2]
    # mmpretrain's MultiheadAttention always scales by head_dims ** -0.5 (also when qk_scale is set)
    return softmax_attention(q, k, attn_module.head_dims ** -0.5), captured['tokens']
