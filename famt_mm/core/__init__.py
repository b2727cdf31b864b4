"""The FAMT masking core: pure tensor functions, usable without mmengine."""

from .capture import (
    OBJECT_THRESHOLD,
    object_auc,
    object_lift,
    object_patches,
    patch_coverage,
    plan_object_counts,
    plan_object_shares,
)
from .importance import (
    ATTENTION_TERMS,
    FREQUENCY_FILTERS,
    KERNEL_CENTRES,
    SIGMA_RATIO,
    WEIGHT_SOURCES,
    amt_weights,
    check_attention_terms,
    check_choice,
    famt_attention,
    famt_weights,
    frequency_factor,
    lowpass_kernel,
    softmax_attention,
)
from .linear_attention import SIGNED_ROWS, signed_attention_rows
from .mask_plan import PLAN_GROUPS, MaskPlan, expand_unit_ids, gather_tokens
from .plan import mean_one, plan_from_weights
from .sampling import COUNT_ROUNDINGS, THROW_FROM, check_ratios, plan_counts, sample_plan, sanitize_weights
from .warp import pool_to_units, warp_to_views

__all__ = [
    'ATTENTION_TERMS',
    'FREQUENCY_FILTERS',
    'KERNEL_CENTRES',
    'SIGMA_RATIO',
    'WEIGHT_SOURCES',
    'amt_weights',
    'check_attention_terms',
    'check_choice',
    'famt_attention',
    'famt_weights',
    'frequency_factor',
    'lowpass_kernel',
    'softmax_attention',
    'mean_one',
    'plan_from_weights',
    'COUNT_ROUNDINGS',
    'THROW_FROM',
    'MaskPlan',
    'PLAN_GROUPS',
    'check_ratios',
    'expand_unit_ids',
    'gather_tokens',
    'plan_counts',
    'sample_plan',
    'sanitize_weights',
    'pool_to_units',
    'warp_to_views',
    'SIGNED_ROWS',
    'signed_attention_rows',
    'OBJECT_THRESHOLD',
    'object_auc',
    'object_lift',
    'object_patches',
    'patch_coverage',
    'plan_object_counts',
    'plan_object_shares',
]
