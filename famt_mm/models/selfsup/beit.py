"""FAMT-BEiT (v1 and v2): BEiT's [MASK]-token pretraining on the preprocessor's mask plan.

Stock BEiT draws a block-wise patch mask in the data pipeline (``BEiTMaskGenerator``). Here the
preprocessor's plan decides instead, per patch (BEiT's mask unit): masked patches become the [MASK]
token and thrown patches leave the token sequence. BEiTPretrainViT's attention adds a shared
relative position bias over the whole grid (CLS included); each entry depends only on the pair of
positions, so the bias of the kept tokens (CLS, visible, masked) is the full bias with the rows
and columns of the thrown positions taken out, and throwing is exact: the encoder computes what the
stock encoder computes on an image holding only the kept patches. The tokenizer's targets (VQKD for
v2, DALL-E for v1) are computed on the whole second picture and gathered at the masked patches.
With ``throw_ratio=0`` and the same masked set this is stock BEiT.
"""

from typing import Dict, List, Optional, Tuple

import torch
from mmpretrain.models.selfsup.beit import BEiT, BEiTPretrainViT
from mmpretrain.models.utils import resize_pos_embed
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...core import MaskPlan, gather_tokens
from ..masking.plan_taking import (
    MaskPlanMixin,
    NoPerLayerRelPosBias,
    PlanTakingBackbone,
    check_plain_call,
    check_token_count,
    keep_cls_and,
    two_pictures,
    with_mask_tokens,
)


def kept_rel_pos_bias(bias: torch.Tensor, kept: torch.Tensor) -> torch.Tensor:
    """The shared relative position bias among CLS and the kept patches, per image.

    Args:
        bias (torch.Tensor): (H, 1 + L, 1 + L) bias of the whole grid, CLS first.
        kept (torch.Tensor): (B, K) patch indices in [0, L), in token order.

    Returns:
        torch.Tensor: (B, H, 1 + K, 1 + K), CLS first, then ``kept``'s order.
    """
    rows = torch.cat((kept.new_zeros(kept.shape[0], 1), kept + 1), dim=1)
    return bias[:, rows[:, :, None], rows[:, None, :]].transpose(0, 1)


@MODELS.register_module()
class FAMTBEiTPretrainViT(PlanTakingBackbone, NoPerLayerRelPosBias, BEiTPretrainViT):
    """BEiTPretrainViT taking a :class:`MaskPlan`: [MASK] tokens at the masked patches, thrown ones
    removed, the shared relative position bias gathered at the kept positions.

    ``forward(x, mask_plan)`` returns the outputs of ``out_indices`` with tokens ``[CLS,
    visible..., masked...]`` in the plan's order (B, 1 + n_visible + n_masked, D) and leaves the
    gathered bias (B, H, N, N) in ``shared_rel_pos_bias`` for BEiT v2's neck, as the stock model
    does; ``forward(x)`` (or ``forward(x, mask=None)``, BEiT's ``extract_feat``) is the plain ViT.
    Arguments are BEiTPretrainViT's; a per-layer relative position bias (``use_rel_pos_bias``) is
    refused: each layer adds it over the whole grid in grid order.
    """

    rel_pos_bias_remedy = "use the shared one (use_shared_rel_pos_bias=True, BEiT's pretraining setting)"

    def forward(
        self, x: torch.Tensor, mask_plan: Optional[MaskPlan] = None, mask: Optional[torch.Tensor] = None
    ) -> Tuple[torch.Tensor, ...]:
        # follows BEiTPretrainViT.forward of mmpretrain 1.2.0, with the plan's masked patches as
        # [MASK] tokens and its thrown patches (and their rows of the bias) removed
        if mask_plan is None:
            check_plain_call(self, mask)
            return super().forward(x, None)
        x, patch_resolution = self.patch_embed(x)
        x = with_mask_tokens(x, mask_plan, self.mask_token)
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
        if self.pos_embed is not None:
            x = x + resize_pos_embed(
                self.pos_embed,
                self.patch_resolution,
                patch_resolution,
                mode=self.interpolate_mode,
                num_extra_tokens=self.num_extra_tokens,
            )
        # throwing: only CLS, visible and masked tokens go on, with their rows of the bias
        kept = mask_plan.kept
        x = keep_cls_and(x, kept)
        x = self.drop_after_pos(x)
        self.shared_rel_pos_bias = (
            None if self.rel_pos_bias is None else kept_rel_pos_bias(self.rel_pos_bias().to(x.device), kept)
        )
        outs = []
        for i, layer in enumerate(self.layers):
            x = layer(x, rel_pos_bias=self.shared_rel_pos_bias)
            if i == len(self.layers) - 1 and self.final_norm:
                x = self.norm1(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)


@MODELS.register_module()
class FAMTBEiT(MaskPlanMixin, BEiT):
    """BEiT v1 / v2 trained on the preprocessor's mask plan (``FAMTBEiTPretrainViT``,
    ``FAMTTwoNormDataPreprocessor``).

    The head's classifier sees the masked tokens only (the last ``n_masked`` of the backbone's
    output, or of v2's neck outputs); the targets are the tokenizer's codes of the same patches.
    The training pipeline needs no ``BEiTMaskGenerator``. Importance maps are scored with the
    backbone's last block (CLS attention, relative position bias included). Arguments are BEiT's.
    """

    plan_backbones = ('FAMTBEiTPretrainViT',)

    def loss(
        self, inputs: List[torch.Tensor], data_samples: List[DataSample], mask_plan: MaskPlan
    ) -> Dict[str, torch.Tensor]:
        image, target_image = two_pictures(inputs, type(self).__name__)
        latent = self.backbone(image, mask_plan)
        with torch.no_grad():
            target = self.target_generator(target_image).detach()
        if not self.with_neck:  # BEiT v1: DALL-E logits (B, vocab, h, w)
            target = target.argmax(dim=1).flatten(1)
        check_token_count(target.shape[1], mask_plan.num_patches)
        target = gather_tokens(target, mask_plan.masked).flatten()
        n_masked = mask_plan.masked.shape[1]
        head = self.head
        if not self.with_neck:
            logits = head.cls_head(latent[0][:, -n_masked:].flatten(0, 1))
            return dict(loss=head.loss_module(logits, target))
        # BEiT v2: the neck's patch aggregation attends with the same gathered bias
        feats, feats_cls_pt = self.neck(latent, rel_pos_bias=self.backbone.shared_rel_pos_bias)
        loss_1 = head.loss_module(head.cls_head(feats[:, -n_masked:].flatten(0, 1)), target)
        loss_2 = head.loss_module(head.cls_head(feats_cls_pt[:, -n_masked:].flatten(0, 1)), target)
        return dict(loss_1=loss_1, loss_2=loss_2)
