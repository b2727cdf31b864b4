# AMT-MAE on CIFAR-100: ratios, refreshes and everything else as famt-mae_vit-base-p2_1xb256-amp-coslr-400e_cifar100.py; only
# the weights differ (CLS->patch attention).
_base_ = './famt-mae_vit-base-p2_1xb256-amp-coslr-400e_cifar100.py'

data_preprocessor = dict(mask_generator=dict(type='AMTMaskGenerator'))
