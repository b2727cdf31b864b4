"""FAMT-CAE: the Context Autoencoder on the preprocessor's mask plan.

Stock CAE draws a block-wise patch mask in the data pipeline (``BEiTMaskGenerator``); its encoder
runs on the visible patches only, its regressor queries the masked positions, and the momentum
teacher encodes the masked patches for the alignment target. Here the preprocessor's plan decides
instead, per patch (CAE's mask unit): thrown patches simply appear in neither set, so the encoder,
the regressor's context, the decoder and the loss never see them. The DALL-E targets are computed
on the whole second picture and gathered at the masked patches. With ``throw_ratio=0`` and the same
masked set this is stock CAE.
"""

from typing import Dict, List, Optional

import torch
from mmpretrain.models.selfsup.cae import CAE, CAEPretrainViT
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...core import MaskPlan, gather_tokens
from ..masking.plan_taking import (
    MaskPlanMixin,
    NoPerLayerRelPosBias,
    PlanTakingBackbone,
    check_plain_call,
    check_token_count,
    two_pictures,
)


@MODELS.register_module()
class FAMTCAEPretrainViT(PlanTakingBackbone, NoPerLayerRelPosBias, CAEPretrainViT):
    """CAEPretrainViT taking a :class:`MaskPlan`: it encodes CLS and the visible patches only.

    ``forward(x, mask_plan)`` returns the final-normed tokens ``[CLS, visible...]`` in the plan's
    order (B, 1 + n_visible, D); :meth:`encode_patches` encodes any given patches (the teacher
    encodes the masked ones); ``forward(x)`` (or ``forward(x, mask=None)``, CAE's
    ``extract_feat``) is the plain ViT. Arguments are CAEPretrainViT's; a per-layer relative
    position bias (``use_rel_pos_bias``) is refused: it covers the whole grid in grid order.
    """

    #: the position table is added as built
    fixed_grid = True

    rel_pos_bias_remedy = 'the encoder sees the visible patches only (CAE uses absolute positions)'

    def forward(
        self, x: torch.Tensor, mask_plan: Optional[MaskPlan] = None, mask: Optional[torch.Tensor] = None
    ) -> torch.Tensor:
        if mask_plan is None:
            check_plain_call(self, mask)
            return super().forward(x, None)
        return self.encode_patches(x, mask_plan.visible)

    def encode_patches(self, x: torch.Tensor, patches: torch.Tensor) -> torch.Tensor:
        """Encode CLS and ``patches`` (B, K) of images ``x``: (B, 1 + K, D) tokens in that order.

        Follows CAEPretrainViT.forward of mmpretrain 1.2.0, with ``patches`` in place of the unmasked
        ones."""
        x = self.patch_embed(x)[0]
        pos_embed = self.pos_embed.expand(x.shape[0], -1, -1)
        x = torch.cat(
            (
                self.cls_token.expand(x.shape[0], -1, -1) + pos_embed[:, :1],
                gather_tokens(x, patches) + gather_tokens(pos_embed[:, 1:], patches),
            ),
            dim=1,
        )
        x = self.drop_after_pos(x)
        for i, layer in enumerate(self.layers):
            x = layer(x=x, rel_pos_bias=None)
            if i == len(self.layers) - 1 and self.final_norm:
                x = self.norm1(x)
        return x


@MODELS.register_module()
class FAMTCAE(MaskPlanMixin, CAE):
    """CAE trained on the preprocessor's mask plan (``FAMTCAEPretrainViT``,
    ``FAMTTwoNormDataPreprocessor``).

    The neck's regressor predicts the masked patches from the visible ones; ``CAENeck`` holds a
    fixed number of mask tokens, so ``neck.mask_tokens_num`` must equal the plan's masked count
    (warm-up and guided). The training pipeline needs no ``BEiTMaskGenerator``. Importance maps are
    scored with the backbone's last block (CLS attention). Arguments are CAE's.
    """

    plan_backbones = ('FAMTCAEPretrainViT',)

    def loss(
        self, inputs: List[torch.Tensor], data_samples: List[DataSample], mask_plan: MaskPlan
    ) -> Dict[str, torch.Tensor]:
        image, target_image = two_pictures(inputs, type(self).__name__)
        n_masked = mask_plan.masked.shape[1]
        if n_masked != self.neck.mask_token_num:
            raise ValueError(
                f'the plan masks {n_masked} patches but the neck holds '
                f"mask_tokens_num={self.neck.mask_token_num}: set the neck's "
                'mask_tokens_num to the masked count of mask_ratio (and of '
                'warmup_mask_ratio, which must give the same count)'
            )
        unmasked = self.backbone(image, mask_plan)
        with torch.no_grad():
            latent_target = self.teacher.encode_patches(image, mask_plan.masked)[:, 1:]
            self.momentum_update()
        pos_embed = self.backbone.pos_embed[:, 1:].expand(image.shape[0], -1, -1)
        logits, latent_pred = self.neck(
            unmasked[:, 1:],
            gather_tokens(pos_embed, mask_plan.masked),
            gather_tokens(pos_embed, mask_plan.visible),
        )
        with torch.no_grad():
            target = self.target_generator(target_image).argmax(dim=1).flatten(1)
        check_token_count(target.shape[1], mask_plan.num_patches)
        target = gather_tokens(target, mask_plan.masked).flatten()
        loss_main, loss_align = self.head.loss_module(
            logits.flatten(0, 1), target, latent_pred, latent_target
        )
        return dict(loss=loss_main + loss_align, main=loss_main, align=loss_align)
