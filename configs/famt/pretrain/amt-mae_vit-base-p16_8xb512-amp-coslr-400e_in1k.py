# AMT-MAE (attention only, the AAAI 2023 predecessor): ViT-B/16, ImageNet-1K, 400 epochs.
_base_ = './famt-mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py'

# ---- knobs: AMT's weights (CLS->patch attention); ratios and refresh schedule as FAMT ------------
mask_ratio = 0.45
throw_ratio = 0.40
warmup_mask_ratio = 0.75
mask_generator = dict(type='AMTMaskGenerator', mask_ratio=mask_ratio,
                      throw_ratio=throw_ratio, warmup_mask_ratio=warmup_mask_ratio)
# --------------------------------------------------------------------------------------------------

# Restated with this file's knobs: mmengine evaluates the base's dicts with the base's knob values
# and merges only what a child restates (lists replace whole), so a knob changed here reaches the model,
# hooks and pipelines only through the dicts below (tests/test_configs/test_config_knobs.py checks).
data_preprocessor = dict(mask_generator=mask_generator)
