# The MAE baseline of FAMT-MAE: random masking at 0.75, nothing thrown, no refresh; everything else
# (pipeline, model code, 400-epoch schedule) as famt-mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py, so
# that only the masking differs. Equal to mmpretrain's MAE for the same index sets
# (tests/test_models/test_mae.py).
_base_ = './famt-mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py'

data_preprocessor = dict(mask_generator=dict(_delete_=True, type='FAMTRandomMaskGenerator', mask_ratio=0.75))
