# The MAE baseline on CIFAR-100: random masking at 0.75, nothing thrown, no refresh; everything else as
# famt-mae_vit-base-p2_1xb256-amp-coslr-400e_cifar100.py, so that only the masking differs.
_base_ = './famt-mae_vit-base-p2_1xb256-amp-coslr-400e_cifar100.py'

data_preprocessor = dict(mask_generator=dict(_delete_=True, type='FAMTRandomMaskGenerator', mask_ratio=0.75))
