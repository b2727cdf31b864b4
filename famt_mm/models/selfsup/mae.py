"""FAMT-MAE: small overrides of mmpretrain's MAEViT, MAEPretrainDecoder and MAE.

The encoder sees only the visible patches (+ CLS); the decoder sees CLS + visible tokens + mask tokens
at the masked positions only (thrown positions are never created); the loss covers masked patches only.
With ``throw_ratio=0`` and the same index sets this is stock MAE.
"""

from typing import Dict, List, Optional

import torch
from mmpretrain.models import MAE, MAEPretrainDecoder, MAEViT
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...core import MaskPlan, gather_tokens
from ..masking.plan_taking import (
    GridFromBackbone,
    MaskPlanMixin,
    PlanTakingBackbone,
    check_plain_call,
    plan_decoder_tokens,
)


@MODELS.register_module()
class FAMTMAEViT(PlanTakingBackbone, MAEViT):
    """MAEViT whose masking comes from a :class:`MaskPlan` instead of its own random draw.

    ``forward(x, mask_plan)`` encodes CLS + the plan's visible patches only; ``forward(x)`` (or
    ``forward(x, mask=None)``, the call of MAE's ``extract_feat``) is the plain ViT on whole images,
    for feature extraction and importance scoring. MAEViT's ``mask_ratio`` argument is accepted but
    unused: the counts come from the preprocessor's mask generator.
    """

    #: the position table is added as built
    fixed_grid = True

    def forward(self, x: torch.Tensor, mask_plan: Optional[MaskPlan] = None, mask: Optional[bool] = None):
        # follows MAEViT.forward of mmpretrain 1.2.0, with the plan's visible patches in place of
        # its random_masking
        if mask_plan is None:
            check_plain_call(self, mask)
            return super().forward(x, mask=None)
        x = self.patch_embed(x)[0] + self.pos_embed[:, 1:, :]
        x = gather_tokens(x, mask_plan.visible)
        cls_token = (self.cls_token + self.pos_embed[:, :1, :]).expand(x.shape[0], -1, -1)
        x = torch.cat((cls_token, x), dim=1)
        for layer in self.layers:
            x = layer(x)
        return self.norm1(x)


@MODELS.register_module()
class FAMTMAEPretrainDecoder(GridFromBackbone, MAEPretrainDecoder):
    """MAE decoder over CLS + visible tokens + mask tokens at the masked positions only.

    Position embeddings are gathered per sample, so thrown positions cost nothing. Returns the pixel
    predictions of the masked patches (B, n_masked, patch_size**2 * in_chans), in ``masked_ids`` order.
    Arguments are MAEPretrainDecoder's; ``num_patches`` and ``patch_size`` follow the backbone and
    may be left out.
    """

    def __init__(self, *args, predict_feature_dim: Optional[int] = None, **kwargs):
        super().__init__(*args, predict_feature_dim=predict_feature_dim, **kwargs)
        self.predicts_pixels = predict_feature_dim is None

    def forward(self, x: torch.Tensor, visible_ids: torch.Tensor, masked_ids: torch.Tensor) -> torch.Tensor:
        # follows MAEPretrainDecoder.forward of mmpretrain 1.2.0, without the un-shuffle to the full grid
        x = plan_decoder_tokens(self, x, visible_ids, masked_ids)
        for block in self.decoder_blocks:
            x = block(x)
        x = self.decoder_norm(x[:, -masked_ids.shape[1] :, :])
        return self.decoder_pred(x)


@MODELS.register_module()
class FAMTMAE(MaskPlanMixin, MAE):
    """MAE trained on the preprocessor's mask plan: masked and thrown patches as FAMT defines them.

    Use with ``FAMTMAEViT``, ``FAMTMAEPretrainDecoder``, mmpretrain's ``MAEPretrainHead`` and
    ``FAMTDataPreprocessor``; the refresh hook scores images with the backbone's last block. The
    decoder's patch count and patch size and the head's patch size follow the backbone.
    """

    plan_backbones = ('FAMTMAEViT', 'FAMTMAEXViT')
    #: the decoders whose inputs follow the plan, named in the refusal of any other neck
    plan_necks = ('FAMTMAEPretrainDecoder',)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not isinstance(self.neck, GridFromBackbone):
            raise TypeError(
                f"{type(self).__name__} needs a decoder that takes the plan's positions: "
                f"neck=dict(type='{' or '.join(self.plan_necks)}', ...), got "
                f'{type(self.neck).__name__}'
            )
        patch_size = self.backbone.plan_patch_size
        self.neck.follow_backbone(self.backbone.num_patches, patch_size)
        self.head.patch_size = patch_size  # MAEPretrainHead patchifies the target with it

    def loss(
        self, inputs: torch.Tensor, data_samples: List[DataSample], mask_plan: MaskPlan
    ) -> Dict[str, torch.Tensor]:
        latent = self.backbone(inputs, mask_plan)
        pred = self.neck(latent, mask_plan.visible, mask_plan.masked)
        target = gather_tokens(self.head.construct_target(inputs), mask_plan.masked)
        loss = self.head.loss_module(pred, target, pred.new_ones(pred.shape[:2]))
        return dict(loss=loss)
