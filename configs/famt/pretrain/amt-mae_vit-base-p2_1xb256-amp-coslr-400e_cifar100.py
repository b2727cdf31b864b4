# AMT-MAE baseline (CLS-attention weights only) on CIFAR-100: as famt-mae_vit-base-p2_1xb256-amp-coslr-400e_cifar100.py
# but the masking.
_base_ = './famt-mae_vit-base-p2_1xb256-amp-coslr-400e_cifar100.py'

# ---- knobs: AMT's weights; ratios and refresh schedule as FAMT -----------------------------------
mask_generator = dict(_delete_=True, type='AMTMaskGenerator', mask_ratio=0.45, throw_ratio=0.40,
                      warmup_mask_ratio=0.75)

data_preprocessor = dict(mask_generator=mask_generator)
