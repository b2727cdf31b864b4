"""ViTDet's simple feature pyramid: scales of one stride-16 map instead of a backbone hierarchy."""

from typing import List, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_norm_layer
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import nn

_SCALES = (4.0, 2.0, 1.0, 0.5)


@MODELS.register_module()
class FAMTSimpleFeaturePyramid(BaseModule):
    """Builds strides 4, 8, 16, 32 (and extra max-pooled levels) from a plain ViT's last map.

    Scale 4: two stride-2 deconvolutions (norm and GELU between) to width C/4; scale 2: one, to C/2;
    scale 1: the map itself; scale 0.5: 2x2 max pooling. Each scale then goes through a 1x1 and a 3x3
    convolution, each followed by a norm (LayerNorm over channels in ViTDet). Levels past the last scale
    are stride-2 subsamplings of the previous output (ViTDet's top block, for RPN's stride 64).

    Args:
        in_channels: width of the backbone map.
        out_channels: width of every pyramid level.
        scale_factors: resampling of each level, a subsequence of (4.0, 2.0, 1.0, 0.5) in this order.
        num_outs: number of returned levels (>= len(scale_factors)).
        norm_cfg: norm after each convolution and between the deconvolutions.
        init_cfg: mmengine initialisation config.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int = 256,
        scale_factors: Sequence[float] = _SCALES,
        num_outs: int = 5,
        norm_cfg: dict = None,
        init_cfg=None,
    ) -> None:
        if norm_cfg is None:
            norm_cfg = dict(type='LN2d', eps=1e-06)
        super().__init__(init_cfg=init_cfg)
        scale_factors = tuple(float(s) for s in scale_factors)
        if (
            not scale_factors
            or any(s not in _SCALES for s in scale_factors)
            or list(scale_factors) != sorted(scale_factors, reverse=True)
            or len(set(scale_factors)) != len(scale_factors)
        ):
            raise ValueError(
                f'scale_factors must be distinct values of {_SCALES}, in that order; got {scale_factors}'
            )
        if num_outs < len(scale_factors):
            raise ValueError(f'num_outs must be >= len(scale_factors) = {len(scale_factors)}, got {num_outs}')
        if in_channels % 4:
            raise ValueError(f'in_channels must be divisible by 4, got {in_channels}')
        self.num_outs = num_outs
        self.resamplers = nn.ModuleList()
        self.lateral_convs = nn.ModuleList()
        self.fpn_convs = nn.ModuleList()
        for scale in scale_factors:
            resampler, width = self._resampler(scale, in_channels, norm_cfg)
            self.resamplers.append(resampler)
            self.lateral_convs.append(ConvModule(width, out_channels, 1, norm_cfg=norm_cfg, act_cfg=None))
            self.fpn_convs.append(
                ConvModule(out_channels, out_channels, 3, padding=1, norm_cfg=norm_cfg, act_cfg=None)
            )

    @staticmethod
    def _resampler(scale: float, channels: int, norm_cfg: dict) -> Tuple[nn.Module, int]:
        if scale == 4.0:
            return nn.Sequential(
                nn.ConvTranspose2d(channels, channels // 2, 2, stride=2),
                build_norm_layer(norm_cfg, channels // 2)[1],
                nn.GELU(),
                nn.ConvTranspose2d(channels // 2, channels // 4, 2, stride=2),
            ), channels // 4
        if scale == 2.0:
            return nn.ConvTranspose2d(channels, channels // 2, 2, stride=2), channels // 2
        if scale == 1.0:
            return nn.Identity(), channels
        return nn.MaxPool2d(2, stride=2), channels

    def forward(self, inputs: Sequence[torch.Tensor]) -> Tuple[torch.Tensor, ...]:
        x = inputs[-1]
        outs: List[torch.Tensor] = [
            fpn(lateral(resample(x)))
            for resample, lateral, fpn in zip(self.resamplers, self.lateral_convs, self.fpn_convs)
        ]
        while len(outs) < self.num_outs:
            outs.append(F.max_pool2d(outs[-1], 1, stride=2))
        return tuple(outs)
