"""FAMT-SparK: SparK (sparse masked modeling of CNNs) with masking units from the preprocessor's plan.

SparK masks a CNN at the final stride (32 px units for ResNet-50 and ConvNeXt, mmpretrain's
``SparseResNet`` and ``SparseConvNeXt``, both served as they are): the sparse convolutions keep the
visible ("active") units and SparK's light decoder reconstructs the masked ones. Here the active map
is the plan's visible units instead of SparK's uniform draw, so guided masking reaches SparK's own
masking units. A convolution needs its whole grid (mmpretrain emulates sparsity with dense
convolutions times the active map), so a thrown unit would save no compute: a mask generator that
throws is an error. The importance maps are scored from the CNN itself (no attention): the frequency
factor of the last stage's feature map, see ``docs/algorithms.md``.
"""

from typing import Dict, List, Optional, Union

import torch
from mmpretrain.models.selfsup.spark import SparK
from mmpretrain.models.utils.sparse_modules import SparseHelper
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...core import MaskPlan
from ..masking.plan_taking import CNNPlanTaker


@MODELS.register_module()
class FAMTSparK(CNNPlanTaker, SparK):
    """SparK whose active (visible) units come from the preprocessor's :class:`MaskPlan`.

    The model itself takes the plan (SparK's sparse CNN has no plan-taking forward): one plan patch is
    one position of the last feature map, SparK's ``downsample_raito`` (the preprocessor's
    ``patch_size``, derived, and ``unit_size``, which must equal it). ``extract_feat`` runs the sparse
    backbone on whole images (every position active), which is also how the refresh hook scores them.
    Arguments are SparK's.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        preprocessor = self.data_preprocessor
        if preprocessor.unit_size != self.downsample_raito:
            raise ValueError(
                f"data_preprocessor.unit_size must be SparK's downsample_raito="
                f'{self.downsample_raito} (one unit per position of the last feature '
                f'map), got {preprocessor.unit_size}: leave unit_size out'
            )
        self._plan_active: Optional[torch.Tensor] = None

    @property
    def plan_patch_size(self) -> int:
        return self.downsample_raito

    def mask(
        self, shape: torch.Size, device: Union[torch.device, str], generator: Optional[torch.Generator] = None
    ) -> torch.Tensor:
        """The plan's active map during :meth:`loss`; SparK's own random draw otherwise."""
        if self._plan_active is None:
            return super().mask(shape, device, generator)
        return self._plan_active

    @staticmethod
    def active_map(inputs: torch.Tensor, mask_plan: MaskPlan, unit: int) -> torch.Tensor:
        """(B, 1, h, w) bool map of the plan's visible units on the ``unit``-px grid of ``inputs``."""
        grid = (inputs.shape[-2] // unit, inputs.shape[-1] // unit)
        return mask_plan.dense(grid, 'visible', torch.bool)[:, None]

    def loss(
        self, inputs: torch.Tensor, data_samples: List[DataSample], mask_plan: MaskPlan
    ) -> Dict[str, torch.Tensor]:
        # SparK's loss draws its mask through self.mask: hand it the plan's for this call
        self._plan_active = self.active_map(inputs, mask_plan, self.downsample_raito)
        try:
            return super().loss(inputs, data_samples)
        finally:
            self._plan_active = None

    def extract_feat(self, inputs: torch.Tensor):
        """The backbone's feature maps of whole images: every position active."""
        unit = self.downsample_raito
        SparseHelper._cur_active = inputs.new_ones(
            inputs.shape[0], 1, inputs.shape[-2] // unit, inputs.shape[-1] // unit, dtype=torch.bool
        )
        return self.backbone(inputs)
