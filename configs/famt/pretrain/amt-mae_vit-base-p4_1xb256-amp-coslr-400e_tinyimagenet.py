# AMT-MAE on Tiny ImageNet: ratios, refreshes and everything else as famt-mae_vit-base-p4_1xb256-amp-coslr-400e_tinyimagenet.py; only
# the weights differ (CLS->patch attention).
_base_ = './famt-mae_vit-base-p4_1xb256-amp-coslr-400e_tinyimagenet.py'

data_preprocessor = dict(mask_generator=dict(type='AMTMaskGenerator'))
