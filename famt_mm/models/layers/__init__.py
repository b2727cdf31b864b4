"""Layers that neighbour FAMT: X-ViT's softmax-free attention and trainable matrix activations, each a
module registered in mmpretrain's ``MODELS`` (so that ``act_cfg=dict(type='FAMTMatrixActivation', ...)``
builds through mmcv's ``build_activation_layer`` under the ``mmpretrain`` scope)."""

from .matrix_activation import MATRIX_FORMS, FAMTMatrixActivation, relu_levels
from .xnorm_attention import KEY_REDUCTIONS, NORM_AXES, SCALE_MODES, FAMTXNormAttention

__all__ = [
    'MATRIX_FORMS',
    'FAMTMatrixActivation',
    'relu_levels',
    'KEY_REDUCTIONS',
    'NORM_AXES',
    'SCALE_MODES',
    'FAMTXNormAttention',
]
