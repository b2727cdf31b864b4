"""Signed linear attention (X-ViT) read as attention rows for AMT's and FAMT's weights.

X-ViT (Song and Lee, arXiv 2205.13805) drops the softmax: the last block's attention, made explicit,
is ``A = s * XNorm(Q) XNorm(K)^T`` (B, H, N, N), whose rows need not sum to 1 and whose entries can
be negative. The importance formulas (:mod:`.importance`) were written for softmax rows: non-negative,
summing to 1. :func:`signed_attention_rows` turns each row of ``A`` into such a row; ``docs/method.md``
section 9 says why each reading exists and which is the default. Pure tensor code: no mmengine.
"""

from typing import Tuple

import torch

from .importance import check_choice

#: how a signed row becomes non-negative before it is renormalised to sum 1
SIGNED_ROWS: Tuple[str, ...] = ('clip', 'shift', 'abs')

_EPS = 1e-12


def signed_attention_rows(attn: torch.Tensor, mode: str = 'clip') -> torch.Tensor:
    """Rows of a signed attention (B, H, N, N) as non-negative rows summing to 1, in fp32.

    Args:
        attn: the signed attention, row ``i`` holding the weights of token ``i``'s output over the
            N tokens (any scale: a positive factor per row cancels in the renormalisation).
        mode: ``'clip'`` keeps the positive weights (the tokens that token ``i`` draws towards its
            own direction) and zeroes the others; ``'shift'`` subtracts the row's minimum, so the
            order of the weights and their differences survive; ``'abs'`` takes the magnitudes, how
            much each token's value enters the output whatever its sign.

    A row left with nothing (all weights clipped, or a constant row shifted) becomes uniform: no
    token is preferred.
    """
    check_choice('mode', mode, SIGNED_ROWS)
    a = attn.float()
    if mode == 'clip':
        a = a.clamp_min(0)
    elif mode == 'shift':
        a = a - a.amin(dim=-1, keepdim=True)
    else:
        a = a.abs()
    total = a.sum(dim=-1, keepdim=True)
    uniform = torch.full_like(a, 1.0 / a.shape[-1])
    return torch.where(total > _EPS, a / total.clamp_min(_EPS), uniform)
