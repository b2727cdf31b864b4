"""The throwing data preprocessor for two-picture algorithms (BEiT, BEiT v2, CAE)."""

from typing import Optional, Sequence

import torch
from mmpretrain.models.utils.data_preprocessor import TwoNormDataPreprocessor
from mmpretrain.registry import MODELS

from .data_preprocessor import FAMTDataPreprocessor


@MODELS.register_module()
class FAMTTwoNormDataPreprocessor(FAMTDataPreprocessor):
    """:class:`FAMTDataPreprocessor` for pipelines packing two pictures of one crop, as
    mmpretrain's ``TwoNormDataPreprocessor``: the backbone's picture is normalised with ``mean`` /
    ``std``, the tokenizer's (VQKD, DALL-E) with ``second_mean`` / ``second_std``, and the mask plan
    is drawn on the backbone's picture. A single picture (the refresh hook's whole images) is
    normalised with ``mean`` / ``std`` only.

    Args:
        mask_generator (dict | BaseMaskGenerator): e.g. ``dict(type='FAMTMaskGenerator')``.
        second_mean (Sequence[float]): mean of the tokenizer's picture, per channel (1 or 3).
        second_std (Sequence[float]): std of the tokenizer's picture, per channel (1 or 3).
        patch_size (int, optional): pixels of one plan patch; the model sets it. Defaults to None.
        unit_size (int, optional): masking unit in pixels. Defaults to one patch.
        eps (float): added to every warped weight.
        **kwargs: the arguments of ``SelfSupDataPreprocessor`` (mean, std, to_rgb, ...).
    """

    def __init__(
        self,
        mask_generator: dict,
        second_mean: Sequence[float],
        second_std: Sequence[float],
        patch_size: Optional[int] = None,
        unit_size: Optional[int] = None,
        eps: float = 1e-6,
        **kwargs,
    ):
        super().__init__(mask_generator, patch_size=patch_size, unit_size=unit_size, eps=eps, **kwargs)
        for name, value in (('second_mean', second_mean), ('second_std', second_std)):
            if len(value) not in (1, 3):
                raise ValueError(f'{name} needs 1 or 3 values (gray or RGB), got {len(value)}')
        self.register_buffer('second_mean', torch.tensor(second_mean).view(-1, 1, 1), False)
        self.register_buffer('second_std', torch.tensor(second_std).view(-1, 1, 1), False)

    @torch.compiler.disable  # eager under torch.compile, as FAMTDataPreprocessor.forward
    def forward(self, data: dict, training: bool = False) -> dict:
        inputs = data['inputs']
        if not isinstance(inputs, (list, tuple)):
            return super().forward(data, training)
        if len(inputs) != 2:
            raise ValueError(
                f"{type(self).__name__} takes two pictures per image (the backbone's "
                f"and the tokenizer's), got {len(inputs)}: use "
                'FAMTRandomResizedCropAndInterpolationWithTwoPicAndBox with second_size'
            )
        # mmpretrain's two-normalisation, unchanged (it only reads this module's buffers)
        data = TwoNormDataPreprocessor.forward(self, data, training)
        if training:
            data['mask_plan'] = self.sample_mask_plan(data['inputs'][0], data['data_samples'])
        return data
