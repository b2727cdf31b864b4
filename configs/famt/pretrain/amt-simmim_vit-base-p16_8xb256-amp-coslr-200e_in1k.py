# AMT-SimMIM (attention only): ViT-B/16, ImageNet-1K, 200 epochs; everything else as famt-simmim_vit-base-p16_8xb256-amp-coslr-200e_in1k.py.
_base_ = './famt-simmim_vit-base-p16_8xb256-amp-coslr-200e_in1k.py'

# ---- knobs: AMT's weights (CLS->patch attention); ratios and refresh schedule as FAMT-SimMIM ------
mask_ratio = 0.44
throw_ratio = 0.26
warmup_mask_ratio = 0.44  # as the official SimMIM-AMT code: 0.44 without throwing until the refresh
count_rounding = 'ceil_each'  # each count rounded up on its own: 22 / 13 / 14 of 49 units
mask_generator = dict(type='AMTMaskGenerator', mask_ratio=mask_ratio, throw_ratio=throw_ratio,
                      warmup_mask_ratio=warmup_mask_ratio, count_rounding=count_rounding)
# --------------------------------------------------------------------------------------------------

# Restated with this file's knobs: mmengine evaluates the base's dicts with the base's knob values
# and merges only what a child restates (lists replace whole), so a knob changed here reaches the model,
# hooks and pipelines only through the dicts below (tests/test_configs/test_config_knobs.py checks).
data_preprocessor = dict(mask_generator=mask_generator)
