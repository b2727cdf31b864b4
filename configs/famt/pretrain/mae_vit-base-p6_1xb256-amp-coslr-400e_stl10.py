# Plain-MAE baseline on STL-10: random masking at 0.75, nothing thrown, no refresh;
# everything else as famt-mae_vit-base-p6_1xb256-amp-coslr-400e_stl10.py, so only the masking differs.
_base_ = './famt-mae_vit-base-p6_1xb256-amp-coslr-400e_stl10.py'

# ---- knobs: MAE's masking ------------------------------------------------------------------------
mask_generator = dict(_delete_=True, type='RandomMaskGenerator', mask_ratio=0.75, throw_ratio=0.0)

data_preprocessor = dict(mask_generator=mask_generator)
custom_hooks = []  # random masking needs no importance maps
