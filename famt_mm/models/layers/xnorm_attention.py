"""X-ViT's self-attention without softmax (Song and Lee, "X-ViT: High Performance Linear Vision
Transformer without Softmax", arXiv 2205.13805): a small override of mmpretrain's
``MultiheadAttention``.

Queries and keys are l2-normalised ("XNorm", onto a unit hypersphere) and multiplied in the
associative order ``XNorm(Q) (XNorm(K)^T V)``, so the cost grows linearly with the number of tokens N
instead of quadratically. What the paper's abstract does not fix is a setting here, whose default is
this package's reading, not the paper's (``docs/method.md`` section 9): the axis of the norm, how
heads are treated, the learnable scale and its initial value, and whether the sum over keys is divided
by N.
"""

from typing import Tuple

import torch
import torch.nn.functional as F
from mmpretrain.models.utils.attention import MultiheadAttention
from mmpretrain.registry import MODELS
from torch import nn

from ...core import check_choice

#: which vectors XNorm puts on the unit sphere: each token's query / key within a head (a cosine
#: similarity per head), each token's whole query / key across the heads, or each channel over the
#: tokens
NORM_AXES: Tuple[str, ...] = ('head_channels', 'channels', 'tokens')
#: the scale of the attention: a learnable value per head, one learnable value shared by the heads,
#: or the fixed ``scale_init``
SCALE_MODES: Tuple[str, ...] = ('per_head', 'shared', 'fixed')
#: the sum over the keys as it is, or divided by the number of tokens (a mean)
KEY_REDUCTIONS: Tuple[str, ...] = ('mean', 'sum')


@MODELS.register_module()
class FAMTXNormAttention(MultiheadAttention):
    """Multi-head attention ``s * XNorm(Q) (XNorm(K)^T V)``, linear in the number of tokens.

    Per head, with ``q_i``, ``k_j`` normalised as ``norm_axis`` says, token ``i`` takes
    ``s_h / M * sum_j (q_i . k_j) v_j`` where ``M`` is N (``key_reduction='mean'``) or 1
    (``'sum'``). The N x N matrix is never formed in :meth:`forward`; :meth:`attention_matrix` forms it
    for scoring.

    Args:
        embed_dims (int): The embedding dimension.
        num_heads (int): Parallel attention heads.
        norm_axis (str): ``'head_channels'`` (each token's query and key within each head, so that
            ``q_i . k_j`` is a cosine similarity), ``'channels'`` (each token's whole query and key
            across the heads, before they are split) or ``'tokens'`` (each channel of a head over the
            tokens). Defaults to ``'head_channels'``.
        scale_mode (str): ``'per_head'`` (a learnable scale per head), ``'shared'`` (one learnable
            scale) or ``'fixed'`` (``scale_init``, not trained). Defaults to ``'per_head'``.
        scale_init (float): the scale's initial (or fixed) value, > 0. Defaults to 1.
        key_reduction (str): ``'mean'`` divides the sum over keys by N, so that the output's size
            does not grow with the token count (FAMT's encoder sees 31 of 197 tokens in training and
            all of them when scoring or fine-tuning); ``'sum'`` leaves it. Defaults to ``'mean'``.
        eps (float): added to the norms, > 0. Defaults to 1e-6.
        **kwargs: the other arguments of mmpretrain's ``MultiheadAttention`` (``input_dims``,
            ``proj_drop``, ``dropout_layer``, ``qkv_bias``, ``proj_bias``, ``v_shortcut``,
            ``layer_scale_init_value``, ``init_cfg``); ``attn_drop`` must stay 0 and ``qk_scale``
            None: there is no attention matrix to drop from and no softmax temperature.
    """

    def __init__(
        self,
        embed_dims: int,
        num_heads: int,
        norm_axis: str = 'head_channels',
        scale_mode: str = 'per_head',
        scale_init: float = 1.0,
        key_reduction: str = 'mean',
        eps: float = 1e-6,
        **kwargs,
    ):
        check_choice('norm_axis', norm_axis, NORM_AXES)
        check_choice('scale_mode', scale_mode, SCALE_MODES)
        check_choice('key_reduction', key_reduction, KEY_REDUCTIONS)
        if not (isinstance(scale_init, (int, float)) and scale_init > 0):
            raise ValueError(f'scale_init must be a number > 0, got {scale_init!r}')
        if not (isinstance(eps, (int, float)) and eps > 0):
            raise ValueError(f'eps must be a number > 0, got {eps!r}')
        if kwargs.get('attn_drop', 0.0):
            raise ValueError(
                'FAMTXNormAttention forms no attention matrix to drop from: attn_drop (the '
                f"backbone's attn_drop_rate) must be 0, got {kwargs['attn_drop']}"
            )
        if kwargs.get('qk_scale') is not None:
            raise ValueError(
                'FAMTXNormAttention has no softmax temperature: qk_scale must be None; its '
                f'scale is scale_init / scale_mode, got qk_scale={kwargs["qk_scale"]}'
            )
        super().__init__(embed_dims, num_heads, **kwargs)
        if embed_dims % num_heads:
            raise ValueError(f'embed_dims ({embed_dims}) must be a multiple of num_heads ({num_heads})')
        self.norm_axis = norm_axis
        self.scale_mode = scale_mode
        self.key_reduction = key_reduction
        self.eps = float(eps)
        init = torch.full((num_heads if scale_mode == 'per_head' else 1,), float(scale_init))
        if scale_mode == 'fixed':
            self.register_buffer('xnorm_scale', init, persistent=False)
        else:
            self.xnorm_scale = nn.Parameter(init)

    @classmethod
    def replacing(cls, attn: MultiheadAttention, **settings) -> 'FAMTXNormAttention':
        """An FAMTXNormAttention in place of a built ``MultiheadAttention`` (a ViT block's ``attn``),
        with its sizes and biases and the very same dropout, drop path and layer scale modules."""
        if attn.attn_drop:
            raise ValueError(
                "FAMTXNormAttention forms no attention matrix to drop from: the backbone's "
                f'attn_drop_rate must be 0, got {attn.attn_drop}'
            )
        new = cls(
            attn.embed_dims,
            attn.num_heads,
            input_dims=attn.input_dims,
            qkv_bias=attn.qkv.bias is not None,
            proj_bias=attn.proj.bias is not None,
            v_shortcut=attn.v_shortcut,
            **settings,
        )
        new.proj_drop, new.out_drop, new.gamma1 = attn.proj_drop, attn.out_drop, attn.gamma1
        return new

    def extra_repr(self) -> str:
        return (
            f'norm_axis={self.norm_axis!r}, scale_mode={self.scale_mode!r}, '
            f'key_reduction={self.key_reduction!r}'
        )

    def normalized_qkv(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``XNorm(Q)``, ``XNorm(K)`` and ``V`` of tokens (B, N, C), each (B, H, N, head_dims)."""
        batch, length, _ = x.shape
        qkv = self.qkv(x).reshape(batch, length, 3, self.num_heads, self.head_dims)
        qk, v = qkv[:, :, :2], qkv[:, :, 2]
        # queries and keys normalised together, in one pass
        if self.norm_axis == 'head_channels':
            qk = F.normalize(qk, dim=-1, eps=self.eps)
        elif self.norm_axis == 'channels':
            qk = F.normalize(qk.flatten(3), dim=-1, eps=self.eps).view_as(qk)
        else:
            qk = F.normalize(qk, dim=1, eps=self.eps)
        q, k = qk.permute(2, 0, 3, 1, 4).unbind(0)
        return q, k, v.transpose(1, 2)

    def head_scale(self, length: int) -> torch.Tensor:
        """The factor of each head's product (1 or H, 1, 1): the scale, over N for ``'mean'``."""
        scale = self.xnorm_scale / length if self.key_reduction == 'mean' else self.xnorm_scale
        return scale.view(-1, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, _ = x.shape
        q, k, v = self.normalized_qkv(x)
        # (B, H, d, d), the associative order: linear in N; the scale on this small matrix
        context = (k.transpose(-2, -1) @ v) * self.head_scale(length).to(v.dtype)
        x = (q @ context).transpose(1, 2).reshape(batch, length, self.embed_dims)
        x = self.out_drop(self.gamma1(self.proj_drop(self.proj(x))))
        if self.v_shortcut:  # as mmpretrain's MultiheadAttention
            x = v.squeeze(1) + x
        return x

    def attention_matrix(self, x: torch.Tensor) -> torch.Tensor:
        """The attention that :meth:`forward` applies, made explicit (B, H, N, N) in fp32: row ``i``
        holds token ``i``'s weights over the values. Signed; rows need not sum to 1."""
        # at least fp32, also under autocast (the refresh scores with the training's AMP)
        dtype = torch.promote_types(x.dtype, torch.float32)
        with torch.autocast(x.device.type, enabled=False):
            q, k, _ = self.normalized_qkv(x.to(dtype))
            return (q.to(dtype) @ k.to(dtype).transpose(-2, -1)) * self.head_scale(x.shape[1]).to(dtype)
