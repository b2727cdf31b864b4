# AMT-MAE baseline (CLS-attention weights only) on CIFAR-100: as famt-mae_vit-base-p2_1xb256-amp-coslr-400e_cifar100.py
# but the masking.
_base_ = './famt-mae_vit-base-p2_1xb256-amp-coslr-400e_cifar100.py'

# ---- knobs: AMT's weights; ratios and refresh schedule as FAMT -----------------------------------
mask_ratio = 0.45
throw_ratio = 0.40
warmup_mask_ratio = 0.75
mask_generator = dict(_delete_=True, type='AMTMaskGenerator', mask_ratio=mask_ratio,
                      throw_ratio=throw_ratio, warmup_mask_ratio=warmup_mask_ratio)
# --------------------------------------------------------------------------------------------------

# Restated with this file's knobs: mmengine evaluates the base's dicts with the base's knob values
# and merges only what a child restates (lists replace whole), so a knob changed here reaches the model,
# hooks and pipelines only through the dicts below (tests/test_configs/test_config_knobs.py checks).
data_preprocessor = dict(mask_generator=mask_generator)
