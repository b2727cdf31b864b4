"""Importance scoring of whole images with the last block of an mmpretrain ViT or Swin backbone (or
an X-ViT), or with the last stage of a CNN (ResNet, ConvNeXt)."""

from typing import Callable, NamedTuple, Optional, Tuple

import torch
import torch.nn.functional as F
from mmpretrain.models import ConvNeXt, ResNet, SwinTransformer
from mmpretrain.models.utils.attention import BEiTAttention
from torch import nn

from ...core import signed_attention_rows, softmax_attention
from ..layers import FAMTXNormAttention


def _run_capturing_last_block(
    vit: nn.Module, images: torch.Tensor, forward: Optional[Callable[[torch.Tensor], object]]
) -> dict:
    """Run ``vit`` on whole images (``forward``, or ``vit(images)``) and capture its last block's
    attention input ``x``, the relative position bias passed to that attention (BEiT; else None)
    and the block's output ``tokens``."""
    last = vit.layers[-1]
    captured = {}

    def capture_attention_input(module, args, kwargs, out):
        captured['x'] = args[0]
        captured['rel_pos_bias'] = kwargs.get('rel_pos_bias', args[1] if len(args) > 1 else None)

    hooks = [
        last.attn.register_forward_hook(capture_attention_input, with_kwargs=True),
        last.register_forward_hook(lambda m, args, out: captured.__setitem__('tokens', out)),
    ]
    try:
        (forward or vit)(images)
    finally:
        for hook in hooks:
            hook.remove()
    return captured


def last_block_attention(
    vit: nn.Module, images: torch.Tensor, forward: Optional[Callable[[torch.Tensor], object]] = None
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
    captured = _run_capturing_last_block(vit, images, forward)
    attn_module = vit.layers[-1].attn
    x = captured['x']
    batch, length, _ = x.shape
    qkv = attn_module.qkv(x).reshape(batch, length, 3, attn_module.num_heads, attn_module.head_dims)
    q, k = qkv.permute(2, 0, 3, 1, 4)[:2]
    # mmpretrain's MultiheadAttention always scales by head_dims ** -0.5 (also when qk_scale is set)
    return softmax_attention(q, k, attn_module.head_dims**-0.5), captured['tokens']


def swin_last_block_attention(
    swin: SwinTransformer, images: torch.Tensor, forward: Optional[Callable[[torch.Tensor], object]] = None
) -> Tuple[torch.Tensor, torch.Tensor, Tuple[int, int]]:
    """Run a Swin backbone on whole images; return its last block's attention, tokens and grid.

    Swin's window attention materialises its softmax, so the probabilities (relative position bias
    included) are read from the last block's ``softmax`` module. The last stage must be a single
    window (true for Swin at 192 and 224 px, whose last stage is 6x6 / 7x7 with windows of that size),
    so the attention covers every token: (B, H, N, N), tokens (B, N, C), grid (h, w) with N = h * w.
    """
    last = swin.stages[-1].blocks[-1]
    captured = {}
    hooks = [
        last.attn.w_msa.softmax.register_forward_hook(lambda m, args, out: captured.__setitem__('attn', out)),
        last.register_forward_hook(lambda m, args, out: captured.update(tokens=out, grid=tuple(args[1]))),
    ]
    try:
        (forward or swin)(images)
    finally:
        for hook in hooks:
            hook.remove()
    attn, tokens, grid = captured['attn'], captured['tokens'], captured['grid']
    if attn.shape[0] != images.shape[0] or attn.shape[-1] != grid[0] * grid[1]:
        raise ValueError(
            f'scoring needs the last Swin stage to be one window, but its {grid[0]}x'
            f'{grid[1]} map is split into windows of {int(attn.shape[-1] ** 0.5)} tokens a '
            'side: set the last stage window_size to the map size'
        )
    return attn.float(), tokens, grid


def cnn_last_stage_tokens(model: nn.Module, images: torch.Tensor) -> Tuple[torch.Tensor, Tuple[int, int]]:
    """The last feature map of a CNN backbone on whole images as tokens (B, h * w, C), and (h, w).

    ``model.extract_feat(images)`` must return the backbone's feature maps, the last one the last
    stage's (B, C, h, w); each of its positions becomes one token, row-major.
    """
    feature_map = model.extract_feat(images)[-1]
    if feature_map.dim() != 4:
        raise ValueError(
            f'scoring a CNN needs its last feature map (B, C, h, w), got shape {tuple(feature_map.shape)}'
        )
    return feature_map.flatten(2).transpose(1, 2), tuple(feature_map.shape[-2:])


class LastBlock(NamedTuple):
    """What the importance formulas read from a backbone run on whole images.

    Attributes:
        attn: (B, H, N, N) softmax attention of the last block, or ``None`` for a CNN (no attention).
        tokens: (B, N, D) output tokens of the last block (a CNN's last feature map, one token per
            position).
        grid: (h, w) of the patch tokens, ``h * w`` of them.
        cls_token: whether token 0 of ``attn`` and ``tokens`` is a CLS token.
        backbone: the backbone's class name, for messages.
    """

    attn: Optional[torch.Tensor]
    tokens: torch.Tensor
    grid: Tuple[int, int]
    cls_token: bool
    backbone: str


def read_last_block(model: nn.Module, images: torch.Tensor) -> LastBlock:
    """Run the model's backbone on whole images and read its last block (one pass).

    ViT backbones give one weight per patch and have a CLS token; Swin backbones one per token of the
    last stage (no CLS token); CNNs (ResNet, ConvNeXt) one per position of the last stage's map, with
    no attention at all. X-ViT backbones (``FAMTXNormAttention`` blocks) give their last block's signed
    attention as rows that the formulas take like softmax rows (:func:`xnorm_last_block_attention`).
    """
    backbone = model.backbone
    name = type(backbone).__name__
    if isinstance(backbone, (ResNet, ConvNeXt)):
        tokens, grid = cnn_last_stage_tokens(model, images)
        return LastBlock(None, tokens, grid, False, name)
    if isinstance(backbone, SwinTransformer):
        attn, tokens, grid = swin_last_block_attention(backbone, images, model.extract_feat)
        return LastBlock(attn, tokens, grid, False, name)
    last_attn = backbone.layers[-1].attn
    attention = (
        beit_last_block_attention
        if isinstance(last_attn, BEiTAttention)
        else xnorm_last_block_attention
        if isinstance(last_attn, FAMTXNormAttention)
        else last_block_attention
    )
    attn, tokens = attention(backbone, images, model.extract_feat)
    stride = backbone.patch_embed.projection.stride
    grid = (images.shape[-2] // stride[0], images.shape[-1] // stride[1])
    return LastBlock(attn, tokens, grid, True, name)


def needs_attention(mask_generator) -> bool:
    """Whether the generator's weights read attention (all but FAMT's frequency-only weights)."""
    return getattr(mask_generator, 'weight_source', None) != 'frequency'


def weights_of(block: LastBlock, mask_generator) -> torch.Tensor:
    """(B, h, w) importance maps of the generator's formula on a :class:`LastBlock`."""
    if block.attn is None and needs_attention(mask_generator):
        raise ValueError(
            f'{block.backbone} has no attention: score it with '
            "FAMTMaskGenerator(weight_source='frequency'), got "
            f'{mask_generator!r}'
        )
    weights = mask_generator.importance(block.attn, block.tokens, cls_token=block.cls_token)
    return weights.float().reshape(block.tokens.shape[0], *block.grid)


def score_images(model: nn.Module, images: torch.Tensor, mask_generator) -> torch.Tensor:
    """(B, h, w) importance maps of whole images from the model's backbone and the generator: the
    refresh hook's scoring, and the figures'. See :func:`read_last_block`."""
    return weights_of(read_last_block(model, images), mask_generator)


def beit_last_block_attention(
    vit: nn.Module, images: torch.Tensor, forward: Optional[Callable[[torch.Tensor], object]] = None
) -> Tuple[torch.Tensor, torch.Tensor]:
    """:func:`last_block_attention` for BEiT-style blocks (``BEiTAttention``: BEiT, BEiT v2, CAE).

    Their attention adds q / v biases (``bias='qv_bias'``) and relative position biases (the
    layer's own table, or the backbone's shared one, passed as ``rel_pos_bias``), all of which the
    materialised fp32 softmax attention (B, H, N, N) includes. Tokens are the last block's output.
    """
    captured = _run_capturing_last_block(vit, images, forward)
    attn = vit.layers[-1].attn
    x = captured['x']
    batch, length, _ = x.shape
    qkv_bias = attn.qkv.bias
    if attn.bias == 'qv_bias':
        qkv_bias = torch.cat((attn.q_bias, torch.zeros_like(attn.v_bias), attn.v_bias))
    qkv = F.linear(x, attn.qkv.weight, qkv_bias).reshape(batch, length, 3, attn.num_heads, -1)
    q, k = qkv.permute(2, 0, 3, 1, 4)[:2]
    bias = None
    if attn.relative_position_bias_table is not None:
        size = attn.window_size[0] * attn.window_size[1] + 1
        table = attn.relative_position_bias_table[attn.relative_position_index.view(-1)]
        bias = table.view(size, size, -1).permute(2, 0, 1).float()
    if captured['rel_pos_bias'] is not None:
        shared = captured['rel_pos_bias'].float()
        bias = shared if bias is None else bias + shared
    return softmax_attention(q, k, attn.scale, bias), captured['tokens']


def xnorm_last_block_attention(
    vit: nn.Module, images: torch.Tensor, forward: Optional[Callable[[torch.Tensor], object]] = None
) -> Tuple[torch.Tensor, torch.Tensor]:
    """:func:`last_block_attention` for X-ViT blocks (``FAMTXNormAttention``).

    Only the last block's attention is made explicit, as the N x N matrix ``s * XNorm(Q) XNorm(K)^T``
    (:meth:`FAMTXNormAttention.attention_matrix`, from the input its attention module received); it has no
    softmax, so :func:`famt_mm.core.signed_attention_rows` turns its rows into non-negative rows summing
    to 1 as the backbone's ``score_attention`` says (``'clip'`` when it has none) before AMT's or FAMT's
    formula reads them. Tokens are the last block's output (B, N, D).
    """
    captured = _run_capturing_last_block(vit, images, forward)
    signed = vit.layers[-1].attn.attention_matrix(captured['x'])
    return signed_attention_rows(signed, getattr(vit, 'score_attention', 'clip')), captured['tokens']
