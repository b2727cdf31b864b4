# Plain-MAE baseline on ImageNet-1K: random masking at 0.75, nothing thrown, no refresh; everything
# else (pipeline, model code, 400-epoch schedule) as ../mae_vitb_in1k.py (FAMT-MAE), whose AMT twin
# is ../amt_mae_vitb_in1k.py. Equal to mmpretrain's MAE for the same index sets (tests/test_mae.py).
_base_ = '../mae_vitb_in1k.py'

# ---- knobs: MAE's masking ------------------------------------------------------------------------
mask_generator = dict(_delete_=True, type='RandomMaskGenerator', mask_ratio=0.75, throw_ratio=0.0)

data_preprocessor = dict(mask_generator=mask_generator)
custom_hooks = []  # random masking needs no importance maps
