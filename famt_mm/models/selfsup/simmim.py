"""FAMT-SimMIM: guided masking and real throwing for a plain ViT, guided masking for Swin.

ViT: masked patches become the learnable [MASK] token, thrown patches are removed from the token sequence
after the position embedding (the encoder really processes CLS + L - thrown tokens), SimMIM's linear
decoder predicts the pixels of the masked patches, L1 loss on those pixels only. With ``throw_ratio=0``
this is ordinary SimMIM with a ViT. Swin needs its full window grid, so there FAMT only chooses the
masked units (the plan must throw nothing) and the stock SimMIM path runs (``FAMTSimMIMSwin``).
Both backbones take the plan the same way, ``backbone(x, mask_plan)``.
"""

from typing import Dict, List, Optional, Sequence

import torch
from mmpretrain.models import SimMIM, SimMIMLinearDecoder, SimMIMSwinTransformer, VisionTransformer
from mmpretrain.models.utils import resize_pos_embed
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import nn

from ...core import MaskPlan, gather_tokens
from ..masking.plan_taking import (
    MaskPlanMixin,
    PlanTakingBackbone,
    check_plain_call,
    keep_cls_and,
    with_mask_tokens,
)


def patchify_chw(images: torch.Tensor, patch_size: int) -> torch.Tensor:
    """(B, C, H, W) -> (B, L, C * p * p) with each patch's pixels in (channel, row, column) order,
    the order of SimMIM's pixel-shuffle decoder."""
    batch, channels, height, width = images.shape
    p = patch_size
    patches = images.reshape(batch, channels, height // p, p, width // p, p)
    return patches.permute(0, 2, 4, 1, 3, 5).reshape(batch, (height // p) * (width // p), -1)


@MODELS.register_module()
class FAMTSimMIMViT(PlanTakingBackbone, VisionTransformer):
    """VisionTransformer for SimMIM with a [MASK] token and thrown patches removed.

    ``forward(x, mask_plan)`` returns the final-normed tokens ``[CLS, visible..., masked...]`` in
    the plan's order (B, 1 + n_visible + n_masked, D); ``forward(x)`` (or ``forward(x, mask=None)``,
    the call SimMIM's ``extract_feat`` makes) is the plain ViT (``out_type='raw'`` by default, for
    scoring and probing). Arguments are VisionTransformer's.
    """

    def __init__(self, *args, out_type: str = 'raw', **kwargs):
        super().__init__(*args, out_type=out_type, with_cls_token=True, **kwargs)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, self.embed_dims))

    def init_weights(self) -> None:
        super().init_weights()
        if not (isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained'):
            nn.init.trunc_normal_(self.mask_token, std=0.02)
            nn.init.trunc_normal_(self.cls_token, std=0.02)
            nn.init.trunc_normal_(self.pos_embed, std=0.02)

    def forward(
        self, x: torch.Tensor, mask_plan: Optional[MaskPlan] = None, mask: Optional[torch.Tensor] = None
    ):
        # follows VisionTransformer.forward of mmpretrain 1.2.0, with the plan's masked patches as
        # [MASK] tokens and its thrown patches removed after the position embedding
        if mask_plan is None:
            check_plain_call(self, mask)
            return super().forward(x)
        x, patch_resolution = self.patch_embed(x)
        x = with_mask_tokens(x, mask_plan, self.mask_token)
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
        x = x + resize_pos_embed(
            self.pos_embed,
            self.patch_resolution,
            patch_resolution,
            mode=self.interpolate_mode,
            num_extra_tokens=self.num_extra_tokens,
        )
        # throwing: only CLS, visible and masked tokens go on, after the position embedding
        x = keep_cls_and(x, mask_plan.kept)
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
class FAMTSimMIMSwin(PlanTakingBackbone, SimMIMSwinTransformer):
    """mmpretrain's SimMIMSwinTransformer taking a :class:`MaskPlan` (masking only, no throwing).

    Window attention needs every position of the grid, so a plan that throws is an error.
    ``forward(x, mask_plan)`` turns the plan into SimMIM's dense (B, h, w) patch mask and runs the
    stock masked path (a tuple of feature maps); ``forward(x)`` (or ``forward(x, mask=None)``, as
    SimMIM's ``extract_feat`` calls it) is the plain Swin. Arguments are SimMIMSwinTransformer's.
    """

    #: every position stays in the window grid
    can_throw = False
    throw_refusal = 'window attention needs every patch position'

    def forward(
        self, x: torch.Tensor, mask_plan: Optional[MaskPlan] = None, mask: Optional[torch.Tensor] = None
    ) -> Sequence[torch.Tensor]:
        if mask_plan is None:
            check_plain_call(self, mask)
            return super().forward(x, None)
        return super().forward(x, self.patch_mask(x, mask_plan))

    def patch_mask(self, x: torch.Tensor, mask_plan: MaskPlan) -> torch.Tensor:
        """(B, h, w) 0/1 mask of the plan's masked patches on the patch grid of images ``x``."""
        patch = self.plan_patch_size
        return mask_plan.dense((x.shape[-2] // patch, x.shape[-1] // patch), dtype=x.dtype)


@MODELS.register_module()
class FAMTSimMIM(MaskPlanMixin, SimMIM):
    """SimMIM trained on the preprocessor's mask plan.

    With ``FAMTSimMIMViT`` + ``FAMTSimMIMLinearDecoder``: masking and throwing, the decoder applied to
    the masked tokens only; with ``FAMTSimMIMSwin`` + mmpretrain's ``SimMIMLinearDecoder``: guided
    masking only (a mask generator that throws is an error at build time), the stock SimMIM loss on
    the decoded image. The head is mmpretrain's ``SimMIMHead`` (L1 on masked pixels).
    """

    plan_backbones = ('FAMTSimMIMViT', 'FAMTSimMIMSwin')

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # chosen once: thrown tokens are gone from a throwing backbone's output, so its loss is
        # computed on the masked tokens; the others decode the whole image as stock SimMIM
        self._plan_loss = self._masked_token_loss if self.backbone.can_throw else self._dense_loss

    def loss(
        self, inputs: torch.Tensor, data_samples: List[DataSample], mask_plan: MaskPlan
    ) -> Dict[str, torch.Tensor]:
        return dict(loss=self._plan_loss(inputs, mask_plan))

    def _masked_token_loss(self, inputs: torch.Tensor, mask_plan: MaskPlan) -> torch.Tensor:
        tokens = self.backbone(inputs, mask_plan)
        pred = self.neck.forward_tokens(tokens[:, -mask_plan.masked.shape[1] :])
        target = gather_tokens(patchify_chw(inputs, self.backbone.plan_patch_size), mask_plan.masked)
        return self.head.loss_module(pred, target)

    def _dense_loss(self, inputs: torch.Tensor, mask_plan: MaskPlan) -> torch.Tensor:
        latent = self.backbone(inputs, mask_plan)
        mask = self.backbone.patch_mask(inputs, mask_plan)
        return self.head.loss(self.neck(latent[0]), inputs, mask)
