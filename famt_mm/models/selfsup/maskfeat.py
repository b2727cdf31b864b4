"""FAMT-MaskFeat: MaskFeat (HOG targets of [MASK]-token patches) on the preprocessor's mask plan.

Stock MaskFeat draws a block-wise patch mask in the data pipeline (``BEiTMaskGenerator``). Here the
preprocessor's plan decides instead, per patch (MaskFeat's mask unit): masked patches become the
[MASK] token, thrown patches leave the token sequence after the position embedding (a plain ViT
needs no fixed grid), and the HOG features of the masked patches are predicted. With
``throw_ratio=0`` and the same masked set this is stock MaskFeat.
"""

from typing import Dict, List, Optional

import torch
from mmpretrain.models.selfsup.maskfeat import MaskFeat, MaskFeatViT
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...core import MaskPlan, gather_tokens
from ..masking.plan_taking import (
    MaskPlanMixin,
    PlanTakingBackbone,
    check_plain_call,
    keep_cls_and,
    with_mask_tokens,
)


@MODELS.register_module()
class FAMTMaskFeatViT(PlanTakingBackbone, MaskFeatViT):
    """MaskFeatViT taking a :class:`MaskPlan`: [MASK] tokens at the masked patches, thrown ones removed.

    ``forward(x, mask_plan)`` returns the final-normed tokens ``[CLS, visible..., masked...]`` in the
    plan's order (B, 1 + n_visible + n_masked, D); ``forward(x)`` (or ``forward(x, mask=None)``, the
    call of MaskFeat's ``extract_feat``) is the plain ViT. Arguments are MaskFeatViT's.
    """

    #: the position table is added as built
    fixed_grid = True

    def forward(
        self, x: torch.Tensor, mask_plan: Optional[MaskPlan] = None, mask: Optional[torch.Tensor] = None
    ) -> torch.Tensor:
        # follows MaskFeatViT.forward of mmpretrain 1.2.0, with the plan's masked patches as [MASK]
        # tokens and its thrown patches removed after the position embedding
        if mask_plan is None:
            check_plain_call(self, mask)
            return super().forward(x, None)
        x = with_mask_tokens(self.patch_embed(x)[0], mask_plan, self.mask_token)
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1) + self.pos_embed
        # throwing: only CLS, visible and masked tokens go on, after the position embedding
        x = keep_cls_and(x, mask_plan.kept)
        x = self.drop_after_pos(x)
        for layer in self.layers:
            x = layer(x)
        return self.norm1(x) if self.final_norm else x


@MODELS.register_module()
class FAMTMaskFeat(MaskPlanMixin, MaskFeat):
    """MaskFeat trained on the preprocessor's mask plan (``FAMTMaskFeatViT``, ``FAMTDataPreprocessor``).

    The neck (MaskFeat's ``LinearNeck``) is applied to the masked tokens only and the head's loss
    compares them with the HOG features of the same patches; the training pipeline needs no
    ``BEiTMaskGenerator``. Importance maps are scored with the backbone's last block (CLS attention).
    """

    plan_backbones = ('FAMTMaskFeatViT',)

    def loss(
        self, inputs: torch.Tensor, data_samples: List[DataSample], mask_plan: MaskPlan
    ) -> Dict[str, torch.Tensor]:
        n_masked = mask_plan.masked.shape[1]
        latent = self.backbone(inputs, mask_plan)[:, -n_masked:]
        batch, _, channels = latent.shape
        pred = self.neck((latent.reshape(batch * n_masked, channels),))[0].reshape(batch, n_masked, -1)
        # the HOG target in fp32 whatever the training's autocast: mmpretrain's HOGGenerator scatters
        # its gradient norms into an fp32 histogram, which fails where autocast leaves them in
        # half precision (on a CPU; CUDA's autocast happens to compute the norm in fp32)
        with torch.autocast(inputs.device.type, enabled=False):
            hog = self.target_generator(inputs.float())
        if hog.shape[1] != mask_plan.num_patches:
            raise ValueError(
                f'the HOG target has {hog.shape[1]} cells per image but the plan covers '
                f'{mask_plan.num_patches} patches: HOGGenerator always groups its cells '
                'into a 14 x 14 grid, so the backbone needs a 14 x 14 patch grid (224 px '
                'with 16-px patches)'
            )
        target = gather_tokens(hog, mask_plan.masked)
        return dict(loss=self.head.loss(pred, target, pred.new_ones(pred.shape[:2])))
