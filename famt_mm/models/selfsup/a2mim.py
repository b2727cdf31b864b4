"""A²MIM on a ResNet, with the pipeline's random block mask or with FAMT's mask plan.

A²MIM (Li et al., "Architecture-Agnostic Masked Image Modeling -- From ViT Back to CNN", ICML 2023,
arXiv 2205.13943; public code OpenMixup, github.com/Westlake-AI/openmixup, ``models/selfsup/a2mim.py``)
fills the masked 32-px patches of the input with the image's mean colour, adds a learnable mask
token at a middle stage, decodes the last feature map into pixels and trains on L1 of the masked
pixels plus a focal frequency loss (parts in :mod:`famt_mm.models.a2mim_modules`). mmpretrain 1.2
ships no A²MIM; :class:`A2MIM` takes SimMIM's pipeline mask (``SimMIMMaskGenerator``), and
:class:`FAMTA2MIM` takes the preprocessor's plan instead: guided masking scored from the CNN itself
(the frequency factor of the last stage's map, no attention), at 32-px units. A convolution needs its
whole grid, so a thrown unit would save nothing: a mask generator that throws is an error, as for
FAMT-SparK. See ``docs/algorithms.md``.
"""

from typing import Dict, List

import torch
from mmpretrain.models import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...core import MaskPlan
from ..masking.plan_taking import CNNPlanTaker


class A2MIM(BaseSelfSupervisor):
    """A²MIM with the mask the pipeline draws (``SimMIMMaskGenerator``, packed as ``mask``): the base of
    :class:`FAMTA2MIM`, not registered (configs use ``FAMTA2MIM``, whose random masking with
    ``FAMTRandomMaskGenerator`` draws the same uniform subsets of units as SimMIM's generator).

    The backbone is :class:`FAMTA2MIMResNet`, the neck :class:`FAMTA2MIMLinearDecoder`, the head
    :class:`FAMTA2MIMHead`; the mask (B, h, w) may be on any grid tiling the image (32-px units with
    ``model_patch_size=32``). The target is the unmasked normalised image. Arguments are
    ``BaseSelfSupervisor``'s.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not hasattr(self.backbone, 'add_mask_token'):
            raise TypeError(
                f"{type(self).__name__} needs backbone=dict(type='FAMTA2MIMResNet', ...), "
                f'got {type(self.backbone).__name__}'
            )

    def reconstruction_loss(self, inputs: torch.Tensor, mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        """The A²MIM loss of ``inputs`` masked where the (B, h, w) ``mask`` is 1."""
        latent = self.backbone(inputs, mask)
        return dict(loss=self.head.loss(self.neck(latent), inputs, mask))

    def loss(self, inputs: torch.Tensor, data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        if not data_samples or 'mask' not in data_samples[0]:
            raise ValueError(
                f'{type(self).__name__} reads its mask from the data samples: put '
                'SimMIMMaskGenerator in the pipeline and pack it with PackInputs, or use '
                'FAMTA2MIM with FAMTDataPreprocessor'
            )
        mask = torch.stack([sample.mask for sample in data_samples]).to(inputs.device)
        return self.reconstruction_loss(inputs, mask)


@MODELS.register_module()
class FAMTA2MIM(CNNPlanTaker, A2MIM):
    """A²MIM whose masked units come from the preprocessor's :class:`MaskPlan`.

    The model itself takes the plan (the ResNet has no plan-taking forward): one plan patch is one
    position of the last feature map, the backbone's output stride (32 for ResNet; the
    preprocessor's ``patch_size`` is derived from it), where the refresh hook scores the CNN (with
    ``FAMTMaskGenerator(weight_source='frequency')``; random masking needs no maps). ``unit_size``
    (a multiple of it) is the masking unit. Throwing and attention-based weights are refused when
    the model is built. Arguments are ``BaseSelfSupervisor``'s.
    """

    @property
    def plan_patch_size(self) -> int:
        return self.backbone.out_stride

    def plan_mask(self, inputs: torch.Tensor, mask_plan: MaskPlan) -> torch.Tensor:
        """(B, h, w) 0/1 mask of the plan's masked patches on the patch grid of ``inputs``."""
        patch = self.plan_patch_size
        return mask_plan.dense((inputs.shape[-2] // patch, inputs.shape[-1] // patch), dtype=inputs.dtype)

    def loss(
        self, inputs: torch.Tensor, data_samples: List[DataSample], mask_plan: MaskPlan
    ) -> Dict[str, torch.Tensor]:
        return self.reconstruction_loss(inputs, self.plan_mask(inputs, mask_plan))
