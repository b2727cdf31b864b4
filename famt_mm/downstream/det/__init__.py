"""Mask R-CNN with a plain ViT (ViTDet style) for mmdet: registers into mmdet's registries.

Imported by the detection configs through ``custom_imports = dict(imports=['famt_mm.downstream.det'])``
with ``default_scope = 'mmdet'``; ``import famt_mm`` alone does not import mmdet.
"""

from mmdet.registry import MODELS
from mmpretrain.models.utils import LayerNorm2d

from .layer_decay import FAMTViTLayerDecayOptimWrapperConstructor
from .simple_fpn import FAMTSimpleFeaturePyramid
from .vit import FAMTPlainViT

# LayerNorm over the channels of (B, C, H, W) maps: ViTDet's norm in the pyramid and the RoI heads.
# mmpretrain's layer, under the name mmdet's projects/ViTDet gives its own (an equivalent layer, kept
# if that project was imported first).
if 'LN2d' not in MODELS.module_dict:
    MODELS.register_module('LN2d', module=LayerNorm2d)

__all__ = ['FAMTPlainViT', 'FAMTSimpleFeaturePyramid', 'FAMTViTLayerDecayOptimWrapperConstructor']
