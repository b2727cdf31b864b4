"""FAMT's masking glue: the mask generators, whole-image scoring, the importance cache, the throwing
data preprocessors and the plan-taking contract that the algorithms of :mod:`famt_mm.models.selfsup`
declare."""

from .data_preprocessor import FAMTDataPreprocessor
from .importance_cache import ImportanceCache
from .mask_generators import AMTMaskGenerator, BaseMaskGenerator, FAMTMaskGenerator, FAMTRandomMaskGenerator
from .plan_taking import GridFromBackbone, MaskPlanMixin, PlanTakingBackbone, check_plain_call
from .scoring import (
    beit_last_block_attention,
    cnn_last_stage_tokens,
    last_block_attention,
    score_images,
    swin_last_block_attention,
    xnorm_last_block_attention,
)
from .two_norm import FAMTTwoNormDataPreprocessor

__all__ = [
    'FAMTDataPreprocessor',
    'FAMTTwoNormDataPreprocessor',
    'ImportanceCache',
    'AMTMaskGenerator',
    'BaseMaskGenerator',
    'FAMTMaskGenerator',
    'FAMTRandomMaskGenerator',
    'GridFromBackbone',
    'MaskPlanMixin',
    'PlanTakingBackbone',
    'check_plain_call',
    'beit_last_block_attention',
    'cnn_last_stage_tokens',
    'last_block_attention',
    'score_images',
    'swin_last_block_attention',
    'xnorm_last_block_attention',
]
