"""Shared glue: self-supervisors that take the preprocessor's mask plan with the batch."""
from typing import List, Optional, Tuple, Union

import torch

from ..core import MaskPlan, gather_tokens


class MaskPlanMixin:
    """Routes ``mask_plan`` from ``FAMTDataPreprocessor`` to ``loss``; mix in before the algorithm.

    mmengine calls ``model(**preprocessed, mode='loss')``, so the plan arrives as a keyword. The model
    also checks at build time that the preprocessor's patch size is the backbone's, and that the
    backbone takes a plan (plan-taking backbones say whether they ``can_throw``).
    """
    #: the plan-taking backbones the algorithm runs on, named in the error for any other backbone
    plan_backbones: Tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.plan_backbones and getattr(self.backbone, 'can_throw', None) is None:
            raise TypeError(f'{type(self).__name__} needs a backbone that takes a mask_plan: '
                            f'{" or ".join(self.plan_backbones)}, got {type(self.backbone).__name__}')
        preprocessor_patch = getattr(self.data_preprocessor, 'patch_size', None)
        projection = getattr(getattr(self.backbone, 'patch_embed', None), 'projection', None)
        backbone_patch = projection.stride[0] if projection is not None else None
        if preprocessor_patch is None:
            raise TypeError(f'{type(self).__name__} needs data_preprocessor=dict(type='
                            f"'FAMTDataPreprocessor', ...), got {type(self.data_preprocessor).__name__}")
        if backbone_patch is not None and backbone_patch != preprocessor_patch:
            raise ValueError(f'data_preprocessor.patch_size={preprocessor_patch} differs from the '
                             f"backbone's patch size {backbone_patch}")

    def forward(self,
                inputs: Union[torch.Tensor, List[torch.Tensor]],
                data_samples: Optional[list] = None,
                mode: str = 'tensor',
                mask_plan: Optional[MaskPlan] = None):
        if mode == 'loss':
            if mask_plan is None:
                raise ValueError(f'{type(self).__name__} needs a mask_plan in loss mode: its '
                                 'data_preprocessor must be FAMTDataPreprocessor')
            return self.loss(inputs, data_samples, mask_plan=mask_plan)
        return super().forward(inputs, data_samples, mode)


def check_plain_call(backbone: torch.nn.Module, mask: object, name: str = 'mask') -> None:
    """Refuse a ``mask`` argument on a plan-taking backbone's whole-image call.

    mmpretrain's ``extract_feat`` calls ``backbone(x, mask=None)`` (MILAN's ``importance=None``, named
    by ``name``); any other value would be silently ignored, so it is an error: FAMT backbones take
    their masking as ``mask_plan``.
    """
    if mask is not None and mask is not False:
        raise ValueError(f'{type(backbone).__name__} takes its masking as mask_plan=MaskPlan (made by '
                         f'FAMTDataPreprocessor); {name} must be None for the whole-image forward, '
                         f'got {type(mask).__name__}')


def with_mask_tokens(patches: torch.Tensor, mask_plan: MaskPlan,
                     mask_token: torch.Tensor) -> torch.Tensor:
    """Patch tokens (B, L, D) with ``mask_token`` (1, 1, D) in place of the plan's masked patches,
    as a [MASK]-token encoder (SimMIM, MaskFeat, BEiT) takes them."""
    is_masked = mask_plan.masked_indicator(patches.dtype)[..., None]
    return patches * (1.0 - is_masked) + mask_token.to(patches.dtype) * is_masked


def keep_cls_and(tokens: torch.Tensor, kept: torch.Tensor) -> torch.Tensor:
    """``[CLS, tokens of the kept patches...]`` of tokens (B, 1 + L, D): throwing the others."""
    return torch.cat((tokens[:, :1], gather_tokens(tokens[:, 1:], kept)), dim=1)
