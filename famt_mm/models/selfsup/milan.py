"""FAMT-MILAN: MILAN (CLIP-feature targets, prompting decoder) on the preprocessor's mask plan.

Stock MILAN draws, each step, which patches stay visible from its CLIP teacher's last-layer CLS
attention (``MILANViT.attention_masking``); the same teacher gives the targets. Here the teacher gives
the targets only (its attention is ignored) and the preprocessor's plan decides: the encoder sees CLS +
the visible patches, the prompting decoder updates mask tokens at the masked patches only (they attend
to CLS, the visible and the masked tokens; visible tokens are not updated, as in MILAN), and the cosine
loss covers every token the decoder holds, as stock MILAN's covers all of them: CLS, visible and
masked. Thrown patches reach neither the encoder, the decoder nor the loss (the teacher still reads the
whole image: its targets are features in context). With ``throw_ratio=0`` and the same index sets
this is stock MILAN.
"""

from typing import Dict, List, Optional

import torch
from mmpretrain.models.necks.milan_neck import MILANPretrainDecoder
from mmpretrain.models.selfsup.milan import MILAN
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...core import MaskPlan
from ..masking.plan_taking import (
    GridFromBackbone,
    MaskPlanMixin,
    check_plain_call,
    keep_cls_and,
    plan_decoder_tokens,
)
from .mae import FAMTMAEViT


@MODELS.register_module()
class FAMTMILANViT(FAMTMAEViT):
    """The MILAN encoder taking a :class:`MaskPlan` instead of the teacher's importance.

    Stock ``MILANViT`` is ``MAEViT`` whose masking is drawn from ``importance``; with the plan deciding,
    it is :class:`FAMTMAEViT` (the same weights) that also takes MILAN's keyword: ``forward(x,
    mask_plan)`` encodes CLS + the visible patches, ``forward(x)`` or ``forward(x, importance=None)``
    (the call of MILAN's ``extract_feat``) is the plain ViT on whole images, for feature extraction
    and importance scoring. Arguments are MAEViT's; ``mask_ratio`` is unused.
    """

    def forward(
        self, x: torch.Tensor, mask_plan: Optional[MaskPlan] = None, importance: Optional[torch.Tensor] = None
    ):
        check_plain_call(self, importance, 'importance')
        return super().forward(x, mask_plan)


@MODELS.register_module()
class FAMTMILANPretrainDecoder(GridFromBackbone, MILANPretrainDecoder):
    """MILAN's prompting decoder over CLS + the visible patches + mask tokens at the masked ones.

    Each prompt block updates the mask tokens only, attending to all tokens it holds; stock MILAN
    puts them in grid order with ``ids_restore``, here that order is the one of the kept (visible and
    masked) patches, so thrown positions are never created. Returns the predicted features
    (B, 1 + n_visible + n_masked, predict_feature_dim) in the order ``[CLS, visible..., masked...]``.
    Arguments are MILANPretrainDecoder's; ``num_patches`` follows the backbone and may be left out.
    """

    def forward(self, x: torch.Tensor, visible_ids: torch.Tensor, masked_ids: torch.Tensor) -> torch.Tensor:
        # follows MILANPretrainDecoder.forward of mmpretrain 1.2.0 over the kept patches only
        x = plan_decoder_tokens(self, x, visible_ids, masked_ids)
        n_context = 1 + visible_ids.shape[1]
        context, masked = x[:, :n_context], x[:, n_context:]
        # argsort of the kept ids: the prompt attention's ids_restore over the kept patches only
        restore = torch.cat((visible_ids, masked_ids), dim=1).argsort(dim=1)
        for block in self.decoder_blocks:
            masked = block(masked, context, restore)
        return self.decoder_pred(self.decoder_norm(torch.cat((context, masked), dim=1)))


@MODELS.register_module()
class FAMTMILAN(MaskPlanMixin, MILAN):
    """MILAN trained on the preprocessor's mask plan (``FAMTMILANViT``,
    ``FAMTMILANPretrainDecoder``, mmpretrain's ``MIMHead`` and ``CLIPGenerator``,
    ``FAMTDataPreprocessor``).

    The CLIP teacher gives the targets; its CLS attention, which draws stock MILAN's visible set, is
    not used: importance maps are scored from the student encoder's last block, as for FAMT-MAE.
    Arguments are MILAN's.
    """

    plan_backbones = ('FAMTMILANViT',)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not isinstance(self.neck, FAMTMILANPretrainDecoder):
            raise TypeError(
                f"FAMTMILAN needs neck=dict(type='FAMTMILANPretrainDecoder', ...), got "
                f'{type(self.neck).__name__}'
            )
        self.neck.follow_backbone(self.backbone.num_patches, self.backbone.plan_patch_size)
        if getattr(self, 'target_generator', None) is None:
            raise TypeError(
                "FAMTMILAN needs target_generator=dict(type='CLIPGenerator', ...): the "
                'CLIP teacher gives its targets'
            )

    def loss(
        self, inputs: torch.Tensor, data_samples: List[DataSample], mask_plan: MaskPlan
    ) -> Dict[str, torch.Tensor]:
        clip_features, _ = self.target_generator(inputs)  # the teacher's attention is not used
        check_teacher_tokens(clip_features.shape[1], mask_plan.num_patches)
        latent = self.backbone(inputs, mask_plan)
        pred = self.neck(latent, mask_plan.visible, mask_plan.masked)
        if pred.shape[-1] != clip_features.shape[-1]:
            raise ValueError(
                f'the decoder predicts {pred.shape[-1]} features per token but the '
                f"teacher gives {clip_features.shape[-1]}: set the neck's "
                'predict_feature_dim to the CLIP output dimension'
            )
        target = keep_cls_and(clip_features, mask_plan.kept)
        return dict(loss=self.head.loss(pred, target))


def check_teacher_tokens(num_tokens: int, num_patches: int) -> None:
    """Refuse a teacher whose token grid (CLS included) is not the student's patch grid."""
    if num_tokens != num_patches + 1:
        raise ValueError(
            f'the CLIP teacher gives {num_tokens - 1} patch tokens per image but the '
            f"plan covers {num_patches} patches: the teacher needs the backbone's image "
            'and patch size (CLIP ViT-B/16 at 224 px: 196)'
        )
