# AMT-MAE on STL-10: ratios, refreshes and everything else as famt-mae_vit-base-p6_1xb256-amp-coslr-400e_stl10.py; only
# the weights differ (CLS->patch attention).
_base_ = './famt-mae_vit-base-p6_1xb256-amp-coslr-400e_stl10.py'

data_preprocessor = dict(mask_generator=dict(type='AMTMaskGenerator'))
