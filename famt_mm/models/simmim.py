"""FAMT-SimMIM: guided masking and real throwing for a plain ViT, guided masking for Swin.

ViT: masked patches become the learnable [MASK] token, thrown patches are removed from the token sequence
after the position embedding (the encoder really processes CLS + L - thrown tokens), SimMIM's linear
decoder predicts the pixels of the masked patches, L1 loss on those pixels only. With ``throw_ratio=0``
this is ordinary SimMIM with a ViT. Swin needs its full window grid, so there FAMT only chooses the
masked units (the plan must throw nothing) and the stock SimMIM path runs.
"""
from typing import Dict, List, Optional, Sequence

import torch
from mmpretrain.models import SimMIM, SimMIMLinearDecoder, VisionTransformer
from mmpretrain.models.utils import resize_pos_embed
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import nn

from ..core import MaskPlan, gather_tokens
from .planned import MaskPlanMixin


def patchify_chw(images: torch.Tensor, patch_size: int) -> torch.Tensor:
    """(B, C, H, W) -> (B, L, C * p * p) with each patch's pixels in (channel, row, column) order,
    the order of SimMIM's pixel-shuffle decoder."""
    batch, channels, height, width = images.shape
    p = patch_size
    patches = images.reshape(batch, channels, height // p, p, width // p, p)
    return patches.permute(0, 2, 4, 1, 3, 5).reshape(batch, (height // p) * (width // p), -1)


@MODELS.register_module()
class FAMTSimMIMViT(VisionTransformer):
    """VisionTransformer for SimMIM with a [MASK] token and thrown patches removed.

    ``forward(x, mask)`` with a :class:`MaskPlan` returns the final-normed tokens
    ``[CLS, visible..., masked...]`` in the plan's order (B, 1 + n_visible + n_masked, D); with
    ``mask=None`` it is the plain ViT (``out_type='raw'`` by default, for scoring and probing), the
    call SimMIM's ``extract_feat`` makes. Arguments are VisionTransformer's.
    """

    def __init__(self, *args, out_type: str = 'raw', **kwargs):
        super().__init__(*args, out_type=out_type, with_cls_token=True, **kwargs)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, self.embed_dims))

    def init_weights(self) -> None:
        super().init_weights()
        if not (isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained'):
            nn.init.trunc_normal_(self.mask_token, std=.02)
            nn.init.trunc_normal_(self.cls_token, std=.02)
            nn.init.trunc_normal_(self.pos_embed, std=.02)

    def forward(self, x: torch.Tensor, mask: Optional[MaskPlan] = None):
        if mask is None:
            return super().forward(x)
        mask_plan = mask
        x, patch_resolution = self.patch_embed(x)
        batch, length, _ = x.shape
        is_masked = torch.zeros(batch, length, 1, device=x.device, dtype=x.dtype)
        is_masked.scatter_(1, mask_plan.masked[..., None], 1.0)
        x = x * (1.0 - is_masked) + self.mask_token.to(x.dtype) * is_masked
        x = torch.cat((self.cls_token.expand(batch, -1, -1), x), dim=1)
        x = x + resize_pos_embed(self.pos_embed, self.patch_resolution, patch_resolution,
                                 mode=self.interpolate_mode, num_extra_tokens=self.num_extra_tokens)
        # throwing: only CLS, visible and masked tokens go on, after the position embedding
        kept = torch.cat((mask_plan.visible, mask_plan.masked), dim=1)
        x = torch.cat((x[:, :1], gather_tokens(x[:, 1:], kept)), dim=1)
        x = self.pre_norm(self.drop_after_pos(x))
        for layer in self.layers:
            x = layer(x)
        return self.ln1(x) if self.final_norm else x


@MODELS.register_module()
class FAMTSimMIMLinearDecoder(SimMIMLinearDecoder):
    """SimMIM's 1x1 conv + pixel-shuffle decoder, also applicable to a subset of tokens.

    A 1x1 convolution followed by PixelShuffle(p) is one linear map per token to its ``p x p`` pixels;
    ``forward_tokens`` applies it to (B, n, D) tokens, giving (B, n, 3 * p * p) in the order of
    :func:`patchify_chw`. Weights are those of ``SimMIMLinearDecoder``.
    """

    def forward_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        conv = self.decoder[0]
        return nn.functional.linear(tokens, conv.weight.flatten(1), conv.bias)


@MODELS.register_module()
class FAMTSimMIM(MaskPlanMixin, SimMIM):
    """SimMIM trained on the preprocessor's mask plan.

    With ``FAMTSimMIMViT`` + ``FAMTSimMIMLinearDecoder``: masking and throwing; with mmpretrain's
    ``SimMIMSwinTransformer`` + ``SimMIMLinearDecoder``: guided masking only (a plan that throws is an
    error). The head is mmpretrain's ``SimMIMHead`` (L1 on masked pixels).
    """

    def loss(self, inputs: torch.Tensor, data_samples: List[DataSample],
             mask_plan: MaskPlan) -> Dict[str, torch.Tensor]:
        if isinstance(self.backbone, FAMTSimMIMViT):
            tokens = self.backbone(inputs, mask_plan)
            pred = self.neck.forward_tokens(tokens[:, -mask_plan.masked.shape[1]:])
            patch_size = self.backbone.patch_embed.projection.stride[0]
            target = gather_tokens(patchify_chw(inputs, patch_size), mask_plan.masked)
            return dict(loss=self.head.loss_module(pred, target))
        if mask_plan.thrown.shape[1]:
            raise ValueError(f'{type(self.backbone).__name__} needs every patch position (window '
                             'attention): throw_ratio must be 0 for this backbone')
        mask = self._patch_mask(inputs, mask_plan)
        latent = self.backbone(inputs, mask)
        return dict(loss=self.head.loss(self.neck(latent[0]), inputs, mask))

    def _patch_mask(self, inputs: torch.Tensor, mask_plan: MaskPlan) -> torch.Tensor:
        """(B, h, w) 0/1 mask of the masked patches on the backbone's patch grid."""
        stride: Sequence[int] = self.backbone.patch_embed.projection.stride
        grid = (inputs.shape[-2] // stride[0], inputs.shape[-1] // stride[1])
        mask = inputs.new_zeros(inputs.shape[0], grid[0] * grid[1])
        mask.scatter_(1, mask_plan.masked, 1.0)
        return mask.reshape(-1, *grid)
