"""FAMT-MFF: MAE with multi-level feature fusion (mmpretrain's MFF) on the preprocessor's mask plan.

MFF fuses the outputs of several encoder blocks (a linear projection each but the last, softmax
weights) before the final norm; everything else is MAE. The encoder here sees CLS + the plan's visible
patches only, FAMT-MAE's decoder sees mask tokens at the masked positions only, and the loss covers
the masked patches. With ``throw_ratio=0`` and the same index sets this is stock MFF.
"""

from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmpretrain.models import VisionTransformer
from mmpretrain.models.selfsup.mff import MFFViT
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...core import MaskPlan, gather_tokens
from ..masking.plan_taking import PlanTakingBackbone, check_plain_call
from .mae import FAMTMAE


@MODELS.register_module()
class FAMTMFFViT(PlanTakingBackbone, MFFViT):
    """MFFViT whose masking comes from a :class:`MaskPlan` instead of its own random draw.

    ``forward(x, mask_plan)`` returns the fused, final-normed tokens of CLS + the visible patches
    (B, 1 + n_visible, D) and the softmax fusion weights (n_levels,); ``forward(x)`` (or
    ``forward(x, mask=None)``, the call of MAE's ``extract_feat``) is the plain ViT on whole images.
    Arguments are MFFViT's (``out_indices`` the fused blocks); ``mask_ratio`` is unused.
    """

    #: the position table is added as built
    fixed_grid = True

    def forward(self, x: torch.Tensor, mask_plan: Optional[MaskPlan] = None, mask: Optional[bool] = None):
        # follows MFFViT.forward of mmpretrain 1.2.0, with the plan's visible patches in place of its
        # random_masking
        if mask_plan is None:
            check_plain_call(self, mask)
            # not super().forward(x): MFFViT passes that on to MAEViT.forward, whose default
            # mask=True would mask at random
            return VisionTransformer.forward(self, x)
        x = self.patch_embed(x)[0] + self.pos_embed[:, 1:, :]
        x = gather_tokens(x, mask_plan.visible)
        cls_token = (self.cls_token + self.pos_embed[:, :1, :]).expand(x.shape[0], -1, -1)
        x = torch.cat((cls_token, x), dim=1)
        return self.fuse_layers(x)

    def fuse_layers(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Run the blocks on tokens ``x`` and fuse the ``out_indices`` outputs as MFF does."""
        levels = []
        last = self.out_indices[-1]
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i in self.out_indices:
                levels.append(x if i == last else self.proj_layers[self.out_indices.index(i)](x))
        weights = F.softmax(self.proj_weights, dim=0)
        fused = (torch.stack(levels) * weights).sum(dim=0)
        return self.norm1(fused), weights.view(-1)


@MODELS.register_module()
class FAMTMFF(FAMTMAE):
    """MFF trained on the preprocessor's mask plan (masked and thrown patches as FAMT defines them).

    Use with ``FAMTMFFViT``, ``FAMTMAEPretrainDecoder``, mmpretrain's ``MAEPretrainHead`` and
    ``FAMTDataPreprocessor``. Importance maps are scored from the last block's attention and output
    (before the fusion), as for FAMT-MAE. The fusion weights are logged as ``weight_{i}``, as MFF.
    """

    plan_backbones = ('FAMTMFFViT',)

    def loss(
        self, inputs: torch.Tensor, data_samples: List[DataSample], mask_plan: MaskPlan
    ) -> Dict[str, torch.Tensor]:
        latent, weights = self.backbone(inputs, mask_plan)
        pred = self.neck(latent, mask_plan.visible, mask_plan.masked)
        target = gather_tokens(self.head.construct_target(inputs), mask_plan.masked)
        losses = dict(loss=self.head.loss_module(pred, target, pred.new_ones(pred.shape[:2])))
        losses.update({f'weight_{i}': w for i, w in enumerate(weights.detach())})
        return losses
