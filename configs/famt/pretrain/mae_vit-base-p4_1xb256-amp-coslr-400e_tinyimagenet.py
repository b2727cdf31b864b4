# Plain-MAE baseline on Tiny ImageNet: random masking at 0.75, nothing thrown, no refresh;
# everything else as famt-mae_vit-base-p4_1xb256-amp-coslr-400e_tinyimagenet.py, so only the masking differs.
_base_ = './famt-mae_vit-base-p4_1xb256-amp-coslr-400e_tinyimagenet.py'

# ---- knobs: MAE's masking ------------------------------------------------------------------------
mask_ratio = 0.75
throw_ratio = 0.0
mask_generator = dict(_delete_=True, type='RandomMaskGenerator', mask_ratio=mask_ratio,
                      throw_ratio=throw_ratio)
# --------------------------------------------------------------------------------------------------

# Restated with this file's knobs: mmengine evaluates the base's dicts with the base's knob values
# and merges only what a child restates (lists replace whole), so a knob changed here reaches the model,
# hooks and pipelines only through the dicts below (tests/test_configs/test_config_knobs.py checks).
data_preprocessor = dict(mask_generator=mask_generator)
custom_hooks = []  # random masking needs no importance maps
